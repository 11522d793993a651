// Oracle for tests/fakes/fake_openai.py: the official `openai` npm client
// (pinned 7.60.0) against the fake. The caller scripts the fake first (see
// tests/integration/test_openai_fake.py for the order); this script makes
// the calls and prints what the SDK parsed as one JSON object on stdout:
// a plain completion, a streamed one (deltas joined, usage chunk), parallel
// tool calls non-streamed, streamed tool calls assembled by the SDK's own
// ChatCompletionStream helper, and the SDK's typed errors for a 429, a 400
// context_length_exceeded, a 401 and an in-stream error chunk; a forced
// function call, and the 400 for a forced function not among the tools.
// Usage: node openai_oracle.mjs <baseURL> <apiKey>
import OpenAI from "openai";

const [baseURL, apiKey] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 20000 });
const out = {};
const msgs = [{ role: "user", content: "hi" }];
const tools = [{ type: "function", function: {
  name: "calc", description: "d",
  parameters: { type: "object", properties: { x: { type: "number" } } } } }];
const errOf = (e) => ({
  ctor: e.constructor.name, status: e.status ?? null, code: e.code ?? null,
  type: e.type ?? null, message: e.message,
  retryAfter: e.headers?.get?.("retry-after") ?? null,
});

// 1. plain, not streamed
const c1 = await client.chat.completions.create({ model: "m", messages: msgs });
out.plain = { content: c1.choices[0].message.content,
  finish: c1.choices[0].finish_reason, usage: c1.usage, object: c1.object };

// 2. plain, streamed with include_usage
const s2 = await client.chat.completions.create({ model: "m", messages: msgs,
  stream: true, stream_options: { include_usage: true } });
let text = "", chunks = 0, finish = null, usage = null;
for await (const ch of s2) {
  chunks++;
  if (ch.choices.length) {
    text += ch.choices[0].delta.content ?? "";
    finish = ch.choices[0].finish_reason ?? finish;
  }
  if (ch.usage) usage = ch.usage;
}
out.streamed = { text, chunks, finish, usage };

// 3. parallel tool calls, not streamed
const c3 = await client.chat.completions.create({ model: "m", messages: msgs,
  tools });
out.tools = { finish: c3.choices[0].finish_reason,
  calls: c3.choices[0].message.tool_calls.map((t) => ({ id: t.id,
    name: t.function.name, args: JSON.parse(t.function.arguments) })) };

// 4. streamed tool calls, assembled by the SDK's ChatCompletionStream
const s4 = client.chat.completions.stream({ model: "m", messages: msgs, tools,
  stream_options: { include_usage: true } });
const final = await s4.finalChatCompletion();
out.streamTools = { finish: final.choices[0].finish_reason,
  content: final.choices[0].message.content,
  calls: (final.choices[0].message.tool_calls || []).map((t) => ({ id: t.id,
    name: t.function.name, args: JSON.parse(t.function.arguments) })),
  usage: final.usage };

// 5..7. typed errors
for (const [key, call] of [
  ["rateLimit", () => client.chat.completions.create({ model: "m",
    messages: msgs })],
  ["overflow", () => client.chat.completions.create({ model: "m",
    messages: msgs })],
  ["auth", () => new OpenAI({ baseURL, apiKey: "sk-wrong", maxRetries: 0 })
    .chat.completions.create({ model: "m", messages: msgs })],
]) {
  try { await call(); out[key] = null; } catch (e) { out[key] = errOf(e); }
}

// 8. an error chunk inside a stream
try {
  const s8 = await client.chat.completions.create({ model: "m",
    messages: msgs, stream: true });
  let got = "";
  for await (const ch of s8) got += ch.choices[0]?.delta?.content ?? "";
  out.streamError = { noError: got };
} catch (e) { out.streamError = errOf(e); }

// 9. a forced function (tool_choice naming it), streamed and assembled by
// the SDK; 10. a forced function that "tools" does not declare: 400.
const forced = { type: "function", function: { name: "calc" } };
const s9 = client.chat.completions.stream({ model: "m", messages: msgs, tools,
  tool_choice: forced, stream_options: { include_usage: true } });
const f9 = await s9.finalChatCompletion();
out.forced = { finish: f9.choices[0].finish_reason,
  calls: (f9.choices[0].message.tool_calls || []).map((t) => ({ id: t.id,
    name: t.function.name, args: JSON.parse(t.function.arguments) })) };
try {
  await client.chat.completions.create({ model: "m", messages: msgs, tools,
    tool_choice: { type: "function", function: { name: "nope" } } });
  out.forcedUnknown = null;
} catch (e) { out.forcedUnknown = errOf(e); }

process.stdout.write(JSON.stringify(out));

// Oracle for tests/fakes/fake_anthropic.py: drives the OFFICIAL
// @anthropic-ai/sdk (version pinned in package.json) against an already
// running fake, scripting it through its /__fake/script control API, and
// prints one JSON object {case: outcome} with what the SDK saw: the final
// message (streamed with messages.stream().finalMessage(), or plain with
// messages.create()) or the SDK's typed error. Starts no server.
//
// Usage: node anthropic_oracle.mjs --url URL --key KEY

import Anthropic from "@anthropic-ai/sdk";

function parseArgs(argv) {
    const out = {};
    for (let i = 0; i < argv.length; i += 2) {
        if (!argv[i].startsWith("--") || i + 1 >= argv.length) {
            throw new Error(`bad argument ${argv[i]}`);
        }
        out[argv[i].slice(2)] = argv[i + 1];
    }
    return out;
}

const args = parseArgs(process.argv.slice(2));
const MODEL = "claude-sonnet-4-20250514";
const TOOLS = [{
    name: "get_weather",
    description: "Weather for a city",
    input_schema: { type: "object", properties: { city: { type: "string" } } },
}];

async function script(steps) {
    const r = await fetch(`${args.url}/__fake/script`, {
        method: "POST", body: JSON.stringify(steps),
    });
    if (r.status !== 200) throw new Error(`script: HTTP ${r.status}`);
}

function client(opts = {}) {
    return new Anthropic({
        apiKey: args.key, baseURL: args.url, maxRetries: 0, timeout: 10000,
        ...opts,
    });
}

const ERROR_CLASSES = [
    "OverloadedError", "RateLimitError", "AuthenticationError",
    "BadRequestError", "NotFoundError", "InternalServerError", "APIError",
];

function describeError(e) {
    const classes = ERROR_CLASSES.filter((n) => e instanceof Anthropic[n]);
    return {
        error: true, name: e.constructor.name, classes,
        status: e.status ?? null, type: e.type ?? null,
        apiMessage: e.apiMessage ?? null, requestID: e.requestID ?? null,
    };
}

function describeMessage(m, extra = {}) {
    return {
        error: false, type: m.type, role: m.role, content: m.content,
        stop_reason: m.stop_reason, stop_sequence: m.stop_sequence,
        usage: m.usage, ...extra,
    };
}

async function streamed(params, opts) {
    const stream = client(opts).messages.stream(params);
    const events = [];
    stream.on("streamEvent", (ev) => events.push(ev.type));
    let text = "";
    stream.on("text", (t) => { text += t; });
    const m = await stream.finalMessage();
    return describeMessage(m, { events, text });
}

async function plain(params, opts) {
    return describeMessage(await client(opts).messages.create(params));
}

const base = { model: MODEL, max_tokens: 1024,
               messages: [{ role: "user", content: "hello" }] };
const withTools = { ...base, tools: TOOLS };
const thinking = { ...base, max_tokens: 4096, tools: TOOLS,
                   thinking: { type: "enabled", budget_tokens: 2048 } };

// [name, steps, run]
const CASES = [
    ["stream_text", [{ text: "Hello there, world" }], () => streamed(base)],
    ["plain_text", [{ text: "Hello plain" }], () => plain(base)],
    ["stream_chunked", [{ text: "Zürich ☃ splits anywhere",
                          chunking: { min: 1, max: 3 } }],
     () => streamed(base)],
    ["stream_parallel_tools",
     [{ text: "Checking.", tool_use: [
         { name: "get_weather", input: { city: "Paris" }, id: "toolu_a1" },
         { name: "get_weather", input: { city: "Oslo", n: [1, 2] },
           id: "toolu_b2" }] }],
     () => streamed(withTools)],
    ["plain_tool", [{ tool_use: [{ name: "get_weather",
                                   input: { city: "Rome" } }] }],
     () => plain(withTools)],
    ["stream_thinking",
     [{ thinking: "Let me think about the weather.", signature: "EqQBCgIYAhIM+sig/==",
        tool_use: [{ name: "get_weather", input: { city: "Lima" } }] }],
     () => streamed(thinking)],
    ["plain_thinking",
     [{ thinking: "Hmm.", signature: "sig-plain", text: "Done." }],
     () => plain(thinking)],
    ["stream_redacted", [{ redacted_thinking: "RVhBTVBMRS1SRURBQ1RFRA==",
                           text: "ok" }],
     () => streamed(thinking)],
    ["stream_usage_cache",
     [{ text: "cached", usage: { input_tokens: 7, output_tokens: 3,
                                 cache_read_input_tokens: 1200,
                                 cache_creation_input_tokens: 55 } }],
     () => streamed(base)],
    ["stop_max_tokens", [{ text: "cut", stop_reason: "max_tokens" }],
     () => streamed(base)],
    ["stop_stop_sequence", [{ text: "x", stop_reason: "stop_sequence",
                              stop_sequence: "END" }],
     () => streamed({ ...base, stop_sequences: ["END"] })],
    ["stop_refusal", [{ text: "no", stop_reason: "refusal" }],
     () => plain(base)],
    ["stop_pause_turn", [{ text: "wait", stop_reason: "pause_turn" }],
     () => streamed(base)],
    ["error_rate_limit", [{ error: "rate_limit_error", retry_after: 3,
                            message: "Number of requests has exceeded your "
                                     + "rate limit" }],
     () => streamed(base)],
    ["error_overloaded", [{ error: "overloaded_error",
                            message: "Overloaded" }],
     () => plain(base)],
    ["error_overloaded_stream", [{ error: "overloaded_error",
                                   message: "Overloaded" }],
     () => streamed(base)],
    ["error_auth", [], () => streamed(base, { apiKey: "sk-wrong" })],
    ["error_bad_request", [{ error: "invalid_request_error",
                             message: "prompt is too long: 210000 tokens > "
                                      + "200000 maximum" }],
     () => plain(base)],
    ["error_validation", [], () => plain({ ...base, messages: [] })],
    ["error_in_stream", [{ stream_error: "overloaded_error",
                           message: "Overloaded", after_events: 2 }],
     () => streamed(base)],
    ["retry_after_honoured", [{ error: "rate_limit_error",
                                retry_after_ms: 50, retry_after: 0 },
                              { text: "after retry" }],
     () => streamed(base, { maxRetries: 1 })],
    ["forced_tool", [{ tool_use: [{ name: "get_weather", id: "toolu_f1",
                                    input: { city: "Bern" } }] }],
     () => streamed({ ...withTools,
                      tool_choice: { type: "tool", name: "get_weather" } })],
    ["error_forced_with_thinking", [],
     () => plain({ ...thinking,
                   tool_choice: { type: "tool", name: "get_weather" } })],
    ["error_forced_unknown", [],
     () => plain({ ...withTools, tool_choice: { type: "tool", name: "nope" } })],
    ["tool_round_trip", [{ text: "It is sunny." }],
     () => streamed({ ...withTools, messages: [
         { role: "user", content: "weather?" },
         { role: "assistant", content: [
             { type: "tool_use", id: "toolu_x", name: "get_weather",
               input: { city: "Paris" } }] },
         { role: "user", content: [
             { type: "tool_result", tool_use_id: "toolu_x",
               content: [{ type: "text", text: "sunny" }] }] }] })],
];

const out = {};
for (const [name, steps, run] of CASES) {
    await fetch(`${args.url}/__fake/reset`, { method: "POST" });
    await script(steps);
    try {
        out[name] = await run();
    } catch (e) {
        out[name] = describeError(e);
    }
}
process.stdout.write(JSON.stringify(out));

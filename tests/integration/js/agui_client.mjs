// Drives the runtime's AG-UI endpoint with the official client,
// @ag-ui/client's HttpAgent (pinned in tests/fakes/js): one agent (one
// thread), several runs in a row, each described in the JSON spec given as
// the one argument:
//   {"url": "http://127.0.0.1:P/invocations", "threadId": "...",
//    "state": {...}? (the agent's initial state),
//    "runs": [{"user": "text"?, "tools": [...]?,
//              "answer": {"<toolName>": "content"}?}]}
// Before a run, "user" adds a user message and "answer" adds a tool
// message for each pending call (of the last assistant message) to a
// named tool. Prints {"runs": [{"events", "result"?, "error"?}],
// "messages", "state"} as JSON: every event the client verified and
// applied, and the state the agent holds at the end.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(
  path.join(here, "..", "..", "fakes", "js", "package.json"));
const { HttpAgent } = require("@ag-ui/client");

const spec = JSON.parse(process.argv[2]);
const agent = new HttpAgent({ url: spec.url, threadId: spec.threadId,
                             initialState: spec.state });
let seq = 0;
const id = (p) => `${p}-${++seq}`;

function pendingCalls() {
  const msgs = agent.messages;
  const answered = new Set(
    msgs.filter((m) => m.role === "tool").map((m) => m.toolCallId));
  for (let i = msgs.length - 1; i >= 0; i--) {
    if (msgs[i].role === "assistant" && msgs[i].toolCalls?.length)
      return msgs[i].toolCalls.filter((c) => !answered.has(c.id));
    if (msgs[i].role === "user") return [];
  }
  return [];
}

const out = { runs: [] };
for (const run of spec.runs) {
  for (const call of pendingCalls()) {
    const content = run.answer?.[call.function.name];
    if (content !== undefined)
      agent.addMessage({ id: id("tool"), role: "tool",
                         toolCallId: call.id, content });
  }
  if (run.user !== undefined)
    agent.addMessage({ id: id("user"), role: "user", content: run.user });
  const events = [];
  const record = { events };
  try {
    const res = await agent.runAgent(
      { tools: run.tools ?? [] },
      { onEvent: ({ event }) => { events.push(event); } });
    record.result = res.result ?? null;
  } catch (e) {
    record.error = String(e?.message ?? e);
  }
  out.runs.push(record);
}
out.messages = agent.messages;
out.state = agent.state;
process.stdout.write(JSON.stringify(out));

// A scripted WebSocket client on the official `ws` package (the oracle of
// tests/integration/test_websocket.py). Usage:
//   node ws_client.mjs '<plan json>'
// plan: {"url", "headers"?: {...}, "timeout_ms"?: N, "steps": [...]}
// Steps run in order:
//   {"send": <json value>}          one text message, JSON-encoded
//   {"send_text": "raw"}            one text message as given
//   {"send_binary": "text"}         one binary message
//   {"send_size": N}                a text message of N bytes ("x"s)
//   {"ping": "data"}                a ping; waits for its pong
//   {"wait": "done", "n"?: 1}       until n messages of that "type" arrived
//                                   (counted from the start)
//   {"wait_close": true}            until the server closes
//   {"sleep_ms": N}
//   {"close": 1000}                 close with that code, wait for the end
//   {"terminate": true}             drop the TCP connection at once
//   {"mark": "name"}                print {"kind":"mark","name"} now
//   {"pause_reading": true}         stop reading the socket (a stalled
//   {"resume_reading": true}        client), and start again
// Every happening is printed as one JSON line as it happens:
//   {"kind":"open","headers"}  {"kind":"message","data":<parsed>,"t"}
//   {"kind":"pong","data"}  {"kind":"close","code","reason"}
//   {"kind":"http_error","status","body"}  {"kind":"error","message"}
// The last line is {"kind":"end","ok":true|false,"why"?}.
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(
  path.join(here, "..", "..", "fakes", "js", "package.json"));
const WebSocket = require("ws");

const plan = JSON.parse(process.argv[2]);
const t0 = Date.now();
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const counts = {};
let closed = null;
let waiters = [];
const notify = () => { const w = waiters; waiters = []; w.forEach((f) => f()); };
const until = (pred) => new Promise((resolve) => {
  const check = () => (pred() ? resolve() : waiters.push(check));
  check();
});

const end = (ok, why) => {
  out({ kind: "end", ok, why });
  process.exit(0);
};
setTimeout(() => end(false, "timeout"), plan.timeout_ms || 30000).unref();

const ws = new WebSocket(plan.url, { headers: plan.headers || {},
                                     perMessageDeflate: false,
                                     maxPayload: 256 * 1024 * 1024 });
ws.on("unexpected-response", (req, res) => {
  let body = "";
  res.on("data", (d) => { body += d; });
  res.on("end", () => {
    out({ kind: "http_error", status: res.statusCode, body });
    end(true);
  });
});
ws.on("upgrade", (res) => out({ kind: "open", headers: res.headers }));
ws.on("message", (data, isBinary) => {
  let parsed;
  try { parsed = JSON.parse(data.toString()); } catch { parsed = data.toString(); }
  out({ kind: "message", data: parsed, binary: isBinary, t: Date.now() - t0 });
  const type = parsed && parsed.type;
  counts[type] = (counts[type] || 0) + 1;
  notify();
});
ws.on("pong", (data) => { out({ kind: "pong", data: data.toString() }); counts.__pong = (counts.__pong || 0) + 1; notify(); });
ws.on("close", (code, reason) => {
  closed = { code, reason: reason.toString() };
  out({ kind: "close", code, reason: reason.toString(), t: Date.now() - t0 });
  notify();
});
ws.on("error", (e) => { out({ kind: "error", message: String(e.message) }); });

ws.on("open", async () => {
  for (const s of plan.steps || []) {
    if (closed && !("wait_close" in s) && !("mark" in s) &&
        !("resume_reading" in s)) break;
    if ("send" in s) ws.send(JSON.stringify(s.send));
    else if ("send_text" in s) ws.send(s.send_text);
    else if ("send_binary" in s) ws.send(Buffer.from(s.send_binary), { binary: true });
    else if ("send_size" in s) ws.send("x".repeat(s.send_size));
    else if ("ping" in s) {
      const want = (counts.__pong || 0) + 1;
      ws.ping(s.ping);
      await until(() => (counts.__pong || 0) >= want || closed);
    } else if ("wait" in s) {
      await until(() => (counts[s.wait] || 0) >= (s.n || 1) || closed);
    } else if ("wait_close" in s) await until(() => closed);
    else if ("sleep_ms" in s) await new Promise((r) => setTimeout(r, s.sleep_ms));
    else if ("close" in s) { ws.close(s.close); await until(() => closed); }
    else if ("terminate" in s) { ws.terminate(); await until(() => closed); }
    else if ("mark" in s) out({ kind: "mark", name: s.mark, t: Date.now() - t0 });
    else if ("pause_reading" in s) ws._socket.pause();
    else if ("resume_reading" in s) ws._socket.resume();
  }
  if (!closed) { ws.close(1000); await until(() => closed); }
  end(true);
});

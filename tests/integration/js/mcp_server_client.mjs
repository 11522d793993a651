// The official MCP TypeScript SDK client (@modelcontextprotocol/sdk, pinned
// in tests/fakes/js) against strands-runtime in MCP mode, over Streamable
// HTTP. Used by tests/integration/test_mcp_server.py.
//
// usage: node mcp_server_client.mjs <url> <steps as JSON>
// STRANDS_NODE_MODULES names the node_modules folder holding the SDK.
// Steps: {"list": true} | {"call": name, "arguments": {...},
// "progress": bool}. Prints one JSON object: serverVersion,
// protocolVersion, sessionId and one result per step (or "error").
import { pathToFileURL } from "node:url";
import path from "node:path";

const [url, stepsJson] = process.argv.slice(2);
const nm = process.env.STRANDS_NODE_MODULES;
const sdk = (p) =>
  import(pathToFileURL(path.join(nm, "@modelcontextprotocol/sdk/dist/esm", p)).href);
const { Client } = await sdk("client/index.js");
const { StreamableHTTPClientTransport } = await sdk("client/streamableHttp.js");

const client = new Client({ name: "strands-c-test", version: "1.0.0" });
const transport = new StreamableHTTPClientTransport(new URL(url));
const out = { steps: [] };
try {
  await client.connect(transport);
  out.serverVersion = client.getServerVersion();
  out.protocolVersion = transport.protocolVersion;
  out.sessionId = transport.sessionId;
  for (const step of JSON.parse(stepsJson)) {
    try {
      if (step.list) {
        out.steps.push((await client.listTools()).tools);
      } else {
        const progress = [];
        const opts = step.progress
          ? { onprogress: (p) => progress.push(p), timeout: 30000 }
          : { timeout: 30000 };
        const result = await client.callTool(
          { name: step.call, arguments: step.arguments ?? {} },
          undefined,
          opts,
        );
        out.steps.push({ result, progress });
      }
    } catch (e) {
      out.steps.push({ error: String(e && e.message ? e.message : e) });
    }
  }
  await client.close();
} catch (e) {
  out.error = String(e && e.message ? e.message : e);
}
console.log(JSON.stringify(out));

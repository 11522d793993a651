// Oracle for tests/fakes/fake_mcp.py and the reference server: drives the
// OFFICIAL MCP TypeScript SDK Client (@modelcontextprotocol/sdk, pinned in
// package.json) over stdio (StdioClientTransport) or Streamable HTTP
// (StreamableHTTPClientTransport) against one server, runs a fixed set of
// checks and prints one JSON object {target, protocolVersion, tools, checks:
// [{name, ok, detail}]}; exits 0 when every check passed, 1 otherwise.
// Starts the stdio server itself (the SDK spawns it); an HTTP server must
// already be running.
//
// Usage: node mcp_oracle.mjs --kind fake|everything
//            (--stdio '["cmd","arg",...]' | --http URL) [--state URL]
//   --state: fake_mcp's /__fake/state URL (HTTP), so the list_changed check
//            waits until the SDK's GET stream is open before toggling.

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import {
    McpError,
    ToolListChangedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";

function parseArgs(argv) {
    const out = {};
    for (let i = 0; i < argv.length; i += 2) {
        if (!argv[i].startsWith("--") || i + 1 >= argv.length) {
            throw new Error(`bad argument ${argv[i]}`);
        }
        out[argv[i].slice(2)] = argv[i + 1];
    }
    if (!["fake", "everything"].includes(out.kind)) {
        throw new Error("--kind must be fake or everything");
    }
    if (!out.stdio === !out.http) throw new Error("give --stdio or --http");
    return out;
}

const checks = [];
function check(name, ok, detail) {
    checks.push({ name, ok: !!ok, detail: detail === undefined ? null : detail });
}
async function attempt(name, fn) {
    try {
        await fn();
    } catch (e) {
        check(name, false, `threw: ${e && e.stack ? e.stack : e}`);
    }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function listAll(client) {
    const tools = [];
    let cursor;
    let pages = 0;
    do {
        const res = await client.listTools(cursor ? { cursor } : {});
        pages += 1;
        tools.push(...res.tools);
        cursor = res.nextCursor;
        if (pages > 100) throw new Error("more than 100 pages");
    } while (cursor);
    return { tools, pages };
}

async function expectRpcError(promise) {
    try {
        await promise;
        return null;
    } catch (e) {
        return e;
    }
}

async function fakeChecks(client, opts, out) {
    const { tools, pages } = await listAll(client);
    out.tools = tools.map((t) => t.name);
    out.pages = pages;
    check("fake: tools/list paginates (more than one page)", pages > 1, { pages });
    for (const n of ["echo", "add", "image", "resource", "fail", "slow", "hang",
        "toggle", "name.with.dots", "name/with/slashes", "caf\u00e9"]) {
        check(`fake: lists ${n}`, out.tools.includes(n));
    }
    check("fake: lists an 80-character name",
        out.tools.some((n) => n.length === 80));

    await attempt("fake: echo", async () => {
        const r = await client.callTool({ name: "echo", arguments: { message: "hello \u00fc" } });
        check("fake: echo", r.content.length === 1 && r.content[0].type === "text"
            && r.content[0].text === "hello \u00fc" && !r.isError, r);
    });
    await attempt("fake: add structuredContent", async () => {
        // The SDK validates structuredContent against the listed outputSchema.
        const r = await client.callTool({ name: "add", arguments: { a: 2, b: 3.5 } });
        check("fake: add structuredContent", r.structuredContent
            && r.structuredContent.sum === 5.5 && r.content[0].text === "5.5", r);
    });
    await attempt("fake: image", async () => {
        const r = await client.callTool({ name: "image", arguments: {} });
        const img = r.content[0];
        const bytes = Buffer.from(img.data, "base64");
        check("fake: image", img.type === "image" && img.mimeType === "image/png"
            && bytes.subarray(1, 4).toString() === "PNG", { type: img.type, mimeType: img.mimeType });
    });
    await attempt("fake: resource", async () => {
        const r = await client.callTool({ name: "resource", arguments: {} });
        const [t, b] = r.content;
        check("fake: resource", t.type === "resource" && typeof t.resource.text === "string"
            && b.type === "resource" && b.resource.mimeType === "application/pdf"
            && Buffer.from(b.resource.blob, "base64").subarray(0, 5).toString() === "%PDF-",
        r.content.map((c) => ({ type: c.type, uri: c.resource?.uri, mimeType: c.resource?.mimeType })));
    });
    await attempt("fake: fail isError", async () => {
        const r = await client.callTool({ name: "fail", arguments: {} });
        check("fake: fail isError", r.isError === true && r.content[0].type === "text", r);
    });
    await attempt("fake: unknown tool is a JSON-RPC error", async () => {
        const e = await expectRpcError(client.callTool({ name: "no_such_tool", arguments: {} }));
        check("fake: unknown tool is a JSON-RPC error",
            e instanceof McpError && e.code === -32602, e ? { code: e.code, message: e.message } : null);
    });
    await attempt("fake: timeout sends notifications/cancelled", async () => {
        const e = await expectRpcError(client.callTool(
            { name: "slow", arguments: { ms: 3000 } }, undefined, { timeout: 300 }));
        check("fake: timeout sends notifications/cancelled",
            e instanceof McpError && e.code === -32001, e ? { code: e.code, message: e.message } : null);
    });
    await attempt("fake: toggle emits list_changed", async () => {
        if (opts.state) {
            // HTTP: the SDK opens its GET stream after notifications/initialized;
            // wait for it before toggling.
            for (let i = 0; i < 100; i++) {
                const st = await (await fetch(opts.state)).json();
                if (st.streams > 0) break;
                await sleep(50);
            }
        }
        let changed = 0;
        client.setNotificationHandler(ToolListChangedNotificationSchema, () => { changed += 1; });
        const r = await client.callTool({ name: "toggle", arguments: {} });
        for (let i = 0; i < 100 && changed === 0; i++) await sleep(20);
        const after = (await listAll(client)).tools.map((t) => t.name);
        check("fake: toggle emits list_changed", changed >= 1 && after.includes("toggled_tool"),
            { changed, reply: r.content[0].text });
    });
}

async function everythingChecks(client, out) {
    const { tools, pages } = await listAll(client);
    out.tools = tools.map((t) => t.name);
    out.pages = pages;
    for (const n of ["echo", "get-sum", "get-tiny-image", "get-structured-content",
        "get-resource-reference", "trigger-long-running-operation"]) {
        check(`everything: lists ${n}`, out.tools.includes(n));
    }
    await attempt("everything: echo", async () => {
        const r = await client.callTool({ name: "echo", arguments: { message: "hi" } });
        check("everything: echo", r.content[0].text === "Echo: hi", r);
    });
    await attempt("everything: get-sum", async () => {
        const r = await client.callTool({ name: "get-sum", arguments: { a: 2, b: 3 } });
        check("everything: get-sum", r.content[0].text === "The sum of 2 and 3 is 5.", r);
    });
    await attempt("everything: get-tiny-image", async () => {
        const r = await client.callTool({ name: "get-tiny-image", arguments: {} });
        check("everything: get-tiny-image",
            r.content.some((c) => c.type === "image" && c.mimeType === "image/png"),
            r.content.map((c) => c.type));
    });
    await attempt("everything: get-structured-content", async () => {
        const r = await client.callTool({ name: "get-structured-content",
            arguments: { location: "Chicago" } });
        check("everything: get-structured-content",
            r.structuredContent && r.structuredContent.temperature === 36, r.structuredContent);
    });
    await attempt("everything: get-resource-reference", async () => {
        const r = await client.callTool({ name: "get-resource-reference",
            arguments: { resourceType: "Blob", resourceId: 2 } });
        check("everything: get-resource-reference",
            r.content.some((c) => c.type === "resource" && typeof c.resource.blob === "string"),
            r.content.map((c) => c.type));
    });
    await attempt("everything: unknown tool is an isError result", async () => {
        const r = await client.callTool({ name: "no_such_tool", arguments: {} });
        check("everything: unknown tool is an isError result", r.isError === true, r);
    });
    await attempt("everything: long-running operation times out", async () => {
        const e = await expectRpcError(client.callTool(
            { name: "trigger-long-running-operation", arguments: { duration: 5, steps: 5 } },
            undefined, { timeout: 300 }));
        check("everything: long-running operation times out",
            e instanceof McpError && e.code === -32001, e ? { code: e.code } : null);
    });
}

async function main() {
    const opts = parseArgs(process.argv.slice(2));
    const out = { target: opts.kind, transport: opts.stdio ? "stdio" : "http" };
    let transport;
    const stderrLines = [];
    if (opts.stdio) {
        const argv = JSON.parse(opts.stdio);
        transport = new StdioClientTransport({
            command: argv[0], args: argv.slice(1), stderr: "pipe",
        });
        transport.stderr?.on("data", (d) => stderrLines.push(...String(d).split("\n").filter(Boolean)));
    } else {
        transport = new StreamableHTTPClientTransport(new URL(opts.http));
    }
    const client = new Client({ name: "strands-c-mcp-oracle", version: "1.0.0" },
        { capabilities: {} });
    try {
        await client.connect(transport);
        out.protocolVersion = transport.protocolVersion ?? null;
        out.serverVersion = client.getServerVersion();
        out.sessionId = transport.sessionId ?? null;
        check("connect: initialize handshake", !!out.serverVersion, out.serverVersion);
        if (opts.kind === "fake") await fakeChecks(client, opts, out);
        else await everythingChecks(client, out);
    } catch (e) {
        check("oracle run", false, `threw: ${e && e.stack ? e.stack : e}`);
    } finally {
        if (!opts.stdio && transport.sessionId) {
            try { await transport.terminateSession(); } catch { /* best effort */ }
        }
        await client.close().catch(() => {});
    }
    if (opts.stdio) out.stderr = stderrLines;
    out.checks = checks;
    out.ok = checks.length > 0 && checks.every((c) => c.ok);
    console.log(JSON.stringify(out));
    process.exit(out.ok ? 0 : 1);
}

main().catch((e) => {
    console.log(JSON.stringify({ ok: false, error: String(e && e.stack ? e.stack : e) }));
    process.exit(1);
});

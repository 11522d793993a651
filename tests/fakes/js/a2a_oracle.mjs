// Oracle for the A2A server mode of strands-runtime (SERVER_PROTOCOL=A2A):
// drives the OFFICIAL A2A JavaScript clients (pinned in package.json)
// against a running runtime and prints one JSON object with what they got
// back; tests/integration/test_a2a.py asserts on it. A client that throws
// is reported as {"error": message} (exit 1).
//
//   @a2a-js/sdk 1.3.0 (A2A 1.0: ClientFactory resolves the card, picks the
//     JSONRPC interface, sends A2A-Version: 1.0):
//     --scenario v10        sendMessage, sendMessageStream (same context),
//                           getTask, listTasks
//     --scenario v10-cancel sendMessageStream on a slow task, cancelTask
//                           after the first event, the rest of the stream,
//                           getTask, cancelTask again (not cancelable)
//   a2a-sdk-v03 = @a2a-js/sdk 0.3.14 (A2A 0.3: A2AClient, no version header):
//     --scenario v03        message/send, message/stream, tasks/get
//     --scenario v03-cancel message/stream on a slow task, tasks/cancel
//
// Usage: node a2a_oracle.mjs --base http://127.0.0.1:PORT --scenario NAME

import {
    ClientFactory,
} from "@a2a-js/sdk/client";
import { Role, Task, StreamResponse, ListTasksResponse, AgentCard } from "@a2a-js/sdk";
import { A2AClient } from "a2a-sdk-v03/client";

function parseArgs(argv) {
    const out = {};
    for (let i = 0; i < argv.length; i += 2) out[argv[i].slice(2)] = argv[i + 1];
    if (!out.base || !out.scenario) throw new Error("give --base and --scenario");
    return out;
}

function textMessage(text, contextId) {
    const m = {
        messageId: crypto.randomUUID(),
        role: Role.ROLE_USER,
        parts: [{ content: { $case: "text", value: text } }],
    };
    if (contextId) m.contextId = contextId;
    return m;
}

async function v10(base) {
    const client = await new ClientFactory().createFromUrl(base);
    const card = AgentCard.toJSON(await client.getAgentCard());
    const sent = await client.sendMessage({ message: textMessage("first question") });
    const task = Task.toJSON(sent);
    const events = [];
    for await (const ev of client.sendMessageStream({
        message: textMessage("second question", sent.contextId),
    })) {
        events.push(StreamResponse.toJSON(ev));
    }
    const got = Task.toJSON(await client.getTask({ id: sent.id }));
    const list = ListTasksResponse.toJSON(
        await client.listTasks({ contextId: sent.contextId, pageSize: 10,
                                  status: 0 /* TASK_STATE_UNSPECIFIED: any */ }));
    return { card, task, events, got, list };
}

async function v10Cancel(base) {
    const client = await new ClientFactory().createFromUrl(base);
    const events = [];
    let canceled = null;
    for await (const ev of client.sendMessageStream({ message: textMessage("slow one") })) {
        events.push(StreamResponse.toJSON(ev));
        if (!canceled && ev.payload?.$case === "task") {
            canceled = Task.toJSON(await client.cancelTask({ id: ev.payload.value.id }));
        }
    }
    const id = canceled ? canceled.id : null;
    const got = id ? Task.toJSON(await client.getTask({ id })) : null;
    let again = null;
    try {
        await client.cancelTask({ id });
        again = { ok: true };
    } catch (e) {
        again = { name: e.constructor.name, message: String(e.message) };
    }
    return { events, canceled, got, again };
}

async function v03(base) {
    const client = await A2AClient.fromCardUrl(`${base}/.well-known/agent-card.json`);
    const message = {
        kind: "message", role: "user", messageId: crypto.randomUUID(),
        parts: [{ kind: "text", text: "legacy question" }],
    };
    const sent = await client.sendMessage({ message });
    const events = [];
    for await (const ev of client.sendMessageStream({
        message: { ...message, messageId: crypto.randomUUID(),
                   contextId: sent.result?.contextId },
    })) {
        events.push(ev);
    }
    const got = await client.getTask({ id: sent.result?.id });
    return { sent, events, got };
}

async function v03Cancel(base) {
    const client = await A2AClient.fromCardUrl(`${base}/.well-known/agent-card.json`);
    const message = {
        kind: "message", role: "user", messageId: crypto.randomUUID(),
        parts: [{ kind: "text", text: "slow legacy" }],
    };
    const events = [];
    let canceled = null;
    for await (const ev of client.sendMessageStream({ message })) {
        events.push(ev);
        if (!canceled && ev.kind === "task") {
            canceled = await client.cancelTask({ id: ev.id });
        }
    }
    const again = await client.cancelTask({ id: canceled?.result?.id });
    return { events, canceled, again };
}

const scenarios = { v10, "v10-cancel": v10Cancel, v03, "v03-cancel": v03Cancel };

const args = parseArgs(process.argv.slice(2));
try {
    const fn = scenarios[args.scenario];
    if (!fn) throw new Error(`unknown scenario ${args.scenario}`);
    const out = await fn(args.base);
    process.stdout.write(JSON.stringify(out) + "\n");
} catch (e) {
    process.stdout.write(JSON.stringify({ error: String(e && e.stack || e) }) + "\n");
    process.exit(1);
}

// Oracle for tests/fakes/fake_agentcore_memory.py: drives the OFFICIAL
// @aws-sdk/client-bedrock-agentcore (version pinned in package.json) against
// an already running fake and prints one JSON object with what the SDK saw.
// Starts no server; injects failures through the fake's /__fake/* API.
//
// Usage:
//   node agentcore_memory_oracle.mjs check --endpoint URL --akid ID
//        --secret KEY --memory ID
//   node agentcore_memory_oracle.mjs list --endpoint URL --akid ID
//        --secret KEY [--token TOKEN] --memory ID --actor ID --session ID
//     (every event of one session through the SDK paginator, oldest first)

import {
    BedrockAgentCoreClient,
    CreateEventCommand,
    ListEventsCommand,
    paginateListEvents,
} from "@aws-sdk/client-bedrock-agentcore";

function parseArgs(argv) {
    const out = { mode: argv[0] };
    for (let i = 1; i < argv.length; i += 2) {
        if (!argv[i].startsWith("--") || i + 1 >= argv.length) {
            throw new Error(`bad argument ${argv[i]}`);
        }
        out[argv[i].slice(2)] = argv[i + 1];
    }
    for (const need of ["endpoint", "akid", "secret", "memory"]) {
        if (!out[need]) throw new Error(`missing --${need}`);
    }
    return out;
}

function client(args, secret, maxAttempts) {
    return new BedrockAgentCoreClient({
        region: "us-east-1",
        endpoint: args.endpoint,
        credentials: { accessKeyId: args.akid, secretAccessKey: secret,
            sessionToken: args.token },
        maxAttempts: maxAttempts ?? 1,
    });
}

async function control(args, path, body) {
    const res = await fetch(`${args.endpoint}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
    });
    if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
}

function describeError(err) {
    return {
        name: err.name,
        message: err.message,
        httpStatusCode: err.$metadata?.httpStatusCode ?? null,
        fault: err.$fault ?? null,
        retryable: err.$retryable ?? null,
    };
}

async function expectError(fn) {
    try {
        await fn();
    } catch (err) {
        return describeError(err);
    }
    return { name: null };
}

function plainEvent(e) {
    return {
        memoryId: e.memoryId,
        actorId: e.actorId,
        sessionId: e.sessionId,
        eventId: e.eventId,
        eventTimestamp: e.eventTimestamp instanceof Date
            ? e.eventTimestamp.getTime() : null,
        payload: e.payload,
        branch: e.branch ?? null,
        metadata: e.metadata ?? null,
    };
}

async function listAll(c, memoryId, actorId, sessionId, pageSize, filter) {
    const events = [];
    let pages = 0;
    for await (const page of paginateListEvents(
        { client: c, pageSize },
        { memoryId, actorId, sessionId, includePayloads: true, filter })) {
        pages++;
        for (const e of page.events ?? []) events.push(plainEvent(e));
    }
    return { events, pages };
}

async function check(args) {
    const c = client(args, args.secret);
    const out = {};
    const base = { memoryId: args.memory, actorId: "user-1",
        sessionId: "oracle-session" };
    const t0 = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678));
    const conv = await c.send(new CreateEventCommand({
        ...base,
        eventTimestamp: t0,
        payload: [{ conversational: { content: { text: "hello" },
            role: "USER" } }],
        metadata: { kind: { stringValue: "message" } },
        clientToken: "oracle-token-0000000000000000000001",
    }));
    out.create_conversational = {
        httpStatusCode: conv.$metadata.httpStatusCode,
        event: plainEvent(conv.event),
    };
    const again = await c.send(new CreateEventCommand({
        ...base,
        eventTimestamp: t0,
        payload: [{ conversational: { content: { text: "hello" },
            role: "USER" } }],
        clientToken: "oracle-token-0000000000000000000001",
    }));
    out.create_same_token_event_id = again.event.eventId;
    const blob = await c.send(new CreateEventCommand({
        ...base,
        eventTimestamp: new Date(t0.getTime() + 1),
        payload: [{ blob: JSON.stringify(["{\"message\": {}}", "user"]) }],
    }));
    out.create_blob = plainEvent(blob.event);
    for (let i = 0; i < 5; i++) {
        await c.send(new CreateEventCommand({
            ...base,
            eventTimestamp: new Date(t0.getTime() + 10 + i),
            payload: [{ conversational: { content: { text: `m${i}` },
                role: i % 2 ? "ASSISTANT" : "USER" } }],
            metadata: i === 2 ? { kind: { stringValue: "special" } }
                : undefined,
        }));
    }
    out.list_paged = await listAll(c, args.memory, "user-1", "oracle-session",
        2);
    out.list_filtered = await listAll(c, args.memory, "user-1",
        "oracle-session", 100, { eventMetadata: [{
            left: { metadataKey: "kind" }, operator: "EQUALS_TO",
            right: { metadataValue: { stringValue: "special" } } }] });
    const first = await c.send(new ListEventsCommand({ ...base,
        maxResults: 1, includePayloads: false }));
    out.list_no_payloads = { count: first.events.length,
        payload: first.events[0].payload ?? null,
        hasNextToken: typeof first.nextToken === "string" };
    out.list_unknown_session = (await c.send(new ListEventsCommand({
        ...base, sessionId: "nobody-here" }))).events.length;

    out.validation_empty_text = await expectError(() => c.send(
        new CreateEventCommand({ ...base, eventTimestamp: t0,
            payload: [{ conversational: { content: { text: "" },
                role: "USER" } }] })));
    out.validation_too_long = await expectError(() => c.send(
        new CreateEventCommand({ ...base, eventTimestamp: t0,
            payload: [{ conversational: { content: {
                text: "x".repeat(100001) }, role: "USER" } }] })));
    out.validation_bad_role = await expectError(() => c.send(
        new CreateEventCommand({ ...base, eventTimestamp: t0,
            payload: [{ conversational: { content: { text: "x" },
                role: "SYSTEM" } }] })));
    out.validation_bad_actor = await expectError(() => c.send(
        new CreateEventCommand({ ...base, actorId: "user@corp",
            eventTimestamp: t0, payload: [{ blob: "x" }] })));
    const md = {};
    for (let i = 0; i < 16; i++) md[`k${i}`] = { stringValue: "v" };
    out.validation_metadata = await expectError(() => c.send(
        new CreateEventCommand({ ...base, eventTimestamp: t0,
            payload: [{ blob: "x" }], metadata: md })));
    out.validation_bad_token = await expectError(() => c.send(
        new ListEventsCommand({ ...base, nextToken: "not-a-token" })));

    await control(args, "/__fake/fail", { operation: "ListEvents",
        code: "ThrottlingException", status: 429, count: 1 });
    out.throttled = await expectError(() => c.send(
        new ListEventsCommand(base)));
    await control(args, "/__fake/fail", { operation: "CreateEvent",
        code: "ServiceQuotaExceededException", status: 402, count: 1 });
    out.quota = await expectError(() => c.send(new CreateEventCommand({
        ...base, eventTimestamp: t0, payload: [{ blob: "x" }] })));
    await control(args, "/__fake/fail", { operation: "*",
        code: "ServiceException", status: 500, count: 1 });
    out.server_error = await expectError(() => c.send(
        new ListEventsCommand(base)));
    // The SDK's own retries ride over one throttle.
    await control(args, "/__fake/fail", { operation: "ListEvents",
        code: "ThrottlingException", status: 429, count: 1 });
    const retried = await client(args, args.secret, 3).send(
        new ListEventsCommand(base));
    out.retried_attempts = retried.$metadata.attempts;

    await control(args, "/__fake/memories", ["known-a1b2c3d4e5"]);
    out.not_found = await expectError(() => c.send(
        new ListEventsCommand(base)));
    await control(args, "/__fake/memories", []);
    out.bad_signature = await expectError(() => client(args,
        "wrong-secret-0000000000000000000000000").send(
        new ListEventsCommand(base)));
    return out;
}

async function main() {
    const args = parseArgs(process.argv.slice(2));
    let out;
    if (args.mode === "check") {
        out = await check(args);
    } else if (args.mode === "list") {
        out = await listAll(client(args, args.secret, 3), args.memory,
            args.actor, args.session, 100);
    } else {
        throw new Error(`unknown mode ${args.mode}`);
    }
    process.stdout.write(JSON.stringify(out) + "\n");
}

main().catch((err) => {
    process.stderr.write(`${err.stack || err}\n`);
    process.exit(1);
});

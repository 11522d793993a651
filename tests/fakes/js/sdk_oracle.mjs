// Oracle for tests/fakes/fake_aws.py: drives the OFFICIAL AWS JS SDK clients
// (Bedrock Runtime, Secrets Manager; versions pinned in package.json) against
// an already running fake, scripting it through its /__fake/script control
// API, and prints one JSON object with what the SDK saw. Starts no server.
//
// Usage: node sdk_oracle.mjs --bedrock URL --secrets URL --akid ID
//        --secret KEY [--temp-akid ID --temp-secret KEY --temp-token TOKEN]
//        [--bearer KEY] [--secret-name NAME]

import {
    BedrockRuntimeClient,
    ConverseCommand,
    ConverseStreamCommand,
} from "@aws-sdk/client-bedrock-runtime";
import {
    SecretsManagerClient,
    GetSecretValueCommand,
} from "@aws-sdk/client-secrets-manager";
import { NodeHttpHandler } from "@smithy/node-http-handler";

const MODEL_ARN = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/"
    + "us.anthropic.claude-3-5-sonnet-20240620-v1:0";
const WEATHER_TOOL = {
    tools: [{
        toolSpec: {
            name: "get_weather",
            description: "Weather for a city",
            inputSchema: { json: { type: "object",
                properties: { city: { type: "string" } } } },
        },
    }],
};

function parseArgs(argv) {
    const out = {};
    for (let i = 0; i < argv.length; i += 2) {
        if (!argv[i].startsWith("--") || i + 1 >= argv.length) {
            throw new Error(`bad argument ${argv[i]}`);
        }
        out[argv[i].slice(2)] = argv[i + 1];
    }
    for (const need of ["bedrock", "secrets", "akid", "secret"]) {
        if (!out[need]) throw new Error(`missing --${need}`);
    }
    return out;
}

async function script(baseUrl, steps) {
    const res = await fetch(`${baseUrl}/__fake/script`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(steps),
    });
    if (res.status !== 200) throw new Error(`script failed: ${res.status}`);
}

function describeError(err) {
    return {
        name: err.name,
        message: err.message,
        httpStatusCode: err.$metadata?.httpStatusCode ?? null,
        requestId: err.$metadata?.requestId ?? null,
        fault: err.$fault ?? null,
    };
}

function userText(text) {
    return [{ role: "user", content: [{ text }] }];
}

async function converseText(client) {
    const res = await client.send(new ConverseCommand({
        modelId: MODEL_ARN,
        messages: userText("Hello?"),
        inferenceConfig: { maxTokens: 64, temperature: 0.5 },
        system: [{ text: "Be brief." }],
    }));
    return {
        text: res.output.message.content[0].text,
        role: res.output.message.role,
        stopReason: res.stopReason,
        usage: res.usage,
        latencyMs: res.metrics?.latencyMs ?? null,
        requestId: res.$metadata.requestId ?? null,
        httpStatusCode: res.$metadata.httpStatusCode,
    };
}

async function converseTool(client) {
    const res = await client.send(new ConverseCommand({
        modelId: "anthropic.claude-3-5-sonnet-20240620-v1:0",
        messages: userText("Weather in Paris?"),
        toolConfig: WEATHER_TOOL,
    }));
    const blocks = res.output.message.content;
    const use = blocks.find((b) => b.toolUse)?.toolUse;
    return {
        stopReason: res.stopReason,
        blockKinds: blocks.map((b) => Object.keys(b)[0]),
        text: blocks.find((b) => b.text !== undefined)?.text ?? null,
        toolUse: use ?? null,
    };
}

async function converseToolRoundTrip(client) {
    const res = await client.send(new ConverseCommand({
        modelId: "anthropic.claude-3-5-sonnet-20240620-v1:0",
        messages: [
            ...userText("Weather in Paris?"),
            { role: "assistant", content: [{ text: "Let me check." }, {
                toolUse: { toolUseId: "tooluse_rt1", name: "get_weather",
                    input: { city: "Paris" } } }] },
            { role: "user", content: [{ toolResult: {
                toolUseId: "tooluse_rt1", content: [{ json: { tempC: 18 } }],
                status: "success" } }] },
        ],
        toolConfig: WEATHER_TOOL,
    }));
    return { text: res.output.message.content[0].text,
        stopReason: res.stopReason };
}

async function expectError(fn) {
    try {
        await fn();
    } catch (err) {
        return describeError(err);
    }
    return { name: null };
}

async function collectStream(client, request) {
    const res = await client.send(new ConverseStreamCommand(request));
    const out = { events: [], text: "", toolInputs: {}, toolStarts: {},
        stopReason: null, usage: null, error: null,
        httpStatusCode: res.$metadata.httpStatusCode };
    try {
        for await (const event of res.stream) {
            const kind = Object.keys(event)[0];
            out.events.push(kind);
            const body = event[kind];
            if (kind === "contentBlockStart" && body.start?.toolUse) {
                out.toolStarts[body.contentBlockIndex] = body.start.toolUse;
                out.toolInputs[body.contentBlockIndex] = "";
            } else if (kind === "contentBlockDelta") {
                if (body.delta.text !== undefined) out.text += body.delta.text;
                if (body.delta.toolUse) {
                    out.toolInputs[body.contentBlockIndex] +=
                        body.delta.toolUse.input;
                }
            } else if (kind === "messageStop") {
                out.stopReason = body.stopReason;
            } else if (kind === "metadata") {
                out.usage = body.usage;
            }
        }
    } catch (err) {
        out.error = describeError(err);
    }
    out.tools = Object.keys(out.toolStarts).map((index) => ({
        ...out.toolStarts[index],
        input: JSON.parse(out.toolInputs[index]),
    }));
    delete out.toolInputs;
    delete out.toolStarts;
    return out;
}

async function runBedrock(args, client, cases) {
    const base = args.bedrock;
    await script(base, [{ text: "Hello from the fake",
        usage: { inputTokens: 7, outputTokens: 4 } }]);
    cases.converse_text = await converseText(client);

    await script(base, [{ text: "Let me check.", tool_use: [{
        name: "get_weather", id: "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q",
        input: { city: "Paris", days: [1, 2], unit: "°C" } }] }]);
    cases.converse_tool = await converseTool(client);

    await script(base, [{ text: "It is 18 degrees." }]);
    cases.converse_tool_roundtrip = await converseToolRoundTrip(client);

    cases.validation_error = await expectError(() => client.send(
        new ConverseCommand({
            modelId: "anthropic.claude-3-5-sonnet-20240620-v1:0",
            messages: [...userText("one"), ...userText("two")],
        })));

    await script(base, [{ error: "ThrottlingException", status: 429,
        message: "Too many requests, please wait before trying again." }]);
    cases.throttling = await expectError(() => converseText(client));

    await script(base, [{ error: "ValidationException",
        message: "stream refused before 200" }]);
    cases.stream_http_error = await expectError(() => collectStream(client, {
        modelId: MODEL_ARN, messages: userText("Hi") }));

    await script(base, [{ text: "Hello streaming world, héllo 世界" }]);
    cases.stream_text = await collectStream(client, {
        modelId: MODEL_ARN, messages: userText("Hi") });

    await script(base, [{ text: "Checking.", tool_use: [{
        name: "get_weather", id: "tooluse_stream1",
        input: { city: "Paris", nested: { list: [1, "two", null] } } }],
        chunking: { min: 1, max: 7, pause_ms: 0 } }]);
    cases.stream_tool = await collectStream(client, {
        modelId: "anthropic.claude-3-5-sonnet-20240620-v1:0",
        messages: userText("Weather?"), toolConfig: WEATHER_TOOL });

    await script(base, [{ text: "Partial answer that stops",
        stream_exception: "throttlingException",
        message: "Too many tokens, please wait before trying again.",
        after_events: 3 }]);
    cases.stream_exception = await collectStream(client, {
        modelId: MODEL_ARN, messages: userText("Hi") });
}

function bedrockClient(args, extra) {
    return new BedrockRuntimeClient({
        region: "us-east-1",
        endpoint: args.bedrock,
        maxAttempts: 1,
        requestHandler: new NodeHttpHandler(),
        ...extra,
    });
}

async function main() {
    const args = parseArgs(process.argv.slice(2));
    const cases = {};
    const credentials = { accessKeyId: args.akid,
        secretAccessKey: args.secret };
    const client = bedrockClient(args, { credentials });
    try {
        await runBedrock(args, client, cases);
    } finally {
        client.destroy();
    }

    if (args["temp-akid"]) {
        const temp = bedrockClient(args, { credentials: {
            accessKeyId: args["temp-akid"],
            secretAccessKey: args["temp-secret"],
            sessionToken: args["temp-token"] } });
        await script(args.bedrock, [{ text: "temporary credentials ok" }]);
        try {
            cases.session_token = await converseText(temp);
        } finally {
            temp.destroy();
        }
    }
    if (args.bearer) {
        const bearer = bedrockClient(args, { token: { token: args.bearer },
            authSchemePreference: ["httpBearerAuth"] });
        await script(args.bedrock, [{ text: "bearer ok" }]);
        try {
            cases.bearer = await converseText(bearer);
        } finally {
            bearer.destroy();
        }
    }

    const sm = new SecretsManagerClient({
        region: "us-east-1", endpoint: args.secrets, maxAttempts: 1,
        requestHandler: new NodeHttpHandler(), credentials });
    try {
        const res = await sm.send(new GetSecretValueCommand({
            SecretId: args["secret-name"] ?? "strands/test" }));
        cases.secret_ok = { SecretString: res.SecretString, Name: res.Name,
            ARN: res.ARN, VersionStages: res.VersionStages,
            createdIsDate: res.CreatedDate instanceof Date };
        cases.secret_missing = await expectError(() => sm.send(
            new GetSecretValueCommand({ SecretId: "does/not/exist" })));
    } finally {
        sm.destroy();
    }
    process.stdout.write(JSON.stringify(cases) + "\n");
}

main().catch((err) => {
    process.stderr.write(`sdk_oracle failed: ${err.stack || err}\n`);
    process.exit(1);
});

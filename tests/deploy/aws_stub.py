"""A loopback stand-in for the AWS endpoints the deploy scripts reach
(AgentCore control plane and data plane, ECR, STS, CloudWatch Logs), for
running the real AWS CLI against with --endpoint-url. Records every request
(method, path, query, headers, body) and answers with canned, well-formed
responses; a runtime named "existing_rt" already exists."""
import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

ACCOUNT = "123456789012"
TOKEN = "ECR-TOKEN-must-not-leak"
EXISTING = {"agentRuntimeName": "existing_rt",
            "agentRuntimeId": "existing_rt-AbCdE12345"}


def runtime_arn(region, rid):
    return f"arn:aws:bedrock-agentcore:{region}:{ACCOUNT}:runtime/{rid}"


class Stub:
    def __init__(self, region="us-east-1"):
        self.region = region
        self.requests = []
        self.created = {}
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _handle(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                u = urlsplit(self.path)
                rec = {"method": self.command, "path": unquote(u.path),
                       "query": parse_qs(u.query),
                       "headers": {k.lower(): v for k, v in self.headers.items()},
                       "body": body.decode("utf-8", "replace")}
                stub.requests.append(rec)
                status, ctype, out = stub.answer(rec)
                data = out if isinstance(out, bytes) else json.dumps(out).encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                if rec["path"].endswith("/invocations"):
                    self.send_header(
                        "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id",
                        rec["headers"].get(
                            "x-amzn-bedrock-agentcore-runtime-session-id", ""))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def answer(self, rec):
        target = rec["headers"].get("x-amz-target", "")
        path, method = rec["path"], rec["method"]
        j = "application/x-amz-json-1.1"
        if target.endswith(".DescribeRepositories"):
            name = json.loads(rec["body"])["repositoryNames"][0]
            if name == "existing-repo":
                return 200, j, {"repositories": [{"repositoryUri": "x/" + name}]}
            return 400, j, {"__type": "RepositoryNotFoundException",
                            "message": f"The repository with name '{name}' does not exist"}
        if target.endswith(".CreateRepository"):
            name = json.loads(rec["body"])["repositoryName"]
            return 200, j, {"repository": {"repositoryName": name,
                                           "repositoryUri": "x/" + name}}
        if target.endswith(".GetAuthorizationToken"):
            tok = base64.b64encode(f"AWS:{TOKEN}".encode()).decode()
            return 200, j, {"authorizationData": [{"authorizationToken": tok,
                            "proxyEndpoint": "https://x", "expiresAt": 0}]}
        if "Action=GetCallerIdentity" in rec["body"]:
            xml = (f"<GetCallerIdentityResponse><GetCallerIdentityResult>"
                   f"<Account>{ACCOUNT}</Account><Arn>arn:aws:iam::{ACCOUNT}:user/u</Arn>"
                   f"<UserId>AID</UserId></GetCallerIdentityResult>"
                   f"</GetCallerIdentityResponse>").encode()
            return 200, "text/xml", xml
        if path == "/runtimes/" and method == "POST":
            rt = dict(EXISTING, agentRuntimeArn=runtime_arn(self.region, EXISTING["agentRuntimeId"]),
                      agentRuntimeVersion="3", description="d",
                      lastUpdatedAt="2025-01-01T00:00:00Z", status="READY")
            return 200, "application/json", {"agentRuntimes": [rt]}
        if path == "/runtimes/" and method == "PUT":
            name = json.loads(rec["body"])["agentRuntimeName"]
            rid = f"{name}-Zz9Yy8Xx7W"
            self.created[rid] = name
            return 202, "application/json", {
                "agentRuntimeArn": runtime_arn(self.region, rid), "agentRuntimeId": rid,
                "agentRuntimeVersion": "1", "createdAt": "2025-01-01T00:00:00Z",
                "status": "CREATING"}
        if path.startswith("/runtimes/") and path.endswith("/invocations"):
            return 200, "application/json", json.dumps(
                {"echo": json.loads(rec["body"] or "null")}).encode()
        if path.startswith("/runtimes/") and method in ("PUT", "GET"):
            rid = path.split("/")[2]
            base = {"agentRuntimeArn": runtime_arn(self.region, rid),
                    "agentRuntimeId": rid, "agentRuntimeVersion": "4",
                    "createdAt": "2025-01-01T00:00:00Z",
                    "lastUpdatedAt": "2025-01-01T00:00:00Z"}
            if method == "PUT":
                return 202, "application/json", dict(base, status="UPDATING")
            return 200, "application/json", dict(
                base, agentRuntimeName=rid.rsplit("-", 1)[0],
                roleArn=f"arn:aws:iam::{ACCOUNT}:role/r",
                networkConfiguration={"networkMode": "PUBLIC"},
                lifecycleConfiguration={"idleRuntimeSessionTimeout": 900,
                                        "maxLifetime": 28800},
                status="READY")
        return 404, "application/json", {"message": f"stub: no route {method} {path}"}

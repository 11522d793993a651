#!/usr/bin/python3
"""A loopback fake of the S3 object API for the s3:// session store.

Path-style only (http://127.0.0.1:<port>/<bucket>/<key>): GetObject,
HeadObject, PutObject (If-None-Match: * and If-Match: <etag> -> 412
PreconditionFailed), DeleteObject, ListObjectsV2 (prefix, max-keys,
continuation-token, start-after). ETags are the quoted MD5 hex of the body,
as S3 gives for single-part uploads. Every request must carry a valid SigV4
signature under S3's rules (x-amz-content-sha256, the path neither
normalized nor double-encoded), checked by botocore's S3SigV4Auth, which is
independent of the C signer under test. Errors are S3's XML documents.

Control endpoints (no signature, under /__fake/):
  GET  /__fake/requests            the request log [{method, path, query,
                                   status, headers}] (newest last)
  POST /__fake/reset               empty the store, the log, the faults
  POST /__fake/fail  {"count": N, "status": 503, "code": "SlowDown",
                      "methods": ["PUT"], "key_contains": "...",
                      "apply": false}
                                   the next N matching requests fail so
                                   (apply: a PUT is carried out first and
                                   only its answer is the error)
  GET  /__fake/objects             {"bucket/key": {"etag", "size"}}
  GET  /__fake/object?key=b/k      the object's body (404 when absent)
  POST /__fake/put   {"key": "b/k", "body": "..."}  writes an object
                                   behind the client's back (another writer)
  POST /__fake/hook  {"key_contains": "...", "method": "PUT",
                      "put_body": "...", "put_key": "b/k"}
                                   once, just before a matching request is
                                   served, writes put_key (a concurrent
                                   writer racing the client)

Run: fake_s3.py [--port N] [--credentials AKID:SECRET[:TOKEN]]... ; prints
{"port": N} on stdout when ready.
"""
import argparse
import hashlib
import hmac
import http.server
import json
import sys
import threading
import time
from datetime import datetime, timezone
from email.utils import formatdate
from urllib.parse import parse_qsl, unquote, urlsplit
from xml.sax.saxutils import escape

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

import fake_base

MAX_BODY = 64 * 1024 * 1024
MAX_KEYS_DEFAULT = 1000


class _ReceivedS3Signer(S3SigV4Auth):
    """S3SigV4Auth over exactly the headers the client signed; the payload
    hash is the x-amz-content-sha256 the client sent (checked against the
    body separately)."""

    def headers_to_sign(self, request):
        header_map = HTTPHeaders()
        for name, value in request.headers.items():
            header_map[name.lower()] = value
        return header_map


def verify_s3_sigv4(method, raw_target, headers, body, credentials,
                    region=None, now=None, max_skew_s=900):
    """Returns None when the request is properly signed for service s3,
    else (status, code, message)."""
    def vals(name):
        return [v for n, v in headers if n.lower() == name]
    auth = vals("authorization")
    if not auth or not auth[0].startswith("AWS4-HMAC-SHA256 "):
        return 403, "AccessDenied", "Missing or unsupported Authorization"
    fields = {}
    for part in auth[0][len("AWS4-HMAC-SHA256 "):].split(","):
        k, _, v = part.strip().partition("=")
        fields[k] = v
    scope = fields.get("Credential", "").split("/")
    if len(scope) != 5 or not fields.get("SignedHeaders") \
            or not fields.get("Signature"):
        return 400, "AuthorizationHeaderMalformed", "Malformed Authorization"
    akid, date, scope_region, service, term = scope
    if akid not in credentials:
        return 403, "InvalidAccessKeyId", \
            "The AWS Access Key Id you provided does not exist in our records."
    if service != "s3" or term != "aws4_request":
        return 400, "AuthorizationHeaderMalformed", \
            "The authorization header is malformed; incorrect service"
    if region is not None and scope_region != region:
        return 400, "AuthorizationHeaderMalformed", \
            "the region '%s' is wrong; expecting '%s'" % (scope_region, region)
    secret, token = credentials[akid]
    amz_date = vals("x-amz-date")
    if not amz_date or amz_date[0][:8] != date:
        return 403, "AccessDenied", "x-amz-date missing or not the scope date"
    if now is not None:
        signed = datetime.strptime(amz_date[0], "%Y%m%dT%H%M%SZ")
        if abs(now - signed.replace(tzinfo=timezone.utc).timestamp()) \
                > max_skew_s:
            return 403, "RequestTimeTooSkewed", \
                "The difference between the request time and the current " \
                "time is too large."
    sent_token = vals("x-amz-security-token")
    if (sent_token[0] if sent_token else None) != token:
        return 403, "InvalidToken", "The provided token is malformed or " \
            "otherwise invalid."
    sha = vals("x-amz-content-sha256")
    if not sha:
        return 400, "InvalidRequest", "Missing required header for this " \
            "request: x-amz-content-sha256"
    if sha[0] not in ("UNSIGNED-PAYLOAD",) and \
            not sha[0].startswith("STREAMING-") and \
            sha[0] != hashlib.sha256(body).hexdigest():
        return 400, "XAmzContentSHA256Mismatch", \
            "The provided 'x-amz-content-sha256' header does not match " \
            "what was computed."
    signed_names = fields["SignedHeaders"].split(";")
    if "host" not in signed_names or "x-amz-content-sha256" not in \
            signed_names:
        return 403, "AccessDenied", "host and x-amz-content-sha256 must " \
            "be signed"
    host = vals("host")
    request = AWSRequest(method=method, url="http://%s%s" % (host[0],
                                                             raw_target),
                         data=body)
    for name, value in headers:
        if name.lower() in signed_names:
            request.headers[name] = value
    request.context["timestamp"] = amz_date[0]
    signer = _ReceivedS3Signer(Credentials(akid, secret, token), "s3",
                               scope_region)
    canonical = signer.canonical_request(request)
    sts = signer.string_to_sign(request, canonical)
    sig = signer.signature(sts, request)
    if not hmac.compare_digest(sig, fields["Signature"]):
        return 403, "SignatureDoesNotMatch", \
            "The request signature we calculated does not match the " \
            "signature you provided. Check your key and signing method."
    return None


def _error_xml(code, message, resource=""):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code>'
            '<Message>%s</Message><Resource>%s</Resource>'
            '<RequestId>FAKE0001</RequestId></Error>'
            % (escape(code), escape(message), escape(resource))).encode()


class FakeS3:
    def __init__(self, port=0, credentials=None, region=None,
                 max_skew_s=900, log_limit=10000):
        self.credentials = credentials or {}
        self.region = region
        self.max_skew_s = max_skew_s
        self.log_limit = log_limit
        self.lock = threading.Lock()
        self.objects = {}   # (bucket, key) -> (body, etag, mtime)
        self.log = []
        self.faults = []
        self.hooks = []
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *a):
                pass

            def _serve(self):
                try:
                    fake._handle(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_PUT = do_DELETE = do_HEAD = do_POST = _serve

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True
            request_queue_size = 128   # racing clients connect at once

        self._httpd = Server(("127.0.0.1", port), Handler)
        self.port = self._httpd.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self._thread = None

    # ---- lifecycle -------------------------------------------------------
    def start(self):
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._httpd.shutdown()
        self._httpd.server_close()

    # ---- helpers -------------------------------------------------------
    def _send(self, h, status, body=b"", headers=None, head=False):
        entry = getattr(h, "_s3_entry", None)
        if entry is not None:       # logged before the client can see it
            entry["status"] = status
            h._s3_entry = None
            self._log(entry)
        h.send_response(status)
        hdrs = {"x-amz-request-id": "FAKE0001",
                "Date": formatdate(usegmt=True)}
        hdrs.update(headers or {})
        if body and "Content-Type" not in hdrs:
            hdrs["Content-Type"] = "application/xml"
        for k, v in hdrs.items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if body and not head:
            h.wfile.write(body)

    def _error(self, h, status, code, message, resource="", head=False):
        self._send(h, status, b"" if head else
                   _error_xml(code, message, resource), head=head)
        return status

    def _read_body(self, h):
        if h.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                line = h.rfile.readline(1024)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while h.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += h.rfile.read(size)
                h.rfile.readline(8)
                if len(out) > MAX_BODY:
                    raise ValueError("body too large")
        n = int(h.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            raise ValueError("body too large")
        return h.rfile.read(n) if n else b""

    def _log(self, entry):
        with self.lock:
            self.log.append(entry)
            if len(self.log) > self.log_limit:
                del self.log[:len(self.log) - self.log_limit]

    def _take_fault(self, method, key):
        with self.lock:
            for f in self.faults:
                if f["count"] <= 0:
                    continue
                if f.get("methods") and method not in f["methods"]:
                    continue
                if f.get("key_contains") and f["key_contains"] not in key:
                    continue
                f["count"] -= 1
                return f
        return None

    def _run_hooks(self, method, key):
        with self.lock:
            hit = [k for k in self.hooks
                   if (not k.get("method") or k["method"] == method)
                   and k.get("key_contains", "") in key]
            for k in hit:
                self.hooks.remove(k)
        for k in hit:
            b, _, kk = k["put_key"].partition("/")
            self._store(b, kk, k.get("put_body", "").encode())

    def _store(self, bucket, key, body):
        etag = '"%s"' % hashlib.md5(body).hexdigest()
        with self.lock:
            self.objects[(bucket, key)] = (body, etag, time.time())
        return etag

    # ---- the control API -------------------------------------------------
    def _control(self, h, path, query, body):
        if path == "/__fake/requests":
            with self.lock:
                data = list(self.log)
            return self._send(h, 200, json.dumps(data).encode(),
                              {"Content-Type": "application/json"})
        if path == "/__fake/reset":
            with self.lock:
                self.objects.clear()
                self.log.clear()
                self.faults.clear()
                self.hooks.clear()
            return self._send(h, 200, b"{}")
        if path == "/__fake/fail":
            spec = json.loads(body or b"{}")
            spec.setdefault("count", 1)
            spec.setdefault("status", 503)
            spec.setdefault("code", "SlowDown")
            with self.lock:
                self.faults.append(spec)
            return self._send(h, 200, b"{}")
        if path == "/__fake/hook":
            with self.lock:
                self.hooks.append(json.loads(body))
            return self._send(h, 200, b"{}")
        if path == "/__fake/objects":
            with self.lock:
                data = {"%s/%s" % k: {"etag": v[1], "size": len(v[0])}
                        for k, v in self.objects.items()}
            return self._send(h, 200, json.dumps(data).encode(),
                              {"Content-Type": "application/json"})
        if path == "/__fake/object":
            b, _, k = dict(query).get("key", "").partition("/")
            with self.lock:
                obj = self.objects.get((b, k))
            if obj is None:
                return self._send(h, 404, b"")
            return self._send(h, 200, obj[0],
                              {"Content-Type": "application/octet-stream"})
        if path == "/__fake/put":
            spec = json.loads(body)
            b, _, k = spec["key"].partition("/")
            etag = self._store(b, k, spec["body"].encode())
            return self._send(h, 200, json.dumps({"etag": etag}).encode())
        return self._send(h, 404, b"")

    # ---- S3 ------------------------------------------------------------
    def _handle(self, h):
        split = urlsplit(h.path)
        raw_path = split.path
        query = parse_qsl(split.query, keep_blank_values=True)
        try:
            body = self._read_body(h)
        except ValueError:
            self._error(h, 400, "EntityTooLarge", "too large")
            return
        h._s3_entry = None
        if raw_path.startswith("/__fake/"):
            return self._control(h, raw_path, query, body)
        head = h.command == "HEAD"
        parts = raw_path.lstrip("/").split("/", 1)
        bucket = unquote(parts[0])
        key = unquote(parts[1]) if len(parts) > 1 else ""
        entry = {"method": h.command, "path": raw_path,
                 "query": split.query, "bucket": bucket, "key": key,
                 "headers": {k.lower(): v for k, v in h.headers.items()
                             if k.lower() != "authorization"}}
        h._s3_entry = entry
        self._handle_s3(h, raw_path, split, query, body, bucket, key, head)

    def _handle_s3(self, h, raw_path, split, query, body, bucket, key, head):
        headers = list(h.headers.items())
        target = raw_path + ("?" + split.query if split.query else "")
        bad = verify_s3_sigv4(h.command, target, headers, body,
                              self.credentials, self.region,
                              now=time.time() if self.max_skew_s is not None
                              else None,
                              max_skew_s=self.max_skew_s or 900)
        if bad:
            return self._error(h, bad[0], bad[1], bad[2], raw_path, head)
        fault = self._take_fault(h.command, key)
        h._fail_after = None
        if fault and fault.get("apply") and h.command == "PUT":
            h._fail_after = fault     # write it, then answer the error
            fault = None
        if fault:
            return self._error(h, fault["status"], fault["code"],
                               fault.get("message", "Please reduce your "
                                         "request rate."), raw_path, head)
        self._run_hooks(h.command, key)
        if not bucket:
            return self._error(h, 400, "InvalidRequest", "no bucket", "/")
        if not key:
            if h.command == "GET" and dict(query).get("list-type") == "2":
                return self._list(h, bucket, dict(query))
            return self._error(h, 400, "InvalidRequest",
                               "only ListObjectsV2 on a bucket", raw_path,
                               head)
        if h.command in ("GET", "HEAD"):
            with self.lock:
                obj = self.objects.get((bucket, key))
            if obj is None:
                return self._error(h, 404, "NoSuchKey",
                                   "The specified key does not exist.",
                                   raw_path, head)
            hdrs = {"ETag": obj[1], "Content-Type": "application/octet-stream",
                    "Last-Modified": formatdate(obj[2], usegmt=True)}
            inm = h.headers.get("If-None-Match")
            if inm and inm.strip() in (obj[1], "*"):
                self._send(h, 304, b"", hdrs, head=True)
                return 304
            im = h.headers.get("If-Match")
            if im and im.strip() not in (obj[1], "*"):
                return self._error(h, 412, "PreconditionFailed",
                                   "At least one of the pre-conditions you "
                                   "specified did not hold", raw_path, head)
            self._send(h, 200, obj[0], hdrs, head=head)
            return 200
        if h.command == "PUT":
            if h.headers.get("x-amz-copy-source"):
                return self._error(h, 501, "NotImplemented", "no copy",
                                   raw_path)
            inm = h.headers.get("If-None-Match")
            im = h.headers.get("If-Match")
            if inm is not None and inm.strip() != "*":
                return self._error(h, 501, "NotImplemented",
                                   "If-None-Match supports only *", raw_path)
            etag = '"%s"' % hashlib.md5(body).hexdigest()
            with self.lock:
                cur = self.objects.get((bucket, key))
                if inm is not None and cur is not None:
                    result = 412
                elif im is not None and cur is None:
                    result = 404
                elif im is not None and im.strip() not in (cur[1], "*"):
                    result = 412
                else:
                    result = 200
                    self.objects[(bucket, key)] = (body, etag, time.time())
            if result == 412:
                return self._error(h, 412, "PreconditionFailed",
                                   "At least one of the pre-conditions you "
                                   "specified did not hold", raw_path)
            if result == 404:
                return self._error(h, 404, "NoSuchKey",
                                   "The specified key does not exist.",
                                   raw_path)
            if h._fail_after:         # applied, but the answer is lost
                f = h._fail_after
                return self._error(h, f["status"], f["code"],
                                   "Please reduce your request rate.",
                                   raw_path)
            self._send(h, 200, b"", {"ETag": etag})
            return 200
        if h.command == "DELETE":
            im = h.headers.get("If-Match")
            with self.lock:
                cur = self.objects.get((bucket, key))
                if im is not None and cur is not None and \
                        im.strip() not in (cur[1], "*"):
                    failed = True
                else:
                    failed = False
                    self.objects.pop((bucket, key), None)
            if failed:
                return self._error(h, 412, "PreconditionFailed",
                                   "At least one of the pre-conditions you "
                                   "specified did not hold", raw_path)
            self._send(h, 204, b"")
            return 204
        return self._error(h, 405, "MethodNotAllowed",
                           "The specified method is not allowed", raw_path)

    def _list(self, h, bucket, q):
        prefix = q.get("prefix", "")
        try:
            max_keys = int(q.get("max-keys", MAX_KEYS_DEFAULT))
        except ValueError:
            return self._error(h, 400, "InvalidArgument", "max-keys")
        max_keys = max(0, min(max_keys, MAX_KEYS_DEFAULT))
        after = q.get("start-after", "")
        token = q.get("continuation-token")
        if token is not None:
            try:
                after = bytes.fromhex(token).decode()
            except ValueError:
                return self._error(h, 400, "InvalidArgument",
                                   "The continuation token provided is "
                                   "incorrect")
        with self.lock:
            keys = sorted(k for (b, k) in self.objects
                          if b == bucket and k.startswith(prefix)
                          and k > after)
            page = keys[:max_keys]
            meta = {k: self.objects[(bucket, k)] for k in page}
        truncated = len(keys) > len(page)
        out = ['<?xml version="1.0" encoding="UTF-8"?>\n'
               '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/'
               '2006-03-01/">',
               "<Name>%s</Name><Prefix>%s</Prefix>" % (escape(bucket),
                                                       escape(prefix)),
               "<KeyCount>%d</KeyCount><MaxKeys>%d</MaxKeys>"
               % (len(page), max_keys),
               "<IsTruncated>%s</IsTruncated>" % ("true" if truncated
                                                  else "false")]
        if token is not None:
            out.append("<ContinuationToken>%s</ContinuationToken>"
                       % escape(token))
        if truncated:
            out.append("<NextContinuationToken>%s</NextContinuationToken>"
                       % page[-1].encode().hex())
        for k in page:
            body, etag, mtime = meta[k]
            out.append("<Contents><Key>%s</Key><LastModified>%s"
                       "</LastModified><ETag>%s</ETag><Size>%d</Size>"
                       "<StorageClass>STANDARD</StorageClass></Contents>"
                       % (escape(k),
                          datetime.fromtimestamp(mtime, timezone.utc)
                          .strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                          etag.replace('"', "&quot;"), len(body)))
        out.append("</ListBucketResult>")
        self._send(h, 200, "".join(out).encode())
        return 200


def start_fake_s3(**kw):
    return FakeS3(**kw).start()


def _cli_credentials(values):
    out = {}
    for v in values:
        parts = v.split(":")
        out[parts[0]] = (parts[1], parts[2] if len(parts) > 2 else None)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--credentials", action="append", default=[],
                   metavar="AKID:SECRET[:TOKEN]")
    p.add_argument("--region", default=None)
    args = p.parse_args(argv)
    fake = FakeS3(port=args.port, credentials=_cli_credentials(
        args.credentials), region=args.region)
    fake_base.serve_until_signal(fake._httpd, {"port": fake.port},
                                 poll_interval=0.5)
    fake._httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

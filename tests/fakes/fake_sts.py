#!/usr/bin/python3
"""Loopback fake of AWS STS: AssumeRole (SigV4-signed, service "sts",
verified with botocore against configured source credentials) and
AssumeRoleWithWebIdentity (must be unsigned; the token is checked against
configured values), awsQuery protocol (form-encoded POST /, XML answers in
the namespace https://sts.amazonaws.com/doc/2011-06-15/).

Owns: request validation (the checks STS makes on the parameters this
project sends), scripted errors, issued credentials (kept so tests can
compare hashes), the request log. Reuses fake_aws's HTTP scaffolding and
verify_sigv4. Standard library + botocore only; run with /usr/bin/python3.
"""

import argparse
import collections
import os
import re
import secrets
import signal
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fake_aws  # noqa: E402

STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
STS_VERSION = "2011-06-15"
DEFAULT_ACCOUNT = "123456789012"

# HTTP status of the STS error codes this fake can produce.
STS_ERROR_STATUS = {
    "AccessDenied": 403,
    "InvalidIdentityToken": 400,
    "ExpiredTokenException": 400,
    "IDPCommunicationError": 400,
    "IDPRejectedClaim": 403,
    "RegionDisabledException": 403,
    "MalformedPolicyDocument": 400,
    "PackedPolicyTooLarge": 400,
    "ValidationError": 400,
    "InvalidAction": 400,
    "InvalidParameterValue": 400,
    "Throttling": 400,
    "InternalFailure": 500,
    "ServiceUnavailable": 503,
    "SignatureDoesNotMatch": 403,
    "InvalidClientTokenId": 403,
    "MissingAuthenticationToken": 403,
    "IncompleteSignature": 400,
    "UnexpectedSignature": 400,  # fake only: a signed web identity call
}

DEFAULT_MESSAGES = {
    "AccessDenied": "User: arn:aws:iam::%s:user/source is not authorized to "
                    "perform: sts:AssumeRole on resource: %s",
    "InvalidIdentityToken": "Couldn't retrieve verification key from your "
                            "identity provider,  please reference "
                            "AssumeRoleWithWebIdentity documentation for "
                            "requirements",
    "ExpiredTokenException": "Token expired: current date/time "
                             "1700000000 must be before the expiration "
                             "date/time1690000000",
    "IDPCommunicationError": "The identity provider could not be reached.",
    "Throttling": "Rate exceeded",
    "InternalFailure": "An internal error occurred.",
    "ServiceUnavailable": "Service unavailable.",
}

# verify_sigv4 speaks awsJson codes; STS (awsQuery) names them like this.
_SIGV4_TO_STS = {
    "InvalidSignatureException": "SignatureDoesNotMatch",
    "UnrecognizedClientException": "InvalidClientTokenId",
    "MissingAuthenticationTokenException": "MissingAuthenticationToken",
    "IncompleteSignatureException": "IncompleteSignature",
}

_SESSION_NAME_RE = re.compile(r"^[\w+=,.@-]{2,64}$")
_EXTERNAL_ID_RE = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
_ROLE_ARN_RE = re.compile(r"^arn:aws[\w-]*:iam::\d{12}:role/[\w+=,.@/-]+$")


def iso8601(epoch):
    return datetime.fromtimestamp(epoch, timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def _role_name(role_arn):
    return role_arn.rsplit("/", 1)[-1]


def _account(role_arn, default):
    parts = role_arn.split(":")
    return parts[4] if len(parts) > 4 and parts[4] else default


def credentials_xml(action, creds, role_arn, session_name, request_id,
                    account=DEFAULT_ACCOUNT, web_identity=None):
    """The XML body of a successful AssumeRole / AssumeRoleWithWebIdentity
    answer. creds: dict AccessKeyId, SecretAccessKey, SessionToken,
    Expiration (ISO-8601); web_identity: dict with SubjectFromWebIdentity-
    Token, Audience, Provider (only for that action)."""
    acct = _account(role_arn, account)
    role_id = "AROA" + uuid.uuid5(uuid.NAMESPACE_URL, role_arn).hex[:17] \
        .upper()
    extra = ""
    if web_identity:
        extra = ("    <SubjectFromWebIdentityToken>%s"
                 "</SubjectFromWebIdentityToken>\n"
                 "    <Audience>%s</Audience>\n"
                 "    <Provider>%s</Provider>\n"
                 % (escape(web_identity["SubjectFromWebIdentityToken"]),
                    escape(web_identity["Audience"]),
                    escape(web_identity["Provider"])))
    return (
        '<%(a)sResponse xmlns="%(ns)s">\n'
        "  <%(a)sResult>\n"
        "%(extra)s"
        "    <AssumedRoleUser>\n"
        "      <AssumedRoleId>%(rid)s:%(sn)s</AssumedRoleId>\n"
        "      <Arn>arn:aws:sts::%(acct)s:assumed-role/%(role)s/%(sn)s</Arn>\n"
        "    </AssumedRoleUser>\n"
        "    <Credentials>\n"
        "      <AccessKeyId>%(ak)s</AccessKeyId>\n"
        "      <SecretAccessKey>%(sk)s</SecretAccessKey>\n"
        "      <SessionToken>%(st)s</SessionToken>\n"
        "      <Expiration>%(exp)s</Expiration>\n"
        "    </Credentials>\n"
        "  </%(a)sResult>\n"
        "  <ResponseMetadata>\n"
        "    <RequestId>%(req)s</RequestId>\n"
        "  </ResponseMetadata>\n"
        "</%(a)sResponse>\n"
        % {"a": action, "ns": STS_NS, "extra": extra, "rid": role_id,
           "sn": escape(session_name), "acct": acct,
           "role": escape(_role_name(role_arn)),
           "ak": escape(creds["AccessKeyId"]),
           "sk": escape(creds["SecretAccessKey"]),
           "st": escape(creds["SessionToken"]),
           "exp": escape(creds["Expiration"]), "req": request_id}
    ).encode("utf-8")


def error_xml(code, message, request_id, status=400):
    """The XML body of an STS (awsQuery) error answer."""
    kind = "Receiver" if status >= 500 else "Sender"
    return (
        '<ErrorResponse xmlns="%s">\n'
        "  <Error>\n"
        "    <Type>%s</Type>\n"
        "    <Code>%s</Code>\n"
        "    <Message>%s</Message>\n"
        "  </Error>\n"
        "  <RequestId>%s</RequestId>\n"
        "</ErrorResponse>\n"
        % (STS_NS, kind, escape(code), escape(message), request_id)
    ).encode("utf-8")


class _StsError(Exception):
    def __init__(self, code, message, status=None):
        super().__init__(code)
        self.code = code
        self.message = message
        self.status = status or STS_ERROR_STATUS.get(code, 400)


class FakeSTS(fake_aws._FakeBase):
    """Fake STS on 127.0.0.1 (port 0 = ephemeral).

    credentials: source credentials AssumeRole must be signed with,
      {access_key: secret or (secret, token)} (fake_aws's default pair when
      None); verify=False skips the signature check.
    roles: role ARNs that may be assumed (None = any well-formed ARN);
      others get AccessDenied.
    web_identity_tokens: accepted tokens (others: InvalidIdentityToken).
    expiration: fixed expiration (epoch seconds) for issued credentials;
      None = now + DurationSeconds (default 3600).
    echo_token_in_errors: put the received web identity token into the
      InvalidIdentityToken message (tests that clients redact it).
    on_request: called with each request's log entry before it is
      answered (tests use it to change files between two calls).
    Issued credentials may sign later AssumeRole calls (role chaining).
    """

    service = "sts"

    def __init__(self, roles=None, web_identity_tokens=(), expiration=None,
                 account=DEFAULT_ACCOUNT, echo_token_in_errors=False,
                 on_request=None, **kw):
        super().__init__(**kw)
        self.roles = None if roles is None else set(roles)
        self.web_identity_tokens = set(web_identity_tokens)
        self.expiration = expiration
        self.account = account
        self.echo_token_in_errors = echo_token_in_errors
        self.on_request = on_request
        self._errors = collections.deque()
        self._next_creds = collections.deque()
        self._issued = []
        self._counter = 0

    # -- configuration
    def fail_next(self, code, message=None, status=None, count=1,
                  action=None):
        """Answer the next `count` calls (of `action`, or any) with an
        error (after authentication and validation)."""
        with self._lock:
            for _ in range(count):
                self._errors.append({"code": code, "message": message,
                                     "status": status, "action": action})

    def set_next_credentials(self, access_key_id, secret_access_key,
                             session_token):
        """Issue these values on the next successful call."""
        with self._lock:
            self._next_creds.append((access_key_id, secret_access_key,
                                     session_token))

    def add_web_identity_token(self, token):
        with self._lock:
            self.web_identity_tokens.add(token)

    def issued(self):
        """Credentials issued so far: dicts with action, role_arn,
        session_name, AccessKeyId, SecretAccessKey, SessionToken,
        Expiration (ISO) and expiration (epoch)."""
        with self._lock:
            return [dict(i) for i in self._issued]

    def reset(self):
        super().reset()
        with self._lock:
            self._errors.clear()
            self._next_creds.clear()
            self._issued.clear()

    # -- HTTP
    def _control(self, handler, path, body):
        if path == "/__fake/issued":
            handler.send_json(200, self.issued())
        else:
            self._control_common(handler, path, body)

    def _send(self, handler, entry, status, body):
        entry["status"] = status
        handler.send_bytes(status, [("Content-Type", "text/xml"),
                                    ("x-amzn-RequestId", entry["request_id"])],
                           body)

    def _params(self, body):
        try:
            parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True,
                              strict_parsing=bool(body))
        except (UnicodeDecodeError, ValueError):
            raise _StsError("InvalidParameterValue",
                            "fake_sts: the body is not form-encoded")
        for name, values in parsed.items():
            if len(values) != 1:
                raise _StsError("InvalidParameterValue",
                                "fake_sts: parameter %s repeated" % name)
        return {k: v[0] for k, v in parsed.items()}

    def _handle(self, handler, body):
        headers = list(handler.headers.items())
        request_id = str(uuid.uuid4())
        entry = self._record(handler, body, action=None, params=None,
                             signed=None, signature_valid=None,
                             request_id=request_id)
        try:
            params = self._params(body)
            entry["params"] = params
            action = params.get("Action")
            entry["action"] = action
            signed = bool(fake_aws._header_values(headers, "authorization"))
            entry["signed"] = signed
            self._check_envelope(handler, params)
            if action == "AssumeRole":
                self._authenticate_sigv4(handler, body, headers, entry)
                role_arn, session, duration = self._check_assume_role(params)
            else:
                if signed or fake_aws._header_values(headers,
                                                     "x-amz-security-token"):
                    raise _StsError("UnexpectedSignature",
                                    "fake_sts: AssumeRoleWithWebIdentity "
                                    "must be sent unsigned")
                role_arn, session, duration = self._check_web_identity(params)
            if self.on_request is not None:
                self.on_request(entry)
            self._scripted_error(action)
            creds = self._issue(action, role_arn, session, duration)
        except _StsError as exc:
            entry["error"] = exc.code
            self._send(handler, entry, exc.status,
                       error_xml(exc.code, exc.message, request_id,
                                 exc.status))
            return
        web = None
        if action == "AssumeRoleWithWebIdentity":
            web = {"SubjectFromWebIdentityToken": "system:serviceaccount:"
                                                   "default:strands",
                   "Audience": "sts.amazonaws.com",
                   "Provider": "arn:aws:iam::%s:oidc-provider/oidc.example"
                               % self.account}
        self._send(handler, entry, 200,
                   credentials_xml(action, creds, role_arn, session,
                                   request_id, self.account, web))

    def _check_envelope(self, handler, params):
        ctype = handler.headers.get("Content-Type", "")
        if handler.command != "POST" or \
                handler.path.split("?", 1)[0] != "/":
            raise _StsError("InvalidAction", "fake_sts: use POST /")
        if not ctype.lower().startswith("application/x-www-form-urlencoded"):
            raise _StsError("InvalidParameterValue",
                            "fake_sts: Content-Type must be "
                            "application/x-www-form-urlencoded")
        action = params.get("Action")
        if params.get("Version") != STS_VERSION or action not in (
                "AssumeRole", "AssumeRoleWithWebIdentity"):
            raise _StsError("InvalidAction",
                            "Could not find operation %s for version %s"
                            % (action, params.get("Version")))

    def _authenticate_sigv4(self, handler, body, headers, entry):
        if not self.verify:
            return
        result = fake_aws.verify_sigv4(
            handler.command, handler.path, headers, body, self.credentials,
            "sts", region=self.region,
            now=None if self.max_skew_s is None else time.time(),
            max_skew_s=self.max_skew_s)
        entry["signature_valid"] = result.ok
        if not result.ok:
            entry["auth_error"] = result.code
            raise _StsError(_SIGV4_TO_STS.get(result.code, result.code),
                            result.message, 403)
        entry["signed_by"] = result.access_key

    @staticmethod
    def _validation(value, field, constraint):
        return _StsError("ValidationError",
                         "1 validation error detected: Value '%s' at '%s' "
                         "failed to satisfy constraint: %s"
                         % (value, field, constraint))

    def _common(self, params):
        role_arn = params.get("RoleArn")
        session = params.get("RoleSessionName")
        if role_arn is None:
            raise self._validation(None, "roleArn", "Member must not be null")
        if not 20 <= len(role_arn) <= 2048 or \
                not _ROLE_ARN_RE.match(role_arn):
            raise self._validation(role_arn, "roleArn",
                                   "Member must be a role ARN")
        if session is None:
            raise self._validation(None, "roleSessionName",
                                   "Member must not be null")
        if not _SESSION_NAME_RE.match(session):
            raise self._validation(session, "roleSessionName",
                                   "Member must satisfy regular expression "
                                   "pattern: [\\w+=,.@-]*")
        duration = 3600
        if "DurationSeconds" in params:
            try:
                duration = int(params["DurationSeconds"])
            except ValueError:
                raise self._validation(params["DurationSeconds"],
                                       "durationSeconds",
                                       "Member must be an integer")
            if not 900 <= duration <= 43200:
                raise self._validation(duration, "durationSeconds",
                                       "Member must have value between "
                                       "900 and 43200")
        return role_arn, session, duration

    def _check_role(self, role_arn):
        if self.roles is not None and role_arn not in self.roles:
            raise _StsError("AccessDenied", DEFAULT_MESSAGES["AccessDenied"]
                            % (self.account, role_arn))

    def _check_assume_role(self, params):
        role_arn, session, duration = self._common(params)
        if "ExternalId" in params and \
                not _EXTERNAL_ID_RE.match(params["ExternalId"]):
            raise self._validation(params["ExternalId"], "externalId",
                                   "Member must satisfy regular expression "
                                   "pattern: [\\w+=,.@:\\/-]*")
        if "WebIdentityToken" in params:
            raise _StsError("InvalidParameterValue",
                            "fake_sts: WebIdentityToken in AssumeRole")
        self._check_role(role_arn)
        return role_arn, session, duration

    def _check_web_identity(self, params):
        role_arn, session, duration = self._common(params)
        token = params.get("WebIdentityToken")
        if token is None:
            raise self._validation(None, "webIdentityToken",
                                   "Member must not be null")
        if not 4 <= len(token) <= 20000:
            raise self._validation("***", "webIdentityToken",
                                   "Member must have length between 4 and "
                                   "20000")
        if "ExternalId" in params:
            raise _StsError("InvalidParameterValue",
                            "fake_sts: ExternalId in "
                            "AssumeRoleWithWebIdentity")
        with self._lock:
            known = token in self.web_identity_tokens
        if not known:
            message = DEFAULT_MESSAGES["InvalidIdentityToken"]
            if self.echo_token_in_errors:
                message = "Invalid token %s" % token
            raise _StsError("InvalidIdentityToken", message)
        self._check_role(role_arn)
        return role_arn, session, duration

    def _scripted_error(self, action):
        with self._lock:
            for i, err in enumerate(self._errors):
                if err["action"] in (None, action):
                    del self._errors[i]
                    break
            else:
                return
        code = err["code"]
        message = err["message"] or DEFAULT_MESSAGES.get(code, code)
        if code == "AccessDenied" and not err["message"]:
            message = "Not authorized to perform sts:%s" % action
        raise _StsError(code, message, err["status"])

    def _issue(self, action, role_arn, session, duration):
        with self._lock:
            self._counter += 1
            n = self._counter
            forced = self._next_creds.popleft() if self._next_creds else None
        if forced:
            akid, secret, token = forced
        else:
            akid = "ASIAFAKESTS%09d" % n
            secret = secrets.token_urlsafe(30)[:40]
            token = "FwoGZXIvYXdzE" + secrets.token_urlsafe(200)
        expiration = self.expiration
        if expiration is None:
            expiration = int(time.time()) + duration
        creds = {"AccessKeyId": akid, "SecretAccessKey": secret,
                 "SessionToken": token, "Expiration": iso8601(expiration)}
        record = dict(creds, action=action, role_arn=role_arn,
                      session_name=session, expiration=int(expiration))
        with self._lock:
            self._issued.append(record)
            self.credentials[akid] = (secret, token)
        return creds


def start_fake_sts(**kw):
    """Start a FakeSTS in a background thread; the returned object has
    .url .port .requests() .issued() .fail_next() .reset() .stop()."""
    return FakeSTS(**kw).start()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--access-key", default=fake_aws.EXAMPLE_ACCESS_KEY)
    ap.add_argument("--secret-key", default=fake_aws.EXAMPLE_SECRET_KEY)
    ap.add_argument("--web-identity-token", action="append", default=[])
    args = ap.parse_args(argv)
    fake = FakeSTS(credentials={args.access_key: args.secret_key},
                   web_identity_tokens=args.web_identity_token,
                   port=args.port)
    print(fake.url, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    fake.start()
    stop.wait()
    fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Integration tests of the "container" and "imds" credential providers:
run the real build/cred_probe (one process per case, environment as
configuration) against the loopback fakes in tests/fakes/fake_metadata.py.
Every case also checks that no secret (secret key, session token, the
container authorization token, the IMDS session token) appears in the
probe's output. Binary dir: env STRANDS_BUILD_DIR (default <repo>/build).
Run: /usr/bin/python3 -m pytest tests/integration/test_cred_metadata.py
"""

import hashlib
import json
import os
import socket
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "fakes"))

import fake_metadata as fm  # noqa: E402

BUILD = os.environ.get("STRANDS_BUILD_DIR", os.path.join(ROOT, "build"))
PROBE = os.path.join(BUILD, "cred_probe")
AUTH = "Bearer container-auth-Zq3xv8TOKENSECRET"
FULL = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
RELATIVE = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"
TOKEN = "AWS_CONTAINER_AUTHORIZATION_TOKEN"
TOKEN_FILE = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
ENDPOINT = "AWS_EC2_METADATA_SERVICE_ENDPOINT"


@pytest.fixture(autouse=True)
def need_probe():
    if not os.access(PROBE, os.X_OK):
        pytest.skip("%s not built (set STRANDS_BUILD_DIR)" % PROBE)


def sha256(s):
    return hashlib.sha256(s.encode("utf-8")).hexdigest()


class Result:
    def __init__(self, proc, elapsed):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.elapsed = elapsed
        self.lines = [json.loads(x) for x in proc.stdout.splitlines() if x]

    @property
    def one(self):
        assert len(self.lines) == 1, self.stdout
        return self.lines[0]

    def assert_no_secrets(self, *fakes, extra=()):
        text = self.stdout + self.stderr
        values = list(extra)
        for fake in fakes:
            doc = fake.credentials
            values += [doc["SecretAccessKey"], doc["Token"]]
            values += getattr(fake, "issued_tokens", [])
            if getattr(fake, "token", None):
                values.append(fake.token)
        for v in values:
            assert v not in text, "secret leaked: %r" % (text,)
        if self.rc != 0:  # error text names no key id either
            for fake in fakes:
                assert fake.credentials["AccessKeyId"] not in text


def probe(provider, env, count=1, timeout=30):
    full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if k in os.environ:
            full_env[k] = os.environ[k]
    full_env.update(env)
    start = time.monotonic()
    proc = subprocess.run([PROBE, provider, str(count)], env=full_env,
                          capture_output=True, text=True, timeout=timeout)
    res = Result(proc, time.monotonic() - start)
    for marker in ("ERROR: AddressSanitizer", "runtime error:",
                   "LeakSanitizer"):
        assert marker not in proc.stderr, proc.stderr
    return res


def assert_creds(line, doc, provider):
    assert line.get("provider") == provider, line
    assert line["access_key_id"] == doc["AccessKeyId"]
    assert line["secret_sha256"] == sha256(doc["SecretAccessKey"])
    assert line["token_sha256"] == sha256(doc["Token"])
    assert line["has_token"] is True
    assert line["expiration"] == fm.expiration_epoch(doc)


def assert_error(res, status, *fragments):
    assert res.rc != 0
    line = res.one
    assert line["status"] == status, line
    for f in fragments:
        assert f in line["error"], line
    return line


# ---- container ------------------------------------------------------------

@pytest.fixture
def container():
    fakes = []

    def start(**kw):
        f = fm.FakeContainerCredentials(**kw).start()
        fakes.append(f)
        return f

    yield start
    for f in fakes:
        f.stop()


def test_container_full_uri_token_from_env(container):
    fake = container(token=AUTH, account_id="123456789012")
    res = probe("container", {FULL: fake.full_uri, TOKEN: AUTH})
    assert res.rc == 0, res.stdout
    assert_creds(res.one, fake.credentials, "container")
    (req,) = fake.requests
    assert (req.method, req.path) == ("GET", fake.path)
    assert req.headers["authorization"] == AUTH
    assert req.headers["accept"] == "application/json"
    res.assert_no_secrets(fake)


def test_container_token_file_wins_over_env(container, tmp_path):
    fake = container(token=AUTH)
    path = tmp_path / "token"
    path.write_text(AUTH)
    res = probe("container", {FULL: fake.full_uri, TOKEN_FILE: str(path),
                              TOKEN: "Bearer wrong-env-token"})
    assert res.rc == 0, res.stdout
    assert_creds(res.one, fake.credentials, "container")
    assert fake.requests[0].headers["authorization"] == AUTH
    res.assert_no_secrets(fake, extra=["wrong-env-token"])


def test_container_token_file_changed_between_processes(container,
                                                        tmp_path):
    fake = container(token="Bearer first-token-AAAA")
    path = tmp_path / "token"
    path.write_text("Bearer first-token-AAAA")
    env = {FULL: fake.full_uri, TOKEN_FILE: str(path)}
    assert probe("container", env).rc == 0
    path.write_text("Bearer second-token-BBBB")
    fake.token = "Bearer second-token-BBBB"
    res = probe("container", env)
    assert res.rc == 0, res.stdout
    assert [r.headers["authorization"] for r in fake.requests] == [
        "Bearer first-token-AAAA", "Bearer second-token-BBBB"]
    res.assert_no_secrets(fake, extra=["first-token-AAAA"])


def test_container_token_file_reread_at_every_fetch(container, tmp_path):
    # One process, two resolves; the file (and the token the fake expects)
    # changes after the first fetch.
    fake = container(token="Bearer rotate-1")
    path = tmp_path / "token"
    path.write_text("Bearer rotate-1")

    def rotate(_req):
        path.write_text("Bearer rotate-2")
        fake.token = "Bearer rotate-2"

    fake.before_answer = rotate
    res = probe("container", {FULL: fake.full_uri, TOKEN_FILE: str(path)},
                count=2)
    assert res.rc == 0, res.stdout
    assert len(res.lines) == 2
    for line in res.lines:
        assert_creds(line, fake.credentials, "container")
    assert [r.headers["authorization"] for r in fake.requests] == [
        "Bearer rotate-1", "Bearer rotate-2"]


def test_container_relative_uri_wins_over_full(container):
    fake = container(token=AUTH, path="/v2/credentials/3c0ffee-uuid")
    host = "127.0.0.1:%d" % fake.port
    res = probe("container", {
        RELATIVE: fake.path, "STRANDS_CONTAINER_CREDENTIALS_HOST": host,
        FULL: "http://192.0.2.10/ignored", TOKEN: AUTH})
    assert res.rc == 0, res.stdout
    assert_creds(res.one, fake.credentials, "container")
    assert [r.path for r in fake.requests] == [fake.path]


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.1.2.3"])
def test_container_loopback_hosts_allowed(container, host):
    try:
        fake = container(host="127.0.0.1" if host == "localhost" else host)
        socket.create_connection((host, fake.port), 2).close()
    except OSError:
        pytest.skip("cannot serve on %s here" % host)
    uri = "http://%s:%d%s" % (host, fake.port, fake.path)
    res = probe("container", {FULL: uri})
    assert res.rc == 0, res.stdout
    assert_creds(res.one, fake.credentials, "container")


def test_container_ipv6_loopback_allowed():
    try:
        fake = fm.FakeContainerCredentials(host="::1").start()
    except OSError:
        pytest.skip("no IPv6 loopback")
    try:
        res = probe("container", {FULL: fake.full_uri})
        assert res.rc == 0, res.stdout
        assert_creds(res.one, fake.credentials, "container")
    finally:
        fake.stop()


@pytest.mark.parametrize("uri,fragment", [
    ("http://192.0.2.10/creds", "host 192.0.2.10 is not allowed"),
    ("http://169.254.169.254/creds", "host 169.254.169.254 is not allowed"),
    ("http://example.com:8080/creds", "host example.com is not allowed"),
    ("http://localhost.example.com/creds", "is not allowed"),
    ("http://127.0.0.1.nip.io/creds", "is not allowed"),
    ("http://[fd00:ec2::24]/creds", "host [fd00:ec2::24] is not allowed"),
    ("http://127.0.0.1@192.0.2.10/creds", "user information"),
    ("http://0177.0.0.1/creds", "is not allowed"),
    ("http://2130706433/creds", "is not allowed"),
    ("ftp://127.0.0.1/creds", "http:// or https://"),
    ("http://127.0.0.1:99999/creds", "bad port"),
    ("http://127.0.0.1/cr eds", "space"),
])
def test_container_rejects_disallowed_full_uri(uri, fragment):
    res = probe("container", {FULL: uri, TOKEN: AUTH})
    line = assert_error(res, "E_INVALID", FULL, fragment)
    assert line["error"].startswith("constructor: ")
    assert "/creds" not in line["error"]  # paths are not echoed
    res.assert_no_secrets(extra=[AUTH])


def test_container_relative_uri_must_start_with_slash():
    res = probe("container", {RELATIVE: "@192.0.2.10/creds"})
    assert_error(res, "E_INVALID", RELATIVE, "must start with '/'")


def test_container_test_hook_host_is_checked():
    res = probe("container", {RELATIVE: "/creds",
                              "STRANDS_CONTAINER_CREDENTIALS_HOST":
                              "192.0.2.10"})
    assert_error(res, "E_INVALID", "STRANDS_CONTAINER_CREDENTIALS_HOST",
                 "not allowed")


@pytest.mark.parametrize("where", ["env", "file"])
@pytest.mark.parametrize("bad", ["Bearer abc\r\nX-Injected: 1",
                                 "Bearer abc\n", "Bearer abc\rdef"])
def test_container_rejects_cr_lf_in_token(container, tmp_path, where, bad):
    fake = container()
    env = {FULL: fake.full_uri}
    if where == "env":
        env[TOKEN] = bad
    else:
        path = tmp_path / "token"
        path.write_bytes(bad.encode())
        env[TOKEN_FILE] = str(path)
        env[TOKEN] = "Bearer fine"  # the file still wins
    res = probe("container", env)
    assert_error(res, "E_INVALID", "CR, LF",
                 TOKEN_FILE if where == "file" else TOKEN)
    assert fake.requests == []
    res.assert_no_secrets(fake, extra=["Bearer abc"])


def test_container_missing_token_file(container, tmp_path):
    fake = container()
    res = probe("container", {FULL: fake.full_uri,
                              TOKEN_FILE: str(tmp_path / "absent")})
    assert_error(res, "E_IO", TOKEN_FILE, "absent")
    assert fake.requests == []


def test_container_wrong_token_401(container):
    fake = container(token=AUTH)
    res = probe("container", {FULL: fake.full_uri,
                              TOKEN: "Bearer not-the-right-one"})
    assert_error(res, "E_UPSTREAM", "HTTP 401", "token was refused",
                 "http://127.0.0.1:%d" % fake.port)
    assert len(fake.requests) == 1  # a refused token is not retried
    res.assert_no_secrets(fake, extra=["not-the-right-one"])


def test_container_500_is_retried_then_fails(container):
    fake = container(token=AUTH, mode="error", status=500)
    res = probe("container", {FULL: fake.full_uri, TOKEN: AUTH})
    assert_error(res, "E_UPSTREAM", "HTTP 500")
    assert len(fake.requests) == 3
    assert 1.5 < res.elapsed < 10  # two 1 s pauses between attempts
    res.assert_no_secrets(fake)


def test_container_bad_json(container):
    fake = container(token=AUTH, mode="bad_json")
    res = probe("container", {FULL: fake.full_uri, TOKEN: AUTH})
    assert_error(res, "E_UPSTREAM", "not a JSON object")
    assert len(fake.requests) == 1
    res.assert_no_secrets(fake)


@pytest.mark.parametrize("field", ["AccessKeyId", "SecretAccessKey",
                                   "Token", "Expiration"])
def test_container_missing_field(container, field):
    doc = fm.make_credentials()
    del doc[field]
    fake = container(credentials=doc)
    res = probe("container", {FULL: fake.full_uri})
    assert_error(res, "E_UPSTREAM", '"%s"' % field)
    for v in doc.values():
        assert v not in res.stdout


def test_container_bad_expiration(container):
    doc = fm.make_credentials()
    doc["Expiration"] = "tomorrow"
    fake = container(credentials=doc)
    res = probe("container", {FULL: fake.full_uri})
    assert_error(res, "E_UPSTREAM", "Expiration", "ISO-8601")
    res.assert_no_secrets(fake)


def test_container_unreachable_is_an_error():
    res = probe("container", {
        FULL: "http://127.0.0.1:%d/creds" % fm.closed_port()})
    assert_error(res, "E_NETWORK", "container credentials endpoint")


def test_container_not_configured():
    res = probe("container", {})
    assert_error(res, "E_NO_CREDENTIALS", "not configured")


# ---- IMDS -------------------------------------------------------------------

@pytest.fixture
def imds():
    fakes = []

    def start(**kw):
        f = fm.FakeIMDS(**kw).start()
        fakes.append(f)
        return f

    yield start
    for f in fakes:
        f.stop()


def test_imds_v2_success_exact_sequence(imds):
    fake = imds(role="agent-role")
    res = probe("imds", {ENDPOINT: fake.url})
    assert res.rc == 0, res.stdout
    assert_creds(res.one, fake.credentials, "imds")
    reqs = fake.requests
    assert [(r.method, r.path) for r in reqs] == [
        ("PUT", "/latest/api/token"),
        ("GET", "/latest/meta-data/iam/security-credentials/"),
        ("GET", "/latest/meta-data/iam/security-credentials/agent-role")]
    assert reqs[0].headers["x-aws-ec2-metadata-token-ttl-seconds"] == "21600"
    assert "x-aws-ec2-metadata-token" not in reqs[0].headers
    (tok,) = fake.issued_tokens
    for r in reqs[1:]:
        assert r.headers["x-aws-ec2-metadata-token"] == tok
        assert "x-aws-ec2-metadata-token-ttl-seconds" not in r.headers
    res.assert_no_secrets(fake)


def test_imds_each_resolve_fetches_anew(imds):
    fake = imds()
    res = probe("imds", {ENDPOINT: fake.url + "/"}, count=2)
    assert res.rc == 0, res.stdout
    assert len(res.lines) == 2
    assert [r.method for r in fake.requests] == ["PUT", "GET", "GET"] * 2
    res.assert_no_secrets(fake)


@pytest.mark.parametrize("value", ["true", "TRUE", "True"])
def test_imds_disabled(imds, value):
    fake = imds()
    res = probe("imds", {ENDPOINT: fake.url,
                         "AWS_EC2_METADATA_DISABLED": value})
    assert_error(res, "E_NO_CREDENTIALS", "disabled",
                 "AWS_EC2_METADATA_DISABLED")
    assert fake.requests == []


def test_imds_disabled_false_still_fetches(imds):
    fake = imds()
    res = probe("imds", {ENDPOINT: fake.url,
                         "AWS_EC2_METADATA_DISABLED": "false"})
    assert res.rc == 0, res.stdout


def test_imds_endpoint_beats_ipv6_mode(imds):
    fake = imds()
    res = probe("imds", {ENDPOINT: fake.url,
                         "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IPv6"})
    assert res.rc == 0, res.stdout
    assert len(fake.requests) == 3


def test_imds_ipv6_mode_default_endpoint():
    # No IMDS here: the provider must name the IPv6 endpoint and give up
    # quickly (unreachable, or the 1 s connect timeout).
    res = probe("imds", {"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "ipv6"})
    assert_error(res, "E_NO_CREDENTIALS",
                 "no instance metadata service at http://[fd00:ec2::254]")
    assert res.elapsed < 3


@pytest.mark.parametrize("env,fragment", [
    ({ENDPOINT: "http://127.0.0.1:1234/latest"}, "no path"),
    ({ENDPOINT: "ftp://127.0.0.1"}, "http:// or https://"),
    ({ENDPOINT: "http://user@127.0.0.1"}, "user information"),
    ({ENDPOINT: "http://127.0.0.1:0"}, "bad port"),
    ({"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IPv5"}, "IPv4 or IPv6"),
])
def test_imds_bad_configuration(env, fragment):
    res = probe("imds", env)
    line = assert_error(res, "E_INVALID", fragment)
    assert line["error"].startswith("constructor: ")


@pytest.mark.parametrize("status", [403, 404, 405])
def test_imds_v1_fallback(imds, status):
    fake = imds(token_status=status, v1_allowed=True)
    res = probe("imds", {ENDPOINT: fake.url})
    assert res.rc == 0, res.stdout
    assert_creds(res.one, fake.credentials, "imds")
    reqs = fake.requests
    assert [r.method for r in reqs] == ["PUT", "GET", "GET"]
    assert all("x-aws-ec2-metadata-token" not in r.headers for r in reqs)
    res.assert_no_secrets(fake)


@pytest.mark.parametrize("value", ["true", "TRUE"])
def test_imds_v1_fallback_refused_when_disabled(imds, value):
    fake = imds(token_status=403, v1_allowed=True)
    res = probe("imds", {ENDPOINT: fake.url,
                         "AWS_EC2_METADATA_V1_DISABLED": value})
    assert_error(res, "E_UPSTREAM", "HTTP 403",
                 "AWS_EC2_METADATA_V1_DISABLED")
    assert [r.method for r in fake.requests] == ["PUT"]


@pytest.mark.parametrize("status", [400, 500, 503])
def test_imds_token_errors_do_not_fall_back(imds, status):
    fake = imds(token_status=status, v1_allowed=True)
    res = probe("imds", {ENDPOINT: fake.url})
    assert_error(res, "E_UPSTREAM", "HTTP %d" % status)
    assert [r.method for r in fake.requests] == ["PUT"]


def test_imds_unreachable_is_no_credentials_quickly():
    url = "http://127.0.0.1:%d" % fm.closed_port()
    res = probe("imds", {ENDPOINT: url})
    assert_error(res, "E_NO_CREDENTIALS",
                 "no instance metadata service at " + url)
    assert res.elapsed < 2


@pytest.mark.parametrize("step", ["token", "role", "credentials"])
def test_imds_hanging_server_times_out(imds, step):
    fake = imds(hang=step, hang_s=10)
    res = probe("imds", {ENDPOINT: fake.url})
    line = assert_error(res, "E_NO_CREDENTIALS",
                        "no instance metadata service at " + fake.url)
    assert "timed out" in line["error"]
    assert 0.9 < res.elapsed < 2.5  # one 1 s timeout, one attempt
    res.assert_no_secrets(fake)


def test_imds_code_not_success(imds):
    fake = imds(code="AssumeRoleUnauthorizedAccess")
    res = probe("imds", {ENDPOINT: fake.url})
    line = assert_error(res, "E_UPSTREAM", "AssumeRoleUnauthorizedAccess",
                        fake.role)
    assert line["code"] == "AssumeRoleUnauthorizedAccess"
    res.assert_no_secrets(fake)


def test_imds_no_role(imds):
    fake = imds(role=None)
    res = probe("imds", {ENDPOINT: fake.url})
    assert_error(res, "E_NO_CREDENTIALS", "no IAM role")
    assert len(fake.requests) == 2
    res.assert_no_secrets(fake)


@pytest.mark.parametrize("role", ["../../latest/user-data", "a b", "x" * 65,
                                  "role?x=1"])
def test_imds_rejects_odd_role_names(imds, role):
    fake = imds(role=role)
    res = probe("imds", {ENDPOINT: fake.url})
    assert_error(res, "E_UPSTREAM", "not a valid IAM role name")
    assert len(fake.requests) == 2


def test_metadata_requests_ignore_proxies(imds, container):
    dead = "http://127.0.0.1:%d" % fm.closed_port()
    proxies = {"http_proxy": dead, "HTTP_PROXY": dead, "https_proxy": dead,
               "ALL_PROXY": dead, "all_proxy": dead}
    fake = imds()
    res = probe("imds", dict(proxies, **{ENDPOINT: fake.url}))
    assert res.rc == 0, res.stdout
    cfake = container()
    res = probe("container", dict(proxies, **{FULL: cfake.full_uri}))
    assert res.rc == 0, res.stdout


def test_imds_v1_fallback_against_v2_only_service(imds):
    # Token PUT 403 -> IMDSv1 GET, which a v2-only service refuses (401):
    # like the SDKs, that means "no credentials here", not a hard error.
    fake = imds(token_status=403, v1_allowed=False)
    res = probe("imds", {ENDPOINT: fake.url})
    assert_error(res, "E_NO_CREDENTIALS", "refused the role name request",
                 "HTTP 401")
    assert [r.method for r in fake.requests] == ["PUT", "GET"]


@pytest.mark.parametrize("kw,fragment", [
    ({"role_status": 403}, "refused the role name request (HTTP 403"),
    ({"creds_status": 403}, "refused the credentials request (HTTP 403"),
    ({"creds_status": 404}, "no credentials for role strands-test-role"),
])
def test_imds_refusals_are_no_credentials(imds, kw, fragment):
    fake = imds(**kw)
    res = probe("imds", {ENDPOINT: fake.url})
    assert_error(res, "E_NO_CREDENTIALS", fragment)
    res.assert_no_secrets(fake)


def test_imds_credentials_errors(imds):
    fake = imds(creds_status=500)
    res = probe("imds", {ENDPOINT: fake.url})
    assert_error(res, "E_UPSTREAM", "credentials request", "HTTP 500")
    res.assert_no_secrets(fake)


def test_imds_missing_token_field(imds):
    doc = fm.make_credentials()
    del doc["Token"]
    fake = imds(credentials=doc)
    res = probe("imds", {ENDPOINT: fake.url})
    assert_error(res, "E_UPSTREAM", '"Token"')
    assert doc["SecretAccessKey"] not in res.stdout

"""Integration tests of the web_identity and profile credential providers
(src/aws/credentials/cred_web_identity.c, cred_profile.c, src/aws/sts.c, ini.c) through the
cred_probe driver (tests/tools/cred_probe.c) against FakeSTS
(tests/fakes/fake_sts.py), with temporary HOME, config/credentials files,
token files and credential_process scripts. Every test also checks that no
secret (secret keys, session tokens, web identity tokens) appears in the
probe's output or error messages. Binary: $STRANDS_BUILD_DIR/cred_probe
(default <repo>/build). Run with /usr/bin/python3 -m pytest."""

import hashlib
import json
import os
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "fakes"))

import fake_sts  # noqa: E402

BUILD = os.environ.get("STRANDS_BUILD_DIR", os.path.join(ROOT, "build"))
PROBE = os.path.join(BUILD, "cred_probe")

ROLE = "arn:aws:iam::123456789012:role/strands-test"
TOKEN_A = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.SECRETWEBTOKENAAAA"
TOKEN_B = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJiIn0.SECRETWEBTOKENBBBB"
SRC_AKID = "AKIDSOURCEPROFILE01"
SRC_SECRET = "srcSECRET/K7MDENG+bPxRfiCYSOURCEKEY01"
ENV_AKID = "AKIDENVIRONMENT0001"
ENV_SECRET = "envSECRET/K7MDENG+bPxRfiCYENVKEY0001"
ENV_TOKEN = "envTOKEN//////////wEaDENVTOKENVALUE=="
FILE_AKID = "AKIDFROMFILE000001"
FILE_SECRET = "fileSECRET/K7MDENG+bPxRfiCYFILEKEY01"
FILE_TOKEN = "fileTOKEN//////////wEaDFILETOKEN=="
PROC_SECRET = "procSECRET/K7MDENG+bPxRfiCYPROCKEY01"
PROC_TOKEN = "procTOKEN//////////wEaDPROCTOKEN=="

FIXED_SECRETS = [TOKEN_A, TOKEN_B, SRC_SECRET, ENV_SECRET, ENV_TOKEN,
                 FILE_SECRET, FILE_TOKEN, PROC_SECRET, PROC_TOKEN]

if not os.path.exists(PROBE):
    pytest.skip("cred_probe not built at %s (set STRANDS_BUILD_DIR)" % PROBE,
                allow_module_level=True)


def sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def sts():
    fake = fake_sts.start_fake_sts(
        credentials={SRC_AKID: SRC_SECRET, ENV_AKID: (ENV_SECRET, ENV_TOKEN)},
        web_identity_tokens=[TOKEN_A, TOKEN_B])
    yield fake
    fake.stop()


@pytest.fixture
def home(tmp_path):
    aws = tmp_path / ".aws"
    aws.mkdir()
    return tmp_path


class Probe:
    """Runs cred_probe with a clean environment (HOME = the temp dir)."""

    def __init__(self, home, sts):
        self.home = home
        self.sts = sts
        self.outputs = []

    def run(self, provider, count=1, timeout=60, **env):
        full = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "HOME": str(self.home), "AWS_REGION": "us-east-1",
                "AWS_ENDPOINT_URL_STS": self.sts.url}
        for name in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if name in os.environ:
                full[name] = os.environ[name]
        for k, v in env.items():
            if v is None:
                full.pop(k, None)
            else:
                full[k] = v
        start = time.monotonic()
        proc = subprocess.run([PROBE, provider, str(count)], env=full,
                              capture_output=True, timeout=timeout)
        self.elapsed = time.monotonic() - start
        out = proc.stdout.decode("utf-8", "replace")
        err = proc.stderr.decode("utf-8", "replace")
        self.outputs.append(out + err)
        for bad in ("ERROR: AddressSanitizer", "runtime error:",
                    "LeakSanitizer"):
            assert bad not in err, err
        lines = [json.loads(line) for line in out.splitlines()
                 if line.strip()]
        assert len(lines) == count, out + err
        return proc.returncode, lines

    def one(self, provider, **env):
        rc, lines = self.run(provider, **env)
        assert rc == (0 if "error" not in lines[0] else 1)
        return lines[0]

    def check_no_secrets(self):
        values = list(FIXED_SECRETS)
        for issued in self.sts.issued():
            values += [issued["SecretAccessKey"], issued["SessionToken"]]
        for text in self.outputs:
            for v in values:
                assert v not in text, "secret leaked into probe output"


@pytest.fixture
def probe(home, sts):
    p = Probe(home, sts)
    yield p
    p.check_no_secrets()


def write(path, text, mode=0o600):
    path = str(path)
    with open(path, "w") as fh:
        fh.write(text)
    os.chmod(path, mode)
    return path


def check_issued(line, issued, provider):
    assert line["provider"] == provider
    assert line["access_key_id"] == issued["AccessKeyId"]
    assert line["secret_sha256"] == sha(issued["SecretAccessKey"])
    assert line["token_sha256"] == sha(issued["SessionToken"])
    assert line["has_token"] is True
    assert line["expiration"] == issued["expiration"]


# --------------------------------------------------------------------------
# web_identity
# --------------------------------------------------------------------------

def test_web_identity_success(probe, sts, home):
    token = write(home / "token", TOKEN_A + "\n")
    line = probe.one("web_identity", AWS_WEB_IDENTITY_TOKEN_FILE=token,
                     AWS_ROLE_ARN=ROLE, AWS_ROLE_SESSION_NAME="my-session")
    issued = sts.issued()
    assert len(issued) == 1
    check_issued(line, issued[0], "web_identity")
    assert 3500 < issued[0]["expiration"] - time.time() < 3700
    req = sts.requests()[0]
    assert req["signed"] is False
    assert "x-amz-security-token" not in req["headers"]
    assert req["headers"]["content-type"].startswith(
        "application/x-www-form-urlencoded")
    assert req["params"] == {"Action": "AssumeRoleWithWebIdentity",
                             "Version": "2011-06-15", "RoleArn": ROLE,
                             "RoleSessionName": "my-session",
                             "WebIdentityToken": TOKEN_A}


def test_web_identity_default_session_name(probe, sts, home):
    token = write(home / "token", TOKEN_A)
    line = probe.one("web_identity", AWS_WEB_IDENTITY_TOKEN_FILE=token,
                     AWS_ROLE_ARN=ROLE)
    assert line["provider"] == "web_identity"
    name = sts.requests()[0]["params"]["RoleSessionName"]
    assert name.startswith("strands-c-")
    assert abs(int(name[len("strands-c-"):]) - time.time()) < 120


def test_web_identity_token_reread_every_resolve(probe, sts, home):
    token = write(home / "token", TOKEN_A)

    def rotate(entry):  # the token rotates after the first call
        write(token, TOKEN_B)

    sts.on_request = rotate
    rc, lines = probe.run("web_identity", count=2,
                          AWS_WEB_IDENTITY_TOKEN_FILE=token,
                          AWS_ROLE_ARN=ROLE)
    assert rc == 0
    tokens = [r["params"]["WebIdentityToken"] for r in sts.requests()]
    assert tokens == [TOKEN_A, TOKEN_B]
    issued = sts.issued()
    check_issued(lines[0], issued[0], "web_identity")
    check_issued(lines[1], issued[1], "web_identity")
    # And a new process reads the file too.
    sts.on_request = None
    write(token, TOKEN_A)
    probe.one("web_identity", AWS_WEB_IDENTITY_TOKEN_FILE=token,
              AWS_ROLE_ARN=ROLE)
    assert sts.requests()[-1]["params"]["WebIdentityToken"] == TOKEN_A


def test_web_identity_access_denied(probe, sts, home):
    sts.roles = {"arn:aws:iam::123456789012:role/other"}
    token = write(home / "token", TOKEN_A)
    line = probe.one("web_identity", AWS_WEB_IDENTITY_TOKEN_FILE=token,
                     AWS_ROLE_ARN=ROLE)
    assert line["status"] == "E_UPSTREAM"
    assert line["code"] == "AccessDenied"
    assert "STS AssumeRoleWithWebIdentity" in line["error"]
    assert ROLE in line["error"]
    assert "403" in line["error"]
    assert len(sts.requests()) == 1  # not retried


def test_web_identity_invalid_token_is_redacted(probe, sts, home):
    sts.echo_token_in_errors = True
    bad = "eyJhbGciOiJub25lIn0.SECRETBADTOKEN.x"
    FIXED_SECRETS.append(bad)
    try:
        token = write(home / "token", bad)
        line = probe.one("web_identity", AWS_WEB_IDENTITY_TOKEN_FILE=token,
                         AWS_ROLE_ARN=ROLE)
        assert line["code"] == "InvalidIdentityToken"
        assert "[redacted]" in line["error"]
        probe.check_no_secrets()
    finally:
        FIXED_SECRETS.remove(bad)


def test_web_identity_expired_token_not_retried(probe, sts, home):
    sts.fail_next("ExpiredTokenException")
    token = write(home / "token", TOKEN_A)
    line = probe.one("web_identity", AWS_WEB_IDENTITY_TOKEN_FILE=token,
                     AWS_ROLE_ARN=ROLE)
    assert line["code"] == "ExpiredTokenException"
    assert line["status"] == "E_UPSTREAM"
    assert len(sts.requests()) == 1


def test_web_identity_retries_transient_errors(probe, sts, home):
    sts.fail_next("Throttling")
    sts.fail_next("IDPCommunicationError")
    token = write(home / "token", TOKEN_A)
    line = probe.one("web_identity", AWS_WEB_IDENTITY_TOKEN_FILE=token,
                     AWS_ROLE_ARN=ROLE, AWS_MAX_ATTEMPTS="3")
    assert line["provider"] == "web_identity"
    assert len(sts.requests()) == 3
    # With one attempt the first error is final.
    sts.reset()
    sts.fail_next("InternalFailure")
    line = probe.one("web_identity", AWS_WEB_IDENTITY_TOKEN_FILE=token,
                     AWS_ROLE_ARN=ROLE, AWS_MAX_ATTEMPTS="1")
    assert line["code"] == "InternalFailure"
    assert len(sts.requests()) == 1


def test_web_identity_token_file_problems(probe, sts, home):
    missing = str(home / "nope" / "token")
    line = probe.one("web_identity", AWS_WEB_IDENTITY_TOKEN_FILE=missing,
                     AWS_ROLE_ARN=ROLE)
    assert line["status"] == "E_IO"
    assert missing in line["error"]
    empty = write(home / "empty", "\n")
    line = probe.one("web_identity", AWS_WEB_IDENTITY_TOKEN_FILE=empty,
                     AWS_ROLE_ARN=ROLE)
    assert line["status"] == "E_IO"
    assert empty in line["error"] and "empty" in line["error"]
    assert sts.requests() == []


def test_web_identity_not_configured(probe, sts, home):
    line = probe.one("web_identity")
    assert line["status"] == "E_NO_CREDENTIALS"
    assert "AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN are not set" in \
        line["error"]
    line = probe.one("web_identity", AWS_ROLE_ARN=ROLE)
    assert line["status"] == "E_NO_CREDENTIALS"
    token = write(home / "token", TOKEN_A)
    line = probe.one("web_identity", AWS_WEB_IDENTITY_TOKEN_FILE=token)
    assert line["status"] == "E_INVALID"
    assert "AWS_ROLE_ARN" in line["error"]
    assert sts.requests() == []


# --------------------------------------------------------------------------
# profile: static keys, profile selection, section rules
# --------------------------------------------------------------------------

def creds_file(home, text):
    return write(home / ".aws" / "credentials", text)


def config_file(home, text):
    return write(home / ".aws" / "config", text)


def check_static(line, akid=FILE_AKID, secret=FILE_SECRET, token=None):
    assert line["provider"] == "profile"
    assert line["access_key_id"] == akid
    assert line["secret_sha256"] == sha(secret)
    assert line["has_token"] is bool(token)
    assert line["token_sha256"] == sha(token or "")
    assert line["expiration"] == 0


def test_profile_static_from_credentials_file(probe, home):
    creds_file(home, "[default]\naws_access_key_id = %s\n"
                     "aws_secret_access_key = %s\n"
                     "aws_session_token = %s\n"
               % (FILE_AKID, FILE_SECRET, FILE_TOKEN))
    check_static(probe.one("profile"), token=FILE_TOKEN)


def test_profile_static_from_config_file(probe, home):
    config_file(home, "[default]\nregion = us-west-2\n"
                      "aws_access_key_id = %s\naws_secret_access_key = %s\n"
                % (FILE_AKID, FILE_SECRET))
    check_static(probe.one("profile"))


def test_credentials_file_beats_config_file(probe, home):
    creds_file(home, "[default]\naws_access_key_id = %s\n"
                     "aws_secret_access_key = %s\n" % (FILE_AKID, FILE_SECRET))
    config_file(home, "[default]\naws_access_key_id = AKIDCONFIG\n"
                      "aws_secret_access_key = %s\n" % PROC_SECRET)
    check_static(probe.one("profile"))


def test_profile_selection(probe, home):
    creds_file(home, "[default]\naws_access_key_id = AKIDDEFAULT\n"
                     "aws_secret_access_key = %s\n"
                     "[dev]\naws_access_key_id = AKIDDEV\n"
                     "aws_secret_access_key = %s\n"
                     "[ops]\naws_access_key_id = AKIDOPS\n"
                     "aws_secret_access_key = %s\n"
               % (FILE_SECRET, FILE_SECRET, FILE_SECRET))
    assert probe.one("profile")["access_key_id"] == "AKIDDEFAULT"
    assert probe.one("profile", AWS_PROFILE="dev")["access_key_id"] == \
        "AKIDDEV"
    assert probe.one("profile", AWS_DEFAULT_PROFILE="ops")[
        "access_key_id"] == "AKIDOPS"
    assert probe.one("profile", AWS_PROFILE="dev",
                     AWS_DEFAULT_PROFILE="ops")["access_key_id"] == "AKIDDEV"


def test_explicit_file_paths(probe, home):
    path = write(home / "elsewhere.ini",
                 "[default]\naws_access_key_id = %s\n"
                 "aws_secret_access_key = %s\n" % (FILE_AKID, FILE_SECRET))
    creds_file(home, "[default]\naws_access_key_id = AKIDHOMEFILE\n"
                     "aws_secret_access_key = %s\n" % FILE_SECRET)
    check_static(probe.one("profile", AWS_SHARED_CREDENTIALS_FILE=path))
    cfg = write(home / "cfg.ini", "[profile x]\naws_access_key_id = AKIDCFG\n"
                                  "aws_secret_access_key = %s\n" % FILE_SECRET)
    line = probe.one("profile", AWS_CONFIG_FILE=cfg, AWS_PROFILE="x")
    assert line["access_key_id"] == "AKIDCFG"


def test_profile_section_rules(probe, home):
    # Config file: [dev] is not a profile; [profile dev] is.
    config_file(home, "[dev]\naws_access_key_id = AKIDWRONG\n"
                      "aws_secret_access_key = %s\n" % FILE_SECRET)
    line = probe.one("profile", AWS_PROFILE="dev")
    assert line["status"] == "E_NO_CREDENTIALS"
    assert "'dev'" in line["error"]
    config_file(home, "[profile dev]\naws_access_key_id = AKIDRIGHT\n"
                      "aws_secret_access_key = %s\n" % FILE_SECRET)
    assert probe.one("profile", AWS_PROFILE="dev")["access_key_id"] == \
        "AKIDRIGHT"
    # Credentials file: [profile dev] is a profile called "profile dev".
    os.unlink(str(home / ".aws" / "config"))
    creds_file(home, "[profile dev]\naws_access_key_id = AKIDWRONG\n"
                     "aws_secret_access_key = %s\n" % FILE_SECRET)
    assert probe.one("profile", AWS_PROFILE="dev")["status"] == \
        "E_NO_CREDENTIALS"


def test_profile_not_configured(probe, home):
    line = probe.one("profile")
    assert line["status"] == "E_NO_CREDENTIALS"
    assert "'default'" in line["error"]
    assert str(home / ".aws" / "credentials") in line["error"]
    assert str(home / ".aws" / "config") in line["error"]
    config_file(home, "[profile empty]\nregion = eu-west-1\n")
    line = probe.one("profile", AWS_PROFILE="empty")
    assert line["status"] == "E_NO_CREDENTIALS"
    assert "has no credentials" in line["error"]
    line = probe.one("profile", HOME=None)
    assert line["status"] == "E_NO_CREDENTIALS"


def test_profile_partial_keys_and_parse_errors(probe, home):
    creds_file(home, "[default]\naws_access_key_id = %s\n" % FILE_AKID)
    line = probe.one("profile")
    assert line["status"] == "E_INVALID"
    assert "aws_secret_access_key" in line["error"]
    path = creds_file(home, "[default]\naws_access_key_id = %s\n%s\n"
                      % (FILE_AKID, FILE_SECRET))
    line = probe.one("profile")
    assert line["status"] == "E_PARSE"
    assert line["error"].startswith(path + ":3:")


# --------------------------------------------------------------------------
# profile: credential_process
# --------------------------------------------------------------------------

def process_profile(home, body, name="proc"):
    script = write(home / ("%s.sh" % name), "#!/bin/sh\n" + body, 0o700)
    config_file(home, "[profile %s]\ncredential_process = %s --flag 'a b'\n"
                % (name, script))
    return script


def test_credential_process_success(probe, home):
    process_profile(home, 'test "$1 $2" = "--flag a b" || exit 9\n'
                          'echo "this goes nowhere %s" >&2\n'
                          "cat <<EOF\n"
                          '{"Version": 1, "AccessKeyId": "AKIDPROCESS01",\n'
                          ' "SecretAccessKey": "%s", "SessionToken": "%s",\n'
                          ' "Expiration": "2030-01-02T03:04:05Z"}\n'
                          "EOF\n" % (PROC_SECRET, PROC_SECRET, PROC_TOKEN))
    line = probe.one("profile", AWS_PROFILE="proc")
    assert line["provider"] == "credential_process"
    assert line["access_key_id"] == "AKIDPROCESS01"
    assert line["secret_sha256"] == sha(PROC_SECRET)
    assert line["token_sha256"] == sha(PROC_TOKEN)
    assert line["expiration"] == 1893553445


def test_credential_process_rejections(probe, home):
    cases = [
        ('echo \'{"Version": 2, "AccessKeyId": "A", "SecretAccessKey": '
         '"%s"}\'\n' % PROC_SECRET, "E_PARSE", "unsupported Version 2"),
        ('echo "%s" >&2\nexit 3\n' % PROC_SECRET, "E_UPSTREAM",
         "exited with status 3"),
        ('echo "not json %s"\n' % PROC_SECRET, "E_PARSE", "not valid JSON"),
        ('echo \'[1, 2]\'\n', "E_PARSE", "not a JSON object"),
        ('echo \'{"Version": 1, "AccessKeyId": "A"}\'\n', "E_PARSE",
         "lacks SecretAccessKey"),
        ('echo \'{"Version": 1, "AccessKeyId": "A", "SecretAccessKey": '
         '"%s", "Expiration": "soon"}\'\n' % PROC_SECRET, "E_PARSE",
         "Expiration is not an ISO-8601 time"),
        ('head -c 100000 /dev/zero | tr "\\0" x\n', "E_TOO_LARGE",
         "wrote more than 65536 bytes"),
    ]
    for body, status, text in cases:
        process_profile(home, body)
        line = probe.one("profile", AWS_PROFILE="proc")
        assert line.get("status") == status, (body, line)
        assert text in line["error"], (body, line)
        assert "'proc'" in line["error"]
    # The shell itself killed by a signal.
    config_file(home, "[profile proc]\ncredential_process = kill -9 $$\n")
    line = probe.one("profile", AWS_PROFILE="proc")
    assert line["status"] == "E_UPSTREAM"
    assert "killed by signal 9" in line["error"]


def test_credential_process_timeout(probe, home):
    process_profile(home, "sleep 30\necho '{}'\n")
    line = probe.one("profile", AWS_PROFILE="proc",
                     STRANDS_CREDENTIAL_PROCESS_TIMEOUT_MS="500")
    assert line["status"] == "E_TIMEOUT"
    assert "500 ms" in line["error"]
    assert probe.elapsed < 10
    # A process that closes stdout but lingers is also bounded.
    process_profile(home, "exec >&-\nsleep 30\n")
    line = probe.one("profile", AWS_PROFILE="proc",
                     STRANDS_CREDENTIAL_PROCESS_TIMEOUT_MS="500")
    assert line["status"] == "E_TIMEOUT"
    assert probe.elapsed < 10


def test_static_keys_beat_credential_process(probe, home):
    marker = home / "ran"
    creds_file(home, "[default]\naws_access_key_id = %s\n"
                     "aws_secret_access_key = %s\n"
                     "credential_process = touch %s\n"
               % (FILE_AKID, FILE_SECRET, marker))
    check_static(probe.one("profile"))
    assert not marker.exists()


# --------------------------------------------------------------------------
# profile: role_arn (STS AssumeRole)
# --------------------------------------------------------------------------

def test_assume_role_with_source_profile(probe, sts, home):
    creds_file(home, "[base]\naws_access_key_id = %s\n"
                     "aws_secret_access_key = %s\n" % (SRC_AKID, SRC_SECRET))
    config_file(home, "[profile app]\nrole_arn = %s\nsource_profile = base\n"
                      "role_session_name = app-session\n"
                      "external_id = ext:123/abc\nduration_seconds = 1800\n"
                % ROLE)
    line = probe.one("profile", AWS_PROFILE="app")
    issued = sts.issued()
    assert len(issued) == 1
    check_issued(line, issued[0], "assume_role")
    assert 1700 < issued[0]["expiration"] - time.time() < 1900
    req = sts.requests()[0]
    assert req["signature_valid"] is True
    assert req["signed_by"] == SRC_AKID
    assert "x-amz-security-token" not in req["headers"]
    assert "Credential=%s/" % SRC_AKID in req["headers"]["authorization"]
    assert "/us-east-1/sts/aws4_request" in req["headers"]["authorization"]
    assert req["params"] == {"Action": "AssumeRole", "Version": "2011-06-15",
                             "RoleArn": ROLE,
                             "RoleSessionName": "app-session",
                             "DurationSeconds": "1800",
                             "ExternalId": "ext:123/abc"}


def test_assume_role_wrong_source_key_fails(probe, sts, home):
    creds_file(home, "[base]\naws_access_key_id = %s\n"
                     "aws_secret_access_key = wrong%s\n"
               % (SRC_AKID, SRC_SECRET))
    config_file(home, "[default]\nrole_arn = %s\nsource_profile = base\n"
                % ROLE)
    line = probe.one("profile")
    assert line["status"] == "E_UPSTREAM"
    assert line["code"] == "SignatureDoesNotMatch"
    assert "STS AssumeRole for role %s" % ROLE in line["error"]


def test_assume_role_chain_and_self_reference(probe, sts, home):
    # app -> middle (role) -> base (keys); each hop signed by the last.
    role2 = "arn:aws:iam::123456789012:role/middle"
    creds_file(home, "[base]\naws_access_key_id = %s\n"
                     "aws_secret_access_key = %s\n" % (SRC_AKID, SRC_SECRET))
    config_file(home, "[profile middle]\nrole_arn = %s\nsource_profile = base"
                      "\n[profile app]\nrole_arn = %s\nsource_profile = middle"
                      "\n" % (role2, ROLE))
    line = probe.one("profile", AWS_PROFILE="app")
    issued = sts.issued()
    assert [i["role_arn"] for i in issued] == [role2, ROLE]
    check_issued(line, issued[1], "assume_role")
    reqs = sts.requests()
    assert reqs[0]["signed_by"] == SRC_AKID
    assert reqs[1]["signed_by"] == issued[0]["AccessKeyId"]
    assert reqs[1]["headers"]["x-amz-security-token"] == \
        issued[0]["SessionToken"]
    # A profile naming itself uses its own static keys.
    sts.reset()
    creds_file(home, "[self]\naws_access_key_id = %s\n"
                     "aws_secret_access_key = %s\nrole_arn = %s\n"
                     "source_profile = self\n" % (SRC_AKID, SRC_SECRET, ROLE))
    line = probe.one("profile", AWS_PROFILE="self")
    assert line["provider"] == "assume_role"
    assert sts.requests()[0]["signed_by"] == SRC_AKID


def test_assume_role_credential_source_environment(probe, sts, home):
    config_file(home, "[default]\nrole_arn = %s\n"
                      "credential_source = Environment\n" % ROLE)
    line = probe.one("profile", AWS_ACCESS_KEY_ID=ENV_AKID,
                     AWS_SECRET_ACCESS_KEY=ENV_SECRET,
                     AWS_SESSION_TOKEN=ENV_TOKEN)
    check_issued(line, sts.issued()[0], "assume_role")
    req = sts.requests()[0]
    assert req["signed_by"] == ENV_AKID
    assert req["headers"]["x-amz-security-token"] == ENV_TOKEN
    # Without the variables: a clear error, no STS call.
    sts.reset()
    line = probe.one("profile")
    assert line["status"] == "E_INVALID"
    assert "credential_source Environment has no credentials" in \
        line["error"]
    assert sts.requests() == []


def test_assume_role_configuration_errors(probe, sts, home):
    cases = [
        ("[profile a]\nrole_arn = %s\nsource_profile = b\n"
         "[profile b]\nrole_arn = %s\nsource_profile = a\n" % (ROLE, ROLE),
         "E_INVALID", "cycle"),
        ("[profile a]\nrole_arn = %s\nsource_profile = a\n" % ROLE,
         "E_INVALID", "cycle"),
        ("[profile a]\nrole_arn = %s\nsource_profile = ghost\n" % ROLE,
         "E_INVALID", "'ghost' of profile 'a' does not exist"),
        ("[profile a]\nrole_arn = %s\nsource_profile = b\n"
         "credential_source = Environment\n[profile b]\nregion = x\n" % ROLE,
         "E_INVALID", "both source_profile and credential_source"),
        ("[profile a]\nrole_arn = %s\n" % ROLE, "E_INVALID",
         "neither source_profile nor credential_source"),
        ("[profile a]\nrole_arn = %s\ncredential_source = Bogus\n" % ROLE,
         "E_INVALID", "credential_source 'Bogus'"),
        ("[profile a]\nrole_arn = %s\nsource_profile = b\n"
         "[profile b]\nregion = x\n" % ROLE,
         "E_INVALID", "source_profile 'b' of profile 'a' has no credentials"),
        ("[profile a]\nrole_arn = %s\nsource_profile = b\n"
         "duration_seconds = soon\n[profile b]\naws_access_key_id = A\n"
         "aws_secret_access_key = B\n" % ROLE,
         "E_INVALID", "duration_seconds"),
        ("[profile a]\nrole_arn = %s\nsource_profile = b\nmfa_serial = x\n"
         "[profile b]\naws_access_key_id = A\naws_secret_access_key = B\n"
         % ROLE, "E_INVALID", "mfa_serial"),
    ]
    for text, status, message in cases:
        config_file(home, text)
        line = probe.one("profile", AWS_PROFILE="a")
        assert line.get("status") == status, (text, line)
        assert message in line["error"], (text, line)
    assert sts.requests() == []


def test_assume_role_sts_denied(probe, sts, home):
    sts.roles = set()
    creds_file(home, "[base]\naws_access_key_id = %s\n"
                     "aws_secret_access_key = %s\n" % (SRC_AKID, SRC_SECRET))
    config_file(home, "[default]\nrole_arn = %s\nsource_profile = base\n"
                % ROLE)
    line = probe.one("profile")
    assert line["status"] == "E_UPSTREAM"
    assert line["code"] == "AccessDenied"
    assert ROLE in line["error"]


def test_profile_web_identity(probe, sts, home):
    token = write(home / "token", TOKEN_B)
    config_file(home, "[profile wi]\nrole_arn = %s\n"
                      "web_identity_token_file = %s\n"
                      "role_session_name = wi-session\n" % (ROLE, token))
    line = probe.one("profile", AWS_PROFILE="wi")
    check_issued(line, sts.issued()[0], "web_identity")
    req = sts.requests()[0]
    assert req["signed"] is False
    assert req["params"]["WebIdentityToken"] == TOKEN_B
    assert req["params"]["RoleSessionName"] == "wi-session"


def test_files_reread_each_resolve(probe, sts, home):
    # The second resolve in one process sees the file the first one's STS
    # call rewrote.
    creds_file(home, "[base]\naws_access_key_id = %s\n"
                     "aws_secret_access_key = %s\n" % (SRC_AKID, SRC_SECRET))
    config = config_file(home, "[default]\nrole_arn = %s\n"
                               "source_profile = base\n" % ROLE)

    def switch(entry):
        write(config, "[default]\naws_access_key_id = %s\n"
                      "aws_secret_access_key = %s\n" % (FILE_AKID,
                                                       FILE_SECRET))

    sts.on_request = switch
    rc, lines = probe.run("profile", count=2)
    assert rc == 0
    assert lines[0]["provider"] == "assume_role"
    check_static(lines[1])

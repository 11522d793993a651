"""Credentials end to end through the real binary: the Secrets Manager
bootstrap (bootstrap keys sign GetSecretValue, the secret's keys sign
Bedrock; both signatures verified by botocore in the fakes), rotation
healed by one retry, periodic re-reads, start-up failures, Bedrock API
keys, chain precedence (through build/cred_probe), and secrets never
appearing in any output."""

import json
import os
import subprocess
import tempfile
import time

import pytest

import fake_aws
from conftest import (ACCESS_KEY, SECRET_KEY, SESSION_TOKEN, RUNTIME,
                      Runtime)

SECRET_NAME = "prod/bedrock-keys"
BEDROCK_AKID = "AKIDFROMSECRET000001"
BEDROCK_SECRET = "bedrock/Secret+Key/FROMSECRETSMANAGER0001"
BEDROCK_TOKEN = "IQoJb3JpZ2luX2VjEFROMSECRETTOKEN//0001=="
ROTATED_AKID = "AKIDROTATED000000002"
ROTATED_SECRET = "rotated/Secret+Key/FROMSECRETSMANAGER0002"
BEARER = "bedrock-api-key-ABSKQmVkcm9ja0FQSUtleS1SECRETBEARER"
BUILD_DIR = os.environ.get("STRANDS_BUILD_DIR", os.path.dirname(RUNTIME))


def secret_json(akid, secret, token=None):
    d = {"AWS_ACCESS_KEY_ID": akid, "AWS_SECRET_ACCESS_KEY": secret}
    if token:
        d["AWS_SESSION_TOKEN"] = token
    return json.dumps(d)


@pytest.fixture
def sm():
    f = fake_aws.start_fake_secrets_manager(
        credentials={ACCESS_KEY: (SECRET_KEY, SESSION_TOKEN)},
        secrets={SECRET_NAME: secret_json(BEDROCK_AKID, BEDROCK_SECRET,
                                          BEDROCK_TOKEN)})
    yield f
    f.stop()


@pytest.fixture
def bedrock_for_secret():
    f = fake_aws.start_fake_bedrock(
        credentials={BEDROCK_AKID: (BEDROCK_SECRET, BEDROCK_TOKEN)})
    yield f
    f.stop()


def sm_env(sm, **extra):
    env = {"BEDROCK_CREDENTIALS_SECRET": SECRET_NAME,
           "AWS_ENDPOINT_URL_SECRETS_MANAGER": sm.url}
    env.update(extra)
    return env


def converse(fake):
    return [r for r in fake.requests() if r.get("operation") == "converse"]


def akid_of(request):
    auth = request["headers"]["authorization"]
    return auth.split("Credential=")[1].split("/")[0]


def test_secret_keys_sign_bedrock_bootstrap_signs_secret(sm,
                                                         bedrock_for_secret):
    rt = Runtime(sm_env(sm), bedrock_for_secret)
    try:
        status, _, doc = rt.invoke({"prompt": "hi"})
        assert status == 200, doc
        sm_reqs = sm.requests()
        assert len(sm_reqs) == 1
        assert sm_reqs[0]["signature_valid"] is True
        assert akid_of(sm_reqs[0]) == ACCESS_KEY
        assert sm_reqs[0]["headers"]["x-amz-target"] == \
            "secretsmanager.GetSecretValue"
        assert sm_reqs[0]["body"] == {"SecretId": SECRET_NAME}
        br = converse(bedrock_for_secret)
        assert len(br) == 1 and br[0]["signature_valid"] is True
        assert akid_of(br[0]) == BEDROCK_AKID
        assert br[0]["headers"]["x-amz-security-token"] == BEDROCK_TOKEN
    finally:
        assert rt.stop() == 0


def test_rotated_secret_heals_with_one_retry(sm, bedrock_for_secret):
    rt = Runtime(sm_env(sm), bedrock_for_secret)
    try:
        assert rt.invoke({"prompt": "before"})[0] == 200
        # Rotate: the secret holds new keys and Bedrock accepts only those.
        sm.set_secret(SECRET_NAME, secret_json(ROTATED_AKID, ROTATED_SECRET))
        bedrock_for_secret.credentials = {ROTATED_AKID: (ROTATED_SECRET, None)}
        status, _, doc = rt.invoke({"prompt": "after"})
        assert status == 200, doc
        br = converse(bedrock_for_secret)
        assert [r["status"] for r in br] == [200, 403, 200]
        assert br[1]["auth_error"] == "UnrecognizedClientException"
        assert akid_of(br[2]) == ROTATED_AKID
        assert len(sm.requests()) == 2
    finally:
        assert rt.stop() == 0


def test_secret_is_reread_after_the_refresh_interval(sm, bedrock_for_secret):
    rt = Runtime(sm_env(sm, BEDROCK_CREDENTIALS_REFRESH_SECONDS="1"),
                 bedrock_for_secret)
    try:
        assert rt.invoke({"prompt": "one"})[0] == 200
        assert len(sm.requests()) == 1
        time.sleep(2.1)
        assert rt.invoke({"prompt": "two"})[0] == 200
        assert len(sm.requests()) == 2
    finally:
        assert rt.stop() == 0


@pytest.mark.parametrize("secret,expect", [
    (None, "ResourceNotFoundException"),
    ("not json at all", "is not a JSON object"),
    (json.dumps({"AWS_ACCESS_KEY_ID": "AKIDONLY"}),
     "lacks a string AWS_SECRET_ACCESS_KEY"),
    ({"error": "AccessDeniedException", "message": "not allowed"},
     "AccessDeniedException"),
])
def test_bad_secret_fails_fast_at_startup(secret, expect):
    sm = fake_aws.start_fake_secrets_manager(
        credentials={ACCESS_KEY: (SECRET_KEY, SESSION_TOKEN)},
        secrets={} if secret is None else {SECRET_NAME: secret})
    try:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "AWS_ACCESS_KEY_ID": ACCESS_KEY,
               "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
               "AWS_SESSION_TOKEN": SESSION_TOKEN,
               "AWS_EC2_METADATA_DISABLED": "true",
               "HOME": tempfile.gettempdir() + "/strands-no-home",
               "BIND_ADDRESS": "127.0.0.1", "PORT": "1",
               "BEDROCK_CREDENTIALS_SECRET": SECRET_NAME,
               "AWS_ENDPOINT_URL_SECRETS_MANAGER": sm.url}
        t0 = time.monotonic()
        p = subprocess.run([RUNTIME], env=env, capture_output=True, text=True,
                           timeout=30)
        assert p.returncode == 1, p
        assert time.monotonic() - t0 < 10
        assert "BEDROCK_CREDENTIALS_SECRET" in p.stderr
        assert SECRET_NAME in p.stderr
        assert expect in p.stderr, p.stderr
        for s in (SECRET_KEY, SESSION_TOKEN, "AKIDONLY"):
            assert s not in p.stderr + p.stdout
    finally:
        sm.stop()


def test_bearer_token_replaces_sigv4():
    fake = fake_aws.start_fake_bedrock(bearer_keys=[BEARER])
    rt = Runtime({"AWS_BEARER_TOKEN_BEDROCK": BEARER,
                  "AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None,
                  "AWS_SESSION_TOKEN": None, "LOG_LEVEL": "debug"}, fake)
    try:
        status, _, doc = rt.invoke({"prompt": "hi"})
        assert status == 200, doc
        r = converse(fake)[0]
        assert r["headers"]["authorization"] == "Bearer " + BEARER
        assert "x-amz-date" not in r["headers"]
        assert r["signature_valid"] is True
    finally:
        assert rt.stop() == 0
        fake.stop()
    assert BEARER not in rt.output()


def test_no_secret_in_any_output(sm, bedrock_for_secret):
    rt = Runtime(sm_env(sm, LOG_LEVEL="debug"), bedrock_for_secret)
    try:
        assert rt.invoke({"prompt": "hi"})[0] == 200
        sm.set_secret(SECRET_NAME, secret_json(ROTATED_AKID, ROTATED_SECRET))
        bedrock_for_secret.credentials = {ROTATED_AKID: (ROTATED_SECRET, None)}
        assert rt.invoke({"prompt": "again"})[0] == 200
    finally:
        assert rt.stop() == 0
    out = rt.output()
    for s in (SECRET_KEY, SESSION_TOKEN, BEDROCK_SECRET, BEDROCK_TOKEN,
              ROTATED_SECRET):
        assert s not in out, s


# -- precedence of the default chain (build/cred_probe) ------------------------

def probe(mode, env, count=1):
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "AWS_EC2_METADATA_DISABLED": "true"}
    base.update(env)
    p = subprocess.run([os.path.join(BUILD_DIR, "cred_probe"), mode,
                        str(count)], env=base, capture_output=True, text=True,
                       timeout=30)
    return [json.loads(l) for l in p.stdout.splitlines()], p


def test_environment_beats_shared_files(tmp_path):
    aws = tmp_path / ".aws"
    aws.mkdir()
    (aws / "credentials").write_text(
        "[default]\naws_access_key_id = AKIDFROMFILE\n"
        "aws_secret_access_key = file-secret\n")
    out, p = probe("chain", {"HOME": str(tmp_path),
                             "AWS_ACCESS_KEY_ID": "AKIDFROMENV",
                             "AWS_SECRET_ACCESS_KEY": "env-secret"})
    assert out and out[0].get("access_key_id") == "AKIDFROMENV", p
    assert out[0]["provider"] == "environment"
    out, p = probe("chain", {"HOME": str(tmp_path)})
    assert out and out[0].get("access_key_id") == "AKIDFROMFILE", p
    assert out[0]["provider"] == "profile"
    assert "file-secret" not in p.stdout + p.stderr


def test_nothing_configured_lists_every_provider(tmp_path):
    out, p = probe("chain", {"HOME": str(tmp_path)})
    assert p.returncode == 1
    msg = out[0]["error"]
    assert out[0]["status"] == "E_NO_CREDENTIALS"
    for name in ("environment", "web_identity", "profile", "container",
                 "imds"):
        assert name + ":" in msg, msg


def test_chain_reads_secret_with_bootstrap_credentials(sm):
    out, p = probe("bedrock", {"HOME": "/nonexistent",
                               "AWS_ACCESS_KEY_ID": ACCESS_KEY,
                               "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                               "AWS_SESSION_TOKEN": SESSION_TOKEN,
                               "BEDROCK_CREDENTIALS_SECRET": SECRET_NAME,
                               "AWS_ENDPOINT_URL_SECRETS_MANAGER": sm.url},
                   count=3)
    assert [o.get("access_key_id") for o in out] == [BEDROCK_AKID] * 3, p
    assert out[0]["provider"] == "secrets_manager"
    assert len(sm.requests()) == 1      # cached between resolves


def test_profile_beats_container_beats_imds(tmp_path):
    import fake_metadata as fm
    cont = fm.FakeContainerCredentials(token="container-auth-token").start()
    imds = fm.FakeIMDS().start()
    try:
        aws = tmp_path / ".aws"
        aws.mkdir()
        (aws / "credentials").write_text(
            "[default]\naws_access_key_id = AKIDPROFILE\n"
            "aws_secret_access_key = profile-secret\n")
        common = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": cont.full_uri,
                  "AWS_CONTAINER_AUTHORIZATION_TOKEN": "container-auth-token",
                  "AWS_EC2_METADATA_DISABLED": "false",
                  "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.url}
        out, p = probe("chain", dict(common, HOME=str(tmp_path)))
        assert out[0]["provider"] == "profile", p
        assert cont.requests == [] and imds.requests == []
        out, p = probe("chain", dict(common, HOME="/nonexistent"))
        assert out[0]["provider"] == "container", p
        assert out[0]["access_key_id"] == cont.credentials["AccessKeyId"]
        assert imds.requests == []
        del common["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
        out, p = probe("chain", dict(common, HOME="/nonexistent"))
        assert out[0]["provider"] == "imds", p
        assert out[0]["has_token"] is True
        for s in ("profile-secret", "container-auth-token"):
            assert s not in p.stdout + p.stderr
    finally:
        cont.stop()
        imds.stop()

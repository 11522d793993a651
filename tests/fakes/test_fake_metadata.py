"""Fidelity tests of tests/fakes/fake_metadata.py against independent
oracles: botocore's own metadata fetchers (InstanceMetadataFetcher with the
base URL pointed at FakeIMDS; ContainerMetadataFetcher / ContainerProvider
pointed at FakeContainerCredentials' full URI on loopback) and, when node
and tests/fakes/js/node_modules are present, the AWS JS SDK providers
(@aws-sdk/credential-provider-http fromHttp, @smithy/credential-provider-imds
fromInstanceMetadata). If the SDKs get the expected credentials from the
fakes, the fakes speak the services' wire format.
Run: /usr/bin/python3 -m pytest tests/fakes/test_fake_metadata.py
"""

import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from botocore.credentials import ContainerProvider
from botocore.exceptions import MetadataRetrievalError
from botocore.utils import ContainerMetadataFetcher, InstanceMetadataFetcher

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fake_metadata as fm  # noqa: E402

JS_DIR = os.path.join(HERE, "js")
AUTH = "Bearer fake-container-auth-token-0123456789"


def no_sleep(_seconds):
    pass


def imds_fetcher(fake):
    return InstanceMetadataFetcher(timeout=1, num_attempts=1,
                                   base_url=fake.url, env={})


def assert_botocore_creds(got, doc):
    assert got["access_key"] == doc["AccessKeyId"]
    assert got["secret_key"] == doc["SecretAccessKey"]
    assert got["token"] == doc["Token"]
    assert got["expiry_time"] == doc["Expiration"]


# ---- IMDS ---------------------------------------------------------------

def test_botocore_imdsv2_against_fake():
    with fm.FakeIMDS(role="my-role") as fake:
        got = imds_fetcher(fake).retrieve_iam_role_credentials()
        assert got["role_name"] == "my-role"
        assert_botocore_creds(got, fake.credentials)
        reqs = fake.requests
    assert [(r.method, r.path) for r in reqs] == [
        ("PUT", fm.TOKEN_PATH), ("GET", fm.ROLE_PATH),
        ("GET", fm.ROLE_PATH + "my-role")]
    assert reqs[0].headers[fm.TTL_HEADER] == "21600"
    assert fm.TOKEN_HEADER not in reqs[0].headers
    tok = fake.issued_tokens[0]
    assert [r.headers.get(fm.TOKEN_HEADER) for r in reqs[1:]] == [tok, tok]


@pytest.mark.parametrize("status", [403, 404, 405])
def test_botocore_falls_back_to_imdsv1(status):
    with fm.FakeIMDS(token_status=status, v1_allowed=True) as fake:
        got = imds_fetcher(fake).retrieve_iam_role_credentials()
        assert_botocore_creds(got, fake.credentials)
        reqs = fake.requests
    assert [r.method for r in reqs] == ["PUT", "GET", "GET"]
    assert all(fm.TOKEN_HEADER not in r.headers for r in reqs)


def test_fake_imds_requires_token_unless_v1_allowed():
    # The same fallback against a v2-only fake: the GETs are refused.
    with fm.FakeIMDS(token_status=403) as fake:
        assert imds_fetcher(fake).retrieve_iam_role_credentials() == {}
        assert [r.method for r in fake.requests] == ["PUT", "GET"]
    with fm.FakeIMDS() as fake:
        req = urllib.request.Request(fake.url + fm.TOKEN_PATH, method="PUT")
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=5)
        assert e.value.code == 400  # no TTL header
        req = urllib.request.Request(fake.url + fm.ROLE_PATH,
                                     headers={fm.TOKEN_HEADER: "forged"})
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=5)
        assert e.value.code == 401


def test_botocore_sees_non_success_code_as_no_credentials():
    with fm.FakeIMDS(code="AssumeRoleUnauthorizedAccess") as fake:
        assert imds_fetcher(fake).retrieve_iam_role_credentials() == {}


def test_botocore_no_role():
    with fm.FakeIMDS(role=None) as fake:
        assert imds_fetcher(fake).retrieve_iam_role_credentials() == {}


def test_fake_imds_hang_is_bounded():
    with fm.FakeIMDS(hang="token", hang_s=0.5) as fake:
        # botocore treats a read timeout on the token PUT as "no IMDSv2"
        # and goes on with v1 GETs, which the v2-only fake refuses.
        assert imds_fetcher(fake).retrieve_iam_role_credentials() == {}
        assert fake.requests[0].method == "PUT"


# ---- container ----------------------------------------------------------

def test_botocore_container_fetcher_against_fake():
    with fm.FakeContainerCredentials(token=AUTH, path="/v2/creds") as fake:
        fetcher = ContainerMetadataFetcher(sleep=no_sleep)
        got = fetcher.retrieve_full_uri(fake.full_uri,
                                        headers={"Authorization": AUTH})
        assert got == fake.credentials
        (req,) = fake.requests
    assert req.method == "GET" and req.path == "/v2/creds"
    assert req.headers["authorization"] == AUTH
    assert req.headers["accept"] == "application/json"


def test_botocore_container_provider_against_fake():
    with fm.FakeContainerCredentials(token=AUTH) as fake:
        env = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": fake.full_uri,
               "AWS_CONTAINER_AUTHORIZATION_TOKEN": AUTH}
        provider = ContainerProvider(
            environ=env, fetcher=ContainerMetadataFetcher(sleep=no_sleep))
        creds = provider.load().get_frozen_credentials()
    doc = fake.credentials
    assert (creds.access_key, creds.secret_key, creds.token) == (
        doc["AccessKeyId"], doc["SecretAccessKey"], doc["Token"])


@pytest.mark.parametrize("kw,attempts", [
    ({"token": "Bearer other"}, 3),       # wrong token: 401
    ({"mode": "error", "status": 500}, 3),
    ({"mode": "bad_json"}, 3),
])
def test_botocore_container_errors(kw, attempts):
    with fm.FakeContainerCredentials(**kw) as fake:
        fetcher = ContainerMetadataFetcher(sleep=no_sleep)
        with pytest.raises(MetadataRetrievalError):
            fetcher.retrieve_full_uri(fake.full_uri,
                                      headers={"Authorization": AUTH})
        assert len(fake.requests) == attempts  # botocore retries all


def test_fake_container_account_id():
    with fm.FakeContainerCredentials(account_id="123456789012") as fake:
        with urllib.request.urlopen(fake.full_uri, timeout=5) as r:
            doc = json.loads(r.read())
    assert doc["AccountId"] == "123456789012"
    assert doc["AccessKeyId"] == fake.credentials["AccessKeyId"]


# ---- AWS JS SDK (second oracle; also covers the token file) -------------

JS_SCRIPT = r"""
import { fromHttp } from "@aws-sdk/credential-provider-http";
import { fromInstanceMetadata } from "@smithy/credential-provider-imds";
const [kind, arg1, arg2] = process.argv.slice(1);
let provider;
if (kind === "http") {
    provider = fromHttp({ awsContainerCredentialsFullUri: arg1,
                          awsContainerAuthorizationTokenFile: arg2 });
} else {
    provider = fromInstanceMetadata({ timeout: 1000, maxRetries: 0 });
}
try {
    const c = await provider();
    console.log(JSON.stringify({ accessKeyId: c.accessKeyId,
        secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken,
        expiration: c.expiration.toISOString() }));
} catch (e) {
    console.log(JSON.stringify({ error: String(e) }));
}
"""


def run_js(args, env=None):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node not installed")
    if not os.path.isdir(os.path.join(JS_DIR, "node_modules", "@aws-sdk",
                                      "credential-provider-http")):
        pytest.skip("tests/fakes/js/node_modules not installed (npm ci)")
    full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    full_env.update(env or {})
    out = subprocess.run([node, "--input-type=module", "-e", JS_SCRIPT,
                          "--", *args], cwd=JS_DIR, env=full_env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def js_expiration(doc):
    return doc["Expiration"].replace("Z", ".000Z")


def test_js_from_http_with_token_file(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(AUTH)
    with fm.FakeContainerCredentials(token=AUTH) as fake:
        got = run_js(["http", fake.full_uri, str(token_file)])
        doc = fake.credentials
        assert got == {"accessKeyId": doc["AccessKeyId"],
                       "secretAccessKey": doc["SecretAccessKey"],
                       "sessionToken": doc["Token"],
                       "expiration": js_expiration(doc)}
        assert fake.requests[0].headers["authorization"] == AUTH


def test_js_from_instance_metadata():
    with fm.FakeIMDS() as fake:
        got = run_js(["imds"],
                     {"AWS_EC2_METADATA_SERVICE_ENDPOINT": fake.url})
        doc = fake.credentials
        assert got == {"accessKeyId": doc["AccessKeyId"],
                       "secretAccessKey": doc["SecretAccessKey"],
                       "sessionToken": doc["Token"],
                       "expiration": js_expiration(doc)}
        reqs = fake.requests
    assert [(r.method, r.path) for r in reqs] == [
        ("PUT", fm.TOKEN_PATH), ("GET", fm.ROLE_PATH),
        ("GET", fm.ROLE_PATH + fake.role)]
    assert reqs[0].headers[fm.TTL_HEADER] == "21600"

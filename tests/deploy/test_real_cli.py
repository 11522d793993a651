"""The deploy scripts driving the real AWS CLI (v1 or v2, when one with the
bedrock-agentcore services is on PATH; skipped otherwise) against a loopback
stand-in of the AWS endpoints (aws_stub.py) through --endpoint-url. Checks
that the CLI accepts every command line the scripts build and that they
become the intended HTTP requests: CreateAgentRuntime / UpdateAgentRuntime
bodies, InvokeAgentRuntime headers and payload, ECR calls and the token
reaching `docker login` on stdin."""
import json
import os
import shutil
import subprocess

import pytest

from aws_stub import ACCOUNT, TOKEN, Stub, runtime_arn
from fakes import read_log, write_fakes

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEPLOY = os.path.join(ROOT, "scripts", "deploy")
REGION = "us-east-1"
IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/strands-runtime:v1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/strands-agentcore-runtime"
AWS_ENV = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
           "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
           "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/dev/null",
           "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_PAGER": ""}


def real_aws():
    path = shutil.which("aws")
    if path is None:
        return None
    env = dict(os.environ, **AWS_ENV)
    r = subprocess.run([path, "bedrock-agentcore-control", "help"], capture_output=True,
                       text=True, env=env, timeout=60, stdin=subprocess.DEVNULL)
    return path if r.returncode == 0 else None


@pytest.fixture(scope="module")
def aws_path():
    path = real_aws()
    if path is None:
        pytest.skip("no AWS CLI with bedrock-agentcore-control on PATH")
    return path


@pytest.fixture
def stub():
    s = Stub(REGION)
    yield s
    s.close()


@pytest.fixture
def run(tmp_path, aws_path, stub):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    write_fakes(str(bindir))           # docker (the fake aws is replaced below)
    wrapper = bindir / "aws"
    wrapper.write_text(f'#!/bin/sh\nexec "{aws_path}" --endpoint-url {stub.url} "$@"\n')
    wrapper.chmod(0o755)
    log = str(tmp_path / "calls.jsonl")

    def go(script, *args):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_ENV, PATH=f"{bindir}:{os.environ['PATH']}", FAKE_LOG=log,
                   TMPDIR=str(tmp_path))
        r = subprocess.run([os.path.join(DEPLOY, script), *args], capture_output=True,
                           text=True, env=env, timeout=300, stdin=subprocess.DEVNULL)
        r.docker = read_log(log)
        return r
    return go


def test_deploy_create_becomes_a_create_agent_runtime_request(run, stub):
    r = run("deploy-runtime.sh", "--region", REGION, "--name", "new_rt", "--image", IMAGE,
            "--role-arn", ROLE, "--env", "LOG_LEVEL=debug", "--env",
            'SYSTEM_PROMPT=It\'s "quoted"\n\\ and ü', "--idle-timeout", "600",
            "--poll-interval", "1")
    assert r.returncode == 0, r.stderr
    assert r.stdout == runtime_arn(REGION, "new_rt-Zz9Yy8Xx7W") + "\n"
    reqs = [(q["method"], q["path"]) for q in stub.requests]
    assert reqs == [("POST", "/runtimes/"), ("PUT", "/runtimes/"),
                    ("GET", "/runtimes/new_rt-Zz9Yy8Xx7W/")]
    body = json.loads(stub.requests[1]["body"])
    body.pop("clientToken", None)      # the CLI adds an idempotency token
    assert body == {
        "agentRuntimeName": "new_rt",
        "agentRuntimeArtifact": {"containerConfiguration": {"containerUri": IMAGE}},
        "roleArn": ROLE,
        "networkConfiguration": {"networkMode": "PUBLIC"},
        "environmentVariables": {"LOG_LEVEL": "debug",
                                 "SYSTEM_PROMPT": 'It\'s "quoted"\n\\ and ü'},
        "lifecycleConfiguration": {"idleRuntimeSessionTimeout": 600},
    }


def test_deploy_update_becomes_an_update_agent_runtime_request(run, stub):
    r = run("deploy-runtime.sh", "--region", REGION, "--name", "existing_rt", "--image",
            IMAGE, "--role-arn", ROLE, "--network-mode", "VPC", "--subnet",
            "subnet-12345678,subnet-abcdefgh", "--security-group", "sg-12345678",
            "--poll-interval", "1")
    assert r.returncode == 0, r.stderr
    assert r.stdout == runtime_arn(REGION, "existing_rt-AbCdE12345") + "\n"
    assert [(q["method"], q["path"]) for q in stub.requests] == [
        ("POST", "/runtimes/"), ("PUT", "/runtimes/existing_rt-AbCdE12345/"),
        ("GET", "/runtimes/existing_rt-AbCdE12345/")]
    body = json.loads(stub.requests[1]["body"])
    assert body["networkConfiguration"] == {
        "networkMode": "VPC", "networkModeConfig": {
            "securityGroups": ["sg-12345678"],
            "subnets": ["subnet-12345678", "subnet-abcdefgh"]}}
    assert "agentRuntimeName" not in body


def test_invoke_sends_headers_and_payload_and_prints_the_body(run, stub):
    arn = runtime_arn(REGION, "existing_rt-AbCdE12345")
    sid = "real-cli-session-0123456789abcdef0123"
    r = run("invoke.sh", "--arn", arn, "--prompt", 'What is "2+3*4"?', "--session-id", sid)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"echo": {"prompt": 'What is "2+3*4"?'}}
    assert '"statusCode": 200' in r.stderr
    (req,) = stub.requests
    assert req["method"] == "POST"
    assert req["path"] == f"/runtimes/{arn}/invocations"
    assert req["headers"]["x-amzn-bedrock-agentcore-runtime-session-id"] == sid
    assert req["headers"]["content-type"] == "application/json"
    assert req["headers"]["accept"] == "application/json"
    assert json.loads(req["body"]) == {"prompt": 'What is "2+3*4"?'}

    stub.requests.clear()
    r = run("invoke.sh", "--arn", arn, "--prompt", "hi", "--stream", "--session-id", sid)
    assert r.returncode == 0, r.stderr
    assert stub.requests[0]["headers"]["accept"] == "text/event-stream"
    assert json.loads(stub.requests[0]["body"]) == {"prompt": "hi", "stream": True}


def test_build_push_talks_to_ecr_and_logs_docker_in_on_stdin(run, stub):
    r = run("build-push.sh", "--region", REGION, "--tag", "v1")
    assert r.returncode == 0, r.stderr
    assert r.stdout == IMAGE + "\n"
    targets = [q["headers"].get("x-amz-target", "").split(".")[-1] or
               ("GetCallerIdentity" if "GetCallerIdentity" in q["body"] else "?")
               for q in stub.requests]
    assert targets == ["GetCallerIdentity", "DescribeRepositories", "CreateRepository",
                       "GetAuthorizationToken"]
    assert json.loads(stub.requests[2]["body"]) == {
        "repositoryName": "strands-runtime",
        "imageScanningConfiguration": {"scanOnPush": True}}
    login, build = r.docker
    assert login["argv"] == ["login", "--username", "AWS", "--password-stdin",
                             f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"]
    assert login["stdin"].strip() == TOKEN
    assert build["argv"][:2] == ["buildx", "build"]
    assert TOKEN not in r.stdout + r.stderr

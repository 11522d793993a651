"""Tests of scripts/deploy/*.sh (build-push, deploy-runtime, invoke, logs):
--help, argument validation (exit 2 and a message, nothing run), --dry-run
(the exact command lines), and real runs against fake `aws` and `docker`
first on PATH that record their argument vectors (tests/deploy/fakes.py):
create vs update, environment variables as JSON, masking of secrets, the
ECR token kept off command lines. Plus shellcheck on every script."""
import json
import os
import re
import shlex
import shutil
import subprocess

import pytest

from fakes import read_log, write_fakes

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEPLOY = os.path.join(ROOT, "scripts", "deploy")
SCRIPTS = ["build-push.sh", "deploy-runtime.sh", "invoke.sh", "logs.sh"]

REGION = "us-east-1"
ACCOUNT = "123456789012"
IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/strands-runtime:v1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/strands-agentcore-runtime"
RID_NEW = "strands_c-Zz9Yy8Xx7W"
RID_OLD = "strands_c-AbCdE12345"
ARN_NEW = f"arn:aws:bedrock-agentcore:{REGION}:{ACCOUNT}:runtime/{RID_NEW}"
ARN_OLD = f"arn:aws:bedrock-agentcore:{REGION}:{ACCOUNT}:runtime/{RID_OLD}"
SESSION = "test-session-0123456789abcdef0123456789"   # 39 characters
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "ECR-TOKEN-eyJwYXlsb2FkIjoi-must-not-leak"
CTL = ["aws", "bedrock-agentcore-control"]


class Env:
    """A temp dir with the fakes first on PATH and their log/answers."""

    def __init__(self, tmp_path):
        self.dir = tmp_path
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        write_fakes(str(self.bin))
        self.log = str(tmp_path / "calls.jsonl")
        self.responses = str(tmp_path / "responses.json")
        self.answers({})

    def answers(self, mapping):
        with open(self.responses, "w") as f:
            json.dump(mapping, f)

    def run(self, script, *args, env=None, cwd=None):
        e = {k: v for k, v in os.environ.items()
             if not k.startswith("AWS_")}
        e.update(PATH=f"{self.bin}:{os.environ['PATH']}", FAKE_LOG=self.log,
                 FAKE_RESPONSES=self.responses, TMPDIR=str(self.dir))
        e.update(env or {})
        return subprocess.run([os.path.join(DEPLOY, script), *args],
                              capture_output=True, text=True, env=e,
                              cwd=cwd or str(self.dir), timeout=60)

    def calls(self):
        return read_log(self.log)

    def argvs(self):
        return [[c["prog"], *c["argv"]] for c in self.calls()]


@pytest.fixture
def env(tmp_path):
    return Env(tmp_path)


def lines(text):
    return text.rstrip("\n").split("\n")


def deploy_args(*extra, name="strands_c"):
    return ["--region", REGION, "--name", name, "--image", IMAGE,
            "--role-arn", ROLE, "--poll-interval", "1", *extra]


def arg_after(argv, flag):
    return argv[argv.index(flag) + 1]


# ---- --help --------------------------------------------------------------

@pytest.mark.parametrize("script", SCRIPTS)
def test_help_prints_usage_and_exits_0(env, script):
    r = env.run(script, "--help")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"Usage: scripts/deploy/{script}")
    assert "--dry-run" in r.stdout and "--region" in r.stdout
    assert env.calls() == []


# ---- bad arguments: exit 2, a message naming the problem, nothing run ----

A = ARN_OLD
BAD = [
    ("build-push.sh", [], "no region: pass --region or set AWS_REGION"),
    ("build-push.sh", ["--region", "moon-1"], "'moon-1' is not an AWS region"),
    ("build-push.sh", ["--region", REGION, "--account", "12345"],
     "'12345' is not a 12-digit AWS account id"),
    ("build-push.sh", ["--region", REGION, "--repository", "Strands"],
     "'Strands' is not an ECR repository name"),
    ("build-push.sh", ["--region", REGION, "--platform", "linux/s390x"],
     "'linux/s390x' is not linux/arm64 or linux/amd64"),
    ("build-push.sh", ["--region", REGION, "--tag", "-bad"], "'-bad' is not an image tag"),
    ("build-push.sh", ["--region", REGION, "--file", "/nonexistent"],
     "--file: '/nonexistent' does not exist"),
    ("build-push.sh", ["--region"], "option --region needs a value"),
    ("build-push.sh", ["--bogus"], "unknown argument '--bogus'"),
    ("deploy-runtime.sh", ["--image", IMAGE, "--role-arn", ROLE], "--name is required"),
    ("deploy-runtime.sh", ["--name", "x", "--role-arn", ROLE], "--image is required"),
    ("deploy-runtime.sh", ["--name", "x", "--image", IMAGE], "--role-arn is required"),
    ("deploy-runtime.sh", deploy_args(name="strands-c"), "'strands-c' is not a runtime name"),
    ("deploy-runtime.sh", deploy_args(name="a" * 49), "is not a runtime name"),
    ("deploy-runtime.sh", ["--name", "x", "--image", "docker.io/library/x:1",
                           "--role-arn", ROLE, "--region", REGION],
     "is not an ECR image URI"),
    ("deploy-runtime.sh", ["--name", "x", "--image", IMAGE, "--region", REGION,
                           "--role-arn", "arn:aws:iam::123:role/x"],
     "is not an IAM role ARN"),
    ("deploy-runtime.sh", ["--name", "x", "--image", IMAGE, "--role-arn", ROLE],
     "no region: pass --region or set AWS_REGION"),
    ("deploy-runtime.sh", deploy_args("--env", "NOEQUALS"), "'NOEQUALS' is not KEY=VALUE"),
    ("deploy-runtime.sh", deploy_args("--env", "1BAD=x"), "'1BAD' is not a variable name"),
    ("deploy-runtime.sh", deploy_args("--env", "A=1", "--env", "A=2"), "A is given twice"),
    ("deploy-runtime.sh", deploy_args("--env", "A=" + "x" * 5001), "over 5000 characters"),
    ("deploy-runtime.sh", deploy_args("--env", "A=bell\a"), "control character"),
    ("deploy-runtime.sh", deploy_args(*sum((["--env", f"V{i}=x"] for i in range(51)), [])),
     "at most 50 variables"),
    ("deploy-runtime.sh", deploy_args("--env-file", "/nonexistent"), "cannot read '/nonexistent'"),
    ("deploy-runtime.sh", deploy_args("--network-mode", "PRIVATE"), "'PRIVATE' is not PUBLIC or VPC"),
    ("deploy-runtime.sh", deploy_args("--network-mode", "VPC", "--security-group", "sg-12345678"),
     "--network-mode VPC needs 1 to 16 --subnet"),
    ("deploy-runtime.sh", deploy_args("--network-mode", "VPC", "--subnet", "subnet-12345678"),
     "--network-mode VPC needs 1 to 16 --security-group"),
    ("deploy-runtime.sh", deploy_args("--network-mode", "VPC", "--subnet", "sub-1",
                                      "--security-group", "sg-12345678"),
     "'sub-1' is not a subnet id"),
    ("deploy-runtime.sh", deploy_args("--subnet", "subnet-12345678"),
     "--subnet and --security-group need --network-mode VPC"),
    ("deploy-runtime.sh", deploy_args("--idle-timeout", "30"), "30 is not in 60..28800"),
    ("deploy-runtime.sh", deploy_args("--protocol", "GRPC"),
     "--protocol: 'GRPC' is not HTTP, MCP, A2A or AGUI"),
    ("deploy-runtime.sh", deploy_args("--env", "SERVER_PROTOCOL=MCP"),
     "--env SERVER_PROTOCOL: use --protocol"),
    ("deploy-runtime.sh", deploy_args("--protocol", "MCP", "--env", "PORT=8080"),
     "--env PORT: AgentCore calls port 8000 for MCP; leave PORT unset"),
    ("deploy-runtime.sh", deploy_args("--max-lifetime", "1h"), "'1h' is not a non-negative integer"),
    ("deploy-runtime.sh", deploy_args("--runtime-id", "nope"), "'nope' is not an agent runtime id"),
    ("invoke.sh", ["--prompt", "hi"], "--arn is required"),
    ("invoke.sh", ["--arn", "arn:aws:lambda:us-east-1:123456789012:function:f", "--prompt", "x"],
     "is not an agent runtime ARN"),
    ("invoke.sh", ["--arn", A], "--prompt or --payload is required"),
    ("invoke.sh", ["--arn", A, "--prompt", "x", "--payload", "{}"],
     "give --prompt or --payload, not both"),
    ("invoke.sh", ["--arn", A, "--prompt", ""], "--prompt: empty prompt"),
    ("invoke.sh", ["--arn", A, "--payload", "hello"], "--payload: not a JSON object or array"),
    ("invoke.sh", ["--arn", A, "--prompt", "x", "--session-id", "short"],
     "--session-id: must be 33..256 printable characters"),
    ("invoke.sh", ["--arn", A, "--prompt", "x", "--session-id", "x" * 257],
     "--session-id: must be 33..256 printable characters"),
    ("invoke.sh", ["--arn", A, "--prompt", "x", "--qualifier", "my-endpoint"],
     "is not an endpoint name"),
    ("logs.sh", [], "--arn or --runtime-id is required"),
    ("logs.sh", ["--arn", A, "--runtime-id", RID_OLD], "give --arn or --runtime-id, not both"),
    ("logs.sh", ["--runtime-id", "strands_c"], "is not an agent runtime id"),
    ("logs.sh", ["--arn", A, "--since", "yesterday"], "--since: 'yesterday' is not like"),
    ("logs.sh", ["--arn", A, "--format", "xml"], "'xml' is not short, detailed or json"),
    ("logs.sh", ["--runtime-id", RID_OLD], "no region: pass --region or set AWS_REGION"),
]


@pytest.mark.parametrize("script,args,message", BAD,
                         ids=[f"{s}:{m[:40]}" for s, _, m in BAD])
def test_bad_arguments_exit_2_with_a_message(env, script, args, message):
    r = env.run(script, *args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert message in r.stderr
    assert f"Try '{script} --help'." in r.stderr
    assert r.stdout == ""
    assert env.calls() == []


def test_option_equals_form_is_accepted(env):
    r = env.run("logs.sh", f"--arn={ARN_OLD}", "--since=2h", "--dry-run")
    assert r.returncode == 0, r.stderr
    assert "--since 2h" in r.stdout


def test_region_comes_from_the_environment(env):
    r = env.run("build-push.sh", "--dry-run", "--account", ACCOUNT, "--tag", "t1",
                env={"AWS_DEFAULT_REGION": "eu-west-3"})
    assert r.returncode == 0, r.stderr
    assert "aws ecr get-login-password --region eu-west-3 |" in r.stdout


# ---- --dry-run: the exact command lines, nothing executed ----------------

def test_dry_run_build_push(env):
    r = env.run("build-push.sh", "--dry-run", "--region", REGION, "--account", ACCOUNT,
                "--tag", "v1")
    assert r.returncode == 0, r.stderr
    df = os.path.join(ROOT, "Dockerfile")
    assert lines(r.stdout) == [
        "aws ecr describe-repositories --region us-east-1 --repository-names strands-runtime"
        " --query 'repositories[0].repositoryUri' --output text",
        "# only if that answers RepositoryNotFoundException:",
        "aws ecr create-repository --region us-east-1 --repository-name strands-runtime"
        " --image-scanning-configuration scanOnPush=true"
        " --query repository.repositoryUri --output text",
        "aws ecr get-login-password --region us-east-1 | docker login --username AWS"
        f" --password-stdin {ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com",
        f"docker buildx build --platform linux/arm64 --provenance=false --file {df}"
        f" --tag {IMAGE} --push {ROOT}",
        f"# image: {IMAGE}",
    ]
    assert env.calls() == []


def test_dry_run_build_push_asks_sts_for_the_account(env):
    r = env.run("build-push.sh", "--dry-run", "--region", REGION, "--tag", "v1",
                "--platform", "linux/arm64,linux/amd64", "--repository", "team/agent")
    assert r.returncode == 0, r.stderr
    out = lines(r.stdout)
    assert out[0] == ("aws sts get-caller-identity --region us-east-1 --query Account"
                      " --output text")
    assert out[4].endswith(" | docker login --username AWS --password-stdin "
                           "'<account-id>.dkr.ecr.us-east-1.amazonaws.com'")
    assert out[5].startswith("docker buildx build --platform linux/arm64,linux/amd64 ")
    assert "--tag '<account-id>.dkr.ecr.us-east-1.amazonaws.com/team/agent:v1'" in out[5]
    assert env.calls() == []


def test_dry_run_default_tag_is_the_git_commit(env):
    if shutil.which("git") is None or subprocess.run(
            ["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True).returncode:
        pytest.skip("not a git work tree")
    sha = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short=12", "HEAD"],
                         capture_output=True, text=True).stdout.strip()
    r = env.run("build-push.sh", "--dry-run", "--region", REGION, "--account", ACCOUNT)
    assert r.returncode == 0, r.stderr
    assert f"/strands-runtime:{sha}" in r.stdout


DRY_DEPLOY_COMMON = (
    "--agent-runtime-artifact '{\"containerConfiguration\":{\"containerUri\":"
    f"\"{IMAGE}\"}}}}' --role-arn {ROLE}"
    " --network-configuration '{\"networkMode\":\"PUBLIC\"}'"
    " --environment-variables '{\"LOG_LEVEL\":\"debug\",\"AWS_SECRET_ACCESS_KEY\":\"****\"}'"
    " --query '[agentRuntimeId,agentRuntimeArn,agentRuntimeVersion,status]' --output text")


def test_dry_run_deploy_prints_both_branches_and_masks_secrets(env):
    r = env.run("deploy-runtime.sh", "--dry-run", *deploy_args(
        "--env", "LOG_LEVEL=debug", "--env", f"AWS_SECRET_ACCESS_KEY={SECRET}"))
    assert r.returncode == 0, r.stderr
    assert lines(r.stdout) == [
        "aws bedrock-agentcore-control list-agent-runtimes --region us-east-1"
        " --query \"agentRuntimes[?agentRuntimeName=='strands_c'].agentRuntimeId\""
        " --output text",
        "# if that prints an id, update that runtime:",
        "aws bedrock-agentcore-control update-agent-runtime --region us-east-1"
        " --agent-runtime-id '<agent-runtime-id>' " + DRY_DEPLOY_COMMON,
        "# otherwise create it:",
        "aws bedrock-agentcore-control create-agent-runtime --region us-east-1"
        " --agent-runtime-name strands_c " + DRY_DEPLOY_COMMON,
        "# then, every 1s until it prints READY (at most 900s):",
        "aws bedrock-agentcore-control get-agent-runtime --region us-east-1"
        " --agent-runtime-id '<agent-runtime-id>' --query status --output text",
    ]
    assert SECRET not in r.stdout + r.stderr
    assert "AWS_SECRET_ACCESS_KEY looks like a secret" in r.stderr
    assert env.calls() == []


def test_dry_run_deploy_with_runtime_id_vpc_and_lifecycle(env):
    r = env.run("deploy-runtime.sh", "--dry-run", "--no-wait", *deploy_args(
        "--runtime-id", RID_OLD, "--network-mode", "VPC",
        "--subnet", "subnet-0123456789abcdef0,subnet-11111111", "--security-group",
        "sg-0123456789abcdef0", "--idle-timeout", "600", "--max-lifetime", "3600",
        "--description", "strands-c agent"))
    assert r.returncode == 0, r.stderr
    assert lines(r.stdout) == [
        "aws bedrock-agentcore-control update-agent-runtime --region us-east-1"
        f" --agent-runtime-id {RID_OLD} --agent-runtime-artifact"
        " '{\"containerConfiguration\":{\"containerUri\":"
        f"\"{IMAGE}\"}}}}' --role-arn {ROLE} --network-configuration"
        " '{\"networkMode\":\"VPC\",\"networkModeConfig\":{\"securityGroups\":"
        "[\"sg-0123456789abcdef0\"],\"subnets\":[\"subnet-0123456789abcdef0\","
        "\"subnet-11111111\"]}}'"
        " --lifecycle-configuration '{\"idleRuntimeSessionTimeout\":600,\"maxLifetime\":3600}'"
        " --description 'strands-c agent'"
        " --query '[agentRuntimeId,agentRuntimeArn,agentRuntimeVersion,status]' --output text",
    ]


@pytest.mark.parametrize("protocol", ["MCP", "A2A", "AGUI", "HTTP"])
def test_dry_run_deploy_with_a_protocol(env, protocol):
    r = env.run("deploy-runtime.sh", "--dry-run", "--no-wait", *deploy_args(
        "--runtime-id", RID_OLD, "--protocol", protocol))
    assert r.returncode == 0, r.stderr
    out = lines(r.stdout)
    assert len(out) == 1
    assert (" --protocol-configuration '{\"serverProtocol\":\"%s\"}'" % protocol
            in out[0]), out[0]
    assert '"SERVER_PROTOCOL":"%s"' % protocol in out[0], out[0]


def test_dry_run_invoke(env):
    r = env.run("invoke.sh", "--dry-run", "--arn", ARN_OLD, "--prompt",
                "What's 2+3*4?", "--session-id", SESSION)
    assert r.returncode == 0, r.stderr
    assert lines(r.stdout) == [
        "printf '%s' '{\"prompt\": \"What'\\''s 2+3*4?\"}' > payload.json",
        "aws bedrock-agentcore invoke-agent-runtime --region us-east-1"
        f" --agent-runtime-arn {ARN_OLD} --runtime-session-id {SESSION}"
        " --content-type application/json --accept application/json"
        " --payload fileb://payload.json /dev/fd/3 3>&1 >&2",
    ]
    # The first line, run by a shell, writes exactly the payload.
    subprocess.run(["bash", "-c", lines(r.stdout)[0]], cwd=str(env.dir), check=True)
    with open(env.dir / "payload.json") as f:
        assert json.load(f) == {"prompt": "What's 2+3*4?"}
    assert env.calls() == []


def test_dry_run_invoke_stream_to_file(env):
    r = env.run("invoke.sh", "--dry-run", "--arn", ARN_OLD, "--prompt", "hi",
                "--stream", "--session-id", SESSION, "--qualifier", "prod",
                "--output", "answer.sse", "--region", "us-west-2")
    assert r.returncode == 0, r.stderr
    assert lines(r.stdout) == [
        "printf '%s' '{\"prompt\": \"hi\", \"stream\": true}' > payload.json",
        "aws bedrock-agentcore invoke-agent-runtime --region us-west-2"
        f" --agent-runtime-arn {ARN_OLD} --runtime-session-id {SESSION}"
        " --content-type application/json --accept text/event-stream"
        " --qualifier prod --payload fileb://payload.json answer.sse >&2",
    ]


def test_dry_run_invoke_generates_a_long_session_id(env):
    r = env.run("invoke.sh", "--dry-run", "--arn", ARN_OLD, "--prompt", "hi")
    assert r.returncode == 0, r.stderr
    sid = arg_after(lines(r.stdout)[1].split(" "), "--runtime-session-id")
    assert sid.startswith("strands-") and 33 <= len(sid) <= 256
    r2 = env.run("invoke.sh", "--dry-run", "--arn", ARN_OLD, "--prompt", "hi")
    assert arg_after(lines(r2.stdout)[1].split(" "), "--runtime-session-id") != sid


def test_dry_run_logs(env):
    r = env.run("logs.sh", "--dry-run", "--arn", ARN_OLD, "--since", "1h",
                "--filter", '"ERROR"')
    assert r.returncode == 0, r.stderr
    assert lines(r.stdout) == [
        f"aws logs tail /aws/bedrock-agentcore/runtimes/{RID_OLD}-DEFAULT"
        " --region us-east-1 --since 1h --format short --follow"
        " --filter-pattern '\"ERROR\"'",
    ]
    r = env.run("logs.sh", "--dry-run", "--runtime-id", RID_OLD, "--region",
                "eu-central-1", "--endpoint", "prod", "--no-follow", "--format", "json")
    assert lines(r.stdout) == [
        f"aws logs tail /aws/bedrock-agentcore/runtimes/{RID_OLD}-prod"
        " --region eu-central-1 --since 10m --format json",
    ]
    assert env.calls() == []


# ---- deploy-runtime.sh against the fake aws ------------------------------

def rt_answer(rid, status, version="1"):
    return {"json": {"agentRuntimeArn": f"arn:aws:bedrock-agentcore:{REGION}:{ACCOUNT}"
                                        f":runtime/{rid}",
                     "agentRuntimeId": rid, "agentRuntimeVersion": version,
                     "createdAt": "2025-01-01T00:00:00Z", "status": status}}


def listing(*rids):
    return {"json": {"agentRuntimes": [
        {"agentRuntimeName": r.rsplit("-", 1)[0], "agentRuntimeId": r,
         "agentRuntimeArn": f"arn:aws:bedrock-agentcore:{REGION}:{ACCOUNT}:runtime/{r}",
         "agentRuntimeVersion": "1", "status": "READY"} for r in rids]}}


def test_deploy_creates_when_the_name_is_new(env):
    env.answers({
        "bedrock-agentcore-control list-agent-runtimes": listing("other_rt-Qq1Ww2Ee3R"),
        "bedrock-agentcore-control create-agent-runtime": rt_answer(RID_NEW, "CREATING"),
        "bedrock-agentcore-control get-agent-runtime": [
            {"json": {"status": "CREATING"}}, {"json": {"status": "READY"}}],
    })
    prompt = 'You are "terse".\nAnswer in C:\\ paths; ünïcode ok'
    r = env.run("deploy-runtime.sh", *deploy_args(
        "--env", "LOG_LEVEL=debug", "--env", f"SYSTEM_PROMPT={prompt}",
        "--env", "BEDROCK_CREDENTIALS_SECRET=strands/bedrock-keys"))
    assert r.returncode == 0, r.stderr
    assert r.stdout == ARN_NEW + "\n"
    argvs = env.argvs()
    assert [a[:3] for a in argvs] == [
        CTL + ["list-agent-runtimes"], CTL + ["create-agent-runtime"],
        CTL + ["get-agent-runtime"], CTL + ["get-agent-runtime"]]
    assert argvs[0] == CTL + [
        "list-agent-runtimes", "--region", REGION, "--query",
        "agentRuntimes[?agentRuntimeName=='strands_c'].agentRuntimeId", "--output", "text"]
    create = argvs[1]
    assert create[:7] == CTL + ["create-agent-runtime", "--region", REGION,
                                "--agent-runtime-name", "strands_c"]
    assert json.loads(arg_after(create, "--agent-runtime-artifact")) == {
        "containerConfiguration": {"containerUri": IMAGE}}
    assert arg_after(create, "--role-arn") == ROLE
    assert json.loads(arg_after(create, "--network-configuration")) == {
        "networkMode": "PUBLIC"}
    env_arg = arg_after(create, "--environment-variables")
    assert json.loads(env_arg) == {"LOG_LEVEL": "debug", "SYSTEM_PROMPT": prompt,
                                   "BEDROCK_CREDENTIALS_SECRET": "strands/bedrock-keys"}
    assert list(json.loads(env_arg)) == ["LOG_LEVEL", "SYSTEM_PROMPT",
                                         "BEDROCK_CREDENTIALS_SECRET"]
    assert "--lifecycle-configuration" not in create and "--description" not in create
    assert argvs[2] == CTL + ["get-agent-runtime", "--region", REGION,
                              "--agent-runtime-id", RID_NEW, "--query", "status",
                              "--output", "text"]
    assert "creating runtime strands_c" in r.stderr
    assert "strands/bedrock-keys" in r.stderr   # a secret's name is not masked


def test_deploy_updates_when_the_name_exists(env):
    env.answers({
        "bedrock-agentcore-control list-agent-runtimes": listing("other_rt-Qq1Ww2Ee3R", RID_OLD),
        "bedrock-agentcore-control update-agent-runtime": rt_answer(RID_OLD, "UPDATING", "7"),
        "bedrock-agentcore-control get-agent-runtime": {"json": {"status": "READY"}},
    })
    r = env.run("deploy-runtime.sh", *deploy_args(
        "--network-mode", "VPC", "--subnet", "subnet-12345678", "--subnet",
        "subnet-abcdefgh", "--security-group", "sg-12345678"))
    assert r.returncode == 0, r.stderr
    assert r.stdout == ARN_OLD + "\n"
    argvs = env.argvs()
    assert [a[2] for a in argvs] == ["list-agent-runtimes", "update-agent-runtime",
                                     "get-agent-runtime"]
    update = argvs[1]
    assert update[3:7] == ["--region", REGION, "--agent-runtime-id", RID_OLD]
    assert "--agent-runtime-name" not in update
    assert "--environment-variables" not in update
    assert json.loads(arg_after(update, "--network-configuration")) == {
        "networkMode": "VPC", "networkModeConfig": {
            "securityGroups": ["sg-12345678"],
            "subnets": ["subnet-12345678", "subnet-abcdefgh"]}}
    assert f"updating runtime strands_c ({RID_OLD})" in r.stderr
    assert "version 7: UPDATING" in r.stderr


def test_deploy_with_runtime_id_skips_the_lookup(env):
    env.answers({
        "bedrock-agentcore-control update-agent-runtime": rt_answer(RID_OLD, "READY", "2"),
    })
    r = env.run("deploy-runtime.sh", *deploy_args("--runtime-id", RID_OLD,
                                                  "--env-file", str(write_env_file(env))))
    assert r.returncode == 0, r.stderr
    argvs = env.argvs()
    assert [a[2] for a in argvs] == ["update-agent-runtime"]   # READY at once
    assert json.loads(arg_after(argvs[0], "--environment-variables")) == {
        "MODEL_ID": "us.anthropic.claude-sonnet-4-20250514-v1:0",
        "SYSTEM_PROMPT": "a = b # not a comment", "TOOLS": ""}


def write_env_file(env):
    p = env.dir / "runtime.env"
    p.write_text("# runtime settings\n\nMODEL_ID=us.anthropic.claude-sonnet-4-20250514-v1:0\r\n"
                 "SYSTEM_PROMPT=a = b # not a comment\nTOOLS=\n")
    return p


def test_deploy_masks_secret_values_but_sends_them(env):
    env.answers({
        "bedrock-agentcore-control list-agent-runtimes": listing(),
        "bedrock-agentcore-control create-agent-runtime": rt_answer(RID_NEW, "READY"),
    })
    r = env.run("deploy-runtime.sh", *deploy_args(
        "--env", "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "--env", f"AWS_SECRET_ACCESS_KEY={SECRET}",
        "--env", "AWS_SESSION_TOKEN=tok-123456", "--env", "MAX_TOKENS=2048"))
    assert r.returncode == 0, r.stderr
    out = r.stdout + r.stderr
    assert SECRET not in out and "tok-123456" not in out
    assert '"AWS_SECRET_ACCESS_KEY":"****"' in r.stderr     # the logged command
    assert '"MAX_TOKENS":"2048"' in r.stderr                 # not a secret
    sent = json.loads(arg_after(env.argvs()[1], "--environment-variables"))
    assert sent["AWS_SECRET_ACCESS_KEY"] == SECRET and sent["AWS_SESSION_TOKEN"] == "tok-123456"


def test_masking_covers_json_escaped_values_and_spares_plain_names(env):
    tricky = 'p"a\\ss\nword'
    r = env.run("deploy-runtime.sh", "--dry-run", *deploy_args(
        "--env", f"DB_PASSWORD={tricky}", "--env", "BEDROCK_CREDENTIALS_REFRESH_SECONDS=900",
        "--env", "MAX_TOKENS=2048", "--env", "AWS_BEARER_TOKEN_BEDROCK=bearer-value-1"))
    assert r.returncode == 0, r.stderr
    create = lines(r.stdout)[4]
    assert "p\\\"a" not in r.stdout and "word" not in r.stdout
    assert "bearer-value-1" not in r.stdout
    env_json = create.split("--environment-variables ")[1].split(" --query")[0]
    assert json.loads(shlex.split(env_json)[0]) == {
        "DB_PASSWORD": "****", "BEDROCK_CREDENTIALS_REFRESH_SECONDS": "900",
        "MAX_TOKENS": "2048", "AWS_BEARER_TOKEN_BEDROCK": "****"}


def test_deploy_reports_a_failed_runtime(env):
    env.answers({
        "bedrock-agentcore-control list-agent-runtimes": listing(),
        "bedrock-agentcore-control create-agent-runtime": rt_answer(RID_NEW, "CREATING"),
        "bedrock-agentcore-control get-agent-runtime": [
            {"json": {"status": "CREATE_FAILED"}},
            {"json": {"failureReason": "Image not found in ECR"}}],
    })
    r = env.run("deploy-runtime.sh", *deploy_args())
    assert r.returncode == 1
    assert f"runtime {RID_NEW} is CREATE_FAILED: Image not found in ECR" in r.stderr
    assert r.stdout == ""
    assert arg_after(env.argvs()[-1], "--query") == "failureReason"


def test_deploy_gives_up_after_the_wait_timeout(env):
    env.answers({
        "bedrock-agentcore-control list-agent-runtimes": listing(),
        "bedrock-agentcore-control create-agent-runtime": rt_answer(RID_NEW, "CREATING"),
        "bedrock-agentcore-control get-agent-runtime": {"json": {"status": "CREATING"}},
    })
    r = env.run("deploy-runtime.sh", *deploy_args("--wait-timeout", "2"))
    assert r.returncode == 1
    assert f"runtime {RID_NEW} still CREATING after 2s" in r.stderr


def test_deploy_no_wait_returns_after_create(env):
    env.answers({
        "bedrock-agentcore-control list-agent-runtimes": listing(),
        "bedrock-agentcore-control create-agent-runtime": rt_answer(RID_NEW, "CREATING"),
    })
    r = env.run("deploy-runtime.sh", "--no-wait", *deploy_args())
    assert r.returncode == 0, r.stderr
    assert r.stdout == ARN_NEW + "\n"
    assert [a[2] for a in env.argvs()] == ["list-agent-runtimes", "create-agent-runtime"]


def test_deploy_stops_on_an_aws_error(env):
    env.answers({"bedrock-agentcore-control list-agent-runtimes": {
        "error": "AccessDeniedException", "message": "not allowed"}})
    r = env.run("deploy-runtime.sh", *deploy_args())
    assert r.returncode != 0
    assert "AccessDeniedException" in r.stderr
    assert [a[2] for a in env.argvs()] == ["list-agent-runtimes"]


# ---- build-push.sh against the fakes -------------------------------------

ECR_ANSWERS = {
    "sts get-caller-identity": {"json": {"Account": ACCOUNT, "UserId": "AID",
                                         "Arn": f"arn:aws:iam::{ACCOUNT}:user/dev"}},
    "ecr get-login-password": {"text": TOKEN + "\n"},
    "ecr create-repository": {"json": {"repository": {
        "repositoryUri": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/strands-runtime"}}},
}


def test_build_push_creates_a_missing_repository(env):
    env.answers(dict(ECR_ANSWERS, **{"ecr describe-repositories": {
        "error": "RepositoryNotFoundException",
        "message": "The repository with name 'strands-runtime' does not exist"}}))
    r = env.run("build-push.sh", "--region", REGION, "--tag", "v1")
    assert r.returncode == 0, r.stderr
    assert r.stdout == IMAGE + "\n"
    argvs = env.argvs()
    assert argvs == [
        ["aws", "sts", "get-caller-identity", "--region", REGION, "--query", "Account",
         "--output", "text"],
        ["aws", "ecr", "describe-repositories", "--region", REGION, "--repository-names",
         "strands-runtime", "--query", "repositories[0].repositoryUri", "--output", "text"],
        ["aws", "ecr", "create-repository", "--region", REGION, "--repository-name",
         "strands-runtime", "--image-scanning-configuration", "scanOnPush=true",
         "--query", "repository.repositoryUri", "--output", "text"],
        ["aws", "ecr", "get-login-password", "--region", REGION],
        ["docker", "login", "--username", "AWS", "--password-stdin",
         f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"],
        ["docker", "buildx", "build", "--platform", "linux/arm64", "--provenance=false",
         "--file", os.path.join(ROOT, "Dockerfile"), "--tag", IMAGE, "--push", ROOT],
    ]
    login = env.calls()[4]
    assert login["stdin"] == TOKEN + "\n"                       # through the pipe
    assert all(TOKEN not in " ".join(a) for a in argvs)         # never an argument
    assert TOKEN not in r.stdout + r.stderr
    assert "creating repository strands-runtime" in r.stderr


def test_build_push_reuses_an_existing_repository(env):
    env.answers(dict(ECR_ANSWERS, **{"ecr describe-repositories": {"json": {
        "repositories": [{"repositoryUri": "x"}]}}}))
    r = env.run("build-push.sh", "--region", REGION, "--account", ACCOUNT, "--tag", "v2",
                "--repository", "team/agent", "--platform", "linux/amd64")
    assert r.returncode == 0, r.stderr
    image = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/team/agent:v2"
    assert r.stdout == image + "\n"
    progs = [a[:3] for a in env.argvs()]
    assert progs == [["aws", "ecr", "describe-repositories"],
                     ["aws", "ecr", "get-login-password"],
                     ["docker", "login", "--username"],
                     ["docker", "buildx", "build"]]
    build = env.argvs()[3]
    assert arg_after(build, "--platform") == "linux/amd64"
    assert arg_after(build, "--tag") == image


def test_build_push_stops_on_other_lookup_errors(env):
    env.answers(dict(ECR_ANSWERS, **{"ecr describe-repositories": {
        "error": "AccessDeniedException", "message": "no ecr:DescribeRepositories"}}))
    r = env.run("build-push.sh", "--region", REGION, "--account", ACCOUNT, "--tag", "v1")
    assert r.returncode == 1
    assert "AccessDeniedException" in r.stderr
    assert "could not look up repository strands-runtime" in r.stderr
    assert [a[:3] for a in env.argvs()] == [["aws", "ecr", "describe-repositories"]]


def test_build_push_no_create_repo(env):
    env.answers(dict(ECR_ANSWERS, **{"ecr describe-repositories": {
        "error": "RepositoryNotFoundException", "message": "missing"}}))
    r = env.run("build-push.sh", "--region", REGION, "--account", ACCOUNT, "--tag", "v1",
                "--no-create-repo")
    assert r.returncode == 1
    assert "does not exist in us-east-1 (--no-create-repo)" in r.stderr
    assert len(env.argvs()) == 1


def test_build_push_fails_when_the_build_fails(env):
    env.answers(dict(ECR_ANSWERS, **{"ecr describe-repositories": {"json": {}}}))
    r = env.run("build-push.sh", "--region", REGION, "--account", ACCOUNT, "--tag", "v1",
                env={"FAKE_DOCKER_EXIT": "1"})
    assert r.returncode != 0
    assert r.stdout == ""


# ---- invoke.sh and logs.sh against the fake aws --------------------------

SUMMARY = {"runtimeSessionId": SESSION, "contentType": "application/json", "statusCode": 200}


def test_invoke_sends_the_prompt_and_prints_only_the_body(env):
    body = '{"response": "2+3*4 is 14.", "stop_reason": "EndTurn"}'
    env.answers({"bedrock-agentcore invoke-agent-runtime": {"body": body, "json": SUMMARY}})
    r = env.run("invoke.sh", "--arn", ARN_OLD, "--prompt", 'What is "2+3*4"?',
                "--session-id", SESSION)
    assert r.returncode == 0, r.stderr
    assert r.stdout == body                       # the body only
    assert '"statusCode": 200' in r.stderr        # the CLI's summary
    assert f"continue this conversation with --session-id {SESSION}" in r.stderr
    (call,) = env.calls()
    argv = call["argv"]
    payload_arg = arg_after(argv, "--payload")
    assert payload_arg.startswith("fileb://")
    assert argv == ["bedrock-agentcore", "invoke-agent-runtime", "--region", REGION,
                    "--agent-runtime-arn", ARN_OLD, "--runtime-session-id", SESSION,
                    "--content-type", "application/json", "--accept", "application/json",
                    "--payload", payload_arg, "/dev/fd/3"]
    assert json.loads(call["files"][payload_arg]) == {"prompt": 'What is "2+3*4"?'}
    assert not os.path.exists(payload_arg[len("fileb://"):])   # temp file removed


def test_invoke_streaming_to_a_file_with_a_generated_session(env):
    sse = 'data: {"type":"text","text":"14"}\n\ndata: {"type":"done"}\n\n'
    env.answers({"bedrock-agentcore invoke-agent-runtime": {
        "body": sse, "json": dict(SUMMARY, contentType="text/event-stream")}})
    out = env.dir / "answer.sse"
    r = env.run("invoke.sh", "--arn", ARN_OLD, "--prompt", "hi", "--stream",
                "--output", str(out), "--qualifier", "DEFAULT")
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    assert out.read_text() == sse
    (call,) = env.calls()
    argv = call["argv"]
    assert arg_after(argv, "--accept") == "text/event-stream"
    assert arg_after(argv, "--qualifier") == "DEFAULT"
    assert argv[-1] == str(out)
    sid = arg_after(argv, "--runtime-session-id")
    assert 33 <= len(sid) <= 256 and f"session id: {sid}" in r.stderr
    assert json.loads(call["files"][arg_after(argv, "--payload")]) == {
        "prompt": "hi", "stream": True}


def test_invoke_with_a_raw_payload(env):
    env.answers({"bedrock-agentcore invoke-agent-runtime": {"body": "{}", "json": SUMMARY}})
    payload = '{"prompt": [{"text": "hi"}], "session_id": "abc"}'
    r = env.run("invoke.sh", "--arn", ARN_OLD, "--payload", payload, "--session-id", SESSION)
    assert r.returncode == 0, r.stderr
    (call,) = env.calls()
    assert call["files"][arg_after(call["argv"], "--payload")] == payload


def test_invoke_passes_a_cli_failure_on(env):
    env.answers({"bedrock-agentcore invoke-agent-runtime": {
        "error": "ResourceNotFoundException", "message": "No endpoint or agent found"}})
    r = env.run("invoke.sh", "--arn", ARN_OLD, "--prompt", "hi", "--session-id", SESSION)
    assert r.returncode == 254
    assert "ResourceNotFoundException" in r.stderr


def test_logs_runs_aws_logs_tail(env):
    env.answers({"logs tail": {"text": "2025-01-01T00:00:00 [runtime-logs] {\"level\":\"INFO\"}\n"}})
    r = env.run("logs.sh", "--arn", ARN_NEW, "--since", "30m", "--no-follow")
    assert r.returncode == 0, r.stderr
    assert '"level":"INFO"' in r.stdout
    assert env.argvs() == [["aws", "logs", "tail",
                            f"/aws/bedrock-agentcore/runtimes/{RID_NEW}-DEFAULT",
                            "--region", REGION, "--since", "30m", "--format", "short"]]


# ---- shellcheck ----------------------------------------------------------

def test_shellcheck_passes_on_every_deploy_script():
    sc = shutil.which("shellcheck")
    if sc is None:
        pytest.skip("shellcheck is not installed (scripts/install-deps.sh installs it)")
    files = [os.path.join(DEPLOY, f) for f in ["common.sh", *SCRIPTS]]
    r = subprocess.run([sc, "--external-sources", "--severity=style", *files],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr


def test_scripts_are_executable_bash():
    for name in SCRIPTS:
        path = os.path.join(DEPLOY, name)
        assert os.access(path, os.X_OK), name
        with open(path) as f:
            assert f.readline() == "#!/usr/bin/env bash\n", name


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_option_in_help_is_parsed(env, script):
    helptext = env.run(script, "--help").stdout
    options = set(re.findall(r"^\s+(--[a-z-]+)", helptext, re.M))
    assert "--dry-run" in options and len(options) >= 4
    with open(os.path.join(DEPLOY, script)) as f:
        src = f.read()
    for opt in options:
        assert re.search(rf"(^|\s|\|\s){re.escape(opt)}( \||\))", src, re.M), opt


# ---- the docs the scripts come with --------------------------------------

def test_iam_policy_files_are_valid_json():
    iam = os.path.join(ROOT, "docs", "iam")
    names = sorted(f for f in os.listdir(iam) if f.endswith(".json"))
    assert {"execution-role-trust.json", "execution-role-bedrock.json",
            "execution-role-base.json", "bootstrap-read-secret.json",
            "bedrock-invoke-only.json", "deployer.json"} <= set(names)
    for name in names:
        with open(os.path.join(iam, name)) as f:
            doc = json.load(f)
        assert doc["Version"] == "2012-10-17" and doc["Statement"], name
    with open(os.path.join(iam, "execution-role-base.json")) as f:
        base = json.dumps(json.load(f))
    assert "bedrock:" not in base          # the two-identity role cannot call Bedrock


def test_deploy_doc_names_only_files_that_exist():
    with open(os.path.join(ROOT, "docs", "deploy.md")) as f:
        doc = f.read()
    named = set(re.findall(r"\((?:\.\./)?((?:iam|docs|scripts)/[\w./-]+)\)", doc))
    named |= set(re.findall(r"`?((?:scripts/deploy|docs/iam)/[\w.-]+\.(?:sh|json))", doc))
    assert len(named) >= 8
    for rel in named:
        path = os.path.join(ROOT, "docs", rel) if rel.startswith("iam/") else \
            os.path.join(ROOT, rel)
        assert os.path.exists(path), rel
    for script in SCRIPTS:
        assert f"scripts/deploy/{script}" in doc or script in doc

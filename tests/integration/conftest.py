"""Fixtures for the integration tests: start the real strands-runtime
binary on loopback against the fake Bedrock (tests/fakes/fake_aws.py),
and small HTTP helpers. Run with /usr/bin/python3 -m pytest."""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import http.client

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "fakes"))

import fake_aws  # noqa: E402

RUNTIME = os.environ.get("STRANDS_RUNTIME",
                         os.path.join(ROOT, "build", "strands-runtime"))
ACCESS_KEY = "AKIDSTRANDSTEST0001"
SECRET_KEY = "s3cr3t/K7MDENG+bPxRfiCYSTRANDSSECRETKEY"
SESSION_TOKEN = "FwoGZXIvYXdzEXAMPLETOKEN//////////wEaDSTRANDSTOKENVALUE=="


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Runtime:
    """A running strands-runtime process."""

    def __init__(self, env_overrides, fake=None, binary=None, stdout=None):
        self.port = free_port()
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "PORT": str(self.port), "BIND_ADDRESS": "127.0.0.1",
               "AWS_ACCESS_KEY_ID": ACCESS_KEY,
               "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
               "AWS_SESSION_TOKEN": SESSION_TOKEN,
               "AWS_REGION": "us-east-1",
               # Loopback only: never probe the link-local metadata service,
               # and never read the machine's own ~/.aws files.
               "AWS_EC2_METADATA_DISABLED": "true",
               "HOME": tempfile.gettempdir() + "/strands-no-home"}
        if "ASAN_OPTIONS" in os.environ:
            env["ASAN_OPTIONS"] = os.environ["ASAN_OPTIONS"]
        for name in ("UBSAN_OPTIONS", "TSAN_OPTIONS"):
            if name in os.environ:
                env[name] = os.environ[name]
        if fake is not None:
            env["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"] = fake.url
        for k, v in env_overrides.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        self.log = tempfile.NamedTemporaryFile(prefix="strands-rt-",
                                               suffix=".log", delete=False)
        # stdout: where the JSON log lines go (default: the log file, with
        # stderr); a test may pass e.g. a pipe it does not read.
        self.proc = subprocess.Popen([binary or RUNTIME], env=env,
                                     stdout=self.log if stdout is None
                                     else stdout,
                                     stderr=self.log if stdout is not None
                                     else subprocess.STDOUT)
        self._wait_ready()

    def _wait_ready(self):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("runtime exited early:\n" + self.output())
            try:
                status, _, _ = self.request("GET", "/ping", timeout=1)
                if status == 200:
                    return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("runtime did not answer /ping:\n" + self.output())

    def request(self, method, path, body=None, headers=None, timeout=30):
        conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=timeout)
        try:
            if isinstance(body, (dict, list)):
                body = json.dumps(body)
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, dict(resp.getheaders()), data
        finally:
            conn.close()

    def invoke(self, body, headers=None, timeout=30):
        status, hdrs, data = self.request("POST", "/invocations", body,
                                          headers, timeout)
        try:
            doc = json.loads(data)
        except ValueError:
            doc = {"raw": data.decode("utf-8", "replace")}
        return status, hdrs, doc

    def ping(self):
        status, _, data = self.request("GET", "/ping", timeout=5)
        return status, json.loads(data)

    def output(self):
        self.log.flush()
        with open(self.log.name, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def log_lines(self):
        out = []
        for line in self.output().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                out.append({"raw": line})
        return out

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


@pytest.fixture
def fake():
    f = fake_aws.start_fake_bedrock(
        credentials={ACCESS_KEY: (SECRET_KEY, SESSION_TOKEN)})
    yield f
    f.stop()


@pytest.fixture
def start_runtime(fake):
    started = []

    def _start(fake_server=fake, **env):
        rt = Runtime(env, fake_server)
        started.append(rt)
        return rt

    yield _start
    for rt in started:
        code = rt.stop()
        out = rt.output()
        os.unlink(rt.log.name)
        # Sanitizer reports go to the same log: any is a failure.
        assert "ERROR: AddressSanitizer" not in out, out
        assert "runtime error:" not in out, out
        assert "LeakSanitizer" not in out, out
        assert "ThreadSanitizer" not in out, out
        assert code == 0, "runtime exit code %r\n%s" % (code, out)


@pytest.fixture
def runtime(start_runtime):
    return start_runtime()

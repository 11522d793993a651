"""The redis:// session store through the real binary, against a private
redis-server on a free loopback port (never the system service; skipped
when redis-server is not installed): a conversation continues across a
runtime restart; two runtime processes sharing one Redis serve alternating
turns of one session; conflicting concurrent turns never interleave (409
SessionBusy, or a wait with SESSION_LOCK_WAIT_MS); Redis stopped mid-run or
frozen mid-turn gives 503 SessionStoreUnavailable (nothing of the turn
stored) and the runtime recovers by itself when Redis is back; the password
never reaches the log; bad URLs are refused at start-up with a clear
message. rediss:// (TLS) against a TLS redis-server with a throwaway CA:
turns over TLS with REDIS_TLS_CA_FILE, an untrusted certificate gives 503
naming TLS verification (accepted with REDIS_TLS_INSECURE=true), a CA
file that cannot be read is refused at start-up."""

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import RUNTIME, free_port

REDIS_SERVER = os.environ.get("REDIS_SERVER") or shutil.which(
    "redis-server") or ("/usr/bin/redis-server"
                        if os.access("/usr/bin/redis-server", os.X_OK)
                        else None)

pytestmark = pytest.mark.skipif(
    REDIS_SERVER is None,
    reason="redis-server is not installed (apt-get install redis-server)")


def converse_requests(fake):
    return [r for r in fake.requests()
            if r.get("operation") in ("converse", "converse_stream")
            or (r.get("path") or "").startswith("/model/")]


def texts(messages):
    out = []
    for m in messages:
        for block in m.get("content", []):
            if "text" in block:
                out.append((m["role"], block["text"]))
    return out


def _die_with_parent():
    """In the child: SIGKILL when pytest dies (PR_SET_PDEATHSIG), so no
    redis-server outlives an interrupted run."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)


class RedisServer:
    """A redis-server process of our own, with a tiny RESP client."""

    def __init__(self, password=None, tls_dir=None):
        self.port = free_port()
        self.password = password
        self.tls_dir = tls_dir
        self.tls_port = free_port() if tls_dir else None
        self.dir = tempfile.mkdtemp(prefix="strands-redis-")
        self.proc = None
        self.start()

    def start(self):
        args = [REDIS_SERVER, "--port", str(self.port), "--bind",
                "127.0.0.1", "--save", "", "--appendonly", "no", "--dir",
                self.dir, "--daemonize", "no"]
        if self.password:
            args += ["--requirepass", self.password]
        if self.tls_dir:
            # TLS on tls_port; the plain port stays for cmd() (set-up and
            # checks by the test only).
            d = self.tls_dir
            args += ["--tls-port", str(self.tls_port),
                     "--tls-cert-file", os.path.join(d, "server.crt"),
                     "--tls-key-file", os.path.join(d, "server.key"),
                     "--tls-ca-cert-file", os.path.join(d, "ca.crt"),
                     "--tls-auth-clients", "no"]
        deadline = time.monotonic() + 10
        while True:
            self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL,
                                         preexec_fn=_die_with_parent)
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    if self.cmd("PING") in ("PONG", "NOAUTH"):
                        return
                except OSError:
                    time.sleep(0.02)
            if self.proc.poll() is None or time.monotonic() >= deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.1)  # the port may linger after a kill: retry

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def url(self, auth=""):
        return "redis://%s127.0.0.1:%d" % (auth, self.port)

    def cmd(self, *args):
        with socket.create_connection(("127.0.0.1", self.port),
                                      timeout=2) as s:
            f = s.makefile("rb")
            if self.password:
                s.sendall(self._encode(["AUTH", self.password]))
                self._read(f)
            s.sendall(self._encode(list(args)))
            return self._read(f)

    @staticmethod
    def _encode(args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        return out

    def _read(self, f):
        line = f.readline()
        if not line:
            raise OSError("connection closed")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return rest.decode().split(" ")[0]
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = f.read(n + 2)[:-2]
            return data.decode()
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._read(f) for _ in range(n)]
        raise OSError("bad reply %r" % line)


@pytest.fixture
def redis():
    r = RedisServer()
    yield r
    r.stop()
    shutil.rmtree(r.dir, ignore_errors=True)


def log_key(session, agent="default"):
    return "strands:session:{%s}:%s:log" % (session, agent)


def stored_texts(redis, session):
    import json
    return texts([json.loads(m) for m in
                  redis.cmd("LRANGE", log_key(session), 0, -1)])


def test_restart_runtime_mid_conversation(start_runtime, fake, redis):
    rt = start_runtime(SESSION_STORE=redis.url())
    fake.script([{"text": "first answer"}])
    status, _, doc = rt.invoke({"prompt": "first question",
                                "session_id": "conv-1"})
    assert status == 200, doc
    assert rt.stop() == 0
    assert redis.cmd("LLEN", log_key("conv-1")) == 2

    rt2 = start_runtime(SESSION_STORE=redis.url())
    fake.reset()
    fake.script([{"text": "second answer"}])
    status, _, doc = rt2.invoke({"prompt": "second question",
                                 "session_id": "conv-1"})
    assert status == 200, doc
    sent = converse_requests(fake)[-1]["body"]["messages"]
    assert texts(sent) == [("user", "first question"),
                           ("assistant", "first answer"),
                           ("user", "second question")]
    assert stored_texts(redis, "conv-1") == texts(sent) + [
        ("assistant", "second answer")]
    # The idle TTL is on the session's keys (default 7 days).
    ttl = redis.cmd("TTL", log_key("conv-1"))
    assert 7 * 86400 - 60 < ttl <= 7 * 86400


def test_two_runtimes_serve_alternating_turns(start_runtime, fake, redis):
    a = start_runtime(SESSION_STORE=redis.url())
    b = start_runtime(SESSION_STORE=redis.url())
    for i in range(6):
        rt = a if i % 2 == 0 else b
        fake.script([{"text": "answer %d" % i}])
        status, _, doc = rt.invoke({"prompt": "question %d" % i,
                                    "session_id": "shared-1"})
        assert status == 200, doc
        assert doc["response"] == "answer %d" % i
        sent = converse_requests(fake)[-1]["body"]["messages"]
        want = []
        for j in range(i):
            want += [("user", "question %d" % j),
                     ("assistant", "answer %d" % j)]
        assert texts(sent) == want + [("user", "question %d" % i)]
    assert redis.cmd("LLEN", log_key("shared-1")) == 12


def test_conflicting_turns_409_or_wait(start_runtime, fake, redis):
    a = start_runtime(SESSION_STORE=redis.url())
    b = start_runtime(SESSION_STORE=redis.url())
    fake.script([{"text": "slow A", "latency_ms": 1000}])
    results = {}

    def slow():
        results["a"] = a.invoke({"prompt": "from A", "session_id": "race-1"})

    t = threading.Thread(target=slow)
    t.start()
    fake.wait_for_requests(1)
    status, _, doc = b.invoke({"prompt": "from B", "session_id": "race-1"})
    t.join()
    assert status == 409 and doc["error_type"] == "SessionBusy", doc
    assert results["a"][0] == 200, results["a"]
    assert stored_texts(redis, "race-1") == [("user", "from A"),
                                             ("assistant", "slow A")]

    # With SESSION_LOCK_WAIT_MS the second instance waits its turn, then
    # continues the history the first one stored.
    c = start_runtime(SESSION_STORE=redis.url(), SESSION_LOCK_WAIT_MS="8000")
    fake.reset()
    fake.script([{"text": "slow A2", "latency_ms": 1000},
                 {"text": "C after A2"}])
    t = threading.Thread(target=slow)
    t.start()
    fake.wait_for_requests(1)
    started = time.monotonic()
    status, _, doc = c.invoke({"prompt": "from C", "session_id": "race-1"})
    waited = time.monotonic() - started
    t.join()
    assert status == 200, doc
    assert results["a"][0] == 200, results["a"]
    assert waited > 0.5
    assert stored_texts(redis, "race-1") == [
        ("user", "from A"), ("assistant", "slow A"),
        ("user", "from A"), ("assistant", "slow A2"),
        ("user", "from C"), ("assistant", "C after A2")]
    assert redis.cmd("EXISTS", "strands:session:{race-1}:lock") == 0


def test_redis_down_is_503_then_recovers(start_runtime, fake, redis):
    rt = start_runtime(SESSION_STORE=redis.url(),
                       REDIS_CONNECT_TIMEOUT_MS="500",
                       REDIS_COMMAND_TIMEOUT_MS="1000")
    fake.script([{"text": "before"}])
    status, _, doc = rt.invoke({"prompt": "x", "session_id": "down-1"})
    assert status == 200, doc

    redis.stop()
    started = time.monotonic()
    status, _, doc = rt.invoke({"prompt": "y", "session_id": "down-1"})
    assert status == 503, doc
    assert doc["error_type"] == "SessionStoreUnavailable", doc
    assert time.monotonic() - started < 5
    status, ping = rt.ping()
    assert status == 200, ping
    assert len(converse_requests(fake)) == 1  # no model call without it

    redis.start()  # back on the same port, empty (no persistence)
    fake.script([{"text": "after"}])
    status, _, doc = rt.invoke({"prompt": "z", "session_id": "down-1"})
    assert status == 200, doc
    assert doc["response"] == "after"
    assert stored_texts(redis, "down-1") == [("user", "z"),
                                             ("assistant", "after")]


def test_redis_frozen_mid_turn_stores_nothing_then_recovers(
        start_runtime, fake, redis):
    rt = start_runtime(SESSION_STORE=redis.url(),
                       REDIS_CONNECT_TIMEOUT_MS="500",
                       REDIS_COMMAND_TIMEOUT_MS="500",
                       REDIS_LOCK_LEASE_MS="1000")
    fake.script([{"text": "kept"}])
    status, _, doc = rt.invoke({"prompt": "one", "session_id": "mid-1"})
    assert status == 200, doc

    # Redis stops answering while the model is thinking: the turn cannot
    # be stored, so it fails with 503 and nothing of it is kept.
    fake.script([{"text": "lost", "latency_ms": 800}])
    result = {}

    def slow():
        result["r"] = rt.invoke({"prompt": "two", "session_id": "mid-1"})

    t = threading.Thread(target=slow)
    t.start()
    fake.wait_for_requests(2)
    os.kill(redis.proc.pid, signal.SIGSTOP)
    try:
        t.join(30)
        assert not t.is_alive()
    finally:
        os.kill(redis.proc.pid, signal.SIGCONT)
    status, _, doc = result["r"]
    assert status == 503, doc
    assert doc["error_type"] == "SessionStoreUnavailable", doc
    assert stored_texts(redis, "mid-1") == [("user", "one"),
                                            ("assistant", "kept")]
    # The lock its failed release left behind lapses after the lease.
    time.sleep(1.2)
    fake.script([{"text": "three"}])
    status, _, doc = rt.invoke({"prompt": "three?", "session_id": "mid-1"})
    assert status == 200, doc
    sent = converse_requests(fake)[-1]["body"]["messages"]
    assert texts(sent) == [("user", "one"), ("assistant", "kept"),
                           ("user", "three?")]


def test_password_never_logged(start_runtime, fake):
    secured = RedisServer(password="Sup3r-Secret-pw")
    try:
        rt = start_runtime(
            SESSION_STORE=secured.url(":Sup3r-Secret-pw@"),
            LOG_LEVEL="debug")
        fake.script([{"text": "ok"}])
        status, _, doc = rt.invoke({"prompt": "x", "session_id": "pw-1"})
        assert status == 200, doc
        out = rt.output()
        assert "Sup3r-Secret-pw" not in out
        assert "redis://***@127.0.0.1:%d" % secured.port in out
        assert secured.cmd("LLEN", log_key("pw-1")) == 2

        wrong = start_runtime(
            SESSION_STORE=secured.url(":wrong-pass-42@"))
        status, _, doc = wrong.invoke({"prompt": "x", "session_id": "pw-2"})
        assert status == 503, doc
        assert doc["error_type"] == "SessionStoreUnavailable"
        assert "AUTH" in doc["error"]
        assert "wrong-pass-42" not in doc["error"]
        assert "wrong-pass-42" not in wrong.output()
    finally:
        secured.stop()
        shutil.rmtree(secured.dir, ignore_errors=True)


@pytest.mark.parametrize("spec,words", [
    ("redis://:pw-not-shown@127.0.0.1:6390/db7", ["database number"]),
    ("redis://:pw-not-shown@127.0.0.1:0", ["bad port"]),
])
def test_bad_redis_url_refused_at_start(spec, words):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "PORT": str(free_port()), "BIND_ADDRESS": "127.0.0.1",
           "AWS_EC2_METADATA_DISABLED": "true", "SESSION_STORE": spec}
    for name in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS"):
        if name in os.environ:
            env[name] = os.environ[name]
    p = subprocess.run([RUNTIME], env=env, capture_output=True, timeout=30)
    err = p.stderr.decode()
    assert p.returncode == 2, err
    assert "SESSION_STORE" in err
    for w in words:
        assert w in err, err
    assert "pw-not-shown" not in err + p.stdout.decode()


# ---- rediss:// ---------------------------------------------------------------

def make_tls_certs(d):
    """A throwaway CA (ca.crt), a server certificate for localhost and
    127.0.0.1 it signed, and an unrelated CA (other-ca.crt), in d; False
    when the openssl command is missing or fails."""
    openssl = shutil.which("openssl")
    if not openssl:
        return False
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
          "-nodes"]
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                "basicConstraints=CA:FALSE\n")
    steps = [
        ["req", "-x509"] + ec + ["-keyout", "ca.key", "-out", "ca.crt",
                                 "-days", "2", "-subj", "/CN=test-ca"],
        ["req", "-x509"] + ec + ["-keyout", "other-ca.key", "-out",
                                 "other-ca.crt", "-days", "2", "-subj",
                                 "/CN=other-ca"],
        ["req", "-new"] + ec + ["-keyout", "server.key", "-out",
                                "server.csr", "-subj", "/CN=localhost"],
        ["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey",
         "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "san.ext",
         "-out", "server.crt"],
    ]
    for step in steps:
        if subprocess.run([openssl] + step, cwd=d, capture_output=True,
                          timeout=60).returncode != 0:
            return False
    return True


@pytest.fixture
def tls_redis():
    d = tempfile.mkdtemp(prefix="strands-redis-tls-")
    try:
        if not make_tls_certs(d):
            pytest.skip("the openssl command is missing or failed: no "
                        "test certificates for rediss://")
        try:
            r = RedisServer(tls_dir=d)
        except RuntimeError:
            pytest.skip("redis-server did not start with TLS options (built "
                        "without TLS?): rediss:// tests skipped")
        yield r
        r.stop()
        shutil.rmtree(r.dir, ignore_errors=True)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_rediss_turns_over_tls(start_runtime, fake, tls_redis):
    ca = os.path.join(tls_redis.tls_dir, "ca.crt")
    rt = start_runtime(
        SESSION_STORE="rediss://localhost:%d" % tls_redis.tls_port,
        REDIS_TLS_CA_FILE=ca)
    fake.script([{"text": "first answer"}])
    status, _, doc = rt.invoke({"prompt": "first question",
                                "session_id": "tls-1"})
    assert status == 200, doc
    fake.script([{"text": "second answer"}])
    status, _, doc = rt.invoke({"prompt": "second question",
                                "session_id": "tls-1"})
    assert status == 200, doc
    sent = converse_requests(fake)[-1]["body"]["messages"]
    assert texts(sent) == [("user", "first question"),
                           ("assistant", "first answer"),
                           ("user", "second question")]
    # Stored on the server (read back through its plain port).
    assert stored_texts(tls_redis, "tls-1") == [
        ("user", "first question"), ("assistant", "first answer"),
        ("user", "second question"), ("assistant", "second answer")]

    # A second runtime process continues the same session over TLS.
    other = start_runtime(
        SESSION_STORE="rediss://127.0.0.1:%d" % tls_redis.tls_port,
        REDIS_TLS_CA_FILE=ca)
    fake.script([{"text": "third answer"}])
    status, _, doc = other.invoke({"prompt": "third question",
                                   "session_id": "tls-1"})
    assert status == 200, doc
    assert len(tls_redis.cmd("LRANGE", log_key("tls-1"), 0, -1)) == 6


def test_rediss_untrusted_certificate_503(start_runtime, fake, tls_redis):
    other_ca = os.path.join(tls_redis.tls_dir, "other-ca.crt")
    spec = "rediss://localhost:%d" % tls_redis.tls_port
    rt = start_runtime(SESSION_STORE=spec, REDIS_TLS_CA_FILE=other_ca)
    fake.script([{"text": "never"}])
    status, _, doc = rt.invoke({"prompt": "x", "session_id": "tls-2"})
    assert status == 503, doc
    assert doc["error_type"] == "SessionStoreUnavailable"
    assert "TLS verification" in doc["error"], doc
    assert tls_redis.cmd("EXISTS", log_key("tls-2")) == 0

    # Testing only: REDIS_TLS_INSECURE=true skips the check.
    insecure = start_runtime(SESSION_STORE=spec, REDIS_TLS_CA_FILE=other_ca,
                             REDIS_TLS_INSECURE="true")
    fake.script([{"text": "fine"}])
    status, _, doc = insecure.invoke({"prompt": "x", "session_id": "tls-2"})
    assert status == 200, doc
    assert tls_redis.cmd("LLEN", log_key("tls-2")) == 2


def test_rediss_bad_ca_file_refused_at_start():
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "PORT": str(free_port()), "BIND_ADDRESS": "127.0.0.1",
           "AWS_EC2_METADATA_DISABLED": "true",
           "SESSION_STORE": "rediss://:pw-not-shown@127.0.0.1:6390",
           "REDIS_TLS_CA_FILE": "/nonexistent/ca.pem"}
    for name in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS"):
        if name in os.environ:
            env[name] = os.environ[name]
    p = subprocess.run([RUNTIME], env=env, capture_output=True, timeout=30)
    err = p.stderr.decode()
    assert p.returncode == 2, err
    assert "REDIS_TLS_CA_FILE" in err, err
    assert "pw-not-shown" not in err + p.stdout.decode()

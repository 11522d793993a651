#!/usr/bin/python3
"""strands-c benchmark: cold start, memory, /ping throughput, CPU time per
invocation and concurrency against the project's fake Bedrock, all on
loopback. Every figure is also given as a ratio against a reference
measured in the same run (the fake itself, a Python HTTP server, is the
reference server). Load loops are bounded by wrk's duration.

usage: /usr/bin/python3 bench/bench.py [--runtime build/strands-runtime]
                                       [--seconds 5] [--json out.json]
"""

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAKE = os.path.join(ROOT, "tests", "fakes", "fake_aws.py")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ping_once(port):
    with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
        s.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return s.recv(64).startswith(b"HTTP/1.1 200")


def wait_http(port, proc, path_ok=ping_once, limit=10.0):
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < limit:
        if proc.poll() is not None:
            raise RuntimeError("process exited during start")
        try:
            if path_ok(port):
                return time.perf_counter() - t0
        except OSError:
            pass
    raise RuntimeError("no answer within %.0fs" % limit)


def start_fake(latency_ms=0):
    p = subprocess.Popen(["/usr/bin/python3", FAKE, "--port", "0",
                          "--no-verify", "--latency-ms", str(latency_ms)],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True)
    port = json.loads(p.stdout.readline())["port"]
    return p, port


def start_fast_fake(binary_dir, latency_ms):
    """The C stand-in for Bedrock (bench/fast_fake.c): no signature check,
    so the load measures the runtime, not the Python fake."""
    port = free_port()
    p = subprocess.Popen([os.path.join(binary_dir, "fast_fake"), str(port),
                          str(latency_ms)], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)
    p.stdout.readline()
    return p, port


def runtime_env(port, fake_port):
    return {"PATH": "/usr/bin:/bin", "PORT": str(port),
            "BIND_ADDRESS": "127.0.0.1", "LOG_LEVEL": "warn",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
            "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "AWS_ENDPOINT_URL_BEDROCK_RUNTIME":
                "http://127.0.0.1:%d" % fake_port}


def start_runtime(binary, fake_port):
    port = free_port()
    p = subprocess.Popen([binary], env=runtime_env(port, fake_port),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = wait_http(port, p)
    return p, port, elapsed


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def wrk(url, conns, seconds, post_body=None, threads=2):
    args = ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % seconds,
            "--latency"]
    script = None
    if post_body is not None:
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
        script.write('wrk.method = "POST"\nwrk.body = %s\n'
                     'wrk.headers["Content-Type"] = "application/json"\n'
                     % json.dumps(json.dumps(post_body)))
        script.close()
        args += ["-s", script.name]
    out = subprocess.run(args + [url], capture_output=True, text=True,
                         timeout=seconds + 60).stdout
    if script:
        os.unlink(script.name)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    p99_ms = None
    if p99:
        scale = {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
        p99_ms = float(p99.group(1)) * scale
    return {"rate": rate, "requests": total,
            "non_2xx": int(errors.group(1)) if errors else 0,
            "p99_ms": p99_ms}


def cold_start(binary, fake_port, probe, runs=20):
    """exec -> first 200 from /ping, measured by the C probe (no Python
    start-up noise in the figure)."""
    times = []
    for _ in range(runs):
        port = free_port()
        out = subprocess.run([probe, str(port), binary],
                             env=runtime_env(port, fake_port),
                             capture_output=True, text=True, timeout=30)
        times.append(float(out.stdout))
    return statistics.median(times)


def reference_cold_start(runs=5):
    times = []
    for _ in range(runs):
        port = free_port()
        t0 = time.perf_counter()
        p = subprocess.Popen(["/usr/bin/python3", FAKE, "--port", str(port),
                              "--no-verify"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)

        def health(port_):
            with socket.create_connection(("127.0.0.1", port_), timeout=1) as s:
                s.sendall(b"GET /__fake/health HTTP/1.1\r\nHost: x\r\n"
                          b"Connection: close\r\n\r\n")
                return s.recv(64).startswith(b"HTTP/1.1 200")
        wait_http(port, p, health)
        times.append((time.perf_counter() - t0) * 1000)
        p.terminate()
        p.wait(10)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runtime", default=os.path.join(ROOT, "build",
                                                      "strands-runtime"))
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    res = {}

    fake, fake_port = start_fake(0)
    try:
        probe = os.path.join(os.path.dirname(a.runtime), "cold_start")
        res["cold_start_ms"] = cold_start(a.runtime, fake_port, probe)
        res["reference_cold_start_ms"] = reference_cold_start()

        rt, port, _ = start_runtime(a.runtime, fake_port)
        time.sleep(0.3)
        res["idle_rss_mib"] = rss_kib(rt.pid) / 1024
        res["reference_idle_rss_mib"] = rss_kib(fake.pid) / 1024

        ping = wrk("http://127.0.0.1:%d/ping" % port, 64, a.seconds)
        ref = wrk("http://127.0.0.1:%d/__fake/health" % fake_port, 64,
                  a.seconds)
        res["ping_rps"] = ping["rate"]
        res["reference_server_rps"] = ref["rate"]

        # Reference CPU: the Python fake answering Converse directly.
        f0 = cpu_seconds(fake.pid)
        conv = wrk("http://127.0.0.1:%d/model/m/converse" % fake_port, 8,
                   a.seconds, {"messages": [{"role": "user", "content":
                                             [{"text": "benchmark"}]}]})
        res["reference_python_cpu_ms_per_converse"] = \
            (cpu_seconds(fake.pid) - f0) * 1000 / max(conv["requests"], 1)

        rt.terminate()
        rt.wait(20)
    finally:
        fake.terminate()
        fake.wait(10)

    bindir = os.path.dirname(a.runtime)
    # CPU per invocation: zero-latency C fake, 8 connections.
    fast, fast_port = start_fast_fake(bindir, 0)
    try:
        rt, port, _ = start_runtime(a.runtime, fast_port)
        c0 = cpu_seconds(rt.pid)
        inv = wrk("http://127.0.0.1:%d/invocations" % port, 8, a.seconds,
                  {"prompt": "benchmark"})
        res["invocation_rps_zero_latency"] = inv["rate"]
        res["invocation_non_2xx"] = inv["non_2xx"]
        res["cpu_ms_per_invocation"] = \
            (cpu_seconds(rt.pid) - c0) * 1000 / max(inv["requests"], 1)
        time.sleep(1.5)
        res["rss_after_load_mib"] = rss_kib(rt.pid) / 1024
        rt.terminate()
        rt.wait(20)
    finally:
        fast.terminate()
        fast.wait(10)

    # Concurrency: 256 connections against a 100 ms fake.
    fast, fast_port = start_fast_fake(bindir, 100)
    try:
        rt, port, _ = start_runtime(a.runtime, fast_port)
        conc = wrk("http://127.0.0.1:%d/invocations" % port, 256,
                   a.seconds * 2, {"prompt": "benchmark"})
        ideal = 256 / 0.1
        res["concurrent_rps_100ms"] = conc["rate"]
        res["concurrent_ideal_rps"] = ideal
        res["concurrent_fraction_of_ideal"] = conc["rate"] / ideal
        res["concurrent_non_2xx"] = conc["non_2xx"]
        res["concurrent_p99_ms"] = conc["p99_ms"]
        time.sleep(1.5)
        res["rss_after_256_conn_load_mib"] = rss_kib(rt.pid) / 1024
        rt.terminate()
        rt.wait(20)
    finally:
        fast.terminate()
        fast.wait(10)

    res["ratio_cold_start_vs_reference"] = \
        res["cold_start_ms"] / res["reference_cold_start_ms"]
    res["ratio_ping_rps_vs_reference"] = \
        res["ping_rps"] / res["reference_server_rps"]
    res["ratio_idle_rss_vs_reference"] = \
        res["idle_rss_mib"] / res["reference_idle_rss_mib"]
    res["ratio_cpu_per_invocation_vs_reference"] = \
        res["cpu_ms_per_invocation"] / \
        res["reference_python_cpu_ms_per_converse"]
    for k, v in res.items():
        print("%-50s %s" % (k, ("%.3f" % v) if isinstance(v, float) else v))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Instructions per invocation, the deterministic cost figure: runs the
runtime under callgrind (every thread counted) against bench/fast_fake,
sends N1 and then N2 sequential JSON invocations in two separate runs over
10 sessions, and prints (total(N2) - total(N1)) / (N2 - N1), so start-up
and shutdown cancel out. Needs valgrind and a built build/fast_fake.

    /usr/bin/python3 bench/instructions.py --runtime build/strands-runtime
"""
import argparse
import glob
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402


def total_instructions(runtime, bindir, n):
    fast, fport = bench.start_fast_fake(bindir, 0)
    port = bench.free_port()
    out = os.path.join(tempfile.mkdtemp(prefix="strands-cg-"), "cg.out")
    p = subprocess.Popen(["valgrind", "--tool=callgrind",
                          "--callgrind-out-file=" + out, runtime],
                         env=bench.runtime_env(port, fport),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                c.request("GET", "/ping")
                c.getresponse().read()
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for i in range(n):
            c.request("POST", "/invocations", body=json.dumps(
                {"prompt": "hi", "session_id": "s%d" % (i % 10)}))
            r = c.getresponse()
            r.read()
            if r.status != 200:
                raise SystemExit("invocation answered %d" % r.status)
    finally:
        p.terminate()
        p.wait(120)
        fast.terminate()
        fast.wait()
    total = 0
    for f in glob.glob(out + "*"):
        with open(f) as fh:
            for line in fh:
                m = re.match(r"(?:summary|totals): (\d+)", line)
                if m:
                    total += int(m.group(1))
                    break
        os.unlink(f)
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runtime", default="build/strands-runtime")
    ap.add_argument("--bindir", default="build",
                    help="where fast_fake is (default: build)")
    ap.add_argument("--n1", type=int, default=50)
    ap.add_argument("--n2", type=int, default=250)
    a = ap.parse_args()
    if not 0 < a.n1 < a.n2 <= 10000:
        ap.error("need 0 < n1 < n2 <= 10000")
    t1 = total_instructions(a.runtime, a.bindir, a.n1)
    t2 = total_instructions(a.runtime, a.bindir, a.n2)
    print("instructions_per_invocation %.0f" % ((t2 - t1) / (a.n2 - a.n1)))


if __name__ == "__main__":
    main()

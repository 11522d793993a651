"""Tests of the Dockerfile and .dockerignore without a container engine:
the stages and instructions the image needs (non-root, EXPOSE 8080, a
curl-free HEALTHCHECK, runtime libraries only), the package names against
Debian 12's lists for arm64 and amd64, and an emulation of the build stage
on this Debian 12 machine: the .dockerignore allowlist copied to a temp
dir, the Dockerfile's own cmake/strip commands run on it, and every shared
library the stripped binary needs traced to a run-stage package."""
import os
import re
import shlex
import shutil
import socket
import subprocess
import time
from fnmatch import fnmatchcase

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DOCKERFILE = os.path.join(ROOT, "Dockerfile")
RUN_PACKAGES = {"libmicrohttpd12", "libcurl4", "libjansson4", "libssl3", "zlib1g",
                "libhiredis0.14", "libwslay1", "ca-certificates"}
BUILD_PACKAGES = {"build-essential", "cmake", "pkg-config", "libmicrohttpd-dev",
                  "libcurl4-openssl-dev", "libjansson-dev", "libssl-dev", "zlib1g-dev",
                  "libhiredis-dev", "libwslay-dev"}
BIN = "/usr/local/bin/strands-runtime"


def instructions(path=DOCKERFILE):
    """[(KEYWORD, text)] with continuation lines joined, comments dropped."""
    out, cur = [], ""
    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not cur and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if line.lstrip().startswith("#"):
                continue
            if line.endswith("\\"):
                cur += line[:-1] + " "
                continue
            cur += line
            kw, _, rest = cur.strip().partition(" ")
            out.append((kw.upper(), " ".join(rest.split())))
            cur = ""
    return out


def stages():
    """{"args": [...], "build": [...], "final": [...]}: instructions by stage."""
    result, name = {"args": []}, "args"
    for kw, text in instructions():
        if kw == "FROM":
            m = re.match(r"(\S+)(?: AS (\S+))?$", text, re.I)
            name = (m.group(2) or "final").lower()
            result[name] = [(kw, text)]
        else:
            result[name].append((kw, text))
    return result


def apt_packages(stage):
    pkgs = set()
    for kw, text in stage:
        if kw == "RUN" and "apt-get install" in text:
            seg = text.split("apt-get install", 1)[1].split("&&", 1)[0]
            pkgs |= {w for w in seg.split() if not w.startswith("-")}
    return pkgs


def test_two_stages_from_debian_12_slim():
    s = stages()
    assert ("ARG", "DEBIAN_IMAGE=debian:12-slim") in s["args"]
    assert s["build"][0] == ("FROM", "${DEBIAN_IMAGE} AS build")
    assert s["final"][0] == ("FROM", "${DEBIAN_IMAGE}")
    assert list(s) == ["args", "build", "final"]


def test_build_stage_builds_only_the_runtime_in_release_and_strips_it():
    build = stages()["build"]
    assert apt_packages(build) == BUILD_PACKAGES
    runs = " ".join(t for k, t in build if k == "RUN")
    assert "cmake -S /src -B /build -DCMAKE_BUILD_TYPE=Release" in runs
    assert "cmake --build /build --target strands-runtime" in runs
    assert "strip --strip-unneeded -o /strands-runtime /build/strands-runtime" in runs
    assert ("COPY", ". /src") in build


def test_run_stage_has_runtime_libraries_only_and_runs_as_non_root():
    final = stages()["final"]
    assert apt_packages(final) == RUN_PACKAGES
    text = " ".join(t for _, t in final)
    for tool in ("curl ", "wget", "-dev", "build-essential", "gcc", "cmake"):
        assert tool not in text.replace("libcurl4", ""), tool
    assert "--no-install-recommends" in text
    assert "rm -rf /var/lib/apt/lists/*" in text
    assert ("COPY", f"--from=build /strands-runtime {BIN}") in final
    kws = [k for k, _ in final]
    user = [t for k, t in final if k == "USER"]
    assert user == ["1000:1000"]
    # USER comes after every RUN (the package installs need root).
    assert max(i for i, k in enumerate(kws) if k == "RUN") < kws.index("USER")
    assert "useradd --uid 1000 --gid 1000" in text
    assert [t for k, t in final if k == "EXPOSE"] == ["8080"]
    hc = [t for k, t in final if k == "HEALTHCHECK"]
    assert len(hc) == 1 and hc[0].endswith(f'CMD ["{BIN}", "--healthcheck"]')
    assert [t for k, t in final if k == "ENTRYPOINT"] == [f'["{BIN}"]']
    assert ("RUN", f'["{BIN}", "--version"]') in final


def apt_show(names):
    """{Package: Architecture} of the candidate versions apt-cache knows."""
    r = subprocess.run(["apt-cache", "show", "--no-all-versions", *names],
                       capture_output=True, text=True)
    found = {}
    for stanza in r.stdout.split("\n\n"):
        pkg = re.search(r"^Package: (\S+)", stanza, re.M)
        arch = re.search(r"^Architecture: (\S+)", stanza, re.M)
        if pkg and arch and re.search(r"^Version: ", stanza, re.M):
            found[pkg.group(1)] = arch.group(1)
    return found


@pytest.mark.parametrize("arch", ["arm64", "amd64"])
def test_packages_exist_in_debian_12(arch):
    if shutil.which("apt-cache") is None:
        pytest.skip("apt-cache not available")
    if not apt_show([f"libc6:{arch}"]):
        pytest.skip(f"no {arch} package lists here (dpkg --add-architecture {arch}; "
                    "apt-get update)")
    wanted = sorted(RUN_PACKAGES | BUILD_PACKAGES)
    found = apt_show([f"{p}:{arch}" for p in wanted])
    missing = [p for p in wanted if p not in found]
    found_all = apt_show(missing) if missing else {}
    for p in wanted:
        assert found.get(p) in (arch, "all") or found_all.get(p) == "all", f"{p}:{arch}"


# ---- .dockerignore and the build stage, emulated here --------------------

def ignore_patterns():
    with open(os.path.join(ROOT, ".dockerignore")) as f:
        return [ln.strip() for ln in f if ln.strip() and not ln.startswith("#")]


def pattern_matches(pattern, rel):
    """Docker's rule: a pattern matches a path or any of its parents; each
    path component is matched like Go's filepath.Match (no '/' in '*')."""
    pp, parts = pattern.strip("/").split("/"), rel.split("/")
    return len(parts) >= len(pp) and all(fnmatchcase(parts[i], pp[i])
                                         for i in range(len(pp)))


def context_files():
    pats = ignore_patterns()
    heads = {p.lstrip("!").split("/")[0] for p in pats if p.startswith("!")}
    files = []
    for dirpath, dirnames, filenames in os.walk(ROOT):
        rel_dir = os.path.relpath(dirpath, ROOT)
        if rel_dir == ".":
            dirnames[:] = [d for d in dirnames if d in heads]
        for fn in filenames:
            rel = os.path.normpath(os.path.join(rel_dir, fn))
            included = True
            for p in pats:
                neg = p.startswith("!")
                if pattern_matches(p.lstrip("!"), rel):
                    included = neg
            if included:
                files.append(rel)
    return sorted(files)


def test_dockerignore_is_an_allowlist_of_sources():
    files = context_files()
    assert "CMakeLists.txt" in files
    assert "cmd/strands-runtime/main.c" in files
    assert any(f.startswith("src/server/") for f in files)
    assert any(f.startswith("include/strands/") for f in files)
    for f in files:
        assert not f.startswith((".git/", "build", "docs/", "tests/fakes", "tests/unit",
                                 "tests/integration", "fuzz/")), f
        assert "node_modules" not in f and not f.endswith(".log"), f
    assert "Dockerfile" not in files and "README.md" not in files


def ldd_paths(binary):
    r = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True)
    out = {}
    for line in r.stdout.splitlines():
        m = re.match(r"\s*(\S+) => (\S+)", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def owning_package(path):
    real = os.path.realpath(path)
    candidates = {path, real}
    for p in list(candidates):
        candidates.add(p[4:] if p.startswith("/usr/") else "/usr" + p)
    for p in candidates:
        r = subprocess.run(["dpkg", "-S", p], capture_output=True, text=True)
        if r.returncode == 0:
            return r.stdout.split(":", 1)[0].split(",")[0].strip()
    return None


def test_build_stage_emulated_builds_a_binary_the_run_stage_can_load(tmp_path):
    for tool in ("cmake", "strip", "readelf", "ldd", "dpkg"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not available")
    src, build = tmp_path / "src", tmp_path / "build"
    for rel in context_files():
        dst = src / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(os.path.join(ROOT, rel), dst)
    runs = [t for k, t in stages()["build"] if k == "RUN" and "cmake -S" in t]
    assert len(runs) == 1
    script = (runs[0].replace("/src", shlex.quote(str(src)))
              .replace("/build", shlex.quote(str(build)))
              .replace("-o /strands-runtime", f"-o {tmp_path}/strands-runtime")
              .replace("&& /strands-runtime", f"&& {tmp_path}/strands-runtime"))
    r = subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    binary = str(tmp_path / "strands-runtime")
    assert r.stdout.strip().splitlines()[-1].startswith("strands-runtime ")  # --version
    dyn = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True).stdout
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", dyn)
    assert "libcurl.so.4" in needed and "libmicrohttpd.so.12" in needed
    assert subprocess.run(["readelf", "-S", binary], capture_output=True,
                          text=True).stdout.count(".debug_") == 0   # stripped
    paths = ldd_paths(binary)
    for lib in needed:
        pkg = owning_package(paths[lib])
        assert pkg in RUN_PACKAGES | {"libc6"}, f"{lib} comes from {pkg}"

    # The healthcheck the image runs: non-zero, fast, when nothing listens.
    t0 = time.monotonic()
    hc = subprocess.run([binary, "--healthcheck"], capture_output=True, text=True,
                        env={"PORT": "1", "PATH": "/usr/bin:/bin"}, timeout=30)
    assert hc.returncode != 0
    assert time.monotonic() - t0 < 5
    # ... and when something accepts but never answers: inside the 5 s
    # HEALTHCHECK --timeout of the Dockerfile.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        t0 = time.monotonic()
        hc = subprocess.run([binary, "--healthcheck"], capture_output=True, text=True,
                            env={"PORT": str(silent.getsockname()[1]),
                                 "PATH": "/usr/bin:/bin"}, timeout=30)
        assert hc.returncode != 0
        assert time.monotonic() - t0 < 5

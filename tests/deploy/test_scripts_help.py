"""Every executable script under scripts/ answers --help with a usage text
and exit status 0, and does nothing else: no package manager, compiler,
build tool or test runner is started and no file appears in the tree.
Sourced libraries are not executable."""

import os
import stat
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SCRIPTS = os.path.join(ROOT, "scripts")

# Commands a script might run for real; each stub records that it ran.
STUBBED = ["apt-get", "dpkg-query", "npm", "node", "cmake", "make", "ctest",
           "gcc", "clang", "qemu-aarch64", "aws", "docker", "curl", "pytest",
           "python3", "timeout", "nproc"]


def executables():
    out = []
    for d, _, files in os.walk(SCRIPTS):
        for f in files:
            p = os.path.join(d, f)
            if os.stat(p).st_mode & stat.S_IXUSR:
                out.append(os.path.relpath(p, ROOT))
    return sorted(out)


def tree_state():
    r = subprocess.run(["git", "status", "--porcelain", "--ignored",
                        "--untracked-files=all"], cwd=ROOT,
                       capture_output=True, text=True)
    return r.stdout if r.returncode == 0 else None


@pytest.fixture
def stub_path(tmp_path):
    log = tmp_path / "calls.log"
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for name in STUBBED:
        p = bindir / name
        p.write_text("#!/bin/sh\necho \"%s $*\" >> %s\nexit 0\n"
                     % (name, log))
        p.chmod(0o755)
    return str(bindir), log


def test_there_are_scripts():
    names = executables()
    assert "scripts/test.sh" in names and "scripts/build.sh" in names


@pytest.mark.parametrize("script", executables())
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_prints_usage_and_does_nothing_else(script, flag, stub_path):
    bindir, log = stub_path
    before = tree_state()
    env = dict(os.environ, PATH=bindir + ":/usr/bin:/bin")
    r = subprocess.run([os.path.join(ROOT, script), flag], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.lstrip().lower().startswith("usage:"), r.stdout[:200]
    assert not log.exists(), "ran: " + log.read_text()
    if before is not None:
        assert tree_state() == before


def test_sourced_libraries_are_not_executable():
    for d, _, files in os.walk(SCRIPTS):
        for f in files:
            p = os.path.join(d, f)
            with open(p, encoding="utf-8", errors="replace") as fh:
                head = fh.read(400)
            if "sourced" in head.lower() or "shellcheck shell=" in head:
                assert not os.stat(p).st_mode & stat.S_IXUSR, p
            else:
                assert head.startswith("#!"), p

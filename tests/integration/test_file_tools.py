"""The workspace tools through the real binary (issue 9, built-ins): the
fake Bedrock asks for file_write, file_read and file_list in turn, and each
follow-up model request carries the tool's result; a path that tries to
leave WORKSPACE_DIR (`..`, an absolute path, a symlink to outside) gets an
error toolResult and touches nothing. `shell` runs in the workspace and
reports its exit status; its timeout kills the command's process group.
A WORKSPACE_DIR that is not a directory stops start-up, naming it."""

import os
import subprocess
import time

from conftest import RUNTIME


def converse_requests(fake):
    return [r for r in fake.requests() if r.get("operation") == "converse"]


def tool_results(fake):
    """The toolResult of every follow-up request, in order."""
    out = []
    for req in converse_requests(fake)[1:]:
        msg = req["body"]["messages"][-1]
        assert msg["role"] == "user"
        out.append(msg["content"][0]["toolResult"])
    return out


def tool_names(fake):
    req = converse_requests(fake)[0]["body"]
    return sorted(t["toolSpec"]["name"]
                  for t in req["toolConfig"]["tools"])


def use(tid, name, inp):
    return {"tool_use": [{"id": tid, "name": name, "input": inp}]}


def test_write_read_list_and_escapes(start_runtime, fake, tmp_path):
    ws = tmp_path / "ws"           # does not exist yet: made at start
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("s3cret")
    fake.script([
        use("w1", "file_write", {"path": "notes/todo.txt",
                                 "content": "buy milk\n"}),
        use("r1", "file_read", {"path": "notes/todo.txt"}),
        use("l1", "file_list", {"recursive": True}),
        use("e1", "file_read", {"path": "../outside/secret.txt"}),
        use("e2", "file_read", {"path": str(outside / "secret.txt")}),
        use("e3", "file_write", {"path": "link/pwned.txt",
                                 "content": "x"}),
        {"text": "all done"}])
    rt = start_runtime(TOOLS="file_read,file_write,file_list",
                       WORKSPACE_DIR=str(ws))
    assert ws.is_dir()
    assert oct(ws.stat().st_mode & 0o777) == "0o700"
    os.symlink(str(outside), str(ws / "link"))
    status, _, doc = rt.invoke({"prompt": "files", "session_id": "ft-1"})
    assert status == 200, doc
    assert doc["response"] == "all done"
    assert tool_names(fake) == ["file_list", "file_read", "file_write"]
    w, r, l, e1, e2, e3 = tool_results(fake)

    assert w["toolUseId"] == "w1" and w["status"] == "success", w
    assert w["content"] == [{"json": {"path": "notes/todo.txt",
                                      "mode": "overwrite",
                                      "bytes_written": 9, "size": 9}}]
    assert (ws / "notes" / "todo.txt").read_text() == "buy milk\n"

    assert r["status"] == "success", r
    assert r["content"] == [{"json": {
        "path": "notes/todo.txt", "size": 9, "offset": 0, "length": 9,
        "encoding": "text", "content": "buy milk\n", "truncated": False}}]

    assert l["status"] == "success", l
    listing = l["content"][0]["json"]
    assert listing["entries"] == [
        {"path": "link", "type": "symlink"},
        {"path": "notes", "type": "directory"},
        {"path": "notes/todo.txt", "type": "file", "size": 9}]
    assert listing["truncated"] is False

    for res, why in ((e1, "'..' components are not allowed"),
                     (e2, "absolute paths are not allowed"),
                     (e3, "'link' is a symbolic link")):
        assert res["status"] == "error", res
        assert why in res["content"][0]["text"], res
    assert "s3cret" not in str(converse_requests(fake))
    assert sorted(os.listdir(outside)) == ["secret.txt"]


def test_shell_round_trip(start_runtime, fake, tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "data.txt").write_text("a\nb\nc\n")
    fake.script([
        use("s1", "shell", {"command": "wc -l < data.txt; echo warn >&2; "
                                       "exit 4"}),
        {"text": "counted"}])
    rt = start_runtime(TOOLS="shell", WORKSPACE_DIR=str(ws))
    status, _, doc = rt.invoke({"prompt": "count", "session_id": "sh-1"})
    assert status == 200, doc
    assert tool_names(fake) == ["shell"]
    (res,) = tool_results(fake)
    assert res["status"] == "success", res   # a non-zero exit is a result
    assert res["content"] == [{"json": {
        "exit_code": 4, "signal": None, "stdout": "3\n", "stderr": "warn\n",
        "stdout_truncated": False, "stderr_truncated": False,
        "truncated": False}}]


def test_shell_is_off_unless_listed(start_runtime, fake, tmp_path):
    fake.script([{"text": "hi"}])
    rt = start_runtime(TOOLS="calculator,file_read",
                       WORKSPACE_DIR=str(tmp_path))
    status, _, doc = rt.invoke({"prompt": "x", "session_id": "sh-0"})
    assert status == 200, doc
    assert tool_names(fake) == ["calculator", "file_read"]


def test_shell_timeout_kills_the_group(start_runtime, fake, tmp_path):
    ws = tmp_path / "ws"
    fake.script([
        use("s1", "shell", {"command": "sleep 30 & echo $! > pid; wait"}),
        {"text": "gave up"}])
    rt = start_runtime(TOOLS="shell", WORKSPACE_DIR=str(ws),
                       SHELL_TIMEOUT_SECONDS="1")
    t0 = time.monotonic()
    status, _, doc = rt.invoke({"prompt": "sleep", "session_id": "sh-2"})
    assert status == 200, doc
    assert time.monotonic() - t0 < 5
    assert doc["response"] == "gave up"
    (res,) = tool_results(fake)
    assert res["status"] == "error", res
    assert "timed out after 1 s" in res["content"][0]["text"], res
    pid = int((ws / "pid").read_text())
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        try:
            with open("/proc/%d/stat" % pid) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            break
        if state in ("Z", "X"):
            break
        time.sleep(0.05)
    else:
        raise AssertionError("sleep %d still runs" % pid)


def test_bad_workspace_dir_fails_start_naming_it(tmp_path):
    not_dir = tmp_path / "file"
    not_dir.write_text("x")
    for value, why in ((str(not_dir), "is not a directory"),
                       (str(not_dir / "sub"), "cannot create")):
        p = subprocess.run([RUNTIME], capture_output=True, text=True,
                           timeout=10,
                           env={"TOOLS": "file_read",
                                "WORKSPACE_DIR": value,
                                "AWS_EC2_METADATA_DISABLED": "true"})
        assert p.returncode == 2, p
        assert "WORKSPACE_DIR: " in p.stderr, p.stderr
        assert why in p.stderr, p.stderr
    # Bad numbers are configuration errors that name their variable.
    for var in ("FILE_MAX_BYTES", "SHELL_TIMEOUT_SECONDS",
                "SHELL_OUTPUT_MAX_BYTES"):
        p = subprocess.run([RUNTIME], capture_output=True, text=True,
                           timeout=10,
                           env={var: "0", "AWS_EC2_METADATA_DISABLED": "true"})
        assert p.returncode == 2, p
        assert p.stderr.startswith(
            "strands-runtime: configuration error: " + var + ":"), p.stderr

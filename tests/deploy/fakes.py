"""Fake `aws` and `docker` executables for the deploy-script tests.

write_fakes(dir) puts two small Python programs named aws and docker in dir.
Each appends one JSON line per run to $FAKE_LOG: the argument vector, the
contents of every file:// or fileb:// argument (read while the command runs,
as the real CLI does), and for docker its standard input. The fake aws
answers from $FAKE_RESPONSES, a JSON object keyed by "service operation":
  {"json": {...}}                 a service answer; --query (JMESPath) and
                                  --output text|json are applied like the CLI
  {"error": "Code", "message": m} prints the CLI's error line, exits 254
  {"text": "..."}                 printed as it is
  {"body": "...", "json": {...}}  invoke-agent-runtime: body goes to the
                                  outfile (the last argument), json to stdout
A list of answers is consumed one per call; the last one repeats.
"""
import json
import os

AWS = r'''#!/usr/bin/python3
import json, os, sys
argv = sys.argv[1:]

def files_of(args):
    out = {}
    for a in args:
        for pfx in ("fileb://", "file://"):
            if a.startswith(pfx):
                try:
                    with open(a[len(pfx):], "rb") as f:
                        out[a] = f.read().decode("utf-8", "replace")
                except OSError as e:
                    out[a] = "<unreadable: %s>" % e
    return out

def opt(name):
    return argv[argv.index(name) + 1] if name in argv else None

def text(v):
    if v is None:
        return "None"
    if isinstance(v, bool):
        return "True" if v else "False"
    if isinstance(v, list):
        if all(isinstance(x, list) for x in v) and v:
            return "\n".join(text(x) for x in v)
        return "\t".join(text(x) for x in v)
    if isinstance(v, dict):
        return "\t".join(text(x) for x in v.values())
    return str(v)

with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps({"prog": "aws", "argv": argv,
                          "files": files_of(argv)}) + "\n")

key = " ".join(argv[:2])
with open(os.environ["FAKE_RESPONSES"]) as f:
    answers = json.load(f).get(key)
if answers is None:
    sys.stderr.write("fake aws: no answer for %r\n" % key)
    sys.exit(99)
if isinstance(answers, list):
    state_path = os.environ["FAKE_LOG"] + ".state"
    state = json.load(open(state_path)) if os.path.exists(state_path) else {}
    i = state.get(key, 0)
    state[key] = i + 1
    with open(state_path, "w") as f:
        json.dump(state, f)
    answer = answers[min(i, len(answers) - 1)]
else:
    answer = answers

if "error" in answer:
    sys.stderr.write("\nAn error occurred (%s) when calling the %s operation: %s\n"
                     % (answer["error"], argv[1], answer.get("message", "")))
    sys.exit(254)
if "text" in answer:
    sys.stdout.write(answer["text"])
    sys.exit(0)
if "body" in answer:
    with open(argv[-1], "wb") as out:
        out.write(answer["body"].encode())
data = answer.get("json")
q = opt("--query")
if q is not None:
    import jmespath
    data = jmespath.search(q, data)
if opt("--output") == "text":
    print(text(data))
else:
    print(json.dumps(data, indent=4))
'''

DOCKER = r'''#!/usr/bin/python3
import json, os, sys
argv = sys.argv[1:]
stdin = sys.stdin.read() if "--password-stdin" in argv else None
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps({"prog": "docker", "argv": argv, "stdin": stdin}) + "\n")
if argv[:1] == ["login"]:
    print("Login Succeeded")
else:
    sys.stderr.write("fake docker: %s\n" % " ".join(argv))
sys.exit(int(os.environ.get("FAKE_DOCKER_EXIT", "0")))
'''


def write_fakes(bindir):
    for name, src in (("aws", AWS), ("docker", DOCKER)):
        path = os.path.join(bindir, name)
        with open(path, "w") as f:
            f.write(src)
        os.chmod(path, 0o755)


def read_log(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]

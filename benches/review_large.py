#!/usr/bin/env python3
"""End-to-end benchmark of `posture review` on large SARIF logs, next to Python's json.load.

Builds a git repository of 1,000 Python files (base, then a head commit that inserts lines
at the top of every tenth file and adds a finding per file), writes a SARIF log of N results
for each side (default 100,000, about 47 MB each, CodeQL-shaped), then times:
  - python3's json.load of both logs (the yardstick),
  - `posture review --format json` of the change (release build),
and prints wall time and peak RSS of each (from /usr/bin/time or getrusage).

usage: cargo build --release && python3 benches/review_large.py [RESULTS] [WORKDIR]
"""
import json, os, resource, subprocess, sys, tempfile, time

RESULTS = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
WORK = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="posture-bench-")
FILES = 1_000
LINES = 400
POSTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "target", "release", "posture")


def git(*args):
    subprocess.run(["git", "-C", REPO, *args], check=True, capture_output=True)


def write_files(head):
    for f in range(FILES):
        path = os.path.join(REPO, "src", f"m{f // 100}", f"f{f}.py")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        lines = [f"value_{f}_{n} = query(request.args['q{n}'])" for n in range(LINES)]
        if head and f % 10 == 0:
            lines = ["# moved down"] * 3 + lines
        with open(path, "w") as out:
            out.write("\n".join(lines) + "\n")


def result(f, line, n):
    return {
        "ruleId": "py/sql-injection",
        "ruleIndex": 0,
        "level": "error",
        "message": {"text": f"This SQL query depends on a user-provided value ({n})."},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": f"src/m{f // 100}/f{f}.py", "uriBaseId": "%SRCROOT%", "index": 0},
            "region": {"startLine": line, "startColumn": 5, "endLine": line, "endColumn": 40}}}],
        "partialFingerprints": {"primaryLocationLineHash": f"{f:08x}{line:08x}:1"},
    }


def sarif(head):
    results = []
    per_file = RESULTS // FILES
    for f in range(FILES):
        shift = 3 if head and f % 10 == 0 else 0
        for k in range(per_file - (1 if head else 0)):
            line = 1 + (k * LINES) // per_file
            results.append(result(f, line + shift, len(results)))
        if head:
            results.append(result(f, LINES + shift, len(results)))
    return {"version": "2.1.0", "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "runs": [{"tool": {"driver": {"name": "CodeQL", "rules": [{
                "id": "py/sql-injection", "shortDescription": {"text": "SQL query built from user-controlled sources"},
                "properties": {"security-severity": "8.8", "tags": ["security", "external/cwe/cwe-089"]}}]}},
                "results": results}]}


def timed(command):
    start = time.monotonic()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", *command], capture_output=True, text=True)
    elapsed = time.monotonic() - start
    peak_kib = int(proc.stderr.strip().splitlines()[-1])
    return elapsed, peak_kib, proc


REPO = os.path.join(WORK, "repo")
if not os.path.exists(os.path.join(REPO, ".git")):
    os.makedirs(REPO, exist_ok=True)
    git("init", "-q", "-b", "main")
    git("config", "user.email", "bench@example.com")
    git("config", "user.name", "bench")
    write_files(False)
    git("add", "-A"); git("commit", "-q", "-m", "base")
    write_files(True)
    git("add", "-A"); git("commit", "-q", "-m", "head")
    for side, head in (("base", False), ("head", True)):
        with open(os.path.join(WORK, f"{side}.sarif"), "w") as out:
            json.dump(sarif(head), out)
base, head = os.path.join(WORK, "base.sarif"), os.path.join(WORK, "head.sarif")
size = (os.path.getsize(base) + os.path.getsize(head)) / 2 / 1e6
print(f"{RESULTS} results per side, {size:.1f} MB per log, in {WORK}")

load = [sys.executable, "-c", "import json,sys; [json.load(open(p)) for p in sys.argv[1:]]", base, head]
review = [POSTURE, "review", "--repo", REPO, "--base", "HEAD~1", "--head", "HEAD",
          "--base-report", base, "--head-report", head, "--format", "json"]
for name, command in (("python json.load", load), ("posture review", review)):
    runs = [timed(command) for _ in range(3)]
    best = min(runs, key=lambda r: r[0])
    if name == "posture review":
        out = json.loads(best[2].stdout)
        print(f"  review: new {out['summary']['new']}, existing {out['summary']['existing']}, fixed {out['summary']['fixed']}")
    print(f"{name:18} best of 3: {best[0]:.2f} s, peak RSS {best[1] / 1024:.0f} MiB")

#!/usr/bin/env python3
# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""Programs per second of the sandboxed `code` verifier against a naive, unsandboxed process pool.

The programs are HumanEval's 164 reference solutions and 164 mutants (the entry point's body replaced by
`return None`), from fixtures/peer/humaneval.jsonl. Arbiter runs as `arbiter serve --jobs N` fed them as
JSON lines (reference {"test", "entry_point"}); every program runs in its own sandbox (namespaces, cgroups,
unprivileged user, read-only root). The pool is what many trainers do: N worker threads, each writing
prompt + solution + test + `check(entry_point)` to a temporary file and running one `python3` process on it with a
timeout, pass = exit status 0. Both use the same interpreter (the real one, not a version-manager shim). A third
line times bare `python3 -c pass` starts, the floor of any one-process-per-program design.

Run (as root, after `swift build -c release`):
    python3 Benchmarks/code_vs_pool.py [--binary .build/release/arbiter] [--jobs 2] [--repeat 3]
"""
import argparse
import concurrent.futures
import json
import os
import subprocess
import tempfile
import time


def problems(path):
    rows = [json.loads(line) for line in open(path)]
    programs = []
    for row in rows:
        programs.append((row, row["prompt"] + row["canonical_solution"], True))
        programs.append((row, row["prompt"] + "    return None\n", False))
    return programs


def run_pool(programs, python, jobs, scratch):
    def one(item):
        index, (row, code, _) = item
        path = os.path.join(scratch, "p%d.py" % index)
        with open(path, "w") as out:
            out.write(code + "\n" + row["test"] + "\ncheck(%s)\n" % row["entry_point"])
        try:
            done = subprocess.run([python, path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=5)
            return done.returncode == 0
        except subprocess.TimeoutExpired:
            return False

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        verdicts = list(pool.map(one, enumerate(programs)))
    return time.perf_counter() - started, verdicts


def run_arbiter(programs, binary, jobs, scratch, environment=None):
    path = os.path.join(scratch, "requests.jsonl")
    with open(path, "w") as out:
        for index, (row, code, _) in enumerate(programs):
            request = {"id": index, "verifier": "code", "response": "```python\n" + code + "```\n",
                       "reference": {"test": row["test"], "entry_point": row["entry_point"]}}
            out.write(json.dumps(request) + "\n")
    with open(path, "rb") as source:
        started = time.perf_counter()
        done = subprocess.run([binary, "serve", "--jobs", str(jobs), "--log-level", "error"], stdin=source,
                              stdout=subprocess.PIPE, check=True, env=environment)
        seconds = time.perf_counter() - started
    answers = {}
    for line in done.stdout.decode().splitlines():
        answer = json.loads(line)
        answers[answer["id"]] = answer
    return seconds, [answers[index].get("passed", False) for index in range(len(programs))], answers


def bare_starts(command, count, scratch):
    """Seconds per start of an empty main.py with the toolchain's own command, unsandboxed, one after another."""
    open(os.path.join(scratch, "main.py"), "w").close()
    started = time.perf_counter()
    for _ in range(count):
        subprocess.run(command, check=True, cwd=scratch)
    return (time.perf_counter() - started) / count


def sandboxed_starts(binary, count, scratch):
    """Seconds per sandboxed run of the same empty program through `arbiter serve --jobs 1`, process start excluded."""
    path = os.path.join(scratch, "empty.jsonl")
    with open(path, "w") as out:
        for index in range(count):
            request = {"id": index, "verifier": "code", "response": "```python\npass\n```",
                       "reference": {"tests": [{"stdin": "", "stdout": ""}]}}
            out.write(json.dumps(request) + "\n")
    command = [binary, "serve", "--jobs", "1", "--log-level", "error"]
    with open(path, "rb") as source:
        done = subprocess.run(command, stdin=source, stdout=subprocess.PIPE, check=True)
    answers = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert all(answer["passed"] for answer in answers), answers[:1]
    return sum(answer["ms"] for answer in answers) / 1000 / count


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=".build/release/arbiter")
    parser.add_argument("--suite", default=os.path.join(os.path.dirname(__file__), "../fixtures/peer/humaneval.jsonl"))
    parser.add_argument("--python", default="/usr/bin/python3")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    programs = problems(args.suite)
    expected = [good for _, _, good in programs]
    pool_times, arbiter_times, plain_times = [], [], []
    # The same daemon with the seccomp filter switched off: the filter's cost, measured in the same session.
    no_seccomp = dict(os.environ, ARBITER_CODE_NO_SECCOMP="1")
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(args.repeat):
            seconds, verdicts = run_pool(programs, args.python, args.jobs, scratch)
            pool_times.append(seconds)
            assert verdicts == expected, "the pool disagrees with the expected verdicts"
            seconds, verdicts, answers = run_arbiter(programs, args.binary, args.jobs, scratch)
            arbiter_times.append(seconds)
            wrong = [answers[i].get("reason") for i, (v, e) in enumerate(zip(verdicts, expected)) if v != e]
            assert not wrong, "arbiter disagrees on %d programs: %s" % (len(wrong), wrong[:5])
            seconds, verdicts, _ = run_arbiter(programs, args.binary, args.jobs, scratch, no_seccomp)
            plain_times.append(seconds)
            assert verdicts == expected, "arbiter without seccomp disagrees with the expected verdicts"
        toolchain = json.load(open(os.path.join(os.path.dirname(__file__), "../verifiers/toolchains/python.json")))
        command = [args.python if part == "{interpreter}" else part for part in toolchain["run"]]
        start = min(bare_starts(command, 50, scratch) for _ in range(args.repeat))
        pool_start = min(bare_starts([args.python, "main.py"], 50, scratch) for _ in range(args.repeat))
        sandboxed = min(sandboxed_starts(args.binary, 50, scratch) for _ in range(args.repeat))
    n = len(programs)
    pool, arbiter = min(pool_times), min(arbiter_times)
    print("%d programs (%d solutions that pass, %d mutants that fail), --jobs %d, best of %d"
          % (n, sum(expected), n - sum(expected), args.jobs, args.repeat))
    print("| | time | programs/s | wall per program per worker |")
    print("|---|---|---|---|")
    print("| naive pool (%d threads, one unsandboxed `%s` per program) | %.3f s | %.1f | %.1f ms |"
          % (args.jobs, args.python, pool, n / pool, pool * args.jobs / n * 1000))
    print("| `arbiter serve --jobs %d` (sandboxed) | %.3f s | %.1f | %.1f ms |"
          % (args.jobs, arbiter, n / arbiter, arbiter * args.jobs / n * 1000))
    print("| `arbiter serve --jobs %d`, seccomp filter off (ARBITER_CODE_NO_SECCOMP=1) | %.3f s | %.1f | %.1f ms |"
          % (args.jobs, min(plain_times), n / min(plain_times), min(plain_times) * args.jobs / n * 1000))
    print("| ratio (pool time / arbiter time) | **%.2f×** | | |" % (pool / arbiter))
    print("seccomp filter: %+.2f ms per program per worker" % ((arbiter - min(plain_times)) * args.jobs / n * 1000))
    print("empty program, one at a time: `python3 main.py` (the pool's command) %.1f ms; the toolchain's command "
          "(`python3 -I -S -c <bootstrap>`) unsandboxed %.1f ms, sandboxed (verdict `ms`) %.1f ms: sandbox overhead "
          "%+.1f ms per run" % (pool_start * 1000, start * 1000, sandboxed * 1000, (sandboxed - start) * 1000))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""Throughput of `arbiter serve` on stdin/stdout against a minimal Python JSON-lines loop.

Both read the same file of `exact` requests and write one answer line per request. The baseline is the
simplest possible Python grader: read a line, json.loads, compare, json.dumps. Each side runs --repeat
times, alternating; the best wall-clock time and the least CPU time (user + system, from the kernel's
accounting of the child) of each are reported with their ratios and the CPU time per request. On a shared
machine the CPU time is the steadier figure: other processes slow the wall clock, not the work done.

    python3 Benchmarks/serve_exact.py [--binary .build/release/arbiter] [--requests 200000] [--repeat 3]
"""
import json
import os
import random
import subprocess
import sys
import tempfile
import time

from benchlib import arguments, commands


BASELINE = r'''
import json, sys
write = sys.stdout.write
for line in sys.stdin:
    request = json.loads(line)
    ok = request["response"].strip() == request["reference"].strip()
    write(json.dumps({"id": request.get("id"), "score": 1 if ok else 0, "passed": ok,
                      "reason": "equal" if ok else "not_equal"}) + "\n")
'''


def make_requests(path, count, seed=7):
    rng = random.Random(seed)
    words = ["the", "answer", "is", "forty", "two", "so", "we", "get", "x", "=", "3", "therefore", "final"]
    with open(path, "w") as out:
        for index in range(count):
            reference = str(rng.randint(0, 10**6))
            prose = " ".join(rng.choice(words) for _ in range(rng.randint(5, 25)))
            response = reference if rng.random() < 0.5 else prose
            out.write(json.dumps({"id": index, "verifier": "exact", "response": response,
                                  "reference": reference}) + "\n")


def count_answers(command, input_path):
    with open(input_path, "rb") as source:
        result = subprocess.run(command, stdin=source, stdout=subprocess.PIPE, check=True)
    return result.stdout.count(b"\n")


def timed(command, input_path):
    """(wall seconds, CPU seconds: user + system) of one run of command reading input_path."""
    with open(input_path, "rb") as source, open(os.devnull, "wb") as sink:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdin=source, stdout=sink)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            sys.exit(f"{command[0]} exited with {process.returncode}")
        return wall, usage.ru_utime + usage.ru_stime


def main():
    args = arguments(__doc__, 200_000)

    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "requests.jsonl")
        make_requests(path, args.requests)
        python, arbiter = commands(scratch, BASELINE, args)
        answered = count_answers(arbiter, path)
        if answered != args.requests:
            sys.exit(f"arbiter answered {answered} of {args.requests} requests")
        wall = {"python": float("inf"), "arbiter": float("inf")}
        cpu = {"python": float("inf"), "arbiter": float("inf")}
        for _ in range(args.repeat):
            for name, command in (("python", python), ("arbiter", arbiter)):
                seconds, used = timed(command, path)
                wall[name] = min(wall[name], seconds)
                cpu[name] = min(cpu[name], used)
        size = os.path.getsize(path)
        count = args.requests
        print(f"requests: {count} exact requests, {size / count:.0f} bytes each on average; best of {args.repeat}")
        print(f"{'':8s} {'wall s':>8s} {'requests/s':>12s} {'CPU s':>8s} {'CPU µs/request':>15s}")
        for name in ("python", "arbiter"):
            print(f"{name:8s} {wall[name]:8.3f} {count / wall[name]:12,.0f} {cpu[name]:8.3f} "
                  f"{cpu[name] / count * 1e6:15.2f}")
        print(f"ratio    {wall['python'] / wall['arbiter']:.2f}x wall (arbiter --jobs {args.jobs} vs the Python loop), "
              f"{cpu['python'] / cpu['arbiter']:.2f}x per core (CPU time)")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""Throughput of `arbiter serve` on stdin/stdout against a minimal Python JSON-lines loop.

Both read the same file of `exact` requests and write one answer line per request. The baseline is the
simplest possible Python grader: read a line, json.loads, compare, json.dumps. Each side runs --repeat
times; the best wall-clock time of each is reported with the ratio.

    python3 Benchmarks/serve_exact.py [--binary .build/release/arbiter] [--requests 200000] [--repeat 3]
"""
import json
import os
import random
import subprocess
import sys
import tempfile

from benchlib import arguments, commands, run

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


def main():
    args = arguments(__doc__, 200_000)

    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "requests.jsonl")
        make_requests(path, args.requests)
        python, arbiter = commands(scratch, BASELINE, args)
        answered = count_answers(arbiter, path)
        if answered != args.requests:
            sys.exit(f"arbiter answered {answered} of {args.requests} requests")
        best = {"python": float("inf"), "arbiter": float("inf")}
        for _ in range(args.repeat):
            best["python"] = min(best["python"], run(python, path))
            best["arbiter"] = min(best["arbiter"], run(arbiter, path))
        size = os.path.getsize(path)
        print(f"requests: {args.requests} exact requests, {size / args.requests:.0f} bytes each on average")
        for name in ("python", "arbiter"):
            seconds = best[name]
            print(f"{name:8s} {seconds:7.3f} s  {args.requests / seconds:10,.0f} requests/s")
        print(f"ratio    {best['python'] / best['arbiter']:.2f}x (arbiter --jobs {args.jobs} vs the Python loop)")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""Cases per second of the `math` verifier against Hugging Face's Math-Verify on the same cases, one core each.

The cases are Math-Verify's own test suite (fixtures/peer/math-verify-cases.jsonl), repeated --rounds
times. Math-Verify runs in-process (parse + verify per case, default options); Arbiter runs as
`arbiter serve --jobs 1` fed the same cases as JSON lines, so its figure includes reading, parsing and
writing the protocol. Latency percentiles are per case: wall time around Math-Verify's calls, and the `ms`
field Arbiter reports for each verdict.

Math-Verify is not a dependency of the project. Install it in a virtual environment first:
    python3 -m venv /tmp/mvenv && /tmp/mvenv/bin/pip install math-verify
    /tmp/mvenv/bin/python Benchmarks/math_vs_mathverify.py [--binary .build/release/arbiter] [--rounds 5]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=".build/release/arbiter")
    parser.add_argument("--cases", default=os.path.join(os.path.dirname(__file__), "../fixtures/peer/math-verify-cases.jsonl"))
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    from math_verify import parse, verify

    rows = [json.loads(line) for line in open(args.cases)]
    cases = [(row["reference"], row["response"]) for row in rows] * args.rounds

    latencies = []
    started = time.perf_counter()
    for reference, response in cases:
        begin = time.perf_counter()
        try:
            verify(parse(reference), parse(response))
        except Exception:
            pass
        latencies.append((time.perf_counter() - begin) * 1000)
    math_verify_seconds = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "requests.jsonl")
        with open(path, "w") as out:
            for index, (reference, response) in enumerate(cases):
                out.write(json.dumps({"id": index, "verifier": "math", "response": response, "reference": reference}) + "\n")
        with open(path, "rb") as source:
            begin = time.perf_counter()
            result = subprocess.run([args.binary, "serve", "--jobs", "1", "--log-level", "error"], stdin=source,
                                    stdout=subprocess.PIPE, check=True)
            arbiter_seconds = time.perf_counter() - begin
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    arbiter_ms = [answer.get("ms", 0) for answer in answers]
    if len(answers) != len(cases):
        sys.exit(f"arbiter answered {len(answers)} of {len(cases)}")

    print(f"cases: {len(cases)} ({len(rows)} Math-Verify test rows x {args.rounds}), one core each")
    for name, seconds, values in (("math-verify", math_verify_seconds, latencies), ("arbiter", arbiter_seconds, arbiter_ms)):
        print(f"{name:12s} {seconds:8.3f} s {len(cases) / seconds:10,.0f} cases/s   per case p50 {percentile(values, 0.5):8.3f} ms"
              f"  p99 {percentile(values, 0.99):8.3f} ms  max {max(values):8.3f} ms")
    print(f"ratio        {math_verify_seconds / arbiter_seconds:.1f}x cases per second (arbiter --jobs 1, whole process)")
    arbiter_busy = sum(arbiter_ms) / 1000
    print(f"ratio        {sum(latencies) / 1000 / arbiter_busy:.1f}x in verification time alone (sum of per-case times: "
          f"math-verify {sum(latencies) / 1000:.3f} s, arbiter {arbiter_busy:.3f} s)")


if __name__ == "__main__":
    main()

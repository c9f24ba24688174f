#!/usr/bin/env python3
# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""Throughput of `think-format` (mode answer) through `arbiter serve` against a Python loop with open-r1's regex.

Builds --requests completions of about 1.5 kB (60 % well formed; the rest two think blocks, junk after
</answer>, truncated, or no answer tags), then runs both graders on the same file, each --repeat times,
and prints the best wall-clock time of each, the ratio, and how often the two disagree.

The baseline is open-r1's format reward: re.match(r"^<think>\\n.*?\\n</think>\\n<answer>\\n.*?\\n</answer>$",
content, re.DOTALL | re.MULTILINE), inside the simplest JSON-lines loop (json.loads, match, json.dumps).

    python3 Benchmarks/serve_think_format.py [--binary .build/release/arbiter] [--requests 100000]
"""
import json
import os
import random
import sys
import tempfile

from benchlib import arguments, commands, run

BASELINE = r'''
import json, re, sys
pattern = r"^<think>\n.*?\n</think>\n<answer>\n.*?\n</answer>$"
write = sys.stdout.write
for line in sys.stdin:
    request = json.loads(line)
    match = re.match(pattern, request["response"], re.DOTALL | re.MULTILINE)
    ok = match is not None
    write(json.dumps({"id": request.get("id"), "score": 1.0 if ok else 0.0, "passed": ok}) + "\n")
'''

SENTENCES = [
    "We start from the given equation and isolate the unknown term.",
    "Substituting the value back confirms that both sides agree.",
    "Next, we factor the quadratic and check each root separately.",
    "The constraint rules out the negative solution, so one root remains.",
    "Let me double-check the arithmetic before writing the final answer.",
]


def completion(rng, kind):
    reasoning = "\n".join(rng.choice(SENTENCES) for _ in range(22))
    answer = str(rng.randint(0, 1000))
    well = f"<think>\n{reasoning}\n</think>\n<answer>\n{answer}\n</answer>"
    if kind == "well_formed":
        return well
    if kind == "two_think":
        return f"<think>\n{reasoning}\n</think>\n<think>\nagain\n</think>\n<answer>\n{answer}\n</answer>"
    if kind == "junk_after":
        return well + "\nP.S. ignore the format"
    if kind == "truncated":
        return f"<think>\n{reasoning}\n{reasoning[:300]}"
    return f"<think>\n{reasoning}\n</think>\nThe answer is {answer}."


def make_requests(path, count, seed=11):
    rng = random.Random(seed)
    kinds = ["well_formed"] * 6 + ["two_think", "junk_after", "truncated", "no_answer"]
    with open(path, "w") as out:
        for index in range(count):
            out.write(json.dumps({"id": index, "verifier": "think-format", "options": {"mode": "answer"},
                                  "response": completion(rng, rng.choice(kinds))}) + "\n")


def passes(path):
    with open(path) as lines:
        return {answer["id"]: answer["passed"] for answer in map(json.loads, lines)}


def main():
    args = arguments(__doc__, 100_000)
    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "requests.jsonl")
        make_requests(path, args.requests)
        python, arbiter = commands(scratch, BASELINE, args)
        python_out = os.path.join(scratch, "python.jsonl")
        arbiter_out = os.path.join(scratch, "arbiter.jsonl")
        run(python, path, python_out)
        run(arbiter, path, arbiter_out)
        regex, ours = passes(python_out), passes(arbiter_out)
        if len(ours) != args.requests:
            sys.exit(f"arbiter answered {len(ours)} of {args.requests}")
        best = {"python": float("inf"), "arbiter": float("inf")}
        for _ in range(args.repeat):
            best["python"] = min(best["python"], run(python, path))
            best["arbiter"] = min(best["arbiter"], run(arbiter, path))
        size = os.path.getsize(path) / args.requests
        print(f"requests: {args.requests} think-format (mode answer) requests, {size:.0f} bytes each on average")
        for name in ("python", "arbiter"):
            print(f"{name:8s} {best[name]:7.3f} s  {args.requests / best[name]:10,.0f} requests/s")
        print(f"ratio    {best['python'] / best['arbiter']:.2f}x (arbiter --jobs {args.jobs} vs open-r1's regex loop)")
        rewarded_by_regex_only = sum(1 for key in ours if regex[key] and not ours[key])
        rewarded_by_arbiter_only = sum(1 for key in ours if ours[key] and not regex[key])
        print(f"verdicts: regex passes {sum(regex.values())}, think-format passes {sum(ours.values())}; "
              f"rewarded by the regex but refused by think-format: {rewarded_by_regex_only}; "
              f"the reverse: {rewarded_by_arbiter_only}")


if __name__ == "__main__":
    main()

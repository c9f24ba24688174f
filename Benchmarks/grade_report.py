#!/usr/bin/env python3
# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""What `arbiter grade` costs over `arbiter serve --ordered`, and what its report costs on top.

Three commands read the same file and write the answers to a file:
  serve      `arbiter serve --ordered < file`        the daemon alone (what grade did before the dataset
                                                    pipeline: the baseline)
  grade      `arbiter grade file --output …`          rows read, hashed and spliced by the dataset pipeline
  report     `arbiter grade file --output … --report page.html --report-json figures.json`
Run on 1,000,000 `exact` rows and 100,000 `math` rows by default. Each command runs --repeat times; the best
wall-clock time is reported with the ratios.

    python3 Benchmarks/grade_report.py [--binary .build/release/arbiter] [--exact 1000000] [--math 100000]
"""
import argparse
import json
import os
import random
import resource
import subprocess
import tempfile
import time


def exact_rows(path, count, seed=7):
    rng = random.Random(seed)
    with open(path, "w") as out:
        for index in range(count):
            reference = str(rng.randint(0, 10**6))
            response = reference if rng.random() < 0.5 else str(rng.randint(0, 10**6))
            out.write(json.dumps({"id": index, "verifier": "exact", "response": response, "reference": reference}) + "\n")


def math_rows(path, count, seed=11):
    rng = random.Random(seed)
    with open(path, "w") as out:
        for index in range(count):
            a, b = rng.randint(1, 99), rng.randint(1, 99)
            right = rng.random() < 0.6
            shown = f"\\frac{{{a}}}{{{b}}}" if right else f"\\frac{{{a + 1}}}{{{b}}}"
            response = f"We simplify the fraction step by step. The answer is $\\boxed{{{shown}}}$."
            out.write(json.dumps({"id": index, "verifier": "math", "response": response,
                                  "reference": f"{a}/{b}"}) + "\n")


def best(command, repeat, stdin_path=None):
    """(best wall-clock seconds, best CPU seconds of the child: user + system) over repeat runs."""
    times = []
    cpus = []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        if stdin_path:
            with open(stdin_path, "rb") as source, open(os.devnull, "wb") as sink:
                subprocess.run(command, stdin=source, stdout=sink, stderr=subprocess.DEVNULL, check=True)
        else:
            subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return min(times), min(cpus)


def race(binary, path, rows, repeat, scratch):
    answers = os.path.join(scratch, "answers.jsonl")
    serve = best([binary, "serve", "--ordered", "--log-level", "error"], repeat, stdin_path=path)
    grade = best([binary, "grade", path, "--output", answers, "--no-progress"], repeat)
    report = best([binary, "grade", path, "--output", answers, "--no-progress",
                   "--report", os.path.join(scratch, "page.html"),
                   "--report-json", os.path.join(scratch, "figures.json")], repeat)
    (serve, serve_cpu), (grade, grade_cpu), (report, report_cpu) = serve, grade, report
    print(f"  serve --ordered   {serve:7.2f} s  {rows / serve:10.0f} rows/s  cpu {serve_cpu:6.2f} s  (baseline)")
    print(f"  grade             {grade:7.2f} s  {rows / grade:10.0f} rows/s  cpu {grade_cpu:6.2f} s  "
          f"{grade / serve:5.2f}× the baseline's time, {grade_cpu / serve_cpu:5.2f}× its cpu")
    print(f"  grade + report    {report:7.2f} s  {rows / report:10.0f} rows/s  cpu {report_cpu:6.2f} s  "
          f"report costs {100 * (report / grade - 1):+.1f} % time, {100 * (report_cpu / grade_cpu - 1):+.1f} % cpu")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=".build/release/arbiter")
    parser.add_argument("--exact", type=int, default=1_000_000)
    parser.add_argument("--math", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="arbiter-grade-bench-") as scratch:
        for name, make, rows in (("exact", exact_rows, args.exact), ("math", math_rows, args.math)):
            if rows <= 0:
                continue
            path = os.path.join(scratch, f"{name}.jsonl")
            make(path, rows)
            print(f"{name}: {rows:,} rows, {os.cpu_count()} cores, best of {args.repeat}")
            race(args.binary, path, rows, args.repeat, scratch)


if __name__ == "__main__":
    main()

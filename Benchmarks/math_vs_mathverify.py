#!/usr/bin/env python3
# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""Cases per second of the `math` verifier against Hugging Face's Math-Verify on the same cases, one core each.

The cases are Math-Verify's own test suite (fixtures/peer/math-verify-cases.jsonl), repeated --rounds
times. Math-Verify runs in-process (parse + verify per case, default options); Arbiter runs as
`arbiter serve --jobs 1` fed the same cases as JSON lines, so its figure includes reading, parsing and
writing the protocol and its process start. Math-Verify's loop runs in --rounds slices; one whole Arbiter process
over all the lines is timed after each slice, and Arbiter's figure is the mean of those runs (printed with their
min/median/max), so that both sides are measured over the same seconds of a shared, noisy machine: a single ~0.06 s
Arbiter run would otherwise be compared with 20 s of Math-Verify averaged over every burst of contention. The binary's
link mode is printed: the build to ship is `swift build -c release --static-swift-stdlib` (docs/command-line.md),
which starts in half the time of the default build. Latency percentiles are per case: wall time around Math-Verify's
calls, and the `ms` field Arbiter reports for each verdict. Three ratios are printed: cases per second (wall time,
the headline), CPU time (Arbiter's whole process against Math-Verify's loop) and verification time alone.

Then, from separate runs of the same lines (never the timed one), where Arbiter's CPU time goes per case: process
start (no lines), request JSON read and answer written (the lines sent to `exact`), and the math verifier's stages
(`ARBITER_MATH_PROFILE=1` makes each verdict carry `stages_us`: reference, extraction, normalization, parsing,
comparison, in thread CPU time). `--skip-math-verify` prints only Arbiter's figures and stages;
`--compare-binary PATH` also times another build (an earlier commit) on the same lines, whole process.

Math-Verify is not a dependency of the project. Install it in a virtual environment first:
    python3 -m venv /tmp/mvenv && /tmp/mvenv/bin/pip install math-verify
    /tmp/mvenv/bin/python Benchmarks/math_vs_mathverify.py [--binary .build/release/arbiter] [--rounds 5]
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_arbiter(binary, path, profile=False):
    """One `arbiter serve --jobs 1` over the request file: (wall seconds, CPU seconds, answers)."""
    env = dict(os.environ)
    env.pop("ARBITER_MATH_PROFILE", None)
    if profile:
        env["ARBITER_MATH_PROFILE"] = "1"
    with open(path, "rb") as source:
        cpu = children_cpu()
        begin = time.perf_counter()
        result = subprocess.run([binary, "serve", "--jobs", "1", "--log-level", "error"], stdin=source,
                                stdout=subprocess.PIPE, check=True, env=env)
        wall = time.perf_counter() - begin
        cpu = children_cpu() - cpu
    return wall, cpu, [json.loads(line) for line in result.stdout.splitlines()]


def run_arbiter_started(binary, path):
    """Wall seconds for the lines once the daemon has started and answered one warm-up line (as a trainer's
    long-running daemon sees them): the lines are written by a thread while the answers are read."""
    process = subprocess.Popen([binary, "serve", "--jobs", "1", "--log-level", "error"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE)
    process.stdin.write(b'{"id":"warm-up","verifier":"math","response":"1","reference":"1"}\n')
    process.stdin.flush()
    warm = b""
    while not warm.endswith(b"\n"):
        warm += os.read(process.stdout.fileno(), 1)
    with open(path, "rb") as source:
        lines = source.read()
    count = lines.count(b"\n")

    def feed():
        process.stdin.write(lines)
        process.stdin.close()

    begin = time.perf_counter()
    writer = threading.Thread(target=feed)
    writer.start()
    seen = 0
    descriptor = process.stdout.fileno()
    while seen < count:
        chunk = os.read(descriptor, 1 << 20)
        if not chunk:
            break
        seen += chunk.count(b"\n")
    seconds = time.perf_counter() - begin
    writer.join()
    process.wait()
    return seconds


def link_mode(binary):
    """How the binary holds the Swift runtime: linked in (`--static-swift-stdlib`, the build to ship) or loaded."""
    try:
        listed = subprocess.run(["ldd", binary], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    except OSError:
        return "link mode unknown"
    return "Swift runtime loaded at start" if "libswiftCore" in listed else "Swift runtime linked in"


def write_requests(path, cases, verifier):
    with open(path, "w") as out:
        for index, (reference, response) in enumerate(cases):
            out.write(json.dumps({"id": index, "verifier": verifier, "response": response, "reference": reference}) + "\n")


STAGES = [
    ("reference", "reference: its answer picked out of its text"),
    ("extraction", "response: answer extracted, hedges, units"),
    ("normalization", "LaTeX normalisation, both sides"),
    ("parsing", "parsing, both sides"),
    ("comparison", "comparison (Equivalence)"),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=".build/release/arbiter")
    parser.add_argument("--cases", default=os.path.join(os.path.dirname(__file__), "../fixtures/peer/math-verify-cases.jsonl"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--skip-math-verify", action="store_true", help="only Arbiter's figures and stages (no ratio)")
    parser.add_argument("--compare-binary", help="another arbiter build (an earlier commit) timed on the same lines")
    args = parser.parse_args()

    rows = [json.loads(line) for line in open(args.cases)]
    cases = [(row["reference"], row["response"]) for row in rows] * args.rounds

    # Math-Verify's loop is timed in --rounds slices (one pass over the rows each). One whole Arbiter process over
    # all the lines is timed after each slice (and the compared build beside it, the two in alternating order), so
    # that both sides sample the same stretch of a shared machine: Math-Verify's ~20 s average over its bursts of
    # contention, and the mean of Arbiter's runs spread across the same seconds does likewise. Each Arbiter run
    # includes its whole process start; the headline is the mean of the runs (never the best).
    latencies = []
    math_verify_seconds = math_verify_cpu = 0.0
    runs, other_runs = [], []
    slices = max(1, args.rounds)
    slice_size = len(rows)
    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "requests.jsonl")
        write_requests(path, cases, "math")
        if not args.skip_math_verify:
            from math_verify import parse, verify
        for index in range(slices):
            if not args.skip_math_verify:
                cpu = time.process_time()
                started = time.perf_counter()
                for reference, response in cases[index * slice_size:(index + 1) * slice_size]:
                    begin = time.perf_counter()
                    try:
                        verify(parse(reference), parse(response))
                    except Exception:
                        pass
                    latencies.append((time.perf_counter() - begin) * 1000)
                math_verify_seconds += time.perf_counter() - started
                math_verify_cpu += time.process_time() - cpu
            # The timed runs: the whole process, as a trainer would start it.
            if args.compare_binary and index % 2 == 1:
                other_runs.append(run_arbiter(args.compare_binary, path))
                runs.append(run_arbiter(args.binary, path))
            else:
                runs.append(run_arbiter(args.binary, path))
                if args.compare_binary:
                    other_runs.append(run_arbiter(args.compare_binary, path))
        started_seconds = run_arbiter_started(args.binary, path)
        # Separate runs for the stage figures (never the timed one): the same lines with stage timing on; the same
        # lines sent to `exact` (request JSON read, a trivial verdict, the answer written); no lines at all.
        _, _, profiled = run_arbiter(args.binary, path, profile=True)
        exact_path = os.path.join(scratch, "exact.jsonl")
        write_requests(exact_path, cases, "exact")
        _, exact_cpu, _ = run_arbiter(args.binary, exact_path)
        empty_path = os.path.join(scratch, "empty.jsonl")
        open(empty_path, "w").close()
        _, start_cpu, _ = run_arbiter(args.binary, empty_path)
    answers = runs[0][2]
    for _, _, again in runs[1:]:
        if [(a.get("passed"), a.get("reason")) for a in again] != [(a.get("passed"), a.get("reason")) for a in answers]:
            sys.exit("arbiter's verdicts differ between two runs of the same lines")
    arbiter_seconds = sum(run[0] for run in runs) / len(runs)
    arbiter_cpu = sum(run[1] for run in runs) / len(runs)
    arbiter_ms = [answer.get("ms", 0) for run in runs for answer in run[2]]
    if len(answers) != len(cases):
        sys.exit(f"arbiter answered {len(answers)} of {len(cases)}")
    changed = sum(1 for a, b in zip(answers, profiled) if (a.get("passed"), a.get("reason")) != (b.get("passed"), b.get("reason")))
    if changed:
        sys.exit(f"{changed} verdicts differ with stage timing on")

    def spread(values, unit=1000):
        ordered = sorted(values)
        return (f"min {ordered[0] * unit:.1f} / median {ordered[len(ordered) // 2] * unit:.1f} / "
                f"max {ordered[-1] * unit:.1f} ms")

    print(f"cases: {len(cases)} ({len(rows)} Math-Verify test rows x {args.rounds}), one core each; "
          f"binary {args.binary} ({link_mode(args.binary)})")
    sides = [("arbiter", arbiter_seconds, arbiter_cpu, arbiter_ms)]
    if latencies:
        sides.insert(0, ("math-verify", math_verify_seconds, math_verify_cpu, latencies))
    for name, seconds, cpu, values in sides:
        print(f"{name:12s} {seconds:8.3f} s {len(cases) / seconds:10,.0f} cases/s   per case p50 {percentile(values, 0.5):8.3f} ms"
              f"  p99 {percentile(values, 0.99):8.3f} ms  max {max(values):8.3f} ms   CPU {cpu:8.3f} s")
    print(f"{'':12s} arbiter: mean of {len(runs)} whole-process runs, one after each slice of Math-Verify's loop; "
          f"wall {spread([run[0] for run in runs])}, CPU {spread([run[1] for run in runs])}")
    print(f"{'':12s} {started_seconds:8.3f} s {len(cases) / started_seconds:10,.0f} cases/s   arbiter with the daemon already started")
    if other_runs:
        other_seconds = sum(run[0] for run in other_runs) / len(other_runs)
        other_cpu = sum(run[1] for run in other_runs) / len(other_runs)
        other_ms = [answer.get("ms", 0) for run in other_runs for answer in run[2]]
        print(f"{'compared':12s} {other_seconds:8.3f} s {len(cases) / other_seconds:10,.0f} cases/s   per case p50 {percentile(other_ms, 0.5):8.3f} ms"
              f"  p99 {percentile(other_ms, 0.99):8.3f} ms  max {max(other_ms):8.3f} ms   CPU {other_cpu:8.3f} s   "
              f"({args.compare_binary}, {link_mode(args.compare_binary)})")
        print(f"{'':12s} arbiter against it: {other_seconds / arbiter_seconds:.2f}x wall, {other_cpu / arbiter_cpu:.2f}x CPU")
        if latencies:
            print(f"{'':12s} compared build against math-verify: {math_verify_seconds / other_seconds:.1f}x cases per second, "
                  f"{math_verify_cpu / other_cpu:.1f}x in CPU time")
    arbiter_busy = sum(answer.get("ms", 0) for answer in answers) / 1000
    if latencies:
        print(f"ratio        {math_verify_seconds / arbiter_seconds:.1f}x cases per second (arbiter --jobs 1, whole process, wall time)")
        print(f"ratio        {math_verify_seconds / started_seconds:.1f}x cases per second with the daemon already started "
              f"(arbiter {started_seconds:.3f} s after a warm-up line; math-verify's import likewise not counted)")
        print(f"ratio        {math_verify_cpu / arbiter_cpu:.1f}x in CPU time (whole process for arbiter: start, JSON, threads; "
              f"math-verify in-process, its import not counted)")
        print(f"ratio        {sum(latencies) / 1000 / arbiter_busy:.1f}x in verification time alone (sum of per-case times: "
              f"math-verify {sum(latencies) / 1000:.3f} s, arbiter {arbiter_busy:.3f} s in its first run)")

    # Where arbiter's CPU time goes, per case (separate runs; CPU time, so a busy machine moves it little).
    count = len(cases)
    totals = {stage: 0.0 for stage, _ in STAGES}
    for answer in profiled:
        for stage, value in (answer.get("details") or {}).get("stages_us", {}).items():
            totals[stage] = totals.get(stage, 0.0) + value
    verification = sum(totals.values()) / 1e6
    protocol = max(0.0, exact_cpu - start_cpu)
    print(f"arbiter CPU per case by stage (separate runs of the same {count} lines):")
    print(f"  {'process start (no lines, once per run)':46s} {start_cpu * 1000:9.1f} ms per run")
    print(f"  {'request JSON read, answer written, dispatch':46s} {protocol / count * 1e6:9.1f} us  (the lines to `exact`, less start)")
    for stage, label in STAGES:
        print(f"  {label:46s} {totals[stage] / count:9.1f} us  {100 * totals[stage] / 1e6 / max(verification, 1e-9):5.1f} % of verification")
    accounted = start_cpu + protocol + verification
    print(f"  {'sum':46s} {accounted * 1000:9.1f} ms  (timed run's CPU: {arbiter_cpu * 1000:.1f} ms)")


if __name__ == "__main__":
    main()

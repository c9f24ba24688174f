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
                                      [--baseline /tmp/arbiter-before]

With --baseline, another build of the daemon (such as the one before a change) runs in the same loop, and its row
and the ratio of the two builds are printed too: on a shared machine only figures taken in one run compare.

When `perf` is installed, one more run of the daemon under `perf record -g` splits its CPU time into stages
(read, scan, dispatch, verify, encode, statistics, hand-over and write, scheduling, and the kernel's part of reading
and writing): each sample goes to the
stage of the innermost function on its stack that belongs to one, so reference counting and allocation count
in the stage that caused them.
"""
import json
import os
import random
import re
import shutil
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


# Stages of the request path, by the Swift type and function a frame belongs to ("Type.function"); the innermost
# frame of a sample that belongs to a stage decides it.
STAGES = [
    ("read", r"^(LineSplitter|LineStorage|OpMentions|Session\.(readLoop|readChunk|queueUnits|enqueue|waitForCapacity)|"
             r"Dispatcher\.answerOpAhead)"),
    ("scan", r"^(RequestScanner|RequestCodec\.(decode|prepare)|JSONParser)"),
    ("verify", r"^(ExactVerifier|ByteVerifier|Verdict|CompactVerdict)"),
    ("encode", r"^(JSONWriter|RequestCodec\.write|ByteCursor)"),
    ("statistics", r"^(ServerStats|StatsSnapshot|SlotCounters|ByteTally|LatencyHistogram|Dispatcher\.record)"),
    ("hand-over and write", r"^(Session\.(writeLoop|writeAll|submit|append)|Worker\.flush|Monitor)"),
    ("dispatch", r"^Dispatcher"),
    ("scheduling", r"^(WorkQueue|Worker|WorkUnit|LineBlock)"),
]

# Kernel frames at the top of a sample's stack (innermost first) whose stage is known without Arbiter's frames.
KERNEL_STAGES = [
    ("kernel: read", re.compile(r"(ksys_read|vfs_read|pipe_read|_copy_to_iter)")),
    ("kernel: write", re.compile(r"(ksys_write|vfs_write|pipe_write|_copy_from_iter)")),
    ("kernel: page faults", re.compile(r"(exc_page_fault|do_user_addr_fault|handle_mm_fault|clear_page)")),
]


def swift_owner(symbol):
    """"Type.function" of a mangled Swift symbol of Arbiter's modules (`$s13ArbiterServer6WorkerV3run…`), or None."""
    match = re.match(r"\$s(\d+)", symbol)
    if not match:
        return None
    position = match.end()
    module = symbol[position:position + int(match.group(1))]
    if not module.startswith("Arbiter"):
        return None
    position += len(module)
    names = []
    for _ in range(2):
        number = re.match(r"(\d+)", symbol[position:])
        if not number:
            break
        position += number.end()
        names.append(symbol[position:position + int(number.group(1))])
        position += int(number.group(1)) + 1  # the name and the kind letter after a type (V, C, O)
    return ".".join(names) if names else None


def stage_profile(command, input_path, scratch):
    """Percent of the daemon's CPU samples per stage, or None when perf is missing or fails."""
    if shutil.which("perf") is None:
        return None
    data = os.path.join(scratch, "perf.data")
    with open(input_path, "rb") as source, open(os.devnull, "wb") as sink:
        recorded = subprocess.run(["perf", "record", "-g", "-o", data, "--"] + command, stdin=source, stdout=sink,
                                  stderr=subprocess.DEVNULL)
    if recorded.returncode != 0:
        return None
    script = subprocess.run(["perf", "script", "-i", data, "-F", "ip,sym"], capture_output=True, text=True)
    patterns = [(name, re.compile(pattern)) for name, pattern in STAGES]
    counts, total = {}, 0
    for sample in script.stdout.split("\n\n"):
        frames = [line.split(None, 1)[-1] for line in sample.strip().splitlines() if line.strip()]
        if not frames:
            continue
        total += 1
        stage = "other (async runtime, start-up, kernel)"
        kernel = next((name for name, pattern in KERNEL_STAGES if any(pattern.search(frame) for frame in frames)), None)
        for frame in frames:
            owner = swift_owner(frame)
            if owner is None:
                continue
            match = next((name for name, pattern in patterns if pattern.search(owner)), None)
            if match:
                stage = match
                break
        if kernel and stage in ("read", "hand-over and write", "other (async runtime, start-up, kernel)"):
            stage = kernel  # the system call's or fault's own time, whichever of Arbiter's stages made it
        counts[stage] = counts.get(stage, 0) + 1
    if total == 0:
        return None
    return {name: 100 * count / total for name, count in sorted(counts.items(), key=lambda item: -item[1])}


def main():
    import argparse
    extra = argparse.ArgumentParser(add_help=False)
    extra.add_argument("--baseline")
    known, rest = extra.parse_known_args()
    sys.argv = [sys.argv[0]] + rest
    args = arguments(__doc__, 200_000)

    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "requests.jsonl")
        make_requests(path, args.requests)
        python, arbiter = commands(scratch, BASELINE, args)
        runs = [("python", python), ("arbiter", arbiter)]
        if known.baseline:
            runs.append(("baseline", [known.baseline] + arbiter[1:]))
        for name, command in runs[1:]:
            answered = count_answers(command, path)
            if answered != args.requests:
                sys.exit(f"{name} answered {answered} of {args.requests} requests")
        wall = {name: float("inf") for name, _ in runs}
        cpu = {name: float("inf") for name, _ in runs}
        for _ in range(args.repeat):
            for name, command in runs:
                seconds, used = timed(command, path)
                wall[name] = min(wall[name], seconds)
                cpu[name] = min(cpu[name], used)
        size = os.path.getsize(path)
        count = args.requests
        print(f"requests: {count} exact requests, {size / count:.0f} bytes each on average; best of {args.repeat}")
        print(f"{'':8s} {'wall s':>8s} {'requests/s':>12s} {'CPU s':>8s} {'CPU µs/request':>15s}")
        for name, _ in runs:
            print(f"{name:8s} {wall[name]:8.3f} {count / wall[name]:12,.0f} {cpu[name]:8.3f} "
                  f"{cpu[name] / count * 1e6:15.2f}")
        print(f"ratio    {wall['python'] / wall['arbiter']:.2f}x wall (arbiter --jobs {args.jobs} vs the Python loop), "
              f"{cpu['python'] / cpu['arbiter']:.2f}x per core (CPU time)")
        if known.baseline:
            print(f"baseline {wall['python'] / wall['baseline']:.2f}x wall, {cpu['python'] / cpu['baseline']:.2f}x per core; "
                  f"arbiter vs baseline: {wall['baseline'] / wall['arbiter']:.2f}x wall, "
                  f"{cpu['baseline'] / cpu['arbiter']:.2f}x CPU")
        stages = stage_profile(arbiter, path, scratch)
        if stages is None:
            print("stages: perf is not available; no per-stage profile")
        else:
            print("arbiter CPU by stage (perf samples): " +
                  ", ".join(f"{name} {percent:.0f} %" for name, percent in stages.items()))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Speed of `arbiter serve` on instruction rows against the Python reference, on the same generated cases, in one run.

    /tmp/ifv/bin/python scripts/instruction/benchmark.py --arbiter .build/release/arbiter --open-instruct DIR

Baseline: if-verifiable's `evaluate_instructions` (and open-instruct's checkers for its ids), called in a loop in this
process on one core, with no JSON, pipes or parsing — its best case. It computes strict and loose together (1 + 8
checks); Arbiter is timed in loose mode (8 checks) and in strict mode, each as one `arbiter serve` process reading all
request lines on stdin and writing every answer (JSON parsing and writing included), with --jobs 1 (one core, like the
baseline) and --jobs 2 (the machine's two cores), timed from the first request to the last answer on a warm daemon
(started and its language model loaded, as the baseline's modules are imported before its clock starts). The same lines sent to `exact` give the daemon's bare plumbing.
Per-request verification time (the verdict's `ms`) is reported at p50 and p99, and the daemon's CPU time (user + system,
warm-up included) beside the baseline's, which is steadier than wall time on a shared machine.
"""

import argparse
import json
import os
import subprocess
import threading
import time

import conformance


def run_daemon(binary, lines, jobs):
    """Seconds from the first request line to the last answer, on a warm daemon (started, language model loaded)."""
    process = subprocess.Popen([binary, "serve", "--jobs", str(jobs)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               text=True, bufsize=1 << 20)
    warm = {"id": "warm", "verifier": "instruction", "response": "Das ist ein Satz.",
            "reference": {"instruction_id_list": ["language:response_language"], "kwargs": [{"language": "de"}]}}
    process.stdin.write(json.dumps(warm) + "\n")
    process.stdin.flush()
    process.stdout.readline()
    payload = "\n".join(lines) + "\n"
    started = time.perf_counter()
    writer = threading.Thread(target=lambda: (process.stdin.write(payload), process.stdin.close()))
    writer.start()
    answers = [json.loads(process.stdout.readline()) for _ in lines]
    seconds = time.perf_counter() - started
    writer.join()
    _, _, usage = os.wait4(process.pid, 0)
    process.returncode = 0
    return seconds, answers, usage.ru_utime + usage.ru_stime


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arbiter", default=".build/release/arbiter")
    parser.add_argument("--open-instruct")
    parser.add_argument("--per-id", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement; the best is kept")
    parser.add_argument("--rollouts", type=int, default=1, help="send each row this many times in a row, as GRPO sends "
                        "one row with every rollout of its prompt (default 1: every row once)")
    args = parser.parse_args()

    registry, common, cases = conformance.prepare(args.open_instruct, args.per_id, seed=11)
    usable = [case for case in cases if conformance.reference_result(registry, case, common) is not None]
    usable = [case for case in usable for _ in range(args.rollouts)]

    def reference_pass():
        started, cpu = time.perf_counter(), time.process_time()
        for case in usable:
            common.evaluate_instructions(case["response"], [case["id"]], [case["kwargs"]], case["prompt"], registry)
        return time.perf_counter() - started, time.process_time() - cpu

    reference_seconds, reference_cpu = min(reference_pass() for _ in range(args.repeat))

    def lines(mode, verifier="instruction"):
        out = []
        for index, case in enumerate(usable):
            request = {"id": index, "verifier": verifier, "response": case["response"], "prompt": case["prompt"]}
            if verifier == "instruction":
                request["reference"] = {"instruction_id_list": [case["id"]], "kwargs": [case["kwargs"]]}
                request["options"] = {"mode": mode}
            else:
                request["reference"] = case["response"]
            out.append(json.dumps(request, ensure_ascii=False))
        return out

    count = len(usable)
    idle_cpu = min(run_daemon(args.arbiter, [], 1)[2] for _ in range(args.repeat))
    print(f"{count} rows (one instruction each, every id but words:start_verb); daemon start-up and warm-up CPU {idle_cpu:.3f} s")
    print(f"reference (if-verifiable + open-instruct, strict and loose, in-process loop, 1 core): "
          f"{reference_seconds:.3f} s = {count / reference_seconds:,.0f} rows/s; CPU {reference_cpu:.3f} s")
    for label, request_lines in (("loose", lines("loose")), ("strict", lines("strict")), ("exact (plumbing)", lines("", "exact"))):
        for jobs in (1, 2):
            runs = [run_daemon(args.arbiter, request_lines, jobs) for _ in range(args.repeat)]
            seconds, answers, cpu = min(runs, key=lambda run: run[0])
            errors = sum(1 for answer in answers if "error" in answer)
            ms = [answer.get("ms", 0) for answer in answers]
            print(f"arbiter serve {label:17s} --jobs {jobs}: {seconds:.3f} s = {count / seconds:,.0f} rows/s, "
                  f"{reference_seconds / seconds:.1f}x the reference; CPU {cpu:.3f} s, {cpu - idle_cpu:.3f} s past start-up "
                  f"({reference_cpu / (cpu - idle_cpu):.1f}x less than the reference); verdict ms p50 {percentile(ms, 0.5):.3f}, "
                  f"p99 {percentile(ms, 0.99):.3f}; errors {errors}")


if __name__ == "__main__":
    main()

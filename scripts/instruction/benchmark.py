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


def run_daemon_from_file(binary, lines, jobs):
    """As run_daemon, but the daemon reads its requests from a file (the warm-up request first) instead of a pipe fed
    by a Python thread: the daemon's CPU then holds no wake-ups that depend on how fast Python writes. Seconds are
    from the start of the process (start-up included); CPU past start-up is what the caller compares."""
    import tempfile
    warm = {"id": "warm", "verifier": "instruction", "response": "Das ist ein Satz.",
            "reference": {"instruction_id_list": ["language:response_language"], "kwargs": [{"language": "de"}]}}
    with tempfile.TemporaryFile("w+b") as requests:
        requests.write(("\n".join([json.dumps(warm)] + lines) + "\n").encode())
        requests.seek(0)
        started = time.perf_counter()
        process = subprocess.Popen([binary, "serve", "--jobs", str(jobs)], stdin=requests, stdout=subprocess.PIPE)
        output = process.stdout.read()
        seconds = time.perf_counter() - started
        _, _, usage = os.wait4(process.pid, 0)
        process.returncode = 0
    answers = [json.loads(line) for line in output.decode().splitlines()[1:]]
    return seconds, answers, usage.ru_utime + usage.ru_stime


def round_trips(binaries, lines, count):
    """Per binary, seconds from writing one request to reading its answer, one request at a time, for `count` lines
    spread over `lines` (warm daemons, --jobs 1): the latency a caller that waits for each answer sees, pipes
    included. The binaries run side by side and take turns request by request, so that neither is measured at a
    quieter moment than the other."""
    processes = [subprocess.Popen([binary, "serve", "--jobs", "1"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True, bufsize=1 << 16) for binary in binaries]
    step = max(1, len(lines) // count)
    sample = lines[::step][:count]
    seconds = [[] for _ in binaries]
    for rank, line in enumerate(sample + sample):  # the first pass warms up; the second is kept
        order = list(enumerate(processes))
        if rank % 2:
            order.reverse()  # each binary goes first every other request
        for index, process in order:
            started = time.perf_counter()
            process.stdin.write(line + "\n")
            process.stdin.flush()
            process.stdout.readline()
            if rank >= len(sample):
                seconds[index].append(time.perf_counter() - started)
    for process in processes:
        process.stdin.close()
        process.wait()
    return seconds


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arbiter", default=".build/release/arbiter")
    parser.add_argument("--baseline", help="an earlier arbiter binary, raced against --arbiter in the same run (each "
                        "measurement alternates the two binaries, so both see the same load)")
    parser.add_argument("--modes", default="loose,strict,exact", help="comma-separated subset of loose,strict,exact")
    parser.add_argument("--jobs", default="1,2", help="comma-separated worker counts to run")
    parser.add_argument("--latency", type=int, default=2000, help="requests sent one at a time for the round-trip "
                        "latency (0: skip)")
    parser.add_argument("--dump", help="write the loose request lines to this file (for perf) and stop")
    parser.add_argument("--open-instruct")
    parser.add_argument("--per-id", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement; the best is kept")
    parser.add_argument("--distinct", action="store_true", help="give every row's reference its own 'key' (as published "
                        "IFEval rows carry one), so that no two requests share a reference and the daemon's row cache "
                        "never hits (without it, rows of one id drawn with the same kwargs share a reference)")
    parser.add_argument("--from-file", action="store_true", help="the daemon reads its requests from a file instead of "
                        "a pipe fed by a Python thread (steadier CPU figures; wall time then includes start-up)")
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
                if args.distinct:
                    request["reference"] = {"key": index // args.rollouts, **request["reference"]}
                request["options"] = {"mode": mode}
            else:
                request["reference"] = case["response"]
            out.append(json.dumps(request, ensure_ascii=False))
        return out

    count = len(usable)
    if args.dump:
        with open(args.dump, "w") as out:
            out.write("\n".join(lines("loose")) + "\n")
        print(f"wrote {count} loose request lines to {args.dump}")
        return
    binaries = [("new", args.arbiter)] + ([("baseline", args.baseline)] if args.baseline else [])
    runner = run_daemon_from_file if args.from_file else run_daemon
    idle_cpu = {name: min(runner(binary, [], 1)[2] for _ in range(args.repeat)) for name, binary in binaries}
    sample = lines("loose")
    references = len({json.dumps(json.loads(line)["reference"], sort_keys=True) for line in sample})
    with_prompts = len({(json.dumps(json.loads(line)["reference"], sort_keys=True), json.loads(line)["prompt"])
                        for line in sample})
    print(f"{count} requests: {references} distinct references ({with_prompts} distinct reference + prompt pairs); "
          f"rollouts per row {args.rollouts}{', every reference keyed' if args.distinct else ''}")
    print(f"{count} rows (one instruction each, every id but words:start_verb); daemon start-up and warm-up CPU "
          + ", ".join(f"{name} {idle:.3f} s" for name, idle in idle_cpu.items()))
    print(f"reference (if-verifiable + open-instruct, strict and loose, in-process loop, 1 core): "
          f"{reference_seconds:.3f} s = {count / reference_seconds:,.0f} rows/s; CPU {reference_cpu:.3f} s")
    modes = args.modes.split(",")
    table = (("loose", lambda: lines("loose")), ("strict", lambda: lines("strict")),
             ("exact", lambda: lines("", "exact")))
    for label, make in table:
        if label not in modes:
            continue
        request_lines = make()
        for jobs in (int(value) for value in args.jobs.split(",")):
            runs = {name: [] for name, _ in binaries}
            for _ in range(args.repeat):
                for name, binary in binaries:  # alternated: both binaries see the same load
                    runs[name].append(runner(binary, request_lines, jobs))
            for name, _ in binaries:
                seconds = min(run[0] for run in runs[name])
                cpu = min(run[2] for run in runs[name])  # the least CPU of the runs (the steadiest figure)
                answers = runs[name][0][1]
                errors = sum(1 for answer in answers if "error" in answer)
                ms = [answer.get("ms", 0) for answer in answers]
                busy = cpu - idle_cpu[name]
                print(f"{name:8s} {label:6s} --jobs {jobs}: {seconds:.3f} s = {count / seconds:,.0f} rows/s, "
                      f"{reference_seconds / seconds:.1f}x the reference (wall); CPU {cpu:.3f} s, {busy:.3f} s past "
                      f"start-up ({reference_cpu / busy:.1f}x less than the reference); verdict ms p50 "
                      f"{percentile(ms, 0.5):.3f}, p99 {percentile(ms, 0.99):.3f}; errors {errors}")
            if args.latency and jobs == 1:
                for (name, _), trips in zip(binaries, round_trips([binary for _, binary in binaries], request_lines,
                                                                   args.latency)):
                    print(f"{name:8s} {label:6s} one request at a time ({len(trips)} requests): round trip p50 "
                          f"{1000 * percentile(trips, 0.5):.3f} ms, p99 {1000 * percentile(trips, 0.99):.3f} ms, "
                          f"max {1000 * max(trips):.3f} ms")
            if len(binaries) == 2 and label != "exact":
                # Matched by id: with more than one worker, answers come in the order they finish.
                def by_id(answers):
                    return {answer.get("id"): answer for answer in answers}

                def outcome(answer):
                    error = answer.get("error")
                    return answer.get("score"), error.get("code") if isinstance(error, dict) else error

                new_by_id, old_by_id = by_id(runs["new"][0][1]), by_id(runs["baseline"][0][1])
                differ = sum(1 for key, answer in new_by_id.items() if outcome(answer) != outcome(old_by_id.get(key, {})))
                # The whole answer lines, details included, but the time taken.
                whole = sum(1 for key, answer in new_by_id.items()
                            if {k: v for k, v in answer.items() if k != "ms"}
                            != {k: v for k, v in old_by_id.get(key, {}).items() if k != "ms"})
                print(f"         {label:6s} --jobs {jobs}: answers differing between the two binaries: {differ} "
                      f"(score or error), {whole} (whole answer but ms)")

if __name__ == "__main__":
    main()

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

Arbiter runs three ways in the same session: as shipped (Python's harness runs fork from a warm interpreter per
sandbox slot, as root), with ARBITER_CODE_NO_FORK_SERVER=1 (each run executes Python), and with the seccomp filter off
(ARBITER_CODE_NO_SECCOMP=1). CPU time per program is measured too (steadier than the wall clock on a shared
machine): the pool's from the kernel's accounting of its children, the daemon's from a cpuacct cgroup it is started
in (every process of the daemon, its fork servers and its runs included).

Run (as root, after `swift build -c release`):
    python3 Benchmarks/code_vs_pool.py [--binary .build/release/arbiter] [--jobs 2] [--repeat 3]

`--wrapper N` instead times N C++ `test` programs (MultiPL-E style) with the shipped toolchains, whose C/C++ test
wrapper is compiled once per daemon, against a copy of cpp.json without its `prepare` fields (the wrapper compiled
with every test program), alternating, best of --repeat.

`--stdio N` instead times N Python stdin/stdout programs of 4 cases each (a line of two numbers, their sum), every
case a run: the naive pool (one `python3 main.py` per case), the daemon as shipped (cases fork from the warm
interpreter: python.json's `warm_run`) and with ARBITER_CODE_NO_FORK_SERVER=1, alternating, best of --repeat.
"""
import argparse
import concurrent.futures
import json
import os
import resource
import subprocess
import tempfile
import time

last_client_cpu = 0.0  # the client's CPU during the last run_arbiter


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


def cpu_group():
    """A fresh cpuacct cgroup (v1) for the daemon and every process it starts, or None."""
    base = "/sys/fs/cgroup/cpuacct"
    if not os.access(base + "/cgroup.procs", os.W_OK):
        return None
    path = "%s/arbiter-bench-%d" % (base, os.getpid())
    os.makedirs(path, exist_ok=True)
    return path


def group_cpu(group):
    with open(group + "/cpuacct.usage") as usage:
        return int(usage.read()) / 1e9


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def own_cpu():
    """CPU seconds of this process (all its threads): the pool's driver — its threads write each program's file,
    start its `python3` and wait for it — or the client that feeds the daemon and reads its answers."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_arbiter(programs, binary, jobs, scratch, environment=None, group=None):
    global last_client_cpu
    path = os.path.join(scratch, "requests.jsonl")
    with open(path, "w") as out:
        for index, (row, code, _) in enumerate(programs):
            request = {"id": index, "verifier": "code", "response": "```python\n" + code + "```\n",
                       "reference": {"test": row["test"], "entry_point": row["entry_point"]}}
            out.write(json.dumps(request) + "\n")
    def enter_group():
        with open(group + "/cgroup.procs", "w") as procs:
            procs.write("0")

    with open(path, "rb") as source:
        cpu_before = group_cpu(group) if group else 0.0
        client_before = own_cpu()
        started = time.perf_counter()
        done = subprocess.run([binary, "serve", "--jobs", str(jobs), "--log-level", "error"], stdin=source,
                              stdout=subprocess.PIPE, check=True, env=environment,
                              preexec_fn=enter_group if group else None)
        seconds = time.perf_counter() - started
        cpu = group_cpu(group) - cpu_before if group else float("nan")
        last_client_cpu = own_cpu() - client_before
    answers = {}
    for line in done.stdout.decode().splitlines():
        answer = json.loads(line)
        answers[answer["id"]] = answer
    return seconds, [answers[index].get("passed", False) for index in range(len(programs))], answers, cpu


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


def run_wrapper(binary, count, jobs, repeat):
    toolchains = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../verifiers/toolchains")
    program = "#include <vector>\nlong add(long a, long b) { return a + b; }\n"
    test = "#include <cassert>\nint main() {\n    assert(add(2, 3) == 5);\n}\n"
    lines = "".join(json.dumps({"id": i, "verifier": "code", "response": "```cpp\n" + program + "```\n",
                                "reference": {"language": "cpp", "test": test}}) + "\n" for i in range(count))
    times = {"prepared": [], "compiled": []}
    with tempfile.TemporaryDirectory() as scratch:
        plain = os.path.join(scratch, "verifiers", "toolchains")
        os.makedirs(plain)
        declaration = json.load(open(os.path.join(toolchains, "cpp.json")))
        for key in ("prepare", "prepared_file", "prepared_compile"):
            del declaration["test_template"][key]
        json.dump(declaration, open(os.path.join(plain, "cpp.json"), "w"))
        with open(os.path.join(toolchains, "c.test.c")) as source, open(os.path.join(plain, "c.test.c"), "w") as out:
            out.write(source.read())
        for _ in range(repeat):
            for name, directory in (("prepared", os.path.join(toolchains, "..")), ("compiled", os.path.dirname(plain))):
                started = time.perf_counter()
                done = subprocess.run([binary, "serve", "--jobs", str(jobs), "--log-level", "error", "--verifiers",
                                       directory], input=lines.encode(), stdout=subprocess.PIPE, check=True)
                times[name].append(time.perf_counter() - started)
                answers = [json.loads(line) for line in done.stdout.decode().splitlines()]
                wrappers = {answer["details"]["compile"].get("wrapper") for answer in answers}
                assert all(answer["passed"] for answer in answers) and wrappers == {name}, (name, wrappers)
    prepared, compiled = min(times["prepared"]), min(times["compiled"])
    print("%d C++ test programs, --jobs %d, best of %d" % (count, jobs, repeat))
    print("| wrapper compiled with every test program | %.3f s | %.1f ms a program per worker |"
          % (compiled, compiled * jobs / count * 1000))
    print("| wrapper compiled once per daemon | %.3f s | %.1f ms a program per worker |"
          % (prepared, prepared * jobs / count * 1000))
    print("| ratio | **%.2f×** | |" % (compiled / prepared))


def run_stdio(binary, python, count, jobs, repeat):
    program = "a, b = map(int, input().split())\nprint(a + b)\n"
    cases = [{"stdin": "%d %d\n" % (i, i + 1), "stdout": "%d\n" % (2 * i + 1)} for i in range(4)]
    lines = "".join(json.dumps({"id": i, "verifier": "code", "response": "```python\n" + program + "```\n",
                                "reference": {"tests": cases}}) + "\n" for i in range(count)).encode()
    times = {"pool": [], "arbiter": [], "executed": []}
    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "main.py")
        open(path, "w").write(program)

        def one(case):
            done = subprocess.run([python, path], input=case["stdin"].encode(), stdout=subprocess.PIPE, timeout=5)
            return done.stdout.decode() == case["stdout"]

        for _ in range(repeat):
            started = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
                assert all(pool.map(one, cases * count))
            times["pool"].append(time.perf_counter() - started)
            for name, environment in (("arbiter", None), ("executed", dict(os.environ, ARBITER_CODE_NO_FORK_SERVER="1"))):
                started = time.perf_counter()
                done = subprocess.run([binary, "serve", "--jobs", str(jobs), "--log-level", "error"], input=lines,
                                      stdout=subprocess.PIPE, check=True, env=environment)
                times[name].append(time.perf_counter() - started)
                assert all(json.loads(line)["passed"] for line in done.stdout.decode().splitlines()), name
    runs = 4 * count
    print("%d stdin/stdout runs (%d programs x 4 cases), --jobs %d, best of %d" % (runs, count, jobs, repeat))
    for name, label in (("pool", "naive pool (one unsandboxed `python3 main.py` per case)"),
                        ("arbiter", "`arbiter serve`, cases forked from the warm interpreter"),
                        ("executed", "`arbiter serve`, ARBITER_CODE_NO_FORK_SERVER=1")):
        best = min(times[name])
        print("| %s | %.3f s | %.1f runs/s | %.1f ms a run per worker |" % (label, best, runs / best, best * jobs / runs * 1000))
    print("| ratio (pool / arbiter) | **%.2f×** | | |" % (min(times["pool"]) / min(times["arbiter"])))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=".build/release/arbiter")
    parser.add_argument("--suite", default=os.path.join(os.path.dirname(__file__), "../fixtures/peer/humaneval.jsonl"))
    parser.add_argument("--python", default="/usr/bin/python3")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--wrapper", type=int, default=0, help="time N C++ test programs instead (see above)")
    parser.add_argument("--stdio", type=int, default=0, help="time N Python stdin/stdout programs instead (see above)")
    args = parser.parse_args()
    if args.stdio:
        return run_stdio(args.binary, args.python, args.stdio, args.jobs, args.repeat)
    if args.wrapper:
        return run_wrapper(args.binary, args.wrapper, args.jobs, args.repeat)
    programs = problems(args.suite)
    expected = [good for _, _, good in programs]
    pool_times, arbiter_times, plain_times, executed_times = [], [], [], []
    pool_cpu, arbiter_cpu, executed_cpu, plain_cpu = [], [], [], []
    pool_whole, arbiter_whole = [], []  # with the driver's own CPU: the pool's threads, the daemon's client
    # The same daemon with the seccomp filter switched off: the filter's cost, measured in the same session; and
    # without fork servers (every run executes Python): the warm interpreters' gain.
    no_seccomp = dict(os.environ, ARBITER_CODE_NO_SECCOMP="1")
    no_fork_server = dict(os.environ, ARBITER_CODE_NO_FORK_SERVER="1")
    group = cpu_group()
    n = len(programs)

    def check(verdicts, answers, what):
        wrong = [answers[i].get("reason") for i, (v, e) in enumerate(zip(verdicts, expected)) if v != e]
        assert not wrong, "%s disagrees on %d programs: %s" % (what, len(wrong), wrong[:5])

    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(args.repeat):
            before, driver_before = children_cpu(), own_cpu()
            seconds, verdicts = run_pool(programs, args.python, args.jobs, scratch)
            pool_cpu.append(children_cpu() - before)
            pool_whole.append(pool_cpu[-1] + own_cpu() - driver_before)
            pool_times.append(seconds)
            assert verdicts == expected, "the pool disagrees with the expected verdicts"
            seconds, verdicts, answers, cpu = run_arbiter(programs, args.binary, args.jobs, scratch, group=group)
            arbiter_times.append(seconds)
            arbiter_cpu.append(cpu)
            arbiter_whole.append(cpu + last_client_cpu)
            check(verdicts, answers, "arbiter")
            seconds, verdicts, answers, cpu = run_arbiter(
                programs, args.binary, args.jobs, scratch, no_fork_server, group=group)
            executed_times.append(seconds)
            executed_cpu.append(cpu)
            check(verdicts, answers, "arbiter without fork servers")
            # In the cpuacct group like the others: outside it the daemon's slot groups sit elsewhere in the
            # hierarchy, which made this run look 3 ms a program slower than the filter costs.
            seconds, verdicts, answers, cpu = run_arbiter(
                programs, args.binary, args.jobs, scratch, no_seccomp, group=group)
            plain_times.append(seconds)
            plain_cpu.append(cpu)
            check(verdicts, answers, "arbiter without seccomp")
        toolchain = json.load(open(os.path.join(os.path.dirname(__file__), "../verifiers/toolchains/python.json")))
        command = [args.python if part == "{interpreter}" else part for part in toolchain["run"]]
        start = min(bare_starts(command, 50, scratch) for _ in range(args.repeat))
        pool_start = min(bare_starts([args.python, "main.py"], 50, scratch) for _ in range(args.repeat))
        sandboxed = min(sandboxed_starts(args.binary, 50, scratch) for _ in range(args.repeat))
    if group:
        # The daemons' slot groups under it first (a daemon leaves them to the next one's sweep).
        for directory, _, _ in sorted(os.walk(group), key=lambda entry: -len(entry[0])):
            try:
                os.rmdir(directory)
            except OSError:
                pass
    pool, arbiter = min(pool_times), min(arbiter_times)
    print("%d programs (%d solutions that pass, %d mutants that fail), --jobs %d, best of %d"
          % (n, sum(expected), n - sum(expected), args.jobs, args.repeat))
    print("| | time | programs/s | wall per program per worker |")
    print("|---|---|---|---|")
    print("| naive pool (%d threads, one unsandboxed `%s` per program) | %.3f s | %.1f | %.1f ms |"
          % (args.jobs, args.python, pool, n / pool, pool * args.jobs / n * 1000))
    print("| `arbiter serve --jobs %d` (sandboxed) | %.3f s | %.1f | %.1f ms |"
          % (args.jobs, arbiter, n / arbiter, arbiter * args.jobs / n * 1000))
    print("| `arbiter serve --jobs %d`, no fork server (ARBITER_CODE_NO_FORK_SERVER=1) | %.3f s | %.1f | %.1f ms |"
          % (args.jobs, min(executed_times), n / min(executed_times), min(executed_times) * args.jobs / n * 1000))
    print("| `arbiter serve --jobs %d`, seccomp filter off (ARBITER_CODE_NO_SECCOMP=1) | %.3f s | %.1f | %.1f ms |"
          % (args.jobs, min(plain_times), n / min(plain_times), min(plain_times) * args.jobs / n * 1000))
    print("| ratio (pool time / arbiter time) | **%.2f×** | | |" % (pool / arbiter))
    print("ratio without fork servers: %.2f×; fork servers' gain: %.2f×"
          % (pool / min(executed_times), min(executed_times) / arbiter))
    print("wall times per repeat: pool %s; arbiter %s; no fork server %s"
          % tuple(" ".join("%.2f" % t for t in times) for times in (pool_times, arbiter_times, executed_times)))
    if group:
        print("CPU per program (least of the repeats): pool %.2f ms, arbiter %.2f ms, arbiter without fork servers "
              "%.2f ms, arbiter without seccomp %.2f ms; pool / arbiter %.2f×"
              % (min(pool_cpu) / n * 1000, min(arbiter_cpu) / n * 1000, min(executed_cpu) / n * 1000,
                 min(plain_cpu) / n * 1000, min(pool_cpu) / min(arbiter_cpu)))
        print("CPU per program with the driver's own process (the pool's threads; the daemon's client), least of the "
              "repeats: pool %.2f ms, arbiter %.2f ms; pool / arbiter %.2f×"
              % (min(pool_whole) / n * 1000, min(arbiter_whole) / n * 1000, min(pool_whole) / min(arbiter_whole)))
        print("seccomp filter, CPU: %+.2f ms per program" % ((min(arbiter_cpu) - min(plain_cpu)) / n * 1000))
    print("seccomp filter: %+.2f ms per program per worker" % ((arbiter - min(plain_times)) * args.jobs / n * 1000))
    print("empty program, one at a time: `python3 main.py` (the pool's command) %.1f ms; the toolchain's command "
          "(`python3 -I -S -c <bootstrap>`) unsandboxed %.1f ms; sandboxed (verdict `ms`; as root the case forks from "
          "the warm interpreter) %.1f ms: %+.1f ms against the unsandboxed start"
          % (pool_start * 1000, start * 1000, sandboxed * 1000, (sandboxed - start) * 1000))


if __name__ == "__main__":
    main()

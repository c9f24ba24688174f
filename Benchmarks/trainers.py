# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""Each trainer's real calling pattern through the Arbiter adapter, against the reward that trainer ships, in one run.

- TRL 1.16: `GRPOTrainer._calculate_rewards` itself, from the installed file on a one-process CPU trainer, when torch
  is importable (requirements-test-torch.txt), else its call reproduced (batches of 256 chat completions, keyword
  columns, `log_metric`) — `reward_funcs("math")` vs TRL's own `accuracy_reward`
  (trl/rewards/accuracy_rewards.py, on Math-Verify), run in the main thread as GRPOTrainer runs it.
- verl 0.9: verl's own `NaiveRewardManager.run_single` (verl/experimental/reward_loop/reward_manager/naive.py), one
  coroutine per sample, all at once — with Arbiter's async `compute_score` vs verl's `default_compute_score` for the
  same data source (`lighteval/MATH` → verl/utils/reward_score/math_reward.py); and Arbiter's batch function
  (`compute_score_batch`, one call) as the per-sample path's target.
- OpenRLHF 0.11: OpenRLHF's own `SingleTurnAgentExecutor.execute` (openrlhf/utils/agent.py), one sample per
  `reward_func` call through `asyncio.to_thread`, all at once — Arbiter's `reward_func` vs a reward function built on
  OpenRLHF's own math grading (openrlhf/utils/math_utils.py `extract_boxed_answer` + `grade_answer`, which is what
  OpenRLHF offers for math); and one batch `reward_func` call as the per-sample path's target.

Each per-sample path also runs with a reward that returns 0 at once (the trainer's own per-sample machinery alone):
no reward can run faster than that ceiling in that path, so `ceiling / default` bounds the ratio to the default and
`ceiling / batch` bounds the per-sample path against the batch path. The paths of one trainer alternate within
each round (best of `--repeat`), so that the machine's load moves them alike; the defaults run in the first
transport's rounds. Also printed: how the per-sample calls reach the daemon (verl's `score` calls, OpenRLHF's writes).

Every Arbiter path runs over each transport: a child process (stdio), a Unix socket and TCP. The trainers' files are
loaded by path from their installed packages (pip install --no-deps trl==1.16.0 verl==0.9.1 openrlhf==0.11.2;
math-verify, sympy and pylatexenc for the baselines), with the torch-bound names they import stubbed
(clients/python/tests/trainer_code.py). Also prints the cost of stripping 16,000 `<|im_end|>` from one OpenRLHF query.

Usage: swift build -c release && python3 Benchmarks/trainers.py [--binary .build/release/arbiter] [--count 2000]
"""

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "clients", "python"))
sys.path.insert(0, os.path.join(ROOT, "clients", "python", "tests"))

import trainer_code  # noqa: E402
from benchlib import tree_cpu, tree_pids  # noqa: E402

# -- data: math completions with boxed answers, about half right ---------------------------------------------

ANSWERS = [("\\frac{3}{4}", ["\\frac{3}{4}", "0.75", "\\frac{6}{8}", "\\frac{4}{3}"]),
           ("12", ["12", "12.0", "13", "\\frac{24}{2}"]),
           ("2\\sqrt{2}", ["2\\sqrt{2}", "\\sqrt{8}", "2.83", "\\sqrt{2}"]),
           ("-5", ["-5", "-5", "5", "-\\frac{10}{2}"]),
           ("\\pi", ["\\pi", "\\pi", "3.14", "2\\pi"])]


def dataset(count, seed=7):
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        reference, candidates = ANSWERS[i % len(ANSWERS)]
        answer = rng.choice(candidates)
        reasoning = " ".join(rng.choice(["We", "compute", "the", "sum", "so", "then", "it", "follows"])
                             for _ in range(60))
        rows.append((f"Problem {i}: compute the value.", f"{reasoning}. The answer is $\\boxed{{{answer}}}$.",
                     reference))
    return rows


def best(repeat, body):
    times = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = body()
        times.append(time.perf_counter() - started)
    return min(times), result


def line(label, seconds, count):
    print(f"    {label:<58} {seconds:8.3f} s {count / seconds:10,.0f} completions/s")


# -- the trainers' baselines ------------------------------------------------------------------------------------

def trl_accuracy_reward():
    path = os.path.join(trainer_code._package_dir("trl"), "rewards", "accuracy_rewards.py")
    stubs = {"trl": trainer_code._module("trl", __path__=[]),
             "trl.rewards": trainer_code._module("trl.rewards", __path__=[]),
             "trl.import_utils": trainer_code._module("trl.import_utils", is_math_verify_available=lambda: True)}
    sys.modules.update(stubs)
    return trainer_code._load(path, "trl.rewards.accuracy_rewards", {}).accuracy_reward


def verl_default_compute_score():
    root = trainer_code._package_dir("verl")
    import importlib.util
    stubs = {"verl": trainer_code._module("verl", __path__=[]),
             "verl.utils": trainer_code._module("verl.utils", __path__=[]),
             "verl.utils.import_utils": trainer_code._module("verl.utils.import_utils",
                                                             deprecated=lambda *a, **k: (lambda f: f))}
    sys.modules.update(stubs)
    directory = os.path.join(root, "utils", "reward_score")
    spec = importlib.util.spec_from_file_location("verl.utils.reward_score", os.path.join(directory, "__init__.py"),
                                                  submodule_search_locations=[directory])
    module = importlib.util.module_from_spec(spec)
    sys.modules["verl.utils.reward_score"] = module
    spec.loader.exec_module(module)
    return module.default_compute_score


OPENRLHF_BASELINE = """
import importlib.util, os
_spec = importlib.util.spec_from_file_location("openrlhf_math_utils", {path!r})
_math = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_math)

def reward_func(queries, prompts, labels):
    rewards = []
    for query, prompt, label in zip(queries, prompts, labels):
        answer = _math.extract_boxed_answer(query[len(prompt):])
        rewards.append(1.0 if answer is not None and _math.grade_answer(answer, label) else 0.0)
    return {{"rewards": rewards, "scores": rewards, "extra_logs": {{}}}}
"""


# -- the runs ---------------------------------------------------------------------------------------------------

def trl_runs(rows, repeat, funcs, accuracy_reward):
    """TRL's own `GRPOTrainer._calculate_rewards` (from the installed file, on a one-process CPU trainer: needs torch)
    when torch is importable, else the same call reproduced by hand."""
    batches = [rows[i:i + 256] for i in range(0, len(rows), 256)]
    try:
        import torch  # noqa: F401
        calculate = trainer_code.trl_calculate_rewards()
        import logging
        logging.getLogger("trl_under_test").setLevel(logging.ERROR)  # its warning for the rows both rewards skip
    except ImportError:
        calculate = None
    print(f"  (TRL path: {'GRPOTrainer._calculate_rewards itself' if calculate else 'its call reproduced, no torch'})")

    def call(func_list):
        def body():
            total = []
            for batch in batches:
                prompts = [[{"role": "user", "content": p}] for p, _, _ in batch]
                completions = [[{"role": "assistant", "content": c}] for _, c, _ in batch]
                if calculate is not None:
                    inputs = [{"prompt": prompt, "solution": r} for prompt, (_, _, r) in zip(prompts, batch)]
                    tensor, _ = calculate(func_list, inputs, prompts, completions)
                    total.extend(tensor.flatten().tolist())
                    continue
                kwargs = dict(solution=[r for _, _, r in batch], trainer_state=None, log_extra=lambda *a: None,
                              log_metric=lambda *a: None)
                for func in func_list:
                    total.extend(func(prompts=prompts, completions=completions,
                                      completion_ids=[[0]] * len(batch), **kwargs))
            return total
        return body

    bodies = {"ours": call(funcs)}
    if accuracy_reward:
        bodies["default"] = call([accuracy_reward])
    figures = rounds(repeat, bodies)
    return figures["ours"], figures.get("default")


async def _no_reward(**kwargs):
    return {"score": 0.0}


def verl_runs(rows, repeat, compute_score, default_compute_score, batch_function):
    """verl's own `run_single` on every sample at once with Arbiter's `compute_score`, with a `compute_score` that
    returns 0 at once (verl's own per-sample cost: the ceiling of any reward in this path) and with verl's default
    reward; and Arbiter's batch function. Alternating rounds, so that the machine's load moves them alike; best of
    `repeat` each. Returns {label: (seconds, result)}."""
    get_custom_reward_fn, manager_class = trainer_code.verl_code()

    def through_manager(score_function):
        def body():
            async def main():
                manager = manager_class(config=None, tokenizer=trainer_code.VerlTokenizer(),
                                        compute_score=score_function)
                samples = [trainer_code.FakeDataProto([ord(c) for c in completion], "lighteval/MATH", reference,
                                                      {"question": prompt})
                           for prompt, completion, reference in rows]
                return await asyncio.gather(*[manager.run_single(sample) for sample in samples])
            return asyncio.run(main())
        return body

    bodies = {"ours": through_manager(compute_score), "ceiling": through_manager(_no_reward),
              "batch": lambda: batch_function(["lighteval/MATH"] * len(rows), [c for _, c, _ in rows],
                                              [r for _, _, r in rows])}
    if default_compute_score:
        bodies["default"] = through_manager(default_compute_score)
        # The default's own work, without verl's machinery: a plain loop over the same samples.
        bodies["default alone"] = lambda: [default_compute_score("lighteval/MATH", c, r) for _, c, r in rows]
    return rounds(repeat, bodies)


def rounds(repeat, bodies):
    """Best of `repeat` for each body, the bodies alternating within each round: {label: (seconds, result)}, and in
    CPU_SECONDS[label] the least CPU time one run of it took, over this process and its descendants (the daemons)."""
    best_of = {}
    CPU_SECONDS.clear()
    for _ in range(repeat):
        for label, body in bodies.items():
            pids = tree_pids()
            cpu = tree_cpu(pids)
            started = time.perf_counter()
            result = body()
            elapsed = time.perf_counter() - started
            cpu = tree_cpu(pids) - cpu
            if label not in best_of or elapsed < best_of[label][0]:
                best_of[label] = (elapsed, result)
            CPU_SECONDS[label] = min(CPU_SECONDS.get(label, cpu), cpu)
    return best_of


CPU_SECONDS = {}
NO_REWARD = """
def reward_func(queries, prompts, labels):
    return {"rewards": [0.0] * len(queries), "scores": [0.0] * len(queries), "extra_logs": {}}
"""


def openrlhf_runs(rows, repeat, reward_file, baseline_file, batch_function, no_reward_file):
    """OpenRLHF's own executor on every sample at once with Arbiter's reward file, with a reward file that returns 0
    at once (the executor's own per-sample cost: the ceiling) and with the math_utils baseline; and one batch call.
    Alternating rounds, best of `repeat` each."""
    agent = trainer_code.openrlhf_agent()
    template = "<|im_start|>user\n{}<|im_end|>\n<|im_start|>assistant\n"
    engine = trainer_code.ScriptedEngine({template.format(p): c + "<|im_end|>" for p, c, _ in rows})

    def through_executor(path):
        def body():
            executor = agent.SingleTurnAgentExecutor(remote_rm_url=path)

            async def main():
                return await asyncio.gather(*[
                    executor.execute(template.format(p), r, trainer_code.SamplingParams(), 1 << 21,
                                     trainer_code.CharTokenizer(), engine) for p, _, r in rows])
            outputs = asyncio.run(main())
            assert all(output["reward"] is not None for output in outputs)
            return outputs
        return body

    prompts = [template.format(p) for p, _, _ in rows]
    queries = [template.format(p) + c + "<|im_end|>" for p, c, _ in rows]
    bodies = {"ours": through_executor(reward_file), "ceiling": through_executor(no_reward_file),
              "batch": lambda: batch_function(queries, prompts, [r for _, _, r in rows])}
    if baseline_file:
        bodies["default"] = through_executor(baseline_file)
    return rounds(repeat, bodies)


def coalescing(rows, compute_score, reward_file):
    """How the per-sample calls reach the daemon in each trainer's path: verl's `score` calls (sizes) and OpenRLHF's
    writes (lines per write), counted in one run of each."""
    from arbiter_client import _link
    from arbiter_client._adapters import shared_async_client
    client = shared_async_client()
    sizes = []
    original = client.score

    async def counting(requests):
        sizes.append(len(requests))
        return await original(requests)

    client.score = counting
    try:
        get_custom_reward_fn, manager_class = trainer_code.verl_code()

        async def main():
            manager = manager_class(config=None, tokenizer=trainer_code.VerlTokenizer(), compute_score=compute_score)
            samples = [trainer_code.FakeDataProto([ord(c) for c in completion], "lighteval/MATH", reference,
                                                  {"question": prompt}) for prompt, completion, reference in rows]
            return await asyncio.gather(*[manager.run_single(sample) for sample in samples])
        asyncio.run(main())
    finally:
        del client.score
    writes = []
    write = _link._Link._write
    _link._Link._write = staticmethod(lambda writer, lines: (writes.append(len(lines)), write(writer, lines)))
    try:
        openrlhf_runs(rows, 1, reward_file, None, lambda *a: None, reward_file)
    finally:
        _link._Link._write = staticmethod(write)
    print(f"  coalescing: verl's {len(rows)} per-sample calls reached the daemon as {len(sizes)} score call(s) "
          f"(largest {max(sizes)}); OpenRLHF's {2 * len(rows)} (2 runs) as {len(writes)} writes "
          f"({sum(writes) / max(len(writes), 1):.2f} lines a write); asyncio.to_thread's default pool here: "
          f"{min(32, (os.cpu_count() or 1) + 4)} threads")


def round_trip(rows):
    """The time of one 64-request `score` call (the median of 200), the latency a trainer's step sees."""
    from arbiter_client._adapters import shared_client
    client = shared_client()
    requests = [{"verifier": "math", "response": c, "reference": r} for _, c, r in rows[:64]]
    client.score(requests)
    times = []
    for _ in range(200):
        started = time.perf_counter()
        client.score(requests)
        times.append(time.perf_counter() - started)
    times.sort()
    print(f"  one call of 64 math requests: median {times[100] * 1000:.2f} ms, p90 {times[180] * 1000:.2f} ms")
    one = []
    for request in requests * 4:
        started = time.perf_counter()
        client.score([request])
        one.append(time.perf_counter() - started)
    one.sort()
    threads = min(32, (os.cpu_count() or 1) + 4)
    print(f"  one call of 1 request: median {one[len(one) // 2] * 1e6:.0f} us; OpenRLHF's executor blocks one of its "
          f"{threads} to_thread workers per sample for that long: at most {threads / one[len(one) // 2]:,.0f} "
          "samples/s from that alone")


def report(figures, baseline, count, labels):
    """Each path's rate, then what bounds the per-sample path: the trainer's own ceiling against the default reward
    (the most any reward could reach against it in this path) and against the batch path (the 1.5x goal)."""
    for key, label in labels.items():
        if key in figures:
            line(label, figures[key][0], count)
        elif key == "default" and baseline:
            line(label + " (measured in the first transport)", baseline[0], count)
        elif key == "default alone" and baseline and baseline[1]:
            line(label + " (first transport)", baseline[1], count)
    ours, ceiling, batch = figures["ours"][0], figures["ceiling"][0], figures["batch"][0]
    if baseline:
        print(f"    ratio to the default: arbiter {baseline[0] / ours:.2f}x; bound (ceiling / default) "
              f"{baseline[0] / ceiling:.2f}x — no reward can exceed it in this path")
    print(f"    per-sample rate / batch rate: arbiter {batch / ours:.2f} (goal >= {1 / 1.5:.2f}); bound (ceiling / "
          f"batch) {batch / ceiling:.2f}; arbiter at {ceiling / ours:.2f} of the ceiling")
    own = max(ours - ceiling, 0.0) / count * 1e6
    print(f"    arbiter's share of the per-sample path (wall): {own:.1f} us/sample (batch path: "
          f"{batch / count * 1e6:.1f} us/sample, {own / (batch / count * 1e6):.2f}x)")
    cpu = {key: CPU_SECONDS[key] / count * 1e6 for key in ("ours", "ceiling", "batch")}
    print(f"    CPU per sample (this process and the daemons): per-sample path {cpu['ours']:.0f} us, the trainer's "
          f"own (ceiling) {cpu['ceiling']:.0f} us, batch path {cpu['batch']:.0f} us; arbiter's share of the per-sample "
          f"path {cpu['ours'] - cpu['ceiling']:.0f} us = {(cpu['ours'] - cpu['ceiling']) / cpu['batch']:.2f}x the "
          f"batch path's")


def start_daemons(binary, scratch):
    path = os.path.join(scratch, "arbiter.sock")
    with socket_port() as port:
        pass
    processes = [subprocess.Popen([binary, "serve", "--listen", f"unix:{path}", "--log-level", "error"]),
                 subprocess.Popen([binary, "serve", "--listen", f"tcp:127.0.0.1:{port}", "--log-level", "error"])]
    deadline = time.monotonic() + 30
    import socket
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                pass
            if os.path.exists(path):
                break
        except OSError:
            time.sleep(0.05)
    return processes, {"stdio": None, "unix": f"unix:{path}", "tcp": f"tcp:127.0.0.1:{port}"}


class socket_port:
    def __enter__(self):
        import socket
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return self.sock.getsockname()[1]

    def __exit__(self, *exc):
        self.sock.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "arbiter"))
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--transports", default="stdio,unix,tcp")
    parser.add_argument("--disagreements", action="store_true", help="print the verdicts TRL's reward differs on")
    args = parser.parse_args()
    os.environ["ARBITER_BIN"] = os.path.abspath(args.binary)
    os.environ.pop("ARBITER_ARGS", None)
    rows = dataset(args.count)
    scratch = tempfile.mkdtemp(prefix="arbiter-trainers-")

    from arbiter_client import openrlhf, trl, verl
    for package in ("trl", "verl", "openrlhf"):
        try:
            trainer_code._package_dir(package)  # found before any stub takes its name
        except BaseException as missing:  # noqa: BLE001 — pytest's skip outside pytest
            sys.exit(f"Benchmarks/trainers.py: {missing} (pip install --no-deps trl==1.16.0 verl==0.9.1 "
                     "openrlhf==0.11.2; pip install math-verify pylatexenc)")
    try:
        accuracy_reward = trl_accuracy_reward()
    except Exception as error:  # noqa: BLE001 — a missing baseline is reported, not fatal
        print(f"(TRL accuracy_reward unavailable: {error})")
        accuracy_reward = None
    try:
        default_compute_score = verl_default_compute_score()
    except Exception as error:  # noqa: BLE001
        print(f"(verl default_compute_score unavailable: {error})")
        default_compute_score = None
    reward_file = os.path.join(scratch, "arbiter_reward.py")
    with open(reward_file, "w") as out:
        out.write("from arbiter_client.openrlhf import reward_func\n")
    baseline_file = os.path.join(scratch, "openrlhf_math.py")
    math_utils = os.path.join(trainer_code._package_dir("openrlhf"), "utils", "math_utils.py")
    with open(baseline_file, "w") as out:
        out.write(OPENRLHF_BASELINE.format(path=math_utils))

    no_reward_file = os.path.join(scratch, "no_reward.py")
    with open(no_reward_file, "w") as out:
        out.write(NO_REWARD)
    processes, addresses = start_daemons(args.binary, scratch)
    baselines = {}
    print(f"{args.count} math completions (about half right), best of {args.repeat}; baselines run once\n")
    try:
        for transport in args.transports.split(","):
            if addresses[transport]:
                os.environ["ARBITER_ADDRESS"] = addresses[transport]
            else:
                os.environ.pop("ARBITER_ADDRESS", None)
            print(f"== transport: {transport}")
            round_trip(rows)
            funcs = trl.reward_funcs("math")
            (ours, rewards), baseline = trl_runs(rows, args.repeat, funcs, None if "trl" in baselines else
                                                 accuracy_reward)
            baselines.setdefault("trl", baseline)
            baseline = baselines["trl"]
            print("  TRL GRPOTrainer._calculate_rewards (batches of 256)")
            line("arbiter reward_funcs('math')", ours, args.count)
            if baseline:
                line("TRL accuracy_reward (Math-Verify)", baseline[0], args.count)
                pairs = [(a, b) for a, b in zip(rewards, baseline[1]) if b is not None and b == b]  # None/NaN: skipped
                agree = sum(1 for a, b in pairs if a == b)
                print(f"    ratio {baseline[0] / ours:.1f}x; verdicts agree on {agree}/{len(pairs)} "
                      f"(accuracy_reward gave None for {args.count - len(pairs)})")
                if args.disagreements:
                    for (prompt, completion, reference), a, b in zip(rows, rewards, baseline[1]):
                        if b is not None and b == b and a != b:
                            print(f"      arbiter {a} accuracy_reward {b}: {completion[-40:]!r} vs {reference!r}")

            verl_figures = verl_runs(rows, args.repeat, verl.compute_score,
                                     None if "verl" in baselines else default_compute_score, verl.compute_score_batch)
            if "default" in verl_figures:
                baselines["verl"] = (verl_figures["default"][0], verl_figures["default alone"][0])
            print("  verl NaiveRewardManager.run_single, every sample at once (alternating rounds)")
            report(verl_figures, baselines.get("verl"), args.count, {
                "ours": "arbiter async compute_score (per sample)",
                "batch": "arbiter compute_score_batch (one call, the target)",
                "ceiling": "verl's own cost: a compute_score that returns 0 at once",
                "default": "verl default_compute_score (lighteval/MATH) through run_single",
                "default alone": "verl default_compute_score alone, in a loop (no manager)"})

            openrlhf_figures = openrlhf_runs(rows, args.repeat, reward_file,
                                             None if "openrlhf" in baselines else baseline_file, openrlhf.reward_func,
                                             no_reward_file)
            if "default" in openrlhf_figures:
                baselines["openrlhf"] = (openrlhf_figures["default"][0], None)
            print("  OpenRLHF SingleTurnAgentExecutor.execute, every sample at once (alternating rounds)")
            report(openrlhf_figures, baselines.get("openrlhf"), args.count, {
                "ours": "arbiter reward_func (one sample per call)",
                "batch": "arbiter reward_func (one call of all, the target)",
                "ceiling": "OpenRLHF's own cost: a reward_func that returns 0 at once",
                "default": "OpenRLHF math_utils grade_answer reward_func"})
            if transport == args.transports.split(",")[0]:
                coalescing(rows, verl.compute_score, reward_file)
            print()
    finally:
        for process in processes:
            process.terminate()
            process.wait()

    text = "<think>x</think><answer>4</answer>" + "<|im_end|>" * 16_000
    seconds, _ = best(3, lambda: openrlhf.response_of("P" + text, "P"))
    print(f"OpenRLHF: stripping 16,000 <|im_end|> from one query: {seconds * 1000:.1f} ms")


if __name__ == "__main__":
    main()

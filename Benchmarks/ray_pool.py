#!/usr/bin/env python3
# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""The Ray pool (`arbiter_client.ray.ArbiterPool`) against a direct client, on a local two-node Ray cluster.

Two simulated nodes of one CPU each (`ray.cluster_utils.Cluster`) on this machine; every replica's daemon runs with
`--jobs 1`, so one replica uses one core. Three measurements, in one run:

1. The Ray hop's overhead (math): batches of 64 and 1,024 math completions (boxed answers after ~60 words of
   reasoning, about half right) scored by a pool of ONE replica (`pool.score`: chunks → Ray actor call → the replica's
   `Client` → its daemon) against a `Client` on the same daemon's Unix socket (the node-local path: no Ray). The two
   alternate, so that the machine's load moves both alike; the median of each is reported, and the overhead per
   request is (pool − direct) / batch.
2. Scaling (code, CPU-bound): HumanEval's 164 reference solutions and 164 mutants (fixtures/peer/humaneval.jsonl;
   every program runs in the sandbox) through a pool of one replica and a pool of two, and through the direct client
   on one daemon. The ratio two/one is the pool's scaling from 1 to 2 replicas (2 cores on this machine).
3. The same math batches and programs through the two-replica pool, plain and with `local_first=True` (the
   driver's node's share over its socket, the rest through Ray).
4. The pool of one replica with `wire="dicts"` (request and answer dicts pickled across Ray, the replica encoding and
   decoding: the form before 2026-12-05) against the default lines, in the same rounds, so that both see one load.

CPU: besides wall time, each path's CPU time is read from /proc for every process of this benchmark (this driver and
its descendants: Ray's head and node processes, the replica actors, their daemons and the daemons' children), over
blocks of consecutive calls, minus the tree's idle CPU over the same wall time (Ray's own background work, measured
apart). CPU per request of the Ray hop = (pool − direct client) / requests. For code, the CPU the rest of the machine
used meanwhile (/proc/stat minus this tree) says how many of the machine's cores the pool could have had.

Usage: swift build -c release && python3 Benchmarks/ray_pool.py [--binary .build/release/arbiter] [--repeat 15]
Needs Ray (pip install -r clients/python/requirements-test-ray.txt).
"""

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "clients", "python"))

import ray  # noqa: E402
from ray.cluster_utils import Cluster  # noqa: E402

from arbiter_client import Client  # noqa: E402
from arbiter_client.ray import ArbiterPool  # noqa: E402
from benchlib import TICK, tree_cpu, tree_pids  # noqa: E402

ANSWERS = [("\\frac{3}{4}", ["\\frac{3}{4}", "0.75", "\\frac{6}{8}", "\\frac{4}{3}"]),
           ("12", ["12", "12.0", "13", "\\frac{24}{2}"]),
           ("2\\sqrt{2}", ["2\\sqrt{2}", "\\sqrt{8}", "2.83", "\\sqrt{2}"]),
           ("-5", ["-5", "-5", "5", "-\\frac{10}{2}"]),
           ("\\pi", ["\\pi", "\\pi", "3.14", "2\\pi"])]


def math_requests(count, seed=7):
    rng = random.Random(seed)
    requests = []
    for i in range(count):
        reference, candidates = ANSWERS[i % len(ANSWERS)]
        reasoning = " ".join(rng.choice(["We", "compute", "the", "sum", "so", "then", "it", "follows"])
                             for _ in range(60))
        requests.append({"id": i, "verifier": "math", "reference": reference,
                         "response": f"{reasoning}. The answer is $\\boxed{{{rng.choice(candidates)}}}$."})
    return requests


def code_requests():
    rows = [json.loads(line) for line in open(os.path.join(ROOT, "fixtures", "peer", "humaneval.jsonl"))]
    requests = []
    for row in rows:
        for body, passes in ((row["canonical_solution"], True), ("    return None\n", False)):
            requests.append(({"id": len(requests), "verifier": "code",
                              "response": "```python\n" + row["prompt"] + body + "```\n",
                              "reference": {"test": row["test"], "entry_point": row["entry_point"]}}, passes))
    return requests


def machine_busy():
    """CPU seconds the whole machine has been busy (/proc/stat: all but idle and iowait)."""
    with open("/proc/stat") as handle:
        values = [int(value) for value in handle.readline().split()[1:]]
    return (sum(values) - values[3] - values[4]) / TICK


def idle_rate(pids, seconds=3.0):
    """CPU seconds per second the tree uses while nothing is scored (Ray's own background work)."""
    before, started = tree_cpu(pids), time.perf_counter()
    time.sleep(seconds)
    return (tree_cpu(pids) - before) / (time.perf_counter() - started)


def timed(function, requests):
    started = time.perf_counter()
    answers = function(requests)
    elapsed = time.perf_counter() - started
    assert len(answers) == len(requests) and all("error" not in answer for answer in answers), answers[:3]
    return elapsed, answers


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "arbiter"))
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--code-repeat", type=int, default=2)
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    verifiers = os.path.join(ROOT, "verifiers")
    os.environ["PYTHONPATH"] = os.path.join(ROOT, "clients", "python")
    os.environ["ARBITER_RAY_DIR"] = tempfile.mkdtemp(prefix="arb-ray-bench-")
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    node = {"num_cpus": 1, "object_store_memory": 200 * 1024 * 1024}
    cluster = Cluster(initialize_head=True, head_node_args=dict(node, include_dashboard=False))
    cluster.add_node(**node)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False)
    head = ray.get_runtime_context().get_node_id()
    one = ArbiterPool.deploy(name="one", binary=binary, verifiers=verifiers, nodes=[head])
    two = ArbiterPool.deploy(name="two", binary=binary, verifiers=verifiers)
    direct = Client(address=one.local_address())
    two_near = ArbiterPool.connect("two", local_first=True)  # this node's share over its socket, the rest via Ray
    print(f"cluster: 2 nodes x 1 CPU; replicas --jobs 1; binary {binary}; {os.cpu_count()} cores; "
          f"load {os.getloadavg()[0]:.1f}")

    pids = tree_pids()
    background = idle_rate(pids)
    print(f"processes in this benchmark's tree: {len(pids)}; their idle CPU: {background * 1000:.1f} ms/s")

    # 1 + 3 + 4. The Ray hop on math, alternating with the direct client on the same daemon.
    one_dicts = ArbiterPool.connect("one", wire="dicts")
    paths = {"direct client (Unix socket, no Ray)": direct.score, "pool, 1 replica": one.score,
             "pool, 1 replica, wire=dicts": one_dicts.score, "pool, 2 replicas": two.score,
             "pool, 2 replicas, local_first": two_near.score}
    for size in (64, 1024):
        requests = math_requests(size)
        expected = [answer["passed"] for answer in direct.score(requests)]
        for label, function in paths.items():  # warm-up, and the answers must be the daemon's
            assert [answer["passed"] for answer in function(requests)] == expected, label
        block = max(1, 4096 // size) if size > 64 else 32  # calls in a row per CPU reading (ticks are 10 ms)
        walls = {label: [] for label in paths}
        cpu = {label: 0.0 for label in paths}
        calls = {label: 0 for label in paths}
        for _ in range(args.repeat if size <= 64 else max(args.repeat // 3, 3)):
            for label, function in paths.items():
                begun_cpu, begun = tree_cpu(pids), time.perf_counter()
                for _ in range(block):
                    walls[label].append(timed(function, requests)[0])
                elapsed = time.perf_counter() - begun
                cpu[label] += tree_cpu(pids) - begun_cpu - background * elapsed
                calls[label] += block
        base = statistics.median(walls["direct client (Unix socket, no Ray)"])
        base_cpu = cpu["direct client (Unix socket, no Ray)"] / (calls["direct client (Unix socket, no Ray)"] * size)
        print(f"\nmath, batch {size} (median of {len(walls['pool, 1 replica'])} calls, alternating blocks of "
              f"{block}; CPU of the whole tree per request, idle CPU taken out):")
        for label, values in walls.items():
            median = statistics.median(values)
            per_request = cpu[label] / (calls[label] * size)
            text = (f"  {label:34s} {median * 1000:8.2f} ms {size / median:8.0f} req/s  CPU "
                    f"{per_request * 1e6:7.1f} us/req")
            if label != "direct client (Unix socket, no Ray)":
                text += (f"  wall {100 * (median - base) / base:+6.1f} % ({(median - base) / size * 1e6:+6.1f} us/req)"
                         f"  CPU {100 * (per_request - base_cpu) / base_cpu:+6.1f} % "
                         f"({(per_request - base_cpu) * 1e6:+6.1f} us/req)")
            print(text)

    # 2. Scaling on the CPU-bound code workload.
    pairs = code_requests()
    requests = [request for request, _ in pairs]
    print(f"\ncode: {len(requests)} HumanEval programs (164 pass, 164 fail), sandboxed, best of {args.code_repeat} "
          "alternating rounds (CPU: this tree; others: the rest of the machine, both in cores over the run):")
    results = {}
    functions = (("direct client, 1 daemon", direct.score), ("pool, 1 replica", one.score),
                 ("pool, 2 replicas", two.score), ("pool, 2 replicas, local_first", two_near.score))
    cores = os.cpu_count() or 1
    for _ in range(args.code_repeat):  # rounds alternate them, so that the machine's load moves them alike
        for label, function in functions:
            pids = tree_pids()
            before_tree, before_machine = tree_cpu(pids), machine_busy()
            elapsed, answers = timed(function, requests)
            ours = tree_cpu(pids) - before_tree
            others = max(machine_busy() - before_machine - ours, 0.0)
            assert [answer["passed"] for answer in answers] == [passes for _, passes in pairs], label
            if label not in results or elapsed < results[label][0]:
                results[label] = (elapsed, ours, others)
    for label, (best, ours, others) in results.items():
        print(f"  {label:34s} {best:8.2f} s  {len(requests) / best:7.1f} programs/s  CPU {ours / len(requests) * 1000:6.1f}"
              f" ms/program  this tree {ours / best:4.2f} cores, the rest of the machine {others / best:4.2f} of "
              f"{cores}")
    one_s, two_s = results["pool, 1 replica"][0], results["pool, 2 replicas"][0]
    _, two_cpu, two_others = results["pool, 2 replicas"]
    _, one_cpu, _ = results["pool, 1 replica"]
    available = max(cores - two_others / two_s, 0.0)
    print(f"  scaling 1 -> 2 replicas: {one_s / two_s:.2f}x; pool of 1 against the direct client: "
          f"{100 * (one_s - results['direct client, 1 daemon'][0]) / results['direct client, 1 daemon'][0]:+.1f} %")
    print(f"  bound: the pool of 1 used {one_cpu / one_s:.2f} cores; while the pool of 2 ran, the rest of the machine "
          f"used {two_others / two_s:.2f} of the {cores} cores, leaving {available:.2f}: at most "
          f"{available / max(one_cpu / one_s, 1e-9):.2f}x the pool of 1's rate")
    print(f"\nload after: {os.getloadavg()[0]:.1f}")
    direct.close()
    one.shutdown()
    two.shutdown()
    ray.shutdown()
    cluster.shutdown()


if __name__ == "__main__":
    main()

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


def timed(function, requests):
    started = time.perf_counter()
    answers = function(requests)
    elapsed = time.perf_counter() - started
    assert len(answers) == len(requests) and all("error" not in answer for answer in answers), answers[:3]
    return elapsed, answers


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "arbiter"))
    parser.add_argument("--repeat", type=int, default=15)
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

    # 1 + 3. The Ray hop on math, alternating with the direct client on the same daemon.
    for size in (64, 1024):
        requests = math_requests(size)
        expected = [answer["passed"] for answer in direct.score(requests)]
        for pool in (one, two, two_near):  # warm-up, and the answers must be the daemon's
            assert [answer["passed"] for answer in pool.score(requests)] == expected
        runs = {"direct client (Unix socket, no Ray)": [], "pool, 1 replica": [], "pool, 2 replicas": [],
                "pool, 2 replicas, local_first": []}
        repeat = args.repeat if size <= 64 else max(args.repeat // 2, 3)
        for _ in range(repeat):
            runs["direct client (Unix socket, no Ray)"].append(timed(direct.score, requests)[0])
            runs["pool, 1 replica"].append(timed(one.score, requests)[0])
            runs["pool, 2 replicas"].append(timed(two.score, requests)[0])
            runs["pool, 2 replicas, local_first"].append(timed(two_near.score, requests)[0])
        base = statistics.median(runs["direct client (Unix socket, no Ray)"])
        print(f"\nmath, batch {size} (median of {repeat}, alternating):")
        for label, values in runs.items():
            median = statistics.median(values)
            line = f"  {label:38s} {median * 1000:9.2f} ms  {size / median:9.0f} req/s"
            if label != "direct client (Unix socket, no Ray)":
                line += (f"  overhead {100 * (median - base) / base:+6.1f} %"
                         f"  ({(median - base) / size * 1e6:+.1f} us/request)")
            print(line)

    # 2. Scaling on the CPU-bound code workload.
    pairs = code_requests()
    requests = [request for request, _ in pairs]
    print(f"\ncode: {len(requests)} HumanEval programs (164 pass, 164 fail), sandboxed, best of {args.code_repeat} alternating rounds:")
    results = {}
    functions = (("direct client, 1 daemon", direct.score), ("pool, 1 replica", one.score),
                 ("pool, 2 replicas", two.score), ("pool, 2 replicas, local_first", two_near.score))
    for _ in range(args.code_repeat):  # rounds alternate them, so that the machine's load moves them alike
        for label, function in functions:
            elapsed, answers = timed(function, requests)
            assert [answer["passed"] for answer in answers] == [passes for _, passes in pairs], label
            results[label] = min(results.get(label, elapsed), elapsed)
    for label, best in results.items():
        print(f"  {label:38s} {best:8.2f} s  {len(requests) / best:7.1f} programs/s")
    print(f"  scaling 1 -> 2 replicas: {results['pool, 1 replica'] / results['pool, 2 replicas']:.2f}x; "
          f"pool of 1 against the direct client: "
          f"{100 * (results['pool, 1 replica'] - results['direct client, 1 daemon']) / results['direct client, 1 daemon']:+.1f} %")
    print(f"\nload after: {os.getloadavg()[0]:.1f}")
    direct.close()
    one.shutdown()
    two.shutdown()
    ray.shutdown()
    cluster.shutdown()


if __name__ == "__main__":
    main()

# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""What the composition layer costs, each against a named baseline in the same run.

1. Python client: 100k `exact` requests through `Client.score` vs (a) the same file piped through
   `arbiter serve` (the daemon alone; the ratio is the client's overhead) and (b) what a trainer would write by
   hand: start `arbiter serve` per call, `communicate()` the whole batch, parse and sort the answers.
2. Recipes: 20k R1-style completions scored with `r1-zero` (one request each) vs `math` and `think-format`
   requested separately (two requests each), both piped through `arbiter serve` — the recipe should cost no more
   than its parts.
3. TRL adapter: the two `reward_funcs("r1-zero")` functions on batches of 1,024 vs one `Client.score` call
   per batch (the adapter's overhead, the second function served from the shared batch).
4. Process plugin: 2,000 `sql` requests through the daemon (2 workers) vs calling the plugin's `verify`
   in-process in a Python loop (the plugin protocol's overhead).

Usage: swift build -c release && python3 Benchmarks/client_and_plugins.py [--binary .build/release/arbiter]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "clients", "python"))
sys.path.insert(0, os.path.join(ROOT, "verifiers", "plugins"))

from arbiter_client import Client  # noqa: E402


def best(repeat, body):
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        body()
        times.append(time.perf_counter() - started)
    return min(times)


def report(name, ours, baseline, ours_label, baseline_label, count):
    print(f"{name}")
    print(f"  {ours_label:<44} {ours:8.3f} s  {count / ours:12,.0f} /s")
    print(f"  {baseline_label:<44} {baseline:8.3f} s  {count / baseline:12,.0f} /s")
    print(f"  ratio (baseline time / ours): {baseline / ours:.2f}x\n")


def completion(i):
    answer = i % 7
    if i % 3 == 0:
        return f"<think>Let me add {answer} and 0.</think>\nThe answer is {answer}"
    return f"<think>We compute step by step: {answer} = {answer}.</think>\n<answer>\\boxed{{{answer}}}</answer>"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "arbiter"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    verifiers = os.path.join(ROOT, "verifiers")
    serve = [args.binary, "serve", "--log-level", "error", "--verifiers", verifiers]

    with tempfile.TemporaryDirectory() as scratch:
        # 1. Client vs raw daemon.
        count = 100_000
        requests = [{"verifier": "exact", "response": str(i), "reference": str(i % 5)} for i in range(count)]
        path = os.path.join(scratch, "exact.jsonl")
        with open(path, "w") as out:
            for i, request in enumerate(requests):
                out.write(json.dumps({"id": i, **request}) + "\n")

        def raw():
            with open(path, "rb") as source:
                subprocess.run(serve, stdin=source, stdout=subprocess.DEVNULL, check=True)

        with Client(binary=args.binary, args=("--log-level", "error", "--verifiers", verifiers)) as client:
            client.score(requests[:1000])  # warm up
            ours = best(args.repeat, lambda: client.score(requests))
            report("1a. exact, 100k requests", ours, best(args.repeat, raw),
                   "Client.score (one call)", "arbiter serve < file (no client)", count)

            def naive():
                payload = "".join(json.dumps({"id": i, **r}) + "\n" for i, r in enumerate(requests)).encode()
                done = subprocess.run(serve, input=payload, stdout=subprocess.PIPE, check=True)
                answers = [json.loads(line) for line in done.stdout.splitlines()]
                answers.sort(key=lambda answer: answer["id"])

            report("1b. exact, 100k requests", ours, best(args.repeat, naive),
                   "Client.score (one call)", "hand-written: one serve per call, communicate()", count)

        # 2. Recipe vs its parts, through the daemon alone (the client's JSON work would dominate otherwise).
        count = 20_000
        texts = [completion(i) for i in range(count)]
        recipe_path = os.path.join(scratch, "recipe.jsonl")
        parts_path = os.path.join(scratch, "parts.jsonl")
        with open(recipe_path, "w") as recipe, open(parts_path, "w") as parts:
            for i, text in enumerate(texts):
                recipe.write(json.dumps({"id": i, "verifier": "r1-zero", "response": text, "reference": str(i % 7)}) + "\n")
                parts.write(json.dumps({"id": 2 * i, "verifier": "math", "response": text, "reference": str(i % 7)}) + "\n")
                parts.write(json.dumps({"id": 2 * i + 1, "verifier": "think-format", "response": text,
                                        "options": {"mode": "answer"}}) + "\n")

        def piped(path):
            def body():
                with open(path, "rb") as source:
                    subprocess.run(serve, stdin=source, stdout=subprocess.DEVNULL, check=True)
            return body

        report("2. r1-zero, 20k completions, arbiter serve < file", best(args.repeat, piped(recipe_path)),
               best(args.repeat, piped(parts_path)), "r1-zero (1 request each)",
               "math + think-format (2 requests each)", count)

        # 3. TRL adapter vs a plain client call.
        os.environ["ARBITER_BIN"] = args.binary
        os.environ["ARBITER_ARGS"] = f"--log-level error --verifiers {verifiers}"
        from arbiter_client import trl
        funcs = trl.reward_funcs("r1-zero")
        client = trl.shared_client()
        batches = [[completion(i) for i in range(start, start + 1024)] for start in range(0, 20 * 1024, 1024)]
        answers = [[str(i % 7) for i in range(start, start + 1024)] for start in range(0, 20 * 1024, 1024)]

        def adapter():
            for batch, refs in zip(batches, answers):
                for func in funcs:
                    func(prompts=["q"] * len(batch), completions=batch, answer=refs)

        def plain():
            for batch, refs in zip(batches, answers):
                client.score([{"verifier": "r1-zero", "response": c, "reference": r, "prompt": "q"}
                              for c, r in zip(batch, refs)])

        adapter()
        report("3. TRL reward_funcs('r1-zero'), 20 batches of 1,024", best(args.repeat, adapter),
               best(args.repeat, plain), "2 reward functions per batch", "1 Client.score per batch", 20 * 1024)

        # 4. sql plugin through the daemon vs in-process.
        import sql
        count = 2_000
        schema = "CREATE TABLE t(id INTEGER, v INTEGER);" + "".join(
            f"INSERT INTO t VALUES ({i}, {i * 7 % 13});" for i in range(50))
        reference = {"schema": schema, "query": "SELECT v, count(*) FROM t GROUP BY v"}
        sql_requests = [{"verifier": "sql", "reference": reference,
                         "response": f"```sql\nSELECT v, count(*) FROM t WHERE id >= {i % 3} GROUP BY v\n```"}
                        for i in range(count)]

        def in_process():
            for request in sql_requests:
                sql.verify(request)

        with Client(binary=args.binary, args=("--log-level", "error", "--verifiers", verifiers)) as client:
            client.score(sql_requests[:50])
            ours = best(args.repeat, lambda: client.score(sql_requests))
        report("4. sql plugin, 2,000 requests", ours, best(args.repeat, in_process),
               "arbiter serve -> plugin (2 workers)", "sql.verify in-process loop (1 core)", count)


if __name__ == "__main__":
    main()

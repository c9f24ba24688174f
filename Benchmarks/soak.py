#!/usr/bin/env python3
# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""Soak: many requests over several connections to one `arbiter serve --listen unix:…`, with the daemon's resident
memory reported at the start, the middle and the end, and at each tenth of the requests (after warm-up it must stay
flat: the mean over tenths 7-10 within 10 % of the mean over tenths 2-5).

Each connection has a writer thread that streams `exact` requests (pipelined, never waiting for answers) and a
reader thread that counts answers and checks that every id comes back exactly once.

    python3 Benchmarks/soak.py [--binary .build/release/arbiter] [--requests 1000000] [--connections 8]
"""
import argparse
import json
import os
import socket
import subprocess
import tempfile
import threading
import time


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def stats_in_flight(path):
    """The daemon's `in_flight` from a `stats` op on a connection of its own (answered ahead of queued work)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(path)
            sock.sendall(b'{"id":"s","op":"stats"}\n')
            answer = b""
            while not answer.endswith(b"\n"):
                chunk = sock.recv(1 << 16)
                if not chunk:
                    break
                answer += chunk
        return json.loads(answer)["stats"]["in_flight"]
    except (OSError, ValueError, KeyError):
        return -1


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=".build/release/arbiter")
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    parser.add_argument("--transport", choices=("events", "threads", "both"), default="events",
                        help="events (default), threads (ARBITER_TRANSPORT=threads: the earlier transport) or both in turn")
    parser.add_argument("--rounds", type=int, default=1, help="with --transport both: how many alternating rounds")
    args = parser.parse_args()
    print(f"load before: {open('/proc/loadavg').read().split()[:3]}")
    transports = ("events", "threads") * args.rounds if args.transport == "both" else (args.transport,)
    failed = False
    for transport in transports:
        failed |= not soak(args, transport)
    print(f"load after: {open('/proc/loadavg').read().split()[:3]}")
    if failed:
        raise SystemExit(1)


def soak(args, transport):
    scratch = tempfile.mkdtemp(prefix="arbiter-soak-")
    path = os.path.join(scratch, "arbiter.sock")
    daemon = subprocess.Popen([args.binary, "serve", "--listen", f"unix:{path}", "--jobs", str(args.jobs),
                               "--log-level", "error"], env=dict(os.environ, ARBITER_TRANSPORT=transport))
    for _ in range(500):
        if os.path.exists(path):
            break
        time.sleep(0.01)
    per_connection = args.requests // args.connections
    total = per_connection * args.connections
    answered = [0] * args.connections
    problems = []
    samples = {"start": rss_kib(daemon.pid)}
    middle_taken = threading.Event()
    curve = {}
    in_flight = {}

    def reader(index, sock):
        seen = bytearray(per_connection)
        pending = b""
        while answered[index] < per_connection:
            chunk = sock.recv(1 << 20)
            if not chunk:
                problems.append(f"connection {index}: closed after {answered[index]} answers")
                return
            pending += chunk
            lines = pending.split(b"\n")
            pending = lines.pop()
            for line in lines:
                answer = json.loads(line)
                number = answer["id"]
                if seen[number]:
                    problems.append(f"connection {index}: id {number} answered twice")
                seen[number] = 1
                answered[index] += 1
            done = sum(answered)
            if not middle_taken.is_set() and done >= total // 2:
                middle_taken.set()
                samples["middle"] = rss_kib(daemon.pid)
            tenth = done * 10 // total
            if tenth not in curve:
                curve[tenth] = rss_kib(daemon.pid)
                in_flight[tenth] = stats_in_flight(path)
        if not all(seen):
            problems.append(f"connection {index}: ids missing")

    def writer(index, sock):
        block = []
        for number in range(per_connection):
            reference = str(number % 1000)
            response = reference if number % 2 else "the answer is " + reference
            block.append(json.dumps({"id": number, "verifier": "exact", "response": response, "reference": reference}))
            if len(block) == 2000:
                sock.sendall(("\n".join(block) + "\n").encode())
                block = []
        if block:
            sock.sendall(("\n".join(block) + "\n").encode())

    started = time.perf_counter()
    threads = []
    sockets = []
    for index in range(args.connections):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(path)
        sockets.append(sock)
        threads.append(threading.Thread(target=reader, args=(index, sock)))
        threads.append(threading.Thread(target=writer, args=(index, sock)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    samples["end"] = rss_kib(daemon.pid)
    for sock in sockets:
        sock.close()
    time.sleep(1.5)  # the connections end; freed memory goes back to the system (malloc_trim, once a second at most)
    samples["closed"] = rss_kib(daemon.pid)
    daemon.terminate()
    daemon.wait(timeout=30)

    print(f"[{transport}] soak: {total:,} exact requests over {args.connections} connections in {elapsed:.1f} s "
          f"({total / elapsed:,.0f} answers/s, client included)")
    print("daemon resident memory: " + ", ".join(f"{name} {samples.get(name, 0) / 1024:.1f} MiB"
                                                 for name in ("start", "middle", "end", "closed"))
          + " (end: every answer read, connections open; closed: 1.5 s after they closed)")
    print("resident memory by tenth of the requests (MiB): " + " ".join(f"{curve[k] / 1024:.1f}" for k in sorted(curve)))
    print("requests in flight (read, not yet written) at each tenth: " + " ".join(
        f"{in_flight[k]:,}" for k in sorted(in_flight)))
    early = [curve[k] for k in sorted(curve) if 2 <= k <= 5]
    late = [curve[k] for k in sorted(curve) if k >= 7]
    if early and late:
        growth = (sum(late) / len(late) - sum(early) / len(early)) / (sum(early) / len(early)) * 100
        print(f"growth of the mean resident memory from tenths 2-5 to tenths 7-10: {growth:+.1f} % (flat: within 10 %)")
    if problems:
        print("PROBLEMS:", *problems[:10], sep="\n  ")
        return False
    print("every request answered exactly once")
    return True


if __name__ == "__main__":
    main()

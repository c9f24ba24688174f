#!/usr/bin/env python3
# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""Throughput of `arbiter serve --listen unix:…` over several connections, for the two socket transports in one run.

Each connection streams prebuilt `exact` requests (pipelined, never waiting) while a reader only counts answer
lines, so the client costs little next to the daemon. The transports alternate round by round (`events`, the
epoll loop; `threads`, a reader and a writer thread per connection, ARBITER_TRANSPORT=threads); the best wall time
and the least daemon CPU time (user + system, from /proc) of each are reported with their ratio. On a shared
machine the CPU time is the steadier figure. Meanwhile one more connection sends a `ping` every 20 ms and times
its answer (ops are answered as soon as they are read, ahead of queued work): the median and largest round trip
over every round are printed.

    python3 Benchmarks/serve_sockets.py [--binary .build/release/arbiter] [--requests 1000000] [--connections 8]
                                        [--rounds 3]
"""
import argparse
import json
import os
import socket
import subprocess
import tempfile
import threading
import time

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def payload(count):
    lines = []
    for number in range(count):
        reference = str(number % 1000)
        response = reference if number % 2 else "the answer is " + reference
        lines.append(json.dumps({"id": number, "verifier": "exact", "response": response, "reference": reference}))
    return ("\n".join(lines) + "\n").encode()


def one_run(args, transport, data, per_connection):
    scratch = tempfile.mkdtemp(prefix="arbiter-sock-")
    path = os.path.join(scratch, "arbiter.sock")
    daemon = subprocess.Popen([args.binary, "serve", "--listen", f"unix:{path}", "--jobs", str(args.jobs),
                               "--log-level", "error"], env=dict(os.environ, ARBITER_TRANSPORT=transport))
    for _ in range(1000):
        if os.path.exists(path):
            break
        time.sleep(0.01)
    time.sleep(0.1)
    counts = [0] * args.connections
    pings = []
    streaming = threading.Event()
    streaming.set()

    def prober():
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(path)
        reply = sock.makefile("rb")
        while streaming.is_set():
            sent = time.perf_counter()
            sock.sendall(b'{"id":"ping","op":"ping"}\n')
            reply.readline()
            pings.append(time.perf_counter() - sent)
            time.sleep(0.02)
        sock.close()

    def reader(index, sock):
        while counts[index] < per_connection:
            chunk = sock.recv(1 << 20)
            if not chunk:
                break
            counts[index] += chunk.count(b"\n")

    sockets = []
    for _ in range(args.connections):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(path)
        sockets.append(sock)
    threads = [threading.Thread(target=reader, args=(index, sock)) for index, sock in enumerate(sockets)]
    threads += [threading.Thread(target=sock.sendall, args=(data,)) for sock in sockets]
    probe = threading.Thread(target=prober)
    cpu_before = cpu_seconds(daemon.pid)
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    probe.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    streaming.clear()
    probe.join()
    cpu = cpu_seconds(daemon.pid) - cpu_before
    for sock in sockets:
        sock.close()
    daemon.terminate()
    daemon.wait(timeout=60)
    return wall, cpu, sum(counts), pings


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=".build/release/arbiter")
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    args = parser.parse_args()
    per_connection = args.requests // args.connections
    total = per_connection * args.connections
    data = payload(per_connection)
    print(f"load before: {open('/proc/loadavg').read().split()[:3]}")
    best = {}
    pings = {"events": [], "threads": []}
    for _ in range(args.rounds):
        for transport in ("events", "threads"):
            wall, cpu, answered, probed = one_run(args, transport, data, per_connection)
            pings[transport] += probed
            if answered != total:
                raise SystemExit(f"[{transport}] {answered:,} of {total:,} answers")
            old = best.get(transport, (wall, cpu))
            best[transport] = (min(old[0], wall), min(old[1], cpu))
    print(f"load after: {open('/proc/loadavg').read().split()[:3]}")
    print(f"{total:,} exact requests over {args.connections} Unix connections, --jobs {args.jobs}, best of {args.rounds}")
    print("           wall s   requests/s   daemon CPU s   CPU µs/request")
    for transport, (wall, cpu) in best.items():
        print(f"{transport:<9}{wall:8.3f}{total / wall:13,.0f}{cpu:15.3f}{cpu / total * 1e6:17.2f}")
    for transport, times in pings.items():
        times.sort()
        if times:
            print(f"{transport}: ping round trip while {args.connections} connections stream: median "
                  f"{times[len(times) // 2] * 1000:.2f} ms, largest {times[-1] * 1000:.2f} ms ({len(times)} pings)")
    events, threads = best["events"], best["threads"]
    print(f"events vs threads: {threads[0] / events[0]:.2f}x wall, {threads[1] / events[1]:.2f}x CPU (above 1: events faster)")


if __name__ == "__main__":
    main()

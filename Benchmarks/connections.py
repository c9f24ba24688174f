#!/usr/bin/env python3
# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""Many concurrent connections to one `arbiter serve --listen unix:…`: every connection sends a ping and an
`exact` request and must get both answers; prints the daemon's threads and resident memory idle, with all
connections open, and after they close (memory per idle connection = the difference / connections).

    python3 Benchmarks/connections.py [--binary .build/release/arbiter] [--connections 2000]
"""
import argparse
import json
import os
import resource
import selectors
import socket
import subprocess
import tempfile
import time


def status(pid):
    values = {}
    with open(f"/proc/{pid}/status") as lines:
        for line in lines:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "Threads"):
                values[key] = int(rest.split()[0])
    return values


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=".build/release/arbiter")
    parser.add_argument("--connections", type=int, default=2000)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = args.connections + 256
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(wanted, soft), hard), hard))

    scratch = tempfile.mkdtemp(prefix="arbiter-conn-")
    path = os.path.join(scratch, "arbiter.sock")
    daemon = subprocess.Popen([args.binary, "serve", "--listen", f"unix:{path}", "--log-level", "error"])
    for _ in range(500):
        if os.path.exists(path):
            break
        time.sleep(0.01)
    time.sleep(0.2)
    idle = status(daemon.pid)
    sockets = []
    started = time.perf_counter()
    for index in range(args.connections):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(path)
        sockets.append(sock)
    for index, sock in enumerate(sockets):
        sock.sendall((json.dumps({"id": f"p{index}", "op": "ping"}) + "\n" +
                      json.dumps({"id": f"e{index}", "verifier": "exact", "response": "1", "reference": "1"}) + "\n").encode())
    selector = selectors.DefaultSelector()
    received = {}
    for sock in sockets:
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
        received[sock] = b""
    answered = 0
    deadline = time.time() + 120
    while received and time.time() < deadline:
        for key, _ in selector.select(timeout=1.0):
            sock = key.fileobj
            chunk = sock.recv(65536)
            received[sock] += chunk
            if received[sock].count(b"\n") >= 2 or not chunk:
                if chunk:
                    answered += 1
                selector.unregister(sock)
                del received[sock]
    elapsed = time.perf_counter() - started
    time.sleep(0.5)
    busy = status(daemon.pid)
    for sock in sockets:
        sock.close()
    time.sleep(2)
    after = status(daemon.pid)
    daemon.terminate()
    daemon.wait(timeout=30)
    print(f"connections: {args.connections:,}, fully answered {answered:,} in {elapsed:.2f} s")
    print(f"daemon threads: idle {idle['Threads']}, open {busy['Threads']}, after close {after['Threads']}")
    print(f"daemon resident memory: idle {idle['VmRSS'] / 1024:.1f} MiB, open {busy['VmRSS'] / 1024:.1f} MiB, "
          f"after close {after['VmRSS'] / 1024:.1f} MiB")
    print(f"per open connection: {(busy['VmRSS'] - idle['VmRSS']) / args.connections:.1f} KiB")
    if answered != args.connections:
        raise SystemExit(1)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""Many concurrent connections to one `arbiter serve --listen …`: every connection sends a ping and an `exact`
request and must get both answers, then stays open and idle. Prints, for each transport asked for, the daemon's
threads and resident memory idle (no connection), with every connection open and idle, and after they all closed,
and the memory per idle connection (the difference / connections; goal ≤ 64 KiB).

    python3 Benchmarks/connections.py [--binary .build/release/arbiter] [--connections 10000]
                                      [--transport events|threads|both] [--tcp]

The open-file limit is raised for this process and the daemon (which inherits it) as far as needed: as root the
hard limit too. `--transport threads` is the earlier transport (a reader and a writer thread per connection,
selected with ARBITER_TRANSPORT=threads); `both` runs the two in one run, events first.
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


def raise_descriptor_limit(wanted):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= wanted:
        return soft
    if hard < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, wanted))  # root may raise the hard limit
            return wanted
        except (ValueError, OSError):
            wanted = hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return wanted


def settle(pid, seconds=0.5):
    time.sleep(seconds)
    return status(pid)


def measure(args, transport):
    scratch = tempfile.mkdtemp(prefix="arbiter-conn-")
    path = os.path.join(scratch, "arbiter.sock")
    address = "tcp:127.0.0.1:0" if args.tcp else f"unix:{path}"
    environment = dict(os.environ, ARBITER_TRANSPORT=transport)
    daemon = subprocess.Popen([args.binary, "serve", "--listen", address, "--log-level", "info"],
                              env=environment, stderr=subprocess.PIPE, text=True)
    port = None
    deadline = time.time() + 30
    while time.time() < deadline:
        line = daemon.stderr.readline()
        if "listening" in line:
            if args.tcp:
                port = int(line.rsplit("tcp:127.0.0.1:", 1)[1].split()[0].strip('"'))
            break
    idle = settle(daemon.pid)

    def connect():
        if args.tcp:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.connect(("127.0.0.1", port))
        else:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(path)
        return sock

    sockets = []
    started = time.perf_counter()
    for index in range(args.connections):
        sockets.append(connect())
    connected = time.perf_counter() - started
    for index, sock in enumerate(sockets):
        sock.sendall((json.dumps({"id": f"p{index}", "op": "ping"}) + "\n" +
                      json.dumps({"id": f"e{index}", "verifier": "exact", "response": "1", "reference": "1"}) + "\n").encode())
    selector = selectors.DefaultSelector()
    received = {}
    numbers = {sock: index for index, sock in enumerate(sockets)}
    for sock in sockets:
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
        received[sock] = b""
    answered = 0
    deadline = time.time() + 300
    while received and time.time() < deadline:
        for key, _ in selector.select(timeout=1.0):
            sock = key.fileobj
            chunk = sock.recv(65536)
            received[sock] += chunk
            if received[sock].count(b"\n") >= 2 or not chunk:
                if chunk:
                    index = numbers[sock]
                    ids = {json.loads(line)["id"] for line in received[sock].split(b"\n") if line}
                    if ids == {f"p{index}", f"e{index}"}:
                        answered += 1
                    else:
                        print(f"connection {index}: unexpected answers {received[sock][:200]!r}")
                selector.unregister(sock)
                del received[sock]
    elapsed = time.perf_counter() - started
    busy = settle(daemon.pid, 1.0)
    for sock in sockets:
        sock.close()
    after = settle(daemon.pid, 3.0)
    daemon.terminate()
    try:
        daemon.wait(timeout=60)
    except subprocess.TimeoutExpired:
        daemon.kill()
        daemon.wait()
    per = (busy["VmRSS"] - idle["VmRSS"]) / args.connections
    print(f"[{transport}] connections: {args.connections:,} over {'TCP' if args.tcp else 'a Unix socket'}, "
          f"fully answered {answered:,} in {elapsed:.2f} s (connecting {connected:.2f} s); daemon exit {daemon.returncode}")
    print(f"[{transport}] daemon threads: idle {idle['Threads']}, all open {busy['Threads']}, after close {after['Threads']}")
    print(f"[{transport}] daemon resident memory: idle {idle['VmRSS'] / 1024:.1f} MiB, all open {busy['VmRSS'] / 1024:.1f} MiB, "
          f"after close {after['VmRSS'] / 1024:.1f} MiB")
    print(f"[{transport}] per idle connection: {per:.1f} KiB (goal: at most 64 KiB)")
    return answered == args.connections and daemon.returncode == 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=".build/release/arbiter")
    parser.add_argument("--connections", type=int, default=10000)
    parser.add_argument("--transport", choices=("events", "threads", "both"), default="events")
    parser.add_argument("--tcp", action="store_true", help="TCP on 127.0.0.1 instead of a Unix socket")
    args = parser.parse_args()
    limit = raise_descriptor_limit(args.connections + 256)
    print(f"open-file limit: {limit:,}; load: {open('/proc/loadavg').read().split()[:3]}")
    transports = ("events", "threads") if args.transport == "both" else (args.transport,)
    results = [measure(args, transport) for transport in transports]
    if not all(results):
        raise SystemExit(1)


if __name__ == "__main__":
    main()

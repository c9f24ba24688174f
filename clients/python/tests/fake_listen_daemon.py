# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""A stand-in for `arbiter serve --listen unix:PATH` that fails on purpose, for the Ray pool's fault tests.

Each connection is served by its own threads: `ping` and `stats` are answered at once, requests in order by a worker.
It scores like `exact` (1 when response == reference). A response containing `SLOW` takes 20 ms (so that a batch is
still running when a test kills something), `POISON` kills this daemon with SIGKILL (a verifier fault), and
`KILLREPLICA` kills its parent — the Ray replica actor that started it — and then itself (a request that takes the
replica down, as an out-of-memory kill would). Every start appends a line to $FAKE_STARTS when it is set.
"""

import json
import os
import queue
import signal
import socket
import sys
import threading
import time

arguments = sys.argv[1:]
path = arguments[arguments.index("--listen") + 1][len("unix:"):]
if os.environ.get("FAKE_STARTS"):
    with open(os.environ["FAKE_STARTS"], "a") as log:
        log.write(f"{os.getpid()}\n")

answered = [0]
started = time.time()


def serve(connection):
    write_lock = threading.Lock()
    work = queue.Queue()

    def send(answer):
        with write_lock:
            connection.sendall((json.dumps(answer) + "\n").encode())

    def worker():
        while True:
            request = work.get()
            if request is None:
                return
            response = request.get("response", "")
            if "SLOW" in response:
                time.sleep(0.02)
            if "POISON" in response:
                os.kill(os.getpid(), signal.SIGKILL)
            if "KILLREPLICA" in response:
                os.kill(os.getppid(), signal.SIGKILL)
                os.kill(os.getpid(), signal.SIGKILL)
            passed = response == request.get("reference")
            answered[0] += 1
            send({"id": request.get("id"), "score": 1 if passed else 0, "passed": passed,
                  "reason": "equal" if passed else "no"})

    threading.Thread(target=worker, daemon=True).start()
    buffer = b""
    while True:
        data = connection.recv(1 << 16)
        if not data:
            work.put(None)
            return
        buffer += data
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            if not line.strip():
                continue
            request = json.loads(line)
            if request.get("op") == "ping":
                send({"id": request.get("id"), "ok": True, "version": "fake", "jobs": 1})
            elif request.get("op") == "stats":
                send({"id": request.get("id"), "stats": {"requests": answered[0], "in_flight": work.qsize(),
                                                         "uptime_s": time.time() - started}})
            else:
                work.put(request)


if os.path.exists(path):
    os.unlink(path)
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(64)
signal.signal(signal.SIGTERM, lambda *_: (os.path.exists(path) and os.unlink(path), os._exit(0)))
while True:
    client, _ = server.accept()
    threading.Thread(target=serve, args=(client,), daemon=True).start()

"""A new connection is served while the workers are busy with another connection's stream (issue 20).

`arbiter serve --listen unix:…` gets 40,000 `math` lines on connection A; connection B then sends `stats`. B's
answer must arrive while A still waits for answers — the mechanism, not a time bound. Before sessions started on
the accept thread, B's reader waited for a thread of the cooperative pool, which the workers kept busy, and B's
first answer came only after A's last one.
"""

import json
import os
import pathlib
import socket
import subprocess
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]


def binary():
    if os.environ.get("ARBITER_BIN"):
        return os.environ["ARBITER_BIN"]
    for config in ("debug", "release"):
        candidate = ROOT / ".build" / config / "arbiter"
        if candidate.exists():
            return str(candidate)
    raise RuntimeError("no arbiter binary: run `swift build` first")


def test_a_new_connection_is_answered_before_a_busy_connection_finishes():
    directory = tempfile.mkdtemp(prefix="arbiter-conn-")
    path = os.path.join(directory, "d.sock")
    daemon = subprocess.Popen([binary(), "serve", "--listen", f"unix:{path}", "--jobs", "2", "--log-level", "error"])
    try:
        deadline = time.monotonic() + 30
        while not os.path.exists(path):
            assert time.monotonic() < deadline and daemon.poll() is None
            time.sleep(0.02)
        count = 40_000
        lines = "".join(json.dumps({"id": i, "verifier": "math", "response": f"\\boxed{{\\frac{{{i}}}{{7}}}}",
                                    "reference": f"{i}/7"}) + "\n" for i in range(count)).encode()
        busy = socket.socket(socket.AF_UNIX)
        busy.connect(path)
        received = {"lines": 0}

        def read_busy():
            while received["lines"] < count:
                data = busy.recv(1 << 16)
                if not data:
                    break
                received["lines"] += data.count(b"\n")

        threading.Thread(target=busy.sendall, args=(lines,), daemon=True).start()
        reader = threading.Thread(target=read_busy, daemon=True)
        reader.start()
        while received["lines"] == 0:  # the workers are at work on A
            assert daemon.poll() is None
            time.sleep(0.005)
        newcomer = socket.socket(socket.AF_UNIX)
        newcomer.connect(path)
        newcomer.sendall(b'{"id": "b", "op": "stats"}\n')
        answer = json.loads(newcomer.makefile("rb").readline())
        answered_at = received["lines"]
        assert answer["id"] == "b" and "stats" in answer
        assert answered_at < count, "B was answered only after A's last answer"
        assert answer["stats"]["in_flight"] > 0, "A still had work in flight when B was answered"
        reader.join(timeout=300)
        assert received["lines"] == count  # and A lost nothing
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)

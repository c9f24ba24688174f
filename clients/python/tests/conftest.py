# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""The client tests run against the real daemon: $ARBITER_BIN, else the checkout's .build/{debug,release}/arbiter."""

import os
import pathlib
import subprocess
import tempfile
import time

import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
# Test the package in this checkout, even when an older copy is installed.
sys.path.insert(0, str(ROOT / "clients" / "python"))
VERIFIERS = str(ROOT / "verifiers")


def _binary():
    if os.environ.get("ARBITER_BIN"):
        return os.environ["ARBITER_BIN"]
    for config in ("debug", "release"):
        candidate = ROOT / ".build" / config / "arbiter"
        if candidate.exists():
            return str(candidate)
    raise RuntimeError("no arbiter binary: run `swift build` first or set ARBITER_BIN")


BINARY = _binary()
os.environ["ARBITER_BIN"] = BINARY
os.environ["ARBITER_ARGS"] = f"--verifiers {VERIFIERS}"


@pytest.fixture
def binary():
    return BINARY


@pytest.fixture
def socket_daemons():
    """Starts daemons listening on Unix sockets; yields a function that returns their addresses."""
    started = []
    directory = tempfile.mkdtemp(prefix="arbiter-client-")

    def start(count=1):
        addresses = []
        for index in range(count):
            path = os.path.join(directory, f"d{len(started)}-{index}.sock")
            process = subprocess.Popen([BINARY, "serve", "--listen", f"unix:{path}", "--verifiers", VERIFIERS])
            started.append(process)
            deadline = time.monotonic() + 20
            while not os.path.exists(path):
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"daemon on {path} did not start")
                time.sleep(0.02)
            addresses.append(f"unix:{path}")
        return addresses

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=20)

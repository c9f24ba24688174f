# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""A stand-in for `arbiter serve` that fails on purpose, for the client's restart tests.

It speaks the wire protocol on stdin/stdout for the `exact` verifier (score 1 when response == reference) and `ping`.
A response containing `POISON` kills it with SIGSEGV (as a verifier fault would); `DRAIN` makes it answer that
request `cancelled` and exit 0, as a daemon stopped by SIGTERM does; while the file named by $FAKE_DEAD exists
it exits at start, as a daemon that cannot start does — unless the file named by $FAKE_DRAINED exists
(it is created on the first drain), so the next daemon answers it; `HANG` is never answered. Every start appends
a line to $FAKE_STARTS.
"""

import json
import os
import signal
import sys

if os.environ.get("FAKE_STARTS"):
    with open(os.environ["FAKE_STARTS"], "a") as log:
        log.write(f"{os.getpid()}\n")

if os.environ.get("FAKE_DEAD") and os.path.exists(os.environ["FAKE_DEAD"]):
    sys.exit(1)  # a daemon that cannot start

out = sys.stdout.buffer
for raw in sys.stdin.buffer:
    if not raw.strip():
        continue
    request = json.loads(raw)
    wire_id = request.get("id")
    if request.get("op") == "ping":
        answer = {"id": wire_id, "ok": True}
    elif request.get("op") == "list":
        answer = {"id": wire_id, "verifiers": [{"name": "exact", "kind": "builtin"}]}
    else:
        response = request.get("response", "")
        if "POISON" in response:
            os.kill(os.getpid(), signal.SIGSEGV)
        if "HANG" in response:
            continue  # never answered
        drained = os.environ.get("FAKE_DRAINED", "")
        if "DRAIN" in response and drained and not os.path.exists(drained):
            open(drained, "w").close()
            out.write((json.dumps({"id": wire_id, "error": {"code": "cancelled", "message": "drained"}}) + "\n")
                      .encode())
            out.flush()
            sys.exit(0)
        passed = response == request.get("reference")
        answer = {"id": wire_id, "score": 1 if passed else 0, "passed": passed, "reason": "equal" if passed else "no"}
    out.write((json.dumps(answer) + "\n").encode())
    out.flush()

# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""The synchronous client: `arbiter serve` as a child process, or daemons reached over sockets.

The connection logic (restarts, poison isolation, drain, coalescing) lives in `_link.py` and is shared with the
asyncio client in `aio.py`.
"""

import itertools
import threading

from ._common import ArbiterError, addresses_of, decode_all, encode, find_binary, split_evenly, with_id
from ._link import _Call, _Link

_SLICE = 4096  # requests encoded and handed to the connection at a time


class _Base:
    """What `Client` and `AsyncClient` share: the links and the encoding of a call."""

    def __init__(self, binary=None, args=(), address=None, timeout=None, max_restarts=3, start=True):
        self._timeout = timeout
        self._next_id = 1
        self._turns = itertools.count()
        self._id_lock = threading.Lock()
        self._links_lock = threading.Lock()
        addresses = addresses_of(address)
        if addresses:
            self._specs = [dict(address=one, max_restarts=max_restarts) for one in addresses]
        else:
            self._specs = [dict(command=[find_binary(binary), "serve", *args], max_restarts=max_restarts)]
        self._links = None
        if start:
            self._ensure_links()

    def _ensure_links(self):
        links = self._links
        if links is None:
            with self._links_lock:
                if self._links is None:
                    self._links = [_Link(**spec) for spec in self._specs]
                links = self._links
        return links

    def _submit(self, requests, on_done=None, encoded=False, labels=None):
        """Encodes and sends a call's requests; returns (call, wire ids, [(link, index range), …]).

        A large call is handed over in slices as it is encoded, so the daemon starts on the first while the rest are
        being encoded."""
        links = self._ensure_links()
        total = len(requests)
        with self._id_lock:
            first = self._next_id
            self._next_id += total
        wire_ids = range(first, first + total)
        call = _Call(total, on_done)
        if len(links) == 1:
            parts = [(links[0], range(total))]
        else:
            # Each call starts with the next daemon, so that one-request calls (a per-sample path) are spread.
            offset = next(self._turns) % len(links)
            parts = list(zip(links[offset:] + links[:offset], split_evenly(total, len(links))))
        for link, part in parts:
            for start in range(part.start, part.stop, _SLICE):
                make = with_id if encoded else encode
                link.submit([(wire_ids[i], make(requests[i], wire_ids[i]),
                              (i, total, requests[i] if labels is None else labels[i]))
                             for i in range(start, min(start + _SLICE, part.stop))], call)
        return call, wire_ids, parts

    @staticmethod
    def _forget(wire_ids, parts):
        for link, part in parts:
            link.forget([wire_ids[i] for i in part])

    @staticmethod
    def _answers(call, wire_ids, requests):
        return decode_all([call.answers[wire_id] for wire_id in wire_ids], requests)

    @staticmethod
    def _verify_request(verifier, response, reference, prompt, options):
        request = {"verifier": verifier, "response": response, "reference": reference}
        if prompt is not None:
            request["prompt"] = prompt
        if options:
            request["options"] = options
        return request

    @staticmethod
    def _raise_on_error(answer):
        if "error" in answer:
            raise ArbiterError(answer["error"].get("code", "internal"), answer["error"].get("message", ""))
        return answer

    @property
    def pids(self):
        """Process ids of child daemons (empty for socket connections)."""
        return [link.pid for link in self._links or [] if link.pid is not None]

    @property
    def restarts(self):
        """How many times a daemon was started again (or reconnected) after the first start."""
        return sum(max(link.starts - 1, 0) for link in self._links or [])

    @property
    def cancelled(self):
        """How many `cancelled` answers (from a daemon that was stopped) were taken back and sent again."""
        return sum(link.cancelled for link in self._links or [])

    @property
    def crashes(self):
        """How many daemons died with requests in flight."""
        return sum(link.crashes for link in self._links or [])


class Client(_Base):
    """Scores requests with Arbiter, synchronously.

    `Client()` starts `arbiter serve` as a child process (the binary from `binary`, `$ARBITER_BIN` or PATH, with
    extra `args` such as `["--verifiers", "path/to/verifiers", "--jobs", "8"]`). `Client(address="unix:/run/a.sock")`
    connects to a running daemon instead; several addresses (a list, or one comma-separated string) spread each call's
    requests across them. Safe to use from many threads at once; concurrent calls are written to the daemon together.

    A daemon that dies is started again (or reconnected) and the unanswered requests are sent again; a request that
    kills the daemon by itself is answered with the error `crashed` and the rest are scored (see `_link.py`).
    `timeout` (seconds per call) bounds the wait; `max_restarts` is how many failed starts in a row end a call with
    `unavailable`.
    """

    def score(self, requests):
        """One answer dict per request dict, in order: a verdict (`score`, `passed`, `reason`, `details`, `ms`),
        a batch's `results`, an op's answer, or `{"error": {"code", "message"}}`."""
        requests = list(requests)
        if not requests:
            return []
        call, wire_ids, parts = self._submit(requests)
        try:
            call.wait(self._timeout)
        except ArbiterError:
            self._forget(wire_ids, parts)
            raise
        return self._answers(call, wire_ids, requests)

    def score_encoded(self, bodies, ids=None):
        """The answer lines (bytes, undecoded) for requests already encoded by `_common.encode_body`, in order: for a
        caller that encodes and decodes in another process (the Ray pool's replicas), so that only bytes travel.
        `ids` (the callers' own ids, which the bodies do not carry) name a request that has to be set aside."""
        bodies = list(bodies)
        if not bodies:
            return []
        labels = [(body, None if ids is None else ids[index]) for index, body in enumerate(bodies)]
        call, wire_ids, parts = self._submit(bodies, encoded=True, labels=labels)
        try:
            call.wait(self._timeout)
        except ArbiterError:
            self._forget(wire_ids, parts)
            raise
        return [call.answers[wire_id] for wire_id in wire_ids]

    def score_one(self, request):
        """The answer to one request. Calls from many threads at once reach the daemon as one batch."""
        return self.score([request])[0]

    def verify(self, verifier, response, reference=None, prompt=None, options=None):
        """The verdict for one response; raises ArbiterError when Arbiter answers with an error."""
        return self._raise_on_error(self.score_one(self._verify_request(verifier, response, reference, prompt,
                                                                          options)))

    def list_verifiers(self):
        """Every verifier the (first) daemon serves, as the `list` op returns them."""
        return self._raise_on_error(self.score_one({"op": "list"}))["verifiers"]

    def ping(self):
        return self.score_one({"op": "ping"})

    def close(self):
        """Ends the connections; a child daemon finishes what it has and exits. Calls still waiting fail."""
        for link in self._links or []:
            link.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

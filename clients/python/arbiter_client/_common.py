# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""What the sync and asyncio clients share: finding the binary, addresses, request bookkeeping."""

import json
import os
import re
import shutil


class ArbiterError(Exception):
    """A request that Arbiter answered with an error, or a daemon that could not be reached or kept alive.

    `code` is the wire error code (`invalid_reference`, `unknown_verifier`, …) or `unavailable` when the daemon
    itself failed; `message` says what went wrong.
    """

    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def find_binary(binary=None):
    """The `arbiter` executable: the argument, else $ARBITER_BIN, else `arbiter` on PATH."""
    candidate = binary or os.environ.get("ARBITER_BIN")
    if candidate:
        if os.sep in candidate or (os.altsep and os.altsep in candidate):
            if not os.access(candidate, os.X_OK):
                raise ArbiterError("unavailable", f"no executable arbiter at '{candidate}'")
            return candidate
        found = shutil.which(candidate)
        if not found:
            raise ArbiterError("unavailable", f"'{candidate}' is not on PATH")
        return found
    found = shutil.which("arbiter")
    if not found:
        raise ArbiterError(
            "unavailable",
            "cannot find the arbiter binary: pass binary=..., set $ARBITER_BIN, or put 'arbiter' on PATH "
            "(swift build -c release leaves it in .build/release/arbiter)",
        )
    return found


def parse_address(address):
    """('unix', path) or ('tcp', (host, port)) from 'unix:PATH' or 'tcp:HOST:PORT'."""
    if address.startswith("unix:"):
        path = address[len("unix:"):]
        if not path:
            raise ValueError(f"bad address '{address}': unix:PATH needs a path")
        return "unix", path
    if address.startswith("tcp:"):
        host, sep, port = address[len("tcp:"):].rpartition(":")
        if not sep or not port.isdigit():
            raise ValueError(f"bad address '{address}': expected tcp:HOST:PORT")
        return "tcp", (host.strip("[]") or "127.0.0.1", int(port))
    raise ValueError(f"bad address '{address}': expected unix:PATH or tcp:HOST:PORT")


def addresses_of(address):
    """A list of addresses from None, one address, or several (a list, or a comma-separated string).

    `ray:NAME` stands for this node's daemon of the Ray pool NAME (docs/ray.md): resolved here, so that every
    adapter's `address` (verl's reward_kwargs, OpenRLHF's and TRL's arguments, ARBITER_ADDRESS) can name a pool."""
    if address is None:
        return []
    if isinstance(address, str):
        parts = [part.strip() for part in address.split(",") if part.strip()]
    else:
        parts = list(address)
    if any(isinstance(part, str) and part.startswith("ray:") for part in parts):
        from .ray import resolve_address  # Ray is imported only when a pool is named
        parts = [resolve_address(part) for part in parts]
    return parts


def _plain(value):
    """numpy scalars and arrays (dataset columns from pandas or parquet) as plain Python values."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _finite(value):
    """The value with NaN and infinities (not JSON) replaced by None, so that a missing reference in a dataset is
    an error for that request alone, not for the whole call."""
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    if hasattr(value, "tolist") or hasattr(value, "item"):
        return _finite(_plain(value))
    return value


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_plain)


def encode(request, wire_id):
    """One request line (bytes, newline-terminated) carrying the client's own id."""
    if not isinstance(request, dict):
        raise TypeError(f"a request must be a dict, got {type(request).__name__}")
    # The id goes first: Arbiter recovers a leading id even from a line it cannot accept (too_large). It is put in
    # front of the encoded request as text, which spares a copy of every request dict.
    body = request if "id" not in request else {key: value for key, value in request.items() if key != "id"}
    try:
        encoded = _ENCODER.encode(body)
    except ValueError:
        encoded = _ENCODER.encode(_finite(body))
    text = '{"id":%d' % wire_id + ("," + encoded[1:] if len(encoded) > 2 else "}")
    try:
        return (text + "\n").encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate (a model's broken UTF-16 pair, or bytes decoded with surrogateescape) cannot be UTF-8:
        # it becomes U+FFFD in this request only, so that the request is scored and its neighbours are untouched.
        return (_LONE_SURROGATE.sub("\ufffd", text) + "\n").encode("utf-8")


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def encode_body(request):
    """A request encoded once, without an id (bytes of one JSON object), for `with_id` to send later — possibly in
    another process (the Ray pool ships these instead of dicts). Same rules as `encode`."""
    line = encode(request, 0)
    return b"{" + line[len(b'{"id":0'):-1].lstrip(b",")


def with_id(body, wire_id):
    """The request line for an `encode_body` result, carrying the client's own id."""
    return b'{"id":%d' % wire_id + (b"," + body[1:] if len(body) > 2 else b"}") + b"\n"


def decode(line, original):
    """The answer dict for a request, with the caller's own `id` put back (or removed when it had none)."""
    answer = json.loads(line)
    if "id" in original:
        answer["id"] = original["id"]
    else:
        answer.pop("id", None)
    return answer


def decode_all(lines, originals):
    """`decode` for a whole call: the answer lines are parsed as one JSON array (one parser call instead of one per
    answer, which is most of the client's time on large batches); a line that is not JSON falls back to `decode`."""
    try:
        answers = json.loads(b"[" + b",".join(lines) + b"]")
    except ValueError:
        return [decode(line, original) for line, original in zip(lines, originals)]
    for answer, original in zip(answers, originals):
        if "id" in original:
            answer["id"] = original["id"]
        else:
            answer.pop("id", None)
    return answers


def split_evenly(count, parts):
    """Contiguous index ranges covering range(count), one per part (some may be empty)."""
    size, extra = divmod(count, parts)
    ranges, start = [], 0
    for index in range(parts):
        end = start + size + (1 if index < extra else 0)
        ranges.append(range(start, end))
        start = end
    return ranges


_LEADING_ID = re.compile(rb'\s*\{\s*"id"\s*:\s*(-?\d+)')


def answer_id(line):
    """The integer id at the start of an answer line (`{"id":N,…}`, as Arbiter writes answers), else None."""
    match = _LEADING_ID.match(line)
    return int(match.group(1)) if match else None

# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""The synchronous client: `arbiter serve` as a child process, or daemons reached over sockets."""

import io
import itertools
import socket
import subprocess
import threading
import time

from ._common import ArbiterError, answer_id, addresses_of, decode, encode, find_binary, parse_address, split_evenly

_CHUNK_BYTES = 1 << 16


class _Link:
    """One daemon: a child process or a socket, with a reader thread and resend-on-restart bookkeeping."""

    def __init__(self, command=None, address=None, max_restarts=3):
        self._command = command
        self._address = address
        self._max_restarts = max_restarts
        self._condition = threading.Condition()
        self._write_lock = threading.Lock()
        self._pending = {}  # wire id -> (request line, its _Call), until answered
        self._generation = 0
        self._restarts_without_progress = 0
        self._closing = False
        self._dead = None  # the ArbiterError that ended this link, once it gave up
        self._process = None
        self._socket = None
        self._writer = None
        self._reader_thread = None
        self._open()

    # -- connection ----------------------------------------------------------------------------------------------

    def _open(self):
        if self._command is not None:
            try:
                self._process = subprocess.Popen(
                    self._command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0, close_fds=True
                )
            except OSError as error:
                raise ArbiterError("unavailable", f"cannot start {self._command[0]}: {error}") from error
            self._writer = self._process.stdin
            # Unbuffered pipes (bufsize=0) keep writes direct; reads need a buffer, or readline() reads byte by byte.
            reader = io.BufferedReader(self._process.stdout, buffer_size=1 << 16)
        else:
            kind, where = parse_address(self._address)
            family = socket.AF_UNIX if kind == "unix" else socket.AF_INET
            if kind == "tcp" and ":" in where[0]:
                family = socket.AF_INET6
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.connect(where)
            except OSError as error:
                sock.close()
                raise ArbiterError("unavailable", f"cannot connect to {self._address}: {error}") from error
            self._socket = sock
            self._writer = sock.makefile("wb", buffering=0)
            reader = sock.makefile("rb")
        generation = self._generation
        self._reader_thread = threading.Thread(
            target=self._read, args=(reader, generation), name="arbiter-client-reader", daemon=True
        )
        self._reader_thread.start()

    def _close_transport(self):
        if self._writer is not None:
            try:
                self._writer.close()
            except OSError:
                pass
        if self._socket is not None:
            try:
                self._socket.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._socket.close()
            self._socket = None

    def _read(self, stream, generation):
        rest = b""
        while True:
            chunk = stream.read1(1 << 16)
            if not chunk:
                break
            *lines, rest = (rest + chunk).split(b"\n")
            if not lines:
                continue
            # One lock for every complete line of the chunk, then one hand-over per waiting call.
            delivered = []
            with self._condition:
                for line in lines:
                    wire_id = answer_id(line)
                    entry = self._pending.pop(wire_id, None)
                    if entry is not None:
                        delivered.append((entry[1], wire_id, line))
                if delivered:
                    self._restarts_without_progress = 0
            by_call = {}
            for call, wire_id, line in delivered:
                by_call.setdefault(call, []).append((wire_id, line))
            for call, answers in by_call.items():
                call.deliver(answers)
        stream.close()
        with self._condition:
            if self._closing or generation != self._generation:
                return
        self._restart()

    def _restart(self):
        """The daemon went away: start (or reconnect) a new one and resend every unanswered request."""
        with self._write_lock:
            with self._condition:
                self._generation += 1
                self._restarts_without_progress += 1
                give_up = self._restarts_without_progress > self._max_restarts
                if give_up:
                    self._dead = ArbiterError(
                        "unavailable", f"the daemon died {self._max_restarts + 1} times without answering; "
                        "create a new client once it can run")
                    self._fail_all(self._dead)
            self._close_transport()
            if self._process is not None:
                self._process.wait()
            if give_up:
                return
            delay = min(0.05 * (2 ** self._restarts_without_progress), 2.0)
            time.sleep(delay)
            try:
                self._open()
            except ArbiterError as error:
                with self._condition:
                    self._dead = error
                    self._fail_all(error)
                return
            with self._condition:
                lines = [line for line, _ in self._pending.values()]
            try:
                for chunk in _chunks(lines):
                    self._writer.write(chunk)
            except OSError:
                pass  # the new daemon died too: its reader restarts again

    # -- requests ------------------------------------------------------------------------------------------------

    def _fail_all(self, error):
        """Fails every unanswered request (called with the condition held)."""
        for _, call in self._pending.values():
            call.fail(error)
        self._pending.clear()

    def submit(self, items, call):
        """Sends (wire id, line) pairs; their answers are delivered to `call`."""
        with self._condition:
            if self._dead is not None:
                raise self._dead
            if self._closing:
                raise ArbiterError("unavailable", "the client is closed")
            for wire_id, line in items:
                self._pending[wire_id] = (line, call)
            generation = self._generation
        lines = [line for _, line in items]
        for chunk in _chunks(lines):
            with self._write_lock:
                if generation != self._generation:
                    return  # a restart resent everything pending, these included
                try:
                    self._writer.write(chunk)
                except (OSError, ValueError):
                    return  # the reader sees the daemon go and restarts it

    def forget(self, wire_ids):
        """Drops requests whose caller stopped waiting (a timeout)."""
        with self._condition:
            for wire_id in wire_ids:
                self._pending.pop(wire_id, None)

    def close(self):
        with self._condition:
            self._closing = True
        with self._write_lock:
            self._close_transport()
        if self._process is not None:
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._reader_thread is not None:
            self._reader_thread.join(timeout=5)
        # A socket gives no answers after it is shut, and a child that was killed none after it died.
        with self._condition:
            self._fail_all(ArbiterError("unavailable", "the client is closed"))

    @property
    def pid(self):
        return self._process.pid if self._process is not None else None


class _Call:
    """The answers one `score` call waits for; the reader hands each over, and wakes the caller once at the end."""

    def __init__(self, count):
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._remaining = count
        self.answers = {}
        self.error = None
        if count == 0:
            self._done.set()

    def deliver(self, answers):
        """Takes (wire id, answer line) pairs."""
        with self._lock:
            if self.error is not None:
                return
            self.answers.update(answers)
            self._remaining -= len(answers)
            if self._remaining <= 0:
                self._done.set()

    def fail(self, error):
        with self._lock:
            if self.error is None:
                self.error = error
        self._done.set()

    def wait(self, timeout):
        if not self._done.wait(timeout):
            raise ArbiterError("unavailable", "no answer before the timeout")
        if self.error is not None:
            raise self.error


def _chunks(lines):
    buffer, size = [], 0
    for line in lines:
        buffer.append(line)
        size += len(line)
        if size >= _CHUNK_BYTES:
            yield b"".join(buffer)
            buffer, size = [], 0
    if buffer:
        yield b"".join(buffer)


class Client:
    """Scores requests with Arbiter, synchronously.

    `Client()` starts `arbiter serve` as a child process (the binary from `binary`, `$ARBITER_BIN` or PATH, with
    extra `args` such as `["--verifiers", "path/to/verifiers", "--jobs", "8"]`). `Client(address="unix:/run/a.sock")`
    connects to a running daemon instead; several addresses (a list, or one comma-separated string) spread each call's
    requests across them. A daemon that dies is started again (or reconnected) and the unanswered requests are sent
    again. Safe to use from several threads.
    """

    def __init__(self, binary=None, args=(), address=None, timeout=None, max_restarts=3):
        self._timeout = timeout
        self._ids = itertools.count(1)
        self._id_lock = threading.Lock()
        addresses = addresses_of(address)
        if addresses:
            self._links = [_Link(address=one, max_restarts=max_restarts) for one in addresses]
        else:
            command = [find_binary(binary), "serve", *args]
            self._links = [_Link(command=command, max_restarts=max_restarts)]

    def score(self, requests):
        """One answer dict per request dict, in order: a verdict (`score`, `passed`, `reason`, `details`, `ms`),
        a batch's `results`, an op's answer, or `{"error": {"code", "message"}}`."""
        requests = list(requests)
        if not requests:
            return []
        with self._id_lock:
            wire_ids = [next(self._ids) for _ in requests]
        ranges = split_evenly(len(requests), len(self._links))
        call = _Call(len(requests))
        for link, part in zip(self._links, ranges):
            if part:
                link.submit([(wire_ids[i], encode(requests[i], wire_ids[i])) for i in part], call)
        try:
            call.wait(self._timeout)
        except ArbiterError:
            for link, part in zip(self._links, ranges):
                link.forget([wire_ids[i] for i in part])
            raise
        return [decode(call.answers[wire_id], request) for wire_id, request in zip(wire_ids, requests)]

    def score_one(self, request):
        """The answer to one request."""
        return self.score([request])[0]

    def verify(self, verifier, response, reference=None, prompt=None, options=None):
        """The verdict for one response; raises ArbiterError when Arbiter answers with an error."""
        request = {"verifier": verifier, "response": response, "reference": reference}
        if prompt is not None:
            request["prompt"] = prompt
        if options:
            request["options"] = options
        answer = self.score_one(request)
        if "error" in answer:
            raise ArbiterError(answer["error"].get("code", "internal"), answer["error"].get("message", ""))
        return answer

    def list_verifiers(self):
        """Every verifier the (first) daemon serves, as the `list` op returns them."""
        return self.score_one({"op": "list"})["verifiers"]

    def ping(self):
        return self.score_one({"op": "ping"})

    @property
    def pids(self):
        """Process ids of child daemons (empty for socket connections)."""
        return [link.pid for link in self._links if link.pid is not None]

    def close(self):
        """Ends the connections; a child daemon finishes what it has and exits."""
        for link in self._links:
            link.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

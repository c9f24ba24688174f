# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""One daemon connection, shared by the sync and asyncio clients.

A `_Link` owns a child `arbiter serve` (or a socket to a running daemon), a reader thread and a writer thread.
Callers hand it requests with `submit`; answers go back to a `_Call`, which either wakes a waiting thread or
resolves an asyncio future on the caller's own event loop. Everything that can go wrong with the daemon is handled
here, once for both clients:

- **Coalescing.** Requests go to an outbox. A caller whose lines are small writes the outbox itself unless another
  thread is writing, in which case that thread writes them too when its write returns; large outboxes, and lines
  queued by the reader, go to a writer thread (the reader must never block on a write). Many concurrent one-request
  calls (a trainer's per-sample reward calls) thus reach the daemon as a few writes, without a thread hop each.
- **Restarts.** When the daemon goes away the link starts a new one (or reconnects), checks it with a `ping` before
  sending it anything, and sends the unanswered requests again. A daemon that never answers the ping counts as a
  failed start; after `max_restarts` failed starts in a row the waiting calls fail with `unavailable`, and the next
  call tries again from scratch (a client is never dead for good).
- **Poison isolation.** When a daemon dies with requests in flight, one of them may be what killed it. Those
  requests are re-sent in halves, one half at a time, until a request that kills a healthy daemon while it is the
  only request in flight has done so twice: that request alone gets the error `crashed`, naming it; every other
  request is scored, and later calls are served as usual. Work submitted meanwhile waits until the isolation ends.
- **Drain.** A request answered `cancelled` (the daemon was stopped and its drain time ran out) is not a verdict:
  it is sent again to the next daemon, up to `max_restarts + 1` times, after which the `cancelled` answer is given.
"""

import io
import json
import logging
import socket
import subprocess
import threading
import time

from ._common import ArbiterError, answer_id, parse_address

_CHUNK_BYTES = 1 << 16
_DIRECT_BYTES = 1 << 16  # a caller writes its own lines up to this size; larger outboxes go to the writer thread
_STRIKES_TO_CONVICT = 2  # deaths of a healthy daemon with the request alone in flight
_CANCELLED = b'"cancelled"'
_log = logging.getLogger("arbiter_client")


class _Call:
    """The answers of one `score` call. `on_done`, when given, is called once (from a client thread) when every
    answer is in or the call failed; otherwise `wait` blocks."""

    __slots__ = ("_lock", "_done", "_remaining", "answers", "error", "_on_done")

    def __init__(self, count, on_done=None):
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._remaining = count
        self._on_done = on_done
        self.answers = {}
        self.error = None
        if count == 0:
            self._finish()

    def _finish(self):
        self._done.set()
        if self._on_done is not None:
            callback, self._on_done = self._on_done, None
            callback(self)

    def deliver(self, answers):
        """Takes (wire id, answer line) pairs."""
        with self._lock:
            if self.error is not None or self._done.is_set():
                return
            self.answers.update(answers)
            self._remaining -= len(answers)
            finished = self._remaining <= 0
        if finished:
            self._finish()

    def fail(self, error):
        with self._lock:
            if self._done.is_set():
                return
            self.error = error
        self._finish()

    def wait(self, timeout):
        if not self._done.wait(timeout):
            raise ArbiterError("unavailable", "no answer before the timeout")
        if self.error is not None:
            raise self.error


class _Request:
    __slots__ = ("wire_id", "line", "call", "cancels", "strikes", "label")

    def __init__(self, wire_id, line, call, label):
        self.wire_id = wire_id
        self.line = line
        self.call = call
        self.cancels = 0
        self.strikes = 0
        self.label = label


class _Link:
    """One daemon: a child process or a socket (see the module's documentation)."""

    def __init__(self, command=None, address=None, max_restarts=3):
        self._command = command
        self._address = address
        self._max_restarts = max_restarts
        self._lock = threading.Condition()
        self._pending = {}      # wire id -> _Request, every request not yet answered
        self._in_flight = set()  # wire ids sent to the current daemon and not answered
        self._waiting = []      # wire ids to send once the daemon is healthy and no isolation runs
        self._groups = []       # isolation: a stack of wire-id lists still to test, one at a time
        self._group = None      # isolation: the set of wire ids of the group in flight
        self._healthy = False   # the current daemon answered its ping
        self._up = False        # a transport is open
        self._restarting = False
        self._going = False     # `_gone` is collecting a dead daemon's requests: no restart may start meanwhile
        self._failed_starts = 0
        self._generation = 0
        self._closing = False
        self._outbox = []
        self._outbox_bytes = 0
        self._writing = False
        self._process = None
        self._socket = None
        self._writer = None
        self._ping_id = 0
        self.starts = 0         # daemons started (or connections made), for tests and logs
        self.crashes = 0        # daemons that died with requests in flight
        self.cancelled = 0      # `cancelled` answers taken back to be sent to the next daemon
        self._draining = False  # the current daemon answered `cancelled`: it was stopped, it did not crash
        self._writer_thread = threading.Thread(target=self._write_loop, name="arbiter-client-writer", daemon=True)
        self._writer_thread.start()
        with self._lock:
            self._open()  # raises ArbiterError when the daemon cannot be started or reached at all

    # -- transport ---------------------------------------------------------------------------------------------

    def _open(self):
        """Starts or connects a daemon and sends it a ping (called with the lock held)."""
        if self._command is not None:
            try:
                process = subprocess.Popen(
                    self._command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0, close_fds=True
                )
            except OSError as error:
                raise ArbiterError("unavailable", f"cannot start {self._command[0]}: {error}") from error
            self._process = process
            self._writer = process.stdin
            reader = io.BufferedReader(process.stdout, buffer_size=1 << 16)
        else:
            kind, where = parse_address(self._address)
            family = socket.AF_UNIX if kind == "unix" else (socket.AF_INET6 if ":" in where[0] else socket.AF_INET)
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.connect(where)
            except OSError as error:
                sock.close()
                raise ArbiterError("unavailable", f"cannot connect to {self._address}: {error}") from error
            if kind == "tcp":
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._socket = sock
            self._writer = sock.makefile("wb", buffering=0)
            reader = sock.makefile("rb")
        if self._in_flight:
            # Safety net: requests sent to a previous daemon and never answered go to this one first.
            self._waiting[:0] = sorted(wire_id for wire_id in self._in_flight if wire_id in self._pending)
            self._in_flight.clear()
        self.starts += 1
        self._generation += 1
        self._up = True
        self._healthy = False
        self._draining = False
        self._outbox = []
        self._outbox_bytes = 0
        self._ping_id -= 1
        self._outbox.append(b'{"id":%d,"op":"ping"}\n' % self._ping_id)
        self._lock.notify_all()
        threading.Thread(
            target=self._read_loop, args=(reader, self._generation), name="arbiter-client-reader", daemon=True
        ).start()

    def _close_transport(self):
        writer, self._writer = self._writer, None
        if writer is not None:
            try:
                writer.close()
            except (OSError, ValueError):
                pass
        if self._socket is not None:
            try:
                self._socket.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._socket.close()
            self._socket = None

    def _write_loop(self):
        while True:
            with self._lock:
                while (not self._outbox or self._writing) and not (self._closing and self._writer is None):
                    self._lock.wait()
                if self._closing and self._writer is None:
                    return
                self._writing = True
                lines, self._outbox, self._outbox_bytes = self._outbox, [], 0
                writer = self._writer
            self._write(writer, lines)
            with self._lock:
                self._writing = False
                if self._outbox:
                    self._lock.notify_all()

    def _kick(self):
        """Writes the outbox from this thread when it is small and nobody is writing (then anything added meanwhile
        too); otherwise leaves it to the thread writing now, or wakes the writer thread."""
        while True:
            with self._lock:
                if self._writing or not self._outbox:
                    return
                if self._outbox_bytes > _DIRECT_BYTES:
                    self._lock.notify_all()
                    return
                self._writing = True
                lines, self._outbox, self._outbox_bytes = self._outbox, [], 0
                writer = self._writer
            self._write(writer, lines)
            with self._lock:
                self._writing = False

    @staticmethod
    def _write(writer, lines):
        if writer is None:
            return
        try:
            for chunk in _chunks(lines):
                writer.write(chunk)
        except (OSError, ValueError):
            pass  # the reader sees the daemon go and restarts it; what was lost is resent then

    def _read_loop(self, stream, generation):
        for lines in _complete_lines(stream):
            try:
                self._take(lines, generation)
            except Exception:  # noqa: BLE001 — a bug here must not leave every caller waiting forever
                _log.exception("arbiter: could not take the daemon's answers; restarting the connection")
                break
        try:
            stream.close()
        except (OSError, ValueError):
            pass
        self._gone(generation)

    # -- answers -------------------------------------------------------------------------------------------------

    def _take(self, lines, generation):
        delivered = []
        with self._lock:
            if generation != self._generation:
                return
            for line in lines:
                wire_id = answer_id(line)
                if wire_id is None:
                    continue
                if wire_id < 0:
                    if wire_id == self._ping_id:
                        self._healthy = True
                        self._failed_starts = 0
                        self._advance()
                    continue
                request = self._pending.get(wire_id)
                if request is None:
                    continue
                self._in_flight.discard(wire_id)
                if self._group is not None:
                    self._group.discard(wire_id)
                if _CANCELLED in line and _is_cancelled(line) and request.cancels < self._max_restarts:
                    request.cancels += 1
                    self.cancelled += 1
                    self._draining = True
                    self._waiting.insert(0, wire_id)  # resent to the next daemon; this one is draining
                    continue
                del self._pending[wire_id]
                delivered.append((request.call, wire_id, line))
            if self._group is not None and not self._group:
                self._group = None
                self._advance()
        _deliver(delivered)

    def _advance(self):
        """Sends what may be sent now (lock held): the next isolation group, else everything waiting."""
        if not self._healthy or not self._up or self._group is not None:
            return
        while self._groups:
            group = [wire_id for wire_id in self._groups.pop() if wire_id in self._pending]
            if group:
                self._group = set(group)
                self._send(group)
                return
        if self._waiting:
            waiting, self._waiting = self._waiting, []
            self._send([wire_id for wire_id in waiting if wire_id in self._pending])

    def _send(self, wire_ids, wake_writer=True):
        """Queues requests for the daemon (lock held); `wake_writer=False` when the caller will `_kick`."""
        for wire_id in wire_ids:
            self._in_flight.add(wire_id)
            line = self._pending[wire_id].line
            self._outbox.append(line)
            self._outbox_bytes += len(line)
        if wire_ids and wake_writer:
            self._lock.notify_all()

    # -- the daemon went away ----------------------------------------------------------------------------------

    def _gone(self, generation):
        with self._lock:
            if generation != self._generation or self._closing:
                return
            self._up = False
            self._going = True
            was_healthy = self._healthy
            self._healthy = False
            self._close_transport()
            process = self._process
        status = None
        if process is not None:
            status = process.wait()
        delivered = []
        with self._lock:
            self._going = False
            if generation != self._generation or self._closing:
                return
            suspects = sorted(wire_id for wire_id in self._in_flight if wire_id in self._pending)
            self._in_flight.clear()
            # A drain is not a crash: a child exits 0; a socket's daemon answered `cancelled` before it closed.
            crashed = bool(suspects) and status != 0 and not self._draining
            if not was_healthy:
                self._failed_starts += 1
                self._waiting[:0] = suspects
            elif crashed:
                self.crashes += 1
                _log.warning("arbiter: the daemon died (%s) with %d request(s) in flight; restarting it and sending "
                             "them again in halves to find any that kills it", _how(status), len(suspects))
                self._isolate(suspects, status, delivered)
            else:
                self._waiting[:0] = suspects  # a clean exit (a drain): resend as they were
            self._group = None
            if self._pending or self._command is None:
                self._start_restart()
        _deliver(delivered)

    def _isolate(self, suspects, status, delivered):
        """Splits the requests a daemon died with into halves to test one at a time (lock held)."""
        if len(suspects) == 1:
            request = self._pending[suspects[0]]
            request.strikes += 1
            if request.strikes >= _STRIKES_TO_CONVICT:
                del self._pending[request.wire_id]
                message = (f"the daemon died ({_how(status)}) each time this request ({_describe(request.label)}) "
                           f"was the only one it was verifying, {request.strikes} times: it was set aside so that the "
                           "rest could be scored; the daemon was restarted")
                _log.error("arbiter: %s", message)
                line = json.dumps({"id": request.wire_id, "error": {"code": "crashed", "message": message}})
                delivered.append((request.call, request.wire_id, line.encode()))
                return
            self._groups.append(suspects)
            return
        middle = len(suspects) // 2
        # A stack: the first half is tested first; the second waits its turn.
        self._groups.append(suspects[middle:])
        self._groups.append(suspects[:middle])

    def _start_restart(self):
        if self._restarting:
            return
        self._restarting = True
        threading.Thread(target=self._restart_loop, name="arbiter-client-restart", daemon=True).start()

    def _restart_loop(self):
        while True:
            with self._lock:
                if self._closing or self._up:
                    self._restarting = False
                    return
                if self._failed_starts > self._max_restarts:
                    self._give_up(ArbiterError(
                        "unavailable",
                        f"the daemon could not be brought up: {self._failed_starts} starts in a row died or closed "
                        "before answering a ping; the next call tries again"))
                    self._restarting = False
                    return
                delay = min(0.05 * (2 ** self._failed_starts), 2.0) if self._failed_starts else 0.0
            if delay:
                time.sleep(delay)
            with self._lock:
                if self._closing:
                    self._restarting = False
                    return
                try:
                    self._open()
                    self._restarting = False
                    return
                except ArbiterError as error:
                    self._failed_starts += 1
                    if self._failed_starts > self._max_restarts:
                        self._give_up(error)
                        self._restarting = False
                        return

    def _give_up(self, error):
        """Fails every waiting call (lock held); the link stays usable: the next submit starts over."""
        calls = {request.call for request in self._pending.values()}
        self._pending.clear()
        self._waiting.clear()
        self._groups.clear()
        self._group = None
        self._in_flight.clear()
        self._failed_starts = 0
        for call in calls:
            call.fail(error)

    # -- requests ------------------------------------------------------------------------------------------------

    def submit(self, items, call):
        """Sends (wire id, line, label) triples; their answers are delivered to `call`."""
        with self._lock:
            if self._closing:
                raise ArbiterError("unavailable", "the client is closed")
            for wire_id, line, label in items:
                self._pending[wire_id] = _Request(wire_id, line, call, label)
            ids = [item[0] for item in items]
            direct = self._healthy and self._up and self._group is None and not self._groups
            if direct:
                self._send(ids, wake_writer=False)
            else:
                self._waiting.extend(ids)
                # While `_gone` collects a dead daemon's requests it starts the restart itself, after them: a
                # restart started here then made it miss them, and they waited forever (a call sent in slices
                # while its daemon was killed).
                if not self._up and not self._going:
                    self._start_restart()
        if direct:
            self._kick()

    def forget(self, wire_ids):
        """Drops requests whose caller stopped waiting (a timeout)."""
        with self._lock:
            for wire_id in wire_ids:
                self._pending.pop(wire_id, None)
                self._in_flight.discard(wire_id)
                if self._group is not None:
                    self._group.discard(wire_id)
            if self._group is not None and not self._group:
                self._group = None
                self._advance()

    def close(self):
        with self._lock:
            self._closing = True
            outbox_empty_deadline = time.monotonic() + 30
            while self._outbox and self._up and time.monotonic() < outbox_empty_deadline:
                self._lock.wait(0.05)
            self._close_transport()
            self._lock.notify_all()
            process = self._process
        if process is not None:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        with self._lock:
            calls = {request.call for request in self._pending.values()}
            self._pending.clear()
        for call in calls:
            call.fail(ArbiterError("unavailable", "the client is closed"))

    @property
    def pid(self):
        process = self._process
        return process.pid if process is not None and process.poll() is None else None


def _how(status):
    if status is None:
        return "the connection closed"
    return f"signal {-status}" if status < 0 else f"status {status}"


def _describe(label):
    """Names a request for an error message: its place in its call and the start of what it asked."""
    index, total, request = label
    if isinstance(request, tuple):  # (a request encoded elsewhere, its caller's id): Client.score_encoded
        body, name = request
        try:
            request = json.loads(body)
        except ValueError:
            request = {}
        if isinstance(request, dict) and name is not None:
            request["id"] = name
    parts = [f"item {index} of {total} in its call"]
    if isinstance(request, dict):
        if request.get("id") is not None:
            parts.append(f"id {request['id']!r}")
        if request.get("verifier") is not None:
            parts.append(f"verifier {request['verifier']!r}")
        response = request.get("response")
        if isinstance(response, str):
            parts.append(f"response {response[:60]!r}" + ("…" if len(response) > 60 else ""))
    return ", ".join(parts)


def _is_cancelled(line):
    try:
        answer = json.loads(line)
    except ValueError:
        return False
    error = answer.get("error") if isinstance(answer, dict) else None
    return isinstance(error, dict) and error.get("code") == "cancelled"


def _deliver(delivered):
    """Hands answers to their calls: one hand-over per call."""
    if not delivered:
        return
    by_call = {}
    for call, wire_id, line in delivered:
        by_call.setdefault(call, []).append((wire_id, line))
    for call, answers in by_call.items():
        call.deliver(answers)


def _complete_lines(stream, size=1 << 16):
    """The stream's complete lines (without their newlines), as lists, as they arrive; ends when the stream does (an
    unfinished last line is dropped). A line longer than a read is kept as its pieces and joined once, when its
    newline comes: joining the pending text to every new read made a long answer cost quadratic time."""
    partial = []
    while True:
        try:
            chunk = stream.read1(size)
        except (OSError, ValueError):
            chunk = b""
        if not chunk:
            return
        if b"\n" not in chunk:
            partial.append(chunk)
            continue
        lines = chunk.split(b"\n")
        tail = lines.pop()
        if partial:
            partial.append(lines[0])
            lines[0] = b"".join(partial)
        partial = [tail] if tail else []
        yield lines


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

# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""The asyncio client: many `score` calls in flight at once, answers matched by id."""

import asyncio
import itertools

from ._common import ArbiterError, answer_id, addresses_of, decode, encode, find_binary, parse_address, split_evenly


class _AsyncLink:
    """One daemon over asyncio streams, restarted (or reconnected) when it goes away."""

    def __init__(self, command=None, address=None, max_restarts=3):
        self._command = command
        self._address = address
        self._max_restarts = max_restarts
        self._pending = {}  # wire id -> (line, future)
        self._process = None
        self._writer = None
        self._reader_task = None
        self._closing = False
        self._restarts_without_progress = 0
        self._started = None
        self._write_lock = None
        self._loop = None
        self._dead = None

    async def start(self):
        loop = asyncio.get_running_loop()
        if self._started is None:
            self._loop = loop
            self._started = asyncio.ensure_future(self._open())
            self._write_lock = asyncio.Lock()
        elif loop is not self._loop:
            raise ArbiterError(
                "unavailable", "this AsyncClient runs on another event loop: create one AsyncClient per event loop")
        if self._dead is not None:
            raise self._dead
        await self._started

    async def _open(self):
        if self._command is not None:
            try:
                self._process = await asyncio.create_subprocess_exec(
                    *self._command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
                )
            except OSError as error:
                raise ArbiterError("unavailable", f"cannot start {self._command[0]}: {error}") from error
            reader, self._writer = self._process.stdout, self._process.stdin
        else:
            kind, where = parse_address(self._address)
            try:
                if kind == "unix":
                    reader, self._writer = await asyncio.open_unix_connection(where)
                else:
                    reader, self._writer = await asyncio.open_connection(*where)
            except OSError as error:
                raise ArbiterError("unavailable", f"cannot connect to {self._address}: {error}") from error
        self._reader_task = asyncio.ensure_future(self._read(reader))

    async def _read(self, reader):
        buffer = b""
        while True:
            # Read in chunks and split lines here: StreamReader.readline() refuses lines over its 64 KiB limit.
            chunk = await reader.read(1 << 16)
            if not chunk:
                break
            buffer += chunk
            if b"\n" not in chunk:
                continue
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                if not line.strip():
                    continue
                wire_id = answer_id(line)
                entry = self._pending.pop(wire_id, None)
                if entry is not None and not entry[1].done():
                    self._restarts_without_progress = 0
                    entry[1].set_result(line)
        if not self._closing:
            asyncio.ensure_future(self._restart())

    async def _restart(self):
        async with self._write_lock:
            self._restarts_without_progress += 1
            if self._process is not None:
                await self._process.wait()
            if self._restarts_without_progress > self._max_restarts:
                self._dead = ArbiterError(
                    "unavailable", f"the daemon died {self._max_restarts + 1} times without answering; "
                    "create a new client once it can run")
                self._fail_all(self._dead)
                return
            await asyncio.sleep(min(0.05 * (2 ** self._restarts_without_progress), 2.0))
            try:
                await self._open()
            except ArbiterError as error:
                self._dead = error
                self._fail_all(error)
                return
            try:
                for line, _ in list(self._pending.values()):
                    self._writer.write(line)
                await self._writer.drain()
            except (ConnectionError, OSError):
                pass  # the new daemon went too; its reader restarts again

    def _fail_all(self, error):
        for _, future in self._pending.values():
            if not future.done():
                future.set_exception(error)
        self._pending.clear()

    async def submit(self, items):
        """Sends (wire id, line) pairs and returns their futures."""
        await self.start()
        loop = asyncio.get_running_loop()
        futures = []
        for wire_id, line in items:
            future = loop.create_future()
            self._pending[wire_id] = (line, future)
            futures.append(future)
        async with self._write_lock:
            try:
                self._writer.write(b"".join(line for _, line in items))
                await self._writer.drain()
            except (ConnectionError, OSError):
                pass  # the reader sees the daemon go; the restart resends these
        return futures

    def forget(self, wire_ids):
        """Drops requests whose caller stopped waiting (a timeout)."""
        for wire_id in wire_ids:
            self._pending.pop(wire_id, None)

    async def close(self):
        self._closing = True
        if self._writer is not None:
            self._writer.close()
        if self._process is not None:
            try:
                await asyncio.wait_for(self._process.wait(), 30)
            except asyncio.TimeoutError:
                self._process.kill()
                await self._process.wait()
        if self._reader_task is not None:
            try:
                await asyncio.wait_for(self._reader_task, 5)
            except (asyncio.TimeoutError, ConnectionError, OSError):
                pass
        self._fail_all(ArbiterError("unavailable", "the client is closed"))

    @property
    def pid(self):
        return self._process.pid if self._process is not None else None


class AsyncClient:
    """Scores requests with Arbiter from asyncio code; `score` may be awaited by many tasks at once.

    Same arguments as `Client`. The daemon starts on first use (or `await client.start()`); use
    `async with AsyncClient() as client:` or `await client.close()`.
    """

    def __init__(self, binary=None, args=(), address=None, timeout=None, max_restarts=3):
        self._timeout = timeout
        self._ids = itertools.count(1)
        addresses = addresses_of(address)
        if addresses:
            self._links = [_AsyncLink(address=one, max_restarts=max_restarts) for one in addresses]
        else:
            command = [find_binary(binary), "serve", *args]
            self._links = [_AsyncLink(command=command, max_restarts=max_restarts)]

    async def start(self):
        for link in self._links:
            await link.start()

    async def score(self, requests):
        """One answer dict per request dict, in order (see `Client.score`)."""
        requests = list(requests)
        if not requests:
            return []
        wire_ids = [next(self._ids) for _ in requests]
        ranges = split_evenly(len(requests), len(self._links))
        futures = []
        for link, part in zip(self._links, ranges):
            if part:
                futures.extend(await link.submit([(wire_ids[i], encode(requests[i], wire_ids[i])) for i in part]))
        try:
            lines = await asyncio.wait_for(asyncio.gather(*futures), self._timeout)
        except asyncio.TimeoutError:
            for link, part in zip(self._links, ranges):
                link.forget([wire_ids[i] for i in part])
            raise ArbiterError("unavailable", "no answer before the timeout") from None
        return [decode(line, request) for line, request in zip(lines, requests)]

    async def verify(self, verifier, response, reference=None, prompt=None, options=None):
        """The verdict for one response; raises ArbiterError when Arbiter answers with an error."""
        request = {"verifier": verifier, "response": response, "reference": reference}
        if prompt is not None:
            request["prompt"] = prompt
        if options:
            request["options"] = options
        answer = (await self.score([request]))[0]
        if "error" in answer:
            raise ArbiterError(answer["error"].get("code", "internal"), answer["error"].get("message", ""))
        return answer

    async def list_verifiers(self):
        return (await self.score([{"op": "list"}]))[0]["verifiers"]

    @property
    def pids(self):
        return [link.pid for link in self._links if link.pid is not None]

    async def close(self):
        for link in self._links:
            await link.close()

    async def __aenter__(self):
        await self.start()
        return self

    async def __aexit__(self, *exc):
        await self.close()

# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""The asyncio client: the same connections as `Client` (one implementation, `_link.py`), awaited.

The daemon's answers are read by the link's thread and handed to the awaiting task's own event loop, once per call,
so an `AsyncClient` may be used from any number of event loops and threads (verl's reward workers each run one).
"""

import asyncio

from ._common import ArbiterError
from .client import _Base


class AsyncClient(_Base):
    """Scores requests with Arbiter from asyncio code; `score` may be awaited by many tasks at once.

    Same arguments and guarantees as `Client`. The daemon starts on first use (or `await client.start()`); use
    `async with AsyncClient() as client:` or `await client.close()`.
    """

    def __init__(self, binary=None, args=(), address=None, timeout=None, max_restarts=3):
        super().__init__(binary=binary, args=args, address=address, timeout=timeout, max_restarts=max_restarts,
                         start=False)
        self._gathering = {}

    @classmethod
    def sharing(cls, client):
        """An AsyncClient on the same daemon connections as `client` (a `Client`); closing either closes both."""
        shared = cls.__new__(cls)
        shared.__dict__.update(client.__dict__)
        shared._gathering = {}
        shared._ensure_links()
        return shared

    async def start(self):
        self._ensure_links()

    async def score(self, requests):
        """One answer dict per request dict, in order (see `Client.score`)."""
        requests = list(requests)
        if not requests:
            return []
        loop = asyncio.get_running_loop()
        future = loop.create_future()

        def done(call):
            loop.call_soon_threadsafe(_settle, future, call)

        call, wire_ids, parts = self._submit(requests, done)
        try:
            await asyncio.wait_for(asyncio.shield(future), self._timeout)
        except asyncio.TimeoutError:
            self._forget(wire_ids, parts)
            raise ArbiterError("unavailable", "no answer before the timeout") from None
        except asyncio.CancelledError:
            self._forget(wire_ids, parts)
            raise
        if call.error is not None:
            raise call.error
        return self._answers(call, wire_ids, requests)

    async def score_one(self, request):
        """The answer to one request. The calls made by the tasks of one event loop in the same turn of that loop
        (a trainer scoring its samples one coroutine each) are sent as one call, and reach the daemon as one batch."""
        loop = asyncio.get_running_loop()
        batch = self._gathering.get(loop)
        if batch is None:
            batch = self._gathering[loop] = ([], [])
            loop.call_soon(self._flush, loop)
        future = loop.create_future()
        batch[0].append(request)
        batch[1].append(future)
        return await future

    def _flush(self, loop):
        requests, futures = self._gathering.pop(loop)
        task = loop.create_task(self.score(requests))

        def settle(done):
            if done.cancelled():
                for future in futures:
                    future.cancel()
                return
            error = done.exception()
            for index, future in enumerate(futures):
                if future.done():
                    continue
                if error is not None:
                    future.set_exception(error)
                else:
                    future.set_result(done.result()[index])

        task.add_done_callback(settle)

    async def verify(self, verifier, response, reference=None, prompt=None, options=None):
        """The verdict for one response; raises ArbiterError when Arbiter answers with an error."""
        return self._raise_on_error(await self.score_one(self._verify_request(verifier, response, reference, prompt,
                                                                                options)))

    async def list_verifiers(self):
        return self._raise_on_error(await self.score_one({"op": "list"}))["verifiers"]

    async def ping(self):
        return await self.score_one({"op": "ping"})

    async def close(self):
        links = self._links or []
        if links:
            await asyncio.get_running_loop().run_in_executor(None, lambda: [link.close() for link in links])

    async def __aenter__(self):
        await self.start()
        return self

    async def __aexit__(self, *exc):
        await self.close()


def _settle(future, call):
    if not future.done():
        future.set_result(call)

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

        call, wire_ids, ranges = self._submit(requests, done)
        try:
            await asyncio.wait_for(asyncio.shield(future), self._timeout)
        except asyncio.TimeoutError:
            self._forget(wire_ids, ranges)
            raise ArbiterError("unavailable", "no answer before the timeout") from None
        except asyncio.CancelledError:
            self._forget(wire_ids, ranges)
            raise
        if call.error is not None:
            raise call.error
        return self._answers(call, wire_ids, requests)

    async def score_one(self, request):
        """The answer to one request. Concurrent calls reach the daemon as one batch."""
        return (await self.score([request]))[0]

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

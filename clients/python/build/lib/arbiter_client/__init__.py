# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""Client for the Arbiter reward daemon.

    from arbiter_client import Client
    with Client() as arbiter:   # starts `arbiter serve` ($ARBITER_BIN or PATH)
        [verdict] = arbiter.score([{"verifier": "math", "response": "\\\\boxed{4}", "reference": "4"}])

Adapters: `arbiter_client.trl`, `arbiter_client.verl`, `arbiter_client.openrlhf`.
"""

from ._common import ArbiterError
from .aio import AsyncClient
from .client import Client

__all__ = ["ArbiterError", "AsyncClient", "Client"]
__version__ = "0.1.0"

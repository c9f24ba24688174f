# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""What the trainer adapters share: one client per configuration, text from chat messages, recipe lookup."""

import os
import shlex
import threading

from ._common import ArbiterError
from .client import Client

_clients = {}
_clients_lock = threading.Lock()


def shared_client(binary=None, args=None, address=None, timeout=None):
    """A client kept for the whole process, one per configuration.

    Unset arguments come from the environment: $ARBITER_ADDRESS (one or more comma-separated unix:/tcp: addresses),
    $ARBITER_BIN, $ARBITER_ARGS (extra `arbiter serve` arguments, shell-quoted, such as "--jobs 16").
    """
    address = address if address is not None else os.environ.get("ARBITER_ADDRESS") or None
    if args is None:
        args = shlex.split(os.environ.get("ARBITER_ARGS", ""))
    key = (binary, tuple(args), address if isinstance(address, (str, type(None))) else tuple(address), timeout)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = Client(binary=binary, args=tuple(args), address=address, timeout=timeout)
            _clients[key] = client
        return client


def text_of(item):
    """The text of a completion or prompt: a string, a chat message, or a list of messages (the last assistant
    message for completions, else the last message)."""
    if item is None:
        return None
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        return text_of(item.get("content"))
    if isinstance(item, (list, tuple)):
        if not item:
            return ""
        if all(isinstance(part, dict) and "type" in part and "role" not in part for part in item):
            return "".join(part.get("text", "") for part in item if part.get("type") == "text")
        assistant = [message for message in item if isinstance(message, dict) and message.get("role") == "assistant"]
        return text_of((assistant or list(item))[-1])
    return str(item)


def prompt_text(item):
    """The user's words in a prompt: a string as is; for chat messages, the last user message."""
    if isinstance(item, (list, tuple)):
        users = [message for message in item if isinstance(message, dict) and message.get("role") == "user"]
        if users:
            return text_of(users[-1])
    return text_of(item)


REFERENCE_COLUMNS = ("reference", "answer", "solution", "ground_truth")


def references_from(columns, count):
    """The reference column of a batch: `reference`, `answer`, `solution` or `ground_truth`, first found."""
    for name in REFERENCE_COLUMNS:
        if name in columns and columns[name] is not None:
            values = list(columns[name])
            if len(values) != count:
                raise ValueError(f"column '{name}' has {len(values)} values for {count} completions")
            return values
    return [None] * count


def verifier_entry(client, name):
    """The `list` entry of a verifier; raises ArbiterError when the daemon has no such verifier."""
    for entry in client.list_verifiers():
        if entry.get("name") == name:
            return entry
    raise ArbiterError("unknown_verifier", f"the daemon has no verifier named '{name}'")


def check(answer, on_error):
    """The answer when it is a verdict; else raise, or return None, as `on_error` says."""
    if "error" not in answer:
        return answer
    if on_error == "raise":
        error = answer["error"]
        raise ArbiterError(error.get("code", "internal"), error.get("message", ""))
    return None

# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""What the trainer adapters share: one client per configuration, texts from chat messages, references as datasets
have them, recipes' components, and the `on_error` policy.

Errors fall in two kinds (docs/decisions.md, "The Python client"):

- the **response** could not be verified (`crashed`: it killed the daemon; `internal`: a verifier fault): the rollout
  is scored 0 like any response that fails verification, and counted (`arbiter/crashed`, `arbiter/internal`);
- the **reward is unknown** (the daemon unreachable, an invalid or missing reference, an unknown verifier): `on_error`
  decides — "none" (the trainer's own "no reward" form: TRL skips None), "zero", a number, or "raise" (stop with the
  message).
"""

import json
import os
import shlex
import threading
import warnings

from ._common import ArbiterError
from .aio import AsyncClient
from .client import Client

_clients = {}
_clients_lock = threading.Lock()


def _after_fork_in_child():
    """A forked child has none of the parent's threads, so the parent's clients cannot serve it: it starts its own
    (the parent's daemons stay the parent's)."""
    global _clients_lock, _entries_lock
    _clients.clear()
    _entries.clear()
    _keys_cache.clear()
    _clients_lock = threading.Lock()
    _entries_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=lambda: _after_fork_in_child())

ROLLOUT_ERRORS = ("crashed", "internal")


_ENVIRONMENT = ("ARBITER_ADDRESS", "ARBITER_BIN", "ARBITER_ARGS", "ARBITER_TIMEOUT")
_keys_cache = {}


def client_key(binary=None, args=None, address=None, timeout=None):
    """The configuration of a shared client, completed from the environment: $ARBITER_ADDRESS (one or more
    comma-separated unix:/tcp: addresses), $ARBITER_BIN, $ARBITER_ARGS (extra `arbiter serve` arguments, shell-quoted,
    such as "--jobs 16"), $ARBITER_TIMEOUT (seconds). Remembered per arguments and environment: per-sample reward
    calls ask for it every time."""
    raw = (binary, args if not isinstance(args, list) else tuple(args),
           address if not isinstance(address, list) else tuple(address), timeout,
           *(os.environ.get(name) for name in _ENVIRONMENT))
    key = _keys_cache.get(raw)
    if key is None:
        key = _keys_cache[raw] = _client_key(binary, args, address, timeout)
    return key


def _client_key(binary, args, address, timeout):
    address = address if address is not None else os.environ.get("ARBITER_ADDRESS") or None
    if isinstance(address, (list, tuple)):
        address = ",".join(address)
    binary = binary or os.environ.get("ARBITER_BIN") or None
    if args is None:
        args = shlex.split(os.environ.get("ARBITER_ARGS", ""))
    elif isinstance(args, str):
        args = shlex.split(args)
    if timeout is None and os.environ.get("ARBITER_TIMEOUT"):
        timeout = float(os.environ["ARBITER_TIMEOUT"])
    return (binary, tuple(args), address, timeout)


def shared_client(binary=None, args=None, address=None, timeout=None, key=None):
    """A `Client` kept for the whole process, one per configuration (see `client_key`; `key` is one already made)."""
    key = key or client_key(binary, args, address, timeout)
    client = _clients.get(key)
    if client is not None:
        return client
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            binary, args, address, timeout = key
            client = Client(binary=binary, args=args, address=address, timeout=timeout)
            _clients[key] = client
        return client


def shared_async_client(binary=None, args=None, address=None, timeout=None, key=None):
    """An `AsyncClient` on the same daemon connections as `shared_client` with that configuration."""
    key = key or client_key(binary, args, address, timeout)
    client = _clients.get(("async",) + key)
    if client is not None:
        return client
    with _clients_lock:
        client = _clients.get(("async",) + key)
        if client is None:
            sync = _clients.get(key)
            if sync is None:
                binary_, args_, address_, timeout_ = key
                sync = Client(binary=binary_, args=args_, address=address_, timeout=timeout_)
                _clients[key] = sync
            client = AsyncClient.sharing(sync)
            _clients[("async",) + key] = client
        return client


# -- texts --------------------------------------------------------------------------------------------------------

_REASONING_KEYS = ("reasoning_content", "reasoning", "thinking")


def _message_text(message):
    """A chat message's text; its reasoning (`reasoning_content`, where TRL and vLLM put the thinking of a reasoning
    model, or `reasoning`/`thinking`) is put back in front as a `<think>` block, as the model wrote it."""
    content = text_of(message.get("content"))
    for key in _REASONING_KEYS:
        reasoning = message.get(key)
        if isinstance(reasoning, str) and reasoning.strip():
            if content and "<think>" in content:
                break
            return f"<think>\n{reasoning.strip()}\n</think>\n{content or ''}"
    return content


def text_of(item):
    """The text of a completion or prompt: a string, a chat message, or a list of messages (the last assistant
    message for completions, else the last message)."""
    if item is None:
        return None
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        return _message_text(item)
    if isinstance(item, (list, tuple)):
        if not item:
            return ""
        if all(isinstance(part, dict) and "type" in part and "role" not in part for part in item):
            return "".join(part.get("text", "") for part in item if part.get("type") == "text")
        assistant = [message for message in item if isinstance(message, dict) and message.get("role") == "assistant"]
        return text_of((assistant or list(item))[-1])
    return str(item)


def prompt_text(item):
    """The prompt as the daemon reads it: a string as is (a rendered chat template that ends with `<think>` tells
    `think-format` that the template opened the block); for chat messages, the last user message (the language
    the answer should be in, for `r1`)."""
    if isinstance(item, (list, tuple)):
        users = [message for message in item if isinstance(message, dict) and message.get("role") == "user"]
        if users:
            return text_of(users[-1].get("content"))
    return text_of(item)


def open_think(response, think_opened):
    """The response as written after a chat template that opened `<think>` itself (R1-distill, QwQ, Qwen3
    thinking models): with `think_opened=True` a response that does not start with `<think>` gets it in front."""
    if think_opened and response is not None and not response.lstrip().startswith("<think>"):
        return "<think>\n" + response
    return response


# -- references ---------------------------------------------------------------------------------------------------

REFERENCE_COLUMNS = ("reference", "answer", "solution", "ground_truth")
_warned = set()


def _warn_once(key, message):
    if key not in _warned:
        _warned.add(key)
        warnings.warn(message, stacklevel=3)


def normalize_reference(reference):
    """A reference as datasets store it, made into the final answer the verifiers compare with.

    GSM8K's `answer` column is a whole solution ending in `#### 72`: the text after the last `####` is the answer
    (thousands separators removed: `#### 1,000` is 1000). A long multi-line reference with neither `####` nor
    `\\boxed` looks like a whole solution too; it is sent as is, with a warning (once per process).
    """
    if isinstance(reference, str) and "####" in reference:
        answer = reference.rsplit("####", 1)[1].strip()
        if answer:
            return answer.replace(",", "") if answer.replace(",", "").replace(".", "").lstrip("-").isdigit() else answer
    if isinstance(reference, str) and "\n" in reference and len(reference) > 200 and "\\boxed" not in reference:
        _warn_once("solution", "arbiter: a reference looks like a whole solution (several lines, no '####' or "
                   "\\boxed{}); the math verifier compares the final answer, so pass the answer column, not the "
                   "solution")
    return reference


def references_from(columns, count):
    """The reference column of a batch: `reference`, `answer`, `solution` or `ground_truth`, first found."""
    for name in REFERENCE_COLUMNS:
        if name in columns and columns[name] is not None:
            values = list(columns[name])
            if len(values) != count:
                raise ValueError(f"column '{name}' has {len(values)} values for {count} completions")
            return [normalize_reference(value) for value in values]
    return [None] * count


def is_missing(reference):
    return reference is None or (isinstance(reference, float) and reference != reference)


# -- verifiers and recipes -----------------------------------------------------------------------------------------

# Verifiers whose verdict does not depend on the reference: a recipe's components of these kinds are still scored
# for a row whose reference is missing.
REFERENCE_FREE = {"think-format", "tag-count", "repetition", "length", "steps", "language", "regex"}
_entries = {}
_entries_lock = threading.Lock()


def verifier_entries(client):
    """{name: entry} of every verifier the daemon serves (asked once per client)."""
    with _entries_lock:
        entries = _entries.get(id(client))
    if entries is None:
        entries = {entry["name"]: entry for entry in client.list_verifiers()}
        with _entries_lock:
            _entries[id(client)] = entries
    return entries


def verifier_entry(client, name):
    """The `list` entry of a verifier; raises ArbiterError when the daemon has no such verifier."""
    entry = verifier_entries(client).get(name)
    if entry is None:
        raise ArbiterError("unknown_verifier", f"the daemon has no verifier named '{name}'")
    return entry


class Recipe:
    """A verifier or recipe as the adapters use it: its component names and weights, and which of them can be
    scored without a reference."""

    def __init__(self, client, name):
        entries = verifier_entries(client)
        entry = verifier_entry(client, name)
        self.name = name
        self.components = [(part["name"], float(part.get("weight", 1))) for part in entry.get("components") or []]
        self.reference_free = set()
        for part in entry.get("components") or []:
            if _reference_free(entries, part.get("verifier")):
                self.reference_free.add(part["name"])
        self.whole_reference_free = not self.components and _reference_free(entries, name)


def _reference_free(entries, name):
    if name in REFERENCE_FREE:
        return True
    entry = entries.get(name) or {}
    return entry.get("kind") in REFERENCE_FREE


_PLACEHOLDER_REFERENCE = "0"


def request_for(recipe, response, reference, prompt=None, options=None):
    """The request for one sample. A missing reference on a recipe with reference-free components is replaced by a
    placeholder, and `Outcome` drops every component that needed the real one."""
    missing = is_missing(reference)
    if missing and recipe.components and recipe.reference_free:
        reference = _PLACEHOLDER_REFERENCE
    elif missing:
        reference = None
    request = {"verifier": recipe.name, "response": response, "reference": reference}
    if prompt is not None:
        request["prompt"] = prompt
    if options:
        request["options"] = options
    return request, missing


class Outcome:
    """One sample's answer, read for a trainer: the overall score, each component's score, the error kind."""

    __slots__ = ("answer", "score", "components", "error", "code", "passed", "reason")

    def __init__(self, recipe, answer, reference_missing):
        self.answer = answer
        self.error = answer.get("error")
        self.code = self.error.get("code", "internal") if self.error else None
        self.passed = bool(answer.get("passed"))
        self.reason = answer.get("reason") if not self.error else f"error_{self.code}"
        self.components = {}
        if self.error:
            self.score = None
            return
        self.score = float(answer["score"])
        for name, part in (answer.get("components") or {}).items():
            self.components[name] = float(part["score"])
        if reference_missing and recipe.components:
            # The placeholder reference: only the reference-free components are real.
            self.components = {name: value if name in recipe.reference_free else None
                               for name, value in self.components.items()}
            self.score = None
            self.passed = False
            self.reason = "missing_reference"

    @property
    def rollout_error(self):
        return self.code in ROLLOUT_ERRORS

    @property
    def unknown(self):
        """The reward is unknown (not the response's fault)."""
        return self.score is None and not self.rollout_error

    def message(self):
        if self.error:
            return f"{self.code}: {self.error.get('message', '')}"
        return "the reference is missing (None or NaN), so the reward needs it could not be computed"


def check_on_error(on_error):
    """Validates an `on_error` policy: "raise", "none", "zero", or a number (a numeric string, from the
    environment, is read as the number)."""
    if isinstance(on_error, str) and on_error not in ("raise", "none", "zero"):
        try:
            on_error = float(on_error)
        except ValueError:
            pass
    if isinstance(on_error, bool) or not (on_error in ("raise", "none", "zero") or isinstance(on_error, (int, float))):
        raise ValueError(f"on_error must be 'raise', 'none', 'zero' or a number, not {on_error!r}")
    return on_error


def resolve(value, outcome, on_error, describe=None):
    """A reward value (the score or a component's) for a trainer, after the error policy.

    `value` is None when it could not be computed. A rollout error scores 0.0. Otherwise `on_error` decides.
    """
    if value is not None:
        return value
    if outcome.rollout_error:
        return 0.0
    if on_error == "raise":
        where = f" ({describe})" if describe else ""
        raise ArbiterError(outcome.code or "invalid_reference",
                           f"no reward for a sample{where}: {outcome.message()} (on_error='raise'; another on_error "
                           "policy scores such samples instead)")
    if on_error == "none":
        return None
    if on_error == "zero":
        return 0.0
    return float(on_error)


def counts(outcomes):
    """Counts for the trainer's logs: errors by kind, and each verdict reason."""
    result = {"arbiter/unknown": 0, "arbiter/crashed": 0, "arbiter/internal": 0}
    for outcome in outcomes:
        if outcome.code in ROLLOUT_ERRORS:
            result[f"arbiter/{outcome.code}"] += 1
        elif outcome.unknown:
            result["arbiter/unknown"] += 1
        if outcome.reason:
            key = f"arbiter/reason/{outcome.reason}"
            result[key] = result.get(key, 0) + 1
    return result


def reason_names(value):
    """The verdict reasons a user asked to count (`reasons=`): a list, or one comma-separated string; () for none.
    A verifier's reasons are an open set (the daemon does not list them), and verl and OpenRLHF need the same keys on
    every row, so only named reasons get a key of their own."""
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        value = value.split(",")
    return tuple(dict.fromkeys(str(name).strip() for name in value if str(name).strip()))


def reason_flags(names, reason):
    """`{"arbiter_reason/<name>": 1.0 or 0.0}` for each named reason: its mean over a batch is that reason's share."""
    return {f"arbiter_reason/{name}": 1.0 if reason == name else 0.0 for name in names}


def _unavailable(error, count):
    return [{"error": {"code": error.code, "message": error.message}} for _ in range(count)]


def score_all(client, requests):
    """`client.score(requests)`, where a daemon that cannot be reached makes every answer an error (`unavailable`)
    instead of an exception, so that the `on_error` policy decides (TRL's None, a flagged 0, or a clear stop)."""
    try:
        return client.score(requests)
    except ArbiterError as error:
        return _unavailable(error, len(requests))


async def score_all_async(client, requests):
    """`score_all` for an AsyncClient; one request goes through `score_one`, so that concurrent ones are gathered."""
    try:
        if len(requests) == 1:
            return [await client.score_one(requests[0])]
        return await client.score(requests)
    except ArbiterError as error:
        return _unavailable(error, len(requests))


def options_key(options):
    return json.dumps(options, sort_keys=True, default=str) if options else ""

# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""OpenRLHF's reward function file (OpenRLHF 0.11).

    # reward_func.py, passed as --reward.remote_url reward_func.py   (the flag was --remote_rm_url before 0.10)
    from arbiter_client.openrlhf import reward_func

How OpenRLHF calls it (openrlhf/utils/agent.py, `SingleTurnAgentExecutor`): it loads `reward_func` from the file
and, for each sample as soon as it is generated, runs `reward_func([query], [prompt], [label])` with
`asyncio.to_thread` — one sample per call, many calls at once. `query` is the prompt and the response decoded with
`skip_special_tokens=False`, so the chat template's special tokens are in it. The concurrent calls are sent to the
daemon together (one write), so the per-sample path costs little more than a batch.

The response is the query after the prompt, with the end-of-turn and padding tokens at its end removed (`<|im_end|>`,
`<|eot_id|>`, `<|end_of_text|>`, `<｜end▁of▁sentence｜>`, `<end_of_turn>`, `</s>`, `<eos>`, `<pad>`, …, in time
linear in the text). The verifier is $ARBITER_VERIFIER (default "math"); labels are the references (GSM8K's
`#### 72` is read as 72). Returns `rewards` (the score), `scores` (the score scaled to 0…1 by the recipe's
`max_score`, for dynamic filtering) and `extra_logs` (each recipe component, `arbiter_error` and `arbiter_crashed`,
the same keys for every sample), as torch tensors when torch is importable.

`on_error` ($ARBITER_ON_ERROR): what a reward that could not be computed (the daemon unreachable, a missing or
invalid label) becomes: "raise" (default) stops training with the message at the first such sample, "zero" or a
number scores it so (and `arbiter_error` counts it). A response that crashes a verifier scores 0. OpenRLHF catches
`Exception` around the reward call and turns it into a missing reward that fails later with an unrelated error, so
"raise" raises `RewardFailed`, which is not an `Exception`: it reaches the training loop with its message.
"""

import logging
import os
import re

from ._adapters import (Outcome, Recipe, check_on_error, client_key, normalize_reference, reason_flags, reason_names,
                        request_for, resolve, score_all, score_all_async, shared_async_client, shared_client)
from ._common import ArbiterError

_log = logging.getLogger("arbiter_client.openrlhf")


class RewardFailed(BaseException):
    """A sample's reward could not be computed and `on_error` is "raise". A `BaseException`, so that OpenRLHF's
    `except Exception` around the reward call does not swallow it (see the module's documentation)."""

    def __init__(self, error):
        super().__init__(str(error))
        self.error = error


_torch = []


def _tensor(values):
    """A float32 tensor when torch is importable (looked for once: a failed import searches the path every time)."""
    if not _torch:
        try:
            import torch
        except ImportError:
            torch = None
        _torch.append(torch)
    torch = _torch[0]
    if torch is None:
        return list(values)
    return torch.tensor(values, dtype=torch.float32)


# A special token as chat templates write them: <|…|> (Qwen, Llama 3, Phi), <｜…｜> (DeepSeek, full-width bars),
# <s> </s> <pad> <eos> <bos> <unk> <end_of_turn> <start_of_turn> (Gemma), [PAD] [INST] [/INST] (Mistral).
_TOKEN = re.compile(r"<\|[^<>|\s]{1,48}\|>|<｜[^<>｜\s]{1,48}｜>|</?s>|<pad>|<eos>|<bos>|<unk>|<end_of_turn>"
                    r"|<start_of_turn>|\[PAD\]|\[/?INST\]")
_LONGEST_TOKEN = 56


def _strip_end_tokens(text):
    """The text without the special tokens and whitespace at its end (an end-of-turn token, padding): linear time,
    by index, whatever the number of tokens."""
    end = len(text)
    while end:
        while end and text[end - 1].isspace():
            end -= 1
        if not end:
            break
        if text[end - 1] not in ">]":
            break
        opening = "[" if text[end - 1] == "]" else "<"
        start = text.rfind(opening, max(0, end - _LONGEST_TOKEN), end)
        if start < 0 or not _TOKEN.fullmatch(text, start, end):
            break
        end = start
    return text[:end]


def _strip_leading_tokens(text):
    """The text without the special tokens (padding, a repeated begin-of-text) at its start: linear time."""
    start = 0
    while start < len(text):
        while start < len(text) and text[start] in " \t":
            start += 1
        if start >= len(text) or text[start] not in "<[":
            break
        closing = "]" if text[start] == "[" else ">"
        end = text.find(closing, start, start + _LONGEST_TOKEN)
        if end < 0 or not _TOKEN.fullmatch(text, start, end + 1):
            break
        start = end + 1
    return text[start:]


def response_of(query, prompt):
    """The response in an OpenRLHF query: the text after the prompt, without the end-of-turn tokens at its end.

    The prompt keeps its own special tokens (Llama 3's ends with `<|end_header_id|>\\n\\n`, which belongs to the
    prompt, not the response). When the query does not start with the prompt as given, leading special tokens
    (padding, a second begin-of-text) are set aside on both sides first; failing that, the last occurrence of the
    prompt's end is looked for. A query in which the prompt cannot be found raises ArbiterError.
    """
    if prompt and query.startswith(prompt):
        return _strip_end_tokens(query[len(prompt):])
    if not prompt:
        return _strip_end_tokens(query)
    bare_query, bare_prompt = _strip_leading_tokens(query), _strip_leading_tokens(prompt)
    if bare_query.startswith(bare_prompt):
        return _strip_end_tokens(bare_query[len(bare_prompt):])
    tail = bare_prompt[-200:]
    at = bare_query.rfind(tail) if tail else -1
    if at >= 0:
        return _strip_end_tokens(bare_query[at + len(tail):])
    raise ArbiterError("invalid_request", "the query does not contain its prompt (OpenRLHF passes the prompt and "
                       f"the prompt followed by the response): prompt ends {prompt[-80:]!r}, query starts "
                       f"{query[:80]!r}")


def _settings(kwargs):
    verifier = kwargs.get("verifier") or os.environ.get("ARBITER_VERIFIER") or "math"
    on_error = kwargs.get("on_error") or os.environ.get("ARBITER_ON_ERROR") or "raise"
    on_error = check_on_error(on_error)
    if on_error == "none":
        raise ValueError("OpenRLHF has no 'skip this sample' reward: on_error must be 'raise', 'zero' or a number")
    client_args = {name: kwargs.get(name) for name in ("binary", "args", "address", "timeout")}
    reasons = reason_names(kwargs["reasons"] if "reasons" in kwargs else os.environ.get("ARBITER_REASONS"))
    return verifier, on_error, client_args, reasons


def _requests(recipe, queries, prompts, labels, options):
    requests, missing = [], []
    for query, prompt, label in zip(queries, prompts, labels):
        request, gone = request_for(recipe, response_of(query, prompt or ""), normalize_reference(label),
                                    prompt, options)
        requests.append(request)
        missing.append(gone)
    return requests, missing


def _result(recipe, answers, missing, on_error, reasons=()):
    outcomes = [Outcome(recipe, answer, gone) for answer, gone in zip(answers, missing)]
    rewards, scores = [], []
    names = [name for name, _ in recipe.components]
    logs = {name: [] for name in names}
    logs["arbiter_error"] = []
    logs["arbiter_crashed"] = []
    for key in reason_flags(reasons, None):
        logs[key] = []
    for index, outcome in enumerate(outcomes):
        try:
            score = resolve(outcome.score, outcome, on_error, describe=f"sample {index}")
        except ArbiterError as error:
            _log.error("arbiter: %s", error)
            raise RewardFailed(error) from None
        maximum = float(((outcome.answer.get("details") or {}).get("max_score")) or 1.0)
        rewards.append(score)
        scores.append(min(max(score / maximum, 0.0), 1.0) if maximum > 0 else score)
        for name in names:
            value = outcome.components.get(name)
            logs[name].append(0.0 if value is None else value)
        logs["arbiter_error"].append(1.0 if outcome.unknown else 0.0)
        logs["arbiter_crashed"].append(1.0 if outcome.rollout_error else 0.0)
        for key, value in reason_flags(reasons, outcome.reason).items():
            logs[key].append(value)
    return {
        "rewards": _tensor(rewards),
        "scores": _tensor(scores),
        "extra_logs": {name: _tensor(values) for name, values in logs.items()},
    }


def reward_func(queries, prompts, labels, **kwargs):
    """`{"rewards", "scores", "extra_logs"}` for queries (prompt + response), their prompts and labels.

    Keyword arguments (for direct use; OpenRLHF passes none) override the environment: `verifier`, `on_error`,
    `options`, `binary`, `args`, `address`, `timeout`, `reasons` ($ARBITER_REASONS: verdict reasons to count, each
    an `extra_logs` key `arbiter_reason/<reason>`, 1.0 or 0.0 per sample)."""
    verifier, on_error, client_args, reasons = _settings(kwargs)
    client = shared_client(**client_args)
    recipe = _recipe(client, verifier)
    requests, missing = _requests(recipe, queries, prompts, labels, kwargs.get("options"))
    return _result(recipe, score_all(client, requests), missing, on_error, reasons)


async def reward_func_async(queries, prompts, labels, **kwargs):
    """The same as a coroutine, for an agent's `step` (openrlhf/utils/agent.py, `AgentInstanceBase`) or any asyncio
    caller: the calls of one event loop in the same turn are sent as one batch."""
    verifier, on_error, client_args, reasons = _settings(kwargs)
    key = client_key(**client_args)
    client = shared_client(key=key)
    recipe = _recipe(client, verifier)
    requests, missing = _requests(recipe, queries, prompts, labels, kwargs.get("options"))
    answers = await score_all_async(shared_async_client(key=key), requests)
    return _result(recipe, answers, missing, on_error, reasons)


_recipes = {}
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_recipes.clear)


def _recipe(client, name):
    key = (id(client), name)
    if key not in _recipes:
        _recipes[key] = Recipe(client, name)
    return _recipes[key]

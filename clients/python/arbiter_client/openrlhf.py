# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""OpenRLHF's remote reward function.

    # reward_func.py, passed to OpenRLHF with --remote_rm_url reward_func.py
    from arbiter_client.openrlhf import reward_func

The verifier is $ARBITER_VERIFIER (default "math"); labels are the references. Special tokens that OpenRLHF
leaves in decoded text (left padding, `<|im_end|>`, `</s>` at the end) are stripped before the prompt is cut off. `rewards` is the verdict score,
`scores` the same scaled to 0…1 (divided by a recipe's `max_score`), and `extra_logs` holds each recipe component.
Values are torch tensors when torch is importable, else lists.
"""

import os
import re

from ._adapters import check, shared_client


def _tensor(values):
    try:
        import torch
    except ImportError:
        return list(values)
    return torch.tensor(values, dtype=torch.float32)


_TOKEN = r"(?:<\|[^<>|\s]{1,40}\|>|</?s>|<pad>|<eos>|<unk>|\[PAD\])"
_LEADING = re.compile(r"\A(?:\s*" + _TOKEN + r")+")
_TRAILING = re.compile(r"(?:" + _TOKEN + r"\s*)+\Z")


def _strip_special(text):
    """The text without the special tokens OpenRLHF leaves in decoded queries (it decodes with
    skip_special_tokens=False): padding at the start and end-of-turn or padding tokens such as `<|im_end|>` at the
    end."""
    text = _LEADING.sub("", text)
    match = _TRAILING.search(text)
    return text[:match.start()] if match else text


def reward_func(queries, prompts, labels, **kwargs):
    """`{"rewards", "scores", "extra_logs"}` for a batch; `queries` are prompt + response."""
    verifier = kwargs.get("verifier") or os.environ.get("ARBITER_VERIFIER") or "math"
    on_error = "none" if os.environ.get("ARBITER_ON_ERROR") == "zero" else "raise"
    requests = []
    for query, prompt, label in zip(queries, prompts, labels):
        query, prompt = _strip_special(query), _strip_special(prompt or "")
        response = query[len(prompt):] if prompt and query.startswith(prompt) else query
        requests.append({"verifier": verifier, "response": response, "reference": label, "prompt": prompt})
    answers = [check(answer, on_error) for answer in shared_client().score(requests)]
    rewards, scores, logs = [], [], {}
    names = []
    for answer in answers:
        for name in (answer or {}).get("components") or {}:
            if name not in names:
                names.append(name)
    for answer in answers:
        if answer is None:
            rewards.append(0.0)
            scores.append(0.0)
            for name in names:
                logs.setdefault(name, []).append(0.0)
            continue
        score = float(answer["score"])
        maximum = float((answer.get("details") or {}).get("max_score") or 1.0)
        rewards.append(score)
        scores.append(min(max(score / maximum, 0.0), 1.0) if maximum > 0 else score)
        for name in names:
            part = (answer.get("components") or {}).get(name)
            logs.setdefault(name, []).append(float(part["score"]) if part else 0.0)
    return {
        "rewards": _tensor(rewards),
        "scores": _tensor(scores),
        "extra_logs": {name: _tensor(values) for name, values in logs.items()},
    }

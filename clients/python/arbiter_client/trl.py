# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""Reward functions for TRL's GRPOTrainer.

    from arbiter_client.trl import reward_funcs, reward_weights
    trainer = GRPOTrainer(model=..., reward_funcs=reward_funcs("r1"), args=GRPOConfig(..., reward_weights=reward_weights("r1")), ...)

Each recipe component becomes one function (named after the component, so TRL logs `rewards/accuracy`, …) that
returns the component's raw score; the recipe's weights go to TRL's `reward_weights`. The recipe is scored once per
batch: the functions share the answers.
"""

import json
import threading

from ._adapters import check, prompt_text, references_from, shared_client, text_of, verifier_entry


class _SharedBatch:
    """The answers for the last batch, so that the component functions of one recipe score it once."""

    def __init__(self, client, verifier, options, on_error):
        self._client = client
        self._verifier = verifier
        self._options = options
        self._on_error = on_error
        self._lock = threading.Lock()
        self._key = None
        self._answers = None

    def answers(self, prompts, completions, columns):
        completions = list(completions or [])
        responses = [text_of(item) or "" for item in completions]
        prompt_texts = [prompt_text(item) for item in prompts] if prompts is not None else [None] * len(responses)
        references = references_from(columns, len(responses))
        key = json.dumps([responses, prompt_texts, references], default=str)
        with self._lock:
            if key == self._key:
                return self._answers
        requests = []
        for response, prompt, reference in zip(responses, prompt_texts, references):
            request = {"verifier": self._verifier, "response": response, "reference": reference}
            if prompt is not None:
                request["prompt"] = prompt
            if self._options:
                request["options"] = self._options
            requests.append(request)
        answers = [check(answer, self._on_error) for answer in self._client.score(requests)]
        with self._lock:
            self._key, self._answers = key, answers
        return answers


def _components(entry):
    return [(component["name"], float(component.get("weight", 1))) for component in entry.get("components", [])]


def reward_funcs(recipe, options=None, on_error="raise", **client_args):
    """TRL reward functions for a recipe (one per component) or a single verifier (one function).

    Each is called as TRL calls reward functions — `f(prompts=..., completions=..., **columns)` with completions as
    strings or chat messages — and returns `list[float]`. The reference comes from the `reference`, `answer`,
    `solution` or `ground_truth` column. `options` are sent with every request. `on_error`: "raise" (default: a
    request Arbiter rejects, such as an unreadable reference, stops training with the message) or "none" (that
    sample's reward is None, which TRL skips). Other keyword arguments configure the client (see `Client`).
    """
    if on_error not in ("raise", "none"):
        raise ValueError("on_error must be 'raise' or 'none'")
    client = shared_client(**client_args)
    entry = verifier_entry(client, recipe)
    batch = _SharedBatch(client, recipe, options, on_error)
    components = _components(entry)

    def make(name, component):
        def reward(prompts=None, completions=None, **columns):
            answers = batch.answers(prompts, completions, columns)
            out = []
            for answer in answers:
                if answer is None:
                    out.append(None)
                elif component is None:
                    out.append(float(answer["score"]))
                else:
                    out.append(float(answer["components"][component]["score"]))
            return out

        reward.__name__ = name
        reward.__qualname__ = name
        reward.__doc__ = f"Arbiter {recipe!r}" + (f", component {component!r}" if component else "")
        return reward

    if not components:
        return [make(recipe.replace("-", "_"), None)]
    return [make(name, name) for name, _ in components]


def reward_weights(recipe, **client_args):
    """The recipe's component weights, in the order of `reward_funcs(recipe)` (for GRPOConfig.reward_weights)."""
    entry = verifier_entry(shared_client(**client_args), recipe)
    return [weight for _, weight in _components(entry)] or [1.0]

# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""Reward functions for TRL's GRPOTrainer and AsyncGRPOTrainer (TRL 1.16).

    from arbiter_client.trl import reward_funcs, reward_weights
    trainer = GRPOTrainer(model=..., reward_funcs=reward_funcs("r1-zero"),
                          args=GRPOConfig(..., reward_weights=reward_weights("r1-zero")), ...)

Each recipe component becomes one reward function, named after the component (TRL logs `rewards/accuracy/mean`, …),
that returns the component's raw score; the recipe's weights go to `reward_weights`. The functions are instances of
`ArbiterReward`, a top-level class, so they pickle: AsyncGRPOTrainer sends its reward functions to a spawned worker
process. TRL calls the functions of one batch one after another (GRPOTrainer) or all at once from threads
(AsyncGRPOTrainer); either way the batch is scored once and the functions share the answers.

How TRL calls them (trl/trainer/grpo_trainer.py, `GRPOTrainer._calculate_rewards`):
`f(prompts=..., completions=..., completion_ids=..., trainer_state=..., log_extra=..., log_metric=..., **columns)`,
with every dataset column but `prompt` as a keyword list; a None in the returned list becomes NaN and is skipped.
AsyncGRPOTrainer (trl/experimental/async_grpo/async_rollout_worker.py, `_score_group`) passes the same keywords and
runs sync functions with `asyncio.to_thread`, concurrently.
"""

import json
import os
import threading

from . import _adapters
from ._adapters import (Outcome, Recipe, check_on_error, counts, open_think, prompt_text, references_from,
                        request_for, resolve, score_all, shared_client, text_of)

_TRAINER_KEYWORDS = ("completion_ids", "trainer_state", "log_extra", "log_metric", "environments")


class _Scorer:
    """Scores batches for every function of one configuration; remembers the last few batches so that each is
    scored once, even when the functions are called concurrently."""

    _KEEP = 8

    def __init__(self, config):
        recipe, options, think_opened, client_args = json.loads(config)
        self.client = shared_client(**client_args)
        self.recipe = Recipe(self.client, recipe)
        self.options = options or None
        self.think_opened = think_opened
        self._lock = threading.Lock()
        self._recent = []  # (completions, prompts, snapshot, references, event, holder)

    def outcomes(self, prompts, completions, columns, log_metric, log_extra):
        completions = completions if completions is not None else []
        snapshot = list(completions)
        references = references_from(columns, len(snapshot))
        with self._lock:
            for entry in self._recent:
                if (entry[0] is completions and (entry[1] is prompts or entry[1] == prompts)
                        and len(entry[2]) == len(snapshot) and all(a is b for a, b in zip(entry[2], snapshot))
                        and entry[3] == references):
                    event, holder = entry[4], entry[5]
                    break
            else:
                event, holder = None, {}
                mine = (completions, prompts, snapshot, references, threading.Event(), holder)
                self._recent.append(mine)
                self._recent = self._recent[-self._KEEP:]
        if event is not None:
            event.wait()
            if "error" in holder:
                raise holder["error"]
            return holder["outcomes"]
        try:
            holder["outcomes"] = self._score(prompts, snapshot, references, log_metric, log_extra)
            return holder["outcomes"]
        except BaseException as error:
            holder["error"] = error
            with self._lock:  # a failed batch is scored afresh if it is asked for again
                self._recent = [entry for entry in self._recent if entry is not mine]
            raise
        finally:
            mine[4].set()

    def _score(self, prompts, completions, references, log_metric, log_extra):
        responses = [open_think(text_of(item) or "", self.think_opened) for item in completions]
        prompt_texts = [prompt_text(item) for item in prompts] if prompts is not None else [None] * len(responses)
        requests, missing = [], []
        for response, prompt, reference in zip(responses, prompt_texts, references):
            request, reference_missing = request_for(self.recipe, response, reference, prompt, self.options)
            requests.append(request)
            missing.append(reference_missing)
        answers = score_all(self.client, requests)
        outcomes = [Outcome(self.recipe, answer, gone) for answer, gone in zip(answers, missing)]
        if log_metric is not None:
            for name, value in counts(outcomes).items():
                log_metric(name, float(value))
        if log_extra is not None:
            log_extra("arbiter_reason", [outcome.reason for outcome in outcomes])
        return outcomes


_scorers = {}
_scorers_lock = threading.Lock()
if hasattr(os, "register_at_fork"):
    # A forked child (a data loader worker) has none of the parent's threads: it builds its own scorers.
    os.register_at_fork(after_in_child=_scorers.clear)


def _scorer(config):
    with _scorers_lock:
        scorer = _scorers.get(config)
        if scorer is None:
            scorer = _scorers[config] = _Scorer(config)
        return scorer


class ArbiterReward:
    """One TRL reward function: a recipe's component (or a verifier's score), for every completion of a batch.

    Picklable: it holds only its configuration; the client and the shared batch are found again (or started) in
    the process that calls it.
    """

    def __init__(self, recipe, component=None, options=None, on_error="none", think_opened=None, client_args=None):
        self.recipe = recipe
        self.component = component
        self.options = options
        self.on_error = check_on_error(on_error)
        self.think_opened = think_opened
        self.client_args = dict(client_args or {})
        self.__name__ = component or recipe.replace("-", "_")

    @property
    def _config(self):
        return json.dumps([self.recipe, self.options, self.think_opened, self.client_args], sort_keys=True)

    def __call__(self, prompts=None, completions=None, **columns):
        log_metric, log_extra = columns.get("log_metric"), columns.get("log_extra")
        for keyword in _TRAINER_KEYWORDS:
            columns.pop(keyword, None)
        outcomes = _scorer(self._config).outcomes(prompts, completions, columns, log_metric, log_extra)
        rewards = []
        for index, outcome in enumerate(outcomes):
            value = outcome.components.get(self.component) if self.component else outcome.score
            rewards.append(resolve(value, outcome, self.on_error, describe=f"completion {index}"))
        return rewards

    def __repr__(self):
        part = f", component={self.component!r}" if self.component else ""
        return f"ArbiterReward({self.recipe!r}{part})"


def reward_funcs(recipe, options=None, on_error="none", think_opened=None, **client_args):
    """TRL reward functions for a recipe (one per component) or a single verifier (one function).

    - The response is the completion's text (the last assistant message of a chat completion, with its
      `reasoning_content` put back as a `<think>` block); the prompt is the prompt string, or the last user message of
      a chat prompt. A prompt string that ends with `<think>` (a rendered template that opened the block) is read by
      `think-format` as opening it; for chat prompts, whose template TRL does not pass, say `think_opened=True` when
      the template opens `<think>` itself (DeepSeek-R1-Distill, QwQ, Qwen3 thinking models).
    - The reference comes from the `reference`, `answer`, `solution` or `ground_truth` column (GSM8K's `#### 72`
      answers are read as 72). A row without a reference still gets the components that need none (`format`).
    - `on_error`: what a reward that could not be computed becomes — "none" (default: TRL skips it), "zero", a
      number, or "raise". A response that crashes a verifier scores 0. Counts go to TRL's logs (`log_metric`), and
      each completion's verdict reason to its completions table (`log_extra`, column `arbiter_reason`).
    - `options` are sent with every request; other keyword arguments configure the client (`binary`, `args`,
      `address`, `timeout`; else $ARBITER_BIN, $ARBITER_ARGS, $ARBITER_ADDRESS, $ARBITER_TIMEOUT).
    """
    check_on_error(on_error)
    config = dict(on_error=on_error, think_opened=think_opened, options=options, client_args=client_args)
    scorer = _scorer(ArbiterReward(recipe, **config)._config)
    components = scorer.recipe.components
    if not components:
        return [ArbiterReward(recipe, **config)]
    return [ArbiterReward(recipe, component=name, **config) for name, _ in components]


def reward_weights(recipe, **client_args):
    """The recipe's component weights, in the order of `reward_funcs(recipe)` (for GRPOConfig.reward_weights)."""
    components = Recipe(shared_client(**client_args), recipe).components
    return [weight for _, weight in components] or [1.0]


__all__ = ["ArbiterReward", "reward_funcs", "reward_weights", "_adapters"]

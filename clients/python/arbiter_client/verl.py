# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""verl's custom reward function (verl 0.9).

    reward.custom_reward_function.path=<path to this file>      (or pkg://arbiter_client.verl)
    reward.custom_reward_function.name=compute_score
    +reward.custom_reward_function.reward_kwargs.verifier=r1-zero    (optional; see below)

verl loads this file by path, standalone (`importlib.util.spec_from_file_location`, verl/utils/import_utils.py
`load_module`), so it imports the installed `arbiter_client` package absolutely, never relatively.

How verl calls it (verl/experimental/reward_loop/reward_manager/naive.py, `NaiveRewardManager.run_single`): once
per sample, concurrently, as `await compute_score(data_source=..., solution_str=..., ground_truth=...,
extra_info=...)` when `compute_score` is a coroutine function (it is here), with `reward_kwargs` merged in
(verl/trainer/ppo/reward.py, `_call_with_kwargs_async`). The concurrent calls of one event loop are sent to the
daemon together, as one batch. `compute_score_sync` is the same for reward managers that call a plain function;
`compute_score_batch` scores a whole batch (verl's legacy batch reward manager).

Configuration: keyword arguments (verl's `reward_kwargs`, which reach Ray workers on every node) first, then the
environment: `verifier` ($ARBITER_VERL_VERIFIER), `address` ($ARBITER_ADDRESS), `binary` ($ARBITER_BIN), `args`
($ARBITER_ARGS), `timeout` ($ARBITER_TIMEOUT), `on_error` ($ARBITER_ON_ERROR), `components`
($ARBITER_VERL_COMPONENTS), `options`, `reasons` ($ARBITER_REASONS: verdict reasons to count, a list or
comma-separated; each gets a key `arbiter_reason/<reason>`, 1.0 or 0.0, whose batch mean is that reason's share),
`think_opened` (true when the chat template opens `<think>` itself — DeepSeek-R1-Distill, QwQ, Qwen3 thinking
models: verl passes the response without the prompt, so the opened tag is put back in front). The verifier of a row
is `extra_info["arbiter_verifier"]` when the dataset sets it, else `verifier`, else by data source (DATA_SOURCES),
else "math". The prompt (for `r1`'s language component) is `extra_info["prompt"]`, else `extra_info["question"]`
(where verl's data preprocessing keeps the question).

Every row has the same keys (verl stacks each key over the batch): `score`, `acc`, each recipe component,
`arbiter_error` (1.0 when the reward could not be computed), `arbiter_crashed` (1.0 when the response crashed a
verifier and was scored 0), `arbiter_reason` (the verdict's reason, a string, which verl's statistics skip) and the
`arbiter_reason/<reason>` keys of `reasons`. `on_error`: "raise" (default: stop with the message — verl has no
"skip this sample" value), "zero" or a number. A response that crashes a verifier scores 0.
"""

import os

from arbiter_client._adapters import (Outcome, Recipe, check_on_error, client_key, normalize_reference, open_think,
                                      reason_flags, reason_names, request_for, resolve, score_all, score_all_async,
                                      shared_async_client, shared_client, verifier_entries)

# data_source prefix → verifier (first match wins; compared in lower case).
DATA_SOURCES = [
    ("openai/gsm8k", "math"),
    ("lighteval/math", "math"),
    ("digitallearninggmbh/math-lighteval", "math"),
    ("huggingfaceh4/math-500", "math"),
    ("math_dapo", "math"),
    ("aime", "math"),
    ("numina", "math"),
    ("deepscaler", "math"),
    ("codecontests", "code"),
    ("apps", "code"),
    ("taco", "code"),
    ("codeforces", "code"),
    ("livecodebench", "code"),
    ("primeintellect", "code"),
]

_SETTINGS = ("verifier", "address", "binary", "args", "timeout", "on_error", "components", "options", "think_opened",
             "reasons")
_ENVIRONMENT = {
    "verifier": "ARBITER_VERL_VERIFIER",
    "on_error": "ARBITER_ON_ERROR",
    "components": "ARBITER_VERL_COMPONENTS",
    "reasons": "ARBITER_REASONS",
}


def _settings(kwargs):
    """The configuration: verl's reward_kwargs first, then the environment."""
    settings = {name: kwargs.get(name) for name in _SETTINGS}
    for name, variable in _ENVIRONMENT.items():
        if settings[name] is None and os.environ.get(variable):
            settings[name] = os.environ[variable]
    settings["on_error"] = check_on_error(settings["on_error"] if settings["on_error"] is not None else "raise")
    settings["think_opened"] = _truthy(settings["think_opened"])
    settings["reasons"] = reason_names(settings["reasons"])
    if settings["on_error"] == "none":
        raise ValueError("verl has no 'skip this sample' reward: on_error must be 'raise', 'zero' or a number")
    return settings


def _truthy(value):
    """A flag as Hydra or the environment passes it: a bool, or "true"/"1"/"yes"."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _client_args(settings):
    return {name: settings[name] for name in ("binary", "args", "address", "timeout")}


def verifier_for(data_source, extra_info=None, default=None):
    """The verifier a row is scored with (see the module's documentation)."""
    if extra_info and extra_info.get("arbiter_verifier"):
        return extra_info["arbiter_verifier"]
    if default:
        return default
    if os.environ.get("ARBITER_VERL_VERIFIER"):
        return os.environ["ARBITER_VERL_VERIFIER"]
    source = (data_source or "").lower()
    for prefix, verifier in DATA_SOURCES:
        if source.startswith(prefix):
            return verifier
    return "math"


_recipes = {}
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=lambda: (_recipes.clear(), _row_keys.clear()))


def _recipe(client, name):
    key = (id(client), name)
    if key not in _recipes:
        _recipes[key] = Recipe(client, name)
    return _recipes[key]


def _prompt_of(extra_info):
    for key in ("prompt", "question"):
        value = extra_info.get(key)
        if isinstance(value, str):
            return value
        if isinstance(value, (list, tuple)) and value and isinstance(value[-1], dict):
            return str(value[-1].get("content", ""))
    return None


def _prepare(client, settings, data_source, solution_str, ground_truth, extra_info):
    extra_info = extra_info or {}
    recipe = _recipe(client, verifier_for(data_source, extra_info, settings["verifier"]))
    options = extra_info.get("arbiter_options") or settings["options"]
    response = open_think(solution_str, settings["think_opened"])
    request, missing = request_for(recipe, response, normalize_reference(ground_truth), _prompt_of(extra_info),
                                   options)
    return recipe, request, missing


_row_keys = {}


def _keys(client, settings, recipe):
    """Every row's keys: score, acc, the recipe's components (with components=all, those of every recipe the daemon
    serves, so that rows of different recipes in one batch stack), arbiter_error."""
    cache_key = (id(client), recipe.name, settings["components"], settings["reasons"])
    keys = _row_keys.get(cache_key)
    if keys is None:
        keys = _row_keys[cache_key] = _compute_keys(client, settings, recipe)
    return keys


def _compute_keys(client, settings, recipe):
    names = [name for name, _ in recipe.components]
    if settings["components"] == "all":
        for entry in verifier_entries(client).values():
            names.extend(part["name"] for part in entry.get("components") or [] if part["name"] not in names)
    reserved = ("score", "acc", "arbiter_error", "arbiter_crashed", "arbiter_reason")
    return ["score", "acc", *[name for name in names if name not in reserved], "arbiter_error", "arbiter_crashed",
            "arbiter_reason", *reason_flags(settings["reasons"], None)]


def _result(client, settings, recipe, answer, missing, where):
    outcome = Outcome(recipe, answer, missing)
    on_error = settings["on_error"]
    row = dict.fromkeys(_keys(client, settings, recipe), 0.0)
    row["score"] = resolve(outcome.score, outcome, on_error, describe=where)
    row["acc"] = 1.0 if outcome.passed else 0.0
    for name, value in outcome.components.items():
        if name in row and name not in ("score", "acc", "arbiter_error", "arbiter_crashed", "arbiter_reason") \
                and not name.startswith("arbiter_reason/"):
            row[name] = resolve(value, outcome, "zero") if value is None else value
    row["arbiter_error"] = 1.0 if outcome.unknown else 0.0
    row["arbiter_crashed"] = 1.0 if outcome.rollout_error else 0.0
    # A string: verl keeps it with each sample (the dumped generations, validation's per-sample table) and leaves it
    # out of its statistics (verl/trainer/ppo/metric_utils.py, process_validation_metrics, skips string values).
    row["arbiter_reason"] = outcome.reason or ""
    row.update(reason_flags(settings["reasons"], outcome.reason))
    return row


async def compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs):
    """`{"score", "acc", <component>…, "arbiter_error", "arbiter_crashed", "arbiter_reason"}` for one rollout (a
    coroutine: verl awaits it)."""
    settings = _settings(kwargs)
    key = client_key(**_client_args(settings))
    client = shared_client(key=key)
    recipe, request, missing = _prepare(client, settings, data_source, solution_str, ground_truth, extra_info)
    [answer] = await score_all_async(shared_async_client(key=key), [request])
    return _result(client, settings, recipe, answer, missing, f"data_source {data_source!r}")


def compute_score_sync(data_source, solution_str, ground_truth, extra_info=None, **kwargs):
    """The same, as a plain function, for reward managers that call one (concurrent calls from threads are sent to
    the daemon together)."""
    settings = _settings(kwargs)
    client = shared_client(**_client_args(settings))
    recipe, request, missing = _prepare(client, settings, data_source, solution_str, ground_truth, extra_info)
    [answer] = score_all(client, [request])
    return _result(client, settings, recipe, answer, missing, f"data_source {data_source!r}")


def compute_score_batch(data_sources, solution_strs, ground_truths, extra_infos=None, **kwargs):
    """The same for a whole batch in one call (verl's batch reward manager)."""
    settings = _settings(kwargs)
    client = shared_client(**_client_args(settings))
    extra_infos = extra_infos if extra_infos is not None else [None] * len(solution_strs)
    prepared = [_prepare(client, settings, source, solution, truth, extra)
                for source, solution, truth, extra in zip(data_sources, solution_strs, ground_truths, extra_infos)]
    answers = score_all(client, [request for _, request, _ in prepared])
    rows = [_result(client, settings, recipe, answer, missing, f"row {index}")
            for index, ((recipe, _, missing), answer) in enumerate(zip(prepared, answers))]
    keys = []
    for row in rows:
        keys.extend(key for key in row if key not in keys)
    return [{key: row.get(key, 0.0) for key in keys} for row in rows]

# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""verl's custom reward function.

In the verl config:
    custom_reward_function.path=<site-packages>/arbiter_client/verl.py   (or a file that imports compute_score)
    custom_reward_function.name=compute_score

The verifier is `extra_info["arbiter_verifier"]` when the dataset row sets it, else $ARBITER_VERL_VERIFIER, else
the data source's entry in DATA_SOURCES (math datasets → "math", code datasets → "code"), else "math".
Every row scored with one verifier has the same keys: `score`, `acc` and, for a recipe, each component's score.
verl stacks each key over the batch, so the rows of one batch must share their keys: the batch function fills
missing keys with 0.0; for the per-sample `compute_score` in a run that mixes recipes row by row (say `r1-zero` and
`math`), set $ARBITER_VERL_COMPONENTS=all and every row gets the components of every recipe the daemon knows (0.0
where its verifier has no such component). `r1` needs the prompt for its language component: put it in
`extra_info["prompt"]`.
"""

import os

from ._adapters import check, shared_client, verifier_entry
from ._common import ArbiterError

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


def verifier_for(data_source, extra_info=None):
    """The verifier a row is scored with (see the module's documentation)."""
    if extra_info and extra_info.get("arbiter_verifier"):
        return extra_info["arbiter_verifier"]
    if os.environ.get("ARBITER_VERL_VERIFIER"):
        return os.environ["ARBITER_VERL_VERIFIER"]
    source = (data_source or "").lower()
    for prefix, verifier in DATA_SOURCES:
        if source.startswith(prefix):
            return verifier
    return "math"


def _request(data_source, solution_str, ground_truth, extra_info):
    extra_info = extra_info or {}
    request = {
        "verifier": verifier_for(data_source, extra_info),
        "response": solution_str,
        "reference": ground_truth,
    }
    if extra_info.get("arbiter_options"):
        request["options"] = extra_info["arbiter_options"]
    if extra_info.get("prompt") is not None:
        request["prompt"] = extra_info["prompt"]
    return request


_component_names = {}


def _components_of(verifier):
    """A recipe's component names (empty for a plain verifier), asked of the daemon once per verifier; with
    $ARBITER_VERL_COMPONENTS=all, those of every recipe the daemon knows, whatever the verifier."""
    if os.environ.get("ARBITER_VERL_COMPONENTS") == "all":
        if "*" not in _component_names:
            names = []
            for entry in shared_client().list_verifiers():
                names.extend(part["name"] for part in entry.get("components") or [] if part["name"] not in names)
            _component_names["*"] = names
        return _component_names["*"]
    if verifier not in _component_names:
        try:
            entry = verifier_entry(shared_client(), verifier)
            _component_names[verifier] = [part["name"] for part in entry.get("components", [])]
        except ArbiterError:
            _component_names[verifier] = []
    return _component_names[verifier]


def _result(answer, verifier):
    """The same keys for every row of a verifier (verl stacks each key over the batch): score, acc, and each recipe
    component, 0.0 when the row was an error."""
    result = {"score": 0.0, "acc": 0.0}
    for name in _components_of(verifier):
        result[name] = 0.0
    if answer is None:
        return result
    result["score"] = float(answer["score"])
    result["acc"] = 1.0 if answer.get("passed") else 0.0
    for name, part in (answer.get("components") or {}).items():
        if name not in ("score", "acc"):
            result[name] = float(part["score"])
    return result


def compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs):
    """`{"score": float, "acc": 0/1, <component>: float, …}` for one rollout.

    A request Arbiter rejects (for example an unreadable ground truth) raises, unless $ARBITER_ON_ERROR=zero, which
    scores it 0.
    """
    on_error = "none" if os.environ.get("ARBITER_ON_ERROR") == "zero" else "raise"
    request = _request(data_source, solution_str, ground_truth, extra_info)
    answer = shared_client().score([request])[0]
    return _result(check(answer, on_error), request["verifier"])


def compute_score_batch(data_sources, solution_strs, ground_truths, extra_infos=None, **kwargs):
    """The same for a whole batch in one round trip (verl's batch reward manager)."""
    extra_infos = extra_infos if extra_infos is not None else [None] * len(solution_strs)
    on_error = "none" if os.environ.get("ARBITER_ON_ERROR") == "zero" else "raise"
    requests = [
        _request(source, solution, truth, extra)
        for source, solution, truth, extra in zip(data_sources, solution_strs, ground_truths, extra_infos)
    ]
    answers = shared_client().score(requests)
    results = [_result(check(answer, on_error), request["verifier"]) for answer, request in zip(answers, requests)]
    # Rows of different recipes in one batch: every row gets every key, so that verl can stack them.
    keys = []
    for result in results:
        keys.extend(key for key in result if key not in keys)
    return [{key: result.get(key, 0.0) for key in keys} for result in results]

# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""The verl adapter as verl 0.9.1 calls it.

verl/trainer/ppo/reward.py `get_custom_reward_fn`: loads `reward.custom_reward_function.path` standalone
(verl/utils/import_utils.py `load_module`: `spec_from_file_location`, no package), wraps the function with
`reward_kwargs` (`_call_with_kwargs_async` for a coroutine function). verl/experimental/reward_loop/reward_manager/
naive.py `NaiveRewardManager.run_single`: per sample, `await compute_score(data_source=, solution_str=,
ground_truth=, extra_info=)`, many samples concurrently; a dict result gives `score` and every key to
`reward_extra_info`. Those functions run here when verl is installed (trainer_code.py).
"""

import asyncio
import functools
import importlib.util
import types

import pytest

import arbiter_client
from arbiter_client import verl

VERL_FILE = verl.__file__
GOOD = "<think>2 + 2 = 4</think>\n<answer>4</answer>"
UNFORMATTED = "<think>2 + 2 = 4</think> so it is 4"


def run(coroutine):
    return asyncio.run(coroutine)


def load_standalone():
    """The file as verl's load_module loads it: by path, under a name that is not a package."""
    spec = importlib.util.spec_from_file_location("custom_module_123", VERL_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in ("ARBITER_VERL_VERIFIER", "ARBITER_ON_ERROR", "ARBITER_VERL_COMPONENTS"):
        monkeypatch.delenv(name, raising=False)


def test_the_file_loads_standalone_by_path_and_compute_score_is_a_coroutine_function():
    module = load_standalone()
    assert asyncio.iscoroutinefunction(module.compute_score)
    result = run(module.compute_score(data_source="openai/gsm8k", solution_str="so the answer is 72",
                                      ground_truth="72", extra_info={}))
    assert result == {"score": 1.0, "acc": 1.0, "arbiter_error": 0.0, "arbiter_crashed": 0.0,
                      "arbiter_reason": "equivalent"}


def test_reward_kwargs_configure_it_before_the_environment(monkeypatch):
    monkeypatch.setenv("ARBITER_VERL_VERIFIER", "math")
    module = load_standalone()
    # verl/trainer/ppo/reward.py `_call_with_kwargs_async`: reward_kwargs are merged into the call's keywords.
    result = run(module.compute_score(data_source="x", solution_str=GOOD, ground_truth="4", extra_info={},
                                      verifier="r1-zero"))
    assert result == {"score": 2.0, "acc": 1.0, "accuracy": 1.0, "format": 1.0, "arbiter_error": 0.0,
                      "arbiter_crashed": 0.0, "arbiter_reason": "all_passed"}
    assert set(run(module.compute_score(data_source="x", solution_str=GOOD, ground_truth="4"))) == {
        "score", "acc", "arbiter_error", "arbiter_crashed", "arbiter_reason"}


def test_r1_reads_the_question_that_verl_preprocessing_keeps():
    # examples/data_preprocess/gsm8k.py keeps the question as extra_info["question"] (not "prompt").
    french = "<think>Deux plus deux font quatre, donc la réponse est quatre.</think> \\boxed{4}"
    result = run(verl.compute_score("openai/gsm8k", french, "4",
                                    extra_info={"question": "Combien font deux plus deux ?"}, verifier="r1"))
    assert result["arbiter_error"] == 0.0 and result["language"] == 1.0
    english = run(verl.compute_score("openai/gsm8k", french, "4",
                                     extra_info={"question": "What is two plus two?"}, verifier="r1"))
    assert english["language"] < 0.2  # negative control: the question's language is what counts


def test_errors_raise_by_default_or_score_zero_with_the_same_keys():
    with pytest.raises(arbiter_client.ArbiterError) as caught:
        run(verl.compute_score("x", GOOD, {"not": "a number"}, verifier="r1-zero"))
    assert "invalid_reference" in str(caught.value)
    good = run(verl.compute_score("x", GOOD, "4", verifier="r1-zero", on_error="zero"))
    bad = run(verl.compute_score("x", GOOD, {"not": "a number"}, verifier="r1-zero", on_error="zero"))
    assert set(good) == set(bad) == {"score", "acc", "accuracy", "format", "arbiter_error", "arbiter_crashed",
                                     "arbiter_reason"}
    assert bad["score"] == 0.0 and bad["arbiter_error"] == 1.0 and good["arbiter_error"] == 0.0
    assert good["arbiter_reason"] == "all_passed" and bad["arbiter_reason"] == "error_invalid_reference"
    with pytest.raises(ValueError):
        run(verl.compute_score("x", GOOD, "4", on_error="none"))


def test_a_missing_ground_truth_keeps_the_format_score():
    result = run(verl.compute_score("x", GOOD, None, verifier="r1-zero", on_error="zero"))
    assert result["format"] == 1.0 and result["accuracy"] == 0.0 and result["arbiter_error"] == 1.0
    assert result["arbiter_reason"] == "missing_reference"


def test_components_all_gives_rows_of_mixed_recipes_the_same_keys():
    plain = run(verl.compute_score("openai/gsm8k", "\\boxed{4}", "4", components="all"))
    recipe = run(verl.compute_score("x", GOOD, "4", extra_info={"arbiter_verifier": "r1-zero"}, components="all"))
    assert set(plain) == set(recipe) >= {"score", "acc", "accuracy", "format", "language", "arbiter_error",
                                         "arbiter_crashed"}


def test_sync_and_batch_entry_points():
    assert verl.compute_score_sync("lighteval/MATH", "\\boxed{\\frac{1}{3}}", "\\frac{2}{6}")["score"] == 1.0
    assert verl.verifier_for("codecontests") == "code"
    batch = verl.compute_score_batch(["openai/gsm8k", "x"], ["4", GOOD], ["4", "4"],
                                     [None, {"arbiter_verifier": "r1-zero"}])
    assert [row["score"] for row in batch] == [1.0, 2.0]
    assert set(batch[0]) == set(batch[1])


def test_concurrent_per_sample_calls_are_sent_as_one_batch(monkeypatch):
    client = verl.shared_async_client()
    sizes = []
    original = client.score

    async def counting(requests):
        sizes.append(len(requests))
        return await original(requests)

    monkeypatch.setattr(client, "score", counting)

    async def main():
        return await asyncio.gather(*[verl.compute_score("openai/gsm8k", f"\\boxed{{{i}}}", str(i))
                                      for i in range(1000)])

    results = run(main())
    assert all(result["score"] == 1.0 for result in results)
    assert sum(sizes) == 1000 and max(sizes) > 1  # coalesced, not 1,000 calls of one


# -- verl's own code -----------------------------------------------------------------------------------------------

def _config(path, **reward_kwargs):
    custom = {"path": path, "name": "compute_score"}
    if reward_kwargs:
        custom["reward_kwargs"] = reward_kwargs
    return types.SimpleNamespace(reward={"custom_reward_function": custom})


def test_verl_loads_the_file_and_its_naive_manager_scores_samples_concurrently():
    from trainer_code import FakeDataProto, VerlTokenizer, verl_code
    get_custom_reward_fn, NaiveRewardManager = verl_code()
    compute_score = get_custom_reward_fn(_config(VERL_FILE, verifier="r1-zero"))
    assert isinstance(compute_score, functools.partial)  # wrapped with _call_with_kwargs_async

    async def main():
        manager = NaiveRewardManager(config=None, tokenizer=VerlTokenizer(), compute_score=compute_score)
        samples = [FakeDataProto([ord(c) for c in (GOOD if i % 2 else UNFORMATTED)], "openai/gsm8k", "4",
                                 {"question": "2+2?", "index": i}) for i in range(200)]
        return await asyncio.gather(*[manager.run_single(sample) for sample in samples])

    results = run(main())
    assert [r["reward_score"] for r in results] == [1.0 if i % 2 == 0 else 2.0 for i in range(200)]
    keys = {frozenset(r["reward_extra_info"]) for r in results}
    assert keys == {frozenset({"score", "acc", "accuracy", "format", "arbiter_error", "arbiter_crashed",
                               "arbiter_reason"})}
    reasons = [r["reward_extra_info"]["arbiter_reason"] for r in results]
    assert reasons[1] == "all_passed" and reasons[0] not in ("all_passed", "")  # the unformatted one says why


def test_verl_validation_statistics_skip_the_reason_string():
    # verl/trainer/ppo/metric_utils.py `process_validation_metrics` takes statistics of every reward_extra_info key
    # but skips string values: the reason rides along without breaking them.
    import os
    import ast
    import collections
    import numpy
    from trainer_code import _package_dir, _source_function
    path = os.path.join(_package_dir("verl"), "trainer", "ppo", "metric_utils.py")
    import typing
    namespace = {"Any": typing.Any, "Callable": typing.Callable, "defaultdict": collections.defaultdict, "np": numpy,
                 "partial": functools.partial}
    for name in ("bootstrap_metric", "calc_maj_val", "process_validation_metrics"):
        function = _source_function(path, name)
        exec(compile(ast.Module(body=[function], type_ignores=[]), path, "exec"), namespace)  # noqa: S102
    rows = [run(verl.compute_score("x", text, "4", verifier="r1-zero")) for text in (GOOD, UNFORMATTED)]
    infos = {key: [row[key] for row in rows] for key in rows[0]}
    metrics = namespace["process_validation_metrics"](["x", "x"], ["a", "b"], infos)
    assert "score" in metrics["x"] and "arbiter_reason" not in metrics["x"]


def test_verl_pkg_path_form_loads_too():
    from trainer_code import verl_code
    get_custom_reward_fn, _ = verl_code()
    compute_score = get_custom_reward_fn(_config("pkg://arbiter_client.verl"))
    result = run(compute_score(data_source="openai/gsm8k", solution_str="72", ground_truth="72", extra_info={}))
    assert result["score"] == 1.0


def test_verl_manager_with_a_template_that_opened_think():
    # DeepSeek-R1-Distill, QwQ and Qwen3 thinking templates end the prompt with `<think>`; verl decodes the response
    # alone (run_single: `tokenizer.decode(valid_response_ids, skip_special_tokens=True)`), so the opened tag never
    # reaches the reward. `reward_kwargs.think_opened=true` says so; the other families' special tokens are skipped by
    # verl's decode and never reach the adapter either.
    from trainer_code import FakeDataProto, VerlTokenizer, verl_code
    get_custom_reward_fn, NaiveRewardManager = verl_code()
    continued = "2 + 2 = 4</think>\n<answer>4</answer>"

    def scores(**reward_kwargs):
        compute_score = get_custom_reward_fn(_config(VERL_FILE, verifier="r1-zero", **reward_kwargs))

        async def main():
            manager = NaiveRewardManager(config=None, tokenizer=VerlTokenizer(), compute_score=compute_score)
            samples = [FakeDataProto([ord(c) for c in text], "openai/gsm8k", "4", {"question": "2+2?"})
                       for text in (continued, GOOD)]
            return await asyncio.gather(*[manager.run_single(sample) for sample in samples])

        return [(r["reward_extra_info"]["format"], r["reward_extra_info"]["arbiter_reason"]) for r in run(main())]

    # Hydra passes the flag as a bool; from the command line or the environment it may be a string.
    assert scores(think_opened=True) == scores(think_opened="true") == [(1.0, "all_passed"), (1.0, "all_passed")]
    [(fmt, reason), good] = scores()  # negative control: without the flag the continuation has an unopened </think>
    assert fmt == 0.0 and reason != "all_passed" and good == (1.0, "all_passed")


def test_named_reasons_are_counted_with_the_same_keys_on_every_row():
    # A verifier's reasons are an open set and verl stacks each key over the batch, so only the reasons named in
    # `reward_kwargs.reasons` get numeric keys, on every row; their batch mean is that reason's share.
    from trainer_code import FakeDataProto, VerlTokenizer, verl_code
    get_custom_reward_fn, NaiveRewardManager = verl_code()
    compute_score = get_custom_reward_fn(_config(VERL_FILE, verifier="r1-zero", reasons=["all_passed", "no_think"]))

    async def main():
        manager = NaiveRewardManager(config=None, tokenizer=VerlTokenizer(), compute_score=compute_score)
        samples = [FakeDataProto([ord(c) for c in text], "openai/gsm8k", "4", {"question": "2+2?"})
                   for text in (GOOD, UNFORMATTED, GOOD, "<answer>4</answer>")]
        return await asyncio.gather(*[manager.run_single(sample) for sample in samples])

    infos = [result["reward_extra_info"] for result in run(main())]
    assert len({frozenset(info) for info in infos}) == 1
    assert [info["arbiter_reason/all_passed"] for info in infos] == [1.0, 0.0, 1.0, 0.0]
    named = [info["arbiter_reason/no_think"] for info in infos]
    assert named[:3] == [0.0, 0.0, 0.0]
    assert named[3] == (1.0 if infos[3]["arbiter_reason"] == "no_think" else 0.0)
    # Control: without `reasons`, no such keys (the reason string alone).
    plain = run(verl.compute_score("x", GOOD, "4", verifier="r1-zero"))
    assert not [key for key in plain if key.startswith("arbiter_reason/")]
    assert run(verl.compute_score("x", GOOD, "4", verifier="r1-zero", reasons="all_passed, no_think")).keys() \
        == infos[0].keys()

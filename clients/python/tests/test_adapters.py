# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0

import pytest

from arbiter_client import ArbiterError
from arbiter_client import openrlhf, trl, verl

GOOD = "<think>2 + 2 = 4</think>\n<answer>\\boxed{4}</answer>"
UNFORMATTED = "<think>2 + 2 = 4</think> so it is 4"
WRONG = "<think>hmm</think>\n<answer>5</answer>"


def test_trl_reward_funcs_one_per_component_with_distinct_names():
    funcs = trl.reward_funcs("r1-zero")
    assert [f.__name__ for f in funcs] == ["accuracy", "format"]
    assert trl.reward_weights("r1-zero") == [1.0, 1.0]
    prompts = [[{"role": "system", "content": "be brief"}, {"role": "user", "content": "2+2?"}]] * 3
    completions = [[{"role": "assistant", "content": text}] for text in (GOOD, UNFORMATTED, WRONG)]
    accuracy, fmt = funcs
    assert accuracy(prompts=prompts, completions=completions, answer=["4", "4", "4"]) == [1.0, 1.0, 0.0]
    assert fmt(prompts=prompts, completions=completions, answer=["4", "4", "4"]) == [1.0, 0.0, 1.0]
    # Plain strings and the other reference column names work too.
    assert accuracy(prompts=["2+2?"], completions=[GOOD], solution=["4"]) == [1.0]
    assert accuracy(prompts=["2+2?"], completions=[GOOD], ground_truth=["5"]) == [0.0]


def test_trl_scores_a_batch_once_for_all_components(monkeypatch):
    accuracy, fmt = trl.reward_funcs("r1-zero")
    client = trl.shared_client()
    calls = []
    original = client.score

    def counting(requests):
        calls.append(len(requests))
        return original(requests)

    monkeypatch.setattr(client, "score", counting)
    kwargs = {"prompts": ["q"] * 2, "completions": [GOOD, WRONG], "reference": ["4", "4"]}
    assert accuracy(**kwargs) == [1.0, 0.0]
    assert fmt(**kwargs) == [1.0, 1.0]
    assert calls == [2]


def test_trl_single_verifier_and_errors():
    [func] = trl.reward_funcs("math")
    assert func.__name__ == "math"
    assert func(completions=["\\boxed{7}"], answer=["7"]) == [1.0]
    with pytest.raises(ArbiterError):
        func(completions=["1"], answer=[{"bad": "reference"}])
    [lenient] = trl.reward_funcs("math", on_error="none")
    assert lenient(completions=["1", "1"], answer=[{"bad": "reference"}, "1"]) == [None, 1.0]
    with pytest.raises(ArbiterError):
        trl.reward_funcs("no-such-recipe")


def test_verl_compute_score():
    result = verl.compute_score("openai/gsm8k", "so the answer is 72", "72")
    assert result == {"score": 1.0, "acc": 1.0}
    assert verl.compute_score("lighteval/MATH", "\\boxed{\\frac{1}{3}}", "\\frac{2}{6}")["score"] == 1.0
    recipe = verl.compute_score("anything", UNFORMATTED, "4", extra_info={"arbiter_verifier": "r1-zero"})
    assert recipe == {"score": 1.0, "acc": 0.0, "accuracy": 1.0, "format": 0.0}
    assert verl.verifier_for("codecontests") == "code"
    batch = verl.compute_score_batch(["openai/gsm8k"] * 2, ["4", "5"], ["4", "4"], [None, None])
    assert [b["score"] for b in batch] == [1.0, 0.0]


def test_openrlhf_reward_func(monkeypatch):
    monkeypatch.setenv("ARBITER_VERIFIER", "r1-zero")
    prompts = ["Q: 2+2? ", "Q: 2+2? "]
    queries = [prompts[0] + GOOD, prompts[1] + UNFORMATTED]
    result = openrlhf.reward_func(queries, prompts, ["4", "4"])
    as_list = lambda values: [float(v) for v in values]
    assert as_list(result["rewards"]) == [2.0, 1.0]
    assert as_list(result["scores"]) == [1.0, 0.5]
    assert as_list(result["extra_logs"]["format"]) == [1.0, 0.0]
    assert as_list(result["extra_logs"]["accuracy"]) == [1.0, 1.0]


def test_sql_plugin_through_the_client():
    client = trl.shared_client()
    reference = {"schema": "CREATE TABLE t(x INT); INSERT INTO t VALUES (1),(2);", "query": "SELECT x FROM t"}
    good = client.verify("sql", "```sql\nSELECT x FROM t ORDER BY x DESC\n```", reference)
    assert good["reason"] == "same_rows"
    bad = client.verify("sql", "```sql\nSELECT x FROM t WHERE x > 1\n```", reference)
    assert bad["score"] == 0 and bad["reason"] == "wrong_rows"


def test_trl_r1_infers_the_language_target_from_the_chat_prompt():
    funcs = trl.reward_funcs("r1")
    assert [f.__name__ for f in funcs] == ["accuracy", "format", "language"]
    assert trl.reward_weights("r1") == [1.0, 1.0, 1.0]
    prompts = [
        [{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": "Combien font 2+2 ?"}],
        [{"role": "user", "content": "What is two plus two?"}],
    ]
    thought = "<think>Deux plus deux font quatre, donc la réponse est quatre.</think> \\boxed{4}"
    completions = [[{"role": "assistant", "content": thought}]] * 2
    language = funcs[2](prompts=prompts, completions=completions, answer=["4", "4"])
    assert language[0] == 1.0  # French reasoning for a French question
    assert language[1] < 0.2  # the same French reasoning for an English question


def test_verl_rows_keep_the_same_keys_even_when_a_row_fails(monkeypatch):
    monkeypatch.setenv("ARBITER_ON_ERROR", "zero")
    good = verl.compute_score("x", GOOD, "4", extra_info={"arbiter_verifier": "r1-zero"})
    bad = verl.compute_score("x", GOOD, {"not": "a number"}, extra_info={"arbiter_verifier": "r1-zero"})
    assert set(good) == set(bad) == {"score", "acc", "accuracy", "format"}
    assert bad["score"] == 0.0
    batch = verl.compute_score_batch(["openai/gsm8k", "x"], ["4", GOOD], ["4", "4"],
                                     [None, {"arbiter_verifier": "r1-zero"}])
    assert set(batch[0]) == set(batch[1])


def test_verl_per_sample_rows_of_mixed_recipes_share_keys_with_components_all(monkeypatch):
    monkeypatch.setenv("ARBITER_VERL_COMPONENTS", "all")
    plain = verl.compute_score("openai/gsm8k", "\\boxed{4}", "4")
    recipe = verl.compute_score("x", GOOD, "4", extra_info={"arbiter_verifier": "r1-zero"})
    assert set(plain) == set(recipe) == {"score", "acc", "accuracy", "format", "language"}
    assert plain["score"] == 1.0 and plain["accuracy"] == 0.0
    assert recipe["accuracy"] == 1.0 and recipe["language"] == 0.0  # r1-zero has no language component
    monkeypatch.delenv("ARBITER_VERL_COMPONENTS")
    assert set(verl.compute_score("openai/gsm8k", "\\boxed{4}", "4")) == {"score", "acc"}


def test_openrlhf_strips_special_tokens_around_the_response(monkeypatch):
    monkeypatch.setenv("ARBITER_VERIFIER", "r1-zero")
    prompt = "<pad><pad><|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n"
    query = prompt + GOOD + "<|im_end|><|endoftext|>"
    result = openrlhf.reward_func([query], [prompt], ["4"])
    assert [float(v) for v in result["rewards"]] == [2.0]


def test_numpy_values_from_dataset_columns_are_sent_as_plain_json():
    import numpy
    assert verl.compute_score("openai/gsm8k", "\\boxed{4}", numpy.int64(4))["score"] == 1.0
    [func] = trl.reward_funcs("math")
    assert func(completions=["\\boxed{4}", "\\boxed{5}"], answer=numpy.array(["4", "4"])) == [1.0, 0.0]

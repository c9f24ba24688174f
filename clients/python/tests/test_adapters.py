# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""What the adapters share: plugins through the shared client, dataset values, references as datasets have them.
The per-trainer tests are test_trl.py, test_verl.py and test_openrlhf.py."""

import asyncio
import warnings

import pytest

from arbiter_client import _adapters, trl, verl


def test_sql_plugin_through_the_client():
    client = _adapters.shared_client()
    reference = {"schema": "CREATE TABLE t(x INT); INSERT INTO t VALUES (1),(2);", "query": "SELECT x FROM t"}
    good = client.verify("sql", "```sql\nSELECT x FROM t ORDER BY x DESC\n```", reference)
    assert good["reason"] == "same_rows"
    bad = client.verify("sql", "```sql\nSELECT x FROM t WHERE x > 1\n```", reference)
    assert bad["score"] == 0 and bad["reason"] == "wrong_rows"


def test_numpy_values_from_dataset_columns_are_sent_as_plain_json():
    import numpy
    assert asyncio.run(verl.compute_score("openai/gsm8k", "\\boxed{4}", numpy.int64(4)))["score"] == 1.0
    [func] = trl.reward_funcs("math")
    assert func(completions=["\\boxed{4}", "\\boxed{5}"], answer=numpy.array(["4", "4"])) == [1.0, 0.0]


def test_gsm8k_answers_are_read_after_the_hashes():
    solution = "Natalia sold 48/2 = 24 clips in May.\nNatalia sold 48+24 = 72 clips altogether.\n#### 72"
    assert _adapters.normalize_reference(solution) == "72"
    assert _adapters.normalize_reference("so\n#### 1,000") == "1000"
    assert _adapters.normalize_reference("#### \\frac{1}{2}") == "\\frac{1}{2}"
    assert _adapters.normalize_reference("72") == "72"  # negative control: a plain answer is untouched
    assert _adapters.normalize_reference(72) == 72


def test_a_whole_solution_as_reference_warns_once():
    _adapters._warned.discard("solution")
    solution = "First we note that...\n" + "a step of reasoning\n" * 20 + "so it is seven."
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _adapters.normalize_reference(solution)
        _adapters.normalize_reference(solution)
    assert len([w for w in caught if "whole solution" in str(w.message)]) == 1


def test_on_error_policies_are_checked():
    for good in ("raise", "none", "zero", 0.5, -1, "0.25"):
        _adapters.check_on_error(good)
    assert _adapters.check_on_error("0.25") == 0.25
    for bad in ("skip", True, None):
        with pytest.raises(ValueError):
            _adapters.check_on_error(bad)

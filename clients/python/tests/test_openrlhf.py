# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""The OpenRLHF adapter as OpenRLHF 0.11.2 calls it.

openrlhf/utils/agent.py, `SingleTurnAgentExecutor.execute`: `query = hf_tokenizer.decode(prompt ids + response ids,
skip_special_tokens=False)`, then `reward_func([query], [prompt], [label])` through `asyncio.to_thread`, one sample
per call, all samples of a step at once; `rewards_info.get("scores")`, `.get("rewards")`, `.get("extra_logs")` are
read back, and any `Exception` is logged and leaves the reward None. The executor itself runs here when OpenRLHF is
installed (trainer_code.py); the direct calls below reproduce the same shape.
"""

import asyncio
import os

import pytest

from arbiter_client import openrlhf
from arbiter_client.openrlhf import RewardFailed, response_of

GOOD = "<think>2 + 2 = 4</think>\n<answer>4</answer>"
UNFORMATTED = "2 + 2 = 4, so <answer>4</answer>"

# (prompt as the chat template renders it, the end of turn the model writes) for each family.
TEMPLATES = {
    "qwen": ("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n",
             "<|im_end|>"),
    "llama3": ("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n2+2?<|eot_id|>"
               "<|start_header_id|>assistant<|end_header_id|>\n\n", "<|eot_id|>"),
    "mistral": ("<s>[INST] 2+2? [/INST]", "</s>"),
    "deepseek": ("<｜begin▁of▁sentence｜><｜User｜>2+2?<｜Assistant｜>", "<｜end▁of▁sentence｜>"),
    "gemma": ("<bos><start_of_turn>user\n2+2?<end_of_turn>\n<start_of_turn>model\n", "<end_of_turn>\n<eos>"),
}


def floats(values):
    return [float(v) for v in values]


def scalar(value):
    """A one-sample reward as OpenRLHF keeps it (a one-element tensor, or list without torch)."""
    [only] = floats(value)
    return only


@pytest.fixture
def r1_zero(monkeypatch):
    monkeypatch.setenv("ARBITER_VERIFIER", "r1-zero")
    monkeypatch.delenv("ARBITER_ON_ERROR", raising=False)


@pytest.mark.parametrize("family", sorted(TEMPLATES))
def test_each_template_family_scores_the_response_alone(r1_zero, family):
    prompt, end = TEMPLATES[family]
    for response, expected in ((GOOD, 2.0), (UNFORMATTED, 1.0)):
        query = prompt + response + end
        assert response_of(query, prompt) == response
        result = openrlhf.reward_func([query], [prompt], ["4"])
        assert floats(result["rewards"]) == [expected], family
        assert floats(result["scores"]) == [expected / 2]
        assert set(result["extra_logs"]) == {"accuracy", "format", "arbiter_error", "arbiter_crashed"}


def test_llama3_header_stays_with_the_prompt_negative_control():
    # The bug: stripping the prompt's own trailing tokens left `<|end_header_id|>` at the start of the response.
    prompt, end = TEMPLATES["llama3"]
    response = response_of(prompt + GOOD + end, prompt)
    assert not response.startswith("<|end_header_id|>") and response == GOOD


def test_deepseek_template_that_opened_think_is_read_as_its_continuation(r1_zero):
    prompt = TEMPLATES["deepseek"][0] + "<think>\n"
    query = prompt + "2 + 2 = 4</think>\n<answer>4</answer><｜end▁of▁sentence｜>"
    assert floats(openrlhf.reward_func([query], [prompt], ["4"])["rewards"]) == [2.0]


def test_leading_padding_and_a_repeated_begin_of_text_are_set_aside():
    prompt = "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n"
    assert response_of("<pad><pad>" + prompt + GOOD + "<|im_end|><|endoftext|>", prompt) == GOOD
    assert response_of("<|begin_of_text|>" + TEMPLATES["llama3"][0] + GOOD, TEMPLATES["llama3"][0]) == GOOD


def test_a_query_without_its_prompt_is_a_clear_error():
    with pytest.raises(Exception) as caught:
        response_of("something else entirely", "<|im_start|>user\nQ<|im_end|>")
    assert "does not contain its prompt" in str(caught.value)


def test_stripping_is_linear_in_the_number_of_end_tokens():
    # 16,000 `<|im_end|>` took 15.6 s with the regex search; by index it is one pass (speed: Benchmarks/trainers.py).
    text = GOOD + "<|im_end|>" * 16_000
    assert response_of("P" + text, "P") == GOOD
    assert response_of("P" + GOOD + "\n<|im_end|>" * 16_000, "P") == GOOD
    # A response that merely ends in a tag that is not a special token keeps it.
    assert response_of("P<think>x</think><answer>4</answer>", "P").endswith("</answer>")


def test_stripping_looks_at_each_end_token_once(monkeypatch):
    # The mechanism behind the linear time: the special-token pattern is tried once per token at the end (and once
    # more where it stops), so twice the tokens cost twice the tries. The regex search it replaced scanned the rest
    # of the text at every token (quadratic).
    class Counting:
        def __init__(self, pattern):
            self.pattern, self.tries = pattern, 0

        def fullmatch(self, text, start, end):
            self.tries += 1
            return self.pattern.fullmatch(text, start, end)

    tries = {}
    for count in (1_000, 2_000):
        counting = Counting(openrlhf._TOKEN)
        monkeypatch.setattr(openrlhf, "_TOKEN", counting)
        assert response_of("P" + GOOD + "<|im_end|>" * count, "P") == GOOD
        tries[count] = counting.tries
    assert tries[1_000] <= 1_000 + 2 and tries[2_000] <= 2_000 + 2
    assert tries[2_000] >= 2 * tries[1_000] - 2  # control: each token is looked at (none skipped unchecked)


def test_a_missing_label_raises_reward_failed_which_is_not_an_exception(r1_zero):
    prompt = TEMPLATES["qwen"][0]
    with pytest.raises(RewardFailed) as caught:
        openrlhf.reward_func([prompt + GOOD], [prompt], [None])
    assert not isinstance(caught.value, Exception)
    assert "missing" in str(caught.value)


def test_on_error_zero_scores_it_and_counts_it(monkeypatch):
    monkeypatch.setenv("ARBITER_VERIFIER", "r1-zero")
    monkeypatch.setenv("ARBITER_ON_ERROR", "zero")
    prompt = TEMPLATES["qwen"][0]
    result = openrlhf.reward_func([prompt + GOOD, prompt + GOOD], [prompt, prompt], [None, "4"])
    assert floats(result["rewards"]) == [0.0, 2.0]
    assert floats(result["extra_logs"]["arbiter_error"]) == [1.0, 0.0]
    assert floats(result["extra_logs"]["format"]) == [1.0, 1.0]  # the format needs no reference


def test_gsm8k_labels_are_read_after_the_hashes(monkeypatch):
    monkeypatch.setenv("ARBITER_VERIFIER", "math")
    prompt = TEMPLATES["qwen"][0]
    label = "Natalia sold 48/2 = 24 clips in May.\nShe sold 48+24 = 72 clips altogether.\n#### 72"
    assert floats(openrlhf.reward_func([prompt + "\\boxed{72}"], [prompt], [label])["rewards"]) == [1.0]


def test_reward_func_async(r1_zero):
    prompt = TEMPLATES["qwen"][0]

    async def main():
        return await asyncio.gather(*[openrlhf.reward_func_async([prompt + GOOD], [prompt], ["4"])
                                      for _ in range(20)])

    assert all(floats(result["rewards"]) == [2.0] for result in asyncio.run(main()))


def test_a_thousand_samples_in_one_call(r1_zero):
    prompt = TEMPLATES["llama3"][0]
    queries = [prompt + (GOOD if i % 2 else UNFORMATTED) + "<|eot_id|>" for i in range(1000)]
    result = openrlhf.reward_func(queries, [prompt] * 1000, ["4"] * 1000)
    assert floats(result["rewards"]) == [1.0 if i % 2 == 0 else 2.0 for i in range(1000)]


# -- OpenRLHF's own executor ------------------------------------------------------------------------------------

def _executor(tmp_path):
    from trainer_code import openrlhf_agent
    agent = openrlhf_agent()
    reward_file = tmp_path / "reward_func.py"
    reward_file.write_text("from arbiter_client.openrlhf import reward_func\n")
    return agent.SingleTurnAgentExecutor(remote_rm_url=str(reward_file))


def test_openrlhf_single_turn_executor_scores_each_family(r1_zero, tmp_path):
    from trainer_code import CharTokenizer, SamplingParams, ScriptedEngine
    executor = _executor(tmp_path)
    engine = ScriptedEngine({prompt: GOOD + end for prompt, end in TEMPLATES.values()})

    async def main():
        return await asyncio.gather(*[
            executor.execute(prompt, "4", SamplingParams(), 1 << 21, CharTokenizer(), engine)
            for prompt, _ in TEMPLATES.values()
        ])

    for output in asyncio.run(main()):
        assert scalar(output["reward"]) == 2.0
        assert scalar(output["scores"]) == 1.0
        assert set(output["extra_logs"]) == {"accuracy", "format", "arbiter_error", "arbiter_crashed"}


def test_openrlhf_executor_stops_at_a_sample_without_reward_instead_of_logging_it(r1_zero, tmp_path):
    from trainer_code import CharTokenizer, SamplingParams, ScriptedEngine
    executor = _executor(tmp_path)
    prompt = TEMPLATES["qwen"][0]
    engine = ScriptedEngine({prompt: GOOD})
    with pytest.raises(RewardFailed):
        asyncio.run(executor.execute(prompt, None, SamplingParams(), 1 << 21, CharTokenizer(), engine))


def test_negative_control_an_ordinary_exception_would_be_swallowed_by_the_executor(tmp_path):
    # Why RewardFailed is a BaseException: OpenRLHF's executor turns an Exception into a None reward.
    from trainer_code import CharTokenizer, SamplingParams, ScriptedEngine, openrlhf_agent
    agent = openrlhf_agent()
    reward_file = tmp_path / "raising.py"
    reward_file.write_text("def reward_func(queries, prompts, labels):\n    raise ValueError('bad label')\n")
    executor = agent.SingleTurnAgentExecutor(remote_rm_url=str(reward_file))
    prompt = "P"
    output = asyncio.run(executor.execute(prompt, None, SamplingParams(), 1 << 21, CharTokenizer(),
                                          ScriptedEngine({prompt: "x"})))
    assert output["reward"] is None
    assert os.path.exists(reward_file)


def test_named_reasons_are_counted_in_extra_logs_with_the_same_keys(r1_zero, tmp_path, monkeypatch):
    from trainer_code import CharTokenizer, SamplingParams, ScriptedEngine
    monkeypatch.setenv("ARBITER_REASONS", "all_passed")
    executor = _executor(tmp_path)
    prompts = [TEMPLATES["qwen"][0], TEMPLATES["gemma"][0]]
    engine = ScriptedEngine({prompts[0]: GOOD + "<|im_end|>", prompts[1]: UNFORMATTED + "<end_of_turn>"})

    async def main():
        return await asyncio.gather(*[executor.execute(prompt, "4", SamplingParams(), 1 << 21, CharTokenizer(),
                                                       engine) for prompt in prompts])

    outputs = asyncio.run(main())
    assert [set(output["extra_logs"]) for output in outputs] == [
        {"accuracy", "format", "arbiter_error", "arbiter_crashed", "arbiter_reason/all_passed"}] * 2
    assert [scalar(output["extra_logs"]["arbiter_reason/all_passed"]) for output in outputs] == [1.0, 0.0]
    monkeypatch.delenv("ARBITER_REASONS")  # control: no key without the setting
    logs = openrlhf.reward_func([prompts[0] + GOOD], [prompts[0]], ["4"])["extra_logs"]
    assert "arbiter_reason/all_passed" not in logs

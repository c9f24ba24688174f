# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""The TRL adapter as TRL 1.16.0 calls it.

trl/trainer/grpo_trainer.py `GRPOTrainer._calculate_rewards`: for each reward function in turn,
`reward_func(prompts=prompts, completions=completions, completion_ids=completion_ids_list, **reward_kwargs)` where
reward_kwargs holds every dataset column but prompt/completion (one value per completion), `trainer_state`,
`log_extra` and `log_metric`; None rewards become NaN. trl/experimental/async_grpo/async_rollout_worker.py
`_score_group` passes the same keywords to every function at once (`asyncio.to_thread` + `gather`), in a process
spawned with the functions pickled (`mp.get_context("spawn")`). `_calculate_rewards` itself runs at the end of this file
(with torch's CPU wheel); `call_like_grpo_trainer` and `call_like_async_grpo` below reproduce both calls without torch.
"""

import asyncio
import multiprocessing
import pickle

import pytest

from arbiter_client import ArbiterError, trl
from arbiter_client.trl import ArbiterReward, reward_funcs, reward_weights

GOOD = "<think>2 + 2 = 4</think>\n<answer>4</answer>"
UNFORMATTED = "<think>2 + 2 = 4</think> so it is 4"
WRONG = "<think>hmm</think>\n<answer>5</answer>"


class Metrics:
    def __init__(self):
        self.logged = {}
        self.columns = {}

    def log_metric(self, name, value):
        self.logged.setdefault(name, []).append(value)

    def log_extra(self, column, values):
        self.columns.setdefault(column, []).extend(values)


def call_like_grpo_trainer(funcs, prompts, completions, metrics=None, **columns):
    """GRPOTrainer._calculate_rewards: each function in turn, with the same objects and keywords."""
    metrics = metrics or Metrics()
    reward_kwargs = dict(columns, trainer_state=object(), log_extra=metrics.log_extra, log_metric=metrics.log_metric)
    completion_ids = [[1, 2, 3] for _ in completions]
    out = []
    for func in funcs:
        rewards = func(prompts=prompts, completions=completions, completion_ids=completion_ids, **reward_kwargs)
        assert len(rewards) == len(prompts)
        out.append([float("nan") if r is None else r for r in rewards])
    return out


def call_like_async_grpo(funcs, prompts, completions, **columns):
    """AsyncGRPO's _score_group: every sync function at once through asyncio.to_thread."""
    kwargs = dict(completions=completions, prompts=prompts, completion_ids=[[1] for _ in completions], **columns)

    async def main():
        return await asyncio.gather(*[asyncio.to_thread(func, **kwargs) for func in funcs])

    return asyncio.run(main())


def chat(text, **extra):
    return [{"role": "assistant", "content": text, **extra}]


def test_one_function_per_component_named_after_it_with_the_recipe_weights():
    funcs = reward_funcs("r1-zero")
    assert [f.__name__ for f in funcs] == ["accuracy", "format"]
    assert reward_weights("r1-zero") == [1.0, 1.0]
    prompts = [[{"role": "system", "content": "be brief"}, {"role": "user", "content": "2+2?"}]] * 3
    completions = [chat(text) for text in (GOOD, UNFORMATTED, WRONG)]
    accuracy, fmt = call_like_grpo_trainer(funcs, prompts, completions, answer=["4", "4", "4"])
    assert accuracy == [1.0, 1.0, 0.0]
    assert fmt == [1.0, 0.0, 1.0]
    [single] = reward_funcs("math")
    assert single.__name__ == "math"
    assert call_like_grpo_trainer([single], ["q"], ["\\boxed{7}"], solution=["7"]) == [[1.0]]


def test_the_functions_pickle_and_score_in_a_spawned_process():
    funcs = reward_funcs("r1-zero")
    copies = pickle.loads(pickle.dumps(funcs))
    assert [f.__name__ for f in copies] == ["accuracy", "format"]
    context = multiprocessing.get_context("spawn")  # as AsyncRolloutWorker starts its child
    with context.Pool(1) as pool:
        result = pool.apply(call_like_async_grpo, (funcs, ["q", "q"], [GOOD, UNFORMATTED]), {"answer": ["4", "4"]})
    assert result == [[1.0, 1.0], [1.0, 0.0]]


def test_a_batch_is_scored_once_for_all_components_sequential_or_concurrent(monkeypatch):
    funcs = reward_funcs("r1-zero")
    scorer = trl._scorer(funcs[0]._config)
    sizes = []
    original = scorer.client.score

    def counting(requests):
        sizes.append(len(requests))
        return original(requests)

    monkeypatch.setattr(scorer.client, "score", counting)
    prompts, completions = ["q"] * 2, [GOOD, WRONG]
    assert call_like_grpo_trainer(funcs, prompts, completions, reference=["4", "4"]) == [[1.0, 0.0], [1.0, 1.0]]
    assert sizes == [2]
    for _ in range(5):
        fresh = [GOOD, WRONG]  # a new batch object each step, as TRL builds them
        assert call_like_async_grpo(funcs, list(prompts), fresh, reference=["4", "4"]) == [[1.0, 0.0], [1.0, 1.0]]
    assert sizes == [2] * 6
    # Negative controls: a different batch is scored again, and so is the same one with other references.
    call_like_grpo_trainer(funcs, prompts, [WRONG, WRONG], reference=["4", "4"])
    assert sizes == [2] * 7
    same = [GOOD, WRONG]
    assert call_like_grpo_trainer(funcs, prompts, same, reference=["4", "4"])[0] == [1.0, 0.0]
    assert call_like_grpo_trainer(funcs, prompts, same, reference=["5", "5"])[0] == [0.0, 1.0]
    assert sizes == [2] * 9


def test_reasoning_content_is_the_think_block():
    funcs = reward_funcs("r1-zero")
    completions = [chat("<answer>4</answer>", reasoning_content="2 + 2 = 4"), chat("<answer>4</answer>")]
    accuracy, fmt = call_like_grpo_trainer(funcs, ["q", "q"], completions, answer=["4", "4"])
    assert fmt == [1.0, 0.0]  # the second has no thinking at all: negative control
    assert accuracy == [1.0, 1.0]


def test_templates_that_open_think_themselves():
    funcs = reward_funcs("r1-zero")
    continued = "2 + 2 = 4</think>\n<answer>4</answer>"
    # A plain prompt string rendered by the template shows the opened tag.
    opened = "<｜begin▁of▁sentence｜><｜User｜>2+2?<｜Assistant｜><think>\n"
    assert call_like_grpo_trainer(funcs, [opened], [continued], answer=["4"])[1] == [1.0]
    assert call_like_grpo_trainer(funcs, ["<｜User｜>2+2?<｜Assistant｜>"], [continued], answer=["4"])[1] == [0.0]
    # Chat prompts do not carry the template: think_opened=True says so.
    chat_prompt = [[{"role": "user", "content": "2+2?"}]]
    opened_funcs = reward_funcs("r1-zero", think_opened=True)
    assert call_like_grpo_trainer(opened_funcs, chat_prompt, [chat(continued)], answer=["4"])[1] == [1.0]
    assert call_like_grpo_trainer(opened_funcs, chat_prompt, [chat(GOOD)], answer=["4"])[1] == [1.0]
    assert call_like_grpo_trainer(funcs, chat_prompt, [chat(continued)], answer=["4"])[1] == [0.0]


@pytest.mark.parametrize("prompt", [
    "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n",
    "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n2+2?<|eot_id|>"
    "<|start_header_id|>assistant<|end_header_id|>\n\n",
    "<s>[INST] 2+2? [/INST]",
    "<｜begin▁of▁sentence｜><｜User｜>2+2?<｜Assistant｜>",
    "<bos><start_of_turn>user\n2+2?<end_of_turn>\n<start_of_turn>model\n",
])
def test_plain_prompts_of_each_template_family(prompt):
    accuracy, fmt = call_like_grpo_trainer(reward_funcs("r1-zero"), [prompt] * 2, [GOOD, UNFORMATTED],
                                           answer=["4", "4"])
    assert accuracy == [1.0, 1.0] and fmt == [1.0, 0.0]


def test_a_lone_surrogate_touches_its_own_completion_only():
    funcs = reward_funcs("r1-zero")
    broken = "<think>bad \ud83d pair</think>\n<answer>4</answer>"
    accuracy, fmt = call_like_grpo_trainer(funcs, ["q"] * 3, [GOOD, broken, WRONG], answer=["4"] * 3)
    assert accuracy == [1.0, 1.0, 0.0] and fmt == [1.0, 1.0, 1.0]


def test_a_missing_reference_keeps_the_format_and_skips_the_accuracy():
    metrics = Metrics()
    accuracy, fmt = call_like_grpo_trainer(reward_funcs("r1-zero"), ["q"] * 2, [GOOD, GOOD], metrics,
                                           answer=[None, "4"])
    assert accuracy[0] != accuracy[0] and accuracy[1] == 1.0  # NaN: TRL skips it
    assert fmt == [1.0, 1.0]
    assert metrics.logged["arbiter/unknown"] == [1.0]  # logged once per batch, not once per function
    assert metrics.logged["arbiter/reason/missing_reference"] == [1.0]
    assert metrics.columns["arbiter_reason"] == ["missing_reference", "all_passed"]  # the completions table


def test_gsm8k_answer_column():
    solution = "Natalia sold 48/2 = 24 clips in May.\nNatalia sold 48+24 = 72 clips altogether.\n#### 72"
    assert call_like_grpo_trainer(reward_funcs("math"), ["q"], ["\\boxed{72}"], answer=[solution]) == [[1.0]]


def test_on_error_policies():
    bad = {"not": "a number"}
    [lenient] = reward_funcs("math")
    assert lenient(completions=["1", "1"], answer=[bad, "1"]) == [None, 1.0]
    [strict] = reward_funcs("math", on_error="raise")
    with pytest.raises(ArbiterError) as caught:
        strict(completions=["1"], answer=[bad])
    assert "completion 0" in caught.value.message
    [zero] = reward_funcs("math", on_error="zero")
    assert zero(completions=["1"], answer=[bad]) == [0.0]
    [fixed] = reward_funcs("math", on_error=-1)
    assert fixed(completions=["1"], answer=[bad]) == [-1.0]
    with pytest.raises(ValueError):
        reward_funcs("math", on_error="skip")
    with pytest.raises(ArbiterError):
        reward_funcs("no-such-recipe")


def test_a_thousand_completions_in_a_batch():
    completions = [chat(GOOD if i % 3 else WRONG) for i in range(1000)]
    accuracy, fmt = call_like_grpo_trainer(reward_funcs("r1-zero"), [[{"role": "user", "content": "q"}]] * 1000,
                                           completions, answer=["4"] * 1000)
    assert accuracy == [0.0 if i % 3 == 0 else 1.0 for i in range(1000)]
    assert fmt == [1.0] * 1000


def test_r1_infers_the_language_target_from_the_chat_prompt():
    funcs = reward_funcs("r1")
    assert [f.__name__ for f in funcs] == ["accuracy", "format", "language"]
    prompts = [
        # Seven words or more: a shorter prompt in a script several languages share takes the fallback target
        # (`fallback_target`, default en; docs/verifiers/language.md), as "Combien font 2+2 ?" now does.
        [{"role": "system", "content": "You are a helpful assistant."},
         {"role": "user", "content": "Combien font deux plus deux ? Réponds avec un seul nombre."}],
        [{"role": "user", "content": "What is two plus two?"}],
    ]
    thought = "<think>Deux plus deux font quatre, donc la réponse est quatre.</think> \\boxed{4}"
    language = call_like_grpo_trainer(funcs, prompts, [chat(thought)] * 2, answer=["4", "4"])[2]
    assert language[0] == 1.0 and language[1] < 0.2


def test_repr_and_class_form():
    func = ArbiterReward("r1-zero", component="format")
    assert func.__name__ == "format" and "format" in repr(func)
    assert func(prompts=["q"], completions=[GOOD], answer=["4"]) == [1.0]


def test_a_forked_child_scores_with_its_own_client():
    # Data loader workers are forked from a trainer that already scored: the parent's client threads are not there.
    funcs = reward_funcs("r1-zero")
    assert call_like_grpo_trainer(funcs, ["q"], [GOOD], answer=["4"]) == [[1.0], [1.0]]
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as pool:
        result = pool.apply(call_like_grpo_trainer, (funcs, ["q", "q"], [GOOD, WRONG]), {"answer": ["4", "4"]})
    assert result == [[1.0, 0.0], [1.0, 1.0]]
    assert call_like_grpo_trainer(funcs, ["q"], [WRONG], answer=["4"]) == [[0.0], [1.0]]  # the parent still scores


def test_trl_names_the_functions_after_the_components_and_calls_them_synchronously():
    from trainer_code import trl_functions
    get_callable_name, is_async_callable = trl_functions("get_callable_name", "is_async_callable")
    funcs = reward_funcs("r1")
    assert [get_callable_name(f) for f in funcs] == ["accuracy", "format", "language"]
    assert [get_callable_name(f) for f in pickle.loads(pickle.dumps(funcs))] == ["accuracy", "format", "language"]
    assert not any(is_async_callable(f) for f in funcs)  # run through asyncio.to_thread by AsyncGRPO

    async def negative_control(**kwargs):
        return []

    assert is_async_callable(negative_control) and get_callable_name(negative_control) == "negative_control"


# -- TRL's own GRPOTrainer._calculate_rewards (trainer_code.trl_calculate_rewards; needs torch) -------------------

def real_rewards(funcs, prompts, completions, **columns):
    """Rewards as TRL 1.16.0's `_calculate_rewards` computes them: `inputs` are the dataset rows (prompt and every
    column); the result is the (completions × functions) tensor as a list of columns, NaN for None."""
    from trainer_code import trl_calculate_rewards
    calculate = trl_calculate_rewards()
    inputs = [dict({name: values[index] for name, values in columns.items()}, prompt=prompt)
              for index, prompt in enumerate(prompts)]
    tensor, trainer = calculate(funcs, inputs, prompts, completions)
    assert tuple(tensor.shape) == (len(completions), len(funcs))
    return [tensor[:, column].tolist() for column in range(len(funcs))], trainer


def test_trl_calculate_rewards_scores_each_component_and_logs_through_the_trainer():
    funcs = reward_funcs("r1-zero")
    prompts = [[{"role": "user", "content": "2+2?"}]] * 4
    completions = [chat(GOOD), chat(UNFORMATTED), chat(WRONG), chat(GOOD)]
    (accuracy, fmt), trainer = real_rewards(funcs, prompts, completions, answer=["4", "4", "4", None])
    assert accuracy[:3] == [1.0, 1.0, 0.0] and accuracy[3] != accuracy[3]  # None became NaN: TRL skips it
    assert fmt == [1.0, 0.0, 1.0, 1.0]  # the row without a reference keeps its format score
    assert trainer.metrics["arbiter/unknown"] == [1.0]
    reasons = trainer.extra["arbiter_reason"]  # TRL's completions table, one reason per completion
    assert reasons[0] == "all_passed" and reasons[3] == "missing_reference"
    assert len(reasons) == 4 and "all_passed" not in reasons[1:3]


def test_trl_calculate_rewards_with_plain_prompts_of_each_template_family():
    prompts = ["<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n",
               "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n2+2?<|eot_id|>"
               "<|start_header_id|>assistant<|end_header_id|>\n\n",
               "<s>[INST] 2+2? [/INST]",
               "<｜begin▁of▁sentence｜><｜User｜>2+2?<｜Assistant｜><think>\n",
               "<bos><start_of_turn>user\n2+2?<end_of_turn>\n<start_of_turn>model\n"]
    completions = [GOOD, GOOD, GOOD, "2 + 2 = 4</think>\n<answer>4</answer>", UNFORMATTED]
    (accuracy, fmt), _ = real_rewards(reward_funcs("r1-zero"), prompts, completions, answer=["4"] * 5)
    assert accuracy == [1.0] * 5
    assert fmt == [1.0, 1.0, 1.0, 1.0, 0.0]  # the DeepSeek template opened <think>; the last is unformatted


def test_trl_calculate_rewards_reasoning_content_and_a_lone_surrogate():
    funcs = reward_funcs("r1-zero")
    completions = [chat("<answer>4</answer>", reasoning_content="2 + 2 = 4"), chat("<answer>4</answer>"),
                   chat("<think>bad \ud83d pair</think>\n<answer>4</answer>")]
    (accuracy, fmt), _ = real_rewards(funcs, [[{"role": "user", "content": "q"}]] * 3, completions,
                                      answer=["4"] * 3)
    assert accuracy == [1.0, 1.0, 1.0]
    assert fmt == [1.0, 0.0, 1.0]  # no thinking at all in the second (negative control); the surrogate is local


def test_trl_calculate_rewards_a_thousand_completions_scored_once(monkeypatch):
    funcs = reward_funcs("r1-zero")
    scorer = trl._scorer(funcs[0]._config)
    sizes = []
    original = scorer.client.score
    monkeypatch.setattr(scorer.client, "score", lambda requests: sizes.append(len(requests)) or original(requests))
    completions = [GOOD if i % 3 else WRONG for i in range(1000)]
    (accuracy, fmt), _ = real_rewards(funcs, ["q"] * 1000, completions, answer=["4"] * 1000)
    assert accuracy == [0.0 if i % 3 == 0 else 1.0 for i in range(1000)] and fmt == [1.0] * 1000
    assert sizes == [1000]  # two functions, one request batch


def test_trl_calculate_rewards_on_error_raise_stops_with_the_message():
    [strict] = reward_funcs("math", on_error="raise")
    with pytest.raises(ArbiterError) as caught:
        real_rewards([strict], ["q", "q"], ["\\boxed{1}", "\\boxed{1}"], answer=["1", {"not": "a number"}])
    assert "completion 1" in caught.value.message
    [lenient] = reward_funcs("math")
    [column], _ = real_rewards([lenient], ["q", "q"], ["\\boxed{1}", "\\boxed{1}"], answer=["1", {"not": "a number"}])
    assert column[0] == 1.0 and column[1] != column[1]

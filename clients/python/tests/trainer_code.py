# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""The trainers' own calling code, loaded from their installed packages without torch.

requirements-test-nodeps.txt installs verl 0.9.1 and OpenRLHF 0.11.2 with --no-deps. Their packages' `__init__`
modules import torch, so the files that call reward functions are loaded here by path, each with the few
torch-bound names it imports replaced by stand-ins; the calling functions themselves run unchanged. When a trainer
is not installed, `pytest.importorskip`-style skips apply (the adapter tests that reproduce the call shape by hand
still run).

TRL's `GRPOTrainer._calculate_rewards` builds torch tensors throughout: `trl_calculate_rewards` runs it when torch is
installed (requirements-test-torch.txt, the CPU wheel).
"""

import asyncio
import importlib.util
import logging
import os
import sys
import types

import pytest


_package_dirs = {}


def _package_dir(name):
    """Where an installed package's files are, without importing it (its __init__ needs torch)."""
    if name not in _package_dirs:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            reason = f"{name} is not installed (clients/python/requirements-test-nodeps.txt installs it)"
            if os.environ.get("ARBITER_REQUIRE_ALL_TESTS") == "1":
                pytest.fail(reason)
            pytest.skip(reason)
        _package_dirs[name] = spec.submodule_search_locations[0]
    return _package_dirs[name]


def _load(path, name, stubs):
    """Executes the file at `path` as module `name`, with `stubs` ({module name: module}) in sys.modules while it
    imports."""
    saved = {key: sys.modules.get(key) for key in stubs}
    sys.modules.update(stubs)
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        for key, value in saved.items():
            if value is None:
                sys.modules.pop(key, None)
            else:
                sys.modules[key] = value


def _module(name, **attributes):
    module = types.ModuleType(name)
    module.__dict__.update(attributes)
    return module


# -- OpenRLHF 0.11.2: openrlhf/utils/agent.py, SingleTurnAgentExecutor ------------------------------------------

def openrlhf_agent():
    """openrlhf/utils/agent.py as shipped (imports: aiohttp, openrlhf.utils.logging_utils)."""
    path = os.path.join(_package_dir("openrlhf"), "utils", "agent.py")
    stubs = {
        "openrlhf": _module("openrlhf", __path__=[]),
        "openrlhf.utils": _module("openrlhf.utils", __path__=[]),
        "openrlhf.utils.logging_utils": _module("openrlhf.utils.logging_utils", init_logger=logging.getLogger),
    }
    try:
        import aiohttp  # noqa: F401  (only its HTTP path uses it)
        del aiohttp
    except ImportError:
        stubs["aiohttp"] = _module("aiohttp")
    return _load(path, "openrlhf_agent_under_test", stubs)


class CharTokenizer:
    """A tokenizer with one token per character: decoding gives back exactly the text, special tokens included
    (OpenRLHF decodes with skip_special_tokens=False)."""

    class _Ids(list):
        def tolist(self):
            return list(self)

    def __call__(self, text, add_special_tokens=False, return_tensors=None):
        return {"input_ids": [self._Ids(map(ord, text))]}

    def decode(self, ids, skip_special_tokens=False):
        return "".join(map(chr, ids))  # map, not a generator: the stand-in's cost is not the trainer's


class ScriptedEngine:
    """Stands in for vLLM: `generate` returns the response scripted for the prompt."""

    def __init__(self, responses):
        self.responses = responses  # prompt text -> response text

    async def generate(self, prompt_token_ids, sampling_params, multi_modal_data=None):
        prompt = "".join(map(chr, prompt_token_ids))
        output = types.SimpleNamespace(token_ids=list(map(ord, self.responses[prompt])), finish_reason="stop",
                                       logprobs=None)
        return types.SimpleNamespace(outputs=[output])


class SamplingParams:
    max_tokens = 1 << 20
    logprobs = None


# -- verl 0.9.1: reward_loop naive manager and custom reward loading ---------------------------------------------

class _FakeTensor:
    """The slice of torch.Tensor that `run_single` uses on one sample's token ids."""

    def __init__(self, values):
        self.values = list(values)

    @property
    def shape(self):
        return (len(self.values),)

    def __getitem__(self, index):
        return _FakeTensor(self.values[index]) if isinstance(index, slice) else self.values[index]

    def __iter__(self):
        return iter(self.values)

    def __index__(self):
        raise TypeError("a tensor of several values is not an index")

    def sum(self):
        return sum(self.values)  # an int: slicing with it works as with a 0-d tensor


class FakeItem:
    def __init__(self, batch, non_tensor_batch):
        self.batch = batch
        self.non_tensor_batch = non_tensor_batch


class FakeDataProto:
    """One sample as `run_single` reads it: `data[-1:]`, then `data[0].batch` / `.non_tensor_batch`."""

    def __init__(self, response_ids, data_source, ground_truth, extra_info):
        padding = 3
        self.item = FakeItem(
            {"responses": _FakeTensor(list(response_ids) + [0] * padding),
             "attention_mask": _FakeTensor([1] * 5 + [1] * len(response_ids) + [0] * padding)},
            {"data_source": data_source, "reward_model": {"ground_truth": ground_truth}, "extra_info": extra_info},
        )

    def __getitem__(self, index):
        return self if isinstance(index, slice) else self.item


class VerlTokenizer(CharTokenizer):
    def decode(self, ids, skip_special_tokens=True):
        return "".join(map(chr, ids))


def verl_code():
    """(get_custom_reward_fn from verl/trainer/ppo/reward.py, NaiveRewardManager from
    verl/experimental/reward_loop/reward_manager/naive.py), as shipped."""
    root = _package_dir("verl")
    import_utils = _load(os.path.join(root, "utils", "import_utils.py"), "verl_import_utils_under_test", {})

    class RewardManagerBase:
        # verl/experimental/reward_loop/reward_manager/base.py, without torch: what run_single relies on.
        def __init__(self, config, tokenizer, compute_score):
            self.config = config
            self.tokenizer = tokenizer
            self.compute_score = compute_score
            self.loop = asyncio.get_event_loop()

    def register(name):
        return lambda cls: cls

    stubs = {
        "verl": _module("verl", __path__=[], DataProto=FakeDataProto),
        "verl.utils": _module("verl.utils", __path__=[]),
        "verl.utils.import_utils": import_utils,
        "verl.utils.reward_score": _module("verl.utils.reward_score", default_compute_score=None,
                                           get_default_compute_score=lambda *a, **k: None),
        "verl.experimental": _module("verl.experimental", __path__=[]),
        "verl.experimental.reward_loop": _module("verl.experimental.reward_loop", __path__=[]),
        "verl.experimental.reward_loop.reward_manager": _module(
            "verl.experimental.reward_loop.reward_manager", __path__=[], register=register),
        "verl.experimental.reward_loop.reward_manager.base": _module(
            "verl.experimental.reward_loop.reward_manager.base", RewardManagerBase=RewardManagerBase),
    }
    reward = _load(os.path.join(root, "trainer", "ppo", "reward.py"), "verl_reward_under_test", stubs)
    naive = _load(os.path.join(root, "experimental", "reward_loop", "reward_manager", "naive.py"),
                  "verl_naive_under_test", stubs)

    def get_custom_reward_fn(config):
        saved = {key: sys.modules.get(key) for key in stubs}
        sys.modules.update(stubs)  # get_custom_reward_fn imports verl.utils.import_utils when called
        try:
            return reward.get_custom_reward_fn(config)
        finally:
            for key, value in saved.items():
                if value is None:
                    sys.modules.pop(key, None)
                else:
                    sys.modules[key] = value

    return get_custom_reward_fn, naive.NaiveRewardManager


# -- TRL 1.16.0: the helpers that name reward functions and tell sync from async ---------------------------------

def trl_functions(*names):
    """Top-level functions of trl/trainer/utils.py (`get_callable_name`, `is_async_callable`), taken from the
    installed file's syntax tree and run as written (the module itself imports torch)."""
    import ast
    import collections.abc
    import functools
    import inspect
    path = os.path.join(_package_dir("trl"), "trainer", "utils.py")
    with open(path, encoding="utf-8") as source:
        tree = ast.parse(source.read())
    wanted = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name in names]
    module = ast.Module(body=wanted, type_ignores=[])
    namespace = {"functools": functools, "inspect": inspect, "asyncio": asyncio, "Callable": collections.abc.Callable}
    exec(compile(module, path, "exec"), namespace)  # noqa: S102 — TRL's own source, from the installed package
    return [namespace[name] for name in names]


# -- TRL 1.16.0: GRPOTrainer._calculate_rewards itself (needs torch) ----------------------------------------------

def _source_function(path, name, cls=None):
    """The syntax tree of a top-level function (or a method of `cls`) of an installed file."""
    import ast
    with open(path, encoding="utf-8") as source:
        tree = ast.parse(source.read())
    body = tree.body
    if cls is not None:
        [klass] = [node for node in body if isinstance(node, ast.ClassDef) and node.name == cls]
        body = klass.body
    [function] = [node for node in body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.name == name]
    return function


def trl_calculate_rewards():
    """`GRPOTrainer._calculate_rewards` from the installed trl/trainer/grpo_trainer.py, run as written on a stand-in
    trainer with one CPU process (the module imports transformers, accelerate and datasets, which the tests do not
    install; the method itself needs only torch and the helpers given here, which are TRL's own where they matter:
    `is_conversational` from trl/data_utils.py, `get_callable_name` and `is_async_callable` from
    trl/trainer/utils.py). Returns `calculate(reward_funcs, inputs, prompts, completions) -> (tensor, trainer)`;
    the trainer records what the functions logged (`metrics`, `extra`). Needs torch: skips without it (fails under
    ARBITER_REQUIRE_ALL_TESTS=1)."""
    import ast
    import contextlib
    try:
        import torch
    except ImportError:
        reason = "torch is not installed (clients/python/requirements-test-torch.txt installs the CPU wheel)"
        if os.environ.get("ARBITER_REQUIRE_ALL_TESTS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    root = _package_dir("trl")
    get_callable_name, is_async_callable = trl_functions("get_callable_name", "is_async_callable")
    data_utils = os.path.join(root, "data_utils.py")
    trainer_file = os.path.join(root, "trainer", "grpo_trainer.py")
    namespace = {"Any": object, "asyncio": asyncio, "torch": torch, "nn": torch.nn, "gather": lambda tensor: tensor,
                 "is_async_callable": is_async_callable, "logger": logging.getLogger("trl_under_test"),
                 "profiling_context": lambda trainer, name: contextlib.nullcontext(),
                 "profiling_decorator": lambda function: function,
                 "apply_chat_template": None}
    for path, name, cls in ((data_utils, "is_conversational", None),
                            (trainer_file, "_calculate_rewards", "GRPOTrainer")):
        code = compile(ast.Module(body=[_source_function(path, name, cls)], type_ignores=[]), path, "exec")
        exec(code, namespace)  # noqa: S102 — TRL's own source, from the installed package

    class Trainer:
        _calculate_rewards = namespace["_calculate_rewards"]

        def __init__(self, reward_funcs):
            self.accelerator = types.SimpleNamespace(device=torch.device("cpu"))
            self.state = types.SimpleNamespace(global_step=0)
            self.environments = None
            self.async_loop = None
            self.reward_funcs = list(reward_funcs)
            self.reward_processing_classes = [None] * len(self.reward_funcs)
            self.reward_func_names = [get_callable_name(func) for func in self.reward_funcs]
            self.metrics, self.extra = {}, {}

        # GRPOTrainer._log_metric / _log_completion_extra, reduced to recording what was logged
        def _log_metric(self, name, value):
            self.metrics.setdefault(name, []).append(value)

        def _log_completion_extra(self, column, values):
            self.extra.setdefault(column, []).extend(values)

    def calculate(reward_funcs, inputs, prompts, completions):
        trainer = Trainer(reward_funcs)
        completion_ids = [[1, 2, 3] for _ in completions]
        return trainer._calculate_rewards(inputs, prompts, completions, completion_ids), trainer

    return calculate

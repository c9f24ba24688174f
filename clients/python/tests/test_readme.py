# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""The configuration lines of the client README's "Trainers" section, read from the README itself and run through
each pinned trainer's own code (issue 13: "the exact configuration lines that work, tested"):

- TRL: the README's `GRPOConfig(...)` / `GRPOTrainer(...)` lines name `reward_weights` and `reward_funcs`, which
  TRL 1.16.0 has (its source), and the functions they build are run through TRL's own `_calculate_rewards`.
- verl: the README's `reward.custom_reward_function.*` overrides — the keys exist in verl 0.9.1's generated trainer
  configuration (`reward_kwargs` does not, hence the README's `+`), the path's shell command prints a file verl's
  `get_custom_reward_fn` loads, and its naive manager scores with the README's `reward_kwargs`.
- OpenRLHF: the README's reward file runs in OpenRLHF 0.11.2's `SingleTurnAgentExecutor`, and its flag
  `--reward.remote_url` is the one OpenRLHF's `train_ppo_ray.py` defines (the pre-0.10 `--remote_rm_url` is not).
"""

import asyncio
import os
import pathlib
import re
import subprocess
import sys

import pytest

from arbiter_client import openrlhf, verl

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
GOOD = "<think>2 + 2 = 4</think>\n<answer>4</answer>"
UNFORMATTED = "<think>2 + 2 = 4</think> so it is 4"


def _section(title):
    text = README.read_text(encoding="utf-8")
    start = text.index(f"### {title}")
    end = text.find("\n### ", start + 1)
    return text[start:end if end >= 0 else len(text)]


def _blocks(title):
    return re.findall(r"```[a-z]*\n(.*?)```", _section(title), re.S)


def test_trl_lines_of_the_readme():
    from trainer_code import _package_dir, trl_calculate_rewards
    [code] = _blocks("TRL (`GRPOTrainer`, `AsyncGRPOTrainer`)")
    weights = re.search(r"reward_weights=(reward_weights\([^)]*\))", code).group(1)
    funcs = re.search(r"reward_funcs=(reward_funcs\([^)]*\))", code).group(1)
    imports = [line for line in code.splitlines() if line.startswith("from arbiter_client")]
    namespace = {}
    exec("\n".join(imports), namespace)  # noqa: S102 — the README's own import line
    # TRL 1.16.0 has these names where the README uses them.
    root = pathlib.Path(_package_dir("trl"))
    assert re.search(r"^\s+reward_weights: ", (root / "trainer" / "grpo_config.py").read_text(), re.M)
    assert re.search(r"^\s+reward_funcs: ", (root / "trainer" / "grpo_trainer.py").read_text(), re.M)
    functions, weight_list = eval(funcs, namespace), eval(weights, namespace)  # noqa: S307
    assert len(functions) == len(weight_list) == 2
    calculate = trl_calculate_rewards()
    prompts = [[{"role": "user", "content": "2+2?"}]] * 2
    completions = [[{"role": "assistant", "content": text}] for text in (GOOD, UNFORMATTED)]
    tensor, _ = calculate(functions, [{"prompt": p, "answer": "4"} for p in prompts], prompts, completions)
    assert tensor.tolist() == [[1.0, 1.0], [1.0, 0.0]]


def _verl_overrides():
    [block] = _blocks("verl (`reward.custom_reward_function`)")
    overrides = {}
    for line in block.splitlines():
        setting = line.split("#", 1)[0].strip() if " #" in line else line.strip()
        if setting:
            key, value = setting.split("=", 1)
            overrides[key] = value
    return overrides


def test_verl_lines_of_the_readme(socket_daemons):
    import yaml
    from trainer_code import FakeDataProto, VerlTokenizer, _package_dir, verl_code
    overrides = _verl_overrides()
    # The keys without `+` exist in verl 0.9.1's configuration; `reward_kwargs` does not (Hydra needs the `+`).
    config = yaml.safe_load((pathlib.Path(_package_dir("verl")) / "trainer" / "config" /
                             "_generated_ppo_trainer.yaml").read_text())
    custom = config["reward"]["custom_reward_function"]
    for key in overrides:
        parts = key.lstrip("+").split(".")
        assert parts[:2] == ["reward", "custom_reward_function"], key
        if key.startswith("+"):
            assert parts[2] == "reward_kwargs" and "reward_kwargs" not in custom
        else:
            assert parts[2] in custom, key
    # The path: the README's shell command, run as written (with this checkout's client on the path).
    command = re.fullmatch(r'\$\((python3 -c "(.*)")\)', overrides["reward.custom_reward_function.path"]).group(2)
    environment = dict(os.environ, PYTHONPATH=str(README.parent))
    path = subprocess.run([sys.executable, "-c", command], capture_output=True, text=True, check=True,
                          env=environment).stdout.strip()
    assert os.path.samefile(path, verl.__file__)
    # The optional shared daemon: the README's address line, pointed at a daemon of this test.
    [address] = socket_daemons(1)
    assert overrides["+reward.custom_reward_function.reward_kwargs.address"].startswith("tcp:")
    reward_kwargs = {key.rsplit(".", 1)[1]: value for key, value in overrides.items() if ".reward_kwargs." in key}
    reward_kwargs["address"] = address
    custom_config = {"path": path, "name": overrides["reward.custom_reward_function.name"],
                     "reward_kwargs": reward_kwargs}
    get_custom_reward_fn, manager_class = verl_code()
    import types
    compute_score = get_custom_reward_fn(types.SimpleNamespace(reward={"custom_reward_function": custom_config}))

    async def main():
        manager = manager_class(config=None, tokenizer=VerlTokenizer(), compute_score=compute_score)
        samples = [FakeDataProto([ord(c) for c in text], "openai/gsm8k", "4", {"question": "2+2?"})
                   for text in (GOOD, UNFORMATTED)]
        return await asyncio.gather(*[manager.run_single(sample) for sample in samples])

    assert [result["reward_score"] for result in asyncio.run(main())] == [2.0, 1.0]  # r1-zero, from reward_kwargs
    from arbiter_client import Client
    with Client(address=address) as daemon:
        assert daemon.score_one({"op": "stats"})["stats"]["verifiers"]["r1-zero"]["verdicts"] == 2


def test_openrlhf_lines_of_the_readme(tmp_path, monkeypatch):
    from trainer_code import CharTokenizer, SamplingParams, ScriptedEngine, _package_dir, openrlhf_agent
    blocks = _blocks("OpenRLHF (`--reward.remote_url`)")
    [reward_file] = [block for block in blocks if block.startswith("# reward_func.py")]
    [command] = [block for block in blocks if "openrlhf.cli.train_ppo_ray" in block]
    flag = re.search(r"(--\S+) reward_func\.py", command).group(1)
    verifier = re.search(r"ARBITER_VERIFIER=(\S+)", command).group(1)
    source = (pathlib.Path(_package_dir("openrlhf")) / "cli" / "train_ppo_ray.py").read_text()
    assert f'parser.add_argument("{flag}"' in source
    assert 'parser.add_argument("--remote_rm_url"' not in source  # the pre-0.10 flag the README used to name
    path = tmp_path / "reward_func.py"
    path.write_text(reward_file)
    monkeypatch.setenv("ARBITER_VERIFIER", verifier)
    monkeypatch.delenv("ARBITER_ON_ERROR", raising=False)
    executor = openrlhf_agent().SingleTurnAgentExecutor(remote_rm_url=str(path))
    prompt = "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n"
    engine = ScriptedEngine({prompt: GOOD + "<|im_end|>"})
    output = asyncio.run(executor.execute(prompt, "4", SamplingParams(), 1 << 21, CharTokenizer(), engine))
    assert [float(value) for value in output["reward"]] == [2.0]
    assert openrlhf.reward_func is not None

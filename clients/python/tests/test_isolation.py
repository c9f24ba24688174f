# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""A request that kills the daemon is isolated; the rest of its batch and every later call are served.

A fake daemon (fake_daemon.py) dies with SIGSEGV on a `POISON` marker, so these tests do not depend on a real
verifier crash (those get fixed); one test also tries the real daemon with an input that crashed it once.
"""

import asyncio
import os
import stat
import sys
import threading

import pytest

from arbiter_client import ArbiterError, AsyncClient, Client

FAKE = os.path.join(os.path.dirname(__file__), "fake_daemon.py")


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """An executable that runs fake_daemon.py; returns (path, starts) where starts() counts daemon starts."""
    wrapper = tmp_path / "fake-arbiter"
    wrapper.write_text(f"#!/bin/sh\nexec '{sys.executable}' '{FAKE}'\n")
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    starts = tmp_path / "starts"
    monkeypatch.setenv("FAKE_STARTS", str(starts))
    monkeypatch.setenv("FAKE_DRAINED", str(tmp_path / "drained"))
    monkeypatch.setenv("FAKE_DEAD", str(tmp_path / "dead"))

    def count():
        return len(starts.read_text().split()) if starts.exists() else 0

    return str(wrapper), count


def exact(response, reference):
    return {"verifier": "exact", "response": response, "reference": reference}


def batch_with_poison(size, poison_at):
    requests = [exact(str(i), str(i)) for i in range(size)]
    requests[poison_at] = exact("POISON " + "x" * 100, "x")
    return requests


def check_isolated(answers, poison_at):
    for index, answer in enumerate(answers):
        if index == poison_at:
            assert answer["error"]["code"] == "crashed"
            assert f"item {poison_at} of {len(answers)}" in answer["error"]["message"]
            assert "POISON" in answer["error"]["message"]
        else:
            assert answer.get("score") == 1, (index, answer)


def test_one_poison_request_in_101_is_isolated_and_the_client_stays_usable(fake):
    binary, starts = fake
    with Client(binary=binary, timeout=120) as client:
        answers = client.score(batch_with_poison(101, 50))
        check_isolated(answers, 50)
        # Each halving costs one restart; the poison is convicted after killing two daemons alone.
        assert client.crashes <= 2 * 7 + 2
        assert starts() == client.restarts + 1
        # Later calls are served as usual, by the same client.
        assert [a["score"] for a in client.score([exact("a", "a"), exact("a", "b")])] == [1, 0]
        # A second poison later on is isolated as well: nothing is permanently refused.
        answers = client.score(batch_with_poison(10, 0))
        check_isolated(answers, 0)
        assert client.score_one(exact("z", "z"))["score"] == 1


def test_negative_control_a_batch_without_poison_never_restarts(fake):
    binary, starts = fake
    with Client(binary=binary) as client:
        answers = client.score([exact(str(i), str(i)) for i in range(101)])
        assert all(a["score"] == 1 for a in answers)
        assert client.crashes == 0 and client.restarts == 0 and starts() == 1


def test_a_poison_request_alone_is_answered_with_crashed_not_unavailable(fake, caplog):
    binary, _ = fake
    with Client(binary=binary) as client:
        [answer] = client.score([dict(exact("POISON", "x"), id="bad")])
        # The trainer's log says what happened: the restarts, then the request set aside.
        assert any("died (signal 11)" in r.message and r.levelname == "WARNING" for r in caplog.records)
        assert any("id 'bad'" in r.message and r.levelname == "ERROR" for r in caplog.records)
        assert answer["id"] == "bad"
        assert answer["error"]["code"] == "crashed"
        assert "id 'bad'" in answer["error"]["message"]
        with pytest.raises(ArbiterError) as caught:
            client.verify("exact", "POISON", "x")
        assert caught.value.code == "crashed"
        assert client.verify("exact", "ok", "ok")["passed"] is True


def test_other_threads_calls_wait_out_an_isolation_and_are_answered(fake):
    binary, _ = fake
    with Client(binary=binary, timeout=120) as client:
        results = {}

        def worker(n):
            results[n] = client.score([exact(f"{n}-{i}", f"{n}-{i}") for i in range(20)])

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
        for thread in threads:
            thread.start()
        poisoned = client.score(batch_with_poison(40, 7))
        for thread in threads:
            thread.join(timeout=120)
        check_isolated(poisoned, 7)
        assert sorted(results) == list(range(6))
        assert all(a["score"] == 1 for answers in results.values() for a in answers)


def test_async_client_isolates_the_same_way(fake):
    binary, _ = fake

    async def main():
        async with AsyncClient(binary=binary, timeout=120) as client:
            poisoned, clean = await asyncio.gather(
                client.score(batch_with_poison(33, 32)),
                asyncio.gather(*[client.score_one(exact(str(i), str(i))) for i in range(50)]),
            )
            check_isolated(poisoned, 32)
            assert all(a["score"] == 1 for a in clean)
            assert (await client.score_one(exact("k", "k")))["score"] == 1

    asyncio.run(main())


def test_cancelled_answers_are_resent_to_the_next_daemon_not_returned(fake):
    binary, starts = fake
    with Client(binary=binary) as client:
        answers = client.score([exact("DRAIN", "DRAIN")] + [exact(str(i), str(i)) for i in range(20)])
        assert all(a.get("score") == 1 for a in answers), answers[:3]
        assert starts() == 2 and client.cancelled == 1
        assert client.crashes == 0  # a drain is a clean exit (status 0), not a crash to isolate


def test_real_daemon_inputs_that_crashed_it_are_isolated_or_scored(binary):
    # Issue 20: `\frac1.5` made the math parser trap and `\boxed{3!!!…}` overflowed its stack; one of them in a
    # batch of 101 made the old client give up and refuse every later call. Whether or not those are fixed in this
    # build, the other requests of the batch are scored and the client keeps working.
    from conftest import VERIFIERS
    requests = [{"verifier": "math", "response": f"\\boxed{{{i}}}", "reference": str(i)} for i in range(101)]
    requests[50] = {"verifier": "math", "response": "The answer is $\\frac1.5$.", "reference": "1"}
    requests[80] = {"verifier": "math", "response": "\\boxed{3" + "!" * 5000 + "}", "reference": "6"}
    with Client(binary=binary, args=("--verifiers", VERIFIERS), timeout=300) as client:
        answers = client.score(requests)
        assert all(a.get("score") == 1 for i, a in enumerate(answers) if i not in (50, 80))
        for index in (50, 80):
            assert "score" in answers[index] or answers[index]["error"]["code"] in ("crashed", "internal")
        assert client.verify("math", "\\boxed{2}", "2")["passed"] is True


def test_a_timeout_fails_that_call_alone_and_the_next_call_is_served(fake):
    binary, starts = fake

    async def main(client):
        with pytest.raises(ArbiterError) as caught:
            await client.score([exact("HANG", "HANG")])
        assert caught.value.code == "unavailable" and "timeout" in caught.value.message
        return await client.score_one(exact("b", "b"))

    with Client(binary=binary, timeout=0.5) as client:
        with pytest.raises(ArbiterError) as caught:
            client.score([exact("HANG", "HANG"), exact("a", "a")])
        assert caught.value.code == "unavailable" and "timeout" in caught.value.message
        assert client.score_one(exact("a", "a"))["score"] == 1
        assert starts() == 1  # a slow answer is not a dead daemon
    asyncio.run(_with_async(binary, main))


async def _with_async(binary, body):
    async with AsyncClient(binary=binary, timeout=0.5) as client:
        assert (await body(client))["score"] == 1


def test_work_cancelled_by_a_stopped_socket_daemon_is_answered_by_the_next_one(tmp_path):
    # A supervisor restarts a daemon after SIGTERM: what the stopped daemon answered `cancelled` (its drain time ran
    # out) goes to the new daemon at the same address; no `cancelled` reaches the caller.
    import signal
    import subprocess
    import time
    from conftest import BINARY
    path = str(tmp_path / "d.sock")

    def start():
        process = subprocess.Popen([BINARY, "serve", "--listen", f"unix:{path}", "--drain-timeout", "0",
                                    "--log-level", "error"])
        deadline = time.monotonic() + 20
        while not os.path.exists(path):
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.02)
        return process

    first = start()
    client = Client(address=f"unix:{path}", max_restarts=30, timeout=300)
    requests = [{"verifier": "math", "response": f"\\boxed{{\\frac{{{i}}}{{7}}}}", "reference": f"{i}/7"}
                for i in range(40_000)]
    outcome = {}

    def score():
        try:
            outcome["answers"] = client.score(requests)
        except BaseException as error:  # shown by the assertion below, not lost in the thread
            outcome["error"] = repr(error)

    worker = threading.Thread(target=score)
    worker.start()
    with Client(address=f"unix:{path}") as probe:  # stop the daemon once it holds queued work
        deadline = time.monotonic() + 240
        seen = 0
        while seen < 200:
            assert worker.is_alive(), ("the call ended before the daemon held 200 requests: "
                                       f"{outcome.get('error')} {[a for a in outcome.get('answers', []) if 'score' not in a][:2]}")
            assert time.monotonic() < deadline, f"the daemon never had 200 requests in flight (at most {seen})"
            seen = max(seen, probe.score_one({"op": "stats"})["stats"]["in_flight"])
            time.sleep(0.002)
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=60) == 0
    second = start()
    try:
        worker.join(timeout=300)
        assert "answers" in outcome, outcome.get("error")
        answers = outcome["answers"]
        assert all(answer.get("score") == 1 for answer in answers), [a for a in answers if "score" not in a][:2]
        served = client.score_one({"op": "stats"})["stats"]
        assert served["verifiers"]["math"]["verdicts"] > 0  # the second daemon did part of the work
        assert client.restarts >= 1 and client.cancelled > 0
        assert client.crashes == 0  # a drain is not a crash: nothing was isolated
    finally:
        client.close()
        second.terminate()
        second.wait(timeout=30)


def test_a_daemon_that_cannot_come_back_gives_the_trainers_no_reward_form_then_recovers(fake, tmp_path):
    # Issue 13, honest status: a reward that could not be computed reaches TRL as None (skipped), never as 0, and
    # verl stops with a clear message by default; issue 20: once the daemon can run again, the same client serves.
    from arbiter_client import trl, verl
    binary, _ = fake
    [reward] = trl.reward_funcs("exact", binary=binary, args=[])
    assert reward(prompts=["q", "q"], completions=["a", "b"], reference=["a", "a"]) == [1.0, 0.0]
    client = trl._scorer(reward._config).client
    (tmp_path / "dead").touch()
    os.kill(client.pids[0], 9)
    metrics = {}
    rewards = reward(prompts=["q", "q"], completions=["a", "c"], reference=["a", "a"],
                     log_metric=lambda name, value: metrics.__setitem__(name, value))
    assert rewards == [None, None]
    assert metrics["arbiter/unknown"] == 2.0
    with pytest.raises(ArbiterError) as caught:
        asyncio.run(verl.compute_score("x", "a", "a", verifier="exact", binary=binary, args=[]))
    assert caught.value.code == "unavailable" and "could not be brought up" in caught.value.message
    zero = asyncio.run(verl.compute_score("x", "a", "a", verifier="exact", binary=binary, args=[], on_error="zero"))
    assert zero == {"score": 0.0, "acc": 0.0, "arbiter_error": 1.0, "arbiter_crashed": 0.0,
                    "arbiter_reason": "error_unavailable"}
    (tmp_path / "dead").unlink()
    assert reward(prompts=["q"], completions=["a"], reference=["a"]) == [1.0]


def test_a_response_that_crashes_the_daemon_scores_zero_in_every_adapter_and_is_counted(fake, tmp_path):
    from arbiter_client import openrlhf, trl, verl
    binary, _ = fake
    settings = dict(binary=binary, args=[])
    [reward] = trl.reward_funcs("exact", **settings)
    metrics = {}
    assert reward(prompts=["q"] * 3, completions=["a", "POISON", "b"], reference=["a", "a", "a"],
                  log_metric=lambda name, value: metrics.__setitem__(name, value)) == [1.0, 0.0, 0.0]
    assert metrics["arbiter/crashed"] == 1.0 and metrics["arbiter/unknown"] == 0.0
    rows = verl.compute_score_batch(["x"] * 2, ["POISON", "a"], ["a", "a"], [None, None], verifier="exact",
                                    **settings)
    assert [(r["score"], r["arbiter_crashed"], r["arbiter_error"]) for r in rows] == [(0.0, 1.0, 0.0), (1.0, 0.0, 0.0)]
    result = openrlhf.reward_func(["P" + "POISON", "Pa"], ["P", "P"], ["a", "a"], verifier="exact", **settings)
    assert [float(v) for v in result["rewards"]] == [0.0, 1.0]
    assert [float(v) for v in result["extra_logs"]["arbiter_crashed"]] == [1.0, 0.0]


def test_a_call_sent_in_slices_while_its_daemon_is_killed_is_answered_in_full(binary):
    # A large call goes out in slices; a slice submitted while the reader was still collecting the dead daemon's
    # requests started the restart itself, the collection then saw a newer daemon and dropped its requests, and the
    # call waited forever (about one attempt in six hung before the fix). Several attempts, each bounded.
    import signal
    import time
    for attempt in range(8):
        with Client(binary=binary) as client:
            client.score([{"verifier": "exact", "response": "1", "reference": "1"}])
            requests = [{"verifier": "exact", "response": str(i), "reference": str(i)} for i in range(100_000)]
            killer = threading.Timer(0.2 + 0.05 * attempt, lambda: os.kill(client.pids[0], signal.SIGKILL))
            killer.start()
            outcome = {}
            worker = threading.Thread(target=lambda: outcome.setdefault("answers", client.score(requests)), daemon=True)
            worker.start()
            worker.join(120)
            killer.join()
            assert not worker.is_alive(), f"attempt {attempt}: the call never ended"
            assert len(outcome["answers"]) == 100_000 and all(a.get("score") == 1 for a in outcome["answers"])

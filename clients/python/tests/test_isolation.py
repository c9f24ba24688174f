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


def test_a_poison_request_alone_is_answered_with_crashed_not_unavailable(fake):
    binary, _ = fake
    with Client(binary=binary) as client:
        [answer] = client.score([dict(exact("POISON", "x"), id="bad")])
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
        assert starts() == 2
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

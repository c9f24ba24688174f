# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""`arbiter_client.ray` on a real local Ray cluster (`ray.cluster_utils.Cluster`, simulated nodes of one CPU each).

One cluster is shared by the whole module (Ray takes tens of seconds to start on two cores). Two pools run on it:
`real` (the built `arbiter` binary) for deployment, ordering and node-local routing, and `fake`
(tests/fake_listen_daemon.py, which fails on purpose) for the faults: a replica actor killed mid-batch, a daemon
child SIGKILLed mid-batch, a request that kills the daemon, one that kills the replica, and a node that goes away.
Skipped when Ray is not installed; with ARBITER_REQUIRE_ALL_TESTS=1 that is a failure instead.
"""

import os
import pathlib
import signal
import sys
import tempfile
import threading
import time

import pytest

try:
    import ray
except ImportError:
    if os.environ.get("ARBITER_REQUIRE_ALL_TESTS") == "1":
        pytest.fail("Ray is not installed and ARBITER_REQUIRE_ALL_TESTS=1 "
                    "(pip install -r clients/python/requirements-test-ray.txt)", pytrace=False)
    pytest.skip("Ray is not installed (pip install -r clients/python/requirements-test-ray.txt)",
                allow_module_level=True)

from ray.cluster_utils import Cluster
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from arbiter_client import ArbiterError, Client
from arbiter_client.ray import ArbiterPool

HERE = pathlib.Path(__file__).resolve().parent
CLIENT_ROOT = str(HERE.parent)
VERIFIERS = str(HERE.parents[2] / "verifiers")


def _wait_for(predicate, what, limit=120):
    """Polls until `predicate()` holds (a bound on a hang, not a timed assertion)."""
    deadline = time.monotonic() + limit
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def cluster():
    saved = {key: os.environ.get(key)
             for key in ("PYTHONPATH", "ARBITER_RAY_DIR", "ARBITER_RAY_METRICS_INTERVAL", "RAY_USAGE_STATS_ENABLED",
                         "RAY_TMPDIR")}
    directory = tempfile.mkdtemp(prefix="arb-ray-")
    # The simulated nodes' workers import this checkout's client and keep their sockets in a directory of this run.
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [CLIENT_ROOT, saved["PYTHONPATH"]]))
    os.environ["ARBITER_RAY_DIR"] = directory
    os.environ["ARBITER_RAY_METRICS_INTERVAL"] = "1"
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"  # Ray would otherwise try to report usage over the network
    # Ray's own files (sessions, sockets, the current cluster's address) in this run's directory, not the shared
    # /tmp/ray: another user's run there (root's CI, say) would leave it unwritable for this one.
    os.environ["RAY_TMPDIR"] = directory
    small = {"num_cpus": 1, "object_store_memory": 80 * 1024 * 1024}
    made = Cluster()  # empty: the first node added is the head, so a failed start can still be shut down
    try:
        made.add_node(**small, include_dashboard=False)
        made.add_node(**small)
        made.wait_for_nodes()
        ray.init(address=made.address, log_to_driver=False)
        made.small = small
        made.directory = directory
        yield made
    finally:
        # Also when the cluster failed to come up: a Ray left initialised in this process would hang the tests that
        # fork it later (test_trl's forked child).
        ray.shutdown()
        made.shutdown()
        _restore(saved)


def _restore(saved):
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _alive_nodes():
    return sorted(node["NodeID"] for node in ray.nodes() if node["Alive"])


@pytest.fixture(scope="module")
def real(cluster):
    pool = ArbiterPool.deploy(name="real", verifiers=VERIFIERS, chunk_size=16)
    yield pool
    pool.shutdown()


@pytest.fixture(scope="module")
def fake(cluster):
    wrapper = pathlib.Path(cluster.directory) / "fake-arbiter"
    wrapper.write_text(f"#!/bin/sh\nexec {sys.executable} {HERE / 'fake_listen_daemon.py'} \"$@\"\n")
    wrapper.chmod(0o755)
    pool = ArbiterPool.deploy(name="fake", binary=str(wrapper), chunk_size=8)
    yield pool
    pool.shutdown()


def _math(count, offset=0):
    return [{"id": f"m{offset + i}", "verifier": "math", "response": f"\\boxed{{{i}}}",
             "reference": str(i if i % 3 else i + 1)} for i in range(count)]


def _exact(count, marker="", prefix="e"):
    """Requests for the fake daemon: odd ones pass (response == reference), even ones fail."""
    requests = []
    for i in range(count):
        response = f"{marker}{i}"
        requests.append({"id": f"{prefix}{i}", "verifier": "exact", "response": response,
                         "reference": response if i % 2 else "other"})
    return requests


def _check_exact(requests, answers):
    """Every request answered exactly once, in order, with its own verdict."""
    assert [answer.get("id") for answer in answers] == [request["id"] for request in requests]
    for request, answer in zip(requests, answers):
        assert "error" not in answer, answer
        assert answer["passed"] == (request["response"] == request["reference"]), (request, answer)


def _replica(pool, node_id):
    return next(entry for entry in pool.stats()["replicas"] if entry["node_id"] == node_id)


def _scoring_in_background(pool, requests):
    box = {}

    def run():
        try:
            box["answers"] = pool.score(requests)
        except BaseException as error:  # re-raised by the test
            box["error"] = error

    thread = threading.Thread(target=run)
    thread.start()

    def result():
        thread.join(300)
        assert not thread.is_alive(), "the pool never answered"
        if "error" in box:
            raise box["error"]
        return box["answers"]

    return result


# -- deployment -----------------------------------------------------------------------------------------------------


def test_one_replica_per_node_and_deploy_is_idempotent(real):
    stats = real.stats()
    replicas = stats["replicas"]
    assert sorted(entry["node_id"] for entry in replicas) == _alive_nodes()
    assert len({entry["address"] for entry in replicas}) == len(replicas)
    for entry in replicas:
        assert entry["address"].startswith("unix:") and os.path.exists(entry["address"][5:])
        assert entry["command"][1:6] == ["serve", "--listen", entry["address"], "--jobs", "1"]  # one CPU per node
        assert "requests" in entry["daemon"] and entry["restarts"] == 0
    # The host's link (<dir>/<pool>.sock, the same path on every machine of a real cluster) leads to a replica.
    link = os.path.join(os.environ["ARBITER_RAY_DIR"], "real.sock")
    assert "unix:" + os.path.realpath(link) in {entry["address"] for entry in replicas}
    with Client(address="unix:" + link) as through_link:
        assert through_link.score(_math(3))[2]["passed"] is True
    again = ArbiterPool.deploy(name="real", verifiers=VERIFIERS)
    after = again.stats()["replicas"]
    assert [(e["actor_pid"], e["daemon_pid"], e["starts"]) for e in after] == \
        [(e["actor_pid"], e["daemon_pid"], e["starts"]) for e in replicas]
    assert ArbiterPool.connect("real").stats()["pool"]["replicas"] == len(replicas)


def test_deploy_on_named_nodes_and_errors(cluster):
    head = ray.get_runtime_context().get_node_id()
    directory = os.path.join(cluster.directory, "chosen")
    solo = ArbiterPool.deploy(name="solo", verifiers=VERIFIERS, nodes=[head], socket_dir=directory)
    try:
        assert [entry["node_id"] for entry in solo.stats()["replicas"]] == [head]
        assert solo.stats()["replicas"][0]["address"].startswith(f"unix:{directory}/")
        assert os.path.realpath(os.path.join(directory, "solo.sock")) == solo.stats()["replicas"][0]["address"][5:]
        with pytest.raises(ArbiterError, match="no alive Ray node"):
            ArbiterPool.deploy(name="solo", nodes=["no-such-node"])
        with pytest.raises(ArbiterError, match="no alive Ray node matches"):
            ArbiterPool.deploy(name="solo", nodes="resource:no_such_resource")
        with pytest.raises(ArbiterError, match="no replica of pool 'absent'"):
            ArbiterPool.connect("absent")
        with pytest.raises(ArbiterError, match="replicas failed to start"):
            ArbiterPool.deploy(name="broken", binary="/bin/false", nodes=[head])
        # The node that has no replica of `solo` gets None for its local address; the head gets its socket.
        other = next(node for node in _alive_nodes() if node != head)
        addresses = ray.get([_local_address.options(scheduling_strategy=_on(node)).remote("solo")
                             for node in (head, other)])
        assert addresses[0] == solo.stats()["replicas"][0]["address"] and addresses[1] is None
    finally:
        solo.shutdown()
    with pytest.raises(ArbiterError):
        ArbiterPool.connect("solo")


@ray.remote(num_cpus=0)
def _local_address(name):
    from arbiter_client.ray import resolve_address

    address = ArbiterPool.connect(name).local_address()
    assert resolve_address("unix:/elsewhere.sock") == "unix:/elsewhere.sock"
    if address is None:
        with pytest.raises(ArbiterError, match=f"this node has no replica of pool '{name}'"):
            resolve_address(f"ray:{name}")
    else:
        assert resolve_address(f"ray:{name}") == address
    return address


def _on(node_id):
    return NodeAffinitySchedulingStrategy(node_id=node_id, soft=False)


# -- scoring ----------------------------------------------------------------------------------------------------------


def _mixed():
    requests = _math(150)
    requests += [
        {"verifier": "math", "response": "\\boxed{2}", "reference": "2"},           # no id: none given back
        {"id": 7, "verifier": "math", "response": "x", "reference": "\\frac{"},    # invalid reference: an error
        {"id": "u", "verifier": "no-such-verifier", "response": "x"},              # unknown verifier: an error
        {"id": "e", "verifier": "exact", "response": "yes", "reference": "yes"},
    ]
    return requests + _math(100, offset=150)


def _without_timing(answers):
    return [{key: value for key, value in answer.items() if key != "ms"} for answer in answers]


def test_score_matches_a_direct_client_in_input_order(real, binary):
    requests = _mixed()
    with Client(binary=binary, args=["--verifiers", VERIFIERS]) as direct:
        expected = direct.score(requests)
    before = {entry["node_id"]: entry["chunks"] for entry in real.stats()["replicas"]}
    answers = real.score(requests)
    assert _without_timing(answers) == _without_timing(expected)
    assert "id" not in answers[150] and answers[151]["error"]["code"] == "invalid_reference"
    assert answers[152]["error"]["code"] == "unknown_verifier" and answers[153]["passed"] is True
    # Chunks of 16 went to both replicas.
    after = {entry["node_id"]: entry["chunks"] for entry in real.stats()["replicas"]}
    assert all(after[node] > before[node] for node in before)
    assert sum(after.values()) - sum(before.values()) == -(-len(requests) // 16)
    # The same through ascore, from an event loop of this thread.
    import asyncio

    assert _without_timing(asyncio.run(real.ascore(requests))) == _without_timing(expected)
    assert real.score([]) == []
    with pytest.raises(TypeError):
        real.score(["not a dict"])


def test_the_dicts_wire_answers_as_the_lines_wire(real):
    # wire="dicts" (kept to measure the two forms in one run) crosses Ray as dicts; the answers are the same.
    requests = _mixed()
    lines = real.score(requests)
    dicts_pool = ArbiterPool.connect("real", chunk_size=16, wire="dicts")
    assert _without_timing(dicts_pool.score(requests)) == _without_timing(lines)
    with pytest.raises(ValueError):
        ArbiterPool.connect("real", wire="json")


def test_admission_limit_and_in_flight_bound_hold_and_everything_is_answered(cluster, real):
    requests = _math(120)
    tight = ArbiterPool.connect("real", chunk_size=4, max_in_flight=1, max_queued=8)
    loose = ArbiterPool.connect("real", chunk_size=4)  # negative control: the defaults (4 chunks, 65,536 requests)
    for pool in (tight, loose):
        answers = pool.score(requests)
        assert [answer["id"] for answer in answers] == [request["id"] for request in requests]
        assert [answer["passed"] for answer in answers] == [bool(i % 3) for i in range(120)]
    stats, control = tight.stats(), loose.stats()
    assert stats["pool"]["chunks"] == 30 and stats["pool"]["peak_admitted"] <= 8
    assert all(entry["pool_peak_chunks_in_flight"] == 1 for entry in stats["replicas"])
    assert control["pool"]["peak_admitted"] > 8
    assert max(entry["pool_peak_chunks_in_flight"] for entry in control["replicas"]) > 1
    with pytest.raises(ValueError):
        ArbiterPool.connect("real", max_queued=0)


def test_concurrent_calls_from_threads_and_event_loops_each_get_their_own_answers(real):
    import asyncio

    batches = [_math(40 + 7 * k, offset=1000 * k) for k in range(6)]
    results = [None] * len(batches)

    def by_thread(k):
        results[k] = real.score(batches[k])

    def by_loop(k):
        async def both():
            return await asyncio.gather(real.ascore(batches[k]), real.ascore(batches[k + 1]))

        results[k], results[k + 1] = asyncio.run(both())

    threads = [threading.Thread(target=by_thread, args=(k,)) for k in range(4)]
    threads.append(threading.Thread(target=by_loop, args=(4,)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for batch, answers in zip(batches, results):
        assert [answer["id"] for answer in answers] == [request["id"] for request in batch]
        assert [answer["passed"] for answer in answers] == [bool(i % 3) for i in range(len(batch))]


def test_local_first_sends_this_nodes_share_over_its_socket_and_spills_the_rest(real):
    head = ray.get_runtime_context().get_node_id()
    before = {entry["node_id"]: entry for entry in real.stats()["replicas"]}
    near = ArbiterPool.connect("real", chunk_size=8, max_in_flight=1, local_first=True)
    requests = _math(400)
    answers = near.score(requests)
    assert [answer["id"] for answer in answers] == [request["id"] for request in requests]
    assert [answer["passed"] for answer in answers] == [bool(i % 3) for i in range(400)]
    stats = near.stats()
    after = {entry["node_id"]: entry for entry in stats["replicas"]}
    local = stats["local"]
    assert local["node_id"] == head and local["address"] == before[head]["address"] and local["pool_served"] > 0
    # This node's chunks did not pass through its replica actor (no Ray hop); the rest spilled to the other node's.
    assert after[head]["chunks"] == before[head]["chunks"]
    other = next(node for node in after if node != head)
    assert after[other]["pool_served"] == 400 - local["pool_served"] and after[other]["chunks"] > before[other]["chunks"]
    assert "local" not in real.stats()  # negative control: without local_first everything goes through Ray


@ray.remote(num_cpus=0)
def _score_locally(pool, requests):
    address = pool.local_address()  # the pool was pickled by name: it reconnects in this worker
    with pool.local_client() as client:
        return ray.get_runtime_context().get_node_id(), address, client.score(requests)


@ray.remote(num_cpus=0)
def _score_through_pool(name, requests):
    return ArbiterPool.connect(name).score(requests)


def test_node_local_workers_use_their_own_nodes_daemon_without_a_ray_hop(real):
    before = {entry["node_id"]: entry for entry in real.stats()["replicas"]}
    requests = _math(30)
    results = ray.get([_score_locally.options(scheduling_strategy=_on(node)).remote(real, requests)
                       for node in before])
    after = {entry["node_id"]: entry for entry in real.stats()["replicas"]}
    for node, (ran_on, address, answers) in zip(before, results):
        assert ran_on == node and address == before[node]["address"]
        assert [answer["passed"] for answer in answers] == [bool(i % 3) for i in range(30)]
        # The node's daemon answered them; its replica actor (the Ray path) saw none of them.
        assert after[node]["daemon"]["verdicts"] - before[node]["daemon"]["verdicts"] == 30
        assert after[node]["chunks"] == before[node]["chunks"]
    # A worker can also use the pool itself (a Ray hop from inside a task).
    answers = ray.get(_score_through_pool.remote("real", requests))
    assert [answer["passed"] for answer in answers] == [bool(i % 3) for i in range(30)]


@ray.remote(num_cpus=0)
def _adapter_addresses(spec):
    from arbiter_client._common import addresses_of
    return ray.get_runtime_context().get_node_id(), addresses_of(spec)


def test_adapters_resolve_a_pool_name_to_their_own_nodes_socket(real):
    from arbiter_client._common import addresses_of
    """`address="ray:real"` (verl's reward_kwargs, ARBITER_ADDRESS, …) names each worker's own node's daemon."""
    replicas = {entry["node_id"]: entry["address"] for entry in real.stats()["replicas"]}
    for node, address in replicas.items():
        ran_on, resolved = ray.get(_adapter_addresses.options(scheduling_strategy=_on(node)).remote("ray:real"))
        assert ran_on == node and resolved == [address]
    # Control: other addresses pass through unchanged, and a pool this node lacks is a clear error.
    assert ray.get(_adapter_addresses.remote("unix:/tmp/x.sock,tcp:h:1"))[1] == ["unix:/tmp/x.sock", "tcp:h:1"]
    with pytest.raises(ArbiterError, match="no replica of pool 'absent'"):
        addresses_of("ray:absent")


@ray.remote(num_cpus=0)
def _verl_on_this_node(name, count):
    import asyncio

    from arbiter_client import verl

    async def main():
        # As verl's reward loop calls it, with `reward_kwargs.address=ray:<pool>` merged into the keywords.
        return await asyncio.gather(*[verl.compute_score("openai/gsm8k", f"\\boxed{{{i}}}", str(i), extra_info={},
                                                         address=f"ray:{name}") for i in range(count)])

    return ray.get_runtime_context().get_node_id(), [row["score"] for row in asyncio.run(main())]


def test_verl_reward_kwargs_naming_the_pool_score_on_their_own_node(real):
    before = {entry["node_id"]: entry for entry in real.stats()["replicas"]}
    results = ray.get([_verl_on_this_node.options(scheduling_strategy=_on(node)).remote("real", 25)
                       for node in before])
    after = {entry["node_id"]: entry for entry in real.stats()["replicas"]}
    for node, (ran_on, scores) in zip(before, results):
        assert ran_on == node and scores == [1.0] * 25
        # Each worker's 25 samples went to its own node's daemon, not through the replica actor (no Ray hop).
        assert after[node]["daemon"]["verdicts"] - before[node]["daemon"]["verdicts"] == 25
        assert after[node]["chunks"] == before[node]["chunks"]


def test_replica_figures_are_read_from_the_pool(real):
    before = real.stats()
    requests = _math(96, offset=5000)
    assert len(real.score(requests)) == 96
    after = real.stats()
    assert after["pool"]["requests"] - before["pool"]["requests"] == 96
    served = {entry["node_id"]: entry["requests"] - next(e["requests"] for e in before["replicas"]
                                                          if e["node_id"] == entry["node_id"])
              for entry in after["replicas"]}
    assert sum(served.values()) == 96 and all(count > 0 for count in served.values())
    for entry in after["replicas"]:
        assert entry["requests_per_s"] > 0 and entry["pool_requests_per_s"] > 0  # throughput
        assert entry["chunks_in_flight"] == entry["requests_in_flight"] == entry["pool_chunks_in_flight"] == 0
        assert entry["restarts"] == 0 and entry["daemon_restarts"] == 0 and entry["pool_retries"] == 0
        assert entry["healthy"] is True and entry["uptime_s"] > 0
    assert after["pool"]["retries"] == 0 and after["pool"]["queued"] == after["pool"]["admitted"] == 0


def test_the_binary_comes_from_the_argument_the_environment_the_wheel_or_path(tmp_path, monkeypatch):
    import arbiter_client.ray as module

    packaged = tmp_path / "bin" / "arbiter"
    packaged.parent.mkdir()
    packaged.write_text("#!/bin/sh\n")
    monkeypatch.setattr(module, "__file__", str(tmp_path / "ray.py"))
    monkeypatch.setenv("ARBITER_BIN", "/from/the/environment")
    assert module._resolve_binary("/given/path") == "/given/path"
    assert module._resolve_binary(None) == "/from/the/environment"
    monkeypatch.delenv("ARBITER_BIN")
    assert module._resolve_binary(None) == "arbiter"  # control: a file that is not executable is not the wheel's
    packaged.chmod(0o755)
    assert module._resolve_binary(None) == str(packaged)
    packaged.unlink()
    assert module._resolve_binary(None) == "arbiter"  # then PATH


# -- faults -----------------------------------------------------------------------------------------------------------


def test_replica_actor_killed_mid_batch_is_restarted_and_nothing_is_lost(fake):
    requests = _exact(240, marker="SLOW")
    victim = fake.stats()["replicas"][0]
    handle = ray.get_actor(f"fake@{victim['node_id']}", namespace="arbiter")
    result = _scoring_in_background(fake, requests)
    _wait_for(lambda: _replica(fake, victim["node_id"])["pool_chunks_in_flight"] > 0, "a chunk on the victim")
    ray.kill(handle, no_restart=False)
    _check_exact(requests, result())
    stats = fake.stats()
    assert stats["pool"]["retries"] > 0 and stats["pool"]["crashed"] == 0
    restarted = _wait_for(lambda: _replica(fake, victim["node_id"]), "the replica back")
    assert restarted["restarts"] == victim["restarts"] + 1 and restarted["actor_pid"] != victim["actor_pid"]
    # It serves again: a batch after the restart reaches both replicas.
    _check_exact(_exact(64), fake.score(_exact(64)))


def test_daemon_sigkilled_mid_batch_is_restarted_by_its_replica(fake):
    requests = _exact(240, marker="SLOW")
    victim = fake.stats()["replicas"][1]
    retries = fake.stats()["pool"]["retries"]
    result = _scoring_in_background(fake, requests)
    _wait_for(lambda: _replica(fake, victim["node_id"])["pool_chunks_in_flight"] > 0, "a chunk on the victim")
    os.kill(victim["daemon_pid"], signal.SIGKILL)
    _check_exact(requests, result())
    after = _replica(fake, victim["node_id"])
    assert after["daemon_restarts"] == victim["daemon_restarts"] + 1 and after["daemon_pid"] != victim["daemon_pid"]
    # The replica's client re-sent the dead daemon's requests itself: the pool re-sent nothing.
    assert fake.stats()["pool"]["retries"] == retries and after["restarts"] == victim["restarts"]


def test_a_request_that_kills_the_daemon_is_answered_crashed_alone(fake):
    requests = _exact(40)
    requests[17] = {"id": "bad", "verifier": "exact", "response": "POISON", "reference": "POISON"}
    answers = fake.score(requests)
    assert answers[17]["error"]["code"] == "crashed" and answers[17]["id"] == "bad"
    assert "'bad'" in answers[17]["error"]["message"] or "bad" in answers[17]["error"]["message"]
    _check_exact(requests[:17] + requests[18:], answers[:17] + answers[18:])


def test_a_request_that_kills_replicas_is_isolated_by_the_pool(fake):
    clean = _exact(24)
    baseline = fake.stats()["pool"]
    _check_exact(clean, fake.score(clean))  # negative control: nothing crashed, nothing re-sent
    assert fake.stats()["pool"]["retries"] == baseline["retries"]
    requests = _exact(24)
    requests[9] = {"id": "killer", "verifier": "exact", "response": "KILLREPLICA", "reference": "KILLREPLICA"}
    answers = fake.score(requests)
    assert answers[9]["id"] == "killer" and answers[9]["error"]["code"] == "crashed"
    assert "request 9 of 24 (id 'killer')" in answers[9]["error"]["message"]
    assert "killed a replica" in answers[9]["error"]["message"]
    _check_exact(requests[:9] + requests[10:], answers[:9] + answers[10:])
    stats = fake.stats()
    assert stats["pool"]["crashed"] == baseline["crashed"] + 1 and stats["pool"]["splits"] > baseline["splits"]
    # Ray restarted the replicas it killed; both serve again.
    _wait_for(lambda: all(entry.get("healthy") and "error" not in entry for entry in fake.stats()["replicas"]),
              "both replicas healthy")
    _check_exact(clean, fake.score(clean))


def test_a_node_that_dies_mid_batch_loses_nothing(cluster, fake):
    node = cluster.add_node(**cluster.small, resources={"arbiter_extra": 1})
    cluster.wait_for_nodes()
    binary = fake.stats()["replicas"][0]["command"][0]
    # A custom resource selects the nodes: only the new one has `arbiter_extra`.
    labelled = ArbiterPool.deploy(name="labelled", binary=binary, nodes="resource:arbiter_extra")
    [new_id] = [entry["node_id"] for entry in labelled.stats()["replicas"]]
    assert new_id not in {entry["node_id"] for entry in fake.stats()["replicas"]}
    labelled.shutdown()
    # Deploying again adds a replica on the node that joined; a pool made before finds it with refresh().
    again = ArbiterPool.deploy(name="fake", binary=binary, chunk_size=8)
    assert len(again.stats()["replicas"]) == 3 and new_id in {entry["node_id"] for entry in again.stats()["replicas"]}
    assert len(fake.stats()["replicas"]) == 2 and new_id in fake.refresh() and len(fake.stats()["replicas"]) == 3
    requests = _exact(360, marker="SLOW")
    result = _scoring_in_background(again, requests)
    _wait_for(lambda: _replica(again, new_id)["pool_chunks_in_flight"] > 0, "a chunk on the new node")
    cluster.remove_node(node)
    _check_exact(requests, result())
    stats = again.stats()
    assert stats["pool"]["retries"] > 0 and stats["pool"]["crashed"] == 0
    _wait_for(lambda: new_id not in {entry["node_id"] for entry in again.stats()["replicas"]}, "the dead replica gone")


def test_a_call_past_its_timeout_fails_alone_and_the_pool_goes_on(fake):
    hurried = ArbiterPool.connect("fake", chunk_size=8, timeout=0.3)
    with pytest.raises(ArbiterError, match="within 0.3 s"):
        hurried.score(_exact(200, marker="SLOW"))  # ~2 s of work
    stats = hurried.stats()  # the call gave back its admission and its replicas' slots
    assert stats["pool"]["admitted"] == 0 and stats["pool"]["queued"] == 0
    assert all(entry["pool_outstanding"] == 0 and entry["pool_chunks_in_flight"] == 0 for entry in stats["replicas"])
    _check_exact(_exact(16), fake.score(_exact(16)))  # the replicas finish the abandoned chunks and serve on


def test_no_replica_left_is_unavailable_after_the_timeout(cluster):
    head = ray.get_runtime_context().get_node_id()
    doomed = ArbiterPool.deploy(name="doomed", verifiers=VERIFIERS, nodes=[head], unavailable_timeout=3)
    assert doomed.score(_math(2))[1]["passed"] is True
    ray.kill(ray.get_actor(f"doomed@{head}", namespace="arbiter"), no_restart=True)
    with pytest.raises(ArbiterError, match="no replica of pool 'doomed' could be reached for 3 s"):
        doomed.score(_math(5))
    doomed.shutdown()


def _exported(ports, metric, pool):
    """The sum over the nodes' Prometheus endpoints (Ray's metrics agents) of `metric` for `pool`, or None when no
    agent has it yet."""
    import re
    import urllib.request
    pattern = re.compile(r"^ray_%s(?:_total)?\{([^}]*)\}\s+(\S+)$" % metric, re.M)
    total, seen = 0.0, False
    for port in ports:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
                text = response.read().decode("utf-8", "replace")
        except OSError:
            continue
        for labels, value in pattern.findall(text):
            if f'pool="{pool}"' in labels:
                total += float(value)
                seen = True
    return total if seen else None


def test_replica_figures_are_exported_as_ray_metrics(real):
    # The export goes through each node's metrics agent, which comes with ray[default] (requirements-test-ray.txt).
    try:
        import aiohttp  # noqa: F401
        import prometheus_client  # noqa: F401
    except ImportError:
        reason = "Ray's metrics agent needs ray[default] (pip install -r clients/python/requirements-test-ray.txt)"
        if os.environ.get("ARBITER_REQUIRE_ALL_TESTS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    ports = [node["MetricsExportPort"] for node in ray.nodes() if node["Alive"] and node.get("MetricsExportPort")]
    assert ports
    assert len(real.score(_math(64))) == 64
    # Each node's agent exports on its own schedule: wait until both replicas' shares are in.
    _wait_for(lambda: (_exported(ports, "arbiter_replica_requests", "real") or 0) >= 64, "the exported count")
    before = _exported(ports, "arbiter_replica_requests", "real")
    real.score(_math(48, offset=64))
    # The figure follows the traffic (negative control: a stale or constant export would not grow).
    _wait_for(lambda: (_exported(ports, "arbiter_replica_requests", "real") or 0) >= before + 48,
              "the exported request count to grow by 48")
    assert _exported(ports, "arbiter_replica_requests", "no-such-pool") is None
    assert _wait_for(lambda: _exported(ports, "arbiter_daemon_requests", "real"), "the daemon's own count") >= 112

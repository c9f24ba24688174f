# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""Arbiter on a Ray cluster: one shared daemon per node, and a pool over them (`pip install arbiter-client[ray]`).

    from arbiter_client.ray import ArbiterPool
    pool = ArbiterPool.deploy(name="arbiter")          # once, from the driver: a replica on every node
    pool = ArbiterPool.connect("arbiter")              # from any worker
    answers = pool.score(requests)                      # or: await pool.ascore(requests)
    with Client(address=pool.local_address()) as c:     # node-local: this node's daemon, no Ray hop

Each replica is a named, detached Ray actor pinned to its node. It owns one `arbiter serve --listen unix:…` child
sized to the node's CPUs, restarts that child when it dies, and scores the chunks the pool sends it through a
`Client` on the socket (which re-sends a dead daemon's requests and isolates a request that kills it). The pool
(`ArbiterPool`, in the caller's process) splits a batch into chunks, sends each to the replica with the least
outstanding work (a bounded number of chunks per replica, a pool-wide admission limit), re-sends the chunks of a
replica that died to another one, splits a chunk that keeps killing replicas down to the request that does, and
puts the answers back in input order. docs/ray.md has the recipe and what happens on each failure.

Only the client's public API (`Client`, `ArbiterError`) is used here.
"""

import asyncio
import ctypes
import hashlib
import json
import os
import signal
import subprocess
import tempfile
import threading
import time

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from . import ArbiterError, Client
from ._common import decode_all, encode_body

NAMESPACE = "arbiter"
_SEPARATOR = "@"
_DAEMON_CLIENT_RESTARTS = 8  # the in-actor client waits ~9 s in all for the daemon to come back
_PR_SET_PDEATHSIG = 1

__all__ = ["ArbiterPool", "NAMESPACE", "local_address", "resolve_address"]


# -- where things live on a node ------------------------------------------------------------------------------------


def _runtime_dir(directory=None):
    """The directory of this node's replica sockets and state files: `socket_dir`, else $ARBITER_RAY_DIR, else a
    per-user directory under the temporary directory."""
    directory = directory or os.environ.get("ARBITER_RAY_DIR") or os.path.join(tempfile.gettempdir(), f"arbiter-ray-{os.getuid()}")
    os.makedirs(directory, mode=0o700, exist_ok=True)
    return directory


def _stem(name, node_id):
    """A short file stem for (pool, node): Unix socket paths are limited to ~107 bytes."""
    digest = hashlib.sha256(f"{name}{_SEPARATOR}{node_id}".encode()).hexdigest()[:12]
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)[:24]
    return f"{safe}-{digest}"


def _host_link(name, directory=None):
    """`<dir>/<name>.sock`: a link to the replica of this host, the same path on every machine of a cluster."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)[:40]
    return os.path.join(_runtime_dir(directory), f"{safe}.sock")


def _die_with_parent():
    """Runs in the daemon child before exec: it gets SIGKILL when the thread that started it (the replica's monitor
    thread) goes, so a replica killed by Ray or by its node does not leave an orphan daemon on the socket."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except Exception:  # not Linux: the pid file still lets the next replica stop an orphan
        pass


def _packaged_binary():
    """`arbiter_client/bin/arbiter` when a wheel ships the binary, else None."""
    candidate = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bin", "arbiter")
    return candidate if os.access(candidate, os.X_OK) else None


def _resolve_binary(binary):
    if binary:
        return binary
    return os.environ.get("ARBITER_BIN") or _packaged_binary() or "arbiter"


# -- the replica: one per node ----------------------------------------------------------------------------------------


class _Replica:
    """A node's Arbiter: one `arbiter serve --listen unix:…` child, kept alive, reached by the pool over Ray and by
    the node's own workers over the socket."""

    def __init__(self, name, node_id, binary, verifiers, daemon_args, jobs, socket_dir=None):
        self._name = name
        self._node_id = node_id
        stem = _stem(name, node_id)
        directory = self._directory = _runtime_dir(socket_dir)
        self._socket = os.path.join(directory, f"{stem}.sock")
        self._pid_file = os.path.join(directory, f"{stem}.pid")
        self._state_file = os.path.join(directory, f"{stem}.json")
        self._binary = _resolve_binary(binary)
        args = list(daemon_args or ())
        if verifiers:
            args = ["--verifiers", str(verifiers), *args]
        if "--jobs" not in args and not any(str(arg).startswith("--jobs=") for arg in args):
            args = ["--jobs", str(jobs), *args]
        self._command = [self._binary, "serve", "--listen", f"unix:{self._socket}", *map(str, args)]
        self._lock = threading.Lock()
        self._stopping = False
        self._process = None
        self._daemon_starts = 0
        self._chunks = 0
        self._requests = 0
        self._requests_in_flight = 0
        self._chunks_in_flight = 0
        self._busy_s = 0.0
        self._started_at = time.time()
        self._starts = self._count_start()
        self._stop_orphan()
        self._metrics = _ReplicaMetrics(name, node_id)
        self._metrics.starts.inc(1.0)
        ready, failure = threading.Event(), []
        threading.Thread(target=self._monitor, args=(ready, failure), name="arbiter-replica-monitor",
                         daemon=True).start()
        ready.wait()
        if failure:
            raise ArbiterError("unavailable", f"replica '{name}' on node {node_id[:12]}: {failure[0]}")
        self._client = Client(address=f"unix:{self._socket}", max_restarts=_DAEMON_CLIENT_RESTARTS)
        self._link_host_socket()
        threading.Thread(target=self._export_loop, name="arbiter-replica-metrics", daemon=True).start()

    # The daemon child ------------------------------------------------------------------------------------------

    def _count_start(self):
        """How many times this (pool, node) replica has started since it was deployed (Ray restarts included)."""
        starts = 0
        try:
            with open(self._state_file) as state:
                starts = int(json.load(state).get("starts", 0))
        except (OSError, ValueError):
            pass
        starts += 1
        with open(self._state_file, "w") as state:
            json.dump({"starts": starts}, state)
        return starts

    def _stop_orphan(self):
        """A daemon left by an earlier incarnation of this replica (when PDEATHSIG is not available) is stopped."""
        try:
            with open(self._pid_file) as pid_file:
                pid = int(pid_file.read().strip())
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                if f"unix:{self._socket}".encode() in cmdline.read():
                    os.kill(pid, signal.SIGKILL)
        except (OSError, ValueError):
            pass

    def _start_daemon(self):
        process = subprocess.Popen(self._command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   preexec_fn=_die_with_parent)
        with open(self._pid_file, "w") as pid_file:
            pid_file.write(str(process.pid))
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise ArbiterError("unavailable", f"`{' '.join(self._command)}` exited with {process.returncode}")
            if os.path.exists(self._socket) and _answers_ping(self._socket):
                return process
            if time.monotonic() > deadline:
                process.kill()
                raise ArbiterError("unavailable", f"`{' '.join(self._command)}` did not listen within 60 s")
            time.sleep(0.02)

    def _monitor(self, ready, failure):
        """Starts the daemon, then starts it again whenever it exits, until `stop`. The process is started from this
        thread, which lives as long as the replica (PDEATHSIG follows the starting thread)."""
        try:
            self._process = self._start_daemon()
            self._daemon_starts = 1
        except (ArbiterError, OSError) as error:
            failure.append(str(error))
            ready.set()
            return
        ready.set()
        quick_deaths = 0
        while True:
            started = time.monotonic()
            self._process.wait()
            if self._stopping:
                return
            quick_deaths = quick_deaths + 1 if time.monotonic() - started < 1.0 else 0
            time.sleep(min(0.05 * (2 ** quick_deaths), 5.0) if quick_deaths else 0.0)
            try:
                process = self._start_daemon()
            except (ArbiterError, OSError):
                continue  # counted as a quick death; the in-actor client reports `unavailable` meanwhile
            with self._lock:
                self._process = process
                self._daemon_starts += 1
            self._metrics.daemon_restarts.inc(1.0)

    def _link_host_socket(self):
        """Points `<dir>/<name>.sock` at this replica's socket unless it already leads to a live one (on a real
        cluster each machine has one replica, so the link is the same path on every node)."""
        link = _host_link(self._name, self._directory)
        if os.path.exists(link) and _answers_ping(link):
            return
        temporary = f"{link}.{os.getpid()}"
        try:
            if os.path.lexists(temporary):
                os.unlink(temporary)
            os.symlink(self._socket, temporary)
            os.replace(temporary, link)
        except OSError:
            pass

    # What the pool calls ---------------------------------------------------------------------------------------

    def score(self, requests):
        return self._counted(requests, self._client.score)

    def score_encoded(self, bodies, ids=None):
        """Answer lines for requests the pool encoded (`_common.encode_body`): only bytes cross Ray, and the replica
        neither encodes nor decodes. `ids` (the callers' ids) name a request that kills the daemon."""
        return self._counted(bodies, lambda encoded: self._client.score_encoded(encoded, ids))

    def _counted(self, requests, score):
        begun = time.monotonic()
        with self._lock:
            self._chunks_in_flight += 1
            self._requests_in_flight += len(requests)
        try:
            return score(requests)
        finally:
            elapsed = time.monotonic() - begun
            with self._lock:
                self._chunks_in_flight -= 1
                self._requests_in_flight -= len(requests)
                self._chunks += 1
                self._requests += len(requests)
                self._busy_s += elapsed
            self._metrics.requests.inc(float(len(requests)))
            self._metrics.chunks.inc(1.0)
            self._metrics.chunk_ms.observe(elapsed * 1000.0)

    def ping(self):
        """The replica's node and address, once its daemon answers a ping (the pool's health probe)."""
        if not _answers_ping(self._socket):
            raise ArbiterError("unavailable", f"the daemon of replica '{self._name}' on node {self._node_id[:12]} "
                                              "does not answer")
        return {"node_id": self._node_id, "address": f"unix:{self._socket}"}

    def address(self):
        return f"unix:{self._socket}"

    def daemon_pid(self):
        with self._lock:
            return self._process.pid if self._process else None

    def stats(self):
        try:
            daemon = self._client.score([{"op": "stats"}])[0].get("stats")
        except ArbiterError as error:
            daemon = {"error": str(error)}
        with self._lock:
            busy = self._busy_s
            return {
                "node_id": self._node_id,
                "address": f"unix:{self._socket}",
                "actor_pid": os.getpid(),
                "daemon_pid": self._process.pid if self._process else None,
                "starts": self._starts,
                "restarts": self._starts - 1,
                "daemon_restarts": max(self._daemon_starts - 1, 0),
                "chunks": self._chunks,
                "requests": self._requests,
                "chunks_in_flight": self._chunks_in_flight,
                "requests_in_flight": self._requests_in_flight,
                "busy_s": round(busy, 6),
                "requests_per_s": round(self._requests / busy, 1) if busy > 0 else 0.0,
                "uptime_s": round(time.time() - self._started_at, 3),
                "command": self._command,
                "daemon": daemon,
            }

    def stop(self, forget=False):
        """Stops the daemon (SIGTERM: it finishes or cancels its queue), removes its socket, and with `forget`
        the replica's start count (the pool is being shut down)."""
        self._stopping = True
        with self._lock:
            process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        link = _host_link(self._name, self._directory)
        try:
            if os.path.islink(link) and os.readlink(link) == self._socket:
                os.unlink(link)
        except OSError:
            pass
        for path in (self._socket, self._pid_file) + ((self._state_file,) if forget else ()):
            try:
                os.unlink(path)
            except OSError:
                pass
        return True

    def _export_loop(self):
        """Every few seconds, the daemon's own figures (which include the node-local traffic that never passes
        through this actor) go to Ray's metrics."""
        interval = float(os.environ.get("ARBITER_RAY_METRICS_INTERVAL", "5"))
        while not self._stopping:
            time.sleep(interval)
            try:
                daemon = self._client.score([{"op": "stats"}])[0].get("stats") or {}
            except Exception:
                continue
            self._metrics.daemon_requests.set(float(daemon.get("requests", 0)))
            self._metrics.daemon_in_flight.set(float(daemon.get("in_flight", 0)))
            with self._lock:
                self._metrics.in_flight.set(float(self._requests_in_flight))


def _answers_ping(path):
    import socket

    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(5)
            connection.connect(path)
            connection.sendall(b'{"id":0,"op":"ping"}\n')
            data = b""
            while not data.endswith(b"\n"):
                chunk = connection.recv(4096)
                if not chunk:
                    return False
                data += chunk
            return b'"ok":true' in data.replace(b" ", b"")
    except OSError:
        return False


class _ReplicaMetrics:
    """Ray metrics of one replica, tagged with the pool and the node."""

    def __init__(self, name, node_id):
        from ray.util import metrics

        tags = {"pool": name, "node": node_id[:12]}
        keys = ("pool", "node")

        def make(kind, metric, description, **extra):
            made = kind(metric, description=description, tag_keys=keys, **extra)
            made.set_default_tags(tags)
            return made

        self.requests = make(metrics.Counter, "arbiter_replica_requests", "requests scored through the pool")
        self.chunks = make(metrics.Counter, "arbiter_replica_chunks", "chunks scored through the pool")
        self.starts = make(metrics.Counter, "arbiter_replica_starts", "starts of the replica actor (Ray restarts)")
        self.daemon_restarts = make(metrics.Counter, "arbiter_replica_daemon_restarts",
                                    "restarts of the replica's daemon child")
        self.chunk_ms = make(metrics.Histogram, "arbiter_replica_chunk_ms", "time to score one chunk (ms)",
                             boundaries=[1, 5, 10, 50, 100, 500, 1000, 5000, 30000])
        self.in_flight = make(metrics.Gauge, "arbiter_replica_in_flight", "pool requests in the replica now")
        self.daemon_in_flight = make(metrics.Gauge, "arbiter_daemon_in_flight",
                                     "lines read and not yet answered by the node's daemon (all clients)")
        self.daemon_requests = make(metrics.Gauge, "arbiter_daemon_requests",
                                    "requests answered by the node's daemon since it started (all clients)")


_ReplicaActor = ray.remote(_Replica)


# -- the pool ---------------------------------------------------------------------------------------------------------


class _Member:
    """The pool's view of one replica."""

    __slots__ = ("key", "node_id", "handle", "healthy", "dead", "epoch", "chunks_in_flight", "outstanding",
                 "isolating", "served", "chunks", "busy_s", "retries", "deaths", "probing", "address", "peak_chunks",
                 "client")

    def __init__(self, key, node_id, handle):
        self.key = key
        self.node_id = node_id
        self.handle = handle
        self.healthy = True
        self.dead = False
        self.epoch = 0
        self.chunks_in_flight = 0
        self.outstanding = 0
        self.isolating = False
        self.served = 0
        self.chunks = 0
        self.busy_s = 0.0
        self.retries = 0
        self.deaths = 0
        self.probing = False
        self.address = None
        self.peak_chunks = 0
        self.client = None  # the node-local member's AsyncClient on its socket (local_first)


class _Chunk:
    __slots__ = ("indices", "deaths", "solo_deaths", "last", "failures", "bodies")

    def __init__(self, indices, deaths=0):
        self.indices = indices
        self.bodies = None  # the requests encoded for a replica, once
        self.failures = 0  # replicas that failed it without dying (their daemon could not be brought up)
        self.deaths = deaths  # deaths of a healthy replica while this chunk ran on it
        self.solo_deaths = 0  # of those, while it was alone on the replica (for a single request)
        self.last = None

    @property
    def suspect(self):
        return self.deaths >= 2


_MAX_FAILURES = 8


class ArbiterPool:
    """The replicas of one deployment, reached from this process.

    `score` / `ascore` answer a batch in input order, one verdict or error object per request exactly as the daemon
    answers it. Work is cut into chunks of at most `chunk_size` requests (at least one per replica), each sent to the
    replica with the least outstanding requests, at most `max_in_flight` chunks per replica; at most `max_queued`
    requests are admitted at once across the calls of this process (the others wait). A replica that dies has its
    unfinished chunks sent to another; a chunk that kills replicas twice is split, down to the one request that kills
    a replica twice while alone on it, which is answered `{"error": {"code": "crashed", …}}`. When no replica can be
    reached for `unavailable_timeout` seconds the call raises `ArbiterError("unavailable")`.

    `wire="dicts"` sends chunks across Ray as request and answer dicts (pickled both ways, the replica encoding and
    decoding) instead of the lines encoded here once: the earlier form, kept so that the two can be measured
    against each other in one run (Benchmarks/ray_pool.py).
    """

    def __init__(self, name, members, chunk_size=256, max_in_flight=4, max_queued=65536, unavailable_timeout=60.0,
                 timeout=None, local_first=False, wire="lines"):
        if chunk_size < 1 or max_in_flight < 1 or max_queued < 1:
            raise ValueError("chunk_size, max_in_flight and max_queued must be at least 1")
        if wire not in ("lines", "dicts"):
            raise ValueError("wire must be 'lines' or 'dicts'")
        self.name = name
        self._options = dict(chunk_size=chunk_size, max_in_flight=max_in_flight, max_queued=max_queued,
                             unavailable_timeout=unavailable_timeout, timeout=timeout, local_first=local_first,
                             wire=wire)
        self._wire = wire
        self._chunk_size = chunk_size
        self._max_in_flight = max_in_flight
        self._max_queued = max_queued
        self._unavailable_timeout = unavailable_timeout
        self._timeout = timeout
        self._members = {member.key: member for member in members}
        self._loop = None
        self._loop_lock = threading.Lock()
        self._changed = None
        self._admitted = 0
        self._queued = 0
        self._last_refresh = 0.0
        self._counters = dict(requests=0, calls=0, chunks=0, retries=0, resent_chunks=0, splits=0, crashed=0,
                              unavailable=0, peak_admitted=0)
        self._local = None
        self._metrics = None
        self._local_first = local_first
        self._local_member = None
        self._local_checked = False

    # Deployment ------------------------------------------------------------------------------------------------

    @classmethod
    def deploy(cls, name="arbiter", binary=None, verifiers=None, nodes=None, daemon_args=(), max_restarts=-1,
               socket_dir=None, **options):
        """Starts a replica on each selected node (every alive node by default) and returns the pool. Idempotent: a
        node that already has a replica of this name keeps it (to change its binary or arguments, `shutdown`
        first); nodes that joined since get one.

        `binary`: the `arbiter` executable on the nodes (else their $ARBITER_BIN, a binary shipped in the wheel, or
        `arbiter` on PATH). `verifiers`: a verifiers directory on the nodes. `nodes`: node ids, IP addresses or
        host names, or `"resource:NAME"` for the nodes that have the custom resource NAME. `daemon_args`: extra
        `arbiter serve` flags (`--jobs N` replaces the default of the node's CPU count). `max_restarts`: Ray
        restarts of a replica (-1: unlimited). `socket_dir`: where each node keeps its socket (else $ARBITER_RAY_DIR
        on the node, else /tmp/arbiter-ray-<uid>); `<socket_dir>/<name>.sock` leads to the node's daemon on every
        machine, for trainers configured with a fixed address. `options` go to the pool (`chunk_size`, `max_in_flight`, …).
        """
        _ensure_ray()
        if _SEPARATOR in name:
            raise ValueError(f"a pool name cannot contain '{_SEPARATOR}'")
        binary = binary or os.environ.get("ARBITER_BIN")
        chosen = _select_nodes(nodes)
        if not chosen:
            raise ArbiterError("unavailable", f"no alive Ray node matches nodes={nodes!r}")
        handles = []
        for node in chosen:
            node_id = node["NodeID"]
            jobs = max(int(node.get("Resources", {}).get("CPU", 0) or 0), 1)
            handle = _ReplicaActor.options(
                name=f"{name}{_SEPARATOR}{node_id}", namespace=NAMESPACE, lifetime="detached", get_if_exists=True,
                max_restarts=max_restarts, max_task_retries=0, max_concurrency=64, num_cpus=0,
                scheduling_strategy=NodeAffinitySchedulingStrategy(node_id=node_id, soft=False),
            ).remote(name, node_id, binary, verifiers, tuple(daemon_args), jobs, socket_dir)
            handles.append((node_id, handle))
        failures = []
        for node_id, handle in handles:
            try:
                ray.get(handle.ping.remote())
            except Exception as error:  # the replica could not start on that node: say which and why
                failures.append(f"node {node_id[:12]}: {_short(error)}")
                try:
                    ray.kill(handle, no_restart=True)
                except Exception:
                    pass
        if failures:
            raise ArbiterError("unavailable", f"pool '{name}': replicas failed to start: " + "; ".join(failures))
        return cls.connect(name, **options)

    @classmethod
    def connect(cls, name="arbiter", **options):
        """The pool of the replicas deployed under `name`, from any process of the cluster."""
        _ensure_ray()
        pool = cls(name, _find_members(name), **options)
        if not pool._members:
            raise ArbiterError("unavailable", f"no replica of pool '{name}' is running (ArbiterPool.deploy first)")
        return pool

    def __reduce__(self):
        return (_reconnect, (self.name, self._options))

    def refresh(self):
        """Looks up the replicas of this pool again (replicas deployed since are added, gone ones dropped)."""
        found = {member.key: member for member in _find_members(self.name)}
        self._call_in_loop(self._merge, found)
        return sorted(member.node_id for member in found.values())

    def _merge(self, found):
        for key, member in found.items():
            existing = self._members.get(key)
            if existing is None or existing.dead:
                self._members[key] = member
        for key in list(self._members):
            if key not in found and self._members[key].dead:
                del self._members[key]
        self._notify()

    # The node-local path -----------------------------------------------------------------------------------------

    def local_address(self):
        """This node's daemon socket (`unix:…`), or None when this node has no replica of the pool."""
        if self._local is not None:
            return self._local or None
        node_id = ray.get_runtime_context().get_node_id()
        key = f"{self.name}{_SEPARATOR}{node_id}"
        member = self._members.get(key)
        if member is None:
            found = {m.key: m for m in _find_members(self.name)}
            member = found.get(key)
        address = None
        if member is not None:
            try:
                address = ray.get(member.handle.address.remote(), timeout=60)
            except Exception:
                address = None
        self._local = address or ""
        return address

    def local_client(self, asynchronous=False, **client_options):
        """A `Client` (or `AsyncClient`) on this node's daemon, or None when this node has none."""
        address = self.local_address()
        if address is None:
            return None
        client_options.setdefault("max_restarts", _DAEMON_CLIENT_RESTARTS)
        if asynchronous:
            from . import AsyncClient

            return AsyncClient(address=address, **client_options)
        return Client(address=address, **client_options)

    # Scoring ---------------------------------------------------------------------------------------------------

    def score(self, requests):
        """One answer dict per request dict, in input order (see `Client.score`)."""
        requests = _checked(requests)
        if not requests:
            return []
        return asyncio.run_coroutine_threadsafe(self._score(requests), self._ensure_loop()).result()

    async def ascore(self, requests):
        """`score`, awaited; any event loop, any thread."""
        requests = _checked(requests)
        if not requests:
            return []
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._score(requests), self._ensure_loop()))

    def _ensure_loop(self):
        with self._loop_lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                started = threading.Event()

                def run():
                    asyncio.set_event_loop(loop)
                    self._changed = asyncio.Condition()
                    started.set()
                    loop.run_forever()

                threading.Thread(target=run, name=f"arbiter-pool-{self.name}", daemon=True).start()
                started.wait()
                self._loop = loop
            return self._loop

    def _call_in_loop(self, function, *args):
        loop = self._ensure_loop()

        async def call():
            return function(*args)

        return asyncio.run_coroutine_threadsafe(call(), loop).result()

    def _notify(self):
        async def wake():
            async with self._changed:
                self._changed.notify_all()

        asyncio.ensure_future(wake())

    async def _score(self, requests):
        if self._local_first and not self._local_checked:
            self._local_checked = True
            address = await asyncio.get_running_loop().run_in_executor(None, self.local_address)
            if address is not None:
                from . import AsyncClient

                member = _Member("local", ray.get_runtime_context().get_node_id(), None)
                member.address = address
                member.client = AsyncClient(address=address, max_restarts=_DAEMON_CLIENT_RESTARTS)
                self._local_member = member
        answers = [None] * len(requests)
        self._counters["calls"] += 1
        self._counters["requests"] += len(requests)
        members = max(sum(1 for member in self._members.values() if not member.dead), 1)
        size = max(1, min(self._chunk_size, -(-len(requests) // members)))
        chunks = [_Chunk(list(range(start, min(start + size, len(requests)))))
                  for start in range(0, len(requests), size)]
        work = [self._admit_and_drive(chunk, requests, answers) for chunk in chunks]
        if self._timeout is not None:
            try:
                await asyncio.wait_for(asyncio.gather(*work), self._timeout)
            except asyncio.TimeoutError:
                raise ArbiterError("unavailable", f"no answer from pool '{self.name}' within {self._timeout:g} s") \
                    from None
        else:
            await asyncio.gather(*work)
        return answers

    async def _admit_and_drive(self, chunk, requests, answers):
        count = len(chunk.indices)
        self._queued += count
        async with self._changed:
            await self._changed.wait_for(lambda: self._admitted == 0 or self._admitted + count <= self._max_queued)
            self._admitted += count
            self._counters["peak_admitted"] = max(self._counters["peak_admitted"], self._admitted)
        try:
            await self._drive(chunk, requests, answers)
        finally:
            self._admitted -= count
            self._queued -= count
            self._notify()

    async def _drive(self, chunk, requests, answers):
        """Scores one chunk, re-sending it on replica deaths and splitting it when it keeps killing them."""
        while True:
            member, alone = await self._acquire(chunk)
            epoch, healthy_at_send = member.epoch, member.healthy
            payload = [requests[index] for index in chunk.indices]
            begun = time.monotonic()
            try:
                if member.client is not None:  # this node's daemon, over its socket: no Ray hop
                    result = await member.client.score(payload)
                elif self._wire == "dicts":  # dicts pickled both ways (for measurement; see the class)
                    result = await member.handle.score.remote(payload)
                else:
                    # Encoded here once (kept for a re-send), answered as lines, decoded here: bytes cross Ray.
                    if chunk.bodies is None:
                        chunk.bodies = [encode_body(request) for request in payload]
                    ids = [request.get("id") for request in payload]
                    lines = await member.handle.score_encoded.remote(chunk.bodies, ids if any(ids) else None)
                    result = decode_all(lines, payload)
            except ArbiterError as error:  # this node's daemon could not be brought up (its client gave up)
                failure = error
            except ray.exceptions.RayTaskError as error:  # raised by the replica: its daemon could not be brought up
                failure = error
            except ray.exceptions.RayError as error:  # the replica died (or its node did) with the chunk
                failure = error
            else:
                failure = None
            finally:
                self._release(member, chunk)
            if failure is None:
                member.served += len(payload)
                member.chunks += 1
                member.busy_s += time.monotonic() - begun
                member.healthy = True
                self._counters["chunks"] += 1
                for index, answer in zip(chunk.indices, result):
                    answers[index] = answer
                return
            killed = isinstance(failure, ray.exceptions.RayError) and not isinstance(failure, ray.exceptions.RayTaskError)
            if isinstance(failure, ray.exceptions.ActorUnschedulableError):
                member.dead = True  # pinned to a node that is gone: Ray cannot bring it back
            if member.epoch == epoch:
                member.epoch += 1
                member.healthy = False
                member.deaths += killed
                self._start_probe(member)
            self._counters["retries"] += len(payload)
            self._counters["resent_chunks"] += 1
            member.retries += len(payload)
            self._metric("retries", len(payload))
            chunk.last = member.key
            if not killed:
                chunk.failures += 1
                if chunk.failures >= _MAX_FAILURES:
                    raise ArbiterError("unavailable", f"pool '{self.name}': {chunk.failures} replicas failed this "
                                                      f"work; the last said: {_short(failure)}")
            if not (killed and healthy_at_send):
                continue  # the replica was already failing, or failed on its own: not the chunk's doing
            chunk.deaths += 1
            if len(chunk.indices) == 1:
                chunk.solo_deaths += alone
                if chunk.solo_deaths >= 2:
                    index = chunk.indices[0]
                    answers[index] = _crashed(index, len(requests), requests[index], self.name)
                    self._counters["crashed"] += 1
                    return
                continue
            if chunk.deaths >= 2:
                middle = len(chunk.indices) // 2
                self._counters["splits"] += 1
                self._metric("splits", 1)
                halves = [_Chunk(chunk.indices[:middle], chunk.deaths), _Chunk(chunk.indices[middle:], chunk.deaths)]
                for half in halves:
                    half.last = chunk.last
                await asyncio.gather(*(self._drive(half, requests, answers) for half in halves))
                return

    async def _acquire(self, chunk):
        """The replica for this chunk: the least outstanding work among the healthy replicas with room (a suspect
        chunk runs alone on its replica), preferring another replica than the one it last failed on."""
        deadline = time.monotonic() + self._unavailable_timeout
        while True:
            async with self._changed:
                live = [member for member in self._members.values() if not member.dead]
                room = [member for member in live
                        if member.healthy and not member.isolating and member.chunks_in_flight < self._max_in_flight
                        and (not chunk.suspect or member.chunks_in_flight == 0)]
                local = self._local_member
                if local is not None and local.healthy:
                    # Node-local first: this node's socket while it has room, then the other nodes' replicas (this
                    # node's own replica actor would only reach the same daemon through a Ray hop).
                    room = [member for member in room if member.node_id != local.node_id]
                    if local.chunks_in_flight < self._max_in_flight and chunk.last != local.key:
                        room = [local]
                if room:
                    others = [member for member in room if member.key != chunk.last]
                    member = min(others or room, key=lambda member: (member.outstanding, member.chunks_in_flight))
                    alone = member.chunks_in_flight == 0
                    member.chunks_in_flight += 1
                    member.peak_chunks = max(member.peak_chunks, member.chunks_in_flight)
                    member.outstanding += len(chunk.indices)
                    member.isolating = chunk.suspect
                    return member, alone
                stranded = not any(member.healthy for member in live) and not (local is not None and local.healthy)
                if stranded and time.monotonic() > deadline:
                    self._counters["unavailable"] += 1
                    raise ArbiterError("unavailable", f"no replica of pool '{self.name}' could be reached for "
                                                      f"{self._unavailable_timeout:g} s")
                refresh = stranded and time.monotonic() - self._last_refresh > 2.0
                if not refresh:
                    try:
                        await asyncio.wait_for(self._changed.wait(), 0.5)
                    except asyncio.TimeoutError:
                        pass
                    continue
                self._last_refresh = time.monotonic()
            # No replica is healthy: look them up again (a replica deployed since, or one that came back), unlocked.
            found = await asyncio.get_running_loop().run_in_executor(None, _find_members, self.name)
            self._merge({member.key: member for member in found})
            for member in self._members.values():
                if not member.dead and not member.healthy:
                    self._start_probe(member)

    def _release(self, member, chunk):
        member.chunks_in_flight -= 1
        member.outstanding -= len(chunk.indices)
        if chunk.suspect:
            member.isolating = False
        self._notify()

    def _start_probe(self, member):
        if member.probing or member.dead:
            return
        member.probing = True

        async def probe():
            try:
                died = 0
                for attempt in range(60):
                    try:
                        if member.client is not None:
                            await asyncio.wait_for(member.client.score([{"op": "ping"}]), 30)
                        else:
                            await asyncio.wait_for(member.handle.ping.remote(), 30)
                        member.healthy = True
                        return
                    except ray.exceptions.ActorUnschedulableError:
                        member.dead = True
                        return
                    except ray.exceptions.ActorDiedError:
                        died += 1
                        if died >= 3:  # Ray will not bring it back (its node is gone, its restarts are used up)
                            member.dead = True
                            return
                    except Exception:
                        died = 0
                    await asyncio.sleep(min(0.2 * (attempt + 1), 2.0))
                member.dead = True
            finally:
                member.probing = False
                self._notify()

        asyncio.ensure_future(probe())

    def _metric(self, what, amount):
        try:
            if self._metrics is None:
                from ray.util import metrics

                tags = ("pool",)
                self._metrics = {
                    "retries": metrics.Counter("arbiter_pool_retries", description="requests re-sent to a replica",
                                               tag_keys=tags),
                    "splits": metrics.Counter("arbiter_pool_splits", description="chunks split after killing replicas",
                                              tag_keys=tags),
                }
                for metric in self._metrics.values():
                    metric.set_default_tags({"pool": self.name})
            self._metrics[what].inc(float(amount))
        except Exception:  # metrics are best effort (a driver without a metrics agent)
            pass

    # Observability and shutdown ---------------------------------------------------------------------------------

    def stats(self, timeout=30):
        """The pool's counters and, per replica, the pool's view (in flight, served, retries, deaths) merged with
        the replica's own figures (restarts, daemon restarts, throughput) and its daemon's `stats`."""
        members = list(self._members.values())
        refs = [(member, member.handle.stats.remote()) for member in members if not member.dead]
        replicas = []
        for member, ref in refs:
            try:
                entry = ray.get(ref, timeout=timeout)
            except Exception as error:
                entry = {"node_id": member.node_id, "error": _short(error)}
            entry.update(pool_chunks_in_flight=member.chunks_in_flight, pool_outstanding=member.outstanding,
                         pool_served=member.served, pool_chunks=member.chunks, pool_retries=member.retries,
                         pool_deaths=member.deaths, pool_peak_chunks_in_flight=member.peak_chunks,
                         healthy=member.healthy,
                         pool_requests_per_s=round(member.served / member.busy_s, 1) if member.busy_s else 0.0)
            replicas.append(entry)
        replicas.sort(key=lambda entry: entry["node_id"])
        totals = dict(self._counters, queued=self._queued, admitted=self._admitted,
                      replicas=len(replicas), healthy=sum(1 for member in members if member.healthy and not member.dead))
        answer = {"name": self.name, "pool": totals, "replicas": replicas}
        local = self._local_member
        if local is not None:  # local_first: the chunks this process sent to its node's socket directly
            answer["local"] = dict(node_id=local.node_id, address=local.address, healthy=local.healthy,
                                   pool_chunks_in_flight=local.chunks_in_flight, pool_outstanding=local.outstanding,
                                   pool_served=local.served, pool_chunks=local.chunks, pool_retries=local.retries,
                                   pool_peak_chunks_in_flight=local.peak_chunks)
        return answer

    def shutdown(self):
        """Stops every replica of this pool on the cluster (their daemons finish or cancel their queues)."""
        members = _find_members(self.name)
        for member in members:
            try:
                ray.get(member.handle.stop.remote(True), timeout=30)
            except Exception:
                pass
            try:
                ray.kill(member.handle, no_restart=True)
            except Exception:
                pass
        self._members.clear()
        local, self._local_member = self._local_member, None
        if local is not None and self._loop is not None:
            try:
                asyncio.run_coroutine_threadsafe(local.client.close(), self._loop).result(30)
            except Exception:
                pass
        with self._loop_lock:
            if self._loop is not None:
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._loop = None


# -- helpers ----------------------------------------------------------------------------------------------------------


def _ensure_ray():
    if not ray.is_initialized():
        ray.init(address=os.environ.get("RAY_ADDRESS") or None, namespace=None, log_to_driver=False)


def _select_nodes(nodes):
    alive = [node for node in ray.nodes() if node.get("Alive")]
    if nodes is None:
        return alive
    if isinstance(nodes, str) and nodes.startswith("resource:"):
        resource = nodes[len("resource:"):]
        return [node for node in alive if node.get("Resources", {}).get(resource, 0) > 0]
    if isinstance(nodes, str):
        nodes = [nodes]
    wanted = set(nodes)
    chosen = [node for node in alive
              if wanted & {node.get("NodeID"), node.get("NodeManagerAddress"), node.get("NodeManagerHostname")}]
    matched = set()
    for node in chosen:
        matched |= wanted & {node.get("NodeID"), node.get("NodeManagerAddress"), node.get("NodeManagerHostname")}
    missing = wanted - matched
    if missing:
        raise ArbiterError("unavailable", f"no alive Ray node is {sorted(missing)!r}")
    return chosen


def _find_members(name):
    prefix = f"{name}{_SEPARATOR}"
    members = []
    for entry in ray.util.list_named_actors(all_namespaces=True):
        if entry.get("namespace") != NAMESPACE or not entry.get("name", "").startswith(prefix):
            continue
        try:
            handle = ray.get_actor(entry["name"], namespace=NAMESPACE)
        except ValueError:
            continue
        members.append(_Member(entry["name"], entry["name"][len(prefix):], handle))
    return members


def _checked(requests):
    requests = list(requests)
    for request in requests:
        if not isinstance(request, dict):
            raise TypeError(f"a request must be a dict, got {type(request).__name__}")
    return requests


def _reconnect(name, options):
    return ArbiterPool.connect(name, **options)


def _crashed(index, total, request, pool):
    label = f"request {index} of {total}"
    if isinstance(request, dict):
        if "id" in request:
            label += f" (id {request['id']!r})"
        if "verifier" in request:
            label += f", verifier '{request['verifier']}'"
        response = request.get("response")
        if isinstance(response, str):
            label += f", response {response[:60]!r}{'…' if len(response) > 60 else ''}"
    answer = {"error": {"code": "crashed", "message": f"{label} killed a replica of pool '{pool}' twice while it was "
                                                      "the only work on it; it was not scored"}}
    if isinstance(request, dict) and "id" in request:
        answer["id"] = request["id"]
    return answer


def _short(error):
    text = str(error).strip().splitlines()
    return text[-1] if text else type(error).__name__


def local_address(name="arbiter"):
    """This node's daemon socket for pool `name` (`unix:…`), or None."""
    return ArbiterPool.connect(name).local_address()


def resolve_address(address):
    """`ray:NAME` → this node's socket of pool NAME; any other address is returned as it is."""
    if isinstance(address, str) and address.startswith("ray:"):
        found = local_address(address[len("ray:"):] or "arbiter")
        if found is None:
            raise ArbiterError("unavailable", f"this node has no replica of pool '{address[4:]}'")
        return found
    return address

# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""What the serve benchmarks share: their arguments, the two commands they race, and timing one run."""
import argparse
import os
import subprocess
import sys
import time


def arguments(description, requests):
    """The options every serve benchmark takes."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=".build/release/arbiter")
    parser.add_argument("--requests", type=int, default=requests)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    return parser.parse_args()


def commands(scratch, baseline_source, args):
    """The Python baseline (written to a file in scratch) and the arbiter daemon, as argument lists."""
    script = os.path.join(scratch, "baseline.py")
    with open(script, "w") as out:
        out.write(baseline_source)
    python = [sys.executable, script]
    arbiter = [args.binary, "serve", "--jobs", str(args.jobs), "--log-level", "error"]
    return python, arbiter


def run(command, input_path, output_path=os.devnull):
    """Seconds one run of command takes, reading input_path and writing output_path."""
    with open(input_path, "rb") as source, open(output_path, "wb") as sink:
        started = time.perf_counter()
        subprocess.run(command, stdin=source, stdout=sink, check=True)
        return time.perf_counter() - started


TICK = os.sysconf("SC_CLK_TCK")


def _proc_stat(pid):
    """A process's parent and CPU ticks (utime + stime + cutime + cstime) from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as handle:
        data = handle.read()
    fields = data[data.rindex(")") + 2:].split()
    return int(fields[1]), sum(int(value) for value in fields[11:15])


def tree_pids(root=None):
    """`root` (default: this process) and all its descendants, e.g. the daemons it started."""
    root = root or os.getpid()
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parents[int(entry)] = _proc_stat(entry)[0]
            except (OSError, ValueError):
                pass
    tree, grew = {root}, True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return sorted(tree)


def tree_cpu(pids):
    """CPU seconds used so far by `pids` (with their reaped children)."""
    total = 0
    for pid in pids:
        try:
            total += _proc_stat(pid)[1]
        except (OSError, ValueError):
            pass
    return total / TICK

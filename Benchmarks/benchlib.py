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

#!/usr/bin/env python3
# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""Accuracy and sentences per second of `language-id` against py3langid on the same short sentences, one core each.

The sentences are fixtures/language/sentences.jsonl (human translations from the gettext catalogs and UI files of
Trac, ihatemoney and Airflow, 30 to 80 characters), restricted to the 24 languages the issue requires. Accuracy
is measured open-set (each tool chooses among all the languages it knows: 54 for Arbiter, 97 for py3langid) and
with the 24 required languages as candidates (`candidates` option; py3langid's `set_languages`). Speed repeats
the sentences --rounds times: py3langid in-process (`classify` per sentence), Arbiter as
`arbiter serve --jobs 1` fed JSON lines, so its figure includes starting the process, loading the model and
reading and writing the protocol; the verification time alone (sum of the `ms` Arbiter reports) is printed too.

py3langid is not a dependency of the project. Install it in a virtual environment first:
    python3 -m venv /tmp/langvenv && /tmp/langvenv/bin/pip install py3langid
    swift build -c release
    /tmp/langvenv/bin/python Benchmarks/language_vs_py3langid.py [--binary .build/release/arbiter] [--rounds 10]
"""
import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time

REQUIRED = "ar cs de el en es fa fr he hi id it ja ko nl pl pt ru sv th tr uk vi zh".split()
# py3langid's codes that the fixtures spell otherwise.
ALIASES = {"nb": "no", "nn": "no"}


def py3langid_run(texts, candidates=None):
    """Predictions and seconds of py3langid over texts."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE)
    if candidates:
        identifier.set_languages(candidates)
    identifier.classify("warm up")
    started = time.perf_counter()
    predictions = [identifier.classify(text)[0] for text in texts]
    seconds = time.perf_counter() - started
    return [ALIASES.get(code, code) for code in predictions], seconds


def arbiter_run(binary, texts, candidates=None):
    """Predictions, whole-process seconds and summed verification seconds of `arbiter serve --jobs 1`."""
    options = {"candidates": candidates} if candidates else {}
    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "requests.jsonl")
        with open(path, "w") as out:
            for index, text in enumerate(texts):
                request = {"id": index, "verifier": "language-id", "response": text, "options": options}
                out.write(json.dumps(request, ensure_ascii=False) + "\n")
        with open(path, "rb") as source:
            started = time.perf_counter()
            result = subprocess.run([binary, "serve", "--jobs", "1", "--log-level", "error"], stdin=source,
                                    stdout=subprocess.PIPE, check=True)
            seconds = time.perf_counter() - started
    answers = sorted((json.loads(line) for line in result.stdout.splitlines()), key=lambda answer: answer["id"])
    if len(answers) != len(texts):
        sys.exit(f"arbiter answered {len(answers)} of {len(texts)}")
    predictions = [answer.get("details", {}).get("language") for answer in answers]
    return predictions, seconds, sum(answer.get("ms", 0) for answer in answers) / 1000


def accuracy(predictions, rows):
    return sum(p == row["language"] for p, row in zip(predictions, rows)) / len(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=".build/release/arbiter")
    parser.add_argument("--sentences", default=os.path.join(os.path.dirname(__file__), "../fixtures/language/sentences.jsonl"))
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    rows = [row for row in map(json.loads, open(args.sentences, encoding="utf-8")) if row["language"] in REQUIRED]
    texts = [row["text"] for row in rows]
    mean = sum(map(len, texts)) / len(texts)
    print(f"sentences: {len(rows)} in {len(set(r['language'] for r in rows))} languages, mean {mean:.1f} characters")

    results = {}
    for name, candidates in (("open-set", None), ("candidates", REQUIRED)):
        py_predictions, _ = py3langid_run(texts, candidates)
        arbiter_predictions, _, _ = arbiter_run(args.binary, texts, candidates)
        results[name] = (accuracy(py_predictions, rows), accuracy(arbiter_predictions, rows))
        confusions = collections.Counter(
            (row["language"], p) for p, row in zip(arbiter_predictions, rows) if p != row["language"])
        print(f"{name:10s} accuracy  py3langid {results[name][0]:.2%}   arbiter {results[name][1]:.2%}"
              f"   arbiter's errors: {dict(confusions.most_common(8))}")

    repeated = texts * args.rounds
    _, py_seconds = py3langid_run(repeated)
    _, arbiter_seconds, arbiter_busy = arbiter_run(args.binary, repeated)
    print(f"speed ({len(repeated)} sentences, one core each)")
    print(f"  py3langid (in-process classify)         {py_seconds:7.3f} s {len(repeated) / py_seconds:10,.0f} sentences/s")
    print(f"  arbiter serve --jobs 1 (whole process)  {arbiter_seconds:7.3f} s {len(repeated) / arbiter_seconds:10,.0f} sentences/s")
    print(f"  arbiter verification time alone         {arbiter_busy:7.3f} s {len(repeated) / arbiter_busy:10,.0f} sentences/s")
    print(f"ratio {py_seconds / arbiter_seconds:.2f}x (whole process)")


if __name__ == "__main__":
    main()

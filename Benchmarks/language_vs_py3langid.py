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
`arbiter serve --jobs 1` fed JSON lines, so its figure includes starting the process, loading the models and
reading and writing the protocol; the verification time alone (sum of the `ms` Arbiter reports) is printed too.

The last part times the `language` (consistency) verifier on chains of thought of about 2.6 kB: for each required
language, its evaluation sentences joined into paragraphs with one English sentence in every five. The baseline is
the reward as a Python user would write it with py3langid: split into sentences, classify each among the 24
languages, score the share of words in sentences of the target language.

Use --sentences fixtures/language/dev-sentences.jsonl to measure on the development set (Wagtail, pretix).

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


def serve(binary, requests):
    """Answers (sorted by id) and whole-process seconds of `arbiter serve --jobs 1` fed the requests from a file."""
    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "requests.jsonl")
        with open(path, "w") as out:
            for index, request in enumerate(requests):
                out.write(json.dumps({"id": index, **request}, ensure_ascii=False) + "\n")
        with open(path, "rb") as source:
            started = time.perf_counter()
            result = subprocess.run([binary, "serve", "--jobs", "1", "--log-level", "error"], stdin=source,
                                    stdout=subprocess.PIPE, check=True)
            seconds = time.perf_counter() - started
    answers = sorted((json.loads(line) for line in result.stdout.splitlines()), key=lambda answer: answer["id"])
    if len(answers) != len(requests):
        sys.exit(f"arbiter answered {len(answers)} of {len(requests)}")
    return answers, seconds


def arbiter_run(binary, texts, candidates=None):
    """Predictions, whole-process seconds and summed verification seconds of `language-id`."""
    options = {"candidates": candidates} if candidates else {}
    answers, seconds = serve(binary, [{"verifier": "language-id", "response": text, "options": options} for text in texts])
    predictions = [answer.get("details", {}).get("language") for answer in answers]
    return predictions, seconds, sum(answer.get("ms", 0) for answer in answers) / 1000


def chains_of_thought(rows, size=2600):
    """(language, text, expected) chains of thought of about `size` characters per required language but English;
    expected is the share of whitespace-separated words in the language's own sentences (None for Chinese, Japanese
    and Thai, written without spaces)."""
    by_language = collections.defaultdict(list)
    for row in rows:
        by_language[row["language"]].append(row["text"])
    english = by_language["en"]
    chains = []
    for language in sorted(by_language):
        if language == "en":
            continue
        parts, count = [], 0
        while sum(map(len, parts)) < size:
            own = by_language[language][count % len(by_language[language])]
            parts.append(english[count % len(english)] if count % 5 == 4 else own)
            count += 1
        words = [len(part.split()) for part in parts]
        own = sum(count for index, count in enumerate(words) if index % 5 != 4)
        expected = None if language in ("zh", "ja", "th") else own / sum(words)
        chains.append((language, "<think>\n" + ".\n".join(parts) + ".\n</think>\nDone.", expected))
    return chains


def py3langid_consistency(chains):
    """Scores and seconds of a sentence-level py3langid consistency reward."""
    import re

    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE)
    identifier.set_languages(REQUIRED)
    started = time.perf_counter()
    scores = []
    for language, text, _ in chains:
        thought = text.split("<think>", 1)[1].split("</think>", 1)[0]
        total = target = 0
        for sentence in re.split(r"[.!?\n]+", thought):
            words = len(sentence.split())
            if words:
                total += words
                target += words if identifier.classify(sentence)[0] == language else 0
        scores.append(target / total if total else 0)
    return scores, time.perf_counter() - started


def arbiter_consistency(binary, chains):
    """Scores, whole-process seconds and per-request milliseconds of `language`."""
    answers, seconds = serve(binary, [{"verifier": "language", "response": text, "options": {"target": language}}
                                      for language, text, _ in chains])
    return [answer["score"] for answer in answers], seconds, sorted(answer["ms"] for answer in answers)


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

    chains = chains_of_thought(rows)
    repeated = chains * (args.rounds * 20)
    mean = sum(len(text) for _, text, _ in chains) / len(chains)
    py_scores, py_seconds = py3langid_consistency(repeated)
    scores, seconds, milliseconds = arbiter_consistency(args.binary, repeated)

    def error(found):
        pairs = [(score, chain[2]) for score, chain in zip(found, repeated) if chain[2] is not None]
        return sum(abs(score - expected) for score, expected in pairs) / len(pairs)

    print(f"language consistency ({len(repeated)} chains of thought of {mean:,.0f} characters, one English sentence "
          f"in five; mean |score - word share| over the languages written with spaces)")
    print(f"  py3langid per sentence (in-process)     {py_seconds:7.3f} s {len(repeated) / py_seconds:10,.0f} per s"
          f"   mean error {error(py_scores):.3f}")
    print(f"  arbiter serve --jobs 1 (whole process)  {seconds:7.3f} s {len(repeated) / seconds:10,.0f} per s"
          f"   mean error {error(scores):.3f}")
    print(f"  arbiter per request: p50 {milliseconds[len(milliseconds) // 2]:.3f} ms,"
          f" p99 {milliseconds[len(milliseconds) * 99 // 100]:.3f} ms")
    print(f"ratio {py_seconds / seconds:.2f}x (whole process)")


if __name__ == "__main__":
    main()

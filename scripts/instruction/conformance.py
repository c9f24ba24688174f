#!/usr/bin/env python3
"""Differential conformance of Arbiter's `instruction` verifier against the reference implementations.

The reference for IFEval's and IFBench's ids is the PyPI package `if-verifiable` (Apache-2.0); for open-instruct's
ids it is open-instruct's `open_instruct/IFEvalG/instructions.py` (Apache-2.0), read from a directory holding that
file and its `instructions_util.py` (`--open-instruct DIR`; ids of that family are skipped without it).

Setup (a virtual environment outside the repository):
    python3 -m venv /tmp/ifv && /tmp/ifv/bin/pip install if-verifiable absl-py
    /tmp/ifv/bin/python scripts/instruction/conformance.py --arbiter .build/release/arbiter [--open-instruct DIR]

NLTK's trained data (Punkt, the stop-word corpus, the POS tagger) cannot be downloaded here, so the reference runs
with: an untrained Punkt (`PunktSentenceTokenizer()`, NLTK's own rules without learnt abbreviations) for sentence
counts and for `word_tokenize`; NLTK's English stop-word list given inline. `words:start_verb` (POS tagger) is not
compared: Arbiter answers it with `invalid_reference`.

Each case is sent to `arbiter serve` twice (strict and loose) as a one-instruction dataset row; the reference's
strict and loose results come from if-verifiable's own `evaluate_instructions`. A reference exception while
checking counts as "not followed". Prints agreement per id and writes the disagreements to --report.
"""

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
import types
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cases as case_generator  # noqa: E402

STOPWORDS = (
    "i me my myself we our ours ourselves you you're you've you'll you'd your yours yourself yourselves he him his "
    "himself she she's her hers herself it it's its itself they them their theirs themselves what which who whom "
    "this that that'll these those am is are was were be been being have has had having do does did doing a an the "
    "and but if or because as until while of at by for with about against between into through during before after "
    "above below to from up down in out on off over under again further then once here there when where why how all "
    "any both each few more most other some such no nor not only own same so than too very s t can will just don "
    "don't should should've now d ll m o re ve y ain aren aren't couldn couldn't didn didn't doesn doesn't hadn "
    "hadn't hasn hasn't haven haven't isn isn't ma mightn mightn't mustn mustn't needn needn't shan shan't shouldn "
    "shouldn't wasn wasn't weren weren't won won't wouldn wouldn't"
).split()


def patch_nltk():
    import nltk
    import nltk.tokenize as tokenize
    from nltk.tokenize.punkt import PunktSentenceTokenizer

    punkt = PunktSentenceTokenizer()
    tokenize.sent_tokenize = lambda text, language="english": punkt.tokenize(text)
    nltk.sent_tokenize = tokenize.sent_tokenize
    nltk.corpus.stopwords = types.SimpleNamespace(words=lambda language="english": STOPWORDS)
    nltk.download = lambda *args, **kwargs: False
    # langdetect samples at random unless seeded; seeded, the reference's answers repeat from run to run.
    from langdetect import DetectorFactory

    DetectorFactory.seed = 0
    return punkt


def load_open_instruct(directory):
    """Loads open-instruct's IFEvalG instructions from DIR as if they were its package."""
    for name in ("open_instruct", "open_instruct.IFEvalG"):
        module = types.ModuleType(name)
        module.__path__ = []
        sys.modules[name] = module
    modules = {}
    for short in ("instructions_util", "instructions"):
        full = "open_instruct.IFEvalG." + short
        spec = importlib.util.spec_from_file_location(full, os.path.join(directory, short + ".py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[full] = module
        setattr(sys.modules["open_instruct.IFEvalG"], short, module)
        spec.loader.exec_module(module)
        modules[short] = module
    return modules


def open_instruct_registry(instructions):
    """open-instruct's 29 added ids (its registry module imports the whole package, so the table is restated)."""
    c = instructions
    return {
        "copy:repeat_phrase": c.RepeatPhraseChecker, "copy:copy": c.CopyChecker,
        "new:copy_span_idx": c.CopySpanIdxChecker, "detectable_format:sentence_hyphens": c.SentenceHyphenChecker,
        "keywords:no_adjacent_consecutive": c.AdjacentLetterChecker,
        "detectable_format:square_brackets": c.SquareBracketChecker, "keywords:word_once": c.KeywordFrequencyOnceChecker,
        "keywords:word_count_different_numbers": c.KeywordFrequencyCheckerDifferent,
        "keywords:exclude_word_harder": c.ExcludeWordHarderChecker, "paragraphs:paragraphs": c.ParagraphBasicChecker,
        "paragraphs:paragraphs2": c.ParagraphBasicChecker2, "first_word:first_word_sent": c.FirstWordSentChecker,
        "first_word:first_word_answer": c.FirstWordAnswerChecker, "last_word:last_word_sent": c.LastWordSentChecker,
        "last_word:last_word_answer": c.LastWordAnswerChecker,
        "detectable_format:bigram_wrapping": c.BiGramWrappingChecker, "copy:copying_simple": c.CopyingSimpleChecker,
        "copy:copying_multiple": c.CopyingMultipleChecker, "punctuation:punctuation_dot": c.PunctuationDotChecker,
        "punctuation:punctuation_exclamation": c.PunctuationExclamationChecker,
        "count:lowercase_counting": c.LowercaseCountingChecker, "letters:letter_counting": c.LetterCountingChecker,
        "letters:letter_counting2": c.LetterFrequencyChecker, "count:counting_composition": c.CountingCompositionChecker,
        "count:count_unique": c.CountUniqueChecker, "count:count_increment_word": c.CountIncrementWordChecker,
        "keywords:palindrome": c.PalindromeBasicChecker,
        "keywords:keyword_specific_position": c.KeywordSpecificPositionChecker, "keywords:start_end": c.StartEndChecker,
    }


def reference_result(registry, case, common):
    """(strict, loose) from the reference, or None when it rejects the kwargs."""
    try:
        checker = registry[case["id"]](case["id"])
        checker.build_description(**{k: v for k, v in case["kwargs"].items() if v is not None})
    except Exception:
        return None
    response = common.strip_thinking(case["response"])
    if not response.strip():
        return (False, False)

    def check(text):
        try:
            return bool(text.strip() and checker.check_following(text))
        except Exception:
            return False

    strict = check(response)
    loose = any(check(variant) for variant in common.get_loose_transformations(response))
    return (strict, loose)


def write_fixtures(path, all_cases, expected, got):
    """Per id and mode, the first case where both agree that it is followed and the first where both agree it is not."""
    chosen = {}
    for index, (case, reference) in enumerate(zip(all_cases, expected)):
        if reference is None:
            continue
        for mode_index, mode in enumerate(("strict", "loose")):
            answer = got[f"{index}:{mode}"]
            if "error" in answer or answer["details"]["instructions"][0]["followed"] != reference[mode_index]:
                continue
            key = (case["id"], mode, reference[mode_index])
            if key not in chosen and case["response"].strip():
                chosen[key] = dict(case, mode=mode, followed=reference[mode_index])
    with open(path, "w", encoding="utf-8") as handle:
        for key in sorted(chosen):
            handle.write(json.dumps(chosen[key], ensure_ascii=False) + "\n")


def prepare(open_instruct, per_id, seed):
    """The reference registry (NLTK patched), if-verifiable's harness module, and the generated cases."""
    punkt = patch_nltk()
    from if_verifiable import common
    from if_verifiable.ifbench import instructions_registry as ifbench_registry
    from if_verifiable.ifeval import instructions_registry as ifeval_registry
    from if_verifiable.ifeval import instructions_util

    instructions_util._get_sentence_tokenizer = lambda: punkt
    registry = dict(ifeval_registry.INSTRUCTION_DICT)
    registry.update(ifbench_registry.INSTRUCTION_DICT)
    if open_instruct:
        modules = load_open_instruct(open_instruct)
        modules["instructions_util"]._get_sentence_tokenizer = lambda: punkt
        registry.update(open_instruct_registry(modules["instructions"]))
    ids = [i for i in registry if i != "words:start_verb"]

    import nltk
    import re

    def measure(kind, text, keyword=None):
        if kind == "count":
            return len(re.findall(keyword, text, flags=re.IGNORECASE))
        if kind == "sentences":
            return len(punkt.tokenize(text))
        if kind == "words":
            return instructions_util.count_words(text)
        if kind == "capitals":
            return sum(w.isupper() for w in nltk.word_tokenize(text))
        raise ValueError(kind)

    by_language = defaultdict(list)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "fixtures/language/sentences.jsonl"), encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if row["language"] in ("en", "es", "pt", "ar", "hi", "fr", "ru", "de", "ja", "it", "bn", "uk", "th", "ur",
                                   "ta", "te", "bg", "ko", "pl", "he", "fa", "vi", "ne", "sw", "kn", "mr", "gu", "pa",
                                   "ml", "fi"):
                by_language[row["language"]].append(row["text"])

    return registry, common, list(case_generator.make_cases(ids, per_id, seed, by_language, measure))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arbiter", default=".build/release/arbiter")
    parser.add_argument("--open-instruct", help="directory with open-instruct's IFEvalG instructions.py and instructions_util.py")
    parser.add_argument("--per-id", type=int, default=200, help="cases per id (default 200: 22,400 cases for 112 ids)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--report", default="/tmp/instruction-conformance.json")
    parser.add_argument("--cases-out", help="also write the cases as JSON lines")
    parser.add_argument("--fixtures-out", help="write, per id, agreed cases that follow and that break it (strict and loose)")
    args = parser.parse_args()

    registry, common, all_cases = prepare(args.open_instruct, args.per_id, args.seed)
    if args.cases_out:
        with open(args.cases_out, "w", encoding="utf-8") as handle:
            for case in all_cases:
                handle.write(json.dumps(case, ensure_ascii=False) + "\n")

    started = time.perf_counter()
    expected = [reference_result(registry, case, common) for case in all_cases]
    reference_seconds = time.perf_counter() - started

    lines = []
    for index, case in enumerate(all_cases):
        row = {"instruction_id_list": [case["id"]], "kwargs": [case["kwargs"]]}
        for mode in ("strict", "loose"):
            lines.append(json.dumps({"id": f"{index}:{mode}", "verifier": "instruction", "response": case["response"],
                                     "prompt": case["prompt"], "reference": row, "options": {"mode": mode}}, ensure_ascii=False))
    started = time.perf_counter()
    completed = subprocess.run([args.arbiter, "serve"], input="\n".join(lines) + "\n", capture_output=True, text=True, check=True)
    arbiter_seconds = time.perf_counter() - started
    got = {}
    for line in completed.stdout.split("\n"):
        if not line:
            continue
        answer = json.loads(line)
        got[answer["id"]] = answer

    stats = defaultdict(lambda: {"cases": 0, "agree": 0, "rejected_both": 0})
    disagreements = []
    for index, (case, reference) in enumerate(zip(all_cases, expected)):
        for mode_index, mode in enumerate(("strict", "loose")):
            answer = got[f"{index}:{mode}"]
            entry = stats[case["id"]]
            entry["cases"] += 1
            if reference is None:
                if "error" in answer:
                    entry["agree"] += 1
                    entry["rejected_both"] += 1
                else:
                    disagreements.append({"case": case, "mode": mode, "reference": "rejected kwargs", "arbiter": answer})
                continue
            if "error" in answer:
                disagreements.append({"case": case, "mode": mode, "reference": reference[mode_index], "arbiter": answer["error"]})
                continue
            ours = answer["details"]["instructions"][0]["followed"]
            if ours == reference[mode_index]:
                entry["agree"] += 1
            else:
                disagreements.append({"case": case, "mode": mode, "reference": reference[mode_index],
                                      "arbiter": answer["details"]["instructions"][0]})

    followed = defaultdict(lambda: [0, 0])
    for case, reference in zip(all_cases, expected):
        if reference is not None:
            followed[case["id"]][0 if reference[0] else 1] += 1
    if args.fixtures_out:
        write_fixtures(args.fixtures_out, all_cases, expected, got)

    total = sum(s["cases"] for s in stats.values())
    agree = sum(s["agree"] for s in stats.values())
    perfect = sum(1 for s in stats.values() if s["agree"] == s["cases"])
    print(f"{len(all_cases)} cases x 2 modes = {total} checks over {len(stats)} ids")
    print(f"agreement {agree}/{total} = {100 * agree / total:.2f}%; ids at 100%: {perfect}/{len(stats)}")
    print(f"time: reference {reference_seconds:.2f} s, arbiter serve (debug or release as given) {arbiter_seconds:.2f} s")
    for instruction_id, entry in sorted(stats.items(), key=lambda item: item[1]["agree"] / item[1]["cases"]):
        share = 100 * entry["agree"] / entry["cases"]
        if share < 100:
            print(f"  {instruction_id:45s} {share:6.2f}%  ({entry['cases'] - entry['agree']} of {entry['cases']})")
    thin = [i for i, (yes, no) in sorted(followed.items()) if min(yes, no) < 10]
    print(f"ids with fewer than 10 strict cases of either outcome in the reference: {', '.join(thin) or 'none'}")
    with open(args.report, "w", encoding="utf-8") as handle:
        json.dump({"summary": {"checks": total, "agree": agree, "ids": len(stats), "perfect_ids": perfect},
                   "per_id": stats, "reference_followed_strict": followed, "disagreements": disagreements}, handle, ensure_ascii=False, indent=1)
    print(f"disagreements written to {args.report}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Lists every text on which Arbiter and the reference disagree for the three language ids, with langdetect's
probabilities (seeded as in the conformance run), over the conformance generator's four seeds (7, 1, 3, 4).

    /tmp/ifv/bin/python scripts/instruction/language-rows.py --arbiter .build/release/arbiter

Prints one JSON line per distinct (id, text judged, kwargs): the loose variant Arbiter judged, the number of checks
(strict and loose over the seeds), the reference's answer, Arbiter's, and langdetect's top three languages.
"""

import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import conformance  # noqa: E402  (seeds langdetect)

IDS = {"change_case:english_lowercase", "change_case:english_capital", "language:response_language"}


def judged_text(response, variant):
    """The text of a loose variant, by the name Arbiter gives it."""
    lines = response.split("\n")
    texts = {"as is": response, "without *": response.replace("*", ""),
             "without first line": "\n".join(lines[1:]).strip(), "without last line": "\n".join(lines[:-1]).strip(),
             "without first and last lines": "\n".join(lines[1:-1]).strip()}
    text = texts.get(variant.replace(" and *", ""), response)
    return text.replace("*", "") if variant.endswith(" and *") else text


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arbiter", default=".build/release/arbiter")
    args = parser.parse_args()
    from langdetect import DetectorFactory, detect_langs

    rows = []
    for seed in (7, 1, 3, 4):
        registry, common, cases = conformance.prepare(None, 200, seed=seed)
        rows += [(case, conformance.reference_result(registry, case, common)) for case in cases if case["id"] in IDS]
    lines = []
    for index, (case, _) in enumerate(rows):
        for mode in ("strict", "loose"):
            lines.append(json.dumps({"id": f"{index}:{mode}", "verifier": "instruction", "response": case["response"],
                                     "prompt": case["prompt"], "options": {"mode": mode},
                                     "reference": {"instruction_id_list": [case["id"]], "kwargs": [case["kwargs"]]}}))
    output = subprocess.run([args.arbiter, "serve"], input="\n".join(lines) + "\n", capture_output=True, text=True).stdout
    answers = {answer["id"]: answer for answer in map(json.loads, output.splitlines())}
    groups = {}
    for index, (case, reference) in enumerate(rows):
        if reference is None:
            continue
        for mode_index, mode in enumerate(("strict", "loose")):
            entry = answers[f"{index}:{mode}"]["details"]["instructions"][0]
            if entry["followed"] == reference[mode_index]:
                continue
            variant = entry.get("variant", "as is")
            text = judged_text(case["response"].strip(), variant)
            key = (case["id"], text, json.dumps(case["kwargs"], sort_keys=True))
            group = groups.setdefault(key, {"checks": 0, "reference": reference[mode_index],
                                            "arbiter": entry["followed"], "why": entry["why"], "variant": variant})
            group["checks"] += 1
    for (id_, text, kwargs), group in sorted(groups.items(), key=lambda item: (item[0][0], -item[1]["checks"])):
        DetectorFactory.seed = 0
        try:
            found = ", ".join(f"{guess.lang} {guess.prob:.2f}" for guess in detect_langs(text)[:3])
        except Exception as error:  # langdetect raises on a text without features
            found = f"raises ({error})"
        print(json.dumps(dict(group, id=id_, text=text, kwargs=json.loads(kwargs), langdetect=found), ensure_ascii=False))


if __name__ == "__main__":
    main()

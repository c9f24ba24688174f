#!/usr/bin/env python3
# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""Converts langdetect's language profiles (Apache-2.0; character 1- to 3-gram counts from Wikipedia, by Shuyo
Nakatani / Cybozu Labs, packaged by Michal Danilak) into Sources/ArbiterLanguage/Resources/ngrams.tsv.

    pip download --no-deps -d /tmp/langsrc langdetect==1.0.9 && tar xzf /tmp/langsrc/langdetect-1.0.9.tar.gz -C /tmp/langsrc
    python3 scripts/build-language-model.py /tmp/langsrc/langdetect-1.0.9/langdetect/profiles

What changes on the way:
- zh-cn and zh-tw become one language, zh (ISO 639-1 has no script variants).
- Case is folded: an n-gram's count is the sum of the counts of its spellings, and the per-order totals stay
  (a character whose lowercase is longer, such as Turkish İ, keeps its case).
- N-grams of Han, Kana and Hangul are dropped: langdetect counts them after mapping characters onto class
  representatives, and Arbiter tells Chinese, Japanese and Korean apart by script instead.
- N-grams made only of spaces are dropped.

The output is UTF-8 text, one record a line, fields separated by tabs:
    L <code> <total 1-grams> <total 2-grams> <total 3-grams>      one per language, in index order
    G <n-gram> <index>:<count>,<index>:<count>,...                 one per n-gram, sorted
"""
import json
import os
import sys
import unicodedata


def dropped(gram):
    if not gram.strip():
        return True
    for ch in gram:
        name = unicodedata.name(ch, "")
        if name.startswith(("CJK ", "HIRAGANA", "KATAKANA", "HANGUL", "BOPOMOFO")):
            return True
    return False


def main(folder, output):
    languages = {}
    for file in sorted(os.listdir(folder)):
        with open(os.path.join(folder, file), encoding="utf-8") as handle:
            profile = json.load(handle)
        code = profile["name"].split("-")[0]
        totals, grams = languages.setdefault(code, ([0, 0, 0], {}))
        for i, total in enumerate(profile["n_words"]):
            totals[i] += total
        for gram, count in profile["freq"].items():
            if not dropped(gram):
                key = gram.lower() if len(gram.lower()) == len(gram) else gram
                grams[key] = grams.get(key, 0) + count
    codes = sorted(languages)
    table = {}
    for index, code in enumerate(codes):
        for gram, count in languages[code][1].items():
            table.setdefault(gram, []).append(f"{index}:{count}")
    with open(output, "w", encoding="utf-8", newline="\n") as out:
        out.write("# Character n-gram counts per language, converted by scripts/build-language-model.py from\n")
        out.write("# langdetect 1.0.9's profiles (Apache License 2.0; Copyright 2010-2014 Cybozu Labs, Inc.).\n")
        for code in codes:
            out.write("L\t%s\t%d\t%d\t%d\n" % (code, *languages[code][0]))
        for gram in sorted(table):
            out.write(f"G\t{gram}\t{','.join(table[gram])}\n")
    print(f"{len(codes)} languages, {len(table)} n-grams -> {output}", file=sys.stderr)


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    default = os.path.join(here, "..", "Sources", "ArbiterLanguage", "Resources", "ngrams.tsv")
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else default)

#!/usr/bin/env python3
"""Writes fixtures/instruction/sentences.jsonl: texts and the sentences IFEval's rule-based `split_into_sentences`
(if-verifiable 0.1.2) makes of them, for `swift test` (Arbiter's splitter skips each regex pass whose pattern cannot
match; these cases make each pass fire, and nearly fire, alone and in combination).

    /tmp/ifv/bin/python scripts/instruction/sentence-fixtures.py
"""

import json
import os
import random

from if_verifiable.ifeval.instructions_util import split_into_sentences

FRAGMENTS = [
    "Mr. Smith came.", "St. Louis is far.", "Mrs. Jones left!", "Ms. Lee asked?", "Dr. Who arrived.",
    "Visit example.com today.", "See docs.io now.", "It is at foo.gov.", "Go to a.me please.", "The .net site.",
    "It costs 3.50 dollars.", "Version 2.0 shipped.", "Pi is 3.14159.", "A 5. B.", "Wait... what?", "Hmm.. ok.",
    "He has a Ph.D. in math.", "She got her Ph.D from MIT.", "J. R. R. Tolkien wrote it.", "Call J. Smith.",
    "The U.S. is big.", "The U.S.A. He said so.", "In the U.K. They drink tea.", "E.g. this one.", "i.e. that.",
    "Acme Inc. He sold it.", "Acme Inc. is big.", "Foo Ltd. They won.", "Bob Jr. She smiled.", "Sam Sr. left.",
    "Big Co. We grew.", "Tiny Co. rose.", "a.b.c. d.e.f. g.h.", "x. y. z.", "A. B.", "at 10 a.m. sharp.",
    "\"Stop.\" he said.", "\"Go!\" she cried.", "\"Why?\" I asked.", "\u201cEnd.\u201d Then more.", "Really?!",
    "Yes!!", "No?? Ok.", "line one\nline two.", "tabs\there. There.", "Caf\u00e9 ol\u00e9. Fin.", "\u00bfQu\u00e9? S\u00ed.",
    "Sr. Garcia habla.", "It was 1.5.2 beta.", "The end", "", "   ", "...", ".", "!", "?", "Mr.", "Inc.",
    "Dr.No.", "c. 1900 it was.", "Co.op.", "e.g.", "www.test.org/page.", "3.", ".5 is half.", "A.B", "a.b.",
]


def main():
    rng = random.Random(5)
    texts = list(FRAGMENTS)
    for _ in range(400):
        count = rng.randint(2, 5)
        joiners = [" ", "  ", "\n", "", " \n "]
        parts = rng.sample(FRAGMENTS, count)
        text = ""
        for part in parts:
            text += part + rng.choice(joiners)
        texts.append(text)
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    with open(os.path.join(root, "fixtures", "instruction", "sentences.jsonl"), "w") as out:
        for text in texts:
            out.write(json.dumps({"text": text, "sentences": split_into_sentences(text)}, ensure_ascii=False) + "\n")
    print(f"{len(texts)} texts")


if __name__ == "__main__":
    main()

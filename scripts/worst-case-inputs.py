#!/usr/bin/env python3
# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""Sends adversarial inputs of up to 1 MB to `arbiter serve`, one at a time, and prints each verdict's time.

Usage: scripts/worst-case-inputs.py [--binary PATH] [--repeat N] [--only TEXT] [--json FILE]

Each input is one request line: the inputs that crashed or slowed the daemon (issue 20), and for every deterministic
verifier the shapes its algorithms are most sensitive to (long runs of one character, deep nesting, many markers,
huge numbers, long non-Latin text). The daemon runs with `--jobs 1`; each request is sent after the previous answer,
so `ms` (the daemon's own measure of the verification) is not queueing. With `--repeat N` each input is sent N times
and the slowest is kept. A daemon that dies is reported as CRASH and restarted; the run exits 1 on a crash, on an
error answer where a verdict was expected, or when a verdict takes a second or more.

Build first: swift build -c release --product arbiter
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MB = 1_000_000
SLOW_MS = 1000.0


def sentences(language, size):
    """Real sentences of one language from the language fixtures, repeated to about `size` bytes."""
    texts = []
    with open(ROOT / "fixtures" / "language" / "sentences.jsonl", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if row.get("language") == language:
                texts.append(row["text"])
    text, index = "", 0
    while len(text.encode()) < size:
        text += texts[index % len(texts)] + " "
        index += 1
    return text.encode()[:size].decode(errors="ignore")


def fit(text, limit=MB - 200):
    """At most about 1 MB of UTF-8 (room left for the request's other fields)."""
    data = text.encode()
    return text if len(data) <= limit else data[:limit].decode(errors="ignore")


def inputs():
    """(name, verifier, response, reference, options) of every input."""
    arabic, russian = sentences("ar", 14_000), sentences("ru", 14_000)
    arabic_big, chinese_big = sentences("ar", 900_000), sentences("zh", 900_000)
    rows = [
        # Issue 20: crashers and slow inputs.
        ("math: \\frac1.5 (was SIGILL)", "math", "The answer is $\\frac1.5$.", "1", None),
        ("math: \\frac1e308 (was SIGILL)", "math", "The answer is $\\frac1e308$.", "1", None),
        ("math: \\binom1.5 (was SIGILL)", "math", "The answer is $\\binom1.5$.", "1", None),
        ("math: 3 then 1 MB of ! (was a stack overflow)", "math", fit("\\boxed{3" + "!" * MB) + "}", "6", None),
        ("math: 5,000 ! in a box", "math", "\\boxed{3" + "!" * 5000 + "}", "6", None),
        ("math: 2^1e99999 (was equal to 1)", "math", "\\boxed{2^1e99999}", "1", None),
        ("math: 1.5e400 vs 1.2e400 (was equal)", "math", "\\boxed{1.5e400}", "1.2e400", None),
        ("exact: 42 + 64,000 newlines (was 16 s)", "exact", "42" + "\n" * 64_000, "42", None),
        ("math: 14 KB Arabic around a box", "math", arabic[:7000] + " \\boxed{42} " + arabic[7000:], "42", None),
        ("math: 14 KB Russian around a box", "math", russian[:7000] + " \\boxed{42} " + russian[7000:], "42", None),
        ("math: 14 KB Arabic, answer in words at the end", "math", arabic + " The answer is 42.", "42", None),
        ("math: 14 KB Russian, no answer", "math", russian, "42", None),
        ("math: 14 KB Russian inside a box", "math", "\\boxed{" + russian + "}", "42", None),
        ("math: 14 KB Arabic inside $…$", "math", "$" + arabic + "$", "42", None),
        ("math: 19.9 KB Russian inside a box", "math", "\\boxed{" + sentences("ru", 19_900) + "}", "42", None),
        ("math: 19.9 KB of a-z words inside a box", "math", "\\boxed{" + ("abcdefg " * 2_487) + "}", "42", None),
        ("math: 14 KB Arabic, a $…$ per word", "math", " ".join(f"{w} ${i}$" for i, w in enumerate(arabic.split(" ")[:1500])), "42", None),
        # Just under the 20,000-byte answer budget, where normalisation still runs: rewrites that are linear per match.
        ("math: 3,300 grouped numbers in a box (20 KB)", "math", "\\boxed{" + "1,000 " * 3_300 + "}", "1", None),
        ("math: 3,000 mixed numbers in a box (20 KB)", "math", "\\boxed{" + "1 1/2 " * 3_000 + "}", "1", None),
        ("math: 2,200 \\text{cm} in a box (20 KB)", "math", "\\boxed{3" + "\\text{cm}" * 2_200 + "}", "3", None),
        ("math: 4,000 'or' in a box (20 KB)", "math", "\\boxed{3" + " or 4" * 3_900 + "}", "3", None),
        ("math: 2,000 pmatrix in a box (20 KB)", "math", "\\boxed{" + "\\begin{pmatrix}1\\end{pmatrix}" * 600 + "}", "1", None),
        ("math: 6,600 1/2 in a box (20 KB)", "math", "\\boxed{" + "1/2+" * 4_900 + "1}", "1", None),
        ("math: 900 KB Arabic then a box", "math", arabic_big + " \\boxed{42}", "42", None),
        ("math: 900 KB Chinese then a box", "math", chinese_big + " \\boxed{42}", "42", None),
        # math: nesting, length, numbers.
        ("math: 500,000 ( in a box", "math", fit("\\boxed{" + "(" * 500_000 + "1" + ")" * 500_000) + "}", "1", None),
        ("math: 1 MB of - before 3", "math", fit("\\boxed{" + "-" * MB) + "3}", "3", None),
        ("math: 300,000 \\frac", "math", fit("\\boxed{" + "\\frac" * 300_000) + "12}", "1", None),
        ("math: 300,000 \\sqrt", "math", fit("\\boxed{" + "\\sqrt" * 300_000) + "4}", "2", None),
        ("math: 1+1+…+1 (1 MB)", "math", fit("\\boxed{" + "1+" * 500_000) + "1}", "500001", None),
        ("math: a 1 MB number", "math", fit("\\boxed{" + "7" * MB) + "}", "7", None),
        ("math: a 4,900-digit number vs itself + 0", "math", "\\boxed{" + "7" * 4900 + "}", "7" * 4900 + "+0", None),
        ("math: 3^{1000000}", "math", "\\boxed{3^{1000000}}", "1", None),
        ("math: 1400! vs 1399!·1400", "math", "\\boxed{1400!}", "1399! \\cdot 1400", None),
        ("math: a 20,000-letter word", "math", "\\boxed{" + "ab" * 9_999 + "}", "x", None),
        # Fuzz finding 2026-12-06 (docs/fuzzing.md): a product of letters under \tan^2, cubic at exact points (15.7 s).
        ("math: \\tan^2 of 18,000 letters", "math", "$\\e^(2csy)$", "$\\tan^2" + "R" * 18_000 + "(y)0+1$", None),
        ("math: 1 MB of letters in a box", "math", fit("\\boxed{" + "xy" * 500_000) + "}", "x", None),
        ("math: 100,000 boxes", "math", fit("\\boxed{1} " * 100_000), "1", None),
        ("math: 200,000 unclosed \\boxed{", "math", fit("\\boxed{" * 200_000), "1", None),
        ("math: 1 MB of $", "math", "$" * (MB - 200), "1", None),
        ("math: $1$ or … 100,000 spans", "math", fit("$1$ or " * 100_000), "1", None),
        ("math: 'final answer is' 60,000 times", "math", fit("The final answer is 3. " * 60_000), "3", None),
        ("math: 3, 1 MB of spaces, percent", "math", fit("\\boxed{3" + " " * MB) + "percent}", "3", None),
        ("math: 1,000,000 grouped digits", "math", fit("\\boxed{" + "1,000," * 170_000) + "1}", "1", None),
        ("math: 1 MB of x then a box", "math", fit("x " * 500_000) + "\\boxed{5}", "5", None),
        ("math: 50,000 nested pmatrix", "math", fit("\\boxed{" + "\\begin{pmatrix}" * 50_000) + "}", "1", None),
        ("math: 100,000 \\left(", "math", fit("\\boxed{" + "\\left(" * 100_000) + "1}", "1", None),
        ("math: unclosed <think> + 1 MB", "math", fit("<think>" + "a" * MB), "1", None),
        ("math: 100,000 </think>", "math", fit("</think>" * 100_000) + "\\boxed{1}", "1", None),
        ("math: 1 MB of digits, no box", "math", fit("1 " * 500_000), "1", None),
        ("math: 1 MB of \\text{cm}", "math", fit("\\boxed{3" + "\\text{cm}" * 100_000) + "}", "3", None),
        ("math: 1 MB of 'or'", "math", fit("\\boxed{3" + " or 4" * 190_000) + "}", "3", None),
        # exact.
        ("exact: 1 MB of whitespace both ends", "exact", " " * 400_000 + "42" + "\t\r\n" * 150_000, "42", None),
        ("exact: 1 MB of combining marks", "exact", "e" + "\u0301" * 490_000, "é", None),
        ("exact: 1 MB, case-insensitive", "exact", "Ab" * 450_000, "aB" * 450_000, {"case_sensitive": False}),
        # regex.
        ("regex: (a+)+$ on 100,000 a then b", "regex", "a" * 100_000 + "b", "", {"pattern": "(a+)+$"}),
        ("regex: (.*a){20} on 1 MB", "regex", "a" * (MB - 300), "", {"pattern": "(.*a){20}x"}),
        ("regex: full-match .* on 1 MB", "regex", "ab\n" * 330_000, "", {"pattern": ".*", "mode": "full", "flags": ["dotall"]}),
        # format verifiers.
        ("think-format: 1 MB of <think>", "think-format", fit("<think>" * 150_000), "", None),
        ("think-format: 1 MB inside one think", "think-format", fit("<think>" + "a " * 500_000) + "</think><answer>1</answer>", "", None),
        ("tag-count: 1 MB of tags", "tag-count", fit("<think></think><answer>" * 45_000), "", None),
        ("repetition: 1 MB of one word", "repetition", fit("the " * 250_000), "", None),
        ("repetition: 1 MB of distinct words", "repetition", fit(" ".join(f"w{i}" for i in range(150_000))), "", None),
        ("length: 1 MB", "length", "a" * (MB - 200), "", None),
        ("steps: 1 MB of Step n:", "steps", fit("".join(f"Step {i}: do it.\n" for i in range(60_000))), "", None),
        # language verifiers.
        ("language-id: 900 KB Arabic", "language-id", arabic_big, "ar", None),
        ("language-id: 1 MB one letter", "language-id", "a" * (MB - 200), None, None),
        ("language: 900 KB Chinese think, target en", "language", "<think>" + chinese_big + "</think>", "en", None),
        ("language: 1 MB of mixed scripts", "language", fit(("abc абв αβγ אבג " * 70_000)), "en", None),
        # recipes.
        ("r1-zero: 1 MB think then an answer", "r1-zero", fit("<think>" + "a " * 500_000) + "</think><answer>\\boxed{4}</answer>", "4", None),
        ("r1: 900 KB Arabic think", "r1", "<think>" + arabic_big + "</think><answer>\\boxed{4}</answer>", "4",
         {"prompt": "ما هو ٢ + ٢؟"}),
        # instruction: the slowest shapes of a 1 MB sweep over every id (word tokens, sentence splitting, highlights).
        ("instruction: 1 MB of quotes, title case", "instruction", fit("\"'" * 500_000),
         {"instruction_id_list": ["format:title_case"], "kwargs": [{}]}, None),
        ("instruction: 1 MB of 'a. ', hyphenated sentences, loose", "instruction", fit("a. " * 333_000),
         {"instruction_id_list": ["detectable_format:sentence_hyphens"], "kwargs": [{}]}, {"mode": "loose"}),
        ("instruction: 1 MB of *, highlights, loose", "instruction", "*" * (MB - 300),
         {"instruction_id_list": ["detectable_format:number_highlighted_sections"], "kwargs": [{"num_highlights": 2}]},
         {"mode": "loose"}),
        ("instruction: 1 MB in English, response language, loose", "instruction", fit("The cat sat on the mat. " * 42_000),
         {"instruction_id_list": ["language:response_language"], "kwargs": [{"language": "en"}]}, {"mode": "loose"}),
        # code: the extraction of fenced blocks (1.1 MB of fences took 111 s debug before blocks grew in place).
        ("code: 1 MB of fences closed on the line of the next", "code",
         fit("```python\ndef add(a, b):\n    return a - b\n``` " * 22_000),
         {"language": "python", "test": "def check(candidate):\n    assert candidate(2, 3) == 5\n", "entry_point": "add"},
         None),
    ]
    return rows


class Daemon:
    def __init__(self, binary):
        self.binary = binary
        self.start()

    def start(self):
        self.process = subprocess.Popen(
            [self.binary, "serve", "--jobs", "1"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def ask(self, line):
        """The answer object, or None when the daemon died (it is then restarted)."""
        try:
            self.process.stdin.write(line)
            self.process.stdin.flush()
            answer = self.process.stdout.readline()
        except BrokenPipeError:
            answer = b""
        if not answer:
            self.process.wait()
            self.start()
            return None
        return json.loads(answer)

    def close(self):
        self.process.stdin.close()
        self.process.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=str(ROOT / ".build" / "release" / "arbiter"))
    parser.add_argument("--repeat", type=int, default=3, help="send each input N times, keep the slowest (default 3)")
    parser.add_argument("--only", help="only inputs whose name contains this text")
    parser.add_argument("--json", help="also write the results to this file")
    arguments = parser.parse_args()
    if not Path(arguments.binary).exists():
        sys.exit(f"no binary at {arguments.binary}: swift build -c release --product arbiter")
    daemon = Daemon(arguments.binary)
    results, failures = [], 0
    print(f"{'input':<50} {'bytes':>9} {'reason':<18} {'ms (daemon)':>12} {'ms (wall)':>10}")
    for name, verifier, response, reference, options in inputs():
        if arguments.only and arguments.only not in name:
            continue
        request = {"id": 1, "verifier": verifier, "response": response, "reference": reference}
        options = dict(options or {})
        if "prompt" in options:
            request["prompt"] = options.pop("prompt")
        if options:
            request["options"] = options
        line = (json.dumps(request, ensure_ascii=False) + "\n").encode()
        while len(line) > MB:
            # Escapes (`\\` for each backslash) make the line longer than the text: cut the response to fit 1 MB.
            request["response"] = response = response[: int(len(response) * MB / len(line)) - 64]
            line = (json.dumps(request, ensure_ascii=False) + "\n").encode()
        slowest, wall_slowest, reason = 0.0, 0.0, ""
        for _ in range(arguments.repeat):
            started = time.perf_counter()
            answer = daemon.ask(line)
            wall = (time.perf_counter() - started) * 1000
            if answer is None:
                reason = "CRASH"
                break
            if "error" in answer:
                reason = "error:" + answer["error"].get("code", "?")
                break
            reason = answer.get("reason", "?") + ("" if not answer.get("passed") else " (pass)")
            slowest, wall_slowest = max(slowest, answer.get("ms", 0.0)), max(wall_slowest, wall)
        flag = ""
        if reason == "CRASH" or reason.startswith("error:") or slowest >= SLOW_MS:
            failures += 1
            flag = "  <-- FAIL"
        print(f"{name[:50]:<50} {len(line):>9} {reason[:18]:<18} {slowest:>12.2f} {wall_slowest:>10.1f}{flag}", flush=True)
        results.append({"input": name, "verifier": verifier, "bytes": len(line), "reason": reason, "ms": slowest,
                        "wall_ms": wall_slowest})
    daemon.close()
    worst = max(results, key=lambda row: row["ms"]) if results else None
    if worst:
        print(f"\nslowest verdict: {worst['ms']:.1f} ms ({worst['input']}); {len(results)} inputs, "
              f"{failures} over {SLOW_MS:.0f} ms, crashed or refused")
    if arguments.json:
        Path(arguments.json).write_text(json.dumps(results, indent=1, ensure_ascii=False))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

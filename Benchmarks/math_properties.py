#!/usr/bin/env python3
# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""Random-pair property benchmark of the `math` verifier: near misses must never be paid.

Pairs are generated from a fixed seed across the families the verifier decides (fractions, huge powers,
exponentials and logarithms, radicals, exact trigonometric values, polynomials in a variable, intervals). Each
family yields pairs that are equal (a rewriting of the reference) and near misses (the reference nudged by a tiny
term, an exponent off by one, a wrong sign, an open end for a closed one). The property: no near miss is paid.
The same pairs go through Math-Verify in the same run as the named baseline.

    python3 -m venv /tmp/mvenv && /tmp/mvenv/bin/pip install math-verify
    /tmp/mvenv/bin/python Benchmarks/math_properties.py [--binary .build/release/arbiter] [--pairs 4000]
Without Math-Verify installed only Arbiter's figures are printed. Exit status 1 when Arbiter pays a near miss.
"""
import argparse
import json
import random
import subprocess
import sys


def fraction(rng):
    a, b = rng.randint(1, 999), rng.randint(2, 999)
    equal = [(f"\\frac{{{2 * a}}}{{{2 * b}}}", f"\\frac{{{a}}}{{{b}}}")]
    misses = [(f"\\frac{{{a}}}{{{b}}}+10^{{-{rng.randint(13, 30)}}}", f"\\frac{{{a}}}{{{b}}}"),
              (f"\\frac{{{a + 1}}}{{{b}}}", f"\\frac{{{a}}}{{{b}}}")]
    return equal, misses


def huge_power(rng):
    k = rng.randint(14, 40)
    p = rng.choice([2, 3, 5, 7])
    equal = [(f"{p * p}^{{2^{{{k - 1}}}}}", f"{p}^{{2^{{{k}}}}}"), (f"({p}^{{{k}}})^{{10^{{5}}}}", f"{p}^{{{k}00000}}")]
    misses = [(f"{p * p}^{{2^{{{k - 1}}}+1}}", f"{p}^{{2^{{{k}}}}}"), (f"{p}^{{2^{{{k}}}-1}}", f"{p}^{{2^{{{k}}}}}"),
              (f"({p}^{{{k}}})^{{10^{{5}}}}", f"{p}^{{{k}00001}}")]
    return equal, misses


def exp_log(rng):
    m, k = rng.randint(2, 9), rng.randint(2, 5)
    nudge = f"10^{{-{rng.randint(13, 18)}}}"
    equal = [(f"e^{{{k}\\ln {m}}}", str(m ** k)), (f"\\log_{{{m}}} {m ** k}", str(k)), (f"{m}^{{\\log_{{{m}}} 7}}", "7")]
    misses = [(f"e^{{{k}\\ln {m}}}+{nudge}", str(m ** k)), (f"\\log_{{{m}}} {m ** k}", f"{k}+{nudge}"),
              (f"e^{{{k}\\ln {m}}}", str(m ** k + 1)), (f"\\ln {m}+{nudge}", f"\\ln {m}"),
              (f"\\pi+{nudge}", "\\pi"), (f"e^{{1+{nudge}}}", "e")]
    return equal, misses


def radical(rng):
    a, b = rng.randint(2, 9), rng.choice([2, 3, 5, 6, 7, 10, 11])
    nudge = f"10^{{-{rng.randint(13, 18)}}}"
    equal = [(f"\\sqrt{{{a * a * b}}}", f"{a}\\sqrt{{{b}}}"), (f"\\frac{{1}}{{\\sqrt{{{b}}}}}", f"\\frac{{\\sqrt{{{b}}}}}{{{b}}}")]
    misses = [(f"\\sqrt{{{a * a * b}}}+{nudge}", f"{a}\\sqrt{{{b}}}"), (f"\\sqrt{{{a * a * b}}}", f"{a + 1}\\sqrt{{{b}}}"),
              (f"\\sqrt{{{a * a * b + 1}}}", f"{a}\\sqrt{{{b}}}"), (f"\\sqrt{{{b}}}", f"{b}^{{1/2+{nudge}}}")]
    return equal, misses


def trig(rng):
    table = [("\\sin\\frac{\\pi}{6}", "\\frac12"), ("\\cos\\frac{\\pi}{3}", "\\frac12"), ("\\sin\\frac{\\pi}{4}", "\\frac{\\sqrt2}{2}"),
             ("\\tan\\frac{\\pi}{3}", "\\sqrt3"), ("\\cos\\pi", "-1"), ("\\sin\\frac{\\pi}{12}", "\\frac{\\sqrt6-\\sqrt2}{4}")]
    left, right = rng.choice(table)
    nudge = f"10^{{-{rng.randint(13, 18)}}}"
    return [(left, right)], [(f"{left}+{nudge}", right), (f"-{left}", right) if right != "-1" else (left, "1")]


def polynomial(rng):
    a, b = rng.randint(1, 9), rng.randint(1, 9)
    nudge = f"10^{{-{rng.randint(13, 18)}}}"
    expanded = f"x^2+{a + b}x+{a * b}"
    equal = [(f"(x+{a})(x+{b})", expanded)]
    misses = [(f"(x+{a})(x+{b})+{nudge}", expanded), (f"(x+{a})(x-{b})", expanded),
              (f"\\sqrt{{x}}+{nudge}", "\\sqrt{x}"), (f"(x+{a})(x+{b})", f"x^2+{a + b}x+{a * b + 1}")]
    return equal, misses


def interval(rng):
    a, b = rng.randint(-9, 0), rng.randint(1, 9)
    equal = [(f"[{a},0]\\cup[0,{b}]", f"[{a},{b}]"), (f"\\mathbb{{R}}\\setminus\\{{{b}\\}}", f"(-\\infty,{b})\\cup({b},\\infty)")]
    misses = [(f"[{a},0)\\cup(0,{b}]", f"[{a},{b}]"), (f"[{a},{b})", f"[{a},{b}]"),
              (f"(-\\infty,{b}]\\cup({b},\\infty)", f"\\mathbb{{R}}\\setminus\\{{{b}\\}}")]
    return equal, misses


FAMILIES = [fraction, huge_power, exp_log, radical, trig, polynomial, interval]


def generate(count, seed):
    rng = random.Random(seed)
    pairs = []
    while len(pairs) < count:
        family = rng.choice(FAMILIES)
        equal, misses = family(rng)
        pairs += [(family.__name__, response, reference, True) for response, reference in equal]
        pairs += [(family.__name__, response, reference, False) for response, reference in misses]
    return pairs[:count]


def arbiter(binary, pairs):
    lines = "".join(json.dumps({"id": i, "verifier": "math", "response": f"\\boxed{{{r}}}", "reference": ref}) + "\n"
                    for i, (_, r, ref, _) in enumerate(pairs))
    result = subprocess.run([binary, "serve", "--jobs", "1", "--ordered", "--log-level", "error"], input=lines.encode(),
                            stdout=subprocess.PIPE, check=True)
    return [bool(json.loads(line).get("passed")) for line in result.stdout.splitlines()]


def math_verify(pairs):
    try:
        from math_verify import parse, verify
    except ImportError:
        return None
    paid = []
    for _, response, reference, _ in pairs:
        try:
            paid.append(bool(verify(parse(f"${reference}$"), parse(f"$\\boxed{{{response}}}$"))))
        except Exception:
            paid.append(False)
    return paid


def report(name, pairs, paid):
    misses = [p for p, pair in zip(paid, pairs) if not pair[3]]
    equal = [p for p, pair in zip(paid, pairs) if pair[3]]
    print(f"{name:12s} near misses paid {sum(misses):5d} of {len(misses):5d}   equal pairs paid {sum(equal):5d} of {len(equal):5d}")
    families = sorted({pair[0] for pair in pairs})
    for family in families:
        paid_misses = sum(p for p, pair in zip(paid, pairs) if pair[0] == family and not pair[3])
        paid_equal = sum(p for p, pair in zip(paid, pairs) if pair[0] == family and pair[3])
        total_misses = sum(1 for pair in pairs if pair[0] == family and not pair[3])
        total_equal = sum(1 for pair in pairs if pair[0] == family and pair[3])
        print(f"    {family:11s} near misses paid {paid_misses:4d}/{total_misses:4d}   equal paid {paid_equal:4d}/{total_equal:4d}")
    return sum(misses)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=".build/release/arbiter")
    parser.add_argument("--pairs", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    pairs = generate(args.pairs, args.seed)
    print(f"pairs: {len(pairs)} (seed {args.seed}), response boxed, reference bare")
    false_rewards = report("arbiter", pairs, arbiter(args.binary, pairs))
    baseline = math_verify(pairs)
    if baseline is not None:
        report("math-verify", pairs, baseline)
    sys.exit(1 if false_rewards else 0)


if __name__ == "__main__":
    main()

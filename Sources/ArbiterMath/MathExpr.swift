// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import BigInt

/// A parsed mathematical answer.
indirect enum MathExpr: Hashable, Sendable {
    /// An exact number; `decimal` when it was written with a decimal point or exponent.
    case number(Rational, decimal: Bool)
    /// A free variable, such as `x` or `x_1`.
    case variable(String)
    /// π, e, i or ∞.
    case constant(MathConstant)
    case sum([MathExpr])
    case product([MathExpr])
    case negate(MathExpr)
    case reciprocal(MathExpr)
    case power(MathExpr, MathExpr)
    /// A function of arguments: sin, cos, tan, asin, acos, atan, ln, log (argument, base), exp, abs, floor, ceil,
    /// sqrt (argument, index), factorial, binomial.
    case function(String, [MathExpr])
    /// `a ± b`: both values.
    case plusMinus(MathExpr, MathExpr)
    /// A bracketed list: `(1, 2)`, `[1, 2)`, … Same brackets may be a tuple or an interval; mixed ones are intervals.
    case bracketed(open: Character, close: Character, [MathExpr])
    /// `\{…\}`: an unordered set.
    case set([MathExpr])
    /// A top-level comma list, compared as a set of answers.
    case list([MathExpr])
    /// Union of intervals or sets.
    case union([MathExpr])
    /// A chain of relations: `x = 3`, `1 < x \le 2`.
    case relation([MathExpr], [String])
    /// A plain-text answer, normalised (lowercase, single spaces).
    case text(String)
}

/// Constants with a value.
enum MathConstant: String, Hashable, Sendable {
    case pi, e, i, infinity
}

/// The work one comparison may do; exceeding any part is a `budget` verdict, never a hang.
struct MathBudget {
    /// Longest answer text parsed, in characters.
    static let maxAnswerLength = 20_000
    /// Deepest nesting of the parser.
    static let maxDepth = 200
    /// Largest exact number, in bits of numerator plus denominator (about 4,900 decimal digits: far past any
    /// competition answer, while every operation on such numbers, gcd included, stays well under a millisecond).
    static let maxBits = 1 << 14
    /// Most digits one numeric literal may have: past ``maxBits`` anyway (a 5,000-digit number has 16,610 bits).
    static let maxLiteralDigits = 5_000
    /// Largest exponent magnitude of a literal such as `1e4000` (10^5000 has 16,610 bits, past ``maxBits``).
    static let maxLiteralExponent = 5_000
    /// Evaluation steps per comparison.
    static let maxSteps = 2_000_000

    var steps = 0
    var exceeded = false

    /// Counts the work of an exact operation whose result has `bits` bits: multiplying and reducing n-word numbers
    /// costs about n² word operations, charged as steps (64 per step); false once the budget is spent.
    mutating func spend(bits: Int) -> Bool {
        let words = bits / 64 + 1
        return spend(1 + words * words / 64)
    }

    /// Counts a step; false once the budget is spent.
    mutating func spend(_ count: Int = 1) -> Bool {
        steps += count
        if steps > Self.maxSteps { exceeded = true }
        return !exceeded
    }
}

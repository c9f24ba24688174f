// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

extension MathExpr {
    /// Every variable name in the expression.
    var variables: Set<String> {
        switch self {
        case .variable(let name): return [name]
        case .number, .constant, .text: return []
        case .function(let name, let items) where (name == "sum" || name == "prod") && items.count == 4:
            // The index of `\sum_{k=1}^{n}` is bound: the sum is a function of n only.
            let bound = items[0].variables
            return items[1].variables.union(items[2].variables).union(items[3].variables.subtracting(bound))
        case .negate(let inner), .reciprocal(let inner): return inner.variables
        case .power(let a, let b), .plusMinus(let a, let b): return a.variables.union(b.variables)
        case .sum(let items), .product(let items), .function(_, let items), .bracketed(_, _, let items), .set(let items),
            .list(let items), .union(let items), .relation(let items, _):
            return items.reduce(into: Set<String>()) { $0.formUnion($1.variables) }
        }
    }

    /// Whether ``variables`` is not empty, decided without collecting the names (stops at the first free one).
    var hasVariables: Bool {
        switch self {
        case .variable: return true
        case .number, .constant, .text: return false
        case .function(let name, let items) where (name == "sum" || name == "prod") && items.count == 4:
            return items[1].hasVariables || items[2].hasVariables
                || !items[3].variables.subtracting(items[0].variables).isEmpty
        case .negate(let inner), .reciprocal(let inner): return inner.hasVariables
        case .power(let a, let b), .plusMinus(let a, let b): return a.hasVariables || b.hasVariables
        case .sum(let items), .product(let items), .function(_, let items), .bracketed(_, _, let items), .set(let items),
            .list(let items), .union(let items), .relation(let items, _):
            return items.contains { $0.hasVariables }
        }
    }

    /// Whether a complex conjugate is taken of something with a variable.
    var conjugatesVariable: Bool {
        switch self {
        case .function("conj", let items): return items.contains(where: \.hasVariables)
        case .number, .variable, .constant, .text: return false
        case .negate(let inner), .reciprocal(let inner): return inner.conjugatesVariable
        case .power(let a, let b), .plusMinus(let a, let b): return a.conjugatesVariable || b.conjugatesVariable
        case .sum(let items), .product(let items), .function(_, let items), .bracketed(_, _, let items), .set(let items),
            .list(let items), .union(let items), .relation(let items, _):
            return items.contains(where: \.conjugatesVariable)
        }
    }

    /// Whether the constant e appears.
    var mentionsEulerNumber: Bool {
        switch self {
        case .constant(.e): return true
        case .number, .variable, .constant, .text: return false
        case .negate(let inner), .reciprocal(let inner): return inner.mentionsEulerNumber
        case .power(let a, let b), .plusMinus(let a, let b): return a.mentionsEulerNumber || b.mentionsEulerNumber
        case .sum(let items), .product(let items), .function(_, let items), .bracketed(_, _, let items), .set(let items),
            .list(let items), .union(let items), .relation(let items, _):
            return items.contains(where: \.mentionsEulerNumber)
        }
    }

    /// A number as written: a literal, a fraction of literals, or either negated (`3.14`, `\frac{22}{7}`, `-0.5`).
    var isPlainNumber: Bool {
        switch self {
        case .number: return true
        case .negate(let inner), .reciprocal(let inner): return inner.isPlainNumber
        case .product(let factors): return factors.count <= 2 && factors.allSatisfy(\.isPlainNumber)
        case .power(let base, let exponent): return base.isPlainNumber && exponent.isPlainNumber
        default: return false
        }
    }

    /// Whether the expression is built from numbers and variables by +, −, ×, ÷ and integer powers only.
    var isRationalFunction: Bool {
        switch self {
        case .number, .variable: return true
        case .negate(let inner), .reciprocal(let inner): return inner.isRationalFunction
        case .sum(let items), .product(let items): return items.allSatisfy(\.isRationalFunction)
        case .power(let base, .number(let exponent, _)): return exponent.isInteger && base.isRationalFunction
        case .power(let base, .negate(.number(let exponent, _))): return exponent.isInteger && base.isRationalFunction
        default: return false
        }
    }

    /// Whether the expression involves π, e, a root, a logarithm, a trigonometric function or a non-integer power
    /// (so that its value is usually irrational).
    var mentionsIrrational: Bool {
        switch self {
        case .constant(.pi), .constant(.e): return true
        case .number, .variable, .constant, .text: return false
        case .function(let name, let items):
            return !["abs", "floor", "ceil", "factorial", "binomial", "percent", "gcd", "lcm", "det", "mod", "conj"].contains(name)
                || items.contains(where: \.mentionsIrrational)
        case .power(let base, let exponent):
            if case .number(let value, _) = exponent, value.isInteger { return base.mentionsIrrational }
            return true
        case .negate(let inner), .reciprocal(let inner): return inner.mentionsIrrational
        case .plusMinus(let a, let b): return a.mentionsIrrational || b.mentionsIrrational
        case .sum(let items), .product(let items), .bracketed(_, _, let items), .set(let items), .list(let items),
            .union(let items), .relation(let items, _):
            return items.contains(where: \.mentionsIrrational)
        }
    }

    /// Whether the expression names an unknown as written: a variable, or variables side by side (`f(x)`, which
    /// parses as `f·x`) — not `2x`, `x - 5` or `x^2`, whose bounds differ from the unknown's.
    var isUnknown: Bool {
        switch self {
        case .variable: return true
        case .product(let factors):
            return factors.allSatisfy {
                if case .variable = $0 { return true }
                return false
            }
        default: return false
        }
    }

    /// The expression with variables replaced by exact numbers.
    func substituting(_ values: [String: Rational]) -> MathExpr {
        switch self {
        case .variable(let name): return values[name].map { .number($0, decimal: false) } ?? self
        case .number, .constant, .text: return self
        case .negate(let inner): return .negate(inner.substituting(values))
        case .reciprocal(let inner): return .reciprocal(inner.substituting(values))
        case .power(let a, let b): return .power(a.substituting(values), b.substituting(values))
        case .plusMinus(let a, let b): return .plusMinus(a.substituting(values), b.substituting(values))
        case .sum(let items): return .sum(items.map { $0.substituting(values) })
        case .product(let items): return .product(items.map { $0.substituting(values) })
        case .function(let name, let items):
            if name == "sum" || name == "prod", items.count == 4, case .variable(let index) = items[0] {
                // The bound index keeps its name inside the term.
                var free = values
                free[index] = nil
                return .function(name, [items[0]] + items.dropFirst().map { $0.substituting(free) })
            }
            return .function(name, items.map { $0.substituting(values) })
        case .bracketed(let open, let close, let items):
            return .bracketed(open: open, close: close, items.map { $0.substituting(values) })
        case .set(let items): return .set(items.map { $0.substituting(values) })
        case .list(let items): return .list(items.map { $0.substituting(values) })
        case .union(let items): return .union(items.map { $0.substituting(values) })
        case .relation(let items, let ops): return .relation(items.map { $0.substituting(values) }, ops)
        }
    }

    /// The same with the constant i read as the variable `i` (the index of `\sum_{i=1}^{n}`).
    var imaginaryUnitAsIndex: MathExpr {
        switch self {
        case .constant(.i): return .variable("i")
        case .number, .variable, .constant, .text: return self
        case .negate(let inner): return .negate(inner.imaginaryUnitAsIndex)
        case .reciprocal(let inner): return .reciprocal(inner.imaginaryUnitAsIndex)
        case .power(let a, let b): return .power(a.imaginaryUnitAsIndex, b.imaginaryUnitAsIndex)
        case .plusMinus(let a, let b): return .plusMinus(a.imaginaryUnitAsIndex, b.imaginaryUnitAsIndex)
        case .sum(let items): return .sum(items.map(\.imaginaryUnitAsIndex))
        case .product(let items): return .product(items.map(\.imaginaryUnitAsIndex))
        case .function(let name, let items): return .function(name, items.map(\.imaginaryUnitAsIndex))
        case .bracketed(let open, let close, let items):
            return .bracketed(open: open, close: close, items.map(\.imaginaryUnitAsIndex))
        case .set(let items): return .set(items.map(\.imaginaryUnitAsIndex))
        case .list(let items): return .list(items.map(\.imaginaryUnitAsIndex))
        case .union(let items): return .union(items.map(\.imaginaryUnitAsIndex))
        case .relation(let items, let ops): return .relation(items.map(\.imaginaryUnitAsIndex), ops)
        }
    }

    /// `∞` or `-∞` as written.
    var isInfinityLiteral: Bool {
        switch self {
        case .constant(.infinity): return true
        case .negate(let inner): return inner.isInfinityLiteral
        default: return false
        }
    }

    /// Whether ∞ appears inside arithmetic rather than as a bare value.
    var usesInfinityInArithmetic: Bool {
        guard !isInfinityLiteral else { return false }
        return containsInfinity
    }

    private var containsInfinity: Bool {
        switch self {
        case .constant(.infinity): return true
        case .number, .variable, .constant, .text: return false
        case .negate(let inner), .reciprocal(let inner): return inner.containsInfinity
        case .power(let a, let b), .plusMinus(let a, let b): return a.containsInfinity || b.containsInfinity
        case .sum(let items), .product(let items), .function(_, let items), .bracketed(_, _, let items), .set(let items),
            .list(let items), .union(let items), .relation(let items, _):
            return items.contains(where: \.containsInfinity)
        }
    }

    /// Whether this names a quantity rather than computing one: `x`, `(p, q)`, `f(x)`, `|AB|`, `NO/BO`, `A:B`.
    /// A sum such as `2x + z` is not a label, so `2x + z = 1` is an equation, not the value 1.
    var isLabel: Bool {
        switch self {
        case .variable: return true
        case .product(let factors): return factors.allSatisfy(\.isLabelFactor)
        case .function("abs", let arguments): return arguments.allSatisfy(\.isLabel)
        case .bracketed(_, _, let items): return items.allSatisfy(\.isLabel)
        default: return false
        }
    }

    private var isLabelFactor: Bool {
        switch self {
        case .variable: return true
        case .reciprocal(let inner): return inner.isLabel
        case .bracketed, .function("abs", _), .product: return isLabel
        default: return false
        }
    }

    /// Whether it has a percent sign.
    var hasPercent: Bool {
        if case .function("percent", _) = self { return true }
        switch self {
        case .sum(let items), .product(let items): return items.contains(where: \.hasPercent)
        case .negate(let inner): return inner.hasPercent
        default: return false
        }
    }

    /// The same with every percent sign removed.
    var droppingPercent: MathExpr {
        switch self {
        case .function("percent", let arguments): return arguments[0]
        case .sum(let items): return .sum(items.map(\.droppingPercent))
        case .product(let items): return .product(items.map(\.droppingPercent))
        case .negate(let inner): return .negate(inner.droppingPercent)
        default: return self
        }
    }

    /// Whether a number in it was written as a decimal.
    var hasDecimal: Bool {
        switch self {
        case .number(_, let decimal): return decimal
        case .variable, .constant, .text: return false
        case .negate(let inner), .reciprocal(let inner): return inner.hasDecimal
        case .power(let a, let b), .plusMinus(let a, let b): return a.hasDecimal || b.hasDecimal
        case .sum(let items), .product(let items), .function(_, let items), .bracketed(_, _, let items), .set(let items),
            .list(let items), .union(let items), .relation(let items, _):
            return items.contains(where: \.hasDecimal)
        }
    }
}

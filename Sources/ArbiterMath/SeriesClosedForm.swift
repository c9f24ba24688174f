// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import BigInt

/// Sums of polynomial terms with a bound in a variable, in closed form: `\sum_{k=a}^{b} P(k)` with P a polynomial in
/// the index k (of degree at most ``maxDegree``, its coefficients free of k) and integer-valued bounds (integers and
/// variables under `+`, `−`, `×` and whole powers) is `Σ_j c_j (F_j(b) − F_j(a − 1))`, where `F_j(m) = Σ_{k=1}^{m} k^j`
/// is Faulhaber's polynomial with exact rational coefficients (from the Bernoulli numbers). As polynomials,
/// `F_j(m) − F_j(m − 1) = m^j`, so the rewrite is an identity for every pair of integer bounds with `b ≥ a − 1` — the
/// reading of a sum whose bound is a variable. So `\sum_{k=1}^{n} k` is `\frac{n(n+1)}{2}`; a term that is no
/// polynomial in k (`\frac{1}{k}`, `2^k`, `F_k`) or a bound such as `n/2` is left as it is (a missed reward at worst).
enum SeriesClosedForm {
    /// Highest power of the index rewritten.
    static let maxDegree = 10
    /// Most nodes of a rewritten expression (past it, nothing is rewritten).
    static let maxNodes = 5_000

    /// The expression with every such sum rewritten; `nil` when there is none.
    static func rewritten(_ expression: MathExpr) -> MathExpr? {
        guard mentionsSum(expression) else { return nil }  // nothing to rebuild
        var changed = false
        let result = rewrite(expression, &changed)
        guard changed, Evaluator.size(of: result, limit: maxNodes + 1) <= maxNodes else { return nil }
        return result
    }

    /// Whether a sum occurs anywhere in the expression.
    private static func mentionsSum(_ expression: MathExpr) -> Bool {
        switch expression {
        case .number, .variable, .constant, .text: return false
        case .function("sum", _): return true
        case .negate(let inner), .reciprocal(let inner): return mentionsSum(inner)
        case .power(let a, let b), .plusMinus(let a, let b): return mentionsSum(a) || mentionsSum(b)
        case .sum(let items), .product(let items), .function(_, let items), .bracketed(_, _, let items), .set(let items),
            .list(let items), .union(let items), .relation(let items, _):
            return items.contains(where: mentionsSum)
        }
    }

    private static func rewrite(_ expression: MathExpr, _ changed: inout Bool) -> MathExpr {
        switch expression {
        case .number, .variable, .constant, .text: return expression
        case .negate(let inner): return .negate(rewrite(inner, &changed))
        case .reciprocal(let inner): return .reciprocal(rewrite(inner, &changed))
        case .power(let a, let b): return .power(rewrite(a, &changed), rewrite(b, &changed))
        case .plusMinus(let a, let b): return .plusMinus(rewrite(a, &changed), rewrite(b, &changed))
        case .sum(let items): return .sum(items.map { rewrite($0, &changed) })
        case .product(let items): return .product(items.map { rewrite($0, &changed) })
        case .bracketed(let open, let close, let items):
            return .bracketed(open: open, close: close, items.map { rewrite($0, &changed) })
        case .set(let items): return .set(items.map { rewrite($0, &changed) })
        case .list(let items): return .list(items.map { rewrite($0, &changed) })
        case .union(let items): return .union(items.map { rewrite($0, &changed) })
        case .relation(let items, let ops): return .relation(items.map { rewrite($0, &changed) }, ops)
        case .function(let name, let items):
            // Inner sums first, so that a sum of a sum of a polynomial term is a polynomial too.
            let inner = items.map { rewrite($0, &changed) }
            if name == "sum", inner.count == 4, case .variable(let index) = inner[0],
                let closed = closedSum(index: index, first: inner[1], last: inner[2], term: inner[3])
            {
                changed = true
                return closed
            }
            return .function(name, inner)
        }
    }

    /// `Σ_{index=first}^{last} term` in closed form, or `nil` (whole bounds are left to term-by-term evaluation).
    private static func closedSum(index: String, first: MathExpr, last: MathExpr, term: MathExpr) -> MathExpr? {
        guard first.hasVariables || last.hasVariables, isIntegerPolynomial(first, avoiding: index),
            isIntegerPolynomial(last, avoiding: index), let coefficients = polynomial(term, in: index)
        else { return nil }
        let before = MathExpr.sum([first, .number(Rational(-1), decimal: false)])
        var parts: [MathExpr] = []
        for (degree, coefficient) in coefficients.enumerated() {
            guard let coefficient else { continue }
            let difference = MathExpr.sum([faulhaber(degree, at: last), .negate(faulhaber(degree, at: before))])
            parts.append(.product([coefficient, difference]))
        }
        return parts.isEmpty ? .number(.zero, decimal: false) : .sum(parts)
    }

    /// Whether a bound takes integer values at integer values of its variables: integers and variables (not the
    /// index) under sums, products, negation and whole powers.
    private static func isIntegerPolynomial(_ expression: MathExpr, avoiding index: String) -> Bool {
        switch expression {
        case .number(let value, _): return value.isInteger
        case .variable(let name): return name != index
        case .negate(let inner): return isIntegerPolynomial(inner, avoiding: index)
        case .sum(let items), .product(let items): return items.allSatisfy { isIntegerPolynomial($0, avoiding: index) }
        case .power(let base, .number(let exponent, _)):
            return isSmallDegree(exponent) && isIntegerPolynomial(base, avoiding: index)
        default: return false
        }
    }

    /// Whether an exponent is a whole number from 0 to ``maxDegree``.
    private static func isSmallDegree(_ exponent: Rational) -> Bool {
        exponent.isInteger && !exponent.isNegative && exponent.numerator <= BigInt(maxDegree)
    }

    /// The coefficients of the term as a polynomial in the index (position j holds the coefficient of index^j, `nil`
    /// for none), each free of the index; `nil` when the term is no such polynomial.
    private static func polynomial(_ expression: MathExpr, in index: String) -> [MathExpr?]? {
        if !expression.variables.contains(index) { return [expression] }
        switch expression {
        case .variable(let name) where name == index: return [nil, .number(.one, decimal: false)]
        case .negate(let inner):
            return polynomial(inner, in: index).map { $0.map { $0.map { MathExpr.negate($0) } } }
        case .sum(let items):
            var total: [MathExpr?] = []
            for item in items {
                guard let part = polynomial(item, in: index) else { return nil }
                total = add(total, part)
            }
            return total
        case .product(let items):
            var total: [MathExpr?] = [.number(.one, decimal: false)]
            for item in items {
                guard let part = polynomial(item, in: index), let next = multiply(total, part) else { return nil }
                total = next
            }
            return total
        case .power(let base, .number(let exponent, _)):
            guard isSmallDegree(exponent), let part = polynomial(base, in: index)
            else { return nil }
            var total: [MathExpr?] = [.number(.one, decimal: false)]
            for _ in 0..<Int(exponent.numerator) {
                guard let next = multiply(total, part) else { return nil }
                total = next
            }
            return total
        default: return nil
        }
    }

    private static func add(_ a: [MathExpr?], _ b: [MathExpr?]) -> [MathExpr?] {
        var result = a
        for (degree, coefficient) in b.enumerated() {
            guard let coefficient else { continue }
            if degree >= result.count { result += Array(repeating: nil, count: degree - result.count + 1) }
            result[degree] = result[degree].map { .sum([$0, coefficient]) } ?? coefficient
        }
        return result
    }

    private static func multiply(_ a: [MathExpr?], _ b: [MathExpr?]) -> [MathExpr?]? {
        guard a.count + b.count - 2 <= maxDegree else { return nil }
        var result: [MathExpr?] = Array(repeating: nil, count: max(0, a.count + b.count - 1))
        for (i, x) in a.enumerated() {
            guard let x else { continue }
            for (j, y) in b.enumerated() {
                guard let y else { continue }
                let term = MathExpr.product([x, y])
                result[i + j] = result[i + j].map { .sum([$0, term]) } ?? term
            }
        }
        return result
    }

    /// `F_degree(m) = Σ_{k=1}^{m} k^degree` as a polynomial in the expression m.
    private static func faulhaber(_ degree: Int, at m: MathExpr) -> MathExpr {
        let coefficients = faulhaberCoefficients[degree]
        var parts: [MathExpr] = []
        for (power, coefficient) in coefficients.enumerated() where !coefficient.isZero {
            parts.append(.product([.number(coefficient, decimal: false), .power(m, .number(Rational(power), decimal: false))]))
        }
        return .sum(parts)
    }

    /// For each degree j up to ``maxDegree``, the coefficients of `F_j(m)` by power of m:
    /// `F_j(m) = 1/(j+1) Σ_{i=0}^{j} C(j+1, i) B_i m^{j+1−i}` with the Bernoulli numbers `B_i` (`B_1 = +1/2`).
    static let faulhaberCoefficients: [[Rational]] = {
        let count = maxDegree + 1
        func binomial(_ n: Int, _ k: Int) -> Rational {
            var value = BigInt(1)
            for step in 0..<k { value = value * BigInt(n - step) / BigInt(step + 1) }
            return Rational(value)
        }
        // Bernoulli numbers with B_1 = −1/2 from Σ_{i=0}^{m} C(m+1, i) B_i = 0, then B_1 taken as +1/2.
        var bernoulli: [Rational] = [.one]
        for m in 1..<count {
            var sum = Rational.zero
            for i in 0..<m { sum = sum + binomial(m + 1, i) * bernoulli[i] }
            bernoulli.append(-(sum.divided(by: Rational(m + 1)) ?? .zero))
        }
        bernoulli[1] = Rational(1, 2)
        var table: [[Rational]] = []
        for j in 0..<count {
            var coefficients = Array(repeating: Rational.zero, count: j + 2)
            for i in 0...j {
                coefficients[j + 1 - i] = coefficients[j + 1 - i]
                    + (binomial(j + 1, i) * bernoulli[i]).divided(by: Rational(j + 1))!
            }
            table.append(coefficients)
        }
        return table
    }()
}

// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import BigInt

/// A non-zero number too large to write out, as a sign and a product of powers of integers greater than 1:
/// `2^{2^{20}}` is `{2: 1048576}`, `10^{10^6}` is `{10: 10^6}`. Nothing is ever multiplied out.
///
/// Two forms are compared over a common coprime basis (every pair of bases shares no factor, found by gcds, never
/// by factoring): over such a basis a product of powers is unique, fractional exponents included, so equal forms
/// are equal numbers and different forms different numbers. An exponent too large for ``MathBudget/maxBits`` is
/// itself a power product (`2^{2^{2^{20}}}` has exponent `{2: 2^{20}}`), so towers are compared by their exact
/// logarithms, level by level.
struct PowerProduct: Equatable {
    /// An exponent: exact while it fits the exact budget, else symbolic.
    indirect enum Exponent: Equatable {
        case exact(Rational)
        case symbolic(PowerProduct)
    }

    var negative = false
    var factors: [BigUInt: Exponent] = [:]

    /// Coprime refinement rounds before giving up (each round splits one pair of bases).
    static let maxRefinements = 256
    /// Most bases one form may carry.
    static let maxFactors = 64

    /// The form of a non-zero rational: its numerator and denominator as bases with exponents 1 and −1.
    init?(_ value: Rational) {
        guard !value.isZero else { return nil }
        negative = value.isNegative
        let top = value.numerator.magnitude
        let bottom = value.denominator.magnitude
        if top > 1 { factors[top] = .exact(.one) }
        if bottom > 1 { factors[bottom] = .exact(-Rational.one) }
    }

    init() {}

    /// Whether the value is ±1 written with no base.
    var isUnit: Bool { factors.isEmpty }

    /// The product of two forms; `nil` when an exponent sum would need a symbolic exponent added.
    func multiplied(by other: PowerProduct) -> PowerProduct? {
        var result = self
        result.negative = negative != other.negative
        for (base, exponent) in other.factors {
            guard let merged = Self.add(result.factors[base], exponent) else { return nil }
            result.factors[base] = merged
        }
        result.factors = result.factors.filter { $0.value != .exact(.zero) }
        guard result.factors.count <= Self.maxFactors else { return nil }
        return result
    }

    /// The form raised to an exponent; `nil` when a sign or a sum of exponents cannot be decided.
    func raised(to exponent: Exponent) -> PowerProduct? {
        var result = PowerProduct()
        if negative {
            // A negative base needs an integer exponent, whose parity gives the sign.
            guard case .exact(let value) = exponent, value.isInteger else {
                guard case .symbolic(let symbolic) = exponent, let even = symbolic.isEven else { return nil }
                result.negative = !even
                return raisedFactors(into: result, exponent)
            }
            result.negative = value.numerator.magnitude % 2 == 1
        }
        return raisedFactors(into: result, exponent)
    }

    private func raisedFactors(into start: PowerProduct, _ exponent: Exponent) -> PowerProduct? {
        var result = start
        for (base, current) in factors {
            guard let product = Self.multiply(current, exponent) else { return nil }
            result.factors[base] = product
        }
        result.factors = result.factors.filter { $0.value != .exact(.zero) }
        return result
    }

    /// Whether a symbolic (hence huge) integer is even: some base is even with a positive integer exponent and the
    /// rest are integers; `nil` when that cannot be told.
    private var isEven: Bool? {
        var even = false
        for (base, exponent) in factors {
            guard case .exact(let value) = exponent, value.isInteger, !value.isNegative else {
                if case .symbolic(let power) = exponent, !power.negative, base % 2 == 0 { even = true; continue }
                return nil
            }
            if base % 2 == 0 { even = true }
        }
        return even
    }

    // MARK: Exponent arithmetic

    static func add(_ left: Exponent?, _ right: Exponent) -> Exponent? {
        guard let left else { return right }
        guard case .exact(let x) = left, case .exact(let y) = right else { return nil }
        let sum = x + y
        return sum.bitSize <= MathBudget.maxBits ? .exact(sum) : nil
    }

    static func multiply(_ left: Exponent, _ right: Exponent) -> Exponent? {
        if case .exact(let x) = left, case .exact(let y) = right {
            let product = x * y
            if product.bitSize <= MathBudget.maxBits { return .exact(product) }
        }
        if left == .exact(.zero) || right == .exact(.zero) { return .exact(.zero) }
        guard let x = symbolic(left), let y = symbolic(right), let product = x.multiplied(by: y) else { return nil }
        return normalized(product)
    }

    /// An exponent as a power product.
    static func symbolic(_ exponent: Exponent) -> PowerProduct? {
        switch exponent {
        case .exact(let value): return PowerProduct(value)
        case .symbolic(let form): return form
        }
    }

    /// A symbolic exponent that fits the exact budget becomes exact again, so that each value has one spelling.
    static func normalized(_ form: PowerProduct) -> Exponent {
        var value = Rational.one
        for (base, exponent) in form.factors {
            guard case .exact(let power) = exponent, power.isInteger,
                let factor = Rational(BigInt(base)).power(power.numerator, maxBits: MathBudget.maxBits)
            else { return .symbolic(form) }
            value = value * factor
            guard value.bitSize <= MathBudget.maxBits else { return .symbolic(form) }
        }
        return .exact(form.negative ? -value : value)
    }

    // MARK: Comparison

    /// Whether two forms are the same number; `nil` when that cannot be decided within the budget (an exact
    /// exponent against a symbolic one, a basis that does not settle).
    static func equal(_ left: PowerProduct, _ right: PowerProduct) -> Bool? {
        guard var pair = refine([left, right]) else { return nil }
        let (x, y) = (pair.removeFirst(), pair.removeFirst())
        guard Set(x.factors.keys) == Set(y.factors.keys) else { return false }
        var undecided = false
        for (base, exponent) in x.factors {
            guard let other = y.factors[base] else { return false }
            switch (exponent, other) {
            case (.exact(let a), .exact(let b)):
                if a != b { return false }
            case (.symbolic(let a), .symbolic(let b)):
                guard let same = equal(a, b) else { undecided = true; continue }
                if !same { return false }
            default:
                undecided = true
            }
        }
        if undecided { return nil }
        return x.negative == y.negative
    }

    /// The forms rewritten over one coprime basis: while two bases share a factor g, each is split into g and the
    /// rest.
    static func refine(_ forms: [PowerProduct]) -> [PowerProduct]? {
        var forms = forms
        for _ in 0..<maxRefinements {
            let bases = Array(Set(forms.flatMap(\.factors.keys))).sorted()
            guard let (a, b, g) = sharedFactor(bases) else { return forms }
            for index in forms.indices {
                for base in [a, b] {
                    guard let exponent = forms[index].factors.removeValue(forKey: base) else { continue }
                    // base = g^k · rest with g not dividing rest: (g^k · rest)^e = g^(k·e) · rest^e (4^e is 2^(2e),
                    // a multiplication, so that it works on symbolic exponents too).
                    var rest = base
                    var count = 0
                    while rest % g == 0, count < 4096 {
                        rest /= g
                        count += 1
                    }
                    guard let scaled = multiply(exponent, .exact(Rational(count))) else { return nil }
                    var split = PowerProduct()
                    split.factors[g] = scaled
                    if rest > 1 { split.factors[rest] = exponent }
                    guard let merged = forms[index].multiplied(by: split) else { return nil }
                    forms[index] = merged
                }
            }
        }
        return nil
    }

    private static func sharedFactor(_ bases: [BigUInt]) -> (BigUInt, BigUInt, BigUInt)? {
        for (offset, a) in bases.enumerated() {
            for b in bases[(offset + 1)...] {
                let g = a.greatestCommonDivisor(with: b)
                if g > 1 { return (a, b, g) }
            }
        }
        return nil
    }
}

extension Evaluator {
    /// The power product of an expression without variables that is built from numbers by ×, ÷, powers and roots
    /// (sums and other functions are evaluated exactly when they are small); `nil` when it is not such a value.
    mutating func powerProduct(_ expression: MathExpr, depth: Int = 0) -> PowerProduct? {
        guard depth < 64, budget.spend() else { return nil }
        switch expression {
        case .number(let value, _): return PowerProduct(value)
        case .negate(let inner):
            guard var form = powerProduct(inner, depth: depth + 1) else { return nil }
            form.negative.toggle()
            return form
        case .reciprocal(let inner):
            return powerProduct(inner, depth: depth + 1)?.raised(to: .exact(-Rational.one))
        case .product(let factors):
            var total = PowerProduct()
            for factor in factors {
                guard let form = powerProduct(factor, depth: depth + 1), let product = total.multiplied(by: form) else {
                    return nil
                }
                total = product
            }
            return total
        case .power(let base, let exponent):
            guard let form = powerProduct(base, depth: depth + 1), let power = exponentValue(exponent, depth: depth)
            else { return nil }
            return form.raised(to: power)
        case .function("sqrt", let arguments) where arguments.count == 2:
            guard let index = smallExact(arguments[1]), let reciprocal = Rational.one.divided(by: index),
                let form = powerProduct(arguments[0], depth: depth + 1)
            else { return nil }
            // An even root of a negative number is not real.
            if form.negative, !(index.isInteger && index.numerator.magnitude % 2 == 1) { return nil }
            if form.negative {
                var positive = form
                positive.negative = false
                guard var root = positive.raised(to: .exact(reciprocal)) else { return nil }
                root.negative = true
                return root
            }
            return form.raised(to: .exact(reciprocal))
        default:
            guard let value = smallExact(expression) else { return nil }
            return PowerProduct(value)
        }
    }

    /// An exponent: exact when it evaluates within the budget, else its own power product.
    private mutating func exponentValue(_ expression: MathExpr, depth: Int) -> PowerProduct.Exponent? {
        if let value = smallExact(expression) { return .exact(value) }
        guard let form = powerProduct(expression, depth: depth + 1) else { return nil }
        return PowerProduct.normalized(form)
    }

    /// The exact value of a subexpression, or `nil` when it has none or is too large to write out.
    private mutating func smallExact(_ expression: MathExpr) -> Rational? {
        if let value = exact(expression) { return value }
        // Over the bit budget is not over the step budget: the steps spent stay spent.
        budget.exceeded = budget.steps > MathBudget.maxSteps
        return nil
    }
}

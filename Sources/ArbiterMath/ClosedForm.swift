// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import BigInt

/// An exact constant as a sum of rational multiples of monomials in primes (to fractional powers), π, e, logarithms
/// of primes and of π, and i: `e^{3\ln 2}` is 8, `\log_2 32` is 5, `\sqrt 8` is `2\sqrt 2`, `\sin\frac{\pi}{6}` is ½.
///
/// Each rewrite is an identity (`e^{a\ln p} = p^a`, `\ln(p^a) = a\ln p`, `(p^a)^b = p^{ab}` for a positive p,
/// exact sines at multiples of π/12), and the form is unique given that distinct monomials are linearly independent
/// over ℚ — proved for radicals of primes (Besicovitch), assumed for π, e and logarithms, between which no relation is
/// known. Equal forms are equal values; different forms are different values, so a nudge (`\pi + 10^{-15}`) is never
/// mistaken for rounding. What the rewrites do not cover (a sum under a root, a sine of 1) has no form.
struct ClosedForm: Equatable {
    enum Atom: Hashable {
        case prime(UInt64)
        case pi
        case e
        case log(UInt64)
        case logPi
        case i
    }

    typealias Monomial = [Atom: Rational]

    var terms: [Monomial: Rational] = [:]

    static let maxTerms = 64
    /// Most atoms in one monomial (an answer of a thousand different radicals has no closed form worth the work).
    static let maxAtoms = 16
    /// Largest integer factored (by trial division: at most 5,000 odd divisors, so that an answer of many radicals
    /// stays cheap).
    static let maxFactored: UInt64 = 100_000_000

    init(_ value: Rational) {
        if !value.isZero { terms[[:]] = value }
    }

    init(atom: Atom) {
        terms[[atom: .one]] = .one
    }

    init(terms: [Monomial: Rational]) {
        self.terms = terms
    }

    /// Whether some term has a factor i.
    var mentionsI: Bool { terms.keys.contains { $0[.i] != nil } }

    /// The rational value when there is no monomial.
    var rational: Rational? {
        if terms.isEmpty { return .zero }
        guard terms.count == 1, let coefficient = terms[[:]] else { return nil }
        return coefficient
    }

    /// The only term, when there is one.
    var single: (coefficient: Rational, monomial: Monomial)? {
        guard terms.count == 1, let (monomial, coefficient) = terms.first else { return nil }
        return (coefficient, monomial)
    }

    static func + (a: ClosedForm, b: ClosedForm) -> ClosedForm? {
        // Two rationals: the general sum's result (one term or none), without copying and updating a dictionary.
        if let x = a.rational, let y = b.rational { return ClosedForm(x + y) }
        var result = a.terms
        for (monomial, coefficient) in b.terms {
            let sum = (result[monomial] ?? .zero) + coefficient
            result[monomial] = sum.isZero ? nil : sum
        }
        return result.count <= maxTerms ? ClosedForm(terms: result) : nil
    }

    var negated: ClosedForm { ClosedForm(terms: terms.mapValues { -$0 }) }

    /// The most bits of any coefficient (numerator plus denominator).
    var bitSize: Int { terms.values.reduce(0) { max($0, $1.bitSize) } }

    static func * (a: ClosedForm, b: ClosedForm) -> ClosedForm? {
        // Two rationals (or a zero): what the loop below computes for them — the same size limits, the same result —
        // without its dictionaries.
        if let x = a.rational, let y = b.rational {
            if a.terms.isEmpty || b.terms.isEmpty { return ClosedForm(terms: [:]) }
            guard x.bitSize + y.bitSize <= MathBudget.maxBits else { return nil }
            let coefficient = x * y
            guard coefficient.bitSize <= 4096 else { return nil }
            return ClosedForm(coefficient)
        }
        guard a.terms.count * b.terms.count <= maxTerms * 4 else { return nil }
        // Summed in place, in the order and with the term limit of `result + term` (which copied the sum each time).
        var result: [Monomial: Rational] = [:]
        for (m1, c1) in a.terms {
            for (m2, c2) in b.terms {
                // Coefficients stay within the exact budget's size, as in exact arithmetic: a product of thousands of
                // rationals otherwise grew one coefficient without bound, each step reducing it by a gcd (cubic time).
                guard c1.bitSize + c2.bitSize <= MathBudget.maxBits else { return nil }
                guard let term = product(c1 * c2, m1, m2) else { return nil }
                for (monomial, coefficient) in term.terms {
                    let sum = (result[monomial] ?? .zero) + coefficient
                    result[monomial] = sum.isZero ? nil : sum
                }
                guard result.count <= maxTerms else { return nil }
            }
        }
        return ClosedForm(terms: result)
    }

    /// `c · m1 · m2` with the exponents normalised: a prime keeps the fractional part of its exponent (the integer
    /// part moves into the coefficient), `i²` is −1.
    private static func product(_ coefficient: Rational, _ m1: Monomial, _ m2: Monomial) -> ClosedForm? {
        var monomial = m1
        for (atom, exponent) in m2 { monomial[atom] = (monomial[atom] ?? .zero) + exponent }
        guard monomial.count <= maxAtoms * 2 else { return nil }
        var coefficient = coefficient
        for (atom, exponent) in monomial {
            switch atom {
            case .prime(let p):
                let whole = floor(exponent)
                let fraction = exponent - whole
                if !whole.isZero {  // p^0 is 1: nothing to multiply
                    guard let factor = Self.rational(p).power(whole.numerator, maxBits: 4096) else { return nil }
                    coefficient = coefficient * factor
                }
                monomial[atom] = fraction.isZero ? nil : fraction
            case .i:
                guard exponent.isInteger else { return nil }
                let k = Int(((exponent.numerator % 4) + 4) % 4)
                if k >= 2 { coefficient = -coefficient }
                monomial[atom] = k % 2 == 1 ? .one : nil
            default:
                if exponent.isZero { monomial[atom] = nil }
            }
        }
        guard coefficient.bitSize <= 4096, monomial.count <= maxAtoms else { return nil }
        return coefficient.isZero ? ClosedForm(.zero) : ClosedForm(terms: [monomial: coefficient])
    }

    private static func floor(_ value: Rational) -> Rational {
        if let (top, bottom) = value.machineParts {
            let (quotient, remainder) = top.quotientAndRemainder(dividingBy: bottom)
            return Rational(remainder == 0 || top >= 0 ? quotient : quotient - 1)
        }
        let (quotient, remainder) = value.numerator.quotientAndRemainder(dividingBy: value.denominator)
        return Rational(remainder.isZero || !value.isNegative ? quotient : quotient - 1)
    }

    private static let maxFactoredBig = BigUInt(maxFactored)

    /// A prime as a rational, without a generic conversion to BigInt when it fits a machine word.
    private static func rational(_ p: UInt64) -> Rational {
        p < 1 << 62 ? Rational(Int(p)) : Rational(BigInt(p))
    }

    /// The prime factors of a positive integer up to ``maxFactored``.
    static func factor(_ value: BigUInt) -> [UInt64: Int]? {
        guard value >= 1, value <= maxFactoredBig else { return nil }
        var n = UInt64(value)
        var result: [UInt64: Int] = [:]
        var p: UInt64 = 2
        while p * p <= n {
            while n % p == 0 {
                result[p, default: 0] += 1
                n /= p
            }
            p += p == 2 ? 1 : 2
        }
        if n > 1 { result[n, default: 0] += 1 }
        return result
    }

    /// The form raised to a rational power: integer powers by multiplication, others of one term only.
    func power(_ exponent: Rational) -> ClosedForm? {
        if exponent.isZero { return ClosedForm(.one) }
        if exponent.isInteger, !exponent.isNegative, exponent.numerator <= 32 {
            var result = ClosedForm(.one)
            for _ in 0..<Int(exponent.numerator) {
                guard let next = result * self else { return nil }
                result = next
            }
            return result
        }
        guard let (coefficient, monomial) = single else { return nil }
        var result = ClosedForm(.one)
        if coefficient.isNegative {
            // A negative number to p/q: the real root for an odd q, the principal value i^p·|x|^{p/2} for q = 2.
            if exponent.denominator % 2 == 1 {
                if exponent.numerator % 2 != 0 { result = result.negated }
            } else if exponent.denominator == 2 {
                guard let i = ClosedForm(atom: .i).power(Rational(exponent.numerator)) else { return nil }
                result = i
            } else {
                return nil
            }
        }
        let magnitude = coefficient.isNegative ? -coefficient : coefficient
        guard let top = Self.factor(magnitude.numerator.magnitude), let bottom = Self.factor(magnitude.denominator.magnitude)
        else { return nil }
        var powered: Monomial = [:]
        for (p, k) in top { powered[.prime(p), default: .zero] = powered[.prime(p), default: .zero] + Rational(k) * exponent }
        for (p, k) in bottom { powered[.prime(p), default: .zero] = powered[.prime(p), default: .zero] - Rational(k) * exponent }
        for (atom, current) in monomial {
            // (i^1)^r is only i^r for an integer r.
            if atom == .i, !exponent.isInteger { return nil }
            powered[atom, default: .zero] = powered[atom, default: .zero] + current * exponent
        }
        guard let term = Self.product(.one, powered, [:]) else { return nil }
        return result * term
    }

    /// `e^S`: the rational part of S gives a power of e, multiples of `\ln p` and `\ln π` give powers of p and π;
    /// `nil` when anything else is left.
    func exp() -> ClosedForm? {
        var result = ClosedForm(.one)
        for (monomial, coefficient) in terms {
            let factor: ClosedForm?
            if monomial.isEmpty {
                factor = ClosedForm(.one) * ClosedForm(terms: [[.e: coefficient]: .one])
            } else if monomial.count == 1, let (atom, power) = monomial.first, power == .one {
                switch atom {
                case .log(let p): factor = ClosedForm(Self.rational(p)).power(coefficient)
                case .logPi: factor = ClosedForm(.one) * ClosedForm(terms: [[.pi: coefficient]: .one])
                default: factor = nil
                }
            } else {
                factor = nil
            }
            guard let factor, let next = result * factor else { return nil }
            result = next
        }
        return result
    }

    /// `\ln` of a positive single term.
    func log() -> ClosedForm? {
        guard let (coefficient, monomial) = single, !coefficient.isNegative,
            let top = Self.factor(coefficient.numerator.magnitude), let bottom = Self.factor(coefficient.denominator.magnitude)
        else { return nil }
        var result = ClosedForm(.zero)
        var parts: [(Atom, Rational)] = top.map { (.log($0.key), Rational($0.value)) }
        parts += bottom.map { (.log($0.key), -Rational($0.value)) }
        for (atom, exponent) in monomial {
            switch atom {
            case .prime(let p): parts.append((.log(p), exponent))
            case .pi: parts.append((.logPi, exponent))
            case .e:
                guard let sum = result + ClosedForm(exponent) else { return nil }
                result = sum
            default: return nil
            }
        }
        for (atom, multiple) in parts {
            guard let sum = result + ClosedForm(terms: [[atom: .one]: multiple]) else { return nil }
            result = sum
        }
        return result
    }

    /// `self / other`: by one term's inverse, or the rational ratio of proportional sums.
    func divided(by other: ClosedForm) -> ClosedForm? {
        if other.terms.isEmpty { return nil }
        if other.single != nil, let inverse = other.power(-Rational.one) { return self * inverse }
        guard let (monomial, coefficient) = other.terms.first, let mine = terms[monomial],
            let ratio = mine.divided(by: coefficient), let scaled = other * ClosedForm(ratio), scaled == self
        else { return nil }
        return ClosedForm(ratio)
    }

    /// `\sin(qπ)` for q a multiple of 1/12.
    static func sine(of argument: ClosedForm) -> ClosedForm? {
        let q: Rational
        if argument.terms.isEmpty {
            q = .zero
        } else {
            guard let (coefficient, monomial) = argument.single, monomial == [.pi: .one] else { return nil }
            q = coefficient
        }
        guard let twelfths = (q * Rational(12)).numerator.magnitude <= 1 << 40 ? q * Rational(12) : nil,
            twelfths.isInteger
        else { return nil }
        var k = Int(((twelfths.numerator % 24) + 24) % 24)
        var sign = Rational.one
        if k >= 12 {
            sign = -sign
            k -= 12
        }
        if k > 6 { k = 12 - k }
        let root2 = ClosedForm(terms: [[.prime(2): Rational(1, 2)]: .one])
        let root3 = ClosedForm(terms: [[.prime(3): Rational(1, 2)]: .one])
        let root6 = ClosedForm(terms: [[.prime(2): Rational(1, 2), .prime(3): Rational(1, 2)]: .one])
        let value: ClosedForm?
        switch k {
        case 0: value = ClosedForm(.zero)
        case 1: value = (root6 + root2.negated).flatMap { $0 * ClosedForm(Rational(1, 4)) }
        case 2: value = ClosedForm(Rational(1, 2))
        case 3: value = root2 * ClosedForm(Rational(1, 2))
        case 4: value = root3 * ClosedForm(Rational(1, 2))
        case 5: value = (root6 + root2).flatMap { $0 * ClosedForm(Rational(1, 4)) }
        default: value = ClosedForm(.one)
        }
        return value.flatMap { $0 * ClosedForm(sign) }
    }
}

extension Evaluator {
    /// The closed form of an expression without variables, or `nil` when the rewrites do not reach one.
    mutating func closedForm(_ expression: MathExpr, depth: Int = 0) -> ClosedForm? {
        guard depth < 64, budget.spend(4) else { return nil }
        switch expression {
        case .number(let value, _): return ClosedForm(value)
        case .constant(.pi): return ClosedForm(atom: .pi)
        case .constant(.e): return ClosedForm(atom: .e)
        case .constant(.i): return ClosedForm(atom: .i)
        case .negate(let inner): return closedForm(inner, depth: depth + 1)?.negated
        case .reciprocal(let inner): return closedForm(inner, depth: depth + 1)?.power(-Rational.one)
        case .sum(let items):
            var total = ClosedForm(.zero)
            for item in items {
                guard let form = closedForm(item, depth: depth + 1), let sum = total + form,
                    budget.spend(bits: sum.bitSize)
                else { return nil }
                total = sum
            }
            return total
        case .product(let items):
            // Each step is paid by the size of its coefficients, as in exact arithmetic (fuzz finding 2026-12-06:
            // `\tan^2` of a product of 200-odd variables at exact points took 17 s under the sanitizer, cubic in length).
            var total = ClosedForm(.one)
            for item in items {
                guard let form = closedForm(item, depth: depth + 1), let product = total * form,
                    budget.spend(bits: product.bitSize)
                else { return nil }
                total = product
            }
            return total
        case .power(let base, let exponent):
            guard let power = closedForm(exponent, depth: depth + 1) else { return nil }
            if base == .constant(.e) { return power.exp() }
            guard let form = closedForm(base, depth: depth + 1) else { return nil }
            if let rational = power.rational { return form.power(rational) }
            // b^S = e^{S ln b} for a positive b.
            guard let log = form.log(), let exponentLog = power * log else { return nil }
            return exponentLog.exp()
        case .function(let name, let arguments):
            return closedFunction(name, arguments, depth: depth)
        default:
            return nil
        }
    }

    private mutating func closedFunction(_ name: String, _ arguments: [MathExpr], depth: Int) -> ClosedForm? {
        var forms: [ClosedForm] = []
        for argument in arguments {
            guard let form = closedForm(argument, depth: depth + 1) else {
                return exact(.function(name, arguments)).map { ClosedForm($0) }
            }
            forms.append(form)
        }
        guard let x = forms.first else { return nil }
        let halfPi = ClosedForm(terms: [[.pi: .one]: Rational(1, 2)])
        switch name {
        case "sqrt":
            guard forms.count == 2, let index = forms[1].rational, let reciprocal = Rational.one.divided(by: index)
            else { return nil }
            return x.power(reciprocal)
        case "exp": return x.exp()
        case "ln": return x.log()
        case "log":
            guard forms.count == 2, let top = x.log(), let bottom = forms[1].log() else { return nil }
            return top.divided(by: bottom)
        case "sin": return ClosedForm.sine(of: x)
        case "cos": return (x + halfPi).flatMap(ClosedForm.sine(of:))
        case "tan", "cot", "sec", "csc":
            guard let sine = ClosedForm.sine(of: x), let cosine = (x + halfPi).flatMap(ClosedForm.sine(of:)) else {
                return nil
            }
            switch name {
            case "tan": return sine.divided(by: cosine)
            case "cot": return cosine.divided(by: sine)
            case "sec": return ClosedForm(.one).divided(by: cosine)
            default: return ClosedForm(.one).divided(by: sine)
            }
        case "conj":
            var conjugate = ClosedForm(.zero)
            for (monomial, coefficient) in x.terms {
                guard let sum = conjugate + ClosedForm(terms: [monomial: monomial[.i] != nil ? -coefficient : coefficient])
                else { return nil }
                conjugate = sum
            }
            return conjugate
        case "abs":
            guard let (coefficient, monomial) = x.single, monomial[.i] == nil else { return x.rational.map { ClosedForm($0.isNegative ? -$0 : $0) } }
            return ClosedForm(terms: [monomial: coefficient.isNegative ? -coefficient : coefficient])
        default:
            return exact(.function(name, arguments)).map { ClosedForm($0) }
        }
    }
}

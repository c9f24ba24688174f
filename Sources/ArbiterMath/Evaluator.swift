// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import BigInt
import Foundation

/// A complex number in double precision, for numeric identity testing.
struct Complex: Hashable {
    var re: Double
    var im: Double

    init(_ re: Double, _ im: Double = 0) {
        self.re = re
        self.im = im
    }

    var isFinite: Bool { re.isFinite && im.isFinite }
    var magnitude: Double { hypot(re, im) }
    var isReal: Bool { abs(im) <= 1e-12 * max(1, abs(re)) }

    static func + (a: Complex, b: Complex) -> Complex { Complex(a.re + b.re, a.im + b.im) }
    static func * (a: Complex, b: Complex) -> Complex { Complex(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re) }
    static prefix func - (a: Complex) -> Complex { Complex(-a.re, -a.im) }

    var reciprocal: Complex {
        let scale = re * re + im * im
        return Complex(re / scale, -im / scale)
    }

    var log: Complex { Complex(Foundation.log(magnitude), atan2(im, re)) }

    var exp: Complex {
        let scale = Foundation.exp(re)
        return Complex(scale * cos(im), scale * sin(im))
    }

    func power(_ exponent: Complex) -> Complex {
        if re == 0 && im == 0 { return exponent.re > 0 ? Complex(0) : Complex(.nan) }
        if exponent.im == 0, exponent.re == exponent.re.rounded(), abs(exponent.re) <= 64 {
            var result = Complex(1)
            var base = exponent.re < 0 ? reciprocal : self
            var count = Int(abs(exponent.re))
            while count > 0 {
                if count & 1 == 1 { result = result * base }
                base = base * base
                count >>= 1
            }
            return result
        }
        if isReal, re > 0, exponent.isReal { return Complex(pow(re, exponent.re)) }
        return (exponent * log).exp
    }
}

/// Evaluates expressions exactly (rationals) or numerically (complex doubles) under a budget.
struct Evaluator {
    var budget = MathBudget()
    /// Set when a numeric evaluation lost a non-zero value to double underflow (`e^{-1000}` is 0.0, and so is
    /// `e^{-2000}`): such a value says nothing about equality, and the caller must not compare it.
    var underflow = false
    /// Set when a numeric evaluation left the real domain: an even root or a non-integer power of a negative number,
    /// a logarithm of a number that is not positive.
    var domainViolation = false
    /// Terms of sums and products (`\sum_{k=1}^{n}`) evaluated so far, across all of them and every pass.
    private var seriesTerms = 0

    // MARK: Exact

    /// The exact rational value, or `nil` when the expression is not a rational number (or is too big).
    ///
    /// Recursion runs through this function once per level of the tree, so it keeps its own frame small: each case's
    /// work is in a function of its own (one frame holding every case's locals took about 80 KB under
    /// AddressSanitizer, and a 110-deep factorial chain overflowed an 8 MB stack).
    mutating func exact(_ expression: MathExpr) -> Rational? {
        guard budget.spend() else { return nil }
        switch expression {
        case .number(let value, _): return value
        case .sum(let terms): return exactSum(terms)
        case .product(let factors): return exactProduct(factors)
        case .negate(let inner): return exact(inner).map { -$0 }
        case .reciprocal(let inner):
            guard let value = exact(inner) else { return nil }
            return Rational.one.divided(by: value)
        case .power(let base, let exponent):
            guard let exponentValue = exact(exponent), let baseValue = exact(base) else { return nil }
            return exactPower(baseValue, exponentValue)
        case .function(let name, let arguments): return exactFunction(name, arguments)
        default: return nil
        }
    }

    @inline(never)
    private mutating func exactSum(_ terms: [MathExpr]) -> Rational? {
        var total = Rational.zero
        for term in terms {
            guard let value = exact(term) else { return nil }
            total = total + value
            guard total.bitSize <= MathBudget.maxBits, budget.spend(bits: total.bitSize) else { return fail() }
        }
        return total
    }

    @inline(never)
    private mutating func exactProduct(_ factors: [MathExpr]) -> Rational? {
        var total = Rational.one
        for factor in factors {
            guard let value = exact(factor) else { return nil }
            total = total * value
            guard total.bitSize <= MathBudget.maxBits, budget.spend(bits: total.bitSize) else { return fail() }
        }
        return total
    }

    @inline(never)
    private mutating func exactPower(_ baseValue: Rational, _ exponentValue: Rational) -> Rational? {
        if exponentValue.isInteger {
            guard let result = baseValue.power(exponentValue.numerator, maxBits: MathBudget.maxBits) else {
                if !baseValue.isZero && baseValue.numerator.magnitude != 1 || baseValue.denominator != 1 { _ = fail() }
                return nil
            }
            guard budget.spend(bits: result.bitSize) else { return fail() }
            return result
        }
        return root(baseValue, exponentValue)
    }

    /// How a function is evaluated exactly: one handler per name, so that a new function is one entry (issue 17).
    typealias ExactHandler = @Sendable (inout Evaluator, [MathExpr]) -> Rational?

    /// The exact handlers by function name; a name without one has no exact value.
    static let exactHandlers: [String: ExactHandler] = {
        let sqrt: ExactHandler = { evaluator, arguments in
            guard arguments.count == 2, let value = evaluator.exact(arguments[0]), let index = evaluator.exact(arguments[1]),
                let reciprocal = Rational.one.divided(by: index)
            else { return nil }
            return evaluator.root(value, reciprocal)
        }
        let factorial: ExactHandler = { evaluator, arguments in
            guard let argument = arguments.first, let value = evaluator.exact(argument) else { return nil }
            return evaluator.factorial(value)
        }
        let binomial: ExactHandler = { evaluator, arguments in
            guard arguments.count == 2, let n = evaluator.exact(arguments[0]), let k = evaluator.exact(arguments[1]) else {
                return nil
            }
            return evaluator.binomial(n, k)
        }
        let abs: ExactHandler = { evaluator, arguments in
            arguments.first.flatMap { evaluator.exact($0) }.map { $0.isNegative ? -$0 : $0 }
        }
        let percent: ExactHandler = { evaluator, arguments in
            arguments.first.flatMap { evaluator.exact($0) }.map { $0 * Rational(1, 100) }
        }
        // A real number is its own conjugate.
        let conj: ExactHandler = { evaluator, arguments in arguments.first.flatMap { evaluator.exact($0) } }
        let gcd: ExactHandler = { evaluator, arguments in evaluator.divisors(of: arguments, gcd: true) }
        let lcm: ExactHandler = { evaluator, arguments in evaluator.divisors(of: arguments, gcd: false) }
        let det: ExactHandler = { evaluator, arguments in evaluator.determinant(of: arguments) }
        let mod: ExactHandler = { evaluator, arguments in evaluator.remainder(arguments) }
        let floor: ExactHandler = { evaluator, arguments in evaluator.rounded(arguments, down: true) }
        let ceil: ExactHandler = { evaluator, arguments in evaluator.rounded(arguments, down: false) }
        let sum: ExactHandler = { evaluator, arguments in evaluator.exactSeries(arguments, product: false) }
        let prod: ExactHandler = { evaluator, arguments in evaluator.exactSeries(arguments, product: true) }
        return [
            "sqrt": sqrt, "factorial": factorial, "binomial": binomial, "abs": abs, "percent": percent, "conj": conj,
            "gcd": gcd, "lcm": lcm, "det": det, "mod": mod, "floor": floor, "ceil": ceil, "sum": sum, "prod": prod,
        ]
    }()

    @inline(never)
    private mutating func exactFunction(_ name: String, _ arguments: [MathExpr]) -> Rational? {
        guard let handler = Self.exactHandlers[name] else { return nil }
        return handler(&self, arguments)
    }

    private mutating func divisors(of arguments: [MathExpr], gcd: Bool) -> Rational? {
        guard case .bracketed(_, _, let items)? = arguments.first, items.count >= 2 else { return nil }
        var values: [BigInt] = []
        for item in items {
            guard let value = exact(item), value.isInteger, value.bitSize <= 4096 else { return nil }
            values.append(value.numerator.magnitude == 0 ? 0 : BigInt(value.numerator.magnitude))
        }
        return divisors(values, gcd: gcd)
    }

    /// Elimination over rationals grows the numbers: small matrices of moderate entries only.
    private mutating func determinant(of arguments: [MathExpr]) -> Rational? {
        guard case .bracketed("M", "M", let rows)? = arguments.first, rows.count <= 8 else { return nil }
        var matrix: [[Rational]] = []
        for row in rows {
            guard case .bracketed(_, _, let items) = row else { return nil }
            var values: [Rational] = []
            for item in items {
                guard let value = exact(item), value.bitSize <= 1024 else { return nil }
                values.append(value)
            }
            matrix.append(values)
        }
        return Self.determinant(matrix)
    }

    /// `a \bmod m` for integers: the non-negative remainder.
    private mutating func remainder(_ arguments: [MathExpr]) -> Rational? {
        guard arguments.count == 2, let a = exact(arguments[0]), let m = exact(arguments[1]), a.isInteger, m.isInteger,
            !m.isZero
        else { return nil }
        let modulus = BigInt(m.numerator.magnitude)
        let remainder = a.numerator % modulus
        return Rational(remainder.sign == .minus && !remainder.isZero ? remainder + modulus : remainder)
    }

    /// Floor (`down`) or ceiling.
    private mutating func rounded(_ arguments: [MathExpr], down: Bool) -> Rational? {
        guard let argument = arguments.first, let value = exact(argument) else { return nil }
        let (quotient, remainder) = value.numerator.quotientAndRemainder(dividingBy: value.denominator)
        if remainder.isZero { return Rational(quotient) }
        if down { return Rational(value.isNegative ? quotient - 1 : quotient) }
        return Rational(value.isNegative ? quotient : quotient + 1)
    }

    /// `n!` for a non-negative integer up to 1,400 (about 12,700 bits; larger factorials are over the exact budget).
    @inline(never)
    mutating func factorial(_ value: Rational) -> Rational? {
        guard value.isInteger, !value.isNegative, value.numerator <= 1400 else { return nil }
        var result = BigInt(1)
        var factor = BigInt(2)
        while factor <= value.numerator {
            result *= factor
            factor += 1
            guard budget.spend(bits: result.bitWidth) else { return fail() }
        }
        return Rational(result)
    }

    /// `n choose k` for integers 0 ≤ k ≤ n ≤ 100,000, within the bit budget.
    @inline(never)
    mutating func binomial(_ n: Rational, _ k: Rational) -> Rational? {
        guard n.isInteger, k.isInteger, !n.isNegative, !k.isNegative, k.numerator <= n.numerator,
            n.numerator <= 100_000, let nn = Int(exactly: n.numerator), let kk = Int(exactly: k.numerator)
        else { return nil }
        var result = BigInt(1)
        for step in 0..<min(kk, nn - kk) {
            result = result * BigInt(nn - step) / BigInt(step + 1)
            guard result.bitWidth <= MathBudget.maxBits, budget.spend(bits: result.bitWidth) else { return fail() }
        }
        return Rational(result)
    }

    /// The gcd or lcm of non-negative integers.
    @inline(never)
    private mutating func divisors(_ values: [BigInt], gcd: Bool) -> Rational? {
        guard var result = values.first else { return nil }
        for value in values.dropFirst() {
            let divisor = result.greatestCommonDivisor(with: value)
            result = gcd ? divisor : (divisor.isZero ? 0 : result / divisor * value)
            guard result.bitWidth <= MathBudget.maxBits, budget.spend(bits: result.bitWidth) else { return fail() }
        }
        return Rational(result)
    }

    /// The determinant of a square matrix by Gaussian elimination on rationals (`nil` when not square).
    static func determinant(_ input: [[Rational]]) -> Rational? {
        let size = input.count
        guard size > 0, size <= 12, input.allSatisfy({ $0.count == size }) else { return nil }
        var matrix = input
        var result = Rational.one
        for column in 0..<size {
            guard let pivot = (column..<size).first(where: { !matrix[$0][column].isZero }) else { return .zero }
            if pivot != column {
                matrix.swapAt(pivot, column)
                result = -result
            }
            result = result * matrix[column][column]
            for row in (column + 1)..<size {
                guard let factor = matrix[row][column].divided(by: matrix[column][column]) else { return nil }
                for k in column..<size { matrix[row][k] = matrix[row][k] - factor * matrix[column][k] }
            }
        }
        return result
    }

    /// The most terms of sums and products (`\sum_{k=a}^{b}`) one evaluator adds or multiplies, nested ones and every
    /// pass included; past it the comparison is a budget verdict. Each term is also charged to the step budget by
    /// the size of the term it substitutes into.
    static let maxSeriesTerms = 10_000
    /// The largest running total, in bits, of a sum or product of fractions (`\sum_{k=1}^{n} \frac{1}{k}` reaches it
    /// near n = 700).
    static let maxSeriesFractionBits = 1_024

    /// Counts one term of a series whose term has `size` nodes; false once a budget is spent.
    private mutating func spendSeriesTerm(size: Int) -> Bool {
        seriesTerms += 1
        if seriesTerms > Self.maxSeriesTerms { budget.exceeded = true }
        return budget.spend(size) && !budget.exceeded
    }

    /// Nodes in an expression, counted up to `limit`.
    static func size(of expression: MathExpr, limit: Int = 100_000) -> Int {
        var remaining = limit
        func visit(_ node: MathExpr) {
            guard remaining > 0 else { return }
            remaining -= 1
            switch node {
            case .negate(let inner), .reciprocal(let inner): visit(inner)
            case .power(let a, let b), .plusMinus(let a, let b): visit(a); visit(b)
            case .sum(let items), .product(let items), .function(_, let items), .bracketed(_, _, let items), .set(let items),
                .list(let items), .union(let items), .relation(let items, _):
                for item in items { visit(item) }
            case .number, .variable, .constant, .text: break
            }
        }
        visit(expression)
        return limit - remaining
    }

    /// A sum or product whose bounds are exact integers, term by term (no terms: 0 or 1); `nil` for other bounds
    /// or more than ``maxSeriesTerms`` terms.
    private mutating func exactSeries(_ arguments: [MathExpr], product: Bool) -> Rational? {
        guard arguments.count == 4, case .variable(let index) = arguments[0], let first = exact(arguments[1]),
            let last = exact(arguments[2]), first.isInteger, last.isInteger,
            last.numerator - first.numerator < BigInt(Self.maxSeriesTerms)
        else { return nil }
        // Whole terms are added or multiplied as integers, with no gcd per term (a product of 1,400 growing rationals,
        // each reduced, took seconds); a fraction switches to rational arithmetic.
        var whole: BigInt? = product ? 1 : 0
        var total = product ? Rational.one : Rational.zero
        var k = first.numerator
        let size = Self.size(of: arguments[3])
        while k <= last.numerator {
            guard spendSeriesTerm(size: size) else { return nil }
            guard let term = exact(arguments[3].substituting([index: Rational(k)])) else { return nil }
            if let integer = whole, term.isInteger {
                let next = product ? integer * term.numerator : integer + term.numerator
                guard next.magnitude.bitWidth <= MathBudget.maxBits, budget.spend(bits: next.magnitude.bitWidth) else {
                    return fail()
                }
                whole = next
            } else {
                if let integer = whole { total = Rational(integer) }
                whole = nil
                total = product ? total * term : total + term
                // Fractions are reduced at every term, which costs far more than the step charge says: a series of
                // fractions stops at ``maxSeriesFractionBits`` (the harmonic sum to 9,999 took minutes).
                guard total.bitSize <= Self.maxSeriesFractionBits, budget.spend(bits: total.bitSize) else { return fail() }
            }
            k += 1
        }
        return whole.map { Rational($0) } ?? total
    }

    /// A sum or product numerically: term by term when its bounds are integers (past ``maxSeriesTerms`` terms, a
    /// budget); otherwise (a bound in a variable sampled at a non-integer) a value that stands for the series as
    /// written — its term at four points past the first bound with fixed weights, scaled by its bounds — so that two
    /// series with equal bounds and equal terms agree, and a series agrees with nothing else but by the chance of
    /// any numeric test. A closed form of a sum (`\frac{n(n+1)}{2}`) is therefore not recognised: a missed reward.
    private mutating func numericSeries(_ arguments: [MathExpr], _ bindings: [String: Complex], product: Bool) -> Complex? {
        guard arguments.count == 4, case .variable(let index) = arguments[0], let first = numeric(arguments[1], bindings),
            let last = numeric(arguments[2], bindings), first.isReal, last.isReal, first.re.isFinite, last.re.isFinite
        else { return nil }
        var scope = bindings
        if first.re == first.re.rounded(), last.re == last.re.rounded() {
            guard last.re - first.re < Double(Self.maxSeriesTerms) else {
                budget.exceeded = true  // too many terms to add one by one
                return nil
            }
            var total = Complex(product ? 1 : 0)
            var k = first.re
            let size = Self.size(of: arguments[3])
            while k <= last.re {
                guard spendSeriesTerm(size: size) else { return nil }
                scope[index] = Complex(k)
                guard let term = numeric(arguments[3], scope) else { return nil }
                total = product ? total * term : total + term
                k += 1
            }
            return total
        }
        // Four points past the first bound, shifted by the last bound's fraction, and a scale set by both bounds (so
        // that `n` and `n + 1` differ): a sum is linear in its term, as a sum is (`\sum 2k` is `2\sum k`); a
        // product is not (`\prod 2k` is not `2\prod k`, `\prod (-k)` is not `\prod k`), so its terms enter as t² + t.
        let shift = 0.3819660113 + 0.1 * (last.re - last.re.rounded(.down))
        let scale = Complex(Foundation.exp(0.0577215665 * first.re + 0.0261497213 * last.re))
        var total = Complex(product ? 0.7 : 0)
        for (offset, weight) in [0.6931471806, 1.0986122887, 1.6094379124, 1.9459101091].enumerated() {
            scope[index] = Complex(first.re + Double(offset) + shift)
            guard let term = numeric(arguments[3], scope) else { return nil }
            total = total + Complex(weight) * (product ? term * term + term : term)
        }
        return scale * total
    }

    private mutating func fail() -> Rational? {
        budget.exceeded = true
        return nil
    }

    /// `value^(p/q)` when it is rational (perfect powers only).
    func root(_ value: Rational, _ exponent: Rational) -> Rational? {
        guard exponent.denominator <= 64, exponent.numerator.magnitude <= 64, !value.isNegative || exponent.denominator % 2 == 1
        else { return nil }
        let degree = Int(exponent.denominator)
        var base: Rational
        if let (top, bottom) = value.machineParts, top.magnitude < 1 << 53, bottom < 1 << 53 {
            // Both parts exact in a Double: the same estimates and candidates as below, in machine words.
            guard let topRoot = Self.machineRoot(top.magnitude, degree), let bottomRoot = Self.machineRoot(UInt(bottom), degree)
            else { return nil }
            base = Rational.reducing(Int(topRoot), Int(bottomRoot))
        } else {
            guard let top = Self.integerRoot(value.numerator.magnitude, degree),
                let bottom = Self.integerRoot(value.denominator.magnitude, degree)
            else { return nil }
            base = Rational(BigInt(top), BigInt(bottom))
        }
        if value.isNegative { base = -base }
        return base.power(exponent.numerator, maxBits: MathBudget.maxBits)
    }

    /// ``integerRoot(_:_:)`` of a value below 2^53 (exact as a `Double`), in machine words: a power that overflows is
    /// larger than the value, so it is not its root.
    private static func machineRoot(_ value: UInt, _ degree: Int) -> UInt? {
        if value <= 1 { return value }
        let estimate = pow(Double(value), 1 / Double(degree)).rounded()
        guard estimate.isFinite else { return nil }
        for candidate in [estimate - 1, estimate, estimate + 1] where candidate >= 0 {
            let root = UInt(candidate)
            var power: UInt = 1
            var overflow = false
            for _ in 0..<degree where !overflow {
                (power, overflow) = power.multipliedReportingOverflow(by: root)
            }
            if !overflow, power == value { return root }
        }
        return nil
    }

    private static func integerRoot(_ value: BigUInt, _ degree: Int) -> BigUInt? {
        if value <= 1 { return value }
        guard value.bitWidth <= 4096 else { return nil }
        let estimate = pow(Double(value), 1 / Double(degree)).rounded()
        guard estimate.isFinite else { return nil }
        for candidate in [estimate - 1, estimate, estimate + 1] where candidate >= 0 {
            let root = BigUInt(candidate)
            if root.power(degree) == value { return root }
        }
        return nil
    }

    // MARK: Numeric

    /// The value with variables bound, or `nil` for what has no single value (lists, relations, text).
    mutating func numeric(_ expression: MathExpr, _ bindings: [String: Complex]) -> Complex? {
        guard budget.spend() else { return nil }
        guard let value = numericValue(expression, bindings) else { return nil }
        // A subnormal part has lost its relative precision: it can no longer tell two values apart.
        if Self.isSubnormal(value.re) || Self.isSubnormal(value.im) { underflow = true }
        return value
    }

    /// A non-zero magnitude below the smallest normal double.
    private static func isSubnormal(_ part: Double) -> Bool {
        part != 0 && abs(part) < Double.leastNormalMagnitude
    }

    private static func isZero(_ value: Complex) -> Bool { value.re == 0 && value.im == 0 }

    /// Notes an underflow when an operation whose exact result cannot be 0 (non-zero inputs) came out as 0.
    private mutating func zeroFromNonZero(_ result: Complex) -> Complex {
        if Self.isZero(result) { underflow = true }
        return result
    }

    private mutating func numericValue(_ expression: MathExpr, _ bindings: [String: Complex]) -> Complex? {
        switch expression {
        case .number(let value, _):
            let double = Complex(value.doubleValue)
            return value.isZero ? double : zeroFromNonZero(double)
        case .variable(let name): return bindings[name]
        case .constant(.pi): return Complex(Double.pi)
        case .constant(.e): return Complex(M_E)
        case .constant(.i): return Complex(0, 1)
        case .constant(.infinity): return Complex(.infinity)
        case .sum(let terms):
            var total = Complex(0)
            for term in terms {
                guard let value = numeric(term, bindings) else { return nil }
                total = total + value
            }
            return total
        case .product(let factors):
            var total = Complex(1)
            var zeroFactor = false
            for factor in factors {
                guard let value = numeric(factor, bindings) else { return nil }
                zeroFactor = zeroFactor || Self.isZero(value)
                total = total * value
            }
            return zeroFactor ? total : zeroFromNonZero(total)
        case .negate(let inner): return numeric(inner, bindings).map { -$0 }
        case .reciprocal(let inner):
            guard let value = numeric(inner, bindings) else { return nil }
            return value.isFinite ? zeroFromNonZero(value.reciprocal) : value.reciprocal
        case .power(let base, let exponent):
            guard let b = numeric(base, bindings), let x = numeric(exponent, bindings) else { return nil }
            // A negative real to a rational power with an odd denominator takes the real root, as \sqrt[3]{x}
            // does: x^{2/3} = (\sqrt[3]{x})^2 for every real x.
            if b.isReal, b.re < 0, x.isReal, x.re != x.re.rounded(), let ratio = exact(exponent), ratio.denominator <= 1_000_001, ratio.denominator % 2 == 1,
                let p = Int(exactly: ratio.numerator)
            {
                let magnitude = pow(-b.re, x.re)
                return zeroFromNonZero(Complex(p % 2 == 0 ? magnitude : -magnitude))
            }
            if b.isReal, b.re < 0, x.isReal, x.re != x.re.rounded() { domainViolation = true }
            return Self.isZero(b) ? b.power(x) : zeroFromNonZero(b.power(x))
        case .function(let name, let arguments) where name == "sum" || name == "prod":
            return numericSeries(arguments, bindings, product: name == "prod")
        case .function(let name, let arguments):
            var values: [Complex] = []
            for argument in arguments {
                guard let value = numeric(argument, bindings) else { return nil }
                values.append(value)
            }
            if let first = values.first, name == "ln" || name == "log" || name == "sqrt" {
                let evenRoot = name == "sqrt" && values.count == 2 && values[1].isReal
                    && values[1].re.truncatingRemainder(dividingBy: 2) == 0
                if name == "sqrt" ? evenRoot && first.isReal && first.re < 0 : !(first.isReal && first.re > 0) {
                    domainViolation = true
                }
            }
            guard let result = Self.apply(name, values) else { return nil }
            return name == "exp" ? zeroFromNonZero(result) : result
        default: return nil
        }
    }

    private static func apply(_ name: String, _ values: [Complex]) -> Complex? {
        guard let x = values.first else { return nil }
        let real = x.isReal ? x.re : nil
        switch name {
        case "sqrt":
            guard values.count == 2 else { return nil }
            if let real, real < 0, values[1].isReal, values[1].re == 2 { return Complex(0, Foundation.sqrt(-real)) }
            if let real, real < 0, values[1].isReal, let index = Int(exactly: values[1].re), index % 2 != 0 {
                return Complex(-pow(-real, 1 / values[1].re))
            }
            return x.power(values[1].reciprocal)
        case "ln": return x.log
        case "log":
            guard values.count == 2 else { return x.log }
            let base = values[1].log
            return x.log * base.reciprocal
        case "exp": return x.exp
        case "percent": return x * Complex(0.01)
        case "conj": return Complex(x.re, -x.im)
        case "abs": return Complex(x.magnitude)
        case "floor": return real.map { Complex(Foundation.floor($0)) }
        case "ceil": return real.map { Complex(Foundation.ceil($0)) }
        case "factorial": return real.map { Complex(tgamma($0 + 1)) }
        case "binomial":
            guard values.count == 2, let n = real, values[1].isReal else { return nil }
            let k = values[1].re
            return Complex(tgamma(n + 1) / (tgamma(k + 1) * tgamma(n - k + 1)))
        default:
            guard let real else { return nil }
            let functions: [String: (Double) -> Double] = [
                "sin": Foundation.sin, "cos": Foundation.cos, "tan": Foundation.tan, "asin": Foundation.asin,
                "acos": Foundation.acos, "atan": Foundation.atan, "sinh": Foundation.sinh, "cosh": Foundation.cosh,
                "tanh": Foundation.tanh, "cot": { 1 / Foundation.tan($0) }, "sec": { 1 / Foundation.cos($0) },
                "csc": { 1 / Foundation.sin($0) },
            ]
            return functions[name].map { Complex($0(real)) }
        }
    }
}

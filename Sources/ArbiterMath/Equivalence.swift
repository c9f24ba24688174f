// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import BigInt
import Foundation

/// Decides whether two parsed answers are mathematically the same.
struct Equivalence {
    enum Outcome: Equatable {
        case equal(method: String)
        case different(method: String)
        case budget
    }

    /// Relative tolerance when either side was written as a decimal.
    var decimalTolerance: Double
    var evaluator = Evaluator()
    /// The domain a `numeric-sampling` verdict was decided on, for `details`.
    var domain: String?

    /// Deterministic sample points for numeric identity testing (away from 0, 1 and small integers).
    static let points: [Double] = [
        0.5772156649, 1.4142135624, 2.7182818285, -0.9189385332, 3.3219280949, -1.6180339887, 2, 3, -4.3137, 6.5,
        -7.1, 10,
    ]

    /// Set when the answers were equal only once sums of polynomial terms were written in closed form, for `details`.
    var series: String?

    mutating func compare(_ response: MathExpr, _ reference: MathExpr) -> Outcome {
        let outcome = structural(response, reference)
        if evaluator.budget.exceeded { return .budget }
        if case .different = outcome, let (closed, closedDomain) = closedSeries(response, reference) {
            series = "sums of polynomial terms in closed form (Faulhaber's formula; bounds read as integers)"
            domain = closedDomain
            return closed
        }
        return outcome
    }

    /// A second comparison, under a budget of its own, with every sum of a polynomial term over a range with a bound in
    /// a variable written in closed form (``SeriesClosedForm``): `\sum_{k=1}^{n} k` is `\frac{n(n+1)}{2}`. Only an
    /// equality counts; otherwise the first comparison's verdict stands.
    private func closedSeries(_ response: MathExpr, _ reference: MathExpr) -> (Outcome, String?)? {
        let rewrittenResponse = SeriesClosedForm.rewritten(response)
        let rewrittenReference = SeriesClosedForm.rewritten(reference)
        guard rewrittenResponse != nil || rewrittenReference != nil else { return nil }
        var second = Equivalence(decimalTolerance: decimalTolerance)
        let outcome = second.structural(rewrittenResponse ?? response, rewrittenReference ?? reference)
        guard !second.evaluator.budget.exceeded, case .equal = outcome else { return nil }
        return (outcome, second.domain)
    }

    private mutating func structural(_ a: MathExpr, _ b: MathExpr) -> Outcome {
        var a = a
        var b = b
        // Unions and set differences of intervals are merged first: `[0,1]\\cup[1,2]` is `[0,2]`.
        if let merged = IntervalSet.merged(a, evaluator: &evaluator) { a = merged }
        if let merged = IntervalSet.merged(b, evaluator: &evaluator) { b = merged }
        if let column = Self.transposedTuple(a) { a = column }
        if let column = Self.transposedTuple(b) { b = column }
        switch (a, b) {
        case (.text(let x), .text(let y)):
            return x == y ? .equal(method: "text") : .different(method: "text")
        case (.relation(let left, let leftOps), .relation(let right, let rightOps)):
            return relations(left, leftOps, right, rightOps)
        case (.relation(let operands, let ops), _):
            if let value = Self.assignedValue(operands, ops) { return structural(value, b) }
            if let interval = Self.interval(operands, ops) { return structural(interval, b) }
            return .different(method: "structure")
        case (_, .relation(let operands, let ops)):
            if let value = Self.assignedValue(operands, ops) { return structural(a, value) }
            if let interval = Self.interval(operands, ops) { return structural(a, interval) }
            return .different(method: "structure")
        case (.bracketed("(", ")", let items), .bracketed("M", "M", _)):
            // `(1,2,3)` is the column vector of its entries, in order; not a row vector (see ``columnEntries``).
            guard let column = Self.columnEntries(b), column.count == items.count, items.count >= 2 else {
                return .different(method: "structure")
            }
            return elementwise(items, column)
        case (.bracketed("M", "M", _), .bracketed("(", ")", let items)):
            guard let column = Self.columnEntries(a), column.count == items.count, items.count >= 2 else {
                return .different(method: "structure")
            }
            return elementwise(column, items)
        case (.bracketed(let open, let close, let items), .bracketed(let open2, let close2, let items2)):
            guard open == open2, close == close2, items.count == items2.count else { return .different(method: "structure") }
            return elementwise(items, items2)
        case (.union(let parts), .union(let parts2)):
            return unordered(parts, parts2)
        default:
            break
        }
        if let left = Self.elements(of: a), let right = Self.elements(of: b) {
            // `a = 1, b = 2` names each value: against bare values the order counts, against equations the names do.
            let leftLabelled = left.allSatisfy { Self.label(of: $0) != nil }
            let rightLabelled = right.allSatisfy { Self.label(of: $0) != nil }
            if leftLabelled != rightLabelled {
                guard left.count == right.count else { return .different(method: "structure") }
                return elementwise(left, right)
            }
            return unordered(left, right)
        }
        if Self.elements(of: a) != nil || Self.elements(of: b) != nil { return .different(method: "structure") }
        switch (a, b) {
        case (.bracketed, _), (_, .bracketed), (.union, _), (_, .union), (.text, _), (_, .text):
            return .different(method: "structure")
        default:
            // A percent sign in the response, when the reference has none, divides by 100: "4 4/9%" is 4/90, not
            // 40/9 (a reference written with % compares both sides without it, so "28" matches "28%").
            return scalar(a, b)
        }
    }

    /// The entries of a column vector (a matrix of one column and at least two rows), top to bottom; `nil` for any
    /// other shape. A tuple is read as a column vector, the usual convention for vectors in ℝⁿ; a row vector is
    /// not the same answer (a column and a row vector already differ), so a tuple never equals one.
    static func columnEntries(_ expression: MathExpr) -> [MathExpr]? {
        guard case .bracketed("M", "M", let rows) = expression, rows.count >= 2 else { return nil }
        var entries: [MathExpr] = []
        for row in rows {
            guard case .bracketed("r", "r", let items) = row, items.count == 1 else { return nil }
            entries.append(items[0])
        }
        return entries
    }

    /// `(1, 2, 3)^T` (also `[1, 2, 3]^T`, `^\top`): a vector written in a row and transposed, the usual way to write a
    /// column vector in running text, is the column vector of its entries; `nil` for anything else.
    static func transposedTuple(_ expression: MathExpr) -> MathExpr? {
        guard case .power(.bracketed(let open, let close, let items), .variable("T")) = expression, items.count >= 2,
            open == "(" && close == ")" || open == "[" && close == "]"
        else { return nil }
        return .bracketed(open: "M", close: "M", items.map { .bracketed(open: "r", close: "r", [$0]) })
    }

    /// Sets, top-level lists and `a ± b` are compared as unordered collections.
    static func elements(of expression: MathExpr) -> [MathExpr]? {
        switch expression {
        case .set(let items), .list(let items): return items
        case .plusMinus(let center, let offset): return [.sum([center, offset]), .sum([center, .negate(offset)])]
        default: return nil
        }
    }

    private mutating func elementwise(_ left: [MathExpr], _ right: [MathExpr]) -> Outcome {
        for (x, y) in zip(left, right) {
            if case .equal = structural(x, y) { continue }
            return .different(method: "structure")
        }
        return .equal(method: "structure")
    }

    /// Set equality: every element of each side has an equal on the other (a repeated element changes nothing).
    private mutating func unordered(_ left: [MathExpr], _ right: [MathExpr]) -> Outcome {
        guard !left.isEmpty || !right.isEmpty else { return .equal(method: "structure") }
        guard !left.isEmpty, !right.isEmpty else { return .different(method: "structure") }
        for (from, to) in [(left, right), (right, left)] {
            for x in from {
                let found = to.contains { y in
                    if case .equal = structural(x, y) { return true }
                    return false
                }
                if !found { return .different(method: "structure") }
            }
        }
        return .equal(method: "structure")
    }

    private mutating func relations(_ left: [MathExpr], _ leftOps: [String], _ right: [MathExpr], _ rightOps: [String])
        -> Outcome
    {
        // What each side states: a value (`x = 3`, `x \in [1, 2]`) or an interval (`1 \le x \le 2`) — about the
        // same names: `x = 1` is not `y = 1`, and `x > 2` is not `y > 2`.
        if let x = Self.assignedValue(left, leftOps) ?? Self.interval(left, leftOps),
            let y = Self.assignedValue(right, rightOps) ?? Self.interval(right, rightOps)
        {
            let leftNames = MathExpr.relation(left, leftOps).variables.subtracting(x.variables)
            let rightNames = MathExpr.relation(right, rightOps).variables.subtracting(y.variables)
            guard leftNames == rightNames else { return .different(method: "structure") }
            if let labelLeft = Self.label(of: .relation(left, leftOps)), let labelRight = Self.label(of: .relation(right, rightOps)) {
                // `(a, b) = (3, 5)` is not `(b, a) = (3, 5)`.
                guard case .equal = structural(labelLeft, labelRight) else { return .different(method: "structure") }
            }
            return structural(x, y)
        }
        guard leftOps == ["="], rightOps == ["="] else {
            guard leftOps == rightOps, left.count == right.count else { return .different(method: "structure") }
            return elementwise(left, right)
        }
        // Whole equations: lhs − rhs must be proportional (a line or a circle up to rearrangement).
        let f = MathExpr.sum([left[0], .negate(left[1])])
        let g = MathExpr.sum([right[0], .negate(right[1])])
        return proportional(f, g)
    }

    // MARK: Scalars

    private mutating func scalar(_ a: MathExpr, _ b: MathExpr) -> Outcome {
        let decimal = a.hasDecimal || b.hasDecimal
        if !a.hasVariables, !b.hasVariables, let x = evaluator.exact(a), let y = evaluator.exact(b) {
            if x == y { return .equal(method: "exact") }
            if !decimal { return .different(method: "exact") }
            if let written = Self.writtenDecimal(a), Self.isCorrectlyRounded(written, y) { return .equal(method: "rounded") }
            return Self.relativelyClose(x, y, tolerance: decimalTolerance) ? .equal(method: "decimal")
                : .different(method: "decimal")
        }
        if evaluator.budget.exceeded { return symbolicPower(a, b, decimal: decimal) }
        if !a.hasVariables, !b.hasVariables, let outcome = closedForms(a, b, decimal: decimal) { return outcome }
        // A number written out (`3.14159265358979`, `\frac{245850922}{78256779}`) against a value that is not an
        // exact rational (π, √2) is an approximation, however close: only an explicit decimal_tolerance accepts it.
        if !a.hasVariables, !b.hasVariables, decimalTolerance == 0, a.isPlainNumber, b.mentionsIrrational,
            evaluator.exact(a) != nil, evaluator.exact(b) == nil, !b.usesInfinityInArithmetic, !b.isInfinityLiteral
        {
            if evaluator.budget.exceeded { return .budget }
            return .different(method: "exact")
        }
        // Rational functions are compared exactly at rational points, so that no tolerance hides a difference
        // beside a large term (`2^{100} - 2n` is not `2^{100} - n`).
        if a.hasVariables || b.hasVariables, let outcome = exactIdentity(a, b) { return outcome }
        if evaluator.budget.exceeded { return .budget }
        let tolerance = max(decimal ? decimalTolerance : 0, 1e-12)
        // An expression that uses ∞ inside arithmetic (1^∞, ∞ - ∞, ∞^0) has no value to compare.
        if a.usesInfinityInArithmetic || b.usesInfinityInArithmetic { return .different(method: "numeric") }
        let variables = Array(a.variables.union(b.variables)).sorted()
        var agreeing = 0
        var oneSided = 0
        // A conjugate of a variable treats it as complex: at real points `\\overline{z}z` would be `z^2`.
        let complexPoints = a.conjugatesVariable || b.conjugatesVariable
        for round in 0..<(variables.isEmpty ? 1 : Self.points.count) {
            let bindings = Self.bindings(variables, round: round, complex: complexPoints)
            evaluator.underflow = false
            guard let x = evaluator.numeric(a, bindings), let y = evaluator.numeric(b, bindings) else {
                return .different(method: "numeric")
            }
            if evaluator.underflow {
                // A value lost to double underflow (`\pi e^{-1000}` and `2\pi e^{-1000}` both evaluate to 0) decides
                // nothing: without variables it is a budget verdict, with them the point is skipped.
                if variables.isEmpty { evaluator.budget.exceeded = true; return .budget }
                continue
            }
            if x.isFinite != y.isFinite, !variables.isEmpty {
                // Defined on one side only: at a pole or two that is chance, at many it is another function
                // (`|x| + 0\cdot 0^x` is undefined wherever x < 0, where `x` is not).
                oneSided += 1
                if oneSided > 2 { return .different(method: "numeric") }
            }
            if x.re.isInfinite || y.re.isInfinite || !x.isFinite || !y.isFinite {
                // Only a written ∞ is infinite; a finite expression that overflows a double cannot be decided.
                let written = a.isInfinityLiteral && b.isInfinityLiteral
                if written, x.re == y.re { agreeing += 1; continue }
                if a.isInfinityLiteral || b.isInfinityLiteral { return .different(method: "numeric") }
                if variables.isEmpty { evaluator.budget.exceeded = true; return .budget }
                continue
            }
            guard x.isFinite, y.isFinite else { continue }
            let scale = max(x.magnitude, y.magnitude)
            guard close(x.re, y.re, tolerance: tolerance, scale: scale), close(x.im, y.im, tolerance: tolerance, scale: scale)
            else {
                if !variables.isEmpty, let outcome = realDomainSampling(a, b, variables, tolerance: tolerance) {
                    return outcome
                }
                return .different(method: "numeric")
            }
            agreeing += 1
        }
        let needed = variables.isEmpty ? 1 : 3
        return agreeing >= needed ? .equal(method: "numeric") : .different(method: "numeric")
    }

    /// Values too large to write out (`2^{2^{20}}`, `10^{10^6}`), compared as power products: tried only when exact
    /// evaluation of a side runs over the bit budget, and decisive only when both sides have such a form (else the
    /// verdict stays `budget`). A decimal side under a tolerance is left to the budget verdict: a form is exact.
    private mutating func symbolicPower(_ a: MathExpr, _ b: MathExpr, decimal: Bool) -> Outcome {
        guard !a.hasVariables, !b.hasVariables, evaluator.budget.steps <= MathBudget.maxSteps,
            !decimal || decimalTolerance == 0
        else { return .budget }
        evaluator.budget.exceeded = false
        guard let x = evaluator.powerProduct(a), let y = evaluator.powerProduct(b),
            let same = PowerProduct.equal(x, y)
        else {
            evaluator.budget.exceeded = true
            return .budget
        }
        return same ? .equal(method: "symbolic-power") : .different(method: "symbolic-power")
    }

    /// Constants compared by their closed forms (`e^{3\\ln 2}` is 8, `\\sqrt 8` is `2\\sqrt 2`): equal forms are
    /// equal; different forms are different, unless a decimal under a tolerance asks for the numeric test. `nil`
    /// when a side has no closed form.
    private mutating func closedForms(_ a: MathExpr, _ b: MathExpr, decimal: Bool) -> Outcome? {
        guard !a.usesInfinityInArithmetic, !b.usesInfinityInArithmetic, let x = evaluator.closedForm(a),
            let y = evaluator.closedForm(b)
        else {
            // Running out of steps here is not the comparison's fault: the numeric test still decides.
            evaluator.budget.exceeded = evaluator.budget.steps > MathBudget.maxSteps
            return nil
        }
        if x == y { return .equal(method: "exact-symbolic") }
        // A reference written as a decimal approximation (`4.123105625617661` for `\\sqrt{17}`) is its author's
        // reading, left to the numeric test as before; so is any decimal under an explicit tolerance.
        if decimal && decimalTolerance > 0 || b.isPlainNumber && b.hasDecimal && x.rational == nil { return nil }
        return .different(method: "exact-symbolic")
    }

    /// Whether an expression without variables evaluates without leaving the real domain (no even root of a
    /// negative number, no logarithm of a non-positive one).
    private mutating func staysReal(_ expression: MathExpr) -> Bool {
        evaluator.domainViolation = false
        _ = evaluator.numeric(expression, [:])
        defer { evaluator.domainViolation = false }
        return !evaluator.domainViolation
    }

    /// Identity on the real domain where both sides are defined: at the sample points and their absolute values,
    /// skipping every point where a side takes an even root or a non-integer power of a negative number or a
    /// logarithm of a non-positive one (`\\sqrt{1/n}` and `1/\\sqrt{n}` differ in complex arithmetic for n < 0, where
    /// neither is real). Equal only when both sides leave the reals at exactly the same points, some point was
    /// skipped for that reason, at least three points remain, and all of them agree; the domain used is recorded
    /// in ``domain``.
    private mutating func realDomainSampling(_ a: MathExpr, _ b: MathExpr, _ variables: [String], tolerance: Double)
        -> Outcome?
    {
        var agreeing = 0
        var skipped = 0
        for round in 0..<(2 * Self.points.count) {
            var bindings = Self.bindings(variables, round: round % Self.points.count)
            if round >= Self.points.count { bindings = bindings.mapValues { Complex(abs($0.re)) } }
            evaluator.underflow = false
            evaluator.domainViolation = false
            guard let x = evaluator.numeric(a, bindings) else { return nil }
            let leftOutside = evaluator.domainViolation
            evaluator.domainViolation = false
            guard let y = evaluator.numeric(b, bindings) else { return nil }
            // The two sides must have the same domain: `\\ln(x+3)` is not `\\ln|x+3|`, which is also defined for
            // x < −3.
            guard leftOutside == evaluator.domainViolation else { return nil }
            if leftOutside {
                skipped += 1
                continue
            }
            guard x.isFinite, y.isFinite, !evaluator.underflow else { continue }
            let scale = max(x.magnitude, y.magnitude)
            guard close(x.re, y.re, tolerance: tolerance, scale: scale), close(x.im, y.im, tolerance: tolerance, scale: scale)
            else { return nil }
            agreeing += 1
        }
        guard skipped > 0, agreeing >= 3 else { return nil }
        domain = "real points where every radicand and logarithm argument is positive (\(variables.joined(separator: ", ")); "
            + "\(agreeing) points agree, \(skipped) outside the domain)"
        return .equal(method: "numeric-sampling")
    }

    /// Rational points at which expressions in variables are evaluated exactly.
    static let rationalPoints: [Rational] = [
        Rational(2), Rational(3), Rational(-1), Rational(1, 2), Rational(5, 3), Rational(-7, 4), Rational(7),
        Rational(11, 5), Rational(-13, 3), Rational(17, 6),
    ]

    /// Exact comparison at rational points: `.different` as soon as both sides are exact and unequal at one, `.equal`
    /// when they are exact and equal at every point, `nil` when a side is not exactly computable at some point
    /// (irrational functions, poles) and no point told them apart — the numeric test decides then.
    private mutating func exactIdentity(_ a: MathExpr, _ b: MathExpr) -> Outcome? {
        let variables = Array(a.variables.union(b.variables)).sorted()
        guard !variables.isEmpty, !a.usesInfinityInArithmetic, !b.usesInfinityInArithmetic else { return nil }
        var everywhere = true
        for round in 0..<Self.rationalPoints.count {
            var values: [String: Rational] = [:]
            for (offset, name) in variables.enumerated() {
                values[name] = Self.rationalPoints[(round + offset * 3) % Self.rationalPoints.count] + Rational(offset)
            }
            let left = a.substituting(values)
            let right = b.substituting(values)
            guard let x = evaluator.exact(left), let y = evaluator.exact(right) else {
                if evaluator.budget.exceeded { return .budget }
                everywhere = false
                // Closed forms that differ at a point are different values there (`\\sqrt{x}+10^{-15}` against
                // `\\sqrt{x}`), unless a side left the reals (i appears), where the real domain decides instead.
                if let x = evaluator.closedForm(left), let y = evaluator.closedForm(right), x != y, !x.mentionsI,
                    !y.mentionsI, staysReal(left), staysReal(right)
                {
                    return .different(method: "exact-symbolic")
                }
                evaluator.budget.exceeded = evaluator.budget.steps > MathBudget.maxSteps
                continue
            }
            if x != y { return .different(method: "exact") }
        }
        // Equal at every point proves identity only for rational functions: `|x+5|` and `x + 5` agree wherever
        // x > -5, so functions such as abs or floor leave the verdict to the numeric test's wider points.
        return everywhere && a.isRationalFunction && b.isRationalFunction ? .equal(method: "exact") : nil
    }

    private mutating func proportional(_ f: MathExpr, _ g: MathExpr) -> Outcome {
        let variables = Array(f.variables.union(g.variables)).sorted()
        var ratio: Complex? = nil
        var agreeing = 0
        for round in 0..<Self.points.count {
            let bindings = Self.bindings(variables, round: round)
            evaluator.underflow = false
            guard let x = evaluator.numeric(f, bindings), let y = evaluator.numeric(g, bindings), x.isFinite, y.isFinite,
                y.magnitude > 1e-12, !evaluator.underflow
            else { continue }
            let current = x * y.reciprocal
            if let ratio {
                guard close(ratio.re, current.re, tolerance: 1e-9, scale: ratio.magnitude),
                    close(ratio.im, current.im, tolerance: 1e-9, scale: ratio.magnitude)
                else {
                    return .different(method: "numeric")
                }
            } else {
                guard current.magnitude > 1e-12 else { return .different(method: "numeric") }
                ratio = current
            }
            agreeing += 1
        }
        return agreeing >= 3 ? .equal(method: "numeric") : .different(method: "numeric")
    }

    /// Whether two exact values differ by at most `tolerance` relative to the larger (at least half a double's
    /// epsilon, the precision the comparison always had), computed exactly: in doubles, `1.5e400` and `1.2e400` were
    /// both infinite and `1e-400` and `2e-400` both 0, and so "equal".
    static func relativelyClose(_ x: Rational, _ y: Rational, tolerance: Double) -> Bool {
        if x == y { return true }
        // Over the common denominator: |x − y| is |a·d − c·b| and the larger magnitude is max(|a|·d, |c|·b). Products
        // only, no gcd (reducing 10,000-bit fractions took a third of a second).
        let difference = (x.numerator * y.denominator - y.numerator * x.denominator).magnitude
        let scale = Swift.max(x.numerator.magnitude * y.denominator.magnitude, y.numerator.magnitude * x.denominator.magnitude)
        guard !scale.isZero else { return false }
        // The ratio to about 60 significant bits: enough to compare against any tolerance down to a double's epsilon.
        let shift = Swift.max(0, scale.bitWidth - 60)
        let ratio = Double(difference >> shift) / Double(scale >> shift)
        return ratio <= Swift.max(tolerance, Double.ulpOfOne / 2)
    }

    /// The value of a decimal as written, sign included (`-0.333`).
    static func writtenDecimal(_ expression: MathExpr) -> Rational? {
        switch expression {
        case .number(let value, true): return value
        case .negate(.number(let value, true)): return -value
        default: return nil
        }
    }

    /// Whether a decimal with at least three places and three significant figures is the exact value correctly
    /// rounded to its places (`0.333` for 1/3, `2.6667` for 8/3, `0.000772` for 1/1296 — but not `0.001`, one
    /// significant figure, which would pass for anything from 1/2000 to 1/667).
    static func isCorrectlyRounded(_ decimal: Rational, _ exact: Rational) -> Bool {
        var twos = 0
        var fives = 0
        var denominator = decimal.denominator
        while denominator % 2 == 0, twos <= 60 {
            denominator /= 2
            twos += 1
        }
        while denominator % 5 == 0, fives <= 60 {
            denominator /= 5
            fives += 1
        }
        guard denominator == 1 else { return false }
        let places = max(twos, fives)
        var tenPower = Rational.one
        for _ in 0..<places { tenPower = tenPower * Rational(10) }
        guard places >= 3, let halfUnit = Rational(1, 2).divided(by: tenPower) else { return false }
        let units = (decimal * tenPower).numerator.magnitude
        guard units >= 100 else { return false }  // three significant figures
        let difference = decimal - exact
        let magnitude = difference.isNegative ? -difference : difference
        return (magnitude - halfUnit).isNegative || magnitude == halfUnit
    }

    /// Values for the variables at one sample round: each variable gets its own point, deterministically.
    private static func bindings(_ variables: [String], round: Int, complex: Bool = false) -> [String: Complex] {
        var bindings: [String: Complex] = [:]
        for (offset, name) in variables.enumerated() {
            let imaginary = complex ? points[(round + offset * 2 + 5) % points.count] : 0
            bindings[name] = Complex(points[(round + offset * 2) % points.count] + Double(offset) * 0.1, imaginary)
        }
        return bindings
    }

    private func close(_ x: Double, _ y: Double, tolerance: Double, scale: Double? = nil) -> Bool {
        if x == y { return true }
        let size = scale ?? max(abs(x), abs(y))
        return abs(x - y) <= tolerance * size
    }
}

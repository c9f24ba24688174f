// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import BigInt
import Testing

@testable import ArbiterMath

/// `Rational` computes in machine words when both parts are below 2^62 (issue 16's speed pass): every result must be
/// the one exact BigInt arithmetic gives, including across the 2^62 boundary and on overflow.
@Suite("math: rationals in machine words equal BigInt arithmetic")
struct RationalMachineWordTests {
    /// Values around the edges: small, near 2^53 (exact doubles), near 2^62 (the machine-word limit), near 2^63.
    static func edgeValues() -> [BigInt] {
        var values: [BigInt] = [0, 1, 2, 3, 6, 7, 10, 12, 97, 1_000_003]
        for shift in [31, 52, 53, 54, 61, 62, 63, 64] {
            let power = BigInt(1) << shift
            values += [power - 1, power, power + 1, (power / 3) * 2 + 1]
        }
        return values + values.map { -$0 }
    }

    /// The reference: BigInt arithmetic reduced by a gcd, with a positive denominator.
    static func reduced(_ top: BigInt, _ bottom: BigInt) -> (BigInt, BigInt) {
        let divisor = top.magnitude.greatestCommonDivisor(with: bottom.magnitude)
        var (n, d) = (top / BigInt(divisor), bottom / BigInt(divisor))
        if d < 0 { (n, d) = (-n, -d) }
        return (n, d)
    }

    static func parts(_ value: Rational) -> (BigInt, BigInt) { (value.numerator, value.denominator) }

    @Test("sums, products, quotients, negations and powers agree with BigInt arithmetic")
    func arithmeticAgrees() {
        var generator = SplitMix(state: 0x5EED_2026_1206)
        let values = Self.edgeValues()
        var checked = 0
        for _ in 0..<4_000 {
            let (a, b, c, d) = (values.randomElement(using: &generator)!, values.randomElement(using: &generator)!,
                                values.randomElement(using: &generator)!, values.randomElement(using: &generator)!)
            guard b != 0, d != 0 else { continue }
            let x = Rational(a, b)
            let y = Rational(c, d)
            #expect(Self.parts(x) == Self.reduced(a, b))
            #expect(Self.parts(x + y) == Self.reduced(a * d + c * b, b * d))
            #expect(Self.parts(x * y) == Self.reduced(a * c, b * d))
            #expect(Self.parts(-x) == Self.reduced(-a, b))
            if c != 0 { #expect(Self.parts(x.divided(by: y)!) == Self.reduced(a * d, b * c)) }
            for exponent in [2, 3, -2] where a != 0 || exponent > 0 {
                let power = x.power(BigInt(exponent), maxBits: MathBudget.maxBits)!
                let k = abs(exponent)
                let expected = exponent > 0 ? Self.reduced(a.power(k), b.power(k)) : Self.reduced(b.power(k), a.power(k))
                #expect(Self.parts(power) == expected)
            }
            // Equal values are equal and hash alike, whichever representation made them.
            let same = Rational(a * 3, b * 3)
            #expect(same == x)
            #expect(same.hashValue == x.hashValue)
            checked += 1
        }
        #expect(checked > 3_000)
    }

    /// A fixed-seed generator, so that a failure repeats.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test("a double from machine words is the BigInt conversion's")
    func doublesAgree() {
        for a in Self.edgeValues() {
            for b in Self.edgeValues() where b != 0 {
                let value = Rational(a, b)
                let (n, d) = Self.reduced(a, b)
                #expect(value.doubleValue == Double(n) / Double(d))
            }
        }
    }

    @Test("bit sizes from machine words are the BigInt widths")
    func bitSizesAgree() {
        for a in Self.edgeValues() {
            for b in Self.edgeValues() where b != 0 {
                let value = Rational(a, b)
                let (n, d) = Self.reduced(a, b)
                #expect(value.bitSize == n.magnitude.bitWidth + d.magnitude.bitWidth, "\(a)/\(b)")
            }
        }
    }

    @Test("negative control: an unreduced or sign-flipped answer is told apart")
    func negativeControl() {
        let x = Rational(BigInt(6), BigInt(-4))
        #expect(Self.parts(x) == (BigInt(-3), BigInt(2)))
        #expect(Self.parts(x) != (BigInt(6), BigInt(-4)))
        #expect(Self.parts(x) != (BigInt(3), BigInt(2)))
        let big = BigInt(1) << 62
        #expect(Rational(big, 1) != Rational(big - 1, 1))
        #expect(Rational(big, 3) * Rational(3, big) == Rational(1))
    }
}

/// Sums of polynomial terms compared in closed form (Faulhaber), only as a second chance after a difference.
@Suite("math: sums of polynomial terms in closed form")
struct SeriesClosedFormTests {
    @Test("a sum against its closed form is paid and says so in details.series")
    func closedFormPaid() async throws {
        let verdict = try await grade("$\\boxed{\\sum_{k=1}^{n} k^2}$", "\\frac{n(n+1)(2n+1)}{6}")
        #expect(verdict.passed)
        #expect(verdict.details["series"]?.stringValue?.contains("Faulhaber") == true)
    }

    @Test("near misses stay unequal, and a comparison without the rewrite carries no series note")
    func nearMisses() async throws {
        for (response, reference) in [
            ("$\\boxed{\\sum_{k=1}^{n} k^2}$", "\\frac{n(n+1)(2n-1)}{6}"),
            ("$\\boxed{\\frac{n(n+1)}{2}+\\sin(\\pi n)}$", "\\sum_{k=1}^{n} k"),
            ("$\\boxed{\\sum_{k=0}^{n-1} k}$", "\\frac{n(n+1)}{2}"),
        ] {
            let verdict = try await grade(response, reference)
            #expect(!verdict.passed, "\(response) against \(reference)")
            #expect(verdict.details["series"] == nil)
        }
        // Two sums equal as written are decided by the first comparison: no rewrite, no note.
        let same = try await grade("$\\boxed{\\sum_{k=1}^{n} k}$", "\\sum_{j=1}^{n} j")
        #expect(same.passed)
        #expect(same.details["series"] == nil)
    }

    @Test("the Faulhaber table: F_j(m) − F_j(m−1) = m^j at whole points, for every degree")
    func faulhaberTable() {
        for (degree, coefficients) in SeriesClosedForm.faulhaberCoefficients.enumerated() {
            func value(_ m: Int) -> Rational {
                var total = Rational.zero
                var power = Rational.one
                for coefficient in coefficients {
                    total = total + coefficient * power
                    power = power * Rational(m)
                }
                return total
            }
            for m in -3...12 {
                var expected = Rational.one
                for _ in 0..<degree { expected = expected * Rational(m) }
                #expect(value(m) - value(m - 1) == expected, "degree \(degree) at \(m)")
            }
            #expect(value(0) == .zero)
        }
    }
}

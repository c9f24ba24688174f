// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import BigInt
import Foundation

/// An exact rational number on arbitrary-precision integers, always in lowest terms with a positive denominator.
struct Rational: Hashable, Sendable, CustomStringConvertible {
    let numerator: BigInt
    let denominator: BigInt
    /// The same value in machine words when both parts are below 2^62 in magnitude (`smallDenominator` 0 otherwise):
    /// arithmetic on such values runs in machine words, checked for overflow, with the same results as on BigInt.
    private let smallNumerator: Int
    private let smallDenominator: Int

    init(_ numerator: BigInt, _ denominator: BigInt = 1) {
        precondition(!denominator.isZero)
        if let top = Self.machineValue(numerator), let bottom = Self.machineValue(denominator) {
            self = Self.reducing(top, bottom)
            return
        }
        let divisor = numerator.greatestCommonDivisor(with: denominator)
        var top = divisor.isZero ? numerator : numerator / divisor
        var bottom = divisor.isZero ? denominator : denominator / divisor
        if bottom.sign == .minus {
            top.negate()
            bottom.negate()
        }
        self.init(reduced: top, bottom)
    }

    init(_ value: Int) {
        self.init(reduced: value, 1)
    }

    /// A value already in lowest terms with a positive denominator: no gcd.
    private init(reduced numerator: BigInt, _ denominator: BigInt) {
        self.numerator = numerator
        self.denominator = denominator
        if let top = Self.machineValue(numerator), let bottom = Self.machineValue(denominator) {
            smallNumerator = top
            smallDenominator = bottom
        } else {
            smallNumerator = 0
            smallDenominator = 0
        }
    }

    /// A value in lowest terms with a positive denominator, both parts below 2^62 in magnitude.
    private init(small numerator: Int, _ denominator: Int) {
        self.numerator = Self.bigInt(numerator)
        self.denominator = Self.bigInt(denominator)
        smallNumerator = numerator
        smallDenominator = denominator
    }

    static func == (lhs: Rational, rhs: Rational) -> Bool {
        if lhs.smallDenominator != 0, rhs.smallDenominator != 0 {
            return lhs.smallNumerator == rhs.smallNumerator && lhs.smallDenominator == rhs.smallDenominator
        }
        return lhs.numerator == rhs.numerator && lhs.denominator == rhs.denominator
    }

    func hash(into hasher: inout Hasher) {
        // Equal values are both in machine words or both not, so either hash agrees with `==`.
        if smallDenominator != 0 {
            hasher.combine(smallNumerator)
            hasher.combine(smallDenominator)
        } else {
            hasher.combine(numerator)
            hasher.combine(denominator)
        }
    }

    // MARK: Machine-word fast paths
    //
    // The same values as the BigInt paths, computed in machine words when every part is below 2^62 (each operation
    // checks for overflow and falls back to BigInt).

    /// The value as a machine integer when its magnitude is below 2^62.
    static func machineValue(_ value: BigInt) -> Int? {
        let magnitude = value.magnitude
        guard magnitude.bitWidth <= 62 else { return nil }
        let low = Int(bitPattern: magnitude.words.first ?? 0)
        return value.sign == .minus ? -low : low
    }

    /// A BigInt of a machine integer (magnitude below 2^63), made from its sign and magnitude.
    @inline(__always)
    static func bigInt(_ value: Int) -> BigInt {
        BigInt(sign: value < 0 ? .minus : .plus, magnitude: BigUInt(integerLiteral: UInt64(value.magnitude)))
    }

    /// Euclid's gcd of two non-negative machine integers.
    @inline(__always)
    static func machineGCD(_ a: Int, _ b: Int) -> Int {
        var (x, y) = (a, b)
        while y != 0 { (x, y) = (y, x % y) }
        return x
    }

    /// `top / bottom` in lowest terms with a positive denominator (`bottom` non-zero, neither `Int.min`).
    static func reducing(_ top: Int, _ bottom: Int) -> Rational {
        let divisor = machineGCD(abs(top), abs(bottom))
        var (numerator, denominator) = divisor == 1 ? (top, bottom) : (top / divisor, bottom / divisor)
        if denominator < 0 {
            numerator = -numerator
            denominator = -denominator
        }
        return Rational(reduced: numerator, denominator)
    }

    /// A reduced value from machine words, kept small when both parts are below 2^62.
    private init(reduced numerator: Int, _ denominator: Int) {
        if numerator.magnitude < 1 << 62, denominator < 1 << 62 {
            self.init(small: numerator, denominator)
        } else {
            self.init(reduced: Self.bigInt(numerator), Self.bigInt(denominator))
        }
    }

    /// The greatest common divisor, one Euclidean step first: BigInt's binary gcd costs bits × words of the larger
    /// number even when the other is one word, while the remainder brings both down to the smaller's size at once.
    private static func gcd(_ a: BigInt, _ b: BigInt) -> BigInt {
        let (x, y) = (a.magnitude, b.magnitude)
        let (large, small) = x >= y ? (x, y) : (y, x)
        guard !small.isZero else { return BigInt(large) }
        return BigInt(small.greatestCommonDivisor(with: large % small))
    }

    static let zero = Rational(0)
    static let one = Rational(1)

    /// The parts in machine words, when both are below 2^62 in magnitude.
    var machineParts: (numerator: Int, denominator: Int)? {
        smallDenominator != 0 ? (smallNumerator, smallDenominator) : nil
    }

    var isInteger: Bool { smallDenominator != 0 ? smallDenominator == 1 : denominator == 1 }
    var isZero: Bool { smallDenominator != 0 ? smallNumerator == 0 : numerator.isZero }
    var isNegative: Bool { smallDenominator != 0 ? smallNumerator < 0 : numerator.sign == .minus && !numerator.isZero }
    /// Bits needed to write the numerator and denominator.
    var bitSize: Int {
        if smallDenominator != 0 {  // the same widths, from the machine words
            let width = { (value: Int) in UInt.bitWidth - value.magnitude.leadingZeroBitCount }
            return width(smallNumerator) + width(smallDenominator)
        }
        return numerator.magnitude.bitWidth + denominator.magnitude.bitWidth
    }

    static func + (lhs: Rational, rhs: Rational) -> Rational {
        if lhs.isZero { return rhs }
        if rhs.isZero { return lhs }
        if lhs.smallDenominator != 0, rhs.smallDenominator != 0 {
            let (a, b, c, d) = (lhs.smallNumerator, lhs.smallDenominator, rhs.smallNumerator, rhs.smallDenominator)
            let (ad, o1) = a.multipliedReportingOverflow(by: d)
            let (cb, o2) = c.multipliedReportingOverflow(by: b)
            let (bd, o3) = b.multipliedReportingOverflow(by: d)
            if !o1, !o2, !o3 {
                let (top, o4) = ad.addingReportingOverflow(cb)
                if !o4, top != .min { return reducing(top, bd) }
            }
        }
        if lhs.denominator == rhs.denominator { return Rational(lhs.numerator + rhs.numerator, lhs.denominator) }
        return Rational(lhs.numerator * rhs.denominator + rhs.numerator * lhs.denominator, lhs.denominator * rhs.denominator)
    }

    static func - (lhs: Rational, rhs: Rational) -> Rational { lhs + (-rhs) }

    static prefix func - (value: Rational) -> Rational {
        if value.smallDenominator != 0 { return Rational(small: -value.smallNumerator, value.smallDenominator) }
        return value.isZero ? value : Rational(reduced: -value.numerator, value.denominator)
    }

    /// Both sides are in lowest terms, so only the cross pairs can share a factor: two gcds of one factor's size
    /// instead of one of the product's (a product of thousands of small rationals was cubic in its length; fuzz
    /// finding 2026-12-06).
    static func * (lhs: Rational, rhs: Rational) -> Rational {
        if lhs.isZero || rhs.isZero { return .zero }
        if lhs.smallDenominator != 0, rhs.smallDenominator != 0 {
            let (a, b, c, d) = (lhs.smallNumerator, lhs.smallDenominator, rhs.smallNumerator, rhs.smallDenominator)
            let first = machineGCD(abs(a), d)
            let second = machineGCD(abs(c), b)
            let (top, o1) = (a / first).multipliedReportingOverflow(by: c / second)
            let (bottom, o2) = (b / second).multipliedReportingOverflow(by: d / first)
            if !o1, !o2 { return Rational(reduced: top, bottom) }
        }
        let first = gcd(lhs.numerator, rhs.denominator)
        let second = gcd(rhs.numerator, lhs.denominator)
        let top = (first == 1 ? lhs.numerator : lhs.numerator / first) * (second == 1 ? rhs.numerator : rhs.numerator / second)
        let bottom = (second == 1 ? lhs.denominator : lhs.denominator / second)
            * (first == 1 ? rhs.denominator : rhs.denominator / first)
        return Rational(reduced: top, bottom)
    }

    /// `nil` on division by zero.
    func divided(by other: Rational) -> Rational? {
        guard !other.isZero else { return nil }
        let reciprocal = other.isNegative
            ? Rational(reduced: -other.denominator, -other.numerator) : Rational(reduced: other.denominator, other.numerator)
        return self * reciprocal
    }

    /// `self^exponent` for an integer exponent, or `nil` when the result would exceed `maxBits` (or is 0^-n).
    func power(_ exponent: BigInt, maxBits: Int) -> Rational? {
        if exponent.isZero { return .one }
        if isZero { return exponent.sign == .minus ? nil : .zero }
        if numerator.magnitude == 1 && denominator == 1 {
            let odd = exponent.magnitude % 2 == 1
            return Rational(isNegative && odd ? -1 : 1)
        }
        guard exponent.magnitude.bitWidth <= 40 else { return nil }
        let count = Int(exponent.magnitude)
        // Parts below 2^62 have logarithms below 62, so a power of at most maxBits / 124 passes the size estimate
        // below: computed in machine words while they do not overflow (powers of coprime parts stay coprime).
        if smallDenominator != 0, count * 124 <= maxBits {
            var top = 1
            var bottom = 1
            var overflow = false
            for _ in 0..<count where !overflow {
                var o1 = false
                var o2 = false
                (top, o1) = top.multipliedReportingOverflow(by: smallNumerator)
                (bottom, o2) = bottom.multipliedReportingOverflow(by: smallDenominator)
                overflow = o1 || o2 || top == .min
            }
            if !overflow {
                guard exponent.sign == .minus else { return Rational(reduced: top, bottom) }
                return top < 0 ? Rational(reduced: -bottom, -top) : Rational(reduced: bottom, top)
            }
        }
        let estimate = Double(count) * (Self.log2(numerator.magnitude) + Self.log2(denominator.magnitude))
        guard estimate <= Double(maxBits), count <= maxBits else { return nil }
        let top = numerator.power(count)
        let bottom = denominator.power(count)
        return exponent.sign == .minus ? Rational(bottom, top) : Rational(top, bottom)
    }

    /// log₂ of a positive integer, close enough to size a power before computing it.
    private static func log2(_ value: BigUInt) -> Double {
        let width = value.bitWidth
        guard width > 60 else { return Foundation.log2(Double(value)) }
        return Double(width - 60) + Foundation.log2(Double(value >> (width - 60)))
    }

    /// The nearest `Double` (infinite when out of range), computed without overflowing on huge parts.
    var doubleValue: Double {
        let shift = max(0, max(numerator.magnitude.bitWidth, denominator.magnitude.bitWidth) - 900)
        if shift == 0 {
            // Below 2^53 both parts are exact doubles, whichever conversion makes them.
            if smallDenominator != 0, smallNumerator.magnitude < 1 << 53, smallDenominator < 1 << 53 {
                return Double(smallNumerator) / Double(smallDenominator)
            }
            return Double(numerator) / Double(denominator)
        }
        let top = Double(numerator >> shift)
        let bottom = Double(denominator >> shift)
        if bottom == 0 { return top.sign == .minus ? -.infinity : .infinity }
        return top / bottom
    }

    var description: String { isInteger ? "\(numerator)" : "\(numerator)/\(denominator)" }

    /// A decimal literal such as `-12.50` or `1.5e3`, exactly; `nil` when it is malformed or over the literal budget
    /// (``MathBudget/maxLiteralDigits`` digits, an exponent beyond ±``MathBudget/maxLiteralExponent``).
    static func parseDecimal(_ text: Substring) -> Rational? {
        var mantissa = text
        var exponent = 0
        if let e = mantissa.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            let written = mantissa[mantissa.index(after: e)...]
            // `Int("1" + 30 zeros)` is nil, not a trap; the length guard only keeps the conversion short.
            guard written.utf8.count <= 12, let value = Int(written), abs(value) <= MathBudget.maxLiteralExponent
            else { return nil }
            exponent = value
            mantissa = mantissa[..<e]
        }
        guard mantissa.utf8.count <= MathBudget.maxLiteralDigits + 2 else { return nil }
        var digits = ""
        var scale = 0
        var negative = false
        for (offset, character) in mantissa.enumerated() {
            if character == "-", offset == 0 {
                negative = true
            } else if character == "." {
                guard scale == 0 else { return nil }
                scale = -1
            } else if character.isASCII, character.isNumber {
                digits.append(character)
                if scale < 0 { scale -= 1 }
            } else {
                return nil
            }
        }
        guard !digits.isEmpty, let integer = BigInt(digits) else { return nil }
        let fractionDigits = scale < 0 ? -scale - 1 : 0
        let power = exponent - fractionDigits
        let ten = BigInt(10)
        var value = power >= 0 ? Rational(integer * ten.power(power)) : Rational(integer, ten.power(-power))
        if negative { value = -value }
        return value
    }
}

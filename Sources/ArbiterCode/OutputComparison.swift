// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore

/// How a program's answer is compared with the expected one.
///
/// Text is compared line by line and token by token, ignoring trailing whitespace and trailing empty lines; a
/// missing or extra line or token is a mismatch. An expected token written as a decimal (with a point or an
/// exponent) matches any number within the tolerance (absolute or relative); an expected integer matches only the
/// same integer, so that a wrong 64-bit answer cannot pass as "close". Tolerance 0 compares every token exactly.
struct OutputComparison: Sendable {
    /// Relative and absolute tolerance for decimals; 0 for exact.
    var tolerance: Double

    /// Whether the output matches; when not, a short description of the first difference.
    func compare(output: String, expected: String) -> String? {
        let got = lines(output)
        let want = lines(expected)
        for index in 0..<max(got.count, want.count) {
            guard index < got.count else { return "line \(index + 1): missing (expected '\(clip(want[index]))')" }
            guard index < want.count else { return "line \(index + 1): extra output '\(clip(got[index]))'" }
            let gotTokens = got[index].split(whereSeparator: \.isWhitespace)
            let wantTokens = want[index].split(whereSeparator: \.isWhitespace)
            guard gotTokens.count == wantTokens.count,
                zip(gotTokens, wantTokens).allSatisfy({ tokensMatch(String($0), String($1)) })
            else {
                return "line \(index + 1): got '\(clip(got[index]))', expected '\(clip(want[index]))'"
            }
        }
        return nil
    }

    private func lines(_ text: String) -> [Substring] {
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .map(trimEnd)
        while let last = lines.last, last.isEmpty { lines.removeLast() }
        return lines
    }

    private func trimEnd(_ line: Substring) -> Substring {
        var end = line.endIndex
        while end > line.startIndex, line[line.index(before: end)].isWhitespace { end = line.index(before: end) }
        return line[..<end]
    }

    private func clip(_ text: Substring) -> String {
        text.clipped(characters: 80, bytes: 320)
    }

    /// Whether a token the program wrote matches the expected token.
    func tokensMatch(_ got: String, _ want: String) -> Bool {
        if got == want { return true }
        guard tolerance > 0, Self.isDecimal(want), let expected = Double(want), expected.isFinite,
            Self.isNumber(got), let actual = Double(got), actual.isFinite
        else { return false }
        return close(actual, expected)
    }

    private func close(_ actual: Double, _ expected: Double) -> Bool {
        let difference = abs(actual - expected)
        return difference <= tolerance || difference <= tolerance * abs(expected)
    }

    /// A number written with a point or an exponent.
    static func isDecimal(_ token: String) -> Bool {
        isNumber(token) && token.contains { $0 == "." || $0 == "e" || $0 == "E" }
    }

    /// A plain decimal number: optional sign, digits with an optional point, optional exponent.
    static func isNumber(_ token: String) -> Bool {
        var bytes = Substring(token).utf8[...]
        if let first = bytes.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            bytes = bytes.dropFirst()
        }
        let isDigit: (UInt8) -> Bool = { $0 >= 48 && $0 <= 57 }
        let integer = bytes.prefix(while: isDigit)
        bytes = bytes.dropFirst(integer.count)
        var fraction = 0
        if bytes.first == UInt8(ascii: ".") {
            bytes = bytes.dropFirst()
            fraction = bytes.prefix(while: isDigit).count
            bytes = bytes.dropFirst(fraction)
        }
        guard integer.count + fraction > 0 else { return false }
        if let first = bytes.first, first == UInt8(ascii: "e") || first == UInt8(ascii: "E") {
            bytes = bytes.dropFirst()
            if let sign = bytes.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
                bytes = bytes.dropFirst()
            }
            let exponent = bytes.prefix(while: isDigit).count
            guard exponent > 0 else { return false }
            bytes = bytes.dropFirst(exponent)
        }
        return bytes.isEmpty
    }

    /// Deep equality of JSON values: arrays element by element, objects key by key, strings and booleans exactly;
    /// numbers as above (an expected integer needs the same integer; a returned `2.0` equals an expected `2`).
    func valuesMatch(_ got: JSONValue, _ want: JSONValue) -> Bool {
        switch (got, want) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.number(let a), .number(let b)): return numbersMatch(a, b)
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { valuesMatch($0, $1) }
        case (.object(let a), .object(let b)):
            guard a.count == b.count else { return false }
            return b.allSatisfy { entry in a[entry.key].map { valuesMatch($0, entry.value) } ?? false }
        default: return false
        }
    }

    private func numbersMatch(_ got: JSONNumber, _ want: JSONNumber) -> Bool {
        if got.literal == want.literal { return true }
        if !Self.isDecimal(want.literal) {
            // An integer: the same integer, written as an integer or as an exactly integral decimal.
            if !Self.isDecimal(got.literal) {
                return Self.canonicalInteger(got.literal) == Self.canonicalInteger(want.literal)
            }
            let value = got.double
            return abs(value) < 9.0e15 && value == value.rounded()
                && Int(exactly: value).map(String.init)
                    == Self.canonicalInteger(want.literal)
        }
        if tolerance == 0 { return got.double == want.double }
        return got.double.isFinite && want.double.isFinite && close(got.double, want.double)
    }

    private static func canonicalInteger(_ literal: String) -> String {
        var digits = Substring(literal)
        var negative = false
        if digits.first == "-" {
            negative = true
            digits = digits.dropFirst()
        }
        let trimmed = digits.drop { $0 == "0" }
        if trimmed.isEmpty { return "0" }
        return (negative ? "-" : "") + trimmed
    }
}

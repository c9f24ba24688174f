// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import BigInt
import Foundation

/// Units written after an answer (`5\text{ cm}`, `50\,\mathrm{mm}`, `2\text{ km}^2`): when both the response and the
/// reference carry one, the response is converted to the reference's unit, and a unit of another dimension is
/// never equal. A unit on one side only is dropped, as before (`5\text{ cm}` against `5`).
enum Units {
    /// Dimension and size in the dimension's base unit.
    static let table: [String: (dimension: String, scale: Rational)] = [
        "mm": ("length", Rational(1, 1000)), "cm": ("length", Rational(1, 100)), "dm": ("length", Rational(1, 10)),
        "m": ("length", .one), "km": ("length", Rational(1000)), "meter": ("length", .one), "meters": ("length", .one),
        "mg": ("mass", Rational(1, 1000)), "g": ("mass", .one), "kg": ("mass", Rational(1000)),
        "grams": ("mass", .one), "kilograms": ("mass", Rational(1000)),
        "s": ("time", .one), "sec": ("time", .one), "seconds": ("time", .one), "min": ("time", Rational(60)),
        "minutes": ("time", Rational(60)), "h": ("time", Rational(3600)), "hr": ("time", Rational(3600)),
        "hours": ("time", Rational(3600)),
        "ml": ("volume", Rational(1, 1000)), "mL": ("volume", Rational(1, 1000)), "l": ("volume", .one),
        "L": ("volume", .one),
    ]

    static let pattern = Patterns.make(
        #"^(.*?)\s*\\(?:text|mathrm|mbox)\s*\{\s*([A-Za-z]+)\s*\}\s*(?:\^\s*\{?\s*([23])\s*\}?)?\s*$"#)

    /// The value's text, the unit's dimension (with its power) and its size, when the answer ends in a known unit.
    static func split(_ answer: String) -> (value: String, dimension: String, scale: Rational)? {
        guard answer.has("\\text") || answer.has("\\mathrm") || answer.has("\\mbox") else { return nil }
        let text = AnswerExtractor.stripMathDelimiters(answer.trimmed())
        guard text.utf8.count <= 2_000 else { return nil }
        let valueRange: Range<String.Index>
        let unitRange: Range<String.Index>
        let powerRange: Range<String.Index>?
        if let found = unitTail(text) {
            guard let found else { return nil }
            (valueRange, unitRange) = (text.utf8Range(found.value), text.utf8Range(found.unit))
            powerRange = found.power.map { text.utf8Range($0) }
        } else {
            guard let match = pattern.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
                let value = Range(match.range(at: 1), in: text), let unit = Range(match.range(at: 2), in: text)
            else { return nil }
            (valueRange, unitRange, powerRange) = (value, unit, Range(match.range(at: 3), in: text))
        }
        guard let unit = table[String(text[unitRange])] ?? table[String(text[unitRange]).lowercased()] else { return nil }
        var power = 1
        if let powerRange, let written = Int(text[powerRange]) { power = written }
        guard let scale = unit.scale.power(.init(power), maxBits: 256) else { return nil }
        let value = text[valueRange].trimmed()
        guard !value.isEmpty else { return nil }
        return (value, power == 1 ? unit.dimension : "\(unit.dimension)^\(power)", scale)
    }

    /// The groups of ``pattern`` (value, unit, power; UTF-8 offsets) found by hand in an ASCII text without line
    /// breaks: `.some(nil)` when the pattern does not match, `nil` for any other text (the pattern then runs).
    ///
    /// After the lazy `(.*?)` the pattern holds one backslash and then only letters, spaces, braces, `^`, `2` and
    /// `3`, so the only backslash it can start at is the text's last one; from there every part has one way to match,
    /// and `(.*?)` ends where the run of spaces before that backslash begins. In such a text `\s` is a space or a tab
    /// and `.` is any byte.
    static func unitTail(_ text: String) -> (value: Range<Int>, unit: Range<Int>, power: Range<Int>?)?? {
        let bytes = Array(text.utf8)
        guard !bytes.contains(where: { $0 >= 0x80 || (0x0A...0x0D).contains($0) }) else { return nil }
        let isSpace = { (byte: UInt8) in byte == 0x20 || byte == 0x09 }
        func skipSpaces(_ index: inout Int) { while index < bytes.count, isSpace(bytes[index]) { index += 1 } }
        func take(_ byte: UInt8, _ index: inout Int) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }
        guard let backslash = bytes.lastIndex(of: UInt8(ascii: "\\")) else { return .some(nil) }
        var index = backslash + 1
        guard let command = ["text", "mathrm", "mbox"].first(where: { bytes[index...].starts(with: $0.utf8) }) else {
            return .some(nil)
        }
        index += command.utf8.count
        skipSpaces(&index)
        guard take(UInt8(ascii: "{"), &index) else { return .some(nil) }
        skipSpaces(&index)
        let unitStart = index
        while index < bytes.count, (bytes[index] | 0x20) >= UInt8(ascii: "a"), (bytes[index] | 0x20) <= UInt8(ascii: "z") {
            index += 1
        }
        let unit = unitStart..<index
        guard !unit.isEmpty else { return .some(nil) }
        skipSpaces(&index)
        guard take(UInt8(ascii: "}"), &index) else { return .some(nil) }
        skipSpaces(&index)
        var power: Range<Int>? = nil
        if take(UInt8(ascii: "^"), &index) {
            skipSpaces(&index)
            _ = take(UInt8(ascii: "{"), &index)
            skipSpaces(&index)
            guard index < bytes.count, bytes[index] == UInt8(ascii: "2") || bytes[index] == UInt8(ascii: "3") else {
                return .some(nil)
            }
            power = index..<(index + 1)
            index += 1
            skipSpaces(&index)
            _ = take(UInt8(ascii: "}"), &index)
            skipSpaces(&index)
        }
        guard index == bytes.count else { return .some(nil) }
        var valueEnd = backslash
        while valueEnd > 0, isSpace(bytes[valueEnd - 1]) { valueEnd -= 1 }
        return .some((0..<valueEnd, unit, power))
    }

    /// The response rewritten in the reference's unit, `.mismatch` when the dimensions differ, `nil` when either
    /// side has no known unit.
    enum Conversion {
        case converted(String)
        case mismatch(String, String)
    }

    static func convert(response: String, reference: String) -> Conversion? {
        guard let given = split(response), let wanted = split(reference) else { return nil }
        guard given.dimension == wanted.dimension else { return .mismatch(given.dimension, wanted.dimension) }
        guard let factor = given.scale.divided(by: wanted.scale) else { return nil }
        if factor == .one { return .converted(given.value) }
        return .converted("(\(given.value))\\cdot\\frac{\(factor.numerator)}{\(factor.denominator)}")
    }
}

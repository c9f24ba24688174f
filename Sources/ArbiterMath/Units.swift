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

    private static let pattern = Patterns.make(
        #"^(.*?)\s*\\(?:text|mathrm|mbox)\s*\{\s*([A-Za-z]+)\s*\}\s*(?:\^\s*\{?\s*([23])\s*\}?)?\s*$"#)

    /// The value's text, the unit's dimension (with its power) and its size, when the answer ends in a known unit.
    static func split(_ answer: String) -> (value: String, dimension: String, scale: Rational)? {
        guard answer.has("\\text") || answer.has("\\mathrm") || answer.has("\\mbox") else { return nil }
        let text = AnswerExtractor.stripMathDelimiters(answer.trimmed())
        guard text.utf8.count <= 2_000, let match = pattern.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
            let valueRange = Range(match.range(at: 1), in: text), let unitRange = Range(match.range(at: 2), in: text),
            let unit = table[String(text[unitRange])] ?? table[String(text[unitRange]).lowercased()]
        else { return nil }
        var power = 1
        if let powerRange = Range(match.range(at: 3), in: text), let written = Int(text[powerRange]) { power = written }
        guard let scale = unit.scale.power(.init(power), maxBits: 256) else { return nil }
        let value = text[valueRange].trimmed()
        guard !value.isEmpty else { return nil }
        return (value, power == 1 ? unit.dimension : "\(unit.dimension)^\(power)", scale)
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

// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing

@testable import ArbiterMath

/// The digit-separator and doubled-backslash scans (issue 16's speed pass) must rewrite every text they accept as
/// their regular expressions do; a pattern with one condition changed must disagree somewhere on the same texts.
@Suite("math: byte scans rewrite as the regular expressions do (digit separators, doubled backslashes)")
struct SeparatorScansTests {
    /// Random texts from `parts`, ASCII and not.
    static func texts(_ parts: [String], seed: UInt64, count: Int = 30_000) -> [String] {
        var generator = RationalMachineWordTests.SplitMix(state: seed)
        return (0..<count).map { _ in
            (0..<Int.random(in: 0...10, using: &generator)).map { _ in parts.randomElement(using: &generator)! }.joined()
        }
    }

    static let separatorTexts = texts(
        ["1", "2", "34", "567", "8901", "{,}", "\\,", "{,", "}", "{", ",", " ", "\t", "\n", "\u{0B}", "x", "é", "٣", "\\", "1{,}2",
         "3\\,4", "5 {, } 6", "7{,}000", "8\\,0001"],
        seed: 0x2026_1206_0040)
    static let backslashTexts = texts(
        ["\\", "\\\\", "\\\\\\", "a", "Z", "{", "}", "[", "1", " ", "é", "\\frac", "\\\\frac", "@", "`", "|"],
        seed: 0x2026_1206_0041)

    /// How many texts the scan decides, how many it changes, and the texts where it differs from `pattern`.
    static func compare(
        _ pattern: String, _ template: String, _ texts: [String], _ scan: (String) -> String?,
        options: NSRegularExpression.Options = []
    ) -> (decided: Int, changed: Int, differing: [String]) {
        let expression = try! NSRegularExpression(pattern: pattern, options: options)
        var decided = 0
        var changed = 0
        var differing: [String] = []
        for text in texts {
            guard let scanned = scan(text) else { continue }
            decided += 1
            if scanned != text { changed += 1 }
            if scanned != Patterns.replace(expression, in: text, with: template) { differing.append(text) }
        }
        return (decided, changed, differing)
    }

    @Test("`{,}` and `\\,` between digits: the same text as Patterns.looseDigitSeparator")
    func looseSeparatorsAgree() {
        let result = Self.compare(
            #"(\d)(?:\{,\}|\\,)(?!\d{3}(?!\d))(\d)"#, "$1 $2", Self.separatorTexts, DigitGroups.replacingLooseDigitSeparators)
        #expect(result.differing.isEmpty, "\(result.differing.prefix(5))")
        #expect(result.decided > 10_000 && result.changed > 200, "\(result.decided) decided, \(result.changed) changed")
        #expect(DigitGroups.replacingLooseDigitSeparators(in: "1{,}2{,}3") == "1 2{,}3")
        #expect(DigitGroups.replacingLooseDigitSeparators(in: "1{,}000") == "1{,}000")
        #expect(DigitGroups.replacingLooseDigitSeparators(in: "é 3{,}4") == nil)
    }

    @Test("`{,}` with spaces between digits: the same text as Patterns.spacedThousandsBrace")
    func spacedBracesAgree() {
        let result = Self.compare(
            #"(\d)\s*\{,\s*\}\s*(\d)"#, "$1$2", Self.separatorTexts, DigitGroups.replacingSpacedThousandsBraces)
        #expect(result.differing.isEmpty, "\(result.differing.prefix(5))")
        #expect(result.decided > 10_000 && result.changed > 200, "\(result.decided) decided, \(result.changed) changed")
        #expect(DigitGroups.replacingSpacedThousandsBraces(in: "1 {, } 000") == "1000")
        #expect(DigitGroups.replacingSpacedThousandsBraces(in: "1\u{0B}{,}000") == nil)
    }

    @Test("doubled backslashes: the same text as Patterns.doubledBackslash, on every text")
    func doubledBackslashesAgree() {
        let result = Self.compare(
            #"(?<!\\)\\\\(?=[A-Za-z{}])"#, "\\\\", Self.backslashTexts, DigitGroups.replacingDoubledBackslashes)
        #expect(result.differing.isEmpty, "\(result.differing.prefix(5))")
        #expect(result.decided == Self.backslashTexts.count && result.changed > 5_000, "\(result.changed) changed")
        #expect(DigitGroups.replacingDoubledBackslashes(in: "\\\\frac{1}{2}") == "\\frac{1}{2}")
        #expect(DigitGroups.replacingDoubledBackslashes(in: "a\\\\\\b") == "a\\\\\\b")
    }

    static let connectiveTexts = texts(
        ["and", "AND", "Or", "nor", "NOR", "or", " ", "  ", "\t", "\n", "\u{0B}", ",", ", ,", "(1,2)", "[3]", ")", "(", "]",
         "[", "\\text{", "\\TEXT{", "\\text{ and }", "}", "{", "x", "d", "é", "3", "\\",
         ") and (", "] OR [", ")or[", " nor "],
        seed: 0x2026_1206_0042)

    @Test("list connectives: the same text as each of the four connective patterns")
    func connectivesAgree() {
        let cases: [(String, (String) -> String?)] = [
            (#"\\text\{\s*(and|or)\s*\}"#, DigitGroups.replacingTextConnectives),
            (#"(?<=[)\]])\s*(and|or)\s*(?=[(\[])"#, DigitGroups.replacingConnectivesBetweenTuples),
            (#"\s+(or|and|nor)\s+"#, DigitGroups.replacingSpacedConnectives),
            (#",(\s*,)+"#, DigitGroups.replacingDoubleCommas),
        ]
        for (pattern, scan) in cases {
            let result = Self.compare(pattern, ",", Self.connectiveTexts, scan, options: .caseInsensitive)
            #expect(result.differing.isEmpty, "\(pattern): \(result.differing.prefix(5))")
            #expect(result.decided > 10_000 && result.changed > 200, "\(pattern): \(result.decided), \(result.changed)")
        }
        #expect(DigitGroups.replacingSpacedConnectives(in: "3 or or 4") == "3,or 4")
        #expect(DigitGroups.replacingTextConnectives(in: "6\\Text{ AND }8") == "6,8")
        #expect(DigitGroups.replacingDoubleCommas(in: "1, , ,2") == "1,2")
        #expect(DigitGroups.replacingConnectivesBetweenTuples(in: "(1,2) and (3,4)") == "(1,2),(3,4)")
        #expect(DigitGroups.replacingSpacedConnectives(in: "3 or\u{0B}4") == nil)
    }

    /// Negative control: each pattern with one condition changed rewrites some of the same texts differently, so the
    /// comparisons above would catch a scan that got that condition wrong.
    @Test("control: a pattern with one condition changed disagrees with the scan on the random texts")
    func mutantsDisagree() {
        let mutants: [(String, String, [String], (String) -> String?)] = [
            (#"(\d)(?:\{,\}|\\,)(?!\d{3})(\d)"#, "$1 $2", Self.separatorTexts, DigitGroups.replacingLooseDigitSeparators),
            (#"(\d)(?:\{,\})(?!\d{3}(?!\d))(\d)"#, "$1 $2", Self.separatorTexts, DigitGroups.replacingLooseDigitSeparators),
            (#"(\d)(?:\{,\}|\\,)(?=(\d))"#, "$1 ", Self.separatorTexts, DigitGroups.replacingLooseDigitSeparators),
            (#"(\d) *\{, *\} *(\d)"#, "$1$2", Self.separatorTexts, DigitGroups.replacingSpacedThousandsBraces),
            (#"(\d)\s*\{,\}\s*(\d)"#, "$1$2", Self.separatorTexts, DigitGroups.replacingSpacedThousandsBraces),
            (#"\\\\(?=[A-Za-z{}])"#, "\\\\", Self.backslashTexts, DigitGroups.replacingDoubledBackslashes),
            (#"(?<!\\)\\\\(?=[A-Za-z])"#, "\\\\", Self.backslashTexts, DigitGroups.replacingDoubledBackslashes),
            (#"(?<!\\)\\\\(?=[a-z{}])"#, "\\\\", Self.backslashTexts, DigitGroups.replacingDoubledBackslashes),
            (#"\\text\{\s*(and|or)\}"#, ",", Self.connectiveTexts, DigitGroups.replacingTextConnectives),
            (#"(?<=[)])\s*(and|or)\s*(?=[(\[])"#, ",", Self.connectiveTexts, DigitGroups.replacingConnectivesBetweenTuples),
            (#"\s+(or|and)\s+"#, ",", Self.connectiveTexts, DigitGroups.replacingSpacedConnectives),
            (#"\s*(or|and|nor)\s+"#, ",", Self.connectiveTexts, DigitGroups.replacingSpacedConnectives),
            (#",(\s*,)"#, ",", Self.connectiveTexts, DigitGroups.replacingDoubleCommas),
        ]
        for (pattern, template, texts, scan) in mutants {
            // The connective patterns are case-insensitive (their strings hold no digit or backslash class).
            let options: NSRegularExpression.Options = texts == Self.connectiveTexts ? .caseInsensitive : []
            let result = Self.compare(pattern, template, texts, scan, options: options)
            #expect(!result.differing.isEmpty, "\(pattern) agrees with the scan everywhere")
        }
    }
}

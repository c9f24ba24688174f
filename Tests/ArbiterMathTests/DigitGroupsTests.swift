// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing

@testable import ArbiterMath

/// `DigitGroups` replaces two of the normaliser's regular expressions on ASCII text (issue 16's speed pass): its
/// matches, with their groups, must be the ones `NSRegularExpression` lists, on any text.
@Suite("math: byte scans find what the regular expressions find (digit groups, matrix blocks, units)")
struct DigitGroupsTests {
    typealias Matches = [DigitGroups.Match]

    /// What `expression` lists in a text, in UTF-8 offsets (as the scans give them).
    static func regexMatches(_ expression: NSRegularExpression, in text: String) -> Matches {
        func offsets(_ range: NSRange) -> Range<Int> {
            let found = Range(range, in: text)!
            let start = text.utf8.distance(from: text.startIndex, to: found.lowerBound)
            return start..<(start + text.utf8.distance(from: found.lowerBound, to: found.upperBound))
        }
        return expression.matches(in: text, range: NSRange(text.startIndex..., in: text)).map { match in
            DigitGroups.Match(
                range: offsets(match.range), groups: (1..<match.numberOfRanges).map { offsets(match.range(at: $0)) })
        }
    }

    /// Texts made of the characters both patterns look at, and a few they do not.
    static func randomTexts(count: Int, seed: UInt64) -> [String] {
        var generator = RationalMachineWordTests.SplitMix(state: seed)
        let alphabet = Array("0123456789012345678901234567890123456789,,,   \t//..a-x(é€½²")
        return (0..<count).map { _ in
            let length = Int.random(in: 0...32, using: &generator)
            return String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
        }
    }

    static let texts = randomTexts(count: 30_000, seed: 0x2026_1206_0028)

    /// Texts written the way answers write numbers.
    static let written = [
        "1,234", "1,234,567", "12,345.6", "0.123,456", "1 000", "1 000 000", "10,000,000 and 20,000", "1,2345", "1,234,5678",
        "1234,567", "(12,102)", "[1,000, 2,000]", "3.1,415", "4 4/9", "11 6/6", "1 2 3/4", "2 1/2/3", "1.5 1/2", "7\t3 / 8",
        "3 1/ 4x", "x 3 1/4", "1/2 3/4", "12 34/56", "", ",", "1,", ",123", "1, 234", "999,999,999,999",
    ]

    @Test("thousands groups: the same matches as Patterns.thousands on 30,000 random texts and the written ones")
    func thousandsAgree() throws {
        var matched = 0
        for text in Self.texts + Self.written {
            let scanned = try #require(DigitGroups.thousands(in: text))
            #expect(scanned == Self.regexMatches(Patterns.thousands, in: text), "\(text.debugDescription)")
            matched += scanned.count
        }
        #expect(matched > 500, "the texts hold matches: \(matched)")
    }

    @Test("mixed numbers: the same matches and groups as Patterns.mixedNumber on the same texts")
    func mixedNumbersAgree() throws {
        var matched = 0
        for text in Self.texts + Self.written {
            let scanned = try #require(DigitGroups.mixedNumbers(in: text))
            #expect(scanned == Self.regexMatches(Patterns.mixedNumber, in: text), "\(text.debugDescription)")
            matched += scanned.count
        }
        #expect(matched > 500, "the texts hold matches: \(matched)")
    }

    @Test("a text with a non-ASCII digit is left to the regular expressions (ICU's \\d takes other scripts' digits)")
    func nonASCIIDigitsDeclined() throws {
        #expect(DigitGroups.thousands(in: "١,٢٣٤ or 1,234") == nil)
        #expect(DigitGroups.mixedNumbers(in: "4 ٤/9") == nil)
        #expect(DigitGroups.thousands(in: "1,234") != nil)
        // Other non-ASCII scalars (a letter, a sign, a vulgar fraction, a superscript: none is `Nd`) are scanned.
        let text = "1,000.99€ or é 12 3/4 ½ 2² 1 234"
        #expect(try #require(DigitGroups.thousands(in: text)) == Self.regexMatches(Patterns.thousands, in: text))
        #expect(try #require(DigitGroups.mixedNumbers(in: text)) == Self.regexMatches(Patterns.mixedNumber, in: text))
    }

    @Test("matrix blocks: the body cut on bytes is what matrixBegin and matrixEnd leave")
    func matrixBodiesAgree() {
        var generator = RationalMachineWordTests.SplitMix(state: 0x2026_1206_0029)
        let names = ["pmatrix", "bmatrix", "Bmatrix", "vmatrix", "matrix", "array"]
        let parts = ["1", "&", "\\\\", "{c|c}", "{", "}", " ", "x^{2}", "\\frac{1}{2}", "é", "\\end{", "\\begin{", "\n", "a"]
        var cut = 0
        for _ in 0..<20_000 {
            let name = names.randomElement(using: &generator)!
            let body = (0..<Int.random(in: 0...8, using: &generator)).map { _ in parts.randomElement(using: &generator)! }
                .joined()
            let block = "\\begin{\(name)}" + body + "\\end{\(name)}"
            var expected = Patterns.replace(Patterns.matrixBegin, in: block, with: "")
            expected = Patterns.replace(Patterns.matrixEnd, in: expected, with: "")
            if let found = LatexNormalizer.matrixBody(block) {
                #expect(found == expected, "\(block.debugDescription)")
                cut += 1
            }
        }
        #expect(cut > 15_000, "most blocks are cut on bytes: \(cut)")
        #expect(LatexNormalizer.matrixBody("\\begin{pmatrix}1\\end{pmatrix}") == "1")
        #expect(LatexNormalizer.matrixBody("\\begin{array}{cc}1&2\\end{array}") == "1&2")
    }

    @Test("units: the value, unit and power found by hand are the groups of Units.pattern")
    func unitTailsAgree() {
        var generator = RationalMachineWordTests.SplitMix(state: 0x2026_1206_0030)
        let parts = [
            "5", " ", "\t", "\\text", "\\mathrm", "\\mbox", "\\textbf", "{", "}", " cm", "km", "m", "^", "2", "3", "4",
            "\\,", "x", "é", "\n", "$", "{ m }", "^{2}", "^ 3",
        ]
        var decided = 0
        for _ in 0..<30_000 {
            let text = (0..<Int.random(in: 0...9, using: &generator)).map { _ in parts.randomElement(using: &generator)! }
                .joined()
            guard let found = Units.unitTail(text) else { continue }
            decided += 1
            let expected = Units.pattern.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)).map { match in
                [1, 2, 3].map { index -> Range<Int>? in
                    guard let range = Range(match.range(at: index), in: text) else { return nil }
                    let start = text.utf8.distance(from: text.startIndex, to: range.lowerBound)
                    return start..<(start + text.utf8.distance(from: range.lowerBound, to: range.upperBound))
                }
            }
            let scanned = found.map { [$0.value, $0.unit, $0.power] }
            #expect(scanned == expected, "\(text.debugDescription)")
        }
        #expect(decided > 20_000, "most texts are decided by hand: \(decided)")
        #expect(Units.unitTail("5\\text{ cm}^2")??.unit == 8..<10)
        #expect(Units.unitTail("5 \\text{cm} x").map { $0 == nil } == true)  // decided: no match
        #expect(Units.unitTail("5\n\\text{cm}") == nil)  // a line break: left to the pattern
    }

    @Test("percent words: replaced on bytes as Patterns.percentWords replaces them")
    func percentWordsAgree() {
        var generator = RationalMachineWordTests.SplitMix(state: 0x2026_1206_0031)
        let parts = [
            "5", " ", "  ", "\t", "\n", "}", "x", "percent", "Percentage", "PCT", "pct", "percentages", "_", "a", "%", "\\", "é",
            "\u{0B}", "{", "1", "perc", "ent",
        ]
        var decided = 0
        var changed = 0
        for _ in 0..<30_000 {
            let text = (0..<Int.random(in: 0...8, using: &generator)).map { _ in parts.randomElement(using: &generator)! }
                .joined()
            guard let found = DigitGroups.replacingPercentWords(in: text) else { continue }
            decided += 1
            let expected = Patterns.replace(Patterns.percentWords, in: text, with: "%")
            #expect(found == expected, "\(text.debugDescription)")
            if found != text { changed += 1 }
        }
        #expect(decided > 20_000, "most texts are decided on bytes: \(decided)")
        #expect(changed > 2_000, "the texts hold percent words: \(changed)")
        #expect(DigitGroups.replacingPercentWords(in: "30 Percent") == "30%")
        #expect(DigitGroups.replacingPercentWords(in: "é 30 percent") == nil)
    }

    @Test("matrix blocks: the first block found on bytes is Patterns.matrixBlock's first match")
    func matrixBlocksAgree() {
        var generator = RationalMachineWordTests.SplitMix(state: 0x2026_1206_0032)
        var matched = 0
        let parts = [
            "\\begin{pmatrix}", "\\end{pmatrix}", "\\begin{array}", "\\end{array}", "\\begin{matrix}", "\\end{matrix}",
            "\\begin{bmatrix}", "\\end{vmatrix}", "\\begin{", "\\end{", "{cc}", "{", "}", "1", "&", "\\\\", " ", "x", "\n", "é",
        ]
        var decided = 0
        for _ in 0..<30_000 {
            let text = (0..<Int.random(in: 0...8, using: &generator)).map { _ in parts.randomElement(using: &generator)! }
                .joined()
            guard let found = LatexNormalizer.matrixBlock(in: text) else { continue }
            decided += 1
            if found != nil { matched += 1 }
            #expect(found == Patterns.firstMatch(Patterns.matrixBlock, in: text), "\(text.debugDescription)")
        }
        #expect(decided > 15_000, "most texts are decided on bytes: \(decided)")
        #expect(matched > 1_000, "the texts hold blocks: \(matched)")
    }

    /// Negative control: each pattern with one of its conditions changed lists other matches on the same texts, so
    /// the comparisons above would catch a scan that got that condition wrong.
    @Test("control: a pattern with one condition changed disagrees with the scan on the random texts")
    func mutantsDisagree() throws {
        let mutants: [(String, (String) -> Matches?)] = [
            (#"(?<![\d])\d{1,3}(?:[, ]\d{3})+(?![\d])"#, DigitGroups.thousands),  // no '.' look-behind
            (#"(?<![\d.])\d{1,4}(?:[, ]\d{3})+(?![\d])"#, DigitGroups.thousands),  // four leading digits
            (#"(?<![\d.])\d{1,3}(?:[, ]\d{3})+"#, DigitGroups.thousands),  // no look-ahead
            (#"(?<![\d.])\d{1,3}(?:,\d{3})+(?![\d])"#, DigitGroups.thousands),  // commas only
            (#"(?<![\d./])(\d+)[ \t]+(\d+)[ \t]*/[ \t]*(\d+)(?![\d])"#, DigitGroups.mixedNumbers),  // '/' may follow
            (#"(?<![\d.])(\d+)[ \t]+(\d+)[ \t]*/[ \t]*(\d+)(?![\d/])"#, DigitGroups.mixedNumbers),  // '/' may precede
            (#"(?<![\d./])(\d+) +(\d+)[ \t]*/[ \t]*(\d+)(?![\d/])"#, DigitGroups.mixedNumbers),  // no tab in the gap
        ]
        for (pattern, scan) in mutants {
            let mutant = try NSRegularExpression(pattern: pattern)
            let differing = Self.texts.filter { text in scan(text) != Self.regexMatches(mutant, in: text) }.count
            #expect(differing > 0, "\(pattern) agrees with the scan everywhere")
        }
    }
}

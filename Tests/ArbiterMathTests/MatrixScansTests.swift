// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing

@testable import ArbiterMath

/// The last pattern scans of issue 16's speed pass (brackets around a matrix, transposes, part labels, scientific
/// `e`) rewrite every text they accept as their patterns do, and `ChoiceReference.mayMatch` is never `false` where
/// the choice pattern matches; mutated patterns and a pattern without its anchor are the controls.
@Suite("math: byte scans rewrite as the regular expressions do (matrix brackets, transposes, labels, e)")
struct MatrixScansTests {
    typealias Scan = (String) -> String?

    static let matrixTexts = SeparatorScansTests.texts(
        ["\\matrix{", "1,2;3,4}", "}", "{", "(", ")", "[", "]", "\\left(", "\\right)", "\\left[", "\\right]", " ", "\n",
         "\\left", "\\right", "x", "é", "\u{0B}", "\\matrix", "^", "\\top", "^{\\top}", "^ { \\intercal }", "\\mathsf{T}",
         "\\mathrm{T}", "{ ", "\\intercal", "T", "( \\matrix{1}", "[ \\matrix{1}]", "\\left(\\matrix{a}\\right)",
         "(\\matrix{2} )", "\\left[\\matrix{b}\\right]", "[\\matrix{3}\\right]", "(\\matrix{"],
        seed: 0x2026_1206_0050)
    static let labelTexts = SeparatorScansTests.texts(
        ["(", ")", "a", "bc", "xyz", "wxyz", "_", "{", "}", "1", "23", " ", "=", "\t", "é", "\u{0B}", "(a)", "x_1 =", "y_{2}=",
         "ab", "(abc)", "(ab)", "(abcd)", "Q", "3e5", "2e-1", "e", "+", "-", "\\", "Ae2", "7"],
        seed: 0x2026_1206_0051)

    static func cases() -> [(String, String, [String], Scan)] {
        [
            (#"(?:\\left)?\(\s*(\\matrix\{(?:(?!\\matrix)[^()])*\})\s*(?:\\right)?\)"#, "$1", matrixTexts,
             { DigitGroups.replacingBracketsAroundMatrix(in: $0, open: UInt8(ascii: "(")) }),
            (#"(?:\\left)?\[\s*(\\matrix\{(?:(?!\\matrix)[^\[\]])*\})\s*(?:\\right)?\]"#, "$1", matrixTexts,
             { DigitGroups.replacingBracketsAroundMatrix(in: $0, open: UInt8(ascii: "[")) }),
            (#"\^\s*(?:\{\s*(?:\\top|\\intercal|\\mathsf\{T\}|\\mathrm\{T\})\s*\}|\\top|\\intercal|\\mathsf\{T\}|\\mathrm\{T\})"#,
             "^T", matrixTexts, DigitGroups.replacingTransposes),
            (#"\([a-z]{1,3}\)|\b[a-z](?:_\{?[0-9a-z]{1,3}\}?)?\s*="#, " ", labelTexts, DigitGroups.replacingPartLabels),
            (#"(?<![A-Za-z\\])(\d)e([+-]?\d)"#, "$1 e $2", labelTexts, DigitGroups.replacingScientificE),
        ]
    }

    @Test("each scan gives the text its pattern gives, on 30,000 random texts")
    func scansAgree() {
        for (pattern, template, texts, scan) in Self.cases() {
            let result = SeparatorScansTests.compare(pattern, template, texts, scan)
            #expect(result.differing.isEmpty, "\(pattern): \(result.differing.prefix(5))")
            #expect(result.decided > 10_000 && result.changed > 200, "\(pattern): \(result.decided), \(result.changed)")
        }
        #expect(Patterns.replace(Patterns.transpose, in: "A^{\\top}", with: "^T") == "A^T")
        #expect(DigitGroups.replacingTransposes(in: "A^{\\top}") == "A^T")
        #expect(DigitGroups.replacingBracketsAroundMatrix(in: "\\left(\\matrix{1,2}\\right)", open: 40) == "\\matrix{1,2}")
        #expect(DigitGroups.replacingScientificE(in: "2e-1") == "2 e -1")
        #expect(DigitGroups.replacingPartLabels(in: "(a) 3 x_{1} = 4") == "  3   4")
    }

    @Test("control: a pattern with one condition changed disagrees with the scan on the same texts")
    func mutantsDisagree() {
        let mutants: [(String, String, [String], Scan)] = [
            (#"\(\s*(\\matrix\{(?:(?!\\matrix)[^()])*\})\s*(?:\\right)?\)"#, "$1", Self.matrixTexts,
             { DigitGroups.replacingBracketsAroundMatrix(in: $0, open: UInt8(ascii: "(")) }),
            (#"(?:\\left)?\(\s*(\\matrix\{[^()]*\})\s*(?:\\right)?\)"#, "$1", Self.matrixTexts,
             { DigitGroups.replacingBracketsAroundMatrix(in: $0, open: UInt8(ascii: "(")) }),
            (#"(?:\\left)?\[(\\matrix\{(?:(?!\\matrix)[^\[\]])*\})\s*(?:\\right)?\]"#, "$1", Self.matrixTexts,
             { DigitGroups.replacingBracketsAroundMatrix(in: $0, open: UInt8(ascii: "[")) }),
            (#"\^\s*(?:\{(?:\\top|\\intercal|\\mathsf\{T\}|\\mathrm\{T\})\s*\}|\\top|\\intercal|\\mathsf\{T\}|\\mathrm\{T\})"#,
             "^T", Self.matrixTexts, DigitGroups.replacingTransposes),
            (#"\([a-z]{1,3}\)|[a-z](?:_\{?[0-9a-z]{1,3}\}?)?\s*="#, " ", Self.labelTexts, DigitGroups.replacingPartLabels),
            (#"\([a-z]{1,2}\)|\b[a-z](?:_\{?[0-9a-z]{1,3}\}?)?\s*="#, " ", Self.labelTexts, DigitGroups.replacingPartLabels),
            (#"(?<![A-Za-z])(\d)e([+-]?\d)"#, "$1 e $2", Self.labelTexts, DigitGroups.replacingScientificE),
            (#"(?<![A-Za-z\\])(\d)e(\d)"#, "$1 e $2", Self.labelTexts, DigitGroups.replacingScientificE),
        ]
        for (pattern, template, texts, scan) in mutants {
            #expect(!SeparatorScansTests.compare(pattern, template, texts, scan).differing.isEmpty, "\(pattern)")
        }
    }

    static let choicePattern =
        #"^\s*(?:\\(?:textbf|text|mathrm|mathbf)\{\s*)?(?:\(([A-J])\)\s*\}?(?:\s|~|\\[ ,;:~]|\\quad)*|([A-J])[.):]\s*\}?(?:\s|~|\\[ ,;:~]|\\quad)+)(\S.*?)\s*$"#

    @Test("choices: mayMatch is true wherever the choice pattern matches, and false on most other texts")
    func choicePrefilterIsNecessary() throws {
        let expression = try NSRegularExpression(pattern: Self.choicePattern, options: [.dotMatchesLineSeparators])
        let unanchored = try NSRegularExpression(
            pattern: String(Self.choicePattern.dropFirst()), options: [.dotMatchesLineSeparators])
        let texts = SeparatorScansTests.texts(
            ["A", "B)", "(C)", "J.", "K)", "D:", " ", "\n", "\t", "\u{0B}", "\u{A0}", "é", "\\textbf{", "\\text{", "\\mathrm{",
             "\\mathbf{", "}", "~", "\\,", "\\quad", "12", "x", "(", ")", ".", ":", "A:B=1"],
            seed: 0x2026_1206_0052)
        var refused = 0
        var missedByUnanchored = 0
        for text in texts {
            let range = NSRange(text.startIndex..., in: text)
            let may = ChoiceReference.mayMatch(text)
            if expression.firstMatch(in: text, range: range) != nil { #expect(may, "\(text.debugDescription)") }
            if !may {
                refused += 1
                if unanchored.firstMatch(in: text, range: range) != nil { missedByUnanchored += 1 }
            }
        }
        #expect(refused > 5_000, "the prefilter refuses texts: \(refused)")
        #expect(missedByUnanchored > 100, "control: the pattern without its anchor matches refused texts")
        #expect(!ChoiceReference.mayMatch("A:B=1"))
        #expect(ChoiceReference.mayMatch(" \\textbf{ (B)} 12"))
    }
}

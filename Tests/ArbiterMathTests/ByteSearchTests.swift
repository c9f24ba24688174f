// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import BigInt
import Foundation
import Testing

@testable import ArbiterMath

/// Session 29's byte paths (issue 16, speed): each answers as the Character or Foundation code it stands in for, on
/// random texts built from the pieces that code looks at, and each test checks that its texts reach every kind of
/// result (a test whose texts never hedge, trim or split would prove nothing).
@Suite("math: byte paths answer as the Character and Foundation code they replace (hedges, trims, splits, units)")
struct ByteSearchTests {
    /// `count` texts of up to `pieces` pieces drawn from `alphabet`.
    static func texts(_ alphabet: [String], count: Int, pieces: Int, seed: UInt64) -> [String] {
        var generator = RationalMachineWordTests.SplitMix(state: seed)
        return (0..<count).map { _ in
            (0..<Int.random(in: 0...pieces, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
                .joined()
        }
    }

    @Test("hedge(in:): the ASCII byte path gives the Character path's hedge on 40,000 random sentences")
    func hedgeAgrees() {
        let alphabet = [
            "not ", "Maybe ", "about", "3", "12", "0.5", " ", " ", "\t", "\r\n", "\n", "~", "=", "\\neq", "\\ne ", "\\NE ",
            "\\approx", "?", "x", "can't", "ALMOST", ",", ".", "'", "is ", "the ", "answer ", "Least", "x~3", "$", "é", "≈",
        ]
        var kinds: [String: Int] = [:]
        for text in Self.texts(alphabet, count: 40_000, pieces: 9, seed: 0x2026_1206_2901) {
            let expected = AnswerExtractor.hedgeByCharacters(text)
            #expect(AnswerExtractor.hedge(in: text) == expected, "\(text.debugDescription)")
            let decided = text.utf8.withContiguousStorageIfAvailable(AnswerExtractor.asciiHedge)!
            if text.utf8.allSatisfy({ $0 < 0x80 }) {
                #expect(decided == .some(expected), "\(text.debugDescription)")
            } else {
                #expect(decided == nil, "a non-ASCII text is left to the Character path: \(text.debugDescription)")
            }
            kinds[expected ?? "none", default: 0] += 1
        }
        for kind in ["none", "not", "maybe", "about", "almost", "least", "can't", "?", "\\neq", "\\ne", "\\approx", "~"] {
            #expect(kinds[kind, default: 0] > 20, "the texts reach the hedge \(kind.debugDescription): \(kinds)")
        }
    }

    @Test("the sentence-punctuation trim gives Foundation's trimmingCharacters(in:) on 20,000 random texts")
    func punctuationTrimAgrees() {
        let alphabet = [".", ",", ";", ":", "!", "?", "a", " ", "é", "\u{301}", "x y", "3"]
        var trimmed = 0
        for text in Self.texts(alphabet, count: 20_000, pieces: 8, seed: 0x2026_1206_2902) {
            let expected = text.trimmingCharacters(in: CharacterSet(charactersIn: ".,;:!"))
            #expect(LatexNormalizer.trimmingSentencePunctuation(text) == expected, "\(text.debugDescription)")
            if expected != text { trimmed += 1 }
        }
        #expect(trimmed > 5_000, "the texts are trimmed: \(trimmed)")
    }

    @Test("matrix rows split on bytes as components(separatedBy: \"\\\\\\\\\") splits them, on 20,000 random texts")
    func rowSplitAgrees() {
        let alphabet = ["\\", "\\\\", "a", " ", "&", "1", "é", "\u{301}", "\\\\\\"]
        var split = 0
        for text in Self.texts(alphabet, count: 20_000, pieces: 8, seed: 0x2026_1206_2903) {
            let expected = text.components(separatedBy: "\\\\")
            #expect(LatexNormalizer.rowsOf(text) == expected, "\(text.debugDescription)")
            if expected.count > 2 { split += 1 }
        }
        #expect(split > 5_000, "the texts hold several rows: \(split)")
    }

    @Test("an answer marker is found by the forward folded scan exactly where the backward marker search finds one")
    func answerMarkerAgrees() {
        let alphabet = ["answer", "AnSwEr", "ANSWER", "answe", "nswer", "a", "n", "s", "w", "e", "r", " ", "é", "Á"]
        var found = 0
        for text in Self.texts(alphabet, count: 20_000, pieces: 6, seed: 0x2026_1206_2904) {
            let expected = text.lastRange(ofMarker: "answer", ignoringCase: true) != nil
            #expect(AnswerExtractor.mayHoldMarker(text, ["the answer is", "answer:"]) == expected, "\(text.debugDescription)")
            if expected { found += 1 }
        }
        #expect(found > 3_000 && found < 17_000, "both outcomes occur: \(found) found")
        #expect(AnswerExtractor.mayHoldMarker("no marker here", ["final"]), "a marker without 'answer' is not ruled out")
    }

    @Test("unit blocks: byte searches on ASCII texts drop and keep what the Foundation searches do, on 20,000 texts")
    func unitRemovalAgrees() {
        let alphabet = [
            "\\text{", "\\textbf{", "\\mathrm{", "\\mbox{", "\\operatorname{", "}", " cm", "m.", ".", "less", " ", "5", "^2",
            "^{3}", "k", "e", "é", "x", "dollars", "{",
        ]
        var changed = 0
        for text in Self.texts(alphabet, count: 20_000, pieces: 8, seed: 0x2026_1206_2905) {
            let expected = LatexNormalizer.removeUnits(text, searchingBytes: false)
            #expect(LatexNormalizer.removeUnits(text) == expected, "\(text.debugDescription)")
            if expected != text { changed += 1 }
        }
        #expect(changed > 1_000, "the texts hold unit blocks that are dropped or kept: \(changed)")
    }
}

/// Session 29's rational shortcut in ``ClosedForm``'s sum and product: two rationals give what the general loop gives
/// a rational times an irrational monomial, divided back out — the same value, the same zero, the same size limits.
@Suite("math: closed forms of two rationals add and multiply as the general terms do")
struct ClosedFormRationalTests {
    @Test("products and sums of rationals agree with the same products taken beside π (the general loop)")
    func rationalShortcutAgrees() throws {
        var generator = RationalMachineWordTests.SplitMix(state: 0x2026_1206_2906)
        let pi = ClosedForm(atom: .pi)
        for _ in 0..<5_000 {
            let a = Rational(
                BigInt(Int.random(in: -50...50, using: &generator)), BigInt(Int.random(in: 1...12, using: &generator)))
            let b = Rational(
                BigInt(Int.random(in: -50...50, using: &generator)), BigInt(Int.random(in: 1...12, using: &generator)))
            let multiplied = ClosedForm(a) * ClosedForm(b)
            let product = try #require(multiplied)
            #expect(product == ClosedForm(a * b))
            // The general loop: a·π times b is (a·b)·π.
            let timesPi = ClosedForm(a) * pi
            let aPi = try #require(timesPi)
            let beside = aPi * ClosedForm(b)
            #expect(beside != nil && beside == product * pi, "\(a) × \(b)")
            #expect((ClosedForm(a) + ClosedForm(b)) == ClosedForm(a + b))
            if a.isZero || b.isZero { #expect(product.terms.isEmpty, "a zero product has no term") }
        }
    }

    @Test("a product over the coefficient limit has no closed form on either path; one under it has")
    func sizeLimitsAgree() throws {
        let pi = ClosedForm(atom: .pi)
        let large = Rational(BigInt(1) << 2500)
        #expect(ClosedForm(large) * ClosedForm(large) == nil, "5,000 bits: over the 4,096-bit limit")
        let largeTimesPi = ClosedForm(large) * pi
        let largePi = try #require(largeTimesPi)
        #expect(largePi * ClosedForm(large) == nil, "the general loop refuses it too")
        let medium = Rational(BigInt(1) << 1500)
        #expect(ClosedForm(medium) * ClosedForm(medium) != nil, "3,000 bits: under the limit")
        let mediumTimesPi = ClosedForm(medium) * pi
        let mediumPi = try #require(mediumTimesPi)
        #expect(mediumPi * ClosedForm(medium) != nil)
    }
}

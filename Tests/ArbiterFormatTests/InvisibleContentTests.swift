// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Testing

@testable import ArbiterFormat

/// Blank-looking scalars a policy can write where content or a space is expected (attack review, session 30).
let blankLookingScalars: [String] = [
    "\u{3000}", "\u{00A0}", "\u{2028}", "\u{200B}", "\u{2800}", "\u{3164}", "\u{FFA0}", "\u{034F}", "\u{FE0F}",
    "\u{E0100}", "\u{17B4}", "\u{17B5}", "\u{2065}", "\u{0000}", "\u{0001}", "\u{001C}", "\u{001F}", "\u{007F}",
    "\u{0085}", "\u{009F}", "\u{00AD}", "\u{115F}", "\u{1160}", "\u{E0041}",
]

@Suite("invisible content: one predicate for what a reader cannot see")
struct InvisibleContentTests {
    @Test("the predicate: blank-looking scalars are invisible, letters, marks that show, digits and symbols are not")
    func predicate() {
        for text in blankLookingScalars {
            let scalar = text.unicodeScalars.first!
            #expect(InvisibleScalars.isInvisible(scalar), "\(String(scalar.value, radix: 16))")
        }
        for text in ["a", "Z", "0", "!", "~", "\u{00E9}", "\u{0301}", "\u{2801}", "\u{4E00}", "\u{1F642}", "\u{0430}", "\u{3131}"] {
            let scalar = text.unicodeScalars.first!
            #expect(!InvisibleScalars.isInvisible(scalar), "\(String(scalar.value, radix: 16))")
        }
        #expect(InvisibleScalars.isBlank(utf8: Array("".utf8)))
        #expect(InvisibleScalars.isBlank(utf8: Array(" \t\n\u{0}\u{7F}".utf8)))
        #expect(InvisibleScalars.isBlank(utf8: Array("\u{3000}\u{2800}\u{034F}".utf8)))
        #expect(!InvisibleScalars.isBlank(utf8: Array("\u{3000}x".utf8)))
        #expect(!InvisibleScalars.isBlank(utf8: Array("\u{2800}\u{00E9}".utf8)))
        #expect(!InvisibleScalars.isBlank(utf8: [0x20, 0xFF]))  // invalid UTF-8 is not blank
        #expect(InvisibleScalars.isBlank(utf8: Array("\u{E0041}\u{E01EF}\u{FFA0}".utf8)))  // four-byte scalars
        #expect(!InvisibleScalars.isBlank(utf8: Array("\u{2800}\u{1F642}".utf8)))
        // Blank gaps (word separators) are a subset: whitespace, U+2800, the spacing Hangul fillers.
        for text in [" ", "\t", "\n", "\u{3000}", "\u{00A0}", "\u{2028}", "\u{2800}", "\u{3164}", "\u{FFA0}", "\u{0085}"] {
            #expect(InvisibleScalars.isBlankSpace(text.unicodeScalars.first!))
        }
        #expect(InvisibleScalars.isBlankSpace("\u{001C}") && InvisibleScalars.isBlankSpace("\u{001F}"))
        for text in ["\u{200B}", "\u{034F}", "\u{FE0F}", "\u{0000}", "\u{001B}", "\u{007F}", "a", "\u{2801}"] {
            #expect(!InvisibleScalars.isBlankSpace(text.unicodeScalars.first!))
        }
    }

    @Test("tag-count pays nothing for tags that hold only blank-looking scalars (control: a visible character)")
    func tagCount() async throws {
        let repro = try await judge("tag-count", response: "<think>\u{3000}</think><answer>\u{00A0}</answer>")
        #expect(repro.score == 0)
        #expect(repro.details["tags"]?.objectValue?["think"] == "empty")
        #expect(repro.details["tags"]?.objectValue?["answer"] == "empty")
        for blank in blankLookingScalars {
            let verdict = try await judge("tag-count", response: "<think>\(blank)</think><answer>\(blank) \(blank)</answer>")
            #expect(verdict.score == 0, "\(blank.unicodeScalars.map { String($0.value, radix: 16) })")
        }
        // Controls: real content around or beside the same scalars.
        let control = try await judge("tag-count", response: "<think>a\u{3000}b</think><answer>\u{00A0}4\u{2800}</answer>")
        #expect(control.score == 1)
        #expect(try await judge("tag-count", response: "<think> r </think>\n<answer>\n4\n</answer>").score == 1)
        #expect(try await judge("tag-count", response: "<think>\u{4E00}</think><answer>\u{00E9}</answer>").score == 1)
    }

    @Test("think-format and r1-format refuse blocks of blank-looking scalars (control: the same blocks with content)")
    func thinkFormat() async throws {
        for blank in blankLookingScalars {
            let both = try await judge("think-format", ["mode": "answer"], response: "<think>\(blank)</think><answer>\(blank)</answer>")
            #expect(both.reason == "empty_think", "\(blank.unicodeScalars.map { String($0.value, radix: 16) })")
            let answer = try await judge("think-format", ["mode": "answer"], response: "<think>r</think><answer>\(blank)</answer>")
            #expect(answer.reason == "empty_answer")
            let after = try await judge("think-format", response: "<think>r</think>\(blank)")
            #expect(after.reason == "missing_answer")
            let control = try await judge(
                "think-format", ["mode": "answer"], response: "<think>r\(blank)s</think><answer>4\(blank)</answer>")
            #expect(control.passed)
        }
    }

    @Test("repetition: marks that show nothing inside words do not make repeated words distinct (control: plain loop)")
    func repetition() async throws {
        let sentence = "the answer is four and that is final "
        let plain = try await judge("repetition", response: String(repeating: sentence, count: 300))
        #expect(plain.score < -0.99 && !plain.passed)
        for mark in ["\u{034F}", "\u{FE0F}", "\u{200B}", "\u{200D}", "\u{00AD}", "\u{E0100}", "\u{0000}", "\u{001B}"] {
            // Marks go into pseudo-random places of each word on each repeat (as the attack review's repro): read
            // literally, most words differ from one repeat to the next.
            var text = ""
            var state: UInt64 = 7
            for _ in 0..<300 {
                for word in sentence.split(separator: " ") {
                    var written = ""
                    for character in word {
                        written.append(character)
                        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                        if state >> 62 == 0 { written += mark }
                    }
                    text += written + " "
                }
            }
            let verdict = try await judge("repetition", response: text)
            #expect(verdict.score < -0.99, "\(String(mark.unicodeScalars.first!.value, radix: 16))")
            #expect(!verdict.passed)
        }
        // A blank gap that is not a space still separates words.
        let braille = try await judge("repetition", response: String(repeating: "and\u{2800}then\u{3164}", count: 200))
        #expect(braille.score < -0.95)
        // Controls: varied text with the marks scores 0; the units are the words a reader sees.
        #expect(try await judge("repetition", response: "the qu\u{034F}ick brown fox jumps over the lazy dog").score == 0)
        #expect(RepetitionVerifier.units(of: "b\u{034F}ad b\u{200B}ad BAD\u{FE0F} b\u{2800}ad") == ["bad", "bad", "bad", "b", "ad"])
        #expect(RepetitionVerifier.units(of: "one\u{1C}two\u{1F}three") == ["one", "two", "three"])
        #expect(RepetitionVerifier.units(of: "caf\u{0065}\u{0301} !") == ["caf\u{0065}\u{0301}", "!"])
    }

    @Test("length in words: words joined by a blank-looking scalar count one by one (control: normal spaces)")
    func lengthWords() async throws {
        let options: JSONObject = ["unit": "words", "max_length": 100, "cache_length": 10]
        for joiner in ["\u{2800}", "\u{3164}", "\u{200B}", "\u{FFA0}", "\u{0000}", "\u{00A0}", "\u{3000}"] {
            let text = Array(repeating: "word", count: 5_000).joined(separator: joiner)
            let verdict = try await judge("length", options, response: text)
            #expect(verdict.details["length"] == 5_000, "\(String(joiner.unicodeScalars.first!.value, radix: 16))")
            #expect(verdict.reason == "over_budget")
        }
        let spaced = try await judge("length", options, response: Array(repeating: "word", count: 5_000).joined(separator: " "))
        #expect(spaced.details["length"] == 5_000)
        // Controls: ordinary text counts as before.
        #expect(LengthVerifier.wordCount("  one two\tthree\nfour  ") == 4)
        #expect(LengthVerifier.wordCount("caf\u{0065}\u{0301} na\u{00EF}ve \u{4E2D}\u{6587}") == 3)
        #expect(LengthVerifier.wordCount("") == 0)
        let short = try await judge("length", options, response: "a few real words")
        #expect(short.details["length"] == 4 && short.reason == "within_budget")
    }
}

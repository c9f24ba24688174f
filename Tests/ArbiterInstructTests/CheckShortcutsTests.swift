// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import ArbiterInstruct

@Suite("instruction: one-pass forms of checks, against their plain definitions")
struct CheckShortcutsTests {
    /// Texts made of name pieces, overlapping names and other words.
    static let texts: [String] = {
        let pieces = ["Emma", "Em", "ma", "Liam", "Li", "Noah", "Noa", "h", " ", "Ava", "Ella", "Isabella", "é", "Zoe",
                      "Jonathan", "Nathan", "*", "**", "\n", "David"]
        var texts: [String] = [""]
        var state: UInt64 = 7
        for _ in 0..<3000 {
            var text = ""
            for _ in 0..<Int(state % 9) {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                text += pieces[Int(state >> 33) % pieces.count]
            }
            state = state &* 6364136223846793005 &+ 1442695040888963407
            texts.append(text)
        }
        return texts
    }()

    @Test("person names counted in one pass are the names the text contains")
    func personNames() {
        for text in Self.texts {
            let scalars = Array(text.unicodeScalars)
            let plain = IFBenchInstructions.personNames.filter { Py.contains($0, in: scalars) }.count
            #expect(IFBenchInstructions.personNameCount(scalars) == plain, "\(text.debugDescription)")
        }
        // Control: overlapping names are each counted once, a lowercase one not at all.
        #expect(IFBenchInstructions.personNameCount(Array("Isabella Ella ella Emma Emma".unicodeScalars)) == 3)
    }

    @Test("a text without *** is its own only paragraph; with one the pattern splits it")
    func dividers() {
        let divider = Pattern("\\s?\\*\\*\\*\\s?")
        for text in Self.texts + ["a ***b", "a**\n*b", "***", " *** ", "a\n***\nb***"] {
            #expect(IFEvalInstructions.splitOnDividers(text) == divider.split(text), "\(text.debugDescription)")
            #expect(Bytes.containsTripleStar(text) == text.contains("***"), "\(text.debugDescription)")
        }
        // Control: two stars are no divider.
        #expect(IFEvalInstructions.splitOnDividers("a ** b") == ["a ** b"])
        #expect(IFEvalInstructions.splitOnDividers("a *** b") == ["a", "b"])
    }
}

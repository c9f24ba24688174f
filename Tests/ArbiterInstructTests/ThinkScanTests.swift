// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import ArbiterInstruct

@Suite("instruction: finding the reasoning span in the UTF-8")
struct ThinkScanTests {
    static func found(_ text: String) -> Bool {
        Array(text.utf8).withUnsafeBufferPointer { InstructionVerifier.containsThinkEnd($0) }
    }

    @Test("think> is found wherever the scalars hold it, and only there")
    func sameAsScalars() {
        let pieces = ["think>", "thin>", "hink>", ">", "<", "é", "t", "k>", "x", "</think>", "<think>", "\u{1F600}"]
        for first in pieces {
            for second in pieces {
                for third in pieces {
                    let text = first + second + third
                    #expect(Self.found(text) == text.contains("think>"), "\(text.debugDescription)")
                }
            }
        }
        // Control: a '>' too early for five bytes before it, and a near miss.
        #expect(!Self.found("ink>"))
        #expect(!Self.found("thinK>"))
        #expect(Self.found("think>"))
    }

    @Test("the reasoning is dropped as before: closed, unclosed, absent, not at the start")
    func stripped() {
        let closed = InstructionVerifier.stripThinking("<think>a</think>  answer ")
        #expect(closed.scalars == Array("answer".unicodeScalars))
        #expect(InstructionVerifier.stripThinking(" <think>never closed").scalars.isEmpty)
        #expect(InstructionVerifier.stripThinking("plain <b> text").scalars == Array("plain <b> text".unicodeScalars))
        #expect(InstructionVerifier.stripThinking("x think> y").scalars == Array("x think> y".unicodeScalars))
        #expect(InstructionVerifier.stripThinking("x <think> y").scalars == Array("x <think> y".unicodeScalars))
        #expect(InstructionVerifier.stripThinking("x </think> y").scalars == Array("y".unicodeScalars))
    }
}

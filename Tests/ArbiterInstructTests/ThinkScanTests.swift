// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
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

@Suite("instruction: reasoning the prompt opened")
struct PromptOpenedThinkTests {
    static let reference = row(["keywords:forbidden_words"], [["forbidden_words": ["bad"]]])
    static let template = "<|User|>Answer without the word bad.<|Assistant|><think>\n"

    @Test("a prompt ending with <think>: the prompt's own end is found, whitespace after it allowed, nothing else")
    func promptEnd() {
        #expect(InstructionVerifier.promptOpensThink(Self.template))
        #expect(InstructionVerifier.promptOpensThink("q <think>"))
        #expect(InstructionVerifier.promptOpensThink("q <think> \n\u{3000}"))
        #expect(!InstructionVerifier.promptOpensThink(nil))
        #expect(!InstructionVerifier.promptOpensThink(""))
        #expect(!InstructionVerifier.promptOpensThink("<think>"  + " q"))
        #expect(!InstructionVerifier.promptOpensThink("q </think>"))
        #expect(!InstructionVerifier.promptOpensThink("q <Think>"))
        #expect(!InstructionVerifier.promptOpensThink("think>"))
        #expect(!InstructionVerifier.promptOpensThink("Write about <think> tags."))
    }

    @Test("a response continuing an opened <think> and never closing it is all reasoning: empty, nothing followed")
    func unclosed() async throws {
        let verdict = try await judge(Self.reference, "I will avoid that word. Fine answer.", prompt: Self.template)
        #expect(verdict.score == 0 && !verdict.passed)
        #expect(verdict.reason == "empty_response")
        #expect(verdict.details["continued_from_prompt"] == true)
        // The daemon's path (the reference as JSON text) agrees.
        let verifier = try #require(try registry.entry(named: "instruction").verifier(options: [:]) as? InstructionVerifier)
        let json = Array(Self.reference.jsonText.utf8)
        let daemon = try json.withUnsafeBufferPointer {
            try verifier.verify(response: "I will avoid that word. Fine answer.", referenceJSON: $0, prompt: Self.template)
        }
        #expect(daemon.reason == "empty_response")
        // ifeval-style reasoning models: a response that opens <think> itself and never closes it was already empty.
        #expect(try await judge(Self.reference, "<think>Fine answer.", prompt: "Q").reason == "empty_response")
    }

    @Test("controls: the response closes the reasoning; the prompt does not open it; strip_think off")
    func controls() async throws {
        let closed = try await judge(Self.reference, "thinking about bad</think>\nFine answer.", prompt: Self.template)
        #expect(closed.passed && closed.reason == "all_followed")
        let caught = try await judge(Self.reference, "thinking</think>\nA bad answer.", prompt: Self.template)
        #expect(!caught.passed && caught.reason == "none_followed")
        let plain = try await judge(Self.reference, "Fine answer.", prompt: "Answer without the word bad.")
        #expect(plain.passed)
        #expect(plain.details["continued_from_prompt"] == nil)
        let unstripped = try await judge(Self.reference, "Fine answer.", prompt: Self.template, ["strip_think": false])
        #expect(unstripped.passed)
        #expect(InstructionVerifier.stripThinking("answer", promptOpensThink: true).scalars.isEmpty)
        #expect(InstructionVerifier.stripThinking("r</think> answer", promptOpensThink: true).scalars == Array("answer".unicodeScalars))
    }
}

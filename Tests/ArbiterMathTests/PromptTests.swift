// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation
import Testing

@testable import ArbiterMath

/// What the prompt changes in a math verdict: copies of it in the response are cut out (in linear time), and a
/// `<think>` it leaves open makes everything before the response's `</think>` reasoning.
@Suite("math: the prompt")
struct PromptTests {
    @Test("copies of the prompt are cut as replacingOccurrences cut them, on random periodic texts")
    func echoMatchesReplacingOccurrences() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<3_000 {
            let alphabet = Array("ab\n".prefix(Int.random(in: 1...3, using: &generator)))
            let needle = String((0..<Int.random(in: 1...6, using: &generator)).map { _ in alphabet.randomElement()! })
            let text = String((0..<Int.random(in: 0...40, using: &generator)).map { _ in alphabet.randomElement()! })
            let expected = text.contains(needle) ? text.replacingOccurrences(of: needle, with: "\n") : nil
            #expect(PromptEcho.removingCopies(of: needle, from: Substring(text)) == expected, "\(needle) in \(text)")
        }
        // Negative control: a needle that is not there changes nothing.
        #expect(PromptEcho.removingCopies(of: "xyz", from: "abcabc") == nil)
    }

    @Test("a periodic prompt against a periodic response: found where it is, once per copy")
    func periodicEcho() {
        // The shape that made the old search quadratic (10,000 `a` and a `b` in a megabyte of `a`: 111 s).
        let prompt = String(repeating: "a", count: 10_000) + "b"
        let response = String(repeating: "a", count: 200_000) + "b" + String(repeating: "a", count: 50_000) + "b c"
        let cut = PromptEcho.removingCopies(of: prompt, from: Substring(response))
        #expect(cut == String(repeating: "a", count: 190_000) + "\n" + String(repeating: "a", count: 40_000) + "\n c")
        #expect(PromptEcho.removingCopies(of: prompt, from: Substring(String(repeating: "a", count: 100_000))) == nil)
    }

    @Test("a response that repeats the prompt is not paid for the prompt's numbers")
    func echoedPromptNumbers() async throws {
        let prompt = "Some say 40, others say 42. What is 6 times 7?"
        #expect(try await grade(prompt + "\nThe answer is 40.", "42", prompt: prompt).passed == false)
        #expect(try await grade(prompt + "\nThe answer is 42.", "42", prompt: prompt).passed)
    }

    @Test("a <think> the prompt leaves open: a response that never closes it has no answer")
    func promptOpensThink() async throws {
        let prompt = "What is 2+2?\n<|im_start|>assistant\n<think>\n"
        let unclosed = try await grade("Let me guess. \\boxed{4}", "4", prompt: prompt)
        #expect(!unclosed.passed && unclosed.reason == "no_answer", "\(unclosed.details)")
        #expect(unclosed.details["think"] == "unclosed")
        // Controls: closed, the answer after it counts; without the open tag in the prompt, the same response pays.
        #expect(try await grade("Two and two. </think> \\boxed{4}", "4", prompt: prompt).passed)
        #expect(try await grade("Let me guess. \\boxed{4}", "4", prompt: "What is 2+2?").passed)
        #expect(MathVerifier.promptOpensThink("Q\n<THINK>  \n"))
        #expect(!MathVerifier.promptOpensThink("Q <think> then </think>"))
        #expect(!MathVerifier.promptOpensThink(nil))
    }
}

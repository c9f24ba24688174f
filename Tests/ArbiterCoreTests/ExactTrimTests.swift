// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Testing

/// `exact` trims in one pass: dropping a character at a time from the end was quadratic (`"42"` and 64,000 newlines
/// took 16 s). Speed is measured by `scripts/worst-case-inputs.py`; these tests hold the verdicts.
@Suite("exact: trimming long whitespace")
struct ExactTrimTests {
    let registry = VerifierRegistry.builtin

    func verdict(_ response: String, _ reference: String, options: JSONObject = [:]) async throws -> Verdict {
        let verifier = try registry.entry(named: "exact").verifier(options: options)
        return try await verifier.verify(Sample(response: response, reference: .string(reference)))
    }

    @Test("tens of thousands of whitespace characters at either end are trimmed", arguments: [
        "42" + String(repeating: "\n", count: 64_000),
        String(repeating: "\r\n", count: 64_000) + "42" + String(repeating: " \t", count: 64_000),
        String(repeating: "\u{3000}", count: 30_000) + "42" + String(repeating: "\u{2028}", count: 30_000),
    ])
    func longWhitespace(_ response: String) async throws {
        #expect(try await verdict(response, "42").passed)
        #expect(try await verdict(response, "  42\n").passed)
    }

    @Test("control: whitespace inside, or trimming turned off, still counts")
    func controls() async throws {
        let newlines = String(repeating: "\n", count: 64_000)
        #expect(try await !verdict("4" + newlines + "2", "42").passed)
        #expect(try await !verdict("42" + newlines + "x", "42").passed)
        #expect(try await !verdict("42" + newlines, "42", options: ["trim": false]).passed)
        #expect(try await !verdict(newlines, "42").passed)
        #expect(try await verdict(newlines, "").passed)
        #expect(try await verdict("  ÉTÉ \n", "été", options: ["case_sensitive": false]).passed)
    }
}

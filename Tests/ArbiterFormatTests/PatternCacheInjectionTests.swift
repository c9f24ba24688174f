// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import ArbiterFormat
import ArbiterRegex
import Testing

@Suite("Format verifiers compile in the pattern cache they are given")
struct PatternCacheInjectionTests {
    @Test("regex, think-format and tag-count compile into the registry's cache, and no other")
    func injected() throws {
        let given = PatternCache()
        let other = PatternCache()
        var registry = VerifierRegistry.builtin
        registry.registerFormatVerifiers(patterns: given)
        _ = try registry.entry(named: "think-format").verifier(options: [:])
        let before = given.count
        #expect(before >= 1)
        _ = try registry.entry(named: "regex").verifier(options: ["pattern": .string("a+b")])
        #expect(given.count == before + 1)
        _ = try registry.entry(named: "tag-count").verifier(options: ["tags": .array([.string("x")])])
        #expect(given.count == before + 2)
        // Negative control: a cache nobody was given stays empty, and the same pattern compiles only once.
        _ = try registry.entry(named: "regex").verifier(options: ["pattern": .string("a+b")])
        #expect(given.count == before + 2)
        #expect(other.count == 0)
    }
}

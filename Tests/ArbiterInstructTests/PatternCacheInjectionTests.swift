// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import ArbiterRegex
import Testing

@testable import ArbiterInstruct

@Suite("instruction verifiers compile kwargs patterns in the cache they are given")
struct InstructionPatternCacheTests {
    @Test("a row's pattern compiles once, into the registry's cache; a verifier made alone uses its own")
    func injected() async throws {
        let given = PatternCache()
        var registry = VerifierRegistry.builtin
        registry.registerInstructionVerifiers(patterns: given)
        let reference = row(
            ["detectable_format:multiple_sections"], [["section_spliter": "Part", "num_sections": 2]])
        let response = "Part 1\nThe first part.\nPart 2\nThe second part."
        let verifier = try registry.entry(named: "instruction").verifier(options: [:])
        #expect(try await verifier.verify(Sample(response: response, reference: reference)).passed)
        #expect(given.count == 1)
        // Another verifier of the same registry, another rollout of the same row: nothing compiles again.
        let again = try registry.entry(named: "instruction").verifier(options: ["mode": "loose"])
        #expect(try await again.verify(Sample(response: response, reference: reference)).passed)
        #expect(given.count == 1)
        // Negative control: a verifier configured outside the registry keeps its patterns to itself.
        let alone = InstructionVerifier(configuration: try .init(options: OptionValues([:], specs: InstructionVerifier.Configuration.options, verifier: "instruction")))
        let other = row(["detectable_format:multiple_sections"], [["section_spliter": "Chapter", "num_sections": 2]])
        #expect(try alone.verify(Sample(response: response, reference: other)).passed == false)
        #expect(given.count == 1)
    }
}

// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Testing

// The verifier of docs/extending.md ("Writing a verifier in Swift"), verbatim, to prove the walk-through compiles and works.
public struct LengthAtMost: Verifier {
    public struct Configuration: VerifierConfiguration {
        var limit: Int
        public static let options = [
            OptionSpec("limit", .integer(1...1_000_000), default: .int(280), "Most characters allowed.")
        ]
        public init(options: OptionValues) { limit = options.int("limit") }
    }

    public static let name = "length-at-most"
    public static let summary = "Score 1 when the response has at most `limit` characters."
    let configuration: Configuration
    public init(configuration: Configuration) { self.configuration = configuration }

    public func verify(_ sample: Sample) async throws -> Verdict {
        let count = sample.response.count
        return count <= configuration.limit
            ? .pass("short_enough", details: ["length": .int(count)])
            : .fail("too_long", details: ["length": .int(count)])
    }
}

@Suite("The README's verifier walk-through")
struct ReadmeVerifierTests {
    @Test("a registered Swift verifier is listed, validated and run")
    func registerAndRun() async throws {
        var registry = VerifierRegistry.builtin
        registry.register(LengthAtMost.self)
        #expect(registry.names == ["exact", "length-at-most"])
        let entry = try registry.entry(named: "length-at-most")
        #expect(entry.options.map(\.name) == ["limit"])
        let short = try await entry.defaultVerifier.get().verify(Sample(response: "hello"))
        #expect(short.passed && short.reason == "short_enough" && short.details["length"] == .int(5))
        let strict = try entry.verifier(options: ["limit": .int(3)])
        #expect(try await strict.verify(Sample(response: "hello")).reason == "too_long")
        #expect(throws: ArbiterError.self) { try entry.verifier(options: ["limit": .int(0)]) }
        #expect(throws: ArbiterError.self) { try entry.verifier(options: ["limt": .int(3)]) }
    }
}

// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import ArbiterRegex

extension VerifierRegistry {
    /// Adds the format family: `regex`, `think-format`, `tag-count`, `repetition`, `length` and `steps`.
    /// - Parameter patterns: Where `regex`, `think-format` and `tag-count` compile (and keep) their patterns.
    public mutating func registerFormatVerifiers(patterns: PatternCache) {
        register(RegexVerifier.self, patterns: patterns)
        register(ThinkFormatVerifier.self, patterns: patterns)
        register(TagCountVerifier.self, patterns: patterns)
        register(RepetitionVerifier.self)
        register(LengthVerifier.self)
        register(StepsVerifier.self)
    }

    private mutating func register<V: Verifier>(_ type: V.Type, patterns: PatternCache)
    where V.Configuration: PatternConfiguration {
        let make: @Sendable (OptionValues) throws -> any SampleVerifier = { values in
            V(configuration: try V.Configuration(options: values, patterns: patterns))
        }
        register(
            VerifierEntry(name: V.name, summary: V.summary, kind: "builtin", options: V.Configuration.options, factory: make))
    }
}

/// A configuration that compiles patterns, in the cache it is given.
protocol PatternConfiguration: VerifierConfiguration {
    /// Reads the options, compiling patterns in `patterns`.
    init(options: OptionValues, patterns: PatternCache) throws
}


// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore

extension VerifierRegistry {
    /// Adds the format family: `regex`, `think-format`, `tag-count`, `repetition`, `length` and `steps`.
    public mutating func registerFormatVerifiers() {
        register(RegexVerifier.self)
        register(ThinkFormatVerifier.self)
        register(TagCountVerifier.self)
        register(RepetitionVerifier.self)
        register(LengthVerifier.self)
        register(StepsVerifier.self)
    }
}

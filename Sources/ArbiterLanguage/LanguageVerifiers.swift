// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore

extension VerifierRegistry {
    /// Adds the language family: `language-id` and `language` (consistency).
    public mutating func registerLanguageVerifiers() {
        register(LanguageIDVerifier.self)
        register(LanguageConsistencyVerifier.self)
    }
}

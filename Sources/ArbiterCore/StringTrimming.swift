// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

extension StringProtocol {
    /// The text without Unicode whitespace and newlines at either end, computed natively (Foundation's
    /// `trimmingCharacters(in:)` bridges to NSString on Linux).
    /// - Returns: The trimmed text.
    public func trimmed() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(String.UnicodeScalarView(scalars[first...last]))
    }
}

// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

extension StringProtocol {
    /// The text without Unicode whitespace and newlines at either end, computed natively (Foundation's
    /// `trimmingCharacters(in:)` bridges to NSString on Linux).
    /// - Returns: The trimmed text.
    public func trimmed() -> String {
        // Most texts start and end with a visible ASCII character: nothing to trim, no Unicode property lookups.
        let visibleEnds = utf8.withContiguousStorageIfAvailable { bytes in
            guard let first = bytes.first, let last = bytes.last else { return false }
            return (0x21...0x7E).contains(first) && (0x21...0x7E).contains(last)
        }
        if visibleEnds == true { return String(self) }
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        // Scalar indices are valid string indices: slicing copies the bytes at once (rebuilding a scalar view from
        // the slice appended scalar by scalar and was a quarter of the math verifier's time).
        return String(self[first..<scalars.index(after: last)])
    }
}

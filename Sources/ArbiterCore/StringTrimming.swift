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

extension StringProtocol {
    /// At most `characters` characters and `bytes` UTF-8 bytes of the text, `marker` appended when it was cut: the
    /// excerpt of a response or of a program's output that goes into an answer. The byte bound matters for text a
    /// policy writes: one character can be a megabyte (a letter followed by half a million combining marks), and an
    /// excerpt bounded by characters alone copied it whole into every case's message — a 910-byte request made a
    /// 20 MB answer line. A first character larger than `bytes` is cut between its scalars.
    public func clipped(characters: Int, bytes: Int, marker: String = "…") -> String {
        var end = startIndex
        var taken = 0
        var size = 0
        while end < endIndex {
            guard taken < characters else { return String(self[..<end]) + marker }
            let next = index(after: end)
            let width = utf8.distance(from: end, to: next)
            guard size + width <= bytes else { break }
            size += width
            taken += 1
            end = next
        }
        if end == endIndex { return String(self) }
        if end == startIndex {
            // The first character alone is over the bound: as many of its scalars as fit.
            var scalarEnd = unicodeScalars.startIndex
            for scalar in unicodeScalars {
                size += UTF8.width(scalar)
                if size > bytes { break }
                scalarEnd = unicodeScalars.index(after: scalarEnd)
            }
            return String(self[..<scalarEnd]) + marker
        }
        return String(self[..<end]) + marker
    }
}

// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

extension String {
    /// The first occurrence of an ASCII marker (such as `</think>`) at or after `start`, found on the UTF-8 bytes
    /// (a match of an ASCII marker always lies on scalar bounds; Foundation's `range(of:)` bridges the whole string).
    /// - Parameters:
    ///   - marker: The ASCII text to find.
    ///   - start: Where to start looking.
    /// - Returns: The range, or `nil`.
    public func firstRange(ofMarker marker: String, from start: String.Index? = nil) -> Range<String.Index>? {
        let pattern = Array(marker.utf8)
        guard let head = pattern.first else { return nil }
        var cursor = start ?? startIndex
        while let first = utf8[cursor...].firstIndex(of: head) {
            guard let end = utf8.index(first, offsetBy: pattern.count, limitedBy: utf8.endIndex) else { return nil }
            if utf8[first..<end].elementsEqual(pattern) { return first..<end }
            cursor = utf8.index(after: first)
        }
        return nil
    }

    /// The last occurrence of an ASCII marker, found on the UTF-8 bytes.
    /// - Parameter marker: The ASCII text to find.
    /// - Returns: The range, or `nil`.
    public func lastRange(ofMarker marker: String) -> Range<String.Index>? {
        let pattern = Array(marker.utf8)
        guard let tail = pattern.last else { return nil }
        var cursor = endIndex
        while let last = utf8[..<cursor].lastIndex(of: tail) {
            let end = utf8.index(after: last)
            guard let first = utf8.index(end, offsetBy: -pattern.count, limitedBy: utf8.startIndex) else { return nil }
            if utf8[first..<end].elementsEqual(pattern) { return first..<end }
            cursor = last
        }
        return nil
    }
}

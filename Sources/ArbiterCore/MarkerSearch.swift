// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

extension String {
    /// The first occurrence of an ASCII marker (such as `</think>`) at or after `start`, found on the UTF-8 bytes
    /// (a match of an ASCII marker always lies on scalar bounds; Foundation's `range(of:)` bridges the whole string).
    /// - Parameters:
    ///   - marker: The ASCII text to find.
    ///   - start: Where to start looking.
    ///   - ignoringCase: Whether ASCII letters match in either case (`<Think>` for `<think>`), without a lowercased
    ///     copy of the string.
    /// - Returns: The range, or `nil`.
    public func firstRange(ofMarker marker: String, from start: String.Index? = nil, ignoringCase: Bool = false)
        -> Range<String.Index>?
    {
        let pattern = Array(marker.utf8).map { ignoringCase ? Self.folded($0) : $0 }
        guard let head = pattern.first else { return nil }
        var cursor = start ?? startIndex
        while let first = ignoringCase
            ? utf8[cursor...].firstIndex(where: { Self.folded($0) == head }) : utf8[cursor...].firstIndex(of: head)
        {
            guard let end = utf8.index(first, offsetBy: pattern.count, limitedBy: utf8.endIndex) else { return nil }
            if matches(pattern, first..<end, ignoringCase: ignoringCase) { return first..<end }
            cursor = utf8.index(after: first)
        }
        return nil
    }

    /// The last occurrence of an ASCII marker, found on the UTF-8 bytes.
    /// - Parameters:
    ///   - marker: The ASCII text to find.
    ///   - ignoringCase: Whether ASCII letters match in either case.
    /// - Returns: The range, or `nil`.
    public func lastRange(ofMarker marker: String, ignoringCase: Bool = false) -> Range<String.Index>? {
        let pattern = Array(marker.utf8).map { ignoringCase ? Self.folded($0) : $0 }
        guard !pattern.isEmpty else { return nil }
        // Searched backwards on the contiguous bytes (string indices cost a bounds check and a view per step).
        let search = { (bytes: UnsafeBufferPointer<UInt8>) -> Int? in
            var start = bytes.count - pattern.count
            while start >= 0 {
                var offset = 0
                while offset < pattern.count,
                    (ignoringCase ? Self.folded(bytes[start + offset]) : bytes[start + offset]) == pattern[offset]
                {
                    offset += 1
                }
                if offset == pattern.count { return start }
                start -= 1
            }
            return nil
        }
        guard let found = utf8.withContiguousStorageIfAvailable(search) ?? Array(utf8).withUnsafeBufferPointer(search)
        else { return nil }
        let lower = utf8.index(utf8.startIndex, offsetBy: found)
        return lower..<utf8.index(lower, offsetBy: pattern.count)
    }

    /// Whether the text ends with an ASCII marker, whitespace after it aside: a prompt that a chat template ends
    /// with `<think>` (R1's), which makes the response the reasoning's continuation. Read from the end, so a text that
    /// does not end so costs a byte or a few scalars.
    /// - Parameters:
    ///   - marker: The ASCII text to find at the end.
    ///   - ignoringCase: Whether ASCII letters match in either case.
    /// - Returns: Whether the text ends with it.
    public func endsWith(marker: String, ignoringCase: Bool = false) -> Bool {
        var end = unicodeScalars.endIndex
        while end > unicodeScalars.startIndex {
            let before = unicodeScalars.index(before: end)
            let scalar = unicodeScalars[before]
            let space =
                scalar.value < 0x80
                ? scalar == " " || (0x09...0x0D).contains(scalar.value) : scalar.properties.isWhitespace
            guard space else { break }
            end = before
        }
        var index = end
        for expected in marker.utf8.reversed() {
            guard index > utf8.startIndex else { return false }
            index = utf8.index(before: index)
            let byte = utf8[index]
            guard (ignoringCase ? Self.folded(byte) : byte) == (ignoringCase ? Self.folded(expected) : expected) else {
                return false
            }
        }
        return !marker.isEmpty
    }

    private func matches(_ pattern: [UInt8], _ range: Range<String.Index>, ignoringCase: Bool) -> Bool {
        ignoringCase ? utf8[range].lazy.map(Self.folded).elementsEqual(pattern) : utf8[range].elementsEqual(pattern)
    }

    /// An ASCII capital's lowercase; any other byte as it is.
    private static func folded(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
    }
}

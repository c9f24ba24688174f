// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

/// A regular expression's replace-all over a text's UTF-8 bytes, for the byte scans that stand in for the
/// normaliser's patterns (``DigitGroups`` and its separator, connective and matrix scans): each scan says where a
/// match at a start ends and what replaces it; this walks the starts and builds the result once.
enum ByteRewrite {
    /// The bytes ICU's `\s` takes in a text the scans read: space, tab, line feed, form feed, carriage return.
    static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0C || byte == 0x0D
    }

    /// The ASCII bytes `Character.isWhitespace` takes: the space and 0x09–0x0D (the vertical tab included, unlike
    /// ICU's `\s` of ``isSpace(_:)``), for the byte paths that stand in for Character walks.
    static func isWhitespaceCharacter(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }

    /// An ASCII capital folded to lower case, any other byte as it is (what `lowercased()` does to ASCII text).
    static func foldingCapital(_ byte: UInt8) -> UInt8 { (0x41...0x5A).contains(byte) ? byte | 0x20 : byte }

    /// Whether a byte is one the scans read as their patterns do: ASCII, printable or one of ``isSpace(_:)``'s (a
    /// byte of 0x80 or more could be a digit or space to ICU; another control byte could be `\s` to it).
    static func isPlain(_ byte: UInt8) -> Bool { byte < 0x7F && (byte >= 0x20 || isSpace(byte)) }

    /// `text`'s UTF-8 when every byte is ``isPlain(_:)``, else `nil` (the caller runs the pattern).
    static func plainBytes(_ text: String) -> [UInt8]? {
        let bytes = Array(text.utf8)
        return bytes.allSatisfy(isPlain) ? bytes : nil
    }

    /// `text` (whose UTF-8 is `bytes`) with every leftmost, non-overlapping match replaced, or `text` itself when
    /// nothing matched.
    /// - Parameters:
    ///   - bytes: The text's UTF-8.
    ///   - text: The text, returned as it is when nothing matched.
    ///   - match: At a start, the end of the match found there (exclusive) and the bytes that replace it, or `nil`.
    ///     The search goes on at the match's end (a byte on for an empty match), as the patterns' replace-all does.
    /// - Returns: The rewritten text.
    @inline(__always)
    static func replacingMatches(
        in bytes: [UInt8], of text: String, _ match: (Int) -> (end: Int, with: [UInt8])?
    ) -> String {
        var output: [UInt8] = []
        var copied = 0
        var start = 0
        var replaced = false
        while start < bytes.count {
            guard let found = match(start) else {
                start += 1
                continue
            }
            output.append(contentsOf: bytes[copied..<start])
            output.append(contentsOf: found.with)
            replaced = true
            copied = found.end
            start = max(found.end, start + 1)
        }
        guard replaced else { return text }
        output.append(contentsOf: bytes[copied...])
        return String(decoding: output, as: UTF8.self)
    }
}

extension String {
    /// `body` over the text's UTF-8 when every byte is ASCII (each byte then one Character and one scalar), else
    /// `nil`: the entry of the byte paths, whose callers run their Character-based form for any other text.
    func withASCIIBytes<T>(_ body: (UnsafeBufferPointer<UInt8>) -> T) -> T? {
        utf8.withContiguousStorageIfAvailable { bytes in bytes.allSatisfy { $0 < 0x80 } ? body(bytes) : nil } ?? nil
    }
}

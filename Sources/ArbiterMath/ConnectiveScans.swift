// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

/// Byte scans for the four list-connective patterns of the normaliser (``Patterns/textConnective``,
/// ``Patterns/connectiveBetweenTuples``, ``Patterns/spacedConnective``, ``Patterns/doubleComma``), each replaced by a
/// comma. They run on an ASCII text without control bytes other than tab, line feed, form feed and carriage return
/// (`nil` otherwise, and the caller runs the pattern): there `\s` is exactly those four and the space, and the
/// patterns' case-insensitive words (`and`, `or`, `nor`, `text`) match only their ASCII letters in either case (no
/// other ASCII byte folds to one of them). Each `\s*` or `\s+` is followed by a byte that is not white space, so it
/// takes the whole run, and the words of each alternation start with different letters, so at most one can match:
/// every pattern has one path at each start. `SeparatorScansTests` compares each with its pattern.
extension DigitGroups {
    /// `text` with every leftmost, non-overlapping match (the end of a match at a start, from `matchEnd`) replaced by
    /// `replacement`, or `nil` for a text outside the bytes described above.
    private static func replacingConnectives(
        in text: String, with replacement: UInt8, _ matchEnd: (ConnectiveBytes, Int) -> Int?
    ) -> String? {
        let bytes = ConnectiveBytes(Array(text.utf8))
        guard bytes.bytes.allSatisfy(ByteRewrite.isPlain) else { return nil }
        return ByteRewrite.replacingMatches(in: bytes.bytes, of: text) { start in
            matchEnd(bytes, start).map { (end: $0, with: [replacement]) }
        }
    }

    /// `\\text\{\s*(and|or)\s*\}`, any case, replaced by a comma.
    static func replacingTextConnectives(in text: String) -> String? {
        replacingConnectives(in: text, with: UInt8(ascii: ",")) { bytes, start in
            guard bytes.holds(start, "\\"), let afterText = bytes.word(at: start + 1, "text"),
                bytes.holds(afterText, "{"),
                let afterWord = bytes.word(at: bytes.skipSpace(afterText + 1), "and", "or")
            else { return nil }
            let close = bytes.skipSpace(afterWord)
            return bytes.holds(close, "}") ? close + 1 : nil
        }
    }

    /// `(?<=[)\]])\s*(and|or)\s*(?=[(\[])`, any case, replaced by a comma.
    static func replacingConnectivesBetweenTuples(in text: String) -> String? {
        replacingConnectives(in: text, with: UInt8(ascii: ",")) { bytes, start in
            guard start > 0, bytes.holds(start - 1, ")") || bytes.holds(start - 1, "]"),
                let afterWord = bytes.word(at: bytes.skipSpace(start), "and", "or")
            else { return nil }
            let end = bytes.skipSpace(afterWord)
            return bytes.holds(end, "(") || bytes.holds(end, "[") ? end : nil
        }
    }

    /// `\s+(or|and|nor)\s+`, any case, replaced by a comma.
    static func replacingSpacedConnectives(in text: String) -> String? {
        replacingConnectives(in: text, with: UInt8(ascii: ",")) { bytes, start in
            let wordStart = bytes.skipSpace(start)
            guard wordStart > start, let afterWord = bytes.word(at: wordStart, "or", "and", "nor") else { return nil }
            let end = bytes.skipSpace(afterWord)
            return end > afterWord ? end : nil
        }
    }

    /// `,(\s*,)+` replaced by a comma: the group repeats while white space and a comma follow, and the match ends at
    /// the last comma (a repetition that finds no comma is given back).
    static func replacingDoubleCommas(in text: String) -> String? {
        replacingConnectives(in: text, with: UInt8(ascii: ",")) { bytes, start in
            guard bytes.holds(start, ",") else { return nil }
            var end: Int?
            var index = start + 1
            while true {
                let next = bytes.skipSpace(index)
                guard bytes.holds(next, ",") else { break }
                end = next + 1
                index = next + 1
            }
            return end
        }
    }
}

/// An ASCII text's bytes with the tests the connective scans make.
private struct ConnectiveBytes {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    var count: Int { bytes.count }

    /// `\s` on the bytes the scans accept.
    static func space(_ byte: UInt8) -> Bool { ByteRewrite.isSpace(byte) }

    func holds(_ index: Int, _ character: Unicode.Scalar) -> Bool {
        index >= 0 && index < bytes.count && bytes[index] == UInt8(character.value)
    }

    /// The end of the run of white space from `index`.
    func skipSpace(_ index: Int) -> Int {
        var end = index
        while end < bytes.count, Self.space(bytes[end]) { end += 1 }
        return end
    }

    /// The end of the first of `words` (lower-case ASCII) written at `index` in any case.
    func word(at index: Int, _ words: StaticString...) -> Int? {
        for word in words {
            let length = word.utf8CodeUnitCount
            guard index + length <= bytes.count else { continue }
            let letters = UnsafeBufferPointer(start: word.utf8Start, count: length)
            if (0..<length).allSatisfy({ offset in
                let byte = bytes[index + offset]
                return (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte) == letters[offset]
            }) {
                return index + length
            }
        }
        return nil
    }
}

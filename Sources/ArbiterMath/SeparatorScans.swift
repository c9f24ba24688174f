// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

/// Byte scans for three more of the normaliser's regular expressions: the LaTeX digit separators `{,}` and `\,`
/// (``Patterns/looseDigitSeparator``, ``Patterns/spacedThousandsBrace``) and doubled backslashes
/// (``Patterns/doubledBackslash``). In the Math-Verify benchmark these three were about 1.2 % of Arbiter's CPU time
/// (each replacement bridges the text to an `NSString` and runs ICU). As in ``DigitGroups``, each scan tries every
/// start in turn and follows the one path the pattern's backtracking can take (argued at each); `nil` means the
/// text is one the scan leaves to the pattern. `SeparatorScansTests` compares each with its pattern.
extension DigitGroups {
    /// `text` with `(\d)(?:\{,\}|\\,)(?!\d{3}(?!\d))(\d)` replaced by `$1 $2`, or `nil` for a text with a non-ASCII
    /// byte (ICU's `\d` takes any decimal digit). The two alternatives start with different bytes, so at most one
    /// applies; `\d{3}` in the look-ahead is exactly three digits. The match ends after its second digit and the
    /// search goes on from there, so in `1{,}2{,}3` only the first separator is replaced, as the pattern does.
    static func replacingLooseDigitSeparators(in text: String) -> String? {
        let bytes = Array(text.utf8)
        guard !bytes.contains(where: { $0 >= 0x80 }) else { return nil }
        func digit(_ index: Int) -> Bool { index < bytes.count && bytes[index] &- UInt8(ascii: "0") < 10 }
        /// Where the second digit of a match starting at `start` is, if one does.
        func secondDigit(at start: Int) -> Int? {
            guard digit(start) else { return nil }
            var index = start + 1
            if index + 2 < bytes.count, bytes[index] == UInt8(ascii: "{"), bytes[index + 1] == UInt8(ascii: ","),
                bytes[index + 2] == UInt8(ascii: "}")
            {
                index += 3
            } else if index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                bytes[index + 1] == UInt8(ascii: ",")
            {
                index += 2
            } else {
                return nil
            }
            if digit(index), digit(index + 1), digit(index + 2), !digit(index + 3) { return nil }
            return digit(index) ? index : nil
        }
        return ByteRewrite.replacingMatches(in: bytes, of: text) { start in
            secondDigit(at: start).map { (end: $0 + 1, with: [bytes[start], UInt8(ascii: " "), bytes[$0]]) }
        }
    }

    /// `text` with `(\d)\s*\{,\s*\}\s*(\d)` replaced by `$1$2`, or `nil` for a text with a non-ASCII byte or a
    /// control byte other than tab, line feed, form feed and carriage return (where ICU's `\s` could read a byte
    /// differently). Each `\s*` is followed by a byte that is not white space (`{`, `}` or a digit), so it can only
    /// take the whole run; a failure at one start moves to the next.
    static func replacingSpacedThousandsBraces(in text: String) -> String? {
        let bytes = Array(text.utf8)
        let space = ByteRewrite.isSpace
        guard bytes.allSatisfy(ByteRewrite.isPlain) else { return nil }
        func digit(_ index: Int) -> Bool { index < bytes.count && bytes[index] &- UInt8(ascii: "0") < 10 }
        func skipSpace(_ index: Int) -> Int {
            var end = index
            while end < bytes.count, space(bytes[end]) { end += 1 }
            return end
        }
        func byte(_ index: Int, is value: Character) -> Bool {
            index < bytes.count && bytes[index] == value.asciiValue!
        }
        /// Where the second digit of a match starting at `start` is, if one does.
        func secondDigit(at start: Int) -> Int? {
            guard digit(start) else { return nil }
            var index = skipSpace(start + 1)
            guard byte(index, is: "{"), byte(index + 1, is: ",") else { return nil }
            index = skipSpace(index + 2)
            guard byte(index, is: "}") else { return nil }
            index = skipSpace(index + 1)
            return digit(index) ? index : nil
        }
        return ByteRewrite.replacingMatches(in: bytes, of: text) { start in
            secondDigit(at: start).map { (end: $0 + 1, with: [bytes[start], bytes[$0]]) }
        }
    }

    /// `text` with `(?<!\\)\\\\(?=[A-Za-z{}])` replaced by one backslash, for any text: a backslash is one byte in
    /// UTF-8 and no other scalar's encoding holds it, so the look-behind and the two backslashes are byte tests, and
    /// the look-ahead's class is ASCII (no case folding). After a match at `i` the search goes on at `i + 2`, where
    /// the look-behind sees the match's second backslash.
    static func replacingDoubledBackslashes(in text: String) -> String {
        let bytes = Array(text.utf8)
        let backslash = UInt8(ascii: "\\")
        func follows(_ byte: UInt8) -> Bool {
            let folded = byte | 0x20
            return (folded >= UInt8(ascii: "a") && folded <= UInt8(ascii: "z")) || byte == UInt8(ascii: "{")
                || byte == UInt8(ascii: "}")
        }
        return ByteRewrite.replacingMatches(in: bytes, of: text) { start in
            guard start + 2 < bytes.count, bytes[start] == backslash, bytes[start + 1] == backslash,
                follows(bytes[start + 2]), start == 0 || bytes[start - 1] != backslash
            else { return nil }
            return (end: start + 2, with: [backslash])
        }
    }
}

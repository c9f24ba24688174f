// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

/// Byte scans that find what two of the normaliser's regular expressions find — thousands groups (`1,234,567`) and
/// mixed numbers (`4 4/9`) — in a text whose digits are ASCII, without ICU (about 2 % of a math verification went to
/// those two patterns, and compiling them, with ICU's own set-up, was part of the first request's cost).
///
/// Each scan tries every start position in turn, as the regular expression engine does, and at each position
/// follows the only path the pattern's backtracking can take to a match (argued at each function). Every class the
/// patterns use is ASCII but `\d`, which ICU reads as any decimal digit (`\p{Nd}`): a text with a non-ASCII decimal
/// digit (or a scalar this library's Unicode tables do not know) gets `nil`, and the caller then runs the regular
/// expression. Any other non-ASCII scalar is neither a digit nor a separator to both, so its bytes (all 0x80 or more)
/// can be scanned as they are. `DigitGroupsTests` compares both on random texts.
enum DigitGroups {
    /// One match: its byte range and the byte ranges of its capture groups.
    struct Match: Equatable {
        var range: Range<Int>
        var groups: [Range<Int>]
    }

    /// The matches of `(?<![\d.])\d{1,3}(?:[, ]\d{3})+(?![\d])` (``Patterns/thousands``), or `nil` for a text with
    /// a non-ASCII digit.
    static func thousands(in text: String) -> [Match]? {
        scan(text) { bytes, start in thousandsMatch(bytes, at: start) }
    }

    /// The matches of `(?<![\d./])(\d+)[ \t]+(\d+)[ \t]*/[ \t]*(\d+)(?![\d/])` (``Patterns/mixedNumber``), with its
    /// three groups, or `nil` for a text with a non-ASCII digit.
    static func mixedNumbers(in text: String) -> [Match]? {
        scan(text) { bytes, start in mixedNumberMatch(bytes, at: start) }
    }

    /// Leftmost, non-overlapping matches, as `NSRegularExpression.matches(in:range:)` lists them.
    private static func scan(_ text: String, _ matchAt: (UnsafeBufferPointer<UInt8>, Int) -> Match?) -> [Match]? {
        guard text.utf8.allSatisfy({ $0 < 0x80 }) || onlyASCIIDigits(text) else { return nil }
        var text = text
        return text.withUTF8 { bytes -> [Match]? in
            var matches: [Match] = []
            var start = 0
            while start < bytes.count {
                // A match starts with a digit not preceded by one (both patterns' look-behinds exclude digits).
                guard isDigit(bytes[start]), start == 0 || !isDigit(bytes[start - 1]),
                    let match = matchAt(bytes, start)
                else {
                    start += 1
                    continue
                }
                matches.append(match)
                start = max(match.range.upperBound, start + 1)
            }
            return matches
        }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

    /// Whether every decimal digit of the text is ASCII: no non-ASCII scalar is a decimal digit (`Nd`, which is what
    /// ICU's `\d` matches) or unassigned here (it might be a digit to a newer ICU).
    private static func onlyASCIIDigits(_ text: String) -> Bool {
        !text.unicodeScalars.contains { scalar in
            guard !scalar.isASCII else { return false }
            let category = scalar.properties.generalCategory
            return category == .decimalNumber || category == .unassigned
        }
    }

    /// The end of the run of bytes satisfying `predicate` from `index`.
    private static func runEnd(_ bytes: UnsafeBufferPointer<UInt8>, from index: Int, _ predicate: (UInt8) -> Bool) -> Int {
        var end = index
        while end < bytes.count, predicate(bytes[end]) { end += 1 }
        return end
    }

    /// `\d{1,3}` can only take the whole digit run (a shorter take leaves a digit where `[, ]` must be), so the run
    /// is 1 to 3 digits. The groups repeat greedily; when the last group's digits run on, `(?![\d])` fails there and
    /// the engine gives that group back, after which the next byte is a separator and the look-ahead holds.
    private static func thousandsMatch(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int) -> Match? {
        if start > 0, bytes[start - 1] == UInt8(ascii: ".") { return nil }
        let leading = runEnd(bytes, from: start, isDigit)
        guard leading - start <= 3 else { return nil }
        var end = leading
        var groups = 0
        while end + 3 < bytes.count, bytes[end] == UInt8(ascii: ",") || bytes[end] == UInt8(ascii: " "),
            isDigit(bytes[end + 1]), isDigit(bytes[end + 2]), isDigit(bytes[end + 3])
        {
            end += 4
            groups += 1
        }
        if end < bytes.count, isDigit(bytes[end]) {
            end -= 4
            groups -= 1
        }
        return groups >= 1 ? Match(range: start..<end, groups: []) : nil
    }

    /// Every quantifier of the pattern can only take its whole run: each is followed by something its own class
    /// excludes (`\d+` by `[ \t]` or `/`, `[ \t]+` by `\d`). Giving back digits of the last `\d+` leaves a digit where
    /// `(?![\d/])` looks, so that look-ahead decides on the whole run.
    private static func mixedNumberMatch(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int) -> Match? {
        if start > 0, bytes[start - 1] == UInt8(ascii: ".") || bytes[start - 1] == UInt8(ascii: "/") { return nil }
        let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        let integerEnd = runEnd(bytes, from: start, isDigit)
        let gapEnd = runEnd(bytes, from: integerEnd, isBlank)
        guard gapEnd > integerEnd else { return nil }
        let numeratorEnd = runEnd(bytes, from: gapEnd, isDigit)
        guard numeratorEnd > gapEnd else { return nil }
        let slash = runEnd(bytes, from: numeratorEnd, isBlank)
        guard slash < bytes.count, bytes[slash] == UInt8(ascii: "/") else { return nil }
        let denominatorStart = runEnd(bytes, from: slash + 1, isBlank)
        let denominatorEnd = runEnd(bytes, from: denominatorStart, isDigit)
        guard denominatorEnd > denominatorStart else { return nil }
        if denominatorEnd < bytes.count, bytes[denominatorEnd] == UInt8(ascii: "/") { return nil }
        return Match(
            range: start..<denominatorEnd,
            groups: [start..<integerEnd, gapEnd..<numeratorEnd, denominatorStart..<denominatorEnd])
    }
}

extension String {
    /// The indices of a range of UTF-8 offsets.
    func utf8Range(_ offsets: Range<Int>) -> Range<String.Index> {
        let lower = utf8.index(utf8.startIndex, offsetBy: offsets.lowerBound)
        return lower..<utf8.index(lower, offsetBy: offsets.count)
    }
}

extension DigitGroups {
    /// ``Patterns/percentWords`` (`(?<=[\d}\s])\s*(percentage|percent|pct)\b`, any case) replaced by `%`, on the bytes
    /// of an ASCII text; `nil` for a text with a non-ASCII byte or a control byte other than tab, line feed, form feed
    /// and carriage return (whose reading as `\s` could differ), which the pattern then rewrites.
    ///
    /// At each start the look-behind decides, `\s*` takes the whole run of white space (a word cannot begin with
    /// one), the three words are tried in the pattern's order, each followed by a byte that is not a letter, a digit
    /// or `_` (`\b` after a letter), and no match means the next start is tried; after a match the search goes on
    /// from its end, as a replacement of every match does.
    static func replacingPercentWords(in text: String) -> String? {
        let bytes = Array(text.utf8)
        let space = ByteRewrite.isSpace
        guard bytes.allSatisfy(ByteRewrite.isPlain) else { return nil }
        let words: [[UInt8]] = ["percentage", "percent", "pct"].map { Array($0.utf8) }
        func isWordByte(_ byte: UInt8) -> Bool {
            let folded = byte | 0x20
            return isDigit(byte) || byte == UInt8(ascii: "_") || (folded >= UInt8(ascii: "a") && folded <= UInt8(ascii: "z"))
        }
        /// The end of a match starting at `start`, if one does.
        func matchEnd(at start: Int) -> Int? {
            guard start > 0 else { return nil }
            let before = bytes[start - 1]
            guard isDigit(before) || before == UInt8(ascii: "}") || space(before) else { return nil }
            var index = start
            while index < bytes.count, space(bytes[index]) { index += 1 }
            for word in words where index + word.count <= bytes.count {
                guard (0..<word.count).allSatisfy({ bytes[index + $0] | 0x20 == word[$0] }) else { continue }
                let end = index + word.count
                if end == bytes.count || !isWordByte(bytes[end]) { return end }
            }
            return nil
        }
        return ByteRewrite.replacingMatches(in: bytes, of: text) { start in
            matchEnd(at: start).map { (end: $0, with: [UInt8(ascii: "%")]) }
        }
    }
}

// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

/// Byte scans for the last ICU patterns the Math-Verify benchmark reached: brackets around a converted matrix, the
/// transpose marks, part labels between boxes and scientific `e`; with them (and ``ChoiceReference/mayMatch(_:)``) a
/// run of that benchmark compiles no regular expression, so ICU's one-time set-up (1.5 % of a run) is not paid. Each
/// runs on an ASCII text without control bytes other than tab, line feed, form feed and carriage return (`nil`
/// otherwise, and the caller runs the pattern): there `\s` is those four and the space, `\d` the ASCII digits and
/// `\b` the edge of a run of ASCII letters, digits and `_`. `MatrixScansTests` compares each with its pattern.
extension DigitGroups {
    /// The text's bytes when the scans may read it (see above).
    private static func plainBytes(_ text: String) -> [UInt8]? { ByteRewrite.plainBytes(text) }

    private static func isSpace(_ byte: UInt8) -> Bool { ByteRewrite.isSpace(byte) }

    private static func skipSpace(_ bytes: [UInt8], _ index: Int) -> Int {
        var end = index
        while end < bytes.count, isSpace(bytes[end]) { end += 1 }
        return end
    }

    private static func holds(_ bytes: [UInt8], _ index: Int, _ literal: StaticString) -> Bool {
        let length = literal.utf8CodeUnitCount
        guard index >= 0, index + length <= bytes.count else { return false }
        let letters = UnsafeBufferPointer(start: literal.utf8Start, count: length)
        return (0..<length).allSatisfy { bytes[index + $0] == letters[$0] }
    }

    /// `(?:\\left)?\(\s*(\\matrix\{(?:(?!\\matrix)[^()])*\})\s*(?:\\right)?\)` replaced by `$1` when `open` is `(`
    /// (``Patterns/parenthesesAroundMatrix``), and the same with square brackets (``Patterns/bracketsAroundMatrix``).
    /// A start at `\left(` fails exactly when the start at its `(` does (the same rest), so the earlier one is taken.
    /// The body's star runs to the first bracket or `\matrix` (position `stop`) and gives back bytes until a `}`
    /// followed by white space, an optional `\right` and the closing bracket: the first such `}` from `stop`
    /// backwards is the match (`\s*` takes its whole run; `\right` not followed by the bracket leaves a `\` where the
    /// bracket must be).
    static func replacingBracketsAroundMatrix(in text: String, open: UInt8) -> String? {
        guard let bytes = plainBytes(text) else { return nil }
        let close = open == UInt8(ascii: "(") ? UInt8(ascii: ")") : UInt8(ascii: "]")
        return ByteRewrite.replacingMatches(in: bytes, of: text) { start in
            var index = start
            if holds(bytes, index, "\\left"), index + 5 < bytes.count, bytes[index + 5] == open { index += 5 }
            guard index < bytes.count, bytes[index] == open else { return nil }
            let group = skipSpace(bytes, index + 1)
            guard holds(bytes, group, "\\matrix{") else { return nil }
            var stop = group + 8
            while stop < bytes.count, bytes[stop] != open, bytes[stop] != close, !holds(bytes, stop, "\\matrix") {
                stop += 1
            }
            var brace = stop - 1
            while brace >= group + 8 {
                if bytes[brace] == UInt8(ascii: "}") {
                    var after = skipSpace(bytes, brace + 1)
                    if holds(bytes, after, "\\right"), after + 6 < bytes.count, bytes[after + 6] == close { after += 6 }
                    if after < bytes.count, bytes[after] == close {
                        return (after + 1, Array(bytes[group...brace]))
                    }
                }
                brace -= 1
            }
            return nil
        }
    }

    private static let transposeMarks: [StaticString] = ["\\top", "\\intercal", "\\mathsf{T}", "\\mathrm{T}"]

    /// `\^\s*(?:\{\s*(?:M)\s*\}|M)` with `M` = `\\top|\\intercal|\\mathsf\{T\}|\\mathrm\{T\}` replaced by `^T`
    /// (``Patterns/transpose``). The four marks start with `\` and none is a prefix of another, so at most one is
    /// written at a place; the braced form starts with `{`, the bare one with `\`.
    static func replacingTransposes(in text: String) -> String? {
        guard let bytes = plainBytes(text) else { return nil }
        func mark(at index: Int) -> Int? {
            for mark in transposeMarks where holds(bytes, index, mark) { return index + mark.utf8CodeUnitCount }
            return nil
        }
        return ByteRewrite.replacingMatches(in: bytes, of: text) { start in
            guard bytes[start] == UInt8(ascii: "^") else { return nil }
            let index = skipSpace(bytes, start + 1)
            let end: Int?
            if index < bytes.count, bytes[index] == UInt8(ascii: "{") {
                guard let afterMark = mark(at: skipSpace(bytes, index + 1)) else { return nil }
                let closing = skipSpace(bytes, afterMark)
                end = closing < bytes.count && bytes[closing] == UInt8(ascii: "}") ? closing + 1 : nil
            } else {
                end = mark(at: index)
            }
            return end.map { ($0, Array("^T".utf8)) }
        }
    }

    /// `\([a-z]{1,3}\)|\b[a-z](?:_\{?[0-9a-z]{1,3}\}?)?\s*=` replaced by a space (``Patterns/partLabels``). The
    /// first form starts with `(`, the second with a letter. `[a-z]{1,3}` and `[0-9a-z]{1,3}` can only take their
    /// whole run (at most three): a shorter take leaves a letter or digit where `)`, `}`, white space or `=` must be;
    /// likewise `\{?` and `\}?` take their brace when it is there, and the group is taken when `_` follows.
    static func replacingPartLabels(in text: String) -> String? {
        guard let bytes = plainBytes(text) else { return nil }
        func lower(_ index: Int) -> Bool { index < bytes.count && bytes[index] &- UInt8(ascii: "a") < 26 }
        func digitOrLower(_ index: Int) -> Bool {
            lower(index) || (index < bytes.count && bytes[index] &- UInt8(ascii: "0") < 10)
        }
        func word(_ byte: UInt8) -> Bool {
            let folded = byte | 0x20
            return (folded >= UInt8(ascii: "a") && folded <= UInt8(ascii: "z")) || byte &- UInt8(ascii: "0") < 10
                || byte == UInt8(ascii: "_")
        }
        /// The end of the run of at most three bytes satisfying `predicate` from `index` (nil when it is longer).
        func run(_ index: Int, _ predicate: (Int) -> Bool) -> Int? {
            var end = index
            while end < index + 3, predicate(end) { end += 1 }
            return end > index ? end : nil
        }
        return ByteRewrite.replacingMatches(in: bytes, of: text) { start in
            if bytes[start] == UInt8(ascii: "(") {
                guard let end = run(start + 1, lower), end < bytes.count, bytes[end] == UInt8(ascii: ")") else {
                    return nil
                }
                return (end + 1, [UInt8(ascii: " ")])
            }
            guard lower(start), start == 0 || !word(bytes[start - 1]) else { return nil }
            var index = start + 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "_") {
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "{") { index += 1 }
                guard let end = run(index, digitOrLower) else { return nil }
                index = end
                if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1 }
            }
            index = skipSpace(bytes, index)
            guard index < bytes.count, bytes[index] == UInt8(ascii: "=") else { return nil }
            return (index + 1, [UInt8(ascii: " ")])
        }
    }

    /// `(?<![A-Za-z\\])(\d)e([+-]?\d)` replaced by `$1 e $2` (``Patterns/scientificE``): `[+-]?` takes a sign when
    /// one is there (without it a sign stands where the digit must be).
    static func replacingScientificE(in text: String) -> String? {
        guard let bytes = plainBytes(text) else { return nil }
        func digit(_ index: Int) -> Bool { index < bytes.count && bytes[index] &- UInt8(ascii: "0") < 10 }
        return ByteRewrite.replacingMatches(in: bytes, of: text) { start in
            guard digit(start), start + 1 < bytes.count, bytes[start + 1] == UInt8(ascii: "e") else { return nil }
            if start > 0 {
                let before = bytes[start - 1]
                let folded = before | 0x20
                if (folded >= UInt8(ascii: "a") && folded <= UInt8(ascii: "z")) || before == UInt8(ascii: "\\") {
                    return nil
                }
            }
            var index = start + 2
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            guard digit(index) else { return nil }
            return (index + 1, [bytes[start]] + Array(" e ".utf8) + Array(bytes[(start + 2)...index]))
        }
    }
}

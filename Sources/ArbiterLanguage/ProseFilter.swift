// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

/// Removes from a text what belongs to no natural language, keeping its prose: fenced code blocks (```` ``` ```` or
/// `~~~`), inline code, LaTeX math (`$$…$$`, `$…$`, `\[…\]`, `\(…\)`, `\begin{…}…\end{…}`) and any other LaTeX
/// command name, URLs (`http://`, `https://`, `www.`) and tags such as `<answer>` or `<|im_start|>`. Numbers,
/// punctuation and symbols are left for the word splitter, which skips them.
///
/// A removed block becomes a line break (which ends a sentence), a removed inline span a space. One pass over the
/// UTF-8 bytes: a delimiter whose closing is not found is kept as text (an unclosed code fence too, so that opening
/// one cannot hide the rest of a chain of thought), and each failed search is remembered so that it is not
/// repeated.
struct ProseFilter {
    private let bytes: [UInt8]
    private var output: [UInt8] = []
    private var position = 0
    /// Where the last failed search for each closing delimiter gave up: none occurs before it.
    private var exhausted: [String: Int] = [:]

    /// The prose of a text.
    static func prose(_ text: String) -> String {
        var filter = ProseFilter(bytes: Array(text.utf8))
        filter.run()
        return String(decoding: filter.output, as: UTF8.self)
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
        output.reserveCapacity(bytes.count)
    }

    private mutating func run() {
        while position < bytes.count {
            if skipSpan() { continue }
            output.append(bytes[position])
            position += 1
        }
    }

    /// Skips one non-prose span starting here, writing its replacement; `false` when none starts here.
    private mutating func skipSpan() -> Bool {
        switch bytes[position] {
        case UInt8(ascii: "`"), UInt8(ascii: "~"): return skipCode()
        case UInt8(ascii: "$"): return skipDollarMath()
        case UInt8(ascii: "\\"): return skipLatex()
        case UInt8(ascii: "<"): return skipTag()
        case UInt8(ascii: "h"), UInt8(ascii: "w"): return skipURL()
        default: return false
        }
    }

    private mutating func skipCode() -> Bool {
        let byte = bytes[position]
        let fence = run(of: byte)
        let marker = Array(repeating: byte, count: fence)
        if fence >= 3, atLineStart, let end = find(marker, from: position + fence, key: "fence\(fence)\(byte)") {
            position = lineEnd(from: end + fence)
            output.append(0x0A)
            return true
        }
        if byte == UInt8(ascii: "`"), let end = find(marker, from: position + fence, key: "tick\(fence)") {
            position = end + fence
            output.append(0x20)
            return true
        }
        // Not code: the whole run is text (a run is read once, so a long run of backticks stays linear).
        output.append(contentsOf: marker)
        position += fence
        return true
    }

    private mutating func skipDollarMath() -> Bool {
        if position > 0, bytes[position - 1] == UInt8(ascii: "\\") { return false }
        if position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "$") {
            guard let end = find(Array("$$".utf8), from: position + 2, key: "$$") else { return false }
            position = end + 2
            output.append(0x20)
            return true
        }
        var cursor = position + 1
        while cursor < bytes.count, bytes[cursor] != UInt8(ascii: "$"), bytes[cursor] != 0x0A { cursor += 1 }
        guard cursor < bytes.count, bytes[cursor] == UInt8(ascii: "$"), cursor > position + 1 else { return false }
        position = cursor + 1
        output.append(0x20)
        return true
    }

    private mutating func skipLatex() -> Bool {
        guard position + 1 < bytes.count else { return false }
        let next = bytes[position + 1]
        if next == UInt8(ascii: "[") || next == UInt8(ascii: "(") {
            let close = Array((next == UInt8(ascii: "[") ? "\\]" : "\\)").utf8)
            guard let end = find(close, from: position + 2, key: String(decoding: close, as: UTF8.self)) else { return false }
            position = end + 2
            output.append(0x20)
            return true
        }
        if starts(with: "\\begin{"), let nameEnd = bytes[(position + 7)...].prefix(64).firstIndex(of: UInt8(ascii: "}")) {
            let close = Array("\\end{".utf8) + bytes[(position + 7)..<nameEnd] + [UInt8(ascii: "}")]
            if let end = find(close, from: nameEnd + 1, key: String(decoding: close, as: UTF8.self)) {
                position = end + close.count
                output.append(0x0A)
                return true
            }
        }
        var cursor = position + 1
        while cursor < bytes.count, Self.isASCIILetter(bytes[cursor]) { cursor += 1 }
        position = max(cursor, position + 2)
        output.append(0x20)
        return true
    }

    private mutating func skipTag() -> Bool {
        var cursor = position + 1
        if cursor < bytes.count, bytes[cursor] == UInt8(ascii: "/") { cursor += 1 }
        guard cursor < bytes.count, bytes[cursor] == UInt8(ascii: "|") || Self.isASCIILetter(bytes[cursor]) else {
            return false
        }
        let limit = min(bytes.count, cursor + 64)
        while cursor < limit, bytes[cursor] != UInt8(ascii: ">"), bytes[cursor] > 0x20, bytes[cursor] != UInt8(ascii: "<") {
            cursor += 1
        }
        guard cursor < limit, bytes[cursor] == UInt8(ascii: ">") else { return false }
        position = cursor + 1
        output.append(0x20)
        return true
    }

    private mutating func skipURL() -> Bool {
        if position > 0, Self.isASCIILetter(bytes[position - 1]) { return false }
        guard starts(with: "http://") || starts(with: "https://") || starts(with: "www.") else { return false }
        while position < bytes.count, bytes[position] > 0x20 { position += 1 }
        output.append(0x20)
        return true
    }

    // MARK: Scanning

    private var atLineStart: Bool {
        var cursor = position - 1
        while cursor >= 0, bytes[cursor] == 0x20 || bytes[cursor] == 0x09 { cursor -= 1 }
        return cursor < 0 || bytes[cursor] == 0x0A
    }

    private func run(of byte: UInt8) -> Int {
        var cursor = position
        while cursor < bytes.count, bytes[cursor] == byte { cursor += 1 }
        return cursor - position
    }

    private func lineEnd(from start: Int) -> Int {
        var cursor = min(start, bytes.count)
        while cursor < bytes.count, bytes[cursor] != 0x0A { cursor += 1 }
        return cursor
    }

    private func starts(with prefix: String) -> Bool {
        let utf8 = prefix.utf8
        return position + utf8.count <= bytes.count && zip(bytes[position...], utf8).allSatisfy { $0 == $1 }
    }

    /// The first occurrence of a marker at or after a position; a failed search is remembered under its key.
    private mutating func find(_ marker: [UInt8], from start: Int, key: String) -> Int? {
        if let gaveUp = exhausted[key], gaveUp <= start { return nil }
        var cursor = start
        while cursor + marker.count <= bytes.count {
            if bytes[cursor] == marker[0], bytes[cursor..<(cursor + marker.count)].elementsEqual(marker) { return cursor }
            cursor += 1
        }
        exhausted[key] = start
        return nil
    }

    private static func isASCIILetter(_ byte: UInt8) -> Bool {
        (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z")
    }
}

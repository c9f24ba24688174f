// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

/// Removes from a text what belongs to no natural language, keeping its prose: fenced code blocks (```` ``` ```` or
/// `~~~`), inline code, LaTeX math (`$$…$$`, `$…$`, `\[…\]`, `\(…\)`, math environments such as
/// `\begin{align}…\end{align}`), LaTeX command names (and the arguments of `\label`, `\ref`, `\cite`, `\begin`,
/// `\end`, …), URLs (`http://`, `https://`, `www.`) and tags such as `<answer>` or `<|im_start|>`. Numbers,
/// punctuation and symbols are left for the word splitter, which skips them.
///
/// Code and math are set aside for their Latin and Greek letters only (identifiers, keywords, variables); words of
/// any other script in them still count, and inside math the argument of `\text{…}` and its kin counts whole. So
/// a chain of thought cannot hide Chinese reasoning in a code block, a comment or `$\text{…}$` to dodge the
/// language reward (Latin-script prose in code, such as French comments under an English target, stays unseen).
/// The content of other environments (`itemize`, `proof`, …) is prose.
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
    /// Bytes that brace matching may still read: four times the text, so that many unclosed `\text{` stay linear.
    private var braceBudget: Int

    /// The prose of a text.
    static func prose(_ text: String) -> String {
        var filter = ProseFilter(bytes: Array(text.utf8))
        filter.run()
        return String(decoding: filter.output, as: UTF8.self)
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
        braceBudget = 4 * bytes.count + 4_096
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
        if fence >= 3, atLineStart, let end = nextRun(of: byte, atLeast: fence, after: position + fence) {
            output.append(0x0A)
            keepOtherScripts(position + fence..<end)
            position = lineEnd(from: end + fence)
            output.append(0x0A)
            return true
        }
        if byte == UInt8(ascii: "`"), let end = nextRun(of: byte, exactly: fence, after: position + fence) {
            output.append(0x20)
            keepOtherScripts(position + fence..<end)
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
            keepMathProse(position + 2..<end)
            position = end + 2
            return true
        }
        var cursor = position + 1
        while cursor < bytes.count, bytes[cursor] != UInt8(ascii: "$"), bytes[cursor] != 0x0A { cursor += 1 }
        guard cursor < bytes.count, bytes[cursor] == UInt8(ascii: "$"), cursor > position + 1 else { return false }
        keepMathProse(position + 1..<cursor)
        position = cursor + 1
        return true
    }

    private mutating func skipLatex() -> Bool {
        guard position + 1 < bytes.count else { return false }
        let next = bytes[position + 1]
        if next == UInt8(ascii: "[") || next == UInt8(ascii: "(") {
            let close = Array((next == UInt8(ascii: "[") ? "\\]" : "\\)").utf8)
            guard let end = find(close, from: position + 2, key: String(decoding: close, as: UTF8.self)) else { return false }
            keepMathProse(position + 2..<end)
            position = end + 2
            return true
        }
        if starts(with: "\\begin{"), let nameEnd = bytes[(position + 7)...].prefix(64).firstIndex(of: UInt8(ascii: "}")) {
            let name = String(decoding: bytes[(position + 7)..<nameEnd], as: UTF8.self)
            let close = Array("\\end{".utf8) + bytes[(position + 7)..<nameEnd] + [UInt8(ascii: "}")]
            if Self.isMathEnvironment(name),
                let end = find(close, from: nameEnd + 1, key: String(decoding: close, as: UTF8.self))
            {
                output.append(0x0A)
                keepMathProse(nameEnd + 1..<end)
                position = end + close.count
                output.append(0x0A)
                return true
            }
        }
        var cursor = position + 1
        while cursor < bytes.count, Self.isASCIILetter(bytes[cursor]) { cursor += 1 }
        let command = String(decoding: bytes[(position + 1)..<cursor], as: UTF8.self)
        // A control symbol (`\,`, `\{`) takes one ASCII character; before a letter of another script only the
        // backslash goes (`\中` must not hide 中).
        position = cursor > position + 1 || next >= 0x80 ? cursor : position + 2
        if Self.referenceCommands.contains(command) {
            // Labels, keys and environment names are not prose: the braced argument is set aside like code, for its
            // Latin and Greek letters only (`\ref{<a paragraph of Chinese>}` hides nothing).
            var argument = position
            while argument < bytes.count, bytes[argument] == 0x20 { argument += 1 }
            if argument < bytes.count, bytes[argument] == UInt8(ascii: "{"),
                let close = closingBrace(from: argument, before: bytes.count)
            {
                keepOtherScripts(argument + 1..<close)
                position = close + 1
            }
        }
        output.append(command == "begin" || command == "end" ? 0x0A : 0x20)
        return true
    }

    private mutating func skipTag() -> Bool {
        var cursor = position + 1
        if cursor < bytes.count, bytes[cursor] == UInt8(ascii: "/") { cursor += 1 }
        guard cursor < bytes.count, bytes[cursor] == UInt8(ascii: "|") || Self.isASCIILetter(bytes[cursor]) else {
            return false
        }
        // A tag is printable ASCII without spaces (`<answer>`, `<|im_start|>`): `<a中文…>` is text, not a tag.
        let limit = min(bytes.count, cursor + 64)
        while cursor < limit, bytes[cursor] != UInt8(ascii: ">"), bytes[cursor] > 0x20, bytes[cursor] < 0x7F,
            bytes[cursor] != UInt8(ascii: "<")
        {
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
        // A URL is ASCII (an address with other characters is written percent-encoded): `https://中文…` without
        // spaces must not hide a paragraph.
        while position < bytes.count, bytes[position] > 0x20, bytes[position] < 0x7F { position += 1 }
        output.append(0x20)
        return true
    }

    // MARK: What code and math keep

    /// Commands whose braced argument is a name, a key or an address, not prose.
    private static let referenceCommands: Set<String> = [
        "begin", "end", "label", "ref", "eqref", "cref", "Cref", "pageref", "cite", "citep", "citet", "url", "href",
        "includegraphics", "usepackage", "documentclass", "input", "include",
    ]

    /// Commands whose braced argument is text even inside math.
    private static let textCommands: Set<String> = [
        "text", "textrm", "textbf", "textit", "textsf", "textnormal", "textup", "textsl", "emph", "mbox", "hbox",
        "intertext", "shortintertext",
    ]

    /// Environments whose content is math (with or without a star).
    private static func isMathEnvironment(_ name: String) -> Bool {
        let base = name.hasSuffix("*") ? String(name.dropLast()) : name
        return [
            "equation", "align", "aligned", "alignat", "alignedat", "gather", "gathered", "multline", "flalign",
            "eqnarray", "split", "cases", "dcases", "array", "matrix", "pmatrix", "bmatrix", "Bmatrix", "vmatrix",
            "Vmatrix", "smallmatrix", "displaymath", "math", "subequations", "CD", "tikzcd",
        ].contains(base)
    }

    /// Writes, from a span of code, only the letters (with their marks) of scripts other than Latin and Greek, and
    /// Greek words of three letters or more (a Greek variable is one letter, `αβ` two; a Greek sentence is words),
    /// and a line break for each line break; everything else becomes a space.
    private mutating func keepOtherScripts(_ range: Range<Int>) {
        var cursor = range.lowerBound
        var keeping = false
        var greekStart: Int? = nil
        var greekLetters = 0
        while cursor < range.upperBound {
            // A malformed or cut sequence reads as U+FFFD, one byte long.
            let (scalar, length) = UTF8Scalar.decode({ bytes[$0] }, at: cursor, end: range.upperBound) ?? ("\u{FFFD}", 1)
            let script = Script.of(scalar)
            if script == .greek {
                if greekStart == nil { greekStart = cursor }
                greekLetters += 1
            } else if let start = greekStart, !Words.isMark(scalar) {
                if greekLetters >= 3 { output.append(contentsOf: bytes[start..<cursor] + [0x20]) }
                greekStart = nil
                greekLetters = 0
            }
            if let script {
                keeping = script != .latin && script != .greek
            } else if !(keeping && Words.isMark(scalar)) {
                keeping = false
            }
            if keeping {
                output.append(contentsOf: bytes[cursor..<(cursor + length)])
            } else if scalar == "\n" {
                output.append(0x0A)
            } else if output.last != 0x20 {
                output.append(0x20)
            }
            cursor += length
        }
        if let start = greekStart, greekLetters >= 3 { output.append(contentsOf: bytes[start..<range.upperBound]) }
    }

    /// Writes, from a span of math, the argument of each text command whole and, from the rest, what
    /// ``keepOtherScripts(_:)`` keeps; spaces around.
    private mutating func keepMathProse(_ range: Range<Int>) {
        output.append(0x20)
        var start = range.lowerBound
        var cursor = range.lowerBound
        while cursor < range.upperBound {
            guard bytes[cursor] == UInt8(ascii: "\\") else {
                cursor += 1
                continue
            }
            var nameEnd = cursor + 1
            while nameEnd < range.upperBound, Self.isASCIILetter(bytes[nameEnd]) { nameEnd += 1 }
            var argument = nameEnd
            while argument < range.upperBound, bytes[argument] == 0x20 { argument += 1 }
            let name = String(decoding: bytes[(cursor + 1)..<nameEnd], as: UTF8.self)
            guard Self.textCommands.contains(name), argument < range.upperBound, bytes[argument] == UInt8(ascii: "{"),
                let close = closingBrace(from: argument, before: range.upperBound)
            else {
                cursor = max(nameEnd, cursor + 2)
                continue
            }
            keepOtherScripts(start..<cursor)
            output.append(0x20)
            output.append(contentsOf: bytes[(argument + 1)..<close])
            output.append(0x20)
            cursor = close + 1
            start = cursor
        }
        keepOtherScripts(start..<min(range.upperBound, max(start, cursor)))
        output.append(0x20)
    }

    /// The brace closing the one at a position before a limit (nesting counted, at most 4,096 bytes on, within the
    /// text's budget), if any.
    private mutating func closingBrace(from open: Int, before end: Int) -> Int? {
        var depth = 0
        var cursor = open
        let limit = min(end, open + 4_096, open + braceBudget)
        defer { braceBudget -= cursor - open }
        while cursor < limit {
            switch bytes[cursor] {
            case UInt8(ascii: "{"): depth += 1
            case UInt8(ascii: "}"):
                depth -= 1
                if depth == 0 { return cursor }
            case UInt8(ascii: "\\"): cursor += 1
            default: break
            }
            cursor += 1
        }
        return nil
    }

    // MARK: Scanning

    /// Where each run of backticks and of tildes starts, by byte and run length, in order: built on first use, so
    /// that finding a closing run is a binary search, not a scan (texts with many unclosed runs of different lengths
    /// took seconds).
    private var runStarts: [UInt8: [Int: [Int]]]? = nil

    private mutating func runsByLength(of byte: UInt8) -> [Int: [Int]] {
        if runStarts == nil {
            var table: [UInt8: [Int: [Int]]] = [:]
            var cursor = 0
            while cursor < bytes.count {
                let current = bytes[cursor]
                guard current == UInt8(ascii: "`") || current == UInt8(ascii: "~") else {
                    cursor += 1
                    continue
                }
                let start = cursor
                while cursor < bytes.count, bytes[cursor] == current { cursor += 1 }
                table[current, default: [:]][cursor - start, default: []].append(start)
            }
            runStarts = table
        }
        return runStarts?[byte] ?? [:]
    }

    /// The start of the first run of exactly `length` bytes at or after a position.
    private mutating func nextRun(of byte: UInt8, exactly length: Int, after start: Int) -> Int? {
        guard let starts = runsByLength(of: byte)[length] else { return nil }
        var low = 0
        var high = starts.count
        while low < high {
            let middle = (low + high) / 2
            if starts[middle] < start { low = middle + 1 } else { high = middle }
        }
        return low < starts.count ? starts[low] : nil
    }

    /// The start of the first run of at least `length` bytes at or after a position (a closing fence may be longer).
    private mutating func nextRun(of byte: UInt8, atLeast length: Int, after start: Int) -> Int? {
        var best: Int? = nil
        for candidate in runsByLength(of: byte).keys where candidate >= length {
            if let found = nextRun(of: byte, exactly: candidate, after: start), best.map({ found < $0 }) ?? true {
                best = found
            }
        }
        return best
    }

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

// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation

/// The fields of a request line in its common shape, read straight from the line's bytes.
struct ScannedRequest {
    var id: JSONValue?
    var verifier: String
    var response: String
    var reference: JSONValue
    var prompt: String?
}

/// One scalar value of a scanned line: where its token lies in the line (a string's quotes included) and its kind.
struct ScannedToken {
    enum Kind: UInt8 {
        case string, number, `true`, `false`, null
    }

    var start: Int
    var end: Int
    var kind: Kind

    /// A string's contents (without its quotes); the token itself for other kinds.
    var contents: Range<Int> { kind == .string ? (start + 1)..<(end - 1) : start..<end }
}

/// A request line of the wider shape that ``RequestScanner/scanWide(_:)`` reads: strings decoded, the reference and
/// options left as the ranges of their JSON text in the line.
struct WideRequest {
    var id: ScannedToken?
    var verifier = ""
    var response = ""
    /// `nil` when the request has no prompt or a `null` one.
    var prompt: String?
    /// The reference's JSON text; `nil` when the line has none (it then is `null`).
    var reference: Range<Int>?
    /// The options object's JSON text; `nil` when the line has none or `null`.
    var options: Range<Int>?
}

/// Where the fields of a request line of the common shape lie in the line, without a string or value built: what
/// the daemon's byte path reads.
struct ScannedFields {
    var id: ScannedToken?
    /// The contents of the `verifier` string.
    var verifier: Range<Int>
    /// The contents of the `response` string.
    var response: Range<Int>
    /// `nil` when the line has no `reference` (it then is `null`).
    var reference: ScannedToken?
    var prompt: ScannedToken?
    /// Whether every string of the line is ASCII (else each must still be checked to be valid UTF-8).
    var allASCII: Bool
}

/// The fast path of decoding: reads a request line of the common shape — one flat object whose keys are among `id`,
/// `verifier`, `response`, `reference` and `prompt`, each at most once, whose strings hold no escapes, and whose
/// `id` and `reference` are strings, numbers, booleans or `null` — without building a ``JSONObject``.
///
/// It answers only what it is sure of: any other line (escapes, options, a batch, an op, unknown keys, a repeated
/// key, invalid JSON or UTF-8, a missing or ill-typed field) gives `nil`, and the full parser decodes it and finds
/// its error, so both paths give the same answer to every line.
enum RequestScanner {
    static func scan(_ line: UnsafeBufferPointer<UInt8>) -> ScannedRequest? {
        guard let fields = scanFields(line) else { return nil }
        func text(_ range: Range<Int>) -> String? {
            let slice = UnsafeBufferPointer(rebasing: line[range])
            return fields.allASCII ? String(decoding: slice, as: UTF8.self) : String(validating: slice, as: UTF8.self)
        }
        func value(_ token: ScannedToken) -> JSONValue? {
            switch token.kind {
            case .string: return text(token.contents).map { .string($0) }
            case .number:
                return .number(JSONNumber(literal: String(decoding: UnsafeBufferPointer(rebasing: line[token.contents]), as: UTF8.self)))
            case .true: return .bool(true)
            case .false: return .bool(false)
            case .null: return .null
            }
        }
        var id: JSONValue? = nil
        if let token = fields.id {
            guard let scanned = value(token) else { return nil }
            id = scanned
        }
        var reference = JSONValue.null
        if let token = fields.reference {
            guard let scanned = value(token) else { return nil }
            reference = scanned
        }
        var prompt: String? = nil
        if let token = fields.prompt, token.kind == .string {
            guard let scanned = text(token.contents) else { return nil }
            prompt = scanned
        }
        guard let verifier = text(fields.verifier), let response = text(fields.response) else { return nil }
        return ScannedRequest(id: id, verifier: verifier, response: response, reference: reference, prompt: prompt)
    }

    /// Where the fields of a line of the common shape lie; `nil` for any other line. Strings are not checked to be
    /// valid UTF-8 unless ``ScannedFields/allASCII`` says they are all ASCII.
    static func scanFields(_ line: UnsafeBufferPointer<UInt8>) -> ScannedFields? {
        // A line whose last value is an object or an array (a structured reference, options) is not of this shape:
        // seen at its end, without scanning its strings first (the wide scan reads it).
        /// The last byte before `end` that is not JSON white space, or -1.
        func lastNonSpace(before end: Int) -> Int {
            var last = end - 1
            while last >= 0 {
                switch line[last] {
                case 0x20, 0x09, 0x0A, 0x0D: last -= 1
                default: return last
                }
            }
            return last
        }
        let closing = lastNonSpace(before: line.count)
        if closing > 0, line[closing] == UInt8(ascii: "}") {
            let value = lastNonSpace(before: closing)
            if value >= 0, line[value] == UInt8(ascii: "}") || line[value] == UInt8(ascii: "]") { return nil }
        }
        var cursor = Cursor(bytes: line)
        cursor.skipWhitespace()
        guard cursor.consume(UInt8(ascii: "{")) else { return nil }
        var seen: UInt8 = 0
        var id: ScannedToken? = nil
        var verifier: Range<Int>? = nil
        var response: Range<Int>? = nil
        var reference: ScannedToken? = nil
        var prompt: ScannedToken? = nil
        var ascii = true
        while true {
            cursor.skipWhitespace()
            guard let key = cursor.key() else { return nil }
            guard seen & key.rawValue == 0 else { return nil }
            seen |= key.rawValue
            cursor.skipWhitespace()
            guard cursor.consume(UInt8(ascii: ":")) else { return nil }
            cursor.skipWhitespace()
            switch key {
            case .id:
                guard let token = cursor.scalar() else { return nil }
                id = token
            case .verifier:
                guard let range = cursor.plainString() else { return nil }
                verifier = range
            case .response:
                guard let range = cursor.plainString() else { return nil }
                response = range
            case .reference:
                guard let token = cursor.scalar() else { return nil }
                reference = token
            case .prompt:
                guard let token = cursor.scalar(), token.kind == .string || token.kind == .null else { return nil }
                prompt = token
            default:
                return nil
            }
            ascii = ascii && cursor.ascii
            cursor.skipWhitespace()
            if cursor.consume(UInt8(ascii: ",")) { continue }
            guard cursor.consume(UInt8(ascii: "}")) else { return nil }
            break
        }
        cursor.skipWhitespace()
        guard cursor.atEnd, let verifier, let response else { return nil }
        return ScannedFields(
            id: id, verifier: verifier, response: response, reference: reference, prompt: prompt, allASCII: ascii)
    }

    /// Reads a request line of the wider shape — the keys of the common shape plus `options`, each at most once;
    /// `response` and `prompt` strings with escapes; `reference` any JSON value; `options` an object or `null` —
    /// without building a ``JSONObject`` for the line. The id must still be a string without escapes, a number, a
    /// boolean or `null`, and the verifier's name a string without escapes. Every value is checked as the full parser
    /// checks it (``JSONParser/valueEnd(in:at:depth:)``), so a line read here is one the parser reads the same way;
    /// any other line gives `nil`.
    static func scanWide(_ line: UnsafeBufferPointer<UInt8>) -> WideRequest? {
        var cursor = Cursor(bytes: line)
        cursor.skipWhitespace()
        guard cursor.consume(UInt8(ascii: "{")) else { return nil }
        var seen: UInt8 = 0
        var request = WideRequest()
        var verifier: Range<Int>? = nil
        var verifierASCII = true
        var response: String? = nil
        while true {
            cursor.skipWhitespace()
            guard let key = cursor.key() else { return nil }
            guard seen & key.rawValue == 0 else { return nil }
            seen |= key.rawValue
            cursor.skipWhitespace()
            guard cursor.consume(UInt8(ascii: ":")) else { return nil }
            cursor.skipWhitespace()
            switch key {
            case .id:
                guard let token = cursor.scalar() else { return nil }
                if token.kind == .string, !cursor.ascii,
                    String(validating: UnsafeBufferPointer(rebasing: line[token.contents]), as: UTF8.self) == nil
                {
                    return nil
                }
                request.id = token
            case .verifier:
                guard let range = cursor.plainString() else { return nil }
                verifier = range
                verifierASCII = cursor.ascii
            case .response:
                guard let text = cursor.string() else { return nil }
                response = text
            case .prompt:
                if cursor.index < line.count, line[cursor.index] == UInt8(ascii: "n") {
                    guard let token = cursor.scalar(), token.kind == .null else { return nil }
                } else {
                    guard let text = cursor.string() else { return nil }
                    request.prompt = text
                }
            case .reference, .options:
                let start = cursor.index
                guard let end = JSONParser.valueEnd(in: line, at: start, depth: 1) else { return nil }
                cursor.index = end
                if key == .reference {
                    request.reference = start..<end
                } else {
                    switch line[start] {
                    case UInt8(ascii: "{"): request.options = start..<end
                    case UInt8(ascii: "n"): break
                    default: return nil
                    }
                }
            default:
                return nil
            }
            cursor.skipWhitespace()
            if cursor.consume(UInt8(ascii: ",")) { continue }
            guard cursor.consume(UInt8(ascii: "}")) else { return nil }
            break
        }
        cursor.skipWhitespace()
        guard cursor.atEnd, let verifier, let response else { return nil }
        let slice = UnsafeBufferPointer(rebasing: line[verifier])
        guard let name = verifierASCII ? String(decoding: slice, as: UTF8.self) : String(validating: slice, as: UTF8.self)
        else { return nil }
        request.verifier = name
        request.response = response
        return request
    }

    /// The keys the fast path reads, one bit each.
    private struct Key: OptionSet {
        let rawValue: UInt8
        static let id = Key(rawValue: 1)
        static let verifier = Key(rawValue: 2)
        static let response = Key(rawValue: 4)
        static let reference = Key(rawValue: 8)
        static let prompt = Key(rawValue: 16)
        static let options = Key(rawValue: 32)

        init(rawValue: UInt8) { self.rawValue = rawValue }

        /// The key and its text with the closing quote, picked by the key's first byte (and third, for `r`).
        /// (The text's first eight bytes, or fewer, as a little-endian word, and the mask of the bytes it holds.)
        static func candidate(_ first: UInt8, _ third: UInt8) -> (key: Key, text: StaticString, word: UInt64, mask: UInt64)? {
            switch first {
            case UInt8(ascii: "i"): (.id, "id\"", 0x226469, 0xFFFFFF)
            case UInt8(ascii: "v"): (.verifier, "verifier\"", 0x7265696669726576, 0xFFFFFFFFFFFFFFFF)
            case UInt8(ascii: "r"):
                third == UInt8(ascii: "s")
                    ? (.response, "response\"", 0x65736E6F70736572, 0xFFFFFFFFFFFFFFFF)
                    : (.reference, "reference\"", 0x636E657265666572, 0xFFFFFFFFFFFFFFFF)
            case UInt8(ascii: "p"): (.prompt, "prompt\"", 0x2274706D6F7270, 0xFFFFFFFFFFFFFF)
            case UInt8(ascii: "o"): (.options, "options\"", 0x22736E6F6974706F, 0xFFFFFFFFFFFFFFFF)
            default: nil
            }
        }
    }

    private struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        var atEnd: Bool { index == bytes.count }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        mutating func consume(_ byte: UInt8) -> Bool {
            if index < bytes.count, bytes[index] == byte {
                index += 1
                return true
            }
            return false
        }

        /// The contents of a string without escapes or control characters, the cursor moved past it.
        ///
        /// It reads eight bytes at a time, finding in each word at once whether it holds the closing quote, a
        /// backslash or a control character (bit tricks on the word, exact for the first such byte), and noting on
        /// the way whether the contents are all ASCII; the rest is read byte by byte.
        mutating func plainString() -> Range<Int>? {
            ascii = false
            guard consume(UInt8(ascii: "\"")), let base = bytes.baseAddress else { return nil }
            let start = index
            let count = bytes.count
            let raw = UnsafeRawPointer(base)
            var position = start
            var high: UInt64 = 0
            while position + 8 <= count {
                let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: position, as: UInt64.self))
                let stop =
                    Self.zeroBytes(word ^ 0x2222_2222_2222_2222) | Self.zeroBytes(word ^ 0x5C5C_5C5C_5C5C_5C5C)
                    | ((word &- 0x2020_2020_2020_2020) & ~word & 0x8080_8080_8080_8080)
                if stop != 0 {
                    let offset = stop.trailingZeroBitCount / 8
                    high |= word & ((UInt64(1) << UInt64(offset * 8)) &- 1)
                    position += offset
                    break
                }
                high |= word
                position += 8
            }
            while position < count {
                let byte = base[position]
                if byte == UInt8(ascii: "\"") {
                    ascii = high & 0x8080_8080_8080_8080 == 0
                    index = position + 1
                    return start..<position
                }
                if byte == UInt8(ascii: "\\") || byte < 0x20 { return nil }
                high |= UInt64(byte)
                position += 1
            }
            return nil
        }

        /// A string, escapes decoded, the cursor moved past it: read eight bytes at a time while it has no escape,
        /// else by the full parser's string reader (the same text either way).
        mutating func string() -> String? {
            let start = index
            if let range = plainString() {
                let slice = UnsafeBufferPointer(rebasing: bytes[range])
                return ascii ? String(decoding: slice, as: UTF8.self) : String(validating: slice, as: UTF8.self)
            }
            guard let (text, end) = JSONParser.string(in: bytes, at: start) else { return nil }
            index = end
            return text
        }

        /// A word whose bytes have their high bit set where the byte of `word` is zero, at least for the lowest such
        /// byte (higher ones may be flagged falsely after it; only the lowest is used).
        private static func zeroBytes(_ word: UInt64) -> UInt64 {
            (word &- 0x0101_0101_0101_0101) & ~word & 0x8080_8080_8080_8080
        }

        /// A key the fast path reads, the cursor moved past its closing quote; `nil` for any other string (which
        /// the full parser then reads). The key's text is compared with the one candidate its first bytes allow, the
        /// closing quote included, so no key holds an escape.
        mutating func key() -> Key? {
            guard consume(UInt8(ascii: "\"")), index + 2 < bytes.count,
                let candidate = Key.candidate(bytes[index], bytes[index + 2])
            else { return nil }
            let count = candidate.text.utf8CodeUnitCount
            guard index + count <= bytes.count, let base = bytes.baseAddress else { return nil }
            let expected = candidate.text.utf8Start
            var offset = 0
            if index + 8 <= bytes.count {
                // The first eight bytes (or fewer) in one comparison of words.
                let word = UInt64(littleEndian: UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self))
                guard word & candidate.mask == candidate.word else { return nil }
                offset = min(8, count)
            }
            while offset < count {
                guard base[index + offset] == expected[offset] else { return nil }
                offset += 1
            }
            index += count
            return candidate.key
        }

        /// Whether the string last read by ``plainString()`` is all ASCII (`true` after any other token).
        var ascii = true

        /// A string without escapes, a number, `true`, `false` or `null`.
        mutating func scalar() -> ScannedToken? {
            guard index < bytes.count else { return nil }
            let start = index
            ascii = true
            switch bytes[index] {
            case UInt8(ascii: "\""):
                guard plainString() != nil else { return nil }
                return ScannedToken(start: start, end: index, kind: .string)
            case UInt8(ascii: "t"): return word("true") ? ScannedToken(start: start, end: index, kind: .true) : nil
            case UInt8(ascii: "f"): return word("false") ? ScannedToken(start: start, end: index, kind: .false) : nil
            case UInt8(ascii: "n"): return word("null") ? ScannedToken(start: start, end: index, kind: .null) : nil
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                guard let range = number() else { return nil }
                return ScannedToken(start: range.lowerBound, end: range.upperBound, kind: .number)
            default: return nil
            }
        }

        private mutating func word(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count else { return false }
            let pointer = word.utf8Start
            for offset in 0..<count where bytes[index + offset] != pointer[offset] { return false }
            index += count
            return true
        }

        /// A number following the JSON grammar.
        private mutating func number() -> Range<Int>? {
            let start = index
            _ = consume(UInt8(ascii: "-"))
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: "0") {
                index += 1
            } else if isDigit() {
                skipDigits()
            } else {
                return nil
            }
            if consume(UInt8(ascii: ".")) {
                guard isDigit() else { return nil }
                skipDigits()
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                index += 1
                if !consume(UInt8(ascii: "+")) { _ = consume(UInt8(ascii: "-")) }
                guard isDigit() else { return nil }
                skipDigits()
            }
            return start..<index
        }

        private func isDigit() -> Bool {
            index < bytes.count && bytes[index] >= UInt8(ascii: "0") && bytes[index] <= UInt8(ascii: "9")
        }

        private mutating func skipDigits() {
            while isDigit() { index += 1 }
        }
    }
}

// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

/// A strict RFC 8259 JSON reader working directly on UTF-8 bytes.
///
/// It rejects what Python's `json.loads` rejects by default (raw control characters in strings, trailing commas,
/// `NaN`), with two deliberate differences: invalid UTF-8 is an error, and a lone surrogate escape (`"\ud800"`)
/// becomes U+FFFD. Nesting is limited to ``maximumDepth`` levels so that no input can exhaust the stack.
public struct JSONParser {
    /// The deepest nesting of arrays and objects accepted.
    public static let maximumDepth = 512

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private var depth = 0

    private init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// Parses one complete JSON text.
    /// - Parameter bytes: UTF-8 JSON text; whitespace may surround the value.
    /// - Returns: The value.
    /// - Throws: ``ArbiterError`` with code ``ArbiterError/Code/invalidJSON`` and the byte offset of the problem.
    public static func parse(_ bytes: some Collection<UInt8>) throws(ArbiterError) -> JSONValue {
        if let result = bytes.withContiguousStorageIfAvailable({ buffer in
            Result { () throws(ArbiterError) -> JSONValue in try parseDocument(buffer) }
        }) {
            return try result.get()
        }
        let copy = Array(bytes)
        return try copy.withUnsafeBufferPointer { buffer throws(ArbiterError) in try parseDocument(buffer) }
    }

    /// Parses one complete JSON text held in an array (the daemon's hot path, without generic dispatch).
    /// - Parameter bytes: UTF-8 JSON text.
    /// - Returns: The value.
    /// - Throws: ``ArbiterError`` with code ``ArbiterError/Code/invalidJSON``.
    public static func parse(_ bytes: [UInt8]) throws(ArbiterError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { buffer throws(ArbiterError) in try parseDocument(buffer) }
    }

    /// Parses one complete JSON text held in a string.
    /// - Parameter text: JSON text.
    /// - Returns: The value.
    /// - Throws: ``ArbiterError`` with code ``ArbiterError/Code/invalidJSON``.
    public static func parse(_ text: String) throws(ArbiterError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    /// Reads the `id` of a request from the first bytes of its line, when the line starts with `{"id": value`.
    ///
    /// Used to answer a line that is too large to parse with the id it carries.
    /// - Parameter prefix: The first bytes of the line.
    /// - Returns: The id, or `nil` when the line does not start with an `id` key or the prefix cuts it.
    public static func leadingID(_ prefix: [UInt8]) -> JSONValue? {
        prefix.withUnsafeBufferPointer { buffer in
            var parser = JSONParser(bytes: buffer)
            parser.skipWhitespace()
            guard parser.consume(UInt8(ascii: "{")) else { return nil }
            parser.skipWhitespace()
            guard parser.index < buffer.count, buffer[parser.index] == UInt8(ascii: "\""),
                let key = try? parser.parseString(), key == "id"
            else { return nil }
            parser.skipWhitespace()
            guard parser.consume(UInt8(ascii: ":")) else { return nil }
            parser.skipWhitespace()
            guard let value = try? parser.parseValue() else { return nil }
            parser.skipWhitespace()
            guard parser.consume(UInt8(ascii: ",")) || parser.consume(UInt8(ascii: "}")) else { return nil }
            return value
        }
    }

    // MARK: Reading values inside a larger text (the daemon's request scanner)

    /// The JSON string whose opening quote is at `index`, decoded as ``parse(_:)`` decodes it (escapes included),
    /// and the index after its closing quote.
    /// - Parameters:
    ///   - buffer: The text.
    ///   - index: Where the string's opening quote is.
    /// - Returns: The string and its end, or `nil` when there is no valid JSON string at `index`.
    public static func string(in buffer: UnsafeBufferPointer<UInt8>, at index: Int) -> (text: String, end: Int)? {
        guard index < buffer.count, buffer[index] == UInt8(ascii: "\"") else { return nil }
        var parser = JSONParser(bytes: buffer)
        parser.index = index
        guard let text = try? parser.parseString() else { return nil }
        return (text, parser.index)
    }

    /// For tests: the string whose opening quote is at `index`, read by the one-pass decoder of escaped strings (`nil`
    /// when it declines: no escape, or an error) and by the step-by-step reader (the string, or its error message).
    static func escapedStringReadings(in buffer: UnsafeBufferPointer<UInt8>, at index: Int)
        -> (onePass: String?, stepByStep: Result<String, ArbiterError>)
    {
        var parser = JSONParser(bytes: buffer)
        parser.index = index + 1
        while parser.index < buffer.count, buffer[parser.index] != UInt8(ascii: "\""),
            buffer[parser.index] != UInt8(ascii: "\\")
        {
            parser.index += 1
        }
        let escapeAt = parser.index
        let onePass = escapeAt < buffer.count && buffer[escapeAt] == UInt8(ascii: "\\")
            ? parser.decodeEscapedString(start: index + 1) : nil
        parser.index = escapeAt
        var scratch = Array(buffer[(index + 1)..<min(escapeAt, buffer.count)])
        let stepByStep = Result { () throws(ArbiterError) -> String in
            guard escapeAt < buffer.count else { throw parser.failure("unterminated string") }
            return try parser.parseEscapedString(into: &scratch)
        }
        return (onePass, stepByStep)
    }

    /// The end of the JSON value that starts at `index` (its first byte, not whitespace), when ``parse(_:)`` would
    /// accept it there with `depth` containers already open around it; nothing is built. It accepts exactly what the
    /// parser accepts: the same grammar, escapes, UTF-8 rule and nesting limit.
    /// - Parameters:
    ///   - buffer: The text.
    ///   - index: Where the value starts.
    ///   - depth: How many arrays or objects enclose it (1 for a field of a top-level object).
    /// - Returns: The index after the value, or `nil` when no valid value starts at `index`.
    public static func valueEnd(in buffer: UnsafeBufferPointer<UInt8>, at index: Int, depth: Int) -> Int? {
        var parser = JSONParser(bytes: buffer)
        parser.index = index
        parser.depth = depth
        guard parser.skipValue() else { return nil }
        return parser.index
    }

    /// Whether `text` is one JSON text that ``parse(_:)`` accepts, found without building the value.
    /// - Parameter text: UTF-8 text; whitespace may surround the value.
    /// - Returns: Whether it parses.
    public static func isValid(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        var parser = JSONParser(bytes: text)
        parser.skipWhitespace()
        guard parser.skipValue() else { return false }
        parser.skipWhitespace()
        return parser.index == text.count
    }

    /// Moves past one value, checking it as ``parseValue()`` would.
    private mutating func skipValue() -> Bool {
        guard index < bytes.count else { return false }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            depth += 1
            guard depth <= Self.maximumDepth else { return false }
            index += 1
            skipWhitespace()
            if !consume(UInt8(ascii: "}")) {
                while true {
                    skipWhitespace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: "\""), skipString() else { return false }
                    skipWhitespace()
                    guard consume(UInt8(ascii: ":")) else { return false }
                    skipWhitespace()
                    guard skipValue() else { return false }
                    skipWhitespace()
                    if consume(UInt8(ascii: ",")) { continue }
                    if consume(UInt8(ascii: "}")) { break }
                    return false
                }
            }
            depth -= 1
            return true
        case UInt8(ascii: "["):
            depth += 1
            guard depth <= Self.maximumDepth else { return false }
            index += 1
            skipWhitespace()
            if !consume(UInt8(ascii: "]")) {
                while true {
                    skipWhitespace()
                    guard skipValue() else { return false }
                    skipWhitespace()
                    if consume(UInt8(ascii: ",")) { continue }
                    if consume(UInt8(ascii: "]")) { break }
                    return false
                }
            }
            depth -= 1
            return true
        case UInt8(ascii: "\""): return skipString()
        case UInt8(ascii: "t"): return skipWord("true")
        case UInt8(ascii: "f"): return skipWord("false")
        case UInt8(ascii: "n"): return skipWord("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return skipNumber()
        default: return false
        }
    }

    /// Moves past a string, checking it as ``parseString()`` would: no raw control character, valid escapes (a `\u`
    /// with four hex digits; lone surrogates are allowed, the parser replaces them) and valid UTF-8. Escapes decode to
    /// whole UTF-8 sequences, so the decoded text is valid exactly when each raw run between escapes is.
    private mutating func skipString() -> Bool {
        index += 1  // opening quote
        var runStart = index
        var high: UInt8 = 0
        while index < bytes.count {
            // Eight bytes at a time while none needs a look (a quote, a backslash, a control character, non-ASCII).
            if let base = bytes.baseAddress {
                while index + 8 <= bytes.count,
                    !Self.needsLook(UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self))
                {
                    index += 8
                }
                guard index < bytes.count else { return false }
            }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                if high >= 0x80, !Self.isValidUTF8(UnsafeBufferPointer(rebasing: bytes[runStart..<index])) {
                    return false
                }
                high = 0
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    return true
                }
                index += 1
                guard index < bytes.count else { return false }
                switch bytes[index] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    index += 1
                case UInt8(ascii: "u"):
                    index += 1
                    guard index + 4 <= bytes.count else { return false }
                    for _ in 0..<4 {
                        switch bytes[index] {
                        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"),
                            UInt8(ascii: "A")...UInt8(ascii: "F"):
                            index += 1
                        default: return false
                        }
                    }
                default: return false
                }
                runStart = index
                continue
            }
            if byte < 0x20 { return false }
            high |= byte
            index += 1
        }
        return false
    }

    /// Whether any of eight bytes is a quote, a backslash, a control character or non-ASCII (the bytes a string scan
    /// stops at); exact, by the usual bit tricks: `(x - 0x01…) & ~x & 0x80…` is non-zero exactly when a byte of `x`
    /// is zero, and `(x - 0x20…) & ~x & 0x80…` exactly when a byte is below 0x20.
    @inline(__always)
    static func needsLook(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let zeroQuote = (quote &- ones) & ~quote
        let zeroBackslash = (backslash &- ones) & ~backslash
        let control = (word &- ones &* 0x20) & ~word
        return (zeroQuote | zeroBackslash | control | word) & highs != 0
    }

    /// Moves past a number, checking it as ``parseNumber()`` would.
    private mutating func skipNumber() -> Bool {
        _ = consume(UInt8(ascii: "-"))
        guard index < bytes.count else { return false }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else if isDigit(bytes[index]) {
            skipDigits()
        } else {
            return false
        }
        if consume(UInt8(ascii: ".")) {
            guard index < bytes.count, isDigit(bytes[index]) else { return false }
            skipDigits()
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if !consume(UInt8(ascii: "+")) { _ = consume(UInt8(ascii: "-")) }
            guard index < bytes.count, isDigit(bytes[index]) else { return false }
            skipDigits()
        }
        return true
    }

    private mutating func skipWord(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        let pointer = word.utf8Start
        for offset in 0..<count where bytes[index + offset] != pointer[offset] { return false }
        index += count
        return true
    }

    private static func parseDocument(_ buffer: UnsafeBufferPointer<UInt8>) throws(ArbiterError) -> JSONValue {
        var parser = JSONParser(bytes: buffer)
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        if parser.index < buffer.count {
            throw parser.failure("unexpected '\(parser.describeByte())' after the JSON value")
        }
        return value
    }

    // MARK: Values

    private mutating func parseValue() throws(ArbiterError) -> JSONValue {
        guard index < bytes.count else { throw failure("unexpected end of input, expected a value") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return .object(try parseObject())
        case UInt8(ascii: "["): return .array(try parseArray())
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectWord("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectWord("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectWord("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw failure("unexpected '\(describeByte())', expected a value")
        }
    }

    private mutating func parseObject() throws(ArbiterError) -> JSONObject {
        try enterContainer()
        index += 1
        var entries: [JSONObject.Entry] = []
        var positions: [String: Int]? = nil
        skipWhitespace()
        if consume(UInt8(ascii: "}")) {
            depth -= 1
            return JSONObject(uniqueEntries: entries)
        }
        // Room for a few entries at once (a request, a dataset row, its kwargs), not grown one by one.
        entries.reserveCapacity(4)
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw failure("expected a string key in object")
            }
            let key = try parseString()
            skipWhitespace()
            guard consume(UInt8(ascii: ":")) else { throw failure("expected ':' after object key") }
            skipWhitespace()
            let value = try parseValue()
            Self.insert(key: key, value: value, into: &entries, positions: &positions)
            skipWhitespace()
            if consume(UInt8(ascii: ",")) { continue }
            if consume(UInt8(ascii: "}")) { break }
            throw failure("expected ',' or '}' in object")
        }
        depth -= 1
        return JSONObject(uniqueEntries: entries)
    }

    /// Adds a key, keeping the last value of a repeated key (as Python does) without quadratic cost on large objects.
    private static func insert(
        key: String,
        value: JSONValue,
        into entries: inout [JSONObject.Entry],
        positions: inout [String: Int]?
    ) {
        if positions == nil, entries.count >= 16 {
            var built: [String: Int] = [:]
            for (offset, entry) in entries.enumerated() { built[entry.key] = offset }
            positions = built
        }
        if positions != nil {
            if let existing = positions![key] {
                entries[existing].value = value
            } else {
                positions![key] = entries.count
                entries.append(JSONObject.Entry(key: key, value: value))
            }
            return
        }
        if let existing = entries.firstIndex(where: { $0.key == key }) {
            entries[existing].value = value
        } else {
            entries.append(JSONObject.Entry(key: key, value: value))
        }
    }

    private mutating func parseArray() throws(ArbiterError) -> [JSONValue] {
        try enterContainer()
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if consume(UInt8(ascii: "]")) {
            depth -= 1
            return elements
        }
        elements.reserveCapacity(4)
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            if consume(UInt8(ascii: ",")) { continue }
            if consume(UInt8(ascii: "]")) { break }
            throw failure("expected ',' or ']' in array")
        }
        depth -= 1
        return elements
    }

    private mutating func enterContainer() throws(ArbiterError) {
        depth += 1
        if depth > Self.maximumDepth {
            throw failure("nesting deeper than \(Self.maximumDepth) levels")
        }
    }

    // MARK: Strings

    private mutating func parseString() throws(ArbiterError) -> String {
        index += 1  // opening quote
        let start = index
        // Fast path: no escapes.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text = try makeString(start..<index)
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw failure("raw control character \(Self.hex(byte)) in string (escape it)") }
            index += 1
        }
        guard index < bytes.count else { throw failure("unterminated string") }
        let escapeAt = index
        if let text = decodeEscapedString(start: start) { return text }
        // Anything the one-pass decoder does not take (an error, most likely): the step-by-step reader, which
        // finds the error and its place.
        index = escapeAt
        var scratch = Array(bytes[start..<index])
        return try parseEscapedString(into: &scratch)
    }

    /// A string with escapes, whose contents start at `start`, with `index` at its first backslash: its end found
    /// first (the decoded text is never longer than the raw), then decoded straight into the string's storage —
    /// no scratch array grown byte by byte, no second copy — with `index` moved past the closing quote. `nil`, with
    /// `index` anywhere, for a string that is not valid (a raw control character, a bad escape, invalid UTF-8, no
    /// closing quote): ``parseEscapedString(into:)`` then reads it again and throws its error.
    private mutating func decodeEscapedString(start: Int) -> String? {
        // The closing quote: escapes are skipped whole (a `\u` with its four digits, checked below).
        var end = index
        while end < bytes.count {
            let byte = bytes[end]
            if byte == UInt8(ascii: "\"") { break }
            if byte == UInt8(ascii: "\\") {
                end += 2
                continue
            }
            if byte < 0x20 { return nil }
            end += 1
        }
        guard end < bytes.count else { return nil }
        let bytes = self.bytes
        let escapeAt = index
        var decodedAll = true
        let text = String(unsafeUninitializedCapacity: end - start) { buffer -> Int in
            guard let out = buffer.baseAddress, let base = bytes.baseAddress else {
                decodedAll = false
                return 0
            }
            // Everything before the first escape: plain bytes.
            var written = escapeAt - start
            out.initialize(from: base + start, count: written)
            var high: UInt8 = 0
            for offset in start..<escapeAt { high |= base[offset] }
            var at = escapeAt
            while at < end {
                let byte = base[at]
                guard byte == UInt8(ascii: "\\") else {
                    high |= byte
                    out[written] = byte
                    written += 1
                    at += 1
                    continue
                }
                guard at + 1 < end else {
                    decodedAll = false
                    return 0
                }
                let code = base[at + 1]
                at += 2
                switch code {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out[written] = code
                case UInt8(ascii: "b"): out[written] = 0x08
                case UInt8(ascii: "f"): out[written] = 0x0C
                case UInt8(ascii: "n"): out[written] = 0x0A
                case UInt8(ascii: "r"): out[written] = 0x0D
                case UInt8(ascii: "t"): out[written] = 0x09
                case UInt8(ascii: "u"):
                    guard let (scalar, next) = Self.unicodeEscape(base, from: at, end: end) else {
                        decodedAll = false
                        return 0
                    }
                    at = next
                    for unit in UTF8.encode(scalar)! {
                        out[written] = unit
                        written += 1
                    }
                    continue
                default:
                    decodedAll = false
                    return 0
                }
                written += 1
            }
            // Escapes decode to whole UTF-8 sequences, so the text is valid exactly when its raw bytes are.
            if high >= 0x80, !Self.isValidUTF8(UnsafeBufferPointer(start: out, count: written)) {
                decodedAll = false
                return 0
            }
            return written
        }
        guard decodedAll else { return nil }
        index = end + 1
        return text
    }

    /// The value of a hex digit (either case), `nil` for any other byte: the one rule of both `\u` readers.
    private static func hexDigit(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    /// The scalar of a `\u` escape whose four hex digits start at `at` (a surrogate pair read whole, a lone
    /// surrogate read as U+FFFD, as ``parseUnicodeEscape()`` reads them) and the index after it; `nil` for a digit
    /// that is not hex or an escape cut by `end`.
    private static func unicodeEscape(_ base: UnsafePointer<UInt8>, from at: Int, end: Int) -> (Unicode.Scalar, Int)? {
        func hex4(_ at: Int) -> UInt32? {
            guard at + 4 <= end else { return nil }
            var value: UInt32 = 0
            for offset in at..<(at + 4) {
                guard let digit = hexDigit(base[offset]) else { return nil }
                value = value << 4 | digit
            }
            return value
        }
        guard let high = hex4(at) else { return nil }
        guard (0xD800...0xDBFF).contains(high) else { return (Unicode.Scalar(high) ?? "\u{FFFD}", at + 4) }
        if at + 5 < end, base[at + 4] == UInt8(ascii: "\\"), base[at + 5] == UInt8(ascii: "u") {
            // A second escape that is not hex is an error in the step-by-step reader too (it reads it next).
            guard let low = hex4(at + 6) else { return nil }
            if (0xDC00...0xDFFF).contains(low) {
                let value = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                return (Unicode.Scalar(value) ?? "\u{FFFD}", at + 10)
            }
        }
        return ("\u{FFFD}", at + 4)
    }

    /// Whether bytes are well-formed UTF-8 (Unicode's table 3-7: no overlong form, no encoded surrogate, nothing past
    /// U+10FFFF, no cut sequence) — what `String(validating:as:)` accepts, without making a string.
    /// - Parameter bytes: The bytes.
    /// - Returns: Whether they are valid UTF-8.
    public static func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var at = 0
        let count = bytes.count
        while at < count {
            let lead = bytes[at]
            if lead < 0x80 {
                at += 1
                continue
            }
            func continuation(_ offset: Int) -> Bool { bytes[at + offset] & 0xC0 == 0x80 }
            switch lead {
            case 0xC2...0xDF:
                guard at + 1 < count, continuation(1) else { return false }
                at += 2
            case 0xE0...0xEF:
                guard at + 2 < count else { return false }
                let second = bytes[at + 1]
                let low: UInt8 = lead == 0xE0 ? 0xA0 : 0x80
                let high: UInt8 = lead == 0xED ? 0x9F : 0xBF
                guard second >= low, second <= high, continuation(2) else { return false }
                at += 3
            case 0xF0...0xF4:
                guard at + 3 < count else { return false }
                let second = bytes[at + 1]
                let low: UInt8 = lead == 0xF0 ? 0x90 : 0x80
                let high: UInt8 = lead == 0xF4 ? 0x8F : 0xBF
                guard second >= low, second <= high, continuation(2), continuation(3) else { return false }
                at += 4
            default:
                return false
            }
        }
        return true
    }

    private mutating func parseEscapedString(into scratch: inout [UInt8]) throws(ArbiterError) -> String {
        while index < bytes.count {
            let runStart = index
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 { break }
                index += 1
            }
            if runStart < index { scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index])) }
            guard index < bytes.count else { break }
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                guard let text = String(validating: scratch, as: UTF8.self) else {
                    throw failure("string is not valid UTF-8")
                }
                return text
            case UInt8(ascii: "\\"):
                try parseEscape(into: &scratch)
            case 0..<0x20:
                throw failure("raw control character \(Self.hex(byte)) in string (escape it)")
            default:
                scratch.append(byte)
                index += 1
            }
        }
        throw failure("unterminated string")
    }

    private mutating func parseEscape(into scratch: inout [UInt8]) throws(ArbiterError) {
        index += 1
        guard index < bytes.count else { throw failure("unterminated escape") }
        let code = bytes[index]
        index += 1
        switch code {
        case UInt8(ascii: "\""): scratch.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): scratch.append(UInt8(ascii: "\\"))
        case UInt8(ascii: "/"): scratch.append(UInt8(ascii: "/"))
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"): appendScalar(try parseUnicodeEscape(), to: &scratch)
        default:
            index -= 1
            throw failure("invalid escape '\\\(describeByte())'")
        }
    }

    private mutating func parseUnicodeEscape() throws(ArbiterError) -> Unicode.Scalar {
        let high = try parseHex4()
        if (0xD800...0xDBFF).contains(high) {
            if index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") {
                let save = index
                index += 2
                let low = try parseHex4()
                if (0xDC00...0xDFFF).contains(low) {
                    let value = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                    return Unicode.Scalar(value) ?? "\u{FFFD}"
                }
                index = save
            }
            return "\u{FFFD}"
        }
        return Unicode.Scalar(high) ?? "\u{FFFD}"
    }

    private mutating func parseHex4() throws(ArbiterError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw failure("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = Self.hexDigit(bytes[index]) else { throw failure("invalid hex digit in \\u escape") }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    private func appendScalar(_ scalar: Unicode.Scalar, to scratch: inout [UInt8]) {
        for unit in UTF8.encode(scalar)! { scratch.append(unit) }
    }

    private func makeString(_ range: Range<Int>) throws(ArbiterError) -> String {
        let slice = UnsafeBufferPointer(rebasing: bytes[range])
        var ascii = true
        for byte in slice where byte >= 0x80 {
            ascii = false
            break
        }
        if ascii { return String(decoding: slice, as: UTF8.self) }
        // Checked without making a string first (`String(validating:)` makes one); valid text decodes unchanged.
        guard Self.isValidUTF8(slice) else { throw failure("string is not valid UTF-8") }
        return String(decoding: slice, as: UTF8.self)
    }

    // MARK: Numbers and words

    private mutating func parseNumber() throws(ArbiterError) -> JSONNumber {
        let start = index
        _ = consume(UInt8(ascii: "-"))
        guard index < bytes.count else { throw failure("truncated number") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else if isDigit(bytes[index]) {
            skipDigits()
        } else {
            throw failure("invalid number")
        }
        if consume(UInt8(ascii: ".")) {
            guard index < bytes.count, isDigit(bytes[index]) else { throw failure("expected digits after '.'") }
            skipDigits()
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if !consume(UInt8(ascii: "+")) { _ = consume(UInt8(ascii: "-")) }
            guard index < bytes.count, isDigit(bytes[index]) else { throw failure("expected digits in exponent") }
            skipDigits()
        }
        return JSONNumber(literal: String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self))
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private mutating func skipDigits() {
        while index < bytes.count, isDigit(bytes[index]) { index += 1 }
    }

    private mutating func expectWord(_ word: StaticString) throws(ArbiterError) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw failure("unexpected end of input") }
        let pointer = word.utf8Start
        for offset in 0..<count where bytes[index + offset] != pointer[offset] {
            throw failure("unexpected '\(describeByte())', expected a value")
        }
        index += count
    }

    // MARK: Helpers

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func consume(_ byte: UInt8) -> Bool {
        if index < bytes.count, bytes[index] == byte {
            index += 1
            return true
        }
        return false
    }

    private func describeByte() -> String {
        guard index < bytes.count else { return "end of input" }
        let byte = bytes[index]
        if byte >= 0x20, byte < 0x7F { return String(UnicodeScalar(byte)) }
        return Self.hex(byte)
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return "0x" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0xF)])
    }

    private func failure(_ message: String) -> ArbiterError {
        ArbiterError(.invalidJSON, "\(message) at byte \(index)")
    }
}

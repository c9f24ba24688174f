// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

/// `exact`: score 1 when the response equals the reference string, else 0.
///
/// Strings are compared as Unicode text (canonically equivalent strings are equal). The reference must be a string;
/// a JSON number is compared by its literal text (`42` matches the response `42`).
public struct ExactVerifier: Verifier, ByteVerifier {
    /// Options of ``ExactVerifier``.
    public struct Configuration: VerifierConfiguration {
        /// Ignore whitespace at both ends of the response and the reference.
        public var trim: Bool
        /// Compare letters with their case.
        public var caseSensitive: Bool

        public static let options: [OptionSpec] = [
            OptionSpec("trim", .boolean, default: .bool(true), "Ignore whitespace at both ends of both strings."),
            OptionSpec("case_sensitive", .boolean, default: .bool(true), "Compare letters with their case."),
        ]

        public init(options: OptionValues) {
            trim = options.bool("trim")
            caseSensitive = options.bool("case_sensitive")
        }
    }

    public static let name = "exact"
    public static let summary = "Score 1 when the response equals the reference string, else 0."

    private let configuration: Configuration

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    public func verify(_ sample: Sample) throws -> Verdict {
        let reference: String
        switch sample.reference {
        case .string(let text): reference = text
        case .number(let number): reference = number.literal
        default:
            throw ArbiterError(
                .invalidReference, "verifier 'exact' needs a string reference, got \(sample.reference.typeName)")
        }
        return asciiVerdict(sample.response, reference) ?? unicodeVerdict(sample.response, reference)
    }

    /// The verdict by Unicode text (characters, canonical equivalence): the general path.
    func unicodeVerdict(_ response: String, _ reference: String) -> Verdict {
        let expected = normalize(reference)
        let actual = normalize(response)
        if actual == expected { return .pass("equal") }
        return .fail("not_equal", details: ["first_difference": .int(firstDifference(actual, expected))])
    }

    /// The verdict for two ASCII strings without carriage returns, compared byte by byte (there a character is a
    /// byte and Unicode equivalence is equality, so the answer is the one of the general path); `nil` for any other
    /// strings (`"\r\n"` is one character, and non-ASCII text needs Unicode's rules).
    func asciiVerdict(_ response: String, _ reference: String) -> Verdict? {
        let answer = response.utf8.withContiguousStorageIfAvailable { actual in
            reference.utf8.withContiguousStorageIfAvailable { expected in asciiVerdict(actual, expected) }
        }
        guard case .some(.some(.some(let verdict))) = answer else { return nil }
        return verdict
    }

    private func asciiVerdict(_ actual: UnsafeBufferPointer<UInt8>, _ expected: UnsafeBufferPointer<UInt8>) -> Verdict? {
        guard Self.isPlainASCII(actual), Self.isPlainASCII(expected) else { return nil }
        return compactVerdict(response: actual, reference: expected)?.verdict
    }

    /// The verdict for two ASCII strings without control characters, byte by byte (see ``asciiVerdict(_:_:)``): the
    /// daemon's byte path, whose scanner has checked the bytes.
    public func compactVerdict(response: UnsafeBufferPointer<UInt8>, reference: UnsafeBufferPointer<UInt8>)
        -> CompactVerdict?
    {
        let actual = trimmed(response), expected = trimmed(reference)
        let shorter = min(actual.count, expected.count)
        var offset = 0
        if configuration.caseSensitive {
            while offset < shorter, actual[offset] == expected[offset] { offset += 1 }
        } else {
            while offset < shorter, Self.lowercase(actual[offset]) == Self.lowercase(expected[offset]) { offset += 1 }
        }
        if offset == actual.count, offset == expected.count { return CompactVerdict(score: 1, passed: true, reason: "equal") }
        return CompactVerdict(score: 0, passed: false, reason: "not_equal", detail: ("first_difference", offset))
    }

    /// Whether the bytes are ASCII without a carriage return (where a byte is a character).
    private static func isPlainASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var unusual = false
        for byte in bytes { unusual = unusual || byte >= 0x80 || byte == 0x0D }
        return !unusual
    }

    /// The bytes to compare: whitespace trimmed at both ends when asked.
    private func trimmed(_ bytes: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        guard configuration.trim else { return bytes }
        var start = 0
        var end = bytes.count
        while start < end, Self.isASCIIWhitespace(bytes[start]) { start += 1 }
        while end > start, Self.isASCIIWhitespace(bytes[end - 1]) { end -= 1 }
        return UnsafeBufferPointer(rebasing: bytes[start..<end])
    }

    private static func isASCIIWhitespace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }

    private static func lowercase(_ byte: UInt8) -> UInt8 { (0x41...0x5A).contains(byte) ? byte | 0x20 : byte }

    private func normalize(_ text: String) -> Substring {
        var text = configuration.caseSensitive ? Substring(text) : Substring(text.lowercased())
        if configuration.trim {
            // One pass over Unicode scalars from each end, then one slice: dropping a Character at a time from the end
            // re-checked grapheme boundaries on every step and was quadratic (`"42"` and 64,000 newlines took 16 s).
            let scalars = text.unicodeScalars
            guard let first = scalars.firstIndex(where: { !Self.isWhitespace($0) }),
                let last = scalars.lastIndex(where: { !Self.isWhitespace($0) })
            else { return text[text.endIndex...] }
            // Scalar indices are valid string indices; the slice rounds to Character boundaries as a String would.
            text = text[first..<scalars.index(after: last)]
        }
        return text
    }

    /// Unicode whitespace, with a fast answer for ASCII.
    private static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x80 { return scalar == " " || (0x09...0x0D).contains(scalar.value) }
        return scalar.properties.isWhitespace
    }

    /// The offset, in characters, of the first character where the compared strings differ.
    private func firstDifference(_ lhs: Substring, _ rhs: Substring) -> Int {
        var offset = 0
        var left = lhs.makeIterator()
        var right = rhs.makeIterator()
        while let a = left.next(), let b = right.next(), a == b { offset += 1 }
        return offset
    }
}

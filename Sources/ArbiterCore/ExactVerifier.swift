// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

/// `exact`: score 1 when the response equals the reference string, else 0.
///
/// Strings are compared as Unicode text (canonically equivalent strings are equal). The reference must be a string;
/// a JSON number is compared by its literal text (`42` matches the response `42`).
public struct ExactVerifier: Verifier {
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

    public func verify(_ sample: Sample) async throws -> Verdict {
        let reference: String
        switch sample.reference {
        case .string(let text): reference = text
        case .number(let number): reference = number.literal
        default:
            throw ArbiterError(
                .invalidReference, "verifier 'exact' needs a string reference, got \(sample.reference.typeName)")
        }
        let expected = normalize(reference)
        let actual = normalize(sample.response)
        if actual == expected { return .pass("equal") }
        return .fail("not_equal", details: ["first_difference": .int(firstDifference(actual, expected))])
    }

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

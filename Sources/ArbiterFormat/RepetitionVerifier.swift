// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore

/// `repetition`: an n-gram repetition penalty in −max_penalty…0.
///
/// The response is split into units — lowercased words for space-separated scripts, single characters for scripts
/// written without spaces (Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar) and for punctuation, symbols and
/// emoji; whitespace and other blank gaps separate words, characters that show nothing are dropped (see
/// ``InvisibleScalars``) — and the penalty is
/// `−max_penalty × (1 − distinct n-grams / all n-grams)`; 0 when there are fewer than n units.
public struct RepetitionVerifier: Verifier, SynchronousVerifier {
    /// Options of ``RepetitionVerifier``.
    public struct Configuration: VerifierConfiguration {
        /// The n-gram size.
        public let n: Int
        /// The largest penalty (a positive number; the score goes down to its negative).
        public let maxPenalty: Double

        public static let options: [OptionSpec] = [
            OptionSpec("n", .integer(1...64), default: .int(3), "The n-gram size, in units."),
            OptionSpec(
                "max_penalty", .number(0...100), default: .double(1),
                "The score for a text made of one repeated n-gram is -max_penalty."),
        ]

        public init(options: OptionValues) {
            n = options.int("n")
            maxPenalty = options.double("max_penalty")
        }
    }

    public static let name = "repetition"
    public static let summary = "N-gram repetition penalty in -max_penalty...0 (words, or characters for CJK and Thai); passes when under half the n-grams repeat."

    private let configuration: Configuration

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    public func verify(_ sample: Sample) throws -> Verdict {
        let units = Self.units(of: sample.response)
        let n = configuration.n
        guard units.count >= n else {
            return Verdict(score: 0, passed: true, reason: "too_short", details: ["units": .int(units.count)])
        }
        var seen = Set<Int>()
        var hasher = Hasher()
        let total = units.count - n + 1
        for start in 0..<total {
            hasher = Hasher()
            for unit in units[start..<(start + n)] { hasher.combine(unit) }
            seen.insert(hasher.finalize())
        }
        let repeated = 1 - Double(seen.count) / Double(total)
        let score = repeated == 0 ? 0 : -configuration.maxPenalty * repeated
        return Verdict(
            score: score, passed: repeated < 0.5, reason: repeated == 0 ? "no_repetition" : "repetition",
            details: [
                "units": .int(units.count), "ngrams": .int(total), "distinct_ngrams": .int(seen.count),
                "repeated_share": .double((repeated * 10_000).rounded() / 10_000),
            ])
    }

    /// Lowercased words, with each character of an unspaced script as a unit of its own.
    static func units(of text: String) -> [String] {
        var units: [String] = []
        var word = String.UnicodeScalarView()
        func flush() {
            if !word.isEmpty {
                units.append(String(word).lowercased())
                word = String.UnicodeScalarView()
            }
        }
        for scalar in text.unicodeScalars {
            if InvisibleScalars.isInvisible(scalar) {
                // A blank gap (whitespace, U+2800, a spacing Hangul filler) ends a word; a scalar that shows nothing
                // (a zero-width space or joiner, U+034F, a variation selector, a control) is dropped, so that
                // `b\u{34F}ad` is the word `bad` a reader sees and marks sprinkled into repeated words do not make
                // them distinct.
                if InvisibleScalars.isBlankSpace(scalar) { flush() }
            } else if isUnspacedScript(scalar) {
                flush()
                units.append(String(scalar))
            } else if scalar.properties.isAlphabetic || scalar.properties.numericType != nil
                || scalar.properties.generalCategory == .nonspacingMark
            {
                word.append(scalar)
            } else {
                // Punctuation, symbols and emoji are units of their own, so that "!!!!" or "🙂 🙂 🙂" repeats too.
                flush()
                units.append(String(scalar))
            }
        }
        flush()
        return units
    }

    private static func isUnspacedScript(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x3040...0x30FF, 0x31F0...0x31FF: true  // Hiragana, Katakana
        case 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF, 0x20000...0x3134F: true  // Han
        case 0x0E00...0x0EFF: true  // Thai, Lao
        case 0x1780...0x17FF, 0x1000...0x109F: true  // Khmer, Myanmar
        default: false
        }
    }
}

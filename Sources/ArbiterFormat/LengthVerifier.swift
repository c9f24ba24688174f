// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation

/// `length`: length-aware reward shaping.
///
/// Mode `overlong` is DAPO's soft overlong punishment: 0 up to `max_length − cache_length`, then falling linearly
/// to −1 at `max_length`, and −1 beyond. Mode `cosine` is the cosine-scaled reward of "Demystifying Long
/// Chain-of-Thought Reasoning" (as in open-r1): correct answers earn from `max_value_correct` (short) down to
/// `min_value_correct` (at `max_length`), wrong ones from `min_value_wrong` (short) up to `max_value_wrong`. Its
/// correctness comes from the reference: `true`/`false` or `{"correct": true}` (a recipe passes another
/// component's verdict).
public struct LengthVerifier: Verifier, SynchronousVerifier {
    /// Options of ``LengthVerifier``.
    public struct Configuration: VerifierConfiguration {
        let cosine: Bool
        let unit: String
        let maxLength: Int
        let cacheLength: Int
        let minValueWrong: Double
        let maxValueWrong: Double
        let minValueCorrect: Double
        let maxValueCorrect: Double

        public static let options: [OptionSpec] = [
            OptionSpec(
                "mode", .string(choices: ["overlong", "cosine"]), default: .string("overlong"),
                "overlong: DAPO's soft overlong penalty; cosine: cosine-scaled by length and correctness."),
            OptionSpec(
                "unit", .string(choices: ["chars", "words", "bytes"]), default: .string("chars"),
                "What length counts: Unicode scalars, words (separated by whitespace or any invisible character), or UTF-8 bytes."),
            OptionSpec("max_length", .integer(1...100_000_000), default: .int(4096), "The length budget."),
            OptionSpec(
                "cache_length", .integer(0...100_000_000), default: .int(1024),
                "overlong: the soft zone before max_length where the penalty grows from 0 to -1."),
            OptionSpec("min_value_wrong", .number(-100...100), default: .double(-1), "cosine: wrong and short."),
            OptionSpec("max_value_wrong", .number(-100...100), default: .double(-0.5), "cosine: wrong and long."),
            OptionSpec("min_value_correct", .number(-100...100), default: .double(0.5), "cosine: correct and long."),
            OptionSpec("max_value_correct", .number(-100...100), default: .double(1), "cosine: correct and short."),
        ]

        public init(options: OptionValues) throws {
            cosine = options.string("mode") == "cosine"
            unit = options.string("unit")
            maxLength = options.int("max_length")
            cacheLength = options.int("cache_length")
            minValueWrong = options.double("min_value_wrong")
            maxValueWrong = options.double("max_value_wrong")
            minValueCorrect = options.double("min_value_correct")
            maxValueCorrect = options.double("max_value_correct")
            guard cosine || cacheLength < maxLength else {
                throw ArbiterError(.invalidOptions, "cache_length must be smaller than max_length")
            }
        }
    }

    public static let name = "length"
    public static let summary = "Length shaping: DAPO's soft overlong penalty (-1...0) or the cosine-scaled reward by correctness."

    private let configuration: Configuration

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    public func verify(_ sample: Sample) throws -> Verdict {
        let length = measure(sample.response)
        var details: JSONObject = ["length": .int(length), "unit": .string(configuration.unit)]
        guard configuration.cosine else {
            let softStart = configuration.maxLength - configuration.cacheLength
            let score: Double
            if length <= softStart {
                score = 0
            } else if length <= configuration.maxLength {
                score = Double(softStart - length) / Double(max(1, configuration.cacheLength))
            } else {
                score = -1
            }
            let reason = score == 0 ? "within_budget" : (length > configuration.maxLength ? "over_budget" : "soft_overlong")
            return Verdict(score: score, passed: score == 0, reason: reason, details: details)
        }
        let correct = try Self.correctness(of: sample.reference)
        let progress = min(1, Double(length) / Double(configuration.maxLength))
        let cosine = cos(progress * Double.pi)
        let (low, high) = correct
            ? (configuration.minValueCorrect, configuration.maxValueCorrect)
            : (configuration.maxValueWrong, configuration.minValueWrong)
        let score = low + 0.5 * (high - low) * (1 + cosine)
        details["correct"] = .bool(correct)
        return Verdict(score: score, passed: correct, reason: correct ? "correct" : "wrong", details: details)
    }

    private func measure(_ text: String) -> Int {
        switch configuration.unit {
        case "bytes": text.utf8.count
        case "words": Self.wordCount(text)
        default: text.unicodeScalars.count
        }
    }

    /// The number of words: runs of scalars a reader can see, separated by whitespace or by any scalar
    /// ``InvisibleScalars/isInvisible(_:)`` (U+2800, a Hangul filler, a zero-width space, a control…), so that words
    /// joined by a blank that is not a space still count one by one. A mark that shows nothing inside a word splits
    /// it: a count can come out higher, never lower, than what a reader sees.
    static func wordCount(_ text: String) -> Int {
        var count = 0
        var inWord = false
        for scalar in text.unicodeScalars {
            if InvisibleScalars.isInvisible(scalar) {
                inWord = false
            } else if !inWord {
                inWord = true
                count += 1
            }
        }
        return count
    }

    static func correctness(of reference: JSONValue) throws -> Bool {
        if let flag = reference.boolValue { return flag }
        if let flag = reference.objectValue?["correct"]?.boolValue { return flag }
        throw ArbiterError(
            .invalidReference,
            "length mode 'cosine' needs the correctness as reference: true, false or {\"correct\": true}")
    }
}

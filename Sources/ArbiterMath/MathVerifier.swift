// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation

/// `math`: score 1 when the response's final answer is mathematically equivalent to the reference.
public struct MathVerifier: Verifier {
    /// Options of ``MathVerifier``.
    public struct Configuration: VerifierConfiguration {
        /// Extraction strategies, in order.
        public let strategies: [String]
        /// Relative tolerance when a decimal is compared.
        public let decimalTolerance: Double

        public static let options: [OptionSpec] = [
            OptionSpec(
                "extract", .stringList, default: .array(AnswerExtractor.strategies.map(JSONValue.string)),
                "Answer extraction strategies in order: answer_tags, boxed, final_answer, math_span, last_number, whole."),
            OptionSpec(
                "decimal_tolerance", .number(0...0.1), default: .double(1e-6),
                "Relative tolerance when either side is written as a decimal (exact values compare exactly)."),
        ]

        public init(options: OptionValues) throws {
            strategies = options.strings("extract")
            for strategy in strategies where !AnswerExtractor.strategies.contains(strategy) {
                throw ArbiterError(
                    .invalidOptions,
                    "unknown extraction strategy '\(strategy)' (strategies: \(AnswerExtractor.strategies.joined(separator: ", ")))")
            }
            decimalTolerance = options.double("decimal_tolerance")
        }
    }

    public static let name = "math"
    public static let summary = "Score 1 when the final answer is mathematically equivalent to the reference (exact rationals, sets, intervals, equations, numeric identity)."

    private let configuration: Configuration

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    public func verify(_ sample: Sample) async throws -> Verdict {
        let referenceText: String
        switch sample.reference {
        case .string(let text): referenceText = text
        case .number(let number): referenceText = number.literal
        default:
            throw ArbiterError(.invalidReference, "verifier 'math' needs a string or number reference, got \(sample.reference.typeName)")
        }
        let referenceAnswer = Self.referenceAnswer(referenceText)
        guard let reference = Self.parseAnswer(referenceAnswer) else {
            throw ArbiterError(.invalidReference, "cannot read the reference '\(referenceText.prefix(200))' as math or text")
        }
        var details: JSONObject = ["reference": .string(referenceAnswer)]
        guard let extraction = AnswerExtractor.extract(from: sample.response, strategies: configuration.strategies) else {
            return .fail("no_answer", details: details)
        }
        details["strategy"] = .string(extraction.strategy)
        let answers = extraction.answers.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        let answer = answers.last ?? ""
        details["extracted"] = .string(String(answer.prefix(1000)))
        if answer.isEmpty { return .fail("empty_answer", details: details) }
        if Set(answers.map(LatexNormalizer.normalize)).count > 1 {
            return .fail("multiple_answers", details: details)
        }
        if Self.isHedged(answer) { return .fail("multiple_answers", details: details) }
        guard let response = Self.parseAnswer(answer) else { return .fail("unparseable", details: details) }
        details["response_normalized"] = .string(LatexNormalizer.normalize(answer))
        details["reference_normalized"] = .string(LatexNormalizer.normalize(referenceAnswer))
        if Equivalence.elements(of: response) != nil, Equivalence.elements(of: reference) == nil {
            return .fail("multiple_answers", details: details)
        }
        var equivalence = Equivalence(decimalTolerance: configuration.decimalTolerance)
        switch equivalence.compare(response, reference) {
        case .equal(let method):
            details["method"] = .string(method)
            return .pass("equivalent", details: details)
        case .different(let method):
            details["method"] = .string(method)
            return .fail("not_equivalent", details: details)
        case .budget:
            return .fail("budget", details: details)
        }
    }

    /// The reference's answer: its last box or math span when it has one, else the whole text.
    static func referenceAnswer(_ text: String) -> String {
        if let boxed = AnswerExtractor.boxedContents(text).last { return boxed }
        if text.contains("$") || text.contains("\\("), let span = AnswerExtractor.lastMathSpan(text) { return span }
        return AnswerExtractor.stripMathDelimiters(text)
    }

    /// A text answer, or the parsed math; `nil` when it is neither.
    static func parseAnswer(_ text: String) -> MathExpr? {
        if let words = LatexNormalizer.textAnswer(text) { return .text(words) }
        let normalized = LatexNormalizer.normalize(text)
        guard !normalized.isEmpty else { return nil }
        do {
            return try MathParser.parse(normalized)
        } catch {
            return nil
        }
    }

    /// "3 or 4", "either 3 or 4", "3 \text{ or } 4".
    static func isHedged(_ answer: String) -> Bool {
        let lower = answer.lowercased()
        return lower.contains(" or ") || lower.contains("\\text{or}") || lower.contains("\\text{ or }")
            || lower.contains("\\quad\\text{or}") || lower.hasPrefix("either ")
    }
}

extension VerifierRegistry {
    /// Adds the `math` verifier.
    public mutating func registerMathVerifiers() {
        register(MathVerifier.self)
    }
}

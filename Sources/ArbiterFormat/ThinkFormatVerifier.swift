// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import ArbiterRegex

/// `think-format`: DeepSeek-R1's format reward, without the holes of the usual regex.
///
/// Mode `think`: exactly one non-empty `<think>…</think>` block at the start (only whitespace before it), no
/// other think tag, then a non-empty answer. Mode `answer`: also exactly one non-empty `<answer>…</answer>` after
/// the think block, with nothing but whitespace between the blocks and after `</answer>`, and no answer tag inside
/// the think block. Tags must be written exactly (`<Think>` or `< think>` is `malformed_tag`). CRLF line ends and
/// surrounding whitespace are accepted. When the prompt ends with an opened `<think>`, the response is read as its
/// continuation.
public struct ThinkFormatVerifier: Verifier, SynchronousVerifier {
    /// Options of ``ThinkFormatVerifier``.
    public struct Configuration: VerifierConfiguration, PatternConfiguration {
        /// `think` or `answer`.
        public let requireAnswerTags: Bool
        /// The think tag's name.
        public let thinkTag: String
        /// The answer tag's name.
        public let answerTag: String
        let scanner: TagScanner

        public static let options: [OptionSpec] = [
            OptionSpec(
                "mode", .string(choices: ["think", "answer"]), default: .string("think"),
                "think: a think block then an answer; answer: the answer must also be one <answer> block."),
            OptionSpec("think_tag", .string(choices: []), default: .string("think"), "Name of the reasoning tag."),
            OptionSpec("answer_tag", .string(choices: []), default: .string("answer"), "Name of the answer tag."),
        ]

        /// Reads the options on their own, compiling in a small cache of this configuration's own (a registry
        /// made by ``VerifierRegistry/registerFormatVerifiers(patterns:)`` shares the cache it was given).
        public init(options: OptionValues) throws {
            try self.init(options: options, patterns: PatternCache(capacity: 4))
        }

        /// Reads the options, compiling patterns in `patterns`.
        public init(options: OptionValues, patterns: PatternCache) throws {
            requireAnswerTags = options.string("mode") == "answer"
            thinkTag = options.string("think_tag")
            answerTag = options.string("answer_tag")
            guard thinkTag.lowercased() != answerTag.lowercased() else {
                throw ArbiterError(.invalidOptions, "think_tag and answer_tag must differ")
            }
            scanner = try TagScanner(names: [thinkTag, answerTag], patterns: patterns)
        }
    }

    public static let name = "think-format"
    public static let summary = "DeepSeek-R1 format: one non-empty <think> block, then a non-empty answer (mode answer: one <answer> block and nothing after)."

    private let configuration: Configuration

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    public func verify(_ sample: Sample) throws -> Verdict {
        var text = FormatText.normalizingLineEndings(sample.response)
        let continued = Self.promptOpensThink(sample.prompt, tag: configuration.thinkTag)
            && !text.drop(while: \.isWhitespace).hasPrefix("<\(configuration.thinkTag)>")
        if continued { text = "<\(configuration.thinkTag)>" + text }
        var verdict = judge(text)
        if continued { verdict.details["continued_from_prompt"] = .bool(true) }
        return verdict
    }

    private func judge(_ text: String) -> Verdict {
        guard let tokens = configuration.scanner.tokens(in: text) else { return .fail("match_limit") }
        let bytes = Array(text.utf8)
        if let bad = tokens.first(where: { !$0.exact }) {
            return .fail("malformed_tag", details: ["tag": .string(FormatText.string(bytes[bad.range]))])
        }
        let think = tokens.filter { $0.name == configuration.thinkTag }
        let opens = think.filter { !$0.closing }
        let closes = think.filter(\.closing)
        if opens.isEmpty { return .fail(closes.isEmpty ? "missing_think" : "unopened_think") }
        if opens.count > 1 || closes.count > 1 { return .fail("multiple_think") }
        guard let close = closes.first else { return .fail("unclosed_think") }
        let open = opens[0]
        guard open.range.upperBound <= close.range.lowerBound else { return .fail("misordered_think") }
        if !FormatText.isBlank(bytes[..<open.range.lowerBound]) { return .fail("text_before_think") }
        let reasoning = bytes[open.range.upperBound..<close.range.lowerBound]
        if FormatText.isEmptyContent(reasoning) { return .fail("empty_think") }
        var details: JSONObject = ["think_chars": .int(FormatText.scalarCount(reasoning))]
        let after = bytes[close.range.upperBound...]
        let answerTokens = tokens.filter { $0.name == configuration.answerTag }
        guard configuration.requireAnswerTags else {
            if FormatText.isEmptyContent(after) { return .fail("missing_answer", details: details) }
            let answer = FormatText.string(after).trimmed()
            details["answer_chars"] = .int(answer.unicodeScalars.count)
            details["answer"] = .string(RegexVerifier.clip(answer))
            return .pass("well_formed", details: details)
        }
        if answerTokens.contains(where: { $0.range.lowerBound < close.range.lowerBound }) {
            return .fail("answer_inside_think", details: details)
        }
        return judgeAnswerBlock(bytes, after: close.range.upperBound, tokens: answerTokens, details: details)
    }

    private func judgeAnswerBlock(_ bytes: [UInt8], after end: Int, tokens: [TagToken], details: JSONObject) -> Verdict {
        var details = details
        let opens = tokens.filter { !$0.closing }
        let closes = tokens.filter(\.closing)
        if opens.isEmpty { return .fail(closes.isEmpty ? "missing_answer" : "unopened_answer", details: details) }
        if opens.count > 1 || closes.count > 1 { return .fail("multiple_answer", details: details) }
        guard let close = closes.first else { return .fail("unclosed_answer", details: details) }
        let open = opens[0]
        guard open.range.upperBound <= close.range.lowerBound else { return .fail("misordered_answer", details: details) }
        if !FormatText.isBlank(bytes[end..<open.range.lowerBound]) { return .fail("text_before_answer", details: details) }
        let answer = bytes[open.range.upperBound..<close.range.lowerBound]
        if FormatText.isEmptyContent(answer) { return .fail("empty_answer", details: details) }
        if !FormatText.isBlank(bytes[close.range.upperBound...]) { return .fail("text_after_answer", details: details) }
        let text = FormatText.string(answer).trimmed()
        details["answer_chars"] = .int(text.unicodeScalars.count)
        details["answer"] = .string(RegexVerifier.clip(text))
        return .pass("well_formed", details: details)
    }

    /// Whether a chat template left `<think>` open at the end of the prompt.
    static func promptOpensThink(_ prompt: String?, tag: String) -> Bool {
        prompt?.endsWith(marker: "<\(tag)>") ?? false
    }
}

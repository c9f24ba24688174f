// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore

/// `language`: DeepSeek-R1's language-consistency reward, the share of the chain of thought's words that are in the
/// target language.
///
/// The span (`think` by default) is cleared of code, math, URLs and tags (`ProseFilter`), split into units and
/// runs, and each run gets a language (`LanguageCounter`). The score is the target's share of the counted units;
/// `passed` when it reaches `threshold`. The target is the `target` option, else the reference (a language code),
/// else the language of the prompt. A prompt too short to tell its language from the fallback's (fewer than
/// ``promptWords`` words in its script) gets `fallback_target` unless its words rule that language out (posterior
/// under ``LanguageCounter/targetPlausibility``); so does a prompt without words, or no prompt. With
/// `fallback_target` empty those are `invalid_reference` (no prompt, no words) or the identifier's guess (short).
public struct LanguageConsistencyVerifier: Verifier, SynchronousVerifier {
    /// Options of ``LanguageConsistencyVerifier``.
    public struct Configuration: VerifierConfiguration {
        let span: ThinkSpan
        /// The target language's index, when set by option.
        public let target: Int?
        /// The share at which a sample passes.
        public let threshold: Double
        /// The target's index when the prompt cannot give it (none, no words, too short); `nil`: none.
        public let fallback: Int?

        public static let options: [OptionSpec] = [
            OptionSpec(
                "span", .string(choices: ThinkSpan.allCases.map(\.rawValue)), default: .string("think"),
                "think: the <think> block (the whole response when there is none); answer: what follows </think>; all: everything."),
            OptionSpec(
                "target", .string(choices: []), default: .string(""),
                "ISO 639-1 code of the target language; empty: the reference, else the prompt's language."),
            OptionSpec(
                "threshold", .number(0...1), default: .double(0.95), "Share of target-language units needed to pass."),
            OptionSpec(
                "fallback_target", .string(choices: []), default: .string("en"),
                "ISO 639-1 code of the target when the prompt is missing, has no words, or is too short to identify (fewer than 7 words, unless they rule this language out); empty: no fallback."),
        ]

        public init(options: OptionValues) throws {
            span = ThinkSpan(rawValue: options.string("span")) ?? .think
            let code = options.string("target")
            target = code.isEmpty ? nil : try LanguageCodes.indices([code], option: "target").first
            threshold = options.double("threshold")
            let fallbackCode = options.string("fallback_target")
            fallback = fallbackCode.isEmpty ? nil : try LanguageCodes.indices([fallbackCode], option: "fallback_target").first
        }
    }

    public static let name = "language"
    public static let summary = "Language consistency (DeepSeek-R1): the share of the chain of thought's words in the target language."

    private let configuration: Configuration
    private let identifier = LanguageIdentifier()

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    public func verify(_ sample: Sample) throws -> Verdict {
        let (target, source) = try self.target(sample)
        let model = identifier.model
        let text = configuration.span.text(of: sample.response, prompt: sample.prompt)
        let counts = LanguageCounter(identifier: identifier).count(ProseFilter.prose(String(text)), target: target)
        let code = model.languages[target]
        var perLanguage = JSONObject()
        for (language, units) in counts.counts.sorted(by: { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }) {
            perLanguage[language] = .int(units)
        }
        var details: JSONObject = [
            "target": .string(code), "target_from": .string(source), "span": .string(configuration.span.rawValue),
            "counts": .object(perLanguage), "units": .int(counts.total), "neutral_units": .int(counts.neutral),
        ]
        guard counts.total > 0 else { return .fail("no_words", details: details) }
        let share = Double(counts.counts[code] ?? 0) / Double(counts.total)
        details["share"] = .double(LanguageIDVerifier.rounded(share))
        let passed = share >= configuration.threshold
        return Verdict(score: share, passed: passed, reason: passed ? "consistent" : "mixed", details: details)
    }

    /// Below this many words (of two letters or more) in its script, a prompt's language is not told apart from
    /// the fallback by the n-gram models: on 252 English prompts and sentences cut to 1 to 6 words, 66 %, 83 %, 92 %,
    /// 96 %, 96 % and 99.4 % were identified as English (`Compute …` as Romanian, `Integrate …` as German); from 7
    /// words on, all of them (docs/decisions.md, session 30).
    static let promptWords = 7

    /// The target language and where it came from: `option`, `reference`, `prompt` or `fallback`.
    private func target(_ sample: Sample) throws -> (Int, String) {
        if let target = configuration.target { return (target, "option") }
        if let code = try LanguageCodes.reference(sample.reference) {
            return (LanguageModel.codes.firstIndex(of: code)!, "reference")
        }
        let fallback = configuration.fallback
        guard let prompt = sample.prompt else {
            if let fallback { return (fallback, "fallback") }
            throw ArbiterError(
                .invalidReference,
                "language needs a target: set option 'target', send a language code as the reference, or send the prompt")
        }
        let model = identifier.model
        guard let (words, indices, script) = identifier.dominantWords(of: ProseFilter.prose(prompt)),
            let found = identifier.identify(words, indices: indices, script: script, candidates: []),
            let index = model.index(of: found.language)
        else {
            if let fallback { return (fallback, "fallback") }
            throw ArbiterError(
                .invalidReference,
                "the prompt has no words to infer the target language from: set option 'target' or send it as the reference")
        }
        // A short prompt of a shared script: the fallback unless its words rule it out (`Calculez la somme.` stays
        // French; `Compute $\dbinom{8}{4}$.` is not Romanian). Han and Kana are decided by script, not n-grams.
        if let fallback, index != fallback, script != .han,
            indices.filter({ LanguageCounter.counts(words.words[$0]) }).count < Self.promptWords
        {
            let allowed = model.languages(writtenIn: script)
            let posterior = identifier.posterior(
                of: fallback, scores: identifier.scores(words, indices: indices), allowed: allowed)
            if posterior >= LanguageCounter.targetPlausibility { return (fallback, "fallback") }
        }
        return (index, "prompt")
    }
}

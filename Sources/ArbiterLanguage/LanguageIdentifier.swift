// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import Foundation

/// The language of a text, as ``LanguageIdentifier`` decides it.
public struct Identification: Sendable, Equatable {
    /// The ISO 639-1 code.
    public var language: String
    /// The model's posterior for it, 0…1 (1 when the script alone decides).
    public var confidence: Double
    /// The next most likely language, if another was in the running.
    public var runnerUp: String?
    /// The runner-up's posterior.
    public var runnerUpConfidence: Double
    /// The script the decision was made on.
    public var script: Script
}

/// Identifies languages: first the script (from the letters' code points), then, for scripts several languages
/// share, the sum of two naive-Bayes log-likelihoods: character 1- to 3-grams from Wikipedia (``LanguageModel``) and
/// byte 1- to 4-grams from mixed domains (``ByteNgramModel``). Each alone errs on short texts where the other
/// does not (Spanish and Portuguese, Dutch and English); their unweighted product is the decision.
///
/// Han with Kana making up a fifth of the Han and Kana is Japanese, Han alone (or nearly) Chinese, Hangul Korean. A text mixing scripts is judged on its dominant
/// one, a non-Latin script winning once it holds a third of the (weighted) letters, so that English technical
/// terms do not outvote the Hindi or Chinese around them; the n-gram vote then reads only that script's words.
public struct LanguageIdentifier: Sendable {
    /// Which models' scores are added (both in use; one alone to measure what the other adds).
    enum Evidence: Sendable {
        case characters, bytes, both
    }

    private let custom: LanguageModel?
    let evidence: Evidence

    /// The character model it uses (its language list and scripts hold even when its scores are not used); the
    /// shipped one is read on first use, not when a verifier is configured, so that commands which never identify a
    /// language do not pay for loading it.
    public var model: LanguageModel { custom ?? LanguageModel.shared }
    /// The byte model whose scores are added, if any.
    var byteModel: ByteNgramModel? { evidence == .characters ? nil : ByteNgramModel.shared }
    /// Scores are divided by this before the softmax that turns them into posteriors: each character takes part in
    /// three n-grams of the character model or up to four of the byte model, which naive Bayes wrongly counts as
    /// independent evidence, and the two models read the same characters. With both models it is doubled, so that
    /// a posterior is the geometric mean of the two models' tempered posteriors.
    var temperature: Float { evidence == .both ? 6 : 3 }

    /// An identifier on a model.
    /// - Parameter model: A character model, used alone; `nil` for the two shipped ones together.
    public init(model: LanguageModel? = nil) {
        self.custom = model
        self.evidence = model == nil ? .both : .characters
    }

    /// An identifier on the shipped models, or on one of them.
    init(evidence: Evidence) {
        self.custom = nil
        self.evidence = evidence
    }

    /// The language of a text.
    /// - Parameters:
    ///   - text: Any text; only its letters are read.
    ///   - candidates: When not empty, the indices of the only languages that may be chosen.
    /// - Returns: The decision, or `nil` when the text has no letters or only letters of a script no language of
    ///   the model (or of the candidates) is written in.
    public func identify(_ text: String, candidates: Set<Int> = []) -> Identification? {
        guard let (words, indices, script) = dominantWords(of: text) else { return nil }
        return identify(words, indices: indices, script: script, candidates: candidates)
    }

    /// A text's words, the indices of those of its dominant script (Han and Kana together), and that script: what
    /// ``identify(_:candidates:)`` decides on; `nil` for a text without letters.
    func dominantWords(of text: String) -> (words: Words, indices: [Int], script: Script)? {
        let words = Words(text)
        guard let script = dominantScript(words.words) else { return nil }
        return (words, words.words.indices.filter { Self.group(words.words[$0].script) == script }, script)
    }

    /// The language of some of a text's words, all of one script (or all Han and Kana).
    func identify(_ words: Words, indices: [Int], script: Script, candidates: Set<Int>) -> Identification? {
        let model = self.model
        if script.isSinoJapanese {
            // Japanese when Kana make up at least a fifth of the Han and Kana (the consistency counter's sentence
            // rule; kanji-heavy Japanese such as `東京都の人口は約千四百万人です。` has a quarter): Chinese with a Kana
            // dropped in (`…没有问题。の`) is not Japanese.
            var kanaUnits = 0
            var allUnits = 0
            for index in indices {
                let word = words.words[index]
                allUnits += word.units
                if word.script != .han { kanaUnits += word.units }
            }
            let kana = kanaUnits > 0 && Double(kanaUnits) >= LanguageCounter.japaneseSentenceKana * Double(allUnits)
            if let decided = sinoJapanese(kana: kana, candidates: candidates) { return decided }
        }
        var allowed = model.languages(writtenIn: script)
        if !candidates.isEmpty {
            allowed = allowed.filter(candidates.contains)
            if allowed.isEmpty { allowed = candidates.sorted() }
        }
        guard !allowed.isEmpty else { return nil }
        if allowed.count == 1 {
            return Identification(
                language: model.languages[allowed[0]], confidence: 1, runnerUp: nil, runnerUpConfidence: 0, script: script)
        }
        let scores = self.scores(words, indices: indices)
        return decide(scores: scores, allowed: allowed, script: script)
    }

    /// Each language's log-likelihood (up to a shared constant) from the n-grams of the given words: the character
    /// model's plus, when there is one, the byte model's.
    func scores(_ words: Words, indices: [Int]) -> [Float] {
        let model = self.model
        var scores = evidence == .bytes ? [Float](repeating: 0, count: model.languages.count) : model.priors
        if let byteModel {
            for language in scores.indices { scores[language] += byteModel.priors[language] }
            let bytes = words.utf8(of: indices)
            bytes.withUnsafeBufferPointer { bytes in
                scores.withUnsafeMutableBufferPointer { byteModel.accumulate(bytes, into: $0.baseAddress!) }
            }
        }
        guard evidence != .bytes else { return scores }
        words.scalars.withUnsafeBufferPointer { scalars in
            scores.withUnsafeMutableBufferPointer { buffer in
                let out = buffer.baseAddress!
                for index in indices {
                    let range = words.words[index].range
                    var previous: UInt32 = 0x20
                    var beforePrevious: UInt32 = 0
                    for position in range.lowerBound...range.upperBound {
                        let current = position < range.upperBound ? scalars[position] : 0x20
                        if current != 0x20 { model.accumulate(LanguageModel.key(current), into: out) }
                        model.accumulate(LanguageModel.key(previous, current), into: out)
                        if beforePrevious != 0 {
                            model.accumulate(LanguageModel.key(beforePrevious, previous, current), into: out)
                        }
                        beforePrevious = previous
                        previous = current
                    }
                }
            }
        }
        return scores
    }

    /// The best of the allowed languages, with posteriors from a tempered softmax of their scores.
    func decide(scores: [Float], allowed: [Int], script: Script) -> Identification {
        let model = self.model
        let ranked = allowed.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
        let best = scores[ranked[0]]
        let weights = ranked.map { Double(exp((scores[$0] - best) / temperature)) }
        let total = weights.reduce(0, +)
        return Identification(
            language: model.languages[ranked[0]], confidence: weights[0] / total,
            runnerUp: ranked.count > 1 ? model.languages[ranked[1]] : nil,
            runnerUpConfidence: ranked.count > 1 ? weights[1] / total : 0, script: script)
    }

    /// The posterior of one language among the allowed ones (0 when it is not allowed).
    func posterior(of language: Int, scores: [Float], allowed: [Int]) -> Double {
        guard allowed.contains(language), let best = allowed.map({ scores[$0] }).max() else { return 0 }
        let total = allowed.reduce(0.0) { $0 + Double(exp((scores[$1] - best) / temperature)) }
        return Double(exp((scores[language] - best) / temperature)) / total
    }

    /// Japanese when there is Kana, else Chinese, within the candidates.
    private func sinoJapanese(kana: Bool, candidates: Set<Int>) -> Identification? {
        let preferred = kana ? ["ja", "zh"] : ["zh", "ja"]
        let model = self.model
        for code in preferred {
            guard let index = model.index(of: code), candidates.isEmpty || candidates.contains(index) else { continue }
            return Identification(language: code, confidence: 1, runnerUp: nil, runnerUpConfidence: 0, script: .han)
        }
        return nil
    }

    /// The script, with Kana counted as Han.
    static func group(_ script: Script) -> Script {
        script.isSinoJapanese ? .han : script
    }

    /// The script a text is judged on: the non-Latin script with the most weighted letters when it holds at least
    /// a third of them, else the script with the most. Han and Kana count together (as `.han`).
    func dominantScript(_ words: [Word]) -> Script? {
        var weights: [Script: Int] = [:]
        for word in words {
            weights[Self.group(word.script), default: 0] += word.script.letterWeight * word.range.count
        }
        let total = weights.values.reduce(0, +)
        guard total > 0 else { return nil }
        let ordered = weights.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key.rawValue < $1.key.rawValue }
        if let other = ordered.first(where: { $0.key != .latin }), other.value * 3 >= total { return other.key }
        return ordered[0].key
    }
}

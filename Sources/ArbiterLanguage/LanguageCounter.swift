// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

/// How many units of a text are in each language, as the `language` verifier counts them.
struct LanguageCounts: Equatable {
    /// Units per ISO 639-1 code (`und` for scripts no language of the model is written in).
    var counts: [String: Int] = [:]
    /// Units of short foreign runs inside target-language sentences, counted for no language.
    var neutral = 0

    /// All counted units.
    var total: Int { counts.values.reduce(0, +) }
}

/// Splits prose into runs — maximal stretches of words of one script within one sentence — and gives each run a
/// language.
///
/// Units: a word for scripts written with spaces, a character for Han, Kana, Thai, Lao, Khmer, Myanmar and Tibetan.
/// One-letter words of alphabets (`x`, `π`, `a`; not Hangul syllables) count for nothing: in a chain of thought they are mostly variables.
/// A run of a script only one language uses is that language (Greek, Hebrew, Thai, Hangul, …); Kana is Japanese, and
/// Han is Japanese in a sentence with Kana or when the target is Japanese, else Chinese. A run of a shared script
/// (Latin, Cyrillic, Arabic, Devanagari) of at least ``shortTargetRun`` words is identified by the n-gram model among
/// that script's languages, and is given to the target whenever the target's posterior is at least
/// ``targetPlausibility``: a reward should not punish English because one technical sentence reads a little like
/// Dutch. Shorter runs cannot be identified on their own (`Let me compute` reads as French to a 3-gram model): they
/// take the language of the nearest run of their script that was judged alone, or, when there is none, of all the
/// text's words in their script, decided the same way. Runs of fewer than
/// ``shortForeignRun`` units in a script other than the target's, inside a sentence written mostly in the target's
/// scripts (other scripts at most a third of its units: `API` in a Chinese sentence), count for nothing.
struct LanguageCounter {
    let identifier: LanguageIdentifier
    static let shortTargetRun = 5
    static let shortForeignRun = 3
    static let targetPlausibility = 0.01

    private struct Run {
        var script: Script
        var sentence: Int
        var clause: Int
        var words: [Int]
        var units: Int
    }

    /// Counts the units of a text by language.
    /// - Parameters:
    ///   - prose: Text already cleared of code, math and URLs.
    ///   - target: The index of the target language.
    /// - Returns: The counts.
    func count(_ prose: String, target: Int) -> LanguageCounts {
        var context = Context(words: Words(prose), target: target, model: identifier.model)
        let runs = Self.runs(context.words)
        var result = LanguageCounts()
        // First the runs that can be judged on their own, then the short runs, from their neighbours.
        var labels = [Label](repeating: .pending, count: runs.count)
        for (index, run) in runs.enumerated() {
            let inTargetScript = context.targetScripts.contains(run.script)
            if run.units < Self.shortForeignRun, !inTargetScript, context.isMostlyTarget(run.sentence) {
                labels[index] = .neutral
            } else if let language = ownLanguage(of: run, in: context) {
                labels[index] = .own(language)
            }
        }
        let neighbours = Self.neighbourLanguages(runs: runs, labels: labels)
        for (index, run) in runs.enumerated() {
            switch labels[index] {
            case .neutral: result.neutral += run.units
            case .own(let language): result.counts[language, default: 0] += run.units
            case .pending:
                let language = neighbours[index] ?? scriptLanguage(run.script, &context)
                result.counts[language, default: 0] += run.units
            }
        }
        return result
    }

    private enum Label {
        case pending, neutral, own(String)
    }

    /// What the decisions about one text share.
    private struct Context {
        let words: Words
        let target: Int
        let model: LanguageModel
        let targetScripts: Set<Script>
        /// Per sentence, the counted units in the target's scripts and in other scripts.
        var sentenceUnits: [Int: (target: Int, other: Int)] = [:]
        var kanaSentences = Set<Int>()
        /// The language of all of the text's words in a script, decided once per script when a short run needs it.
        var scriptLanguages: [Script: String] = [:]

        init(words: Words, target: Int, model: LanguageModel) {
            self.words = words
            self.target = target
            self.model = model
            targetScripts = Set(model.scripts[target].map(LanguageIdentifier.group))
            for word in words.words where LanguageCounter.counts(word) {
                if targetScripts.contains(LanguageIdentifier.group(word.script)) {
                    sentenceUnits[word.sentence, default: (0, 0)].target += word.units
                } else {
                    sentenceUnits[word.sentence, default: (0, 0)].other += word.units
                }
                if word.script == .hiragana || word.script == .katakana { kanaSentences.insert(word.sentence) }
            }
        }

        /// Whether a sentence is written mostly in the target's scripts: other scripts hold at most a third of its
        /// units, so that a word such as `API` in a Chinese sentence is an aside, while English words interleaved
        /// one by one with Chinese characters (`Let 我 me 们 compute`) are not.
        func isMostlyTarget(_ sentence: Int) -> Bool {
            guard let units = sentenceUnits[sentence], units.target > 0 else { return false }
            return units.other * 2 <= units.target
        }
    }

    /// The language of a run judged alone; `nil` for a short run of a shared script.
    private func ownLanguage(of run: Run, in context: Context) -> String? {
        let model = context.model
        if run.script == .han {
            // Han is Japanese in a sentence with Kana, or, for a Japanese target, in a text that has Kana somewhere:
            // a text of Han alone is Chinese whatever the target (`我们先计算总和` is not Japanese).
            let japaneseText = model.languages[context.target] == "ja" && !context.kanaSentences.isEmpty
            return context.kanaSentences.contains(run.sentence) || japaneseText ? "ja" : "zh"
        }
        let allowed = model.languages(writtenIn: run.script)
        if allowed.isEmpty { return "und" }
        if allowed.count == 1 { return model.languages[allowed[0]] }
        guard run.units >= Self.shortTargetRun else { return nil }
        return decide(run.words, in: context.words, allowed: allowed, target: context.target)
    }

    /// For each pending run, the language of the nearest run of the same script that was judged alone (the earlier
    /// one on a tie): one pass each way.
    private static func neighbourLanguages(runs: [Run], labels: [Label]) -> [String?] {
        var before = [(distance: Int, language: String)?](repeating: nil, count: runs.count)
        var after = before
        for order in [Array(runs.indices), runs.indices.reversed()] {
            var last: [Script: (index: Int, language: String)] = [:]
            for index in order {
                if case .own(let language) = labels[index] { last[runs[index].script] = (index, language) }
                guard case .pending = labels[index], let seen = last[runs[index].script] else { continue }
                let found = (distance: abs(index - seen.index), language: seen.language)
                if order.first == 0 { before[index] = found } else { after[index] = found }
            }
        }
        return zip(before, after).map { left, right in
            guard let left else { return right?.language }
            guard let right else { return left.language }
            return right.distance < left.distance ? right.language : left.language
        }
    }

    /// The language of all the text's counted words in a script, decided once.
    private func scriptLanguage(_ script: Script, _ context: inout Context) -> String {
        if let known = context.scriptLanguages[script] { return known }
        let model = context.model
        let allowed = model.languages(writtenIn: script)
        let words = context.words.words
        let all = words.indices.filter { LanguageIdentifier.group(words[$0].script) == script && Self.counts(words[$0]) }
        let decided = decide(all, in: context.words, allowed: allowed, target: context.target)
        context.scriptLanguages[script] = decided
        return decided
    }

    /// The language of some words among the allowed ones: the target when it keeps at least
    /// ``targetPlausibility`` of the posterior, else the most likely.
    private func decide(_ indices: [Int], in words: Words, allowed: [Int], target: Int) -> String {
        let scores = identifier.scores(words, indices: indices)
        if identifier.posterior(of: target, scores: scores, allowed: allowed) >= Self.targetPlausibility {
            return identifier.model.languages[target]
        }
        // The most likely: the highest score (the lower index on a tie).
        let best = allowed.max { (scores[$0], -$0) < (scores[$1], -$1) }!
        return identifier.model.languages[best]
    }

    /// Whether a word counts: one-letter words of alphabets do not (a Hangul syllable is a whole word).
    static func counts(_ word: Word) -> Bool {
        word.script.countsCharacters || word.script == .hangul || word.range.count > 1
    }

    private static func runs(_ words: Words) -> [Run] {
        var runs: [Run] = []
        for (index, word) in words.words.enumerated() where counts(word) {
            let script = LanguageIdentifier.group(word.script)
            // Runs end at clause boundaries too: "Nous calculons la somme des nombres, and then we check" is a French
            // run and an English one, not one Latin run that the target wins at 1 % posterior.
            if let last = runs.last, last.script == script, last.sentence == word.sentence, last.clause == word.clause {
                // In place: a copy of the last run appended to and stored back copies its word list every time.
                runs[runs.count - 1].words.append(index)
                runs[runs.count - 1].units += word.units
            } else {
                runs.append(
                    Run(script: script, sentence: word.sentence, clause: word.clause, words: [index], units: word.units))
            }
        }
        return runs
    }
}

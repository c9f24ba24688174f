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
/// (Latin, Cyrillic, Arabic, Devanagari) is identified by the n-gram model among that script's languages, and is
/// given to the target whenever the target's posterior is at least ``targetPlausibility``: a reward should not
/// punish English because one technical sentence reads a little like Dutch. Short runs cannot be identified
/// reliably: in the target's script, runs of fewer than ``shortTargetRun`` units count for the target (`Let me
/// compute` reads as French to a 3-gram model); in another script, runs of fewer than ``shortForeignRun`` units
/// inside a sentence that has target-script words (`API` in a Chinese sentence) count for nothing, and standing
/// alone they are identified like any run.
struct LanguageCounter {
    let identifier: LanguageIdentifier
    static let shortTargetRun = 5
    static let shortForeignRun = 3
    static let targetPlausibility = 0.01

    private struct Run {
        var script: Script
        var sentence: Int
        var words: [Int]
        var units: Int
    }

    /// Counts the units of a text by language.
    /// - Parameters:
    ///   - prose: Text already cleared of code, math and URLs.
    ///   - target: The index of the target language.
    /// - Returns: The counts.
    func count(_ prose: String, target: Int) -> LanguageCounts {
        let words = Words(prose)
        let runs = Self.runs(words)
        let model = identifier.model
        let targetScripts = Set(model.scripts[target].map(LanguageIdentifier.group))
        var sentenceScripts: [Int: Set<Script>] = [:]
        var kanaSentences = Set<Int>()
        for word in words.words where Self.counts(word) {
            sentenceScripts[word.sentence, default: []].insert(LanguageIdentifier.group(word.script))
            if word.script == .hiragana || word.script == .katakana { kanaSentences.insert(word.sentence) }
        }
        var result = LanguageCounts()
        for run in runs {
            let inTargetScript = targetScripts.contains(run.script)
            if run.units < Self.shortForeignRun, !inTargetScript,
                sentenceScripts[run.sentence].map({ !$0.isDisjoint(with: targetScripts) }) ?? false
            {
                result.neutral += run.units
                continue
            }
            let language = self.language(
                of: run, in: words, target: target, inTargetScript: inTargetScript,
                kana: kanaSentences.contains(run.sentence))
            result.counts[language, default: 0] += run.units
        }
        return result
    }

    private func language(of run: Run, in words: Words, target: Int, inTargetScript: Bool, kana: Bool) -> String {
        let model = identifier.model
        if run.script == .han {
            return kana || model.languages[target] == "ja" ? "ja" : "zh"
        }
        let allowed = model.languages.indices.filter { model.scripts[$0].contains(run.script) }
        if allowed.isEmpty { return "und" }
        if allowed.count == 1 { return model.languages[allowed[0]] }
        if inTargetScript, run.units < Self.shortTargetRun { return model.languages[target] }
        let scores = identifier.scores(words, indices: run.words)
        let posteriors = identifier.posteriors(scores: scores, allowed: allowed)
        if inTargetScript, (posteriors[target] ?? 0) >= Self.targetPlausibility { return model.languages[target] }
        let best = allowed.max { (posteriors[$0] ?? 0, -$0) < (posteriors[$1] ?? 0, -$1) }!
        return model.languages[best]
    }

    /// Whether a word counts: one-letter words of alphabets do not (a Hangul syllable is a whole word).
    private static func counts(_ word: Word) -> Bool {
        word.script.countsCharacters || word.script == .hangul || word.range.count > 1
    }

    private static func runs(_ words: Words) -> [Run] {
        var runs: [Run] = []
        for (index, word) in words.words.enumerated() where counts(word) {
            let script = LanguageIdentifier.group(word.script)
            if var last = runs.last, last.script == script, last.sentence == word.sentence {
                last.words.append(index)
                last.units += word.units
                runs[runs.count - 1] = last
            } else {
                runs.append(Run(script: script, sentence: word.sentence, words: [index], units: word.units))
            }
        }
        return runs
    }
}

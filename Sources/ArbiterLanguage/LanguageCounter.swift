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
/// Han is Japanese in a sentence whose Kana make up at least a fifth of its Han and Kana, or, when the target is
/// Japanese, in a text whose Kana make up at least a third of them; else Chinese. A run of a shared script
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
    /// Below these posteriors for the language a short run would inherit, the run is given its own most likely
    /// language: one for runs of two words, one for runs of three or four. Among 1,947 pieces of 2 to 4 words cut
    /// from English sentences and chains of thought, the lowest English posterior of a two-word piece is 0.008
    /// (names: `Cauchy Schwarz`, `irreducible Eisenstein`) and of a longer one 0.048; below the thresholds fall 40 %
    /// of French two-word pieces and 88 % and 97 % of three- and four-word ones.
    static let shortRunImplausibility = (twoWords: 0.003, longer: 0.02)
    /// The posterior a short run's own most likely language needs to take the run. Of 1,964 runs of 2 to 4 words
    /// in the fixtures' sentences of other languages, 17 pass the thresholds above, mostly on names (`Stripe
    /// Connect` as French at 0.52, `euro eller petro dollar` as Italian); 3 of them reach 0.7, two being English
    /// (`Python bindings for PostgreSQL`). French pieces of 2, 3 and 4 words still taken: 36 %, 77 %, 94 %.
    static let shortRunClearWinner = 0.7
    /// The share of a sentence's Han and Kana that Kana must make up for its Han to be Japanese. Japanese prose is
    /// mostly Kana: in the 218 Japanese sentences of the language fixtures the lowest share is 38 % (median 76 %);
    /// a kanji-heavy line of mathematics such as `二次方程式の解の公式` has 20 %.
    static let japaneseSentenceKana = 0.2
    /// The share of a whole text's Han and Kana that Kana must make up for its Han-only sentences (`結論`) to be
    /// Japanese under a Japanese target: the lowest among the fixtures' 160 Japanese texts is 47 %.
    static let japaneseTextKana = 1.0 / 3.0

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
                let inherited = neighbours[index] ?? scriptLanguage(run.script, &context)
                let language = clearLanguage(of: run, against: inherited, in: context) ?? inherited
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
        /// Sentences whose Kana make up at least ``LanguageCounter/japaneseSentenceKana`` of their Han and Kana.
        var japaneseSentences = Set<Int>()
        /// Whether Kana make up at least ``LanguageCounter/japaneseTextKana`` of the text's Han and Kana.
        var japaneseText = false
        /// The language of all of the text's words in a script, decided once per script when a short run needs it.
        var scriptLanguages: [Script: String] = [:]

        init(words: Words, target: Int, model: LanguageModel) {
            self.words = words
            self.target = target
            self.model = model
            targetScripts = Set(model.scripts[target].map(LanguageIdentifier.group))
            var han: [Int: Int] = [:]
            var kana: [Int: Int] = [:]
            for word in words.words {
                if word.script == .han { han[word.sentence, default: 0] += word.units }
                if word.script == .hiragana || word.script == .katakana { kana[word.sentence, default: 0] += word.units }
                guard LanguageCounter.counts(word) else { continue }
                if targetScripts.contains(LanguageIdentifier.group(word.script)) {
                    sentenceUnits[word.sentence, default: (0, 0)].target += word.units
                } else {
                    sentenceUnits[word.sentence, default: (0, 0)].other += word.units
                }
            }
            for (sentence, count) in kana
            where Double(count) >= LanguageCounter.japaneseSentenceKana * Double(count + (han[sentence] ?? 0)) {
                japaneseSentences.insert(sentence)
            }
            let allKana = kana.values.reduce(0, +)
            let allHan = han.values.reduce(0, +)
            japaneseText = allKana > 0 && Double(allKana) >= LanguageCounter.japaneseTextKana * Double(allKana + allHan)
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
            // Han is Japanese in a sentence written with enough Kana, or, for a Japanese target, in a text written
            // with enough Kana: a text of Han alone is Chinese whatever the target (`我们先计算总和` is not Japanese),
            // and so is Chinese with a Kana or a few dropped in (`…没有问题。の`).
            let japaneseText = model.languages[context.target] == "ja" && context.japaneseText
            return context.japaneseSentences.contains(run.sentence) || japaneseText ? "ja" : "zh"
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

    /// The most likely language of a short run of two words or more whose inherited language is ruled out by its own
    /// words (posterior under ``shortRunImplausibility``) and which the models clearly place elsewhere (posterior at
    /// least ``shortRunClearWinner``): `Il est pair` between English sentences is not English. One word (a name,
    /// `OK`), runs that merely lean elsewhere (`Let me compute`) and runs no language clearly claims (`Stripe
    /// Connect`) keep the inherited language.
    private func clearLanguage(of run: Run, against inherited: String, in context: Context) -> String? {
        guard run.words.count >= 2, let inheritedIndex = context.model.index(of: inherited) else { return nil }
        let allowed = context.model.languages(writtenIn: run.script)
        guard allowed.count > 1, allowed.contains(inheritedIndex) else { return nil }
        let scores = identifier.scores(context.words, indices: run.words)
        let bar = run.words.count == 2 ? Self.shortRunImplausibility.twoWords : Self.shortRunImplausibility.longer
        guard identifier.posterior(of: inheritedIndex, scores: scores, allowed: allowed) < bar else { return nil }
        let best = identifier.decide(scores: scores, allowed: allowed, script: run.script)
        return best.confidence >= Self.shortRunClearWinner ? best.language : nil
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

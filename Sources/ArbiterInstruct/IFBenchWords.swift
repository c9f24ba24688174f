// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore

extension IFBenchInstructions {
    static let consonants = ScalarSet("bcdfghjklmnpqrstvwxyz".unicodeScalars)

    // MARK: words:

    static let words: [(String, InstructionBuilder)] = [
        ("words:alphabet", plain(alphabet)),
        (
            "words:vowel",
            plain { text in
                let lines = Py.split(Py.strip(text.scalars), separator: ["\n"])
                guard lines.count == 1 else { return .no("\(lines.count) lines, needs one paragraph") }
                let vowels = Set(Py.lower(lines[0]).filter { "aeiou".unicodeScalars.contains($0) })
                return .when(vowels.count <= 3, "\(vowels.count) different vowels, needs at most 3")
            }
        ),
        (
            "words:consonants",
            plain { text in
                let consonants = Self.consonants
                for word in Py.split(Py.strip(Py.lower(text.scalars))) {
                    let cluster = zip(word, word.dropFirst()).contains { consonants.contains($0) && consonants.contains($1) }
                    if !cluster { return .no("'\(Py.string(word.prefix(30)))' has no consonant cluster") }
                }
                return .ok("every word has a consonant cluster")
            }
        ),
        (
            "words:palindrome",
            plain { text in
                let words = Py.split(Py.lower(Py.removingPunctuation(text.scalars)))
                let count = words.filter { $0.count >= 5 && $0 == $0.reversed() }.count
                return .when(count >= 10, "\(count) palindromes of 5+ letters, needs at least 10")
            }
        ),
        (
            "words:prime_lengths",
            plain { text in
                let primes: Set<Int> = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97]
                for word in Py.split(Py.removingPunctuation(text.scalars)) where !primes.contains(word.count) {
                    return .no("'\(Py.string(word.prefix(30)))' has \(word.count) letters, not a prime")
                }
                return .ok("every word has a prime length")
            }
        ),
        (
            "words:start_verb",
            { (kwargs: inout Kwargs) throws(ArbiterError) in
                throw kwargs.error(
                    "needs a part-of-speech tagger (NLTK's averaged perceptron), which Arbiter does not have; it is never judged, so it can never pass"
                )
            }
        ),
        (
            "words:repeats",
            { (kwargs: inout Kwargs) throws(ArbiterError) in
                let limit = try kwargs.int("small_n", min: 0)
                return Check { text in
                    let words = Py.split(Py.removingPunctuation(Py.lower(text.scalars)))
                    var counts: [Scalars: Int] = [:]
                    for word in words { counts[word, default: 0] += 1 }
                    // The word named is the first in the text among the most repeated (not the table's hash order,
                    // which changes from run to run).
                    var worst: (word: Scalars, count: Int)? = nil
                    for word in words {
                        let count = counts[word] ?? 0
                        if count > (worst?.count ?? 0) { worst = (word, count) }
                    }
                    if let worst, worst.count > limit {
                        return .no("'\(Py.string(worst.word.prefix(30)))' appears \(worst.count) times, at most \(limit) allowed")
                    }
                    return .ok("no word appears more than \(limit) times")
                }
            }
        ),
        (
            "words:odd_even_syllables",
            plain { text in
                let words = Py.split(Py.lower(Py.removingPunctuation(text.scalars)))
                // Counted word by word up to the first pair of the same parity (no word after it is counted).
                var previous: Int?
                for index in words.indices {
                    let parity = Syllables.count(words[index]) % 2
                    if parity == previous {
                        return .no("'\(Py.string(words[index - 1]))' and '\(Py.string(words[index]))' have syllable counts of the same parity")
                    }
                    previous = parity
                }
                return .ok("syllable counts alternate odd and even")
            }
        ),
        (
            "words:last_first",
            plain { text in
                let sentences = Sentences.pieces(text.string)
                for index in sentences.ranges.indices.dropLast() {
                    let current = Py.split(Py.rstrip(sentences.scalars(index), punctuationAndSpace))
                    let next = Py.split(Py.lstrip(sentences.scalars(index + 1), punctuationAndSpace))
                    guard let last = current.last, let first = next.first else { return .no("an empty sentence") }
                    if Py.lower(last) != Py.lower(first) {
                        return .no("sentence \(index + 2) starts with '\(Py.string(first))', not '\(Py.string(last))'")
                    }
                }
                return .ok("each sentence starts with the previous one's last word")
            }
        ),
        (
            "words:paragraph_last_first",
            plain { text in
                for line in Py.split(text.scalars, separator: ["\n"]) {
                    let paragraph = Py.lower(Py.strip(line))
                    let words = Py.split(trimmed(paragraph))
                    guard let first = words.first, let last = words.last else { continue }
                    if first != last { return .no("a paragraph starts with '\(Py.string(first))' and ends with '\(Py.string(last))'") }
                }
                return .ok("every paragraph starts and ends with the same word")
            }
        ),
        (
            "words:no_consecutive",
            plain { text in
                let words = Py.split(Py.removingPunctuation(Py.lower(text.scalars)))
                for index in words.indices.dropLast() where words[index][0] == words[index + 1][0] {
                    return .no("'\(Py.string(words[index]))' and '\(Py.string(words[index + 1]))' start with the same letter")
                }
                return .ok("no two consecutive words share a first letter")
            }
        ),
        (
            "words:keywords_specific_position",
            { (kwargs: inout Kwargs) throws(ArbiterError) in
                let keyword = Py.string(Py.strip(try kwargs.string("keyword").unicodeScalars))
                let sentence = try kwargs.int("n", min: 1)
                let position = try kwargs.int("m", min: 1)
                return Check { text in
                    let sentences = Sentences.pieces(text.string)
                    guard sentences.count >= sentence else { return .no("\(sentences.count) sentences, needs at least \(sentence)") }
                    let words = Sentences.wordTokens(sentences.scalars(sentence - 1))
                    guard words.count >= position else { return .no("sentence \(sentence) has \(words.count) words") }
                    return .when(
                        words[position - 1] == keyword,
                        "word \(position) of sentence \(sentence) is '\(words[position - 1])', needs '\(keyword)'")
                }
            }
        ),
        (
            "words:words_position",
            { (kwargs: inout Kwargs) throws(ArbiterError) in
                let keyword = Py.string(Py.strip(try kwargs.string("keyword").unicodeScalars))
                return Check { text in
                    let words = Sentences.wordTokens(text.scalars)
                    guard words.count >= 2 else { return .no("fewer than 2 words") }
                    return .when(
                        words[1] == keyword && words[words.count - 2] == keyword,
                        "second word '\(words[1])', second to last '\(words[words.count - 2])', needs '\(keyword)'")
                }
            }
        ),
    ]

    static func alphabet(_ text: Text) -> Outcome {
        let value = Py.removingPunctuation(text.scalars)
        let words = Py.split(trimmed(value))
        guard let first = words.first else { return .no("no words") }
        let start = Py.lower([first[0]])
        guard start.count == 1, start[0].value >= 0x61, start[0].value <= 0x7A else {
            return .no("the first word does not start with a letter a-z")
        }
        var letter = start[0].value
        for word in words.dropFirst() {
            let low = Py.lower(trimmed(word))
            guard let head = low.first else { continue }
            letter = letter == 0x7A ? 0x61 : letter + 1
            if head.value != letter {
                return .no("'\(Py.string(word.prefix(30)))' should start with '\(Character(Unicode.Scalar(letter)!))'")
            }
        }
        return .ok("words follow the alphabet")
    }

    // MARK: sentence:

    static let sentences: [(String, InstructionBuilder)] = [
        (
            "sentence:alliteration_increment",
            plain { text in
                var previous = -1
                let sentences = Sentences.pieces(text.string)
                for index in 0..<sentences.count {
                    let words = Py.split(Py.lower(sentences.scalars(index))).map { Py.lstrip($0, punctuationAndSpace) }
                        .filter { !$0.isEmpty }
                    var alliteration = 0
                    var chained = false
                    for position in words.indices.dropLast() {
                        if words[position][0] == words[position + 1][0] {
                            alliteration += chained ? 1 : 2
                            chained = true
                        } else {
                            chained = false
                        }
                    }
                    if alliteration <= previous {
                        return .no("sentence \(index + 1) has \(alliteration) alliterating words, the one before \(previous)")
                    }
                    previous = alliteration
                }
                return .ok("alliteration grows sentence by sentence")
            }
        ),
        (
            "sentence:keyword",
            { (kwargs: inout Kwargs) throws(ArbiterError) in
                let keyword = try kwargs.string("word")
                let position = try kwargs.int("N", min: 0)
                let low = Py.lower(keyword)
                return Check { text in
                    let sentences = Sentences.pieces(text.string)
                    guard sentences.count >= position, !sentences.isEmpty else {
                        return .no("\(sentences.count) sentences, needs at least \(position)")
                    }
                    let sentence = sentences.scalars(position == 0 ? sentences.count - 1 : position - 1)
                    let found = Py.contains(low, in: Py.lower(sentence))
                    return .when(found, "sentence \(position) \(found ? "contains" : "lacks") '\(keyword)'")
                }
            }
        ),
        (
            "sentence:increment",
            { (kwargs: inout Kwargs) throws(ArbiterError) in
                let step = try kwargs.int("small_n", min: 0)
                return Check { text in
                    let sentences = Sentences.pieces(text.string)
                    let counts = sentences.ranges.indices.map {
                        Py.splitCount(Py.strip(Py.removingPunctuation(sentences.scalars($0))))
                    }
                    guard var previous = counts.first else { return .no("no sentences") }
                    for (index, count) in counts.enumerated().dropFirst() {
                        if count != previous + step {
                            return .no("sentence \(index + 1) has \(count) words, needs \(previous + step)")
                        }
                        previous = count
                    }
                    return .ok("each sentence has \(step) more words than the one before")
                }
            }
        ),
    ]
}

/// Syllables as syllapy counts them: its dictionary's count where the dictionary differs from its rule
/// (``exceptions``), else the rule — vowel groups (`aeiouy`), less a final silent `e`, plus one for a final
/// consonant + `le`, at least one; a word with a digit has none; a hyphenated word is the sum of its parts.
enum Syllables {
    static let vowels: ScalarSet = ["a", "e", "i", "o", "u", "y"]

    static func count(_ raw: Scalars) -> Int {
        let word = Py.strip(Py.lower(Py.strip(raw)), asciiPunctuationSet)
        // An ASCII scalar is a decimal digit exactly when it is 0-9 (no lookup of its properties).
        guard !word.isEmpty,
            !word.contains(where: { $0.value < 0x80 ? (0x30...0x39).contains($0.value) : $0.properties.numericType == .decimal })
        else { return 0 }
        if let listed = exceptions[String(String.UnicodeScalarView(word))] { return listed }
        if let dash = word.firstIndex(of: "-"), dash > 0, dash < word.count - 1 {
            let first = count(Array(word[..<dash]))
            let second = count(Array(word[(dash + 1)...]))
            return first == 0 || second == 0 ? 0 : first + second
        }
        let vowels = Self.vowels
        var syllables = vowels.contains(word[0]) ? 1 : 0
        for index in word.indices.dropFirst() where vowels.contains(word[index]) && !vowels.contains(word[index - 1]) {
            syllables += 1
        }
        if word.last == "e" { syllables -= 1 }
        if Py.hasSuffix(word, ["l", "e"]), word.count > 2, !vowels.contains(word[word.count - 3]) { syllables += 1 }
        return max(syllables, 1)
    }
}

/// NLTK's English stop-word list (the 179 words of its `stopwords` corpus, from which the ones with apostrophes can
/// never match a `\w+` token).
enum StopWords {
    static let english: Set<String> = Set(
        """
        i me my myself we our ours ourselves you you're you've you'll you'd your yours yourself yourselves he him his \
        himself she she's her hers herself it it's its itself they them their theirs themselves what which who whom \
        this that that'll these those am is are was were be been being have has had having do does did doing a an the \
        and but if or because as until while of at by for with about against between into through during before after \
        above below to from up down in out on off over under again further then once here there when where why how all \
        any both each few more most other some such no nor not only own same so than too very s t can will just don \
        don't should should've now d ll m o re ve y ain aren aren't couldn couldn't didn didn't doesn doesn't hadn \
        hadn't hasn hasn't haven haven't isn isn't ma mightn mightn't mustn mustn't needn needn't shan shan't shouldn \
        shouldn't wasn wasn't weren weren't won won't wouldn wouldn't
        """.split(separator: " ").map(String.init))
}

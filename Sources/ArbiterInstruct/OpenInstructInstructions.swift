// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore

/// The 29 training constraints open-instruct adds to IFEval's (its `IFEvalG` registry, Apache-2.0).
enum OpenInstructInstructions {
    static let builders: [(String, InstructionBuilder)] = copying + keywords + formats + counting

    static let plain = IFBenchInstructions.plain

    /// A word kwarg that may also be given as a list (the reference then takes its first element).
    static func word(_ kwargs: inout Kwargs, _ name: String) throws(ArbiterError) -> String {
        if kwargs.has(name), let list = try? kwargs.strings(name) { return Py.string(Py.strip(list[0].unicodeScalars)) }
        return Py.string(Py.strip(try kwargs.string(name).unicodeScalars))
    }

    static func equalIgnoringCase(_ text: Scalars, _ target: Scalars) -> Bool {
        Py.lower(Py.strip(text)) == Py.lower(Py.strip(target))
    }

    // MARK: Copying

    static let copying: [(String, InstructionBuilder)] = [
        ("copy:repeat_phrase", repeatPhrase),
        (
            "copy:copy",
            { (kwargs: inout Kwargs) throws(ArbiterError) in
                let prompt = Array(try kwargs.promptToRepeat().unicodeScalars)
                return Check { text in .when(equalIgnoringCase(text.scalars, prompt), "the request copied verbatim") }
            }
        ),
        (
            "new:copy_span_idx",
            { (kwargs: inout Kwargs) throws(ArbiterError) in
                let prompt = Array(try kwargs.promptToRepeat().unicodeScalars)
                let start = try kwargs.int("n_start", min: 0)
                let end = try kwargs.int("n_end", min: 1)
                let low = min(start, prompt.count)
                let span = Array(prompt[low..<max(low, min(end, prompt.count))])
                return Check { text in
                    .when(equalIgnoringCase(text.scalars, span), "characters \(start) to \(end) of the request copied")
                }
            }
        ),
        (
            "copy:copying_simple",
            { (kwargs: inout Kwargs) throws(ArbiterError) in
                let prompt = Array(try kwargs.promptToRepeat().unicodeScalars)
                return Check { text in .when(equalIgnoringCase(text.scalars, prompt), "the request repeated unchanged") }
            }
        ),
        (
            "copy:copying_multiple",
            { (kwargs: inout Kwargs) throws(ArbiterError) in
                let prompt = Array(try kwargs.promptToRepeat().unicodeScalars)
                let times = try kwargs.int("N", min: 1)
                return Check { text in
                    let parts = Py.split(text.scalars, separator: Array("******".unicodeScalars))
                    guard parts.count == times else { return .no("\(parts.count) copies separated by ******, needs \(times)") }
                    return .when(parts.allSatisfy { equalIgnoringCase($0, prompt) }, "every copy must be the request unchanged")
                }
            }
        ),
    ]

    static let repeatPhrase: InstructionBuilder = { (kwargs: inout Kwargs) throws(ArbiterError) in
        let phrase = Py.split(Array(try kwargs.string("phrase").unicodeScalars))
        let times = try kwargs.int("small_n", min: 1)
        guard let first = phrase.first, let last = phrase.last else { throw kwargs.error("kwarg 'phrase' is blank") }
        let pattern = try Pattern(cached: escapeRegex(Py.string(first)) + " .*? " + escapeRegex(Py.string(last)), for: kwargs)
        return Check { text in
            let found = pattern.findAll(text.string)
            guard found.count == times else { return .no("the phrase found \(found.count) times, needs \(times)") }
            for candidate in found {
                let words = Py.split(Array(candidate.unicodeScalars))
                guard words.count == phrase.count else { return .no("a repetition with \(words.count) words, needs \(phrase.count)") }
                let differences = zip(words, phrase).filter { $0 != $1 }.count
                if differences != 1 { return .no("a repetition with \(differences) words changed, needs exactly 1") }
            }
            return .ok("the phrase repeated \(times) times, one word changed each time")
        }
    }

    // MARK: Keywords

    static let keywords: [(String, InstructionBuilder)] = [
        (
            "keywords:no_adjacent_consecutive",
            plain { text in
                let words = Py.split(text.scalars)
                for index in words.indices.dropLast() {
                    let first = Py.lower([words[index][0]])
                    let second = Py.lower([words[index + 1][0]])
                    guard first.count == 1, second.count == 1 else { return .no("a word starting with a letter that lowercases to two") }
                    if Int(second[0].value) - Int(first[0].value) == 1 {
                        return .no("'\(Py.string(words[index]))' and '\(Py.string(words[index + 1]))' start with consecutive letters")
                    }
                }
                return .ok("no adjacent words start with consecutive letters")
            }
        ),
        (
            "keywords:word_once",
            { (kwargs: inout Kwargs) throws(ArbiterError) in
                let keyword = Py.string(Py.strip(try kwargs.string("keyword").unicodeScalars))
                let low = Py.lower(keyword)
                return Check { text in
                    let found = Py.count(low, in: Py.lower(text.scalars))
                    return .when(found == 1, "'\(keyword)' appears \(found) times, needs exactly once")
                }
            }
        ),
        (
            "keywords:word_count_different_numbers",
            { (kwargs: inout Kwargs) throws(ArbiterError) in
                let keyword = Py.string(Py.strip(try kwargs.string("keyword").unicodeScalars))
                let limit = try kwargs.int("frequency", min: 0)
                let relation = try kwargs.relation("relation")
                let low = Py.lower(keyword)
                return Check { text in
                    relation.outcome(Py.count(low, in: Py.lower(text.scalars)), "occurrences of '\(keyword)'", limit)
                }
            }
        ),
        (
            "keywords:exclude_word_harder",
            { (kwargs: inout Kwargs) throws(ArbiterError) in
                _ = try kwargs.optionalString("instruction")
                let keyword = Py.string(Py.strip(try kwargs.string("keyword").unicodeScalars))
                let spaced = Array((" " + keyword + " ").unicodeScalars)
                return Check { text in
                    let found = Py.contains(spaced, in: text.scalars)
                    return .when(!found, found ? "'\(keyword)' used" : "'\(keyword)' not used")
                }
            }
        ),
        (
            "keywords:palindrome",
            plain { text in
                let found = Py.split(text.scalars).first { $0 == $0.reversed() }
                return .when(found != nil, found.map { "palindrome '\(Py.string($0.prefix(30)))'" } ?? "no palindrome")
            }
        ),
        (
            "keywords:keyword_specific_position",
            { (kwargs: inout Kwargs) throws(ArbiterError) in
                let keyword = try word(&kwargs, "keyword")
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
            "keywords:start_end",
            plain { text in
                let words = Sentences.wordTokens(text.scalars)
                guard words.count >= 2, let first = words.first, let last = words.last else { return .no("fewer than 2 words") }
                return .when(first.lowercased() == last.lowercased(), "starts with '\(first)', ends with '\(last)'")
            }
        ),
    ]

    // MARK: Formats

    static let formats: [(String, InstructionBuilder)] = [
        (
            "detectable_format:sentence_hyphens",
            plain { text in
                let gold = Sentences.split(Py.string(text.scalars.map { $0 == "-" ? " " : $0 }))
                let pieces = Py.split(text.scalars, separator: ["-"]).map { Py.string($0) }
                for (piece, expected) in zip(pieces, gold) {
                    if Py.string(Py.strip(piece.unicodeScalars)) != piece || piece != expected {
                        return .no("'\(piece.prefix(30))' is not one sentence joined by hyphens")
                    }
                }
                return .ok("sentences joined by hyphens")
            }
        ),
        (
            "detectable_format:square_brackets",
            plain { text in
                let bad = Py.split(text.scalars).first { $0.first != "[" || $0.last != "]" }
                return .when(bad == nil, bad.map { "'\(Py.string($0.prefix(30)))' is not in [brackets]" } ?? "every word in [brackets]")
            }
        ),
        (
            "paragraphs:paragraphs",
            plain { text in
                guard let count = IFEvalInstructions.dividedParagraphs(text.string) else {
                    return .no("an empty paragraph between two *** dividers")
                }
                return .when(count == 2, "\(count) paragraphs divided by ***, needs 2")
            }
        ),
        (
            "paragraphs:paragraphs2",
            plain { text in
                let paragraphs = Py.split(text.scalars, separator: ["\n", "\n"])
                var count = paragraphs.count
                for (index, paragraph) in paragraphs.enumerated() where Py.strip(paragraph).isEmpty {
                    if index == 0 || index == paragraphs.count - 1 { count -= 1 } else { return .no("an empty paragraph") }
                }
                return .when(count == 2, "\(count) paragraphs separated by blank lines, needs 2")
            }
        ),
        (
            "first_word:first_word_sent",
            { (kwargs: inout Kwargs) throws(ArbiterError) in
                let first = try word(&kwargs, "first_word")
                let low = Py.lower(first)
                return Check { text in
                    let sentences = Sentences.pieces(text.string)
                    for index in 0..<sentences.count {
                        guard let head = Py.split(sentences.scalars(index)).first else { return .no("an empty sentence") }
                        if Py.lower(head) != low { return .no("a sentence starts with '\(Py.string(head.prefix(30)))', needs '\(first)'") }
                    }
                    return .ok("every sentence starts with '\(first)'")
                }
            }
        ),
        (
            "first_word:first_word_answer",
            { (kwargs: inout Kwargs) throws(ArbiterError) in
                let first = Py.string(Py.strip(try kwargs.string("first_word").unicodeScalars))
                let low = Py.lower(first)
                return Check { text in
                    guard let head = Py.split(text.scalars).first else { return .no("no words") }
                    return .when(Py.lower(head) == low, "first word '\(Py.string(head.prefix(30)))', needs '\(first)'")
                }
            }
        ),
        (
            "last_word:last_word_sent",
            { (kwargs: inout Kwargs) throws(ArbiterError) in
                let last = try word(&kwargs, "last_word")
                let low = Py.lower(last)
                return Check { text in
                    let sentences = Sentences.pieces(text.string)
                    for index in 0..<sentences.count {
                        guard let tail = Py.split(sentences.scalars(index)).last else { return .no("an empty sentence") }
                        let cleaned = tail.filter { $0.isPyWord || $0.isPySpace }
                        if Py.lower(cleaned) != low { return .no("a sentence ends with '\(Py.string(cleaned.prefix(30)))', needs '\(last)'") }
                    }
                    return .ok("every sentence ends with '\(last)'")
                }
            }
        ),
        (
            "last_word:last_word_answer",
            { (kwargs: inout Kwargs) throws(ArbiterError) in
                let last = Py.string(Py.strip(try kwargs.string("last_word").unicodeScalars))
                let low = Py.lower(last)
                return Check { text in
                    guard let tail = Py.split(text.scalars).last else { return .no("no words") }
                    let cleaned = tail.filter { $0.isPyWord || $0.isPySpace }
                    return .when(Py.lower(cleaned) == low, "last word '\(Py.string(cleaned.prefix(30)))', needs '\(last)'")
                }
            }
        ),
        (
            "detectable_format:bigram_wrapping",
            plain { text in
                let words = Py.split(text.scalars)
                for index in stride(from: 0, to: words.count - 1, by: 2)
                where !(Py.hasPrefix(words[index], ["<", "<"]) && Py.hasSuffix(words[index + 1], [">", ">"])) {
                    return .no("'\(Py.string(words[index].prefix(20))) \(Py.string(words[index + 1].prefix(20)))' is not wrapped in << >>")
                }
                return .ok("every bigram wrapped in << >>")
            }
        ),
        (
            "punctuation:punctuation_dot",
            plain { text in
                let count = text.scalars.filter { $0 == "." }.count
                return .when(count == 0, "\(count) dots")
            }
        ),
        (
            "punctuation:punctuation_exclamation",
            plain { text in
                let count = text.scalars.filter { $0 == "!" }.count
                return .when(count == 0, "\(count) exclamation marks")
            }
        ),
    ]

    // MARK: Counting

    private static let lowercaseWord = Pattern("\\b[a-z]+\\b")

    static let counting: [(String, InstructionBuilder)] = [
        (
            "count:lowercase_counting",
            { (kwargs: inout Kwargs) throws(ArbiterError) in
                let limit = try kwargs.int("N", min: 1)
                return Check { text in
                    let count = lowercaseWord.matches(text.string).count
                    return .when(count <= limit, "\(count) lowercase words, needs at most \(limit)")
                }
            }
        ),
        (
            "letters:letter_counting",
            { (kwargs: inout Kwargs) throws(ArbiterError) in
                let limit = try kwargs.int("N", min: 1)
                let relation = try kwargs.relation("relation")
                return Check { text in relation.outcome(text.scalars.filter(\.isASCIILetter).count, "letters", limit) }
            }
        ),
        ("letters:letter_counting2", IFEvalInstructions.letterFrequency),
        (
            "count:counting_composition",
            { (kwargs: inout Kwargs) throws(ArbiterError) in
                let sentences = try kwargs.int("n_sent", min: 1)
                let words = try kwargs.int("n_words", min: 1)
                return Composition(sentences: sentences, words: words)
            }
        ),
        (
            "count:count_unique",
            plain { text in
                let words = Sentences.wordTokens(text.scalars)
                let unique = Set(words).count
                return .when(unique == words.count, "\(words.count - unique) repeated words")
            }
        ),
        (
            "count:count_increment_word",
            { (kwargs: inout Kwargs) throws(ArbiterError) in
                let first = Py.string(Py.strip(try kwargs.string("keyword1").unicodeScalars))
                let second = Py.string(Py.strip(try kwargs.string("keyword2").unicodeScalars))
                let (low1, low2) = (Py.lower(first), Py.lower(second))
                return Check { text in
                    let value = Py.lower(text.scalars)
                    let (count1, count2) = (Py.count(low1, in: value), Py.count(low2, in: value))
                    return .when(
                        count1 == 1 && count2 == 2, "'\(first)' \(count1) times (needs 1), '\(second)' \(count2) times (needs 2)")
                }
            }
        ),
    ]

    /// `count:counting_composition`: three paragraphs (divided by `***`) of `sentences` sentences of `words` words.
    struct Composition: Instruction {
        let sentences: Int
        let words: Int

        func check(_ text: Text) -> Outcome { composition(text, sentences: sentences, words: words) }

        /// Unexplained, the paragraphs are counted before any sentence is split: a text that follows has three, none
        /// blank (a blank paragraph has no sentence, and at least one is needed), which most loose variants of a
        /// text that does not follow fail to have.
        func check(_ text: Text, explained: Bool) -> Outcome {
            if !explained {
                let paragraphs = IFEvalInstructions.splitOnDividers(text.string)
                guard paragraphs.count == 3, !paragraphs.contains(where: { $0.unicodeScalars.allSatisfy(\.isPySpace) })
                else { return .no("") }
            }
            return check(text)
        }
    }

    static func composition(_ text: Text, sentences: Int, words: Int) -> Outcome {
        let paragraphs = IFEvalInstructions.splitOnDividers(text.string)
        var count = paragraphs.count
        for (index, paragraph) in paragraphs.enumerated() {
            if paragraph.unicodeScalars.allSatisfy(\.isPySpace) {
                if index == 0 || index == paragraphs.count - 1 { count -= 1 } else { return .no("an empty paragraph") }
            }
            let found = Sentences.pieces(paragraph)
            guard found.count == sentences else { return .no("paragraph \(index + 1) has \(found.count) sentences, needs \(sentences)") }
            for sentence in 0..<found.count {
                let tokens = Sentences.wordTokenCount(found.scalars(sentence))
                if tokens != words { return .no("a sentence of \(tokens) words, needs \(words)") }
            }
        }
        return .when(count == 3, "\(count) paragraphs, needs 3")
    }
}

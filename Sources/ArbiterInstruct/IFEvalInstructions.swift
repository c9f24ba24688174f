// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import ArbiterLanguage
import ArbiterRegex

/// The 25 constraints of Google's IFEval, with the kwargs names and semantics of its `instructions.py`.
enum IFEvalInstructions {
    static let builders: [(String, InstructionBuilder)] = [
        ("keywords:existence", existence),
        ("keywords:frequency", frequency),
        ("keywords:forbidden_words", forbidden),
        ("keywords:letter_frequency", letterFrequency),
        ("language:response_language", responseLanguage),
        ("length_constraints:number_sentences", numberSentences),
        ("length_constraints:number_paragraphs", numberParagraphs),
        ("length_constraints:number_words", numberWords),
        ("length_constraints:nth_paragraph_first_word", nthParagraphFirstWord),
        ("detectable_content:number_placeholders", placeholders),
        ("detectable_content:postscript", postscript),
        ("detectable_format:number_bullet_lists", bullets),
        ("detectable_format:constrained_response", constrainedResponse),
        ("detectable_format:number_highlighted_sections", highlights),
        ("detectable_format:multiple_sections", sections),
        ("detectable_format:json_format", jsonFormat),
        ("detectable_format:title", title),
        ("combination:two_responses", twoResponses),
        ("combination:repeat_prompt", repeatPrompt),
        ("startend:end_checker", endChecker),
        ("change_case:capital_word_frequency", capitalWordFrequency),
        ("change_case:english_capital", englishCapital),
        ("change_case:english_lowercase", englishLowercase),
        ("punctuation:no_comma", noComma),
        ("startend:quotation", quotation),
    ]

    static let existence: InstructionBuilder = { (kwargs: inout Kwargs) throws(ArbiterError) in
        let keywords = try kwargs.strings("keywords").sorted()
        let lowered = keywords.map { Py.lower($0) }
        return Check { text in
            let value = Py.lower(text.scalars)
            for (keyword, low) in zip(keywords, lowered) where !Py.contains(low, in: value) {
                return .no("keyword '\(keyword)' is missing")
            }
            return .ok("all \(keywords.count) keywords present")
        }
    }

    static let frequency: InstructionBuilder = { (kwargs: inout Kwargs) throws(ArbiterError) in
        let keyword = Py.string(Py.strip(try kwargs.string("keyword").unicodeScalars))
        let limit = try kwargs.int("frequency", min: 0)
        let relation = try kwargs.relation("relation")
        guard !keyword.isEmpty else { throw kwargs.error("kwarg 'keyword' must not be blank") }
        let low = Py.lower(keyword)
        return Check { text in
            let found = Py.count(low, in: Py.lower(text.scalars))
            return relation.outcome(found, "occurrences of '\(keyword)'", limit)
        }
    }

    static let forbidden: InstructionBuilder = { (kwargs: inout Kwargs) throws(ArbiterError) in
        let words = Array(Set(try kwargs.strings("forbidden_words"))).sorted()
        let lowered = words.map { Py.lower($0) }
        return Check { text in
            let value = Py.lower(text.scalars)
            for (word, low) in zip(words, lowered) where WordBoundary.contains(low, in: value) {
                return .no("forbidden word '\(word)' found")
            }
            return .ok("none of \(words.count) forbidden words found")
        }
    }

    static let letterFrequency: InstructionBuilder = { (kwargs: inout Kwargs) throws(ArbiterError) in
        let letter = try kwargs.string("letter")
        let scalars = Array(letter.unicodeScalars)
        guard scalars.count == 1, scalars[0].isASCIILetter else {
            throw kwargs.error("kwarg 'letter' must be one ASCII letter, got '\(letter.prefix(20))'")
        }
        let target = Py.lower(scalars)[0]
        let limit = try kwargs.int("let_frequency", min: 0)
        let relation = try kwargs.relation("let_relation")
        return Check { text in
            let found = Py.lower(text.scalars).reduce(0) { $0 + ($1 == target ? 1 : 0) }
            return relation.outcome(found, "letters '\(target)'", limit)
        }
    }

    static let responseLanguage: InstructionBuilder = { (kwargs: inout Kwargs) throws(ArbiterError) in
        let code = try kwargs.string("language")
        guard LanguageModel.codes.contains(code) else {
            throw kwargs.error(
                "kwarg 'language' is '\(code.prefix(20))', which Arbiter's language identifier does not know (known: \(LanguageModel.codes.joined(separator: ", ")))")
        }
        return Check { text in
            guard let found = Language.identify(text.string) else { return .ok("no letters to identify (counted as followed, as the reference does)") }
            return .when(found == code, "response identified as '\(found)', needs '\(code)'")
        }
    }

    static let numberSentences: InstructionBuilder = { (kwargs: inout Kwargs) throws(ArbiterError) in
        let limit = try kwargs.int("num_sentences", min: 0)
        let relation = try kwargs.relation("relation")
        return Check { text in relation.outcome(Sentences.count(text.scalars), "sentences", limit) }
    }

    private static let paragraphDivider = Pattern("\\s?\\*\\*\\*\\s?")

    /// IFEval's paragraph count over `***` dividers; `nil` when an empty paragraph sits between two dividers.
    /// `re.split(r"\s?\*\*\*\s?", text)`: the text alone when it holds no `***` (which the pattern needs).
    static func splitOnDividers(_ text: String) -> [String] {
        Bytes.containsTripleStar(text) ? paragraphDivider.split(text) : [text]
    }

    static func dividedParagraphs(_ text: String) -> Int? {
        let paragraphs = splitOnDividers(text)
        var count = paragraphs.count
        for (index, paragraph) in paragraphs.enumerated() where paragraph.unicodeScalars.allSatisfy(\.isPySpace) {
            if index == 0 || index == paragraphs.count - 1 { count -= 1 } else { return nil }
        }
        return count
    }

    static let numberParagraphs: InstructionBuilder = { (kwargs: inout Kwargs) throws(ArbiterError) in
        let limit = try kwargs.int("num_paragraphs", min: 0)
        return Check { text in
            guard let count = dividedParagraphs(text.string) else { return .no("an empty paragraph between two *** dividers") }
            return .when(count == limit, "\(count) paragraphs divided by ***, needs exactly \(limit)")
        }
    }

    static let numberWords: InstructionBuilder = { (kwargs: inout Kwargs) throws(ArbiterError) in
        let limit = try kwargs.int("num_words", min: 0)
        let relation = try kwargs.relation("relation")
        return Check { text in relation.outcome(Py.wordCount(text.scalars), "words", limit) }
    }

    static let nthParagraphFirstWord: InstructionBuilder = { (kwargs: inout Kwargs) throws(ArbiterError) in
        let total = try kwargs.int("num_paragraphs", min: 0)
        let nth = try kwargs.int("nth_paragraph", min: 1)
        guard nth <= total else { throw kwargs.error("kwarg 'nth_paragraph' (\(nth)) is more than 'num_paragraphs' (\(total))") }
        let word = Py.lower(try kwargs.string("first_word"))
        let wordText = Py.string(word)
        return Check { text in
            let paragraphs = Py.split(text.scalars, separator: ["\n", "\n"])
            let count = paragraphs.filter { !Py.strip($0).isEmpty }.count
            guard nth <= count else { return .no("\(count) paragraphs, paragraph \(nth) does not exist") }
            let paragraph = Py.strip(paragraphs[nth - 1])
            guard let firstToken = Py.split(paragraph).first else { return .no("paragraph \(nth) is empty") }
            var first = Py.lstrip(Py.lstrip(firstToken, ["'"]), ["\""])
            if let cut = first.firstIndex(where: { ".,?!'\"".unicodeScalars.contains($0) }) { first = Array(first[..<cut]) }
            let found = Py.string(Py.lower(first))
            guard count == total else { return .no("\(count) paragraphs, needs exactly \(total)") }
            return .when(found == wordText, "paragraph \(nth) starts with '\(found)', needs '\(wordText)'")
        }
    }

    static let placeholders: InstructionBuilder = { (kwargs: inout Kwargs) throws(ArbiterError) in
        let limit = try kwargs.int("num_placeholders", min: 0)
        return Check { text in
            let count = countPlaceholders(text.scalars)
            return .when(count >= limit, "\(count) [placeholders], needs at least \(limit)")
        }
    }

    /// `re.findall(r"\[.*?\]")`: a `[` closed by the nearest `]` on the same line. A `[` whose line has no `]` after
    /// it fails, and so does every `[` up to the same line end, so the scan skips to it (linear, where the regex is
    /// quadratic on a line of `[`).
    static func countPlaceholders(_ text: Scalars) -> Int {
        var count = 0
        var index = 0
        while index < text.count {
            guard text[index] == "[" else {
                index += 1
                continue
            }
            var end = index + 1
            while end < text.count, text[end] != "]", text[end] != "\n" { end += 1 }
            if end < text.count, text[end] == "]" { count += 1 }
            index = end + 1
        }
        return count
    }

    private static let ppsPattern = Pattern("p\\.\\s?p\\.\\s?s")
    private static let psPattern = Pattern("p\\.\\s?s\\.")

    static let postscript: InstructionBuilder = { (kwargs: inout Kwargs) throws(ArbiterError) in
        let marker = Py.string(Py.strip(try kwargs.string("postscript_marker").unicodeScalars))
        let pattern: Pattern? = marker == "P.P.S" ? ppsPattern : marker == "P.S." ? psPattern : nil
        let lowered = Py.lower(marker)
        return Check { text in
            let value = Py.lower(text.scalars)
            let found = pattern.map { $0.found(in: Py.string(value)) } ?? Py.contains(lowered, in: value)
            return .when(found, found ? "postscript '\(marker)' found" : "no postscript starting with '\(marker)'")
        }
    }

    private static let starBullet = Pattern("^\\s*\\*[^\\*].*$", [.multiline])
    private static let dashBullet = Pattern("^\\s*-.*$", [.multiline])

    static let bullets: InstructionBuilder = { (kwargs: inout Kwargs) throws(ArbiterError) in
        let limit = try kwargs.int("num_bullets", min: 0)
        return Check { text in
            let count = starBullet.matches(text.string).count + dashBullet.matches(text.string).count
            return .when(count == limit, "\(count) bullet points, needs exactly \(limit)")
        }
    }

    static let constrainedResponse: InstructionBuilder = { (_: inout Kwargs) throws(ArbiterError) in
        let options = ["My answer is yes.", "My answer is no.", "My answer is maybe."].map { Array($0.unicodeScalars) }
        return Check { text in
            let value = Py.strip(text.scalars)
            let found = options.contains { Py.contains($0, in: value) }
            return .when(found, found ? "contains one of the three answers" : "none of 'My answer is yes./no./maybe.'")
        }
    }

    private static let singleHighlight = Pattern("\\*[^\\n\\*]*\\*")
    private static let doubleHighlight = Pattern("\\*\\*[^\\n\\*]*\\*\\*")

    static let highlights: InstructionBuilder = { (kwargs: inout Kwargs) throws(ArbiterError) in
        let limit = try kwargs.int("num_highlights", min: 0)
        return Check { text in
            var count = 0
            for highlight in singleHighlight.findAll(text.string) where !Py.strip(Py.strip(highlight.unicodeScalars, ["*"])).isEmpty {
                count += 1
            }
            for highlight in doubleHighlight.findAll(text.string) {
                let inner = Array(highlight.unicodeScalars.dropFirst(2).dropLast(2))
                if !Py.strip(inner).isEmpty { count += 1 }
            }
            return .when(count >= limit, "\(count) highlighted sections, needs at least \(limit)")
        }
    }

    static let sections: InstructionBuilder = { (kwargs: inout Kwargs) throws(ArbiterError) in
        let splitter = Py.string(Py.strip(try kwargs.string("section_spliter").unicodeScalars))
        let limit = try kwargs.int("num_sections", min: 0)
        let pattern = try Pattern(cached: "\\s?" + escapeRegex(splitter) + "\\s?\\d+\\s?", for: kwargs)
        return Check { text in
            let count = pattern.split(text.string).count - 1
            return .when(count >= limit, "\(count) sections marked '\(splitter) N', needs at least \(limit)")
        }
    }

    static let jsonFormat: InstructionBuilder = { (_: inout Kwargs) throws(ArbiterError) in
        Check { text in
            var value = Py.string(Py.strip(text.scalars))
            for prefix in ["```json", "```Json", "```JSON", "```"] where value.hasPrefix(prefix) {
                value = String(value.dropFirst(prefix.count))
                break
            }
            if value.hasSuffix("```") { value = String(value.dropLast(3)) }
            value = Py.string(Py.strip(value.unicodeScalars))
            let valid = PythonJSON.isValid(value)
            return .when(valid, valid ? "valid JSON" : "not valid JSON")
        }
    }

    private static let titlePattern = Pattern("<<[^\\n]+>>")

    static let title: InstructionBuilder = { (_: inout Kwargs) throws(ArbiterError) in
        Check { text in
            for title in titlePattern.findAll(text.string) {
                let inner = Py.rstrip(Py.lstrip(title.unicodeScalars, ["<"]), [">"])
                if !Py.strip(inner).isEmpty { return .ok("title \(title.prefix(60))") }
            }
            return .no("no <<title>>")
        }
    }

    static let twoResponses: InstructionBuilder = { (_: inout Kwargs) throws(ArbiterError) in
        Check { text in
            let parts = Py.split(text.scalars, separator: Array("******".unicodeScalars))
            var valid: [Scalars] = []
            for (index, part) in parts.enumerated() {
                if Py.strip(part).isEmpty {
                    if index != 0 && index != parts.count - 1 { return .no("an empty response between two ******") }
                } else {
                    valid.append(part)
                }
            }
            guard valid.count == 2 else { return .no("\(valid.count) responses separated by ******, needs 2") }
            return .when(Py.strip(valid[0]) != Py.strip(valid[1]), "two responses; identical ones do not count")
        }
    }

    static let repeatPrompt: InstructionBuilder = { (kwargs: inout Kwargs) throws(ArbiterError) in
        let prompt = Py.lower(Py.strip(try kwargs.promptToRepeat().unicodeScalars))
        return Check { text in
            .when(Py.hasPrefix(Py.lower(Py.strip(text.scalars)), prompt), "response starts with the request repeated")
        }
    }

    static let endChecker: InstructionBuilder = { (kwargs: inout Kwargs) throws(ArbiterError) in
        let phrase = Py.strip(try kwargs.string("end_phrase").unicodeScalars)
        let lowered = Py.lower(Py.strip(phrase))
        return Check { text in
            let value = Py.lower(Py.strip(Py.strip(text.scalars), ["\""]))
            return .when(Py.hasSuffix(value, lowered), "response ends with '\(Py.string(phrase))'")
        }
    }

    static let capitalWordFrequency: InstructionBuilder = { (kwargs: inout Kwargs) throws(ArbiterError) in
        let limit = try kwargs.int("capital_frequency")
        let relation = try kwargs.relation("capital_relation")
        return Check { text in
            var count = 0
            Sentences.forEachWordToken(text.scalars) { if Py.isUpper($0) { count += 1 } }
            return relation.outcome(count, "words in capitals", limit)
        }
    }

    static let englishCapital: InstructionBuilder = { (_: inout Kwargs) throws(ArbiterError) in
        Check { text in
            guard Py.isUpper(text.scalars) else { return .no("not all letters are capitals") }
            // The language of the words, read in lowercase: Arbiter's byte model reads words as written, and capitals
            // alone would pull short English texts towards other languages.
            guard let found = Language.identify(Py.string(Py.lower(text.scalars))) else { return .ok("all capitals, no language to identify") }
            return .when(found == "en", "all capitals; language '\(found)', needs 'en'")
        }
    }

    static let englishLowercase: InstructionBuilder = { (_: inout Kwargs) throws(ArbiterError) in
        Check { text in
            guard Py.isLower(text.scalars) else {
                let word = Py.split(text.scalars).first { $0.contains { $0.isPyUpper || $0.isTitlecase } }
                return .no("capital letters in '\(word.map { Py.string($0.prefix(30)) } ?? "")'")
            }
            guard let found = Language.identify(text.string) else { return .ok("all lowercase, no language to identify") }
            return .when(found == "en", "all lowercase; language '\(found)', needs 'en'")
        }
    }

    static let noComma: InstructionBuilder = { (_: inout Kwargs) throws(ArbiterError) in
        Check { text in
            let count = text.scalars.reduce(0) { $0 + ($1 == "," ? 1 : 0) }
            return .when(count == 0, "\(count) commas")
        }
    }

    static let quotation: InstructionBuilder = { (_: inout Kwargs) throws(ArbiterError) in
        Check { text in
            let value = Py.strip(text.scalars)
            let ok = value.count > 1 && value.first == "\"" && value.last == "\""
            return .when(ok, ok ? "wrapped in double quotes" : "not wrapped in double quotes")
        }
    }
}

/// `re.search(r"\b" + word + r"\b", text)` on lowercased text, for a literal word.
enum WordBoundary {
    static func contains(_ word: Scalars, in text: Scalars) -> Bool {
        guard !word.isEmpty else { return false }
        var start = 0
        while let index = Py.find(word, in: text, from: start) {
            let end = index + word.count
            let before = index > 0 && text[index - 1].isPyWord
            let after = end < text.count && text[end].isPyWord
            if before != word[0].isPyWord, after != word[word.count - 1].isPyWord { return true }
            start = index + 1
        }
        return false
    }
}

/// Language identification for the constraints that name a language.
enum Language {
    static let identifier = LanguageIdentifier()

    /// How much of a text is read: the language of 20,000 characters is settled, and the bound keeps a megabyte
    /// response (checked up to 8 times in loose mode) from costing seconds.
    static let budget = 20_000

    /// The ISO 639-1 code of the text's language, or `nil` when it has no letters to read.
    static func identify(_ text: String) -> String? {
        // A text of at most `budget` UTF-8 bytes holds at most `budget` scalars: only a longer one is counted.
        let unicodeScalars = text.unicodeScalars
        guard text.utf8.count > budget, unicodeScalars.count > budget else {
            return identifier.identify(text)?.language
        }
        return identifier.identify(Py.string(unicodeScalars.prefix(budget)))?.language
    }
}

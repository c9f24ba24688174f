// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore

/// The 58 constraints of AllenAI's IFBench, with the kwargs names and semantics of its `instructions.py`.
enum IFBenchInstructions {
    static let builders: [(String, InstructionBuilder)] = counting + ratios + words + sentences + formats + customs
        + repeats

    /// `strip(string.punctuation + " ")`.
    static func trimmed(_ text: some BidirectionalCollection<Unicode.Scalar>) -> Scalars {
        Py.strip(text, punctuationAndSpace)
    }

    /// A constraint without kwargs.
    static func plain(_ body: @escaping @Sendable (Text) -> Outcome) -> InstructionBuilder {
        { (_: inout Kwargs) throws(ArbiterError) in Check(body) }
    }

    /// A constraint without kwargs, with a test every text that follows it passes (``PrefilteredCheck``).
    static func prefiltered(
        _ body: @escaping @Sendable (Text) -> Outcome, mayFollow: @escaping @Sendable (Text) -> Bool
    ) -> InstructionBuilder {
        { (_: inout Kwargs) throws(ArbiterError) in PrefilteredCheck(body: body, mayFollow: mayFollow) }
    }

    // MARK: count:

    static let counting: [(String, InstructionBuilder)] = [
        (
            "count:word_count_range",
            { (kwargs: inout Kwargs) throws(ArbiterError) in
                let low = try kwargs.int("min_words", min: 0)
                let high = try kwargs.int("max_words", min: 0)
                return Check { text in
                    let count = Py.wordCount(text.scalars)
                    return .when(low <= count && count <= high, "\(count) words, needs \(low) to \(high)")
                }
            }
        ),
        (
            "count:unique_word_count",
            { (kwargs: inout Kwargs) throws(ArbiterError) in
                let limit = try kwargs.int("N", min: 0)
                return Check { text in
                    let unique = Set(Py.split(Py.lower(text.scalars)).map { Py.string(trimmed($0)) })
                    return .when(unique.count >= limit, "\(unique.count) unique words, needs at least \(limit)")
                }
            }
        ),
        (
            "count:conjunctions",
            { (kwargs: inout Kwargs) throws(ArbiterError) in
                let limit = try kwargs.int("small_n", min: 0)
                let conjunctions: Set<String> = ["and", "but", "for", "nor", "or", "so", "yet"]
                return Check { text in
                    let found = Set(
                        Py.split(text.scalars).filter { conjunctions.contains(Py.string(Py.lower(trimmed($0)))) }.map {
                            Py.string($0)
                        })
                    return .when(found.count >= limit, "\(found.count) different conjunctions, needs at least \(limit)")
                }
            }
        ),
        (
            "count:person_names",
            { (kwargs: inout Kwargs) throws(ArbiterError) in
                let limit = try kwargs.int("N", min: 0)
                return Check { text in
                    let found = personNameCount(text.scalars)
                    return .when(found >= limit, "\(found) of the listed person names, needs at least \(limit)")
                }
            }
        ),
        (
            "count:numbers",
            { (kwargs: inout Kwargs) throws(ArbiterError) in
                let limit = try kwargs.int("N", min: 0)
                return Check { text in
                    var count = 0
                    var inNumber = false
                    for scalar in Py.removingPunctuation(text.scalars) {
                        let digit = scalar.properties.numericType == .decimal
                        if digit && !inNumber { count += 1 }
                        inNumber = digit
                    }
                    return .when(count == limit, "\(count) numbers, needs exactly \(limit)")
                }
            }
        ),
        (
            "count:punctuation",
            plain { text in
                let value = text.scalars
                let interrobang =
                    Py.contains(["!", "?"], in: value) || Py.contains(["?", "!"], in: value) || value.contains("\u{203D}")
                guard interrobang else { return .no("no ?! or !? or ‽") }
                var rest = value
                if let index = Py.find(["?", "!"], in: value) {
                    rest.removeSubrange(index..<index + 2)
                } else if let index = Py.find(["!", "?"], in: value) {
                    rest.removeSubrange(index..<index + 2)
                }
                let missing = [".", ",", "!", "?", ";", ":"].filter { mark in !rest.contains(Unicode.Scalar(mark)!) }
                return .when(missing.isEmpty, missing.isEmpty ? "every mark used" : "missing \(missing.joined(separator: " "))")
            }
        ),
        (
            "count:words_japanese",
            { (kwargs: inout Kwargs) throws(ArbiterError) in
                let step = try kwargs.int("N", min: 1)
                return Check { text in
                    for (index, word) in Py.split(text.scalars).enumerated() where (index + 1) % step == 0 {
                        let stripped = trimmed(word)
                        if stripped.isEmpty || stripped.allSatisfy(\.isPyDigit) { continue }
                        let japanese = stripped.contains {
                            (0x3040...0x30FF).contains($0.value) || (0x4E00...0x9FFF).contains($0.value)
                        }
                        if !japanese { return .no("word \(index + 1) '\(Py.string(stripped.prefix(30)))' is not Japanese") }
                    }
                    return .ok("every \(step)th word is Japanese")
                }
            }
        ),
        (
            "count:pronouns",
            { (kwargs: inout Kwargs) throws(ArbiterError) in
                let limit = try kwargs.int("N", min: 0)
                return Check { text in
                    let value = Py.removingPunctuation(Py.lower(text.scalars.map { $0 == "/" ? " " : $0 }))
                    let count = Py.split(value).filter { word in
                        Self.packedLetters(word).map(packedPronouns.contains) ?? false
                    }.count
                    return .when(count >= limit, "\(count) pronouns, needs at least \(limit)")
                }
            }
        ),
        (
            "count:keywords_multiple",
            { (kwargs: inout Kwargs) throws(ArbiterError) in
                var keywords: [(String, Scalars, Int)] = []
                for (index, times) in [1, 2, 3, 5, 7].enumerated() {
                    let raw = try kwargs.optionalString("keyword\(index + 1)")
                    guard let raw else { throw kwargs.missing("keyword\(index + 1)") }
                    let keyword = Py.string(Py.strip(raw.unicodeScalars))
                    keywords.append((keyword, Py.lower(keyword), times))
                }
                let list = keywords
                return Check { text in
                    let value = Py.lower(text.scalars)
                    for (keyword, low, times) in list {
                        let found = Py.count(low, in: value)
                        if found != times { return .no("'\(keyword)' appears \(found) times, needs exactly \(times)") }
                    }
                    return .ok("each keyword appears 1, 2, 3, 5 and 7 times")
                }
            }
        ),
    ]

    static let personNames: [Scalars] = [
        "Emma", "Liam", "Sophia", "Jackson", "Olivia", "Noah", "Ava", "Lucas", "Isabella", "Mason", "Mia", "Ethan",
        "Charlotte", "Alexander", "Amelia", "Benjamin", "Harper", "Leo", "Zoe", "Daniel", "Chloe", "Samuel", "Lily",
        "Matthew", "Grace", "Owen", "Abigail", "Gabriel", "Ella", "Jacob", "Scarlett", "Nathan", "Victoria", "Elijah",
        "Layla", "Nicholas", "Audrey", "David", "Hannah", "Christopher", "Penelope", "Thomas", "Nora", "Andrew", "Aria",
        "Joseph", "Claire", "Ryan", "Stella", "Jonathan",
    ].map { Array($0.unicodeScalars) }

    /// The listed names (with their place in the list) at each first letter, by that letter's value (all are ASCII).
    static let personNamesByFirst: [[(Int, Scalars)]] = (0..<128).map { value in
        personNames.enumerated().filter { $0.element[0].value == value }.map { ($0.offset, $0.element) }
    }

    /// How many of the listed person names occur in the text (`sum(name in text for name in names)`), in one pass:
    /// the names starting with a letter are compared only where that letter is.
    static func personNameCount(_ text: Scalars) -> Int {
        var found = [Bool](repeating: false, count: personNames.count)
        var count = 0
        text.withUnsafeBufferPointer { scalars in
            for index in scalars.indices where scalars[index].value < 128 {
                for (place, name) in personNamesByFirst[Int(scalars[index].value)]
                where !found[place] && index + name.count <= scalars.count {
                    if (1..<name.count).allSatisfy({ scalars[index + $0] == name[$0] }) {
                        found[place] = true
                        count += 1
                    }
                }
            }
        }
        return count
    }

    /// A word of up to 12 letters a–z as a number (five bits a letter), nil for any other word: the pronouns are such
    /// words, so a word is one exactly when its number is one of theirs.
    static func packedLetters(_ word: some Collection<Unicode.Scalar>) -> UInt64? {
        guard word.count <= 12 else { return nil }
        var packed: UInt64 = 0
        for scalar in word {
            guard scalar.value >= 0x61, scalar.value <= 0x7A else { return nil }
            packed = packed << 5 | UInt64(scalar.value - 0x60)
        }
        return packed
    }

    static let packedPronouns = Set(pronouns.map { packedLetters($0.unicodeScalars)! })

    static let pronouns: Set<String> = [
        "i", "me", "my", "mine", "myself", "we", "us", "our", "ours", "ourselves", "you", "your", "yours", "yourself",
        "yourselves", "he", "him", "his", "himself", "she", "her", "hers", "herself", "it", "its", "itself", "they",
        "them", "their", "theirs", "themselves",
    ]

    // MARK: ratio:

    static let ratios: [(String, InstructionBuilder)] = [
        (
            "ratio:stop_words",
            { (kwargs: inout Kwargs) throws(ArbiterError) in
                let limit = try kwargs.number("percentage", min: 0)
                return Check { text in
                    let words = Py.words(text.scalars)
                    guard !words.isEmpty else { return .no("no words") }
                    let stop = words.filter { StopWords.english.contains(Py.string(Py.lower($0))) }.count
                    let share = Double(stop) / Double(words.count) * 100
                    return .when(share <= limit, "\(stop) of \(words.count) words are stop words (\(rounded(share))%), needs at most \(limit)%")
                }
            }
        ),
        (
            "ratio:sentence_type",
            plain { text in
                let sentences = Sentences.split(text.string)
                let statements = sentences.filter { $0.hasSuffix(".") }.count
                let questions = sentences.filter { $0.hasSuffix("?") }.count
                return .when(statements == 2 * questions, "\(statements) statements and \(questions) questions, needs twice as many statements")
            }
        ),
        (
            "ratio:sentence_balance",
            plain { text in
                let sentences = Sentences.split(text.string)
                let statements = sentences.filter { $0.hasSuffix(".") }.count
                let questions = sentences.filter { $0.hasSuffix("?") }.count
                let exclamations = sentences.filter { $0.hasSuffix("!") }.count
                return .when(
                    statements == questions && questions == exclamations,
                    "\(statements) statements, \(questions) questions, \(exclamations) exclamations, needs equal counts")
            }
        ),
        (
            "ratio:overlap",
            { (kwargs: inout Kwargs) throws(ArbiterError) in
                let reference = Array(try kwargs.string("reference_text").unicodeScalars)
                let target = try kwargs.number("percentage", min: 0)
                let referenceGrams = trigrams(reference)
                return Check { text in
                    let grams = trigrams(text.scalars)
                    guard !grams.isEmpty else { return .no("fewer than 3 characters") }
                    let share = Double(grams.intersection(referenceGrams).count) / Double(grams.count) * 100
                    return .when(
                        target - 2 <= share && share <= target + 2,
                        "\(rounded(share))% of character trigrams shared, needs \(target) ± 2")
                }
            }
        ),
        (
            "ratio:sentence_words",
            plain { text in
                let sentences = Sentences.pieces(text.string)
                guard sentences.count == 3 else { return .no("\(sentences.count) sentences, needs 3") }
                let lengths = sentences.ranges.indices.map { Py.strip(sentences.scalars($0)).count }
                return .when(Set(lengths).count == 1, "sentence lengths \(lengths.map(String.init).joined(separator: ", ")) characters")
            }
        ),
    ]

    /// The distinct character trigrams of a text, each packed into one integer: a scalar is at most 21 bits
    /// (U+10FFFF), so three fit in 63 without loss and two trigrams are equal exactly when their packings are (no
    /// array per trigram).
    static func trigrams(_ text: Scalars) -> Set<UInt64> {
        guard text.count >= 3 else { return [] }
        var grams = Set<UInt64>(minimumCapacity: text.count - 2)
        for index in 0...(text.count - 3) { grams.insert(trigram(text[index], text[index + 1], text[index + 2])) }
        return grams
    }

    static func trigram(_ a: Unicode.Scalar, _ b: Unicode.Scalar, _ c: Unicode.Scalar) -> UInt64 {
        UInt64(a.value) << 42 | UInt64(b.value) << 21 | UInt64(c.value)
    }

    static func rounded(_ value: Double) -> Double { (value * 100).rounded() / 100 }
}

// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import ArbiterRegex
import Foundation
import Testing

@testable import ArbiterInstruct

@Suite("instruction: one-pass forms of checks, against their plain definitions")
struct CheckShortcutsTests {
    /// Texts made of name pieces, overlapping names and other words.
    static let texts: [String] = {
        let pieces = ["Emma", "Em", "ma", "Liam", "Li", "Noah", "Noa", "h", " ", "Ava", "Ella", "Isabella", "é", "Zoe",
                      "Jonathan", "Nathan", "*", "**", "\n", "David"]
        var texts: [String] = [""]
        var state: UInt64 = 7
        for _ in 0..<3000 {
            var text = ""
            for _ in 0..<Int(state % 9) {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                text += pieces[Int(state >> 33) % pieces.count]
            }
            state = state &* 6364136223846793005 &+ 1442695040888963407
            texts.append(text)
        }
        return texts
    }()

    @Test("person names counted in one pass are the names the text contains")
    func personNames() {
        for text in Self.texts {
            let scalars = Array(text.unicodeScalars)
            let plain = IFBenchInstructions.personNames.filter { Py.contains($0, in: scalars) }.count
            #expect(IFBenchInstructions.personNameCount(scalars) == plain, "\(text.debugDescription)")
        }
        // Control: overlapping names are each counted once, a lowercase one not at all.
        #expect(IFBenchInstructions.personNameCount(Array("Isabella Ella ella Emma Emma".unicodeScalars)) == 3)
    }

    @Test("a text without *** is its own only paragraph; with one the pattern splits it")
    func dividers() {
        let divider = Pattern("\\s?\\*\\*\\*\\s?")
        for text in Self.texts + ["a ***b", "a**\n*b", "***", " *** ", "a\n***\nb***"] {
            #expect(IFEvalInstructions.splitOnDividers(text) == divider.split(text), "\(text.debugDescription)")
            #expect(Bytes.containsTripleStar(text) == text.contains("***"), "\(text.debugDescription)")
        }
        // Control: two stars are no divider.
        #expect(IFEvalInstructions.splitOnDividers("a ** b") == ["a ** b"])
        #expect(IFEvalInstructions.splitOnDividers("a *** b") == ["a", "b"])
    }
}

@Suite("instruction: reverse_newline and pronouns, against their earlier forms")
struct ReverseNewlinePronounTests {
    /// reverse_newline as it was written before it found its lines in place.
    static func reverseNewlineBefore(_ text: Text) -> (Bool, String) {
        let lines = Py.split(text.scalars, separator: ["\n"]).map { IFBenchInstructions.trimmed($0) }
            .filter { !$0.isEmpty }
        let zimbabwe = Array("Zimbabwe".unicodeScalars)
        guard let start = lines.firstIndex(where: { Py.contains(zimbabwe, in: $0) }) else {
            return (false, "no line with Zimbabwe")
        }
        guard lines.count - start >= 52 else {
            return (false, "\(lines.count - start) lines from Zimbabwe on, needs at least 52")
        }
        let target = lines[start...].map(IFBenchInstructions.asciiFolded)
        let sorted = target.sorted { $0.lexicographicallyPrecedes($1, by: { $0.value < $1.value }) }.reversed()
        return (Array(sorted) == target, "lines must be in reverse alphabetical order")
    }

    @Test("the same answer and why on lines around Zimbabwe, blank and punctuation-only lines, 51 to 53 lines")
    func reverseNewline() {
        let words = [
            "Zimbabwe", "zimbabwe", "Zambia", "...", "", " ", "Yemen!", "Ürgüp", "Zimbabwe.", "Ålesund", "- Zimbabwe -",
        ]
        var state: UInt64 = 11
        for round in 0..<600 {
            var lines: [String] = []
            let count = [0, 3, 50, 51, 52, 53, 60][round % 7]
            for _ in 0..<count {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                lines.append(words[Int(state >> 33) % words.count])
            }
            if round % 3 == 0 { lines.sort(by: >) }
            let text = Text(lines.joined(separator: round % 2 == 0 ? "\n" : "\n\n"))
            let now = IFBenchInstructions.reverseNewline(text)
            let before = Self.reverseNewlineBefore(text)
            #expect(now.followed == before.0 && now.why == before.1, "round \(round)")
        }
        // Control: 52 lines in reverse order from Zimbabwe on follow; one line out of order breaks it.
        let ordered = ["Zimbabwe"] + (0..<51).map { String(format: "%03d", 999 - $0) }
        #expect(IFBenchInstructions.reverseNewline(Text(ordered.joined(separator: "\n"))).followed)
        #expect(!IFBenchInstructions.reverseNewline(Text((ordered + ["999"]).joined(separator: "\n"))).followed)
    }

    @Test("a word is a pronoun by its packed letters exactly when it is one by its string")
    func pronouns() {
        let others = ["", "i'm", "Me", "myselves", "themselvesx", "é", "usa", "hi"]
        for word in IFBenchInstructions.pronouns.map({ $0 }) + others {
            let packed = IFBenchInstructions.packedLetters(word.unicodeScalars)
                .map(IFBenchInstructions.packedPronouns.contains) ?? false
            #expect(packed == IFBenchInstructions.pronouns.contains(word), "\(word)")
        }
    }
}

@Suite("instruction: unexplained checks of loose variants")
struct UnexplainedCheckTests {
    /// Texts of paragraphs (divided by `***`, blank or not) of sentences of two or three words.
    static let texts: [String] = {
        let pieces = ["Ab cd.", "Ef gh ij.", "Kl mn?", " ", "\n", "***", " *** ", "\n***\n", "Mr. Xy zz.", "h", "Op qr st!"]
        var texts: [String] = ["", "Ab cd. Ef gh.\n***\nIj kl. Mn op.\n***\nQr st. Uv wx.", "Ab cd. Ef gh. *** Ij kl. Mn op. *** Qr st. Uv wx."]
        var state: UInt64 = 11
        for _ in 0..<6000 {
            var text = ""
            for _ in 0..<(1 + Int(state % 12)) {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                text += pieces[Int(state >> 33) % pieces.count]
            }
            state = state &* 6364136223846793005 &+ 1442695040888963407
            texts.append(text)
        }
        return texts
    }()

    /// Builds the instruction and checks every text explained and unexplained: both must agree on `followed`, and on
    /// `why` where it follows. Returns how many followed and how many the unexplained check rejected with no why (its
    /// shortcut, before the body ran).
    static func compareExplained(_ id: String, kwargs: JSONObject = [:], texts: [String]) throws
        -> (instruction: any Instruction, followed: Int, filtered: Int)
    {
        var usesPrompt = false
        let instruction = try InstructionCatalog.build(
            id, kwargs: kwargs, prompt: nil, patterns: PatternCache(capacity: 4), usesPrompt: &usesPrompt)
        var followed = 0
        var filtered = 0
        for text in texts {
            let explained = instruction.check(Text(text))
            let unexplained = instruction.check(Text(text), explained: false)
            #expect(explained.followed == unexplained.followed, "\(id) \(text.debugDescription)")
            if explained.followed {
                #expect(explained.why == unexplained.why)
                followed += 1
            } else if unexplained.why.isEmpty {
                filtered += 1
            }
        }
        return (instruction, followed, filtered)
    }

    @Test("count:counting_composition unexplained follows exactly when explained, with the same why when it does")
    func composition() throws {
        var followed = 0
        var shortcut = 0
        for (sentences, words) in [(2, 2), (1, 3), (2, 3), (1, 2)] {
            let compared = try Self.compareExplained(
                "count:counting_composition", kwargs: ["n_sent": .int(sentences), "n_words": .int(words)], texts: Self.texts)
            followed += compared.followed
            shortcut += compared.filtered
        }
        // Controls: texts that follow, and texts the paragraph count alone rejects.
        #expect(followed >= 2 && shortcut > 1000)
    }

    /// CSV-like texts: the three checks' headers (plain, quoted, after spaces or a blank line), rows, lines.
    static let csvTexts: [String] = {
        let city = "ID,Country,City,Year,Count\n" + (1...7).map { "\($0),France,Paris,2020,\($0)" }.joined(separator: "\n")
        let product = "ProductID,Category,Brand,Price,Stock\n"
            + (1...14).map { "\($0),Tools,\"Acme, Inc.\",9.99,\($0)" }.joined(separator: "\n")
        let student = "\"StudentID\"\t\"Subject\"\t\"Grade\"\t\"Semester\"\t\"Score\"\n"
            + (1...3).map { _ in "\"1\"\t\"Math\"\t\"A\"\t\"Fall\"\t\"90\"" }.joined(separator: "\n")
        let pieces = [
            "ID,Country,City,Year,Count", "\"ID\",Country,City,Year,Count", "ProductID,Category,Brand,Price,Stock",
            "\"ProductID\",Category,Brand,Price,Stock", "StudentID\tSubject\tGrade\tSemester\tScore", "\n", " ", "\t",
            "1,France,Paris,2020,3", "\"x\"\t\"y\"\t\"z\"\t\"w\"\t\"v\"", "\"a!b\"", "I", "P", "S", "\"",
        ]
        var texts = ["", city, product, student, " " + product, "\n" + city, "\"ID\"" + city.dropFirst(2)]
        // Each following text without its last line (one row short), with a trailing newline, and with a quoted
        // field left open on its last line.
        for text in [city, product, student] {
            texts.append(String(text[..<text.lastIndex(of: "\n")!]))
            texts.append(text + "\n")
            texts.append(text + "\n\"open")
        }
        var state: UInt64 = 5
        for _ in 0..<4000 {
            var text = ""
            for _ in 0..<(1 + Int(state % 10)) {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                text += pieces[Int(state >> 33) % pieces.count]
            }
            state = state &* 6364136223846793005 &+ 1442695040888963407
            texts.append(text)
        }
        return texts
    }()

    @Test("the CSV checks with a header unexplained follow exactly when explained, with the same why when they do")
    func csv() throws {
        for id in ["custom:csv_city", "custom:csv_special_character", "custom:csv_quotes"] {
            let (instruction, followed, filtered) = try Self.compareExplained(id, texts: Self.csvTexts)
            // Controls: a text follows each, and the first character or the line count alone rejects many.
            #expect(followed >= 2 && filtered > 1000, "\(id): \(followed) followed, \(filtered) filtered")
            // The line bound: the following text without its last line is rejected before the body runs (no why).
            let following = Self.csvTexts[["custom:csv_city": 1, "custom:csv_special_character": 2, "custom:csv_quotes": 3][id]!]
            let short = String(following[..<following.lastIndex(of: "\n")!])
            #expect(instruction.check(Text(following), explained: false).followed)
            #expect(!instruction.check(Text(short)).followed && instruction.check(Text(short), explained: false).why.isEmpty)
        }
    }

    /// Multiple-choice and line-list texts: questions with 3–6 options, lines naming Zimbabwe, a following text of
    /// each and the same one line short.
    static let lineTexts: [String] = {
        func question(_ number: Int, _ text: String, options: Int) -> String {
            "Question \(number): \(text)\n" + (0..<options).map { "\(["A", "B", "C", "D", "E", "F"][$0]). option" }
                .joined(separator: "\n")
        }
        let mcq = [question(1, "Why?", options: 5), question(2, "Why so?", options: 5), question(3, "Why so long?", options: 5),
                   question(4, "Why is it so long?", options: 5)].joined(separator: "\n")
        let names = ["Zimbabwe"] + (0..<60).map { "Zagreb \(99 - $0)" }
        let lines = names.joined(separator: "\n")
        var texts = [mcq, String(mcq[..<mcq.lastIndex(of: "\n")!]), lines, names.prefix(52).joined(separator: "\n"),
                     names.prefix(51).joined(separator: "\n")]
        var state: UInt64 = 13
        for _ in 0..<3000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let count = Int(state >> 60)
            var parts: [String] = []
            for number in 0..<(count % 6) {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                parts.append(question(number + 1, "Q", options: 3 + Int(state >> 62)))
            }
            state = state &* 6364136223846793005 &+ 1442695040888963407
            parts.append(names.prefix(Int(state >> 58)).joined(separator: "\n"))
            texts.append(parts.joined(separator: "\n"))
        }
        return texts
    }()

    @Test("mcq_count_length and reverse_newline unexplained follow exactly when explained")
    func lineCounts() throws {
        for id in ["custom:mcq_count_length", "custom:reverse_newline"] {
            let (_, followed, filtered) = try Self.compareExplained(id, texts: Self.lineTexts)
            #expect(followed >= 1 && filtered > 200, "\(id): \(followed) followed, \(filtered) filtered")
        }
    }
}


// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation

/// Finds the final answer in a free-form response.
enum AnswerExtractor {
    /// The strategies, in the default order.
    static let strategies = ["answer_tags", "boxed", "final_answer", "math_span", "whole", "last_number"]

    /// What was found.
    struct Extraction {
        var strategy: String
        var answers: [String]
        /// The words that make the statement no answer: it negates, hedges, qualifies or retracts ("not 3",
        /// "3 maybe", "at least 3", "\boxed{3} … or maybe 4"); empty when it stands.
        var hedge = ""
    }

    /// Tries each strategy in order; the first that finds something wins.
    static func extract(from text: String, strategies: [String], acceptsWhole: (String) -> Bool) -> Extraction? {
        for strategy in strategies {
            let found: [String]
            switch strategy {
            case "answer_tags":
                var tagged: [String] = lastTagContent(text, tag: "answer").map { inner -> [String] in
                    let boxed = boxedContents(inner)
                    return boxed.isEmpty ? [stripMathDelimiters(inner)] : boxed
                } ?? []
                // Boxes after the closing tag are later answers too: a different one makes two answers.
                if !tagged.isEmpty, let close = text.lastRange(ofMarker: "</answer>") {
                    tagged += boxedContents(String(text[close.upperBound...]))
                }
                found = tagged
            case "boxed":
                guard mayHoldBox(text) else { found = []; break }
                let characters = ScalarText(text)
                let all = boxes(in: characters)
                found = all.map(\.content)
                // "… = \boxed{255}. So the total is 10,455. Final Answer: The final answer is $10,455$.": a final
                // answer stated after the last box is the later, and final, word.
                if let last = all.last, strategies.contains("final_answer") {
                    let after = characters.string(last.range.upperBound..<min(characters.count, last.range.upperBound + 4000))
                    if after.lowercased().has("final answer") {
                        let late = phrase(after, markers: ["final answer is", "final answer:"])
                        if !late.isEmpty { return Extraction(strategy: "final_answer", answers: late) }
                    }
                }
                // "\boxed{3}. Wait, that's wrong. The correct answer is 4.": a retraction after the last box makes
                // the later statement the answer, or, with none, leaves no answer ("\boxed{3} Hmm, or maybe 4").
                if let last = all.last {
                    let after = characters.string(last.range.upperBound..<min(characters.count, last.range.upperBound + 600))
                    if let retraction = retraction(after) {
                        let late = phrase(after, markers: ["answer is", "answer:", "answer should be", "answer would be"])
                        if !late.isEmpty, hedge(inSentenceOf: after, markers: ["answer is", "answer:"]) == nil {
                            return Extraction(strategy: "final_answer", answers: late)
                        }
                        return Extraction(strategy: strategy, answers: found, hedge: retraction)
                    }
                }
            case "final_answer": found = phrase(text, markers: finalAnswerMarkers)
            case "math_span":
                let last = lastMathSpanWithEnd(text)
                let spans = trailingSpanGroup(text) ?? last.map { [$0.content] } ?? []
                if !spans.isEmpty, let end = last?.end, let number = concludingNumber(in: text, after: end) {
                    found = [number]
                } else {
                    found = spans
                }
            case "last_number": found = lastNumberCandidates(String(text.suffix(lastSentenceWindow)))
            case "whole":
                let trimmed = text.trimmed()
                let candidate = stripMathDelimiters(trimmed)
                // (At most 2,000 bytes is at most 2,000 characters: counted only past that.)
                found = trimmed.isEmpty || trimmed.utf8.count > 2000 && trimmed.count > 2000 || !acceptsWhole(candidate)
                    ? [] : [candidate]
            default: found = []
            }
            if strategy == "final_answer", found.isEmpty, let answer = phrase(text, markers: ["answer:"]).first {
                return Extraction(
                    strategy: strategy, answers: [answer], hedge: hedge(inSentenceOf: text, markers: ["answer:"]) ?? "")
            }
            if !found.isEmpty {
                var extraction = Extraction(strategy: strategy, answers: found)
                if strategy == "final_answer" {
                    extraction.hedge = hedge(inSentenceOf: text, markers: finalAnswerMarkers) ?? ""
                } else if strategy == "last_number" {
                    extraction.hedge = hedge(in: lastSentence(String(text.suffix(lastSentenceWindow)))) ?? ""
                }
                return extraction
            }
        }
        return nil
    }

    static let finalAnswerMarkers = ["final answer is", "final answer:", "the answer is", "answer is"]

    /// How many characters at the end of a response the last-number strategy reads: the last sentence and its
    /// alternatives are there. Reading a whole 1 MB response without sentence ends as one "sentence" took seconds.
    static let lastSentenceWindow = 4_000

    /// Words and signs that turn a stated number into no answer when they stand next to it (up to three words
    /// before it, or anywhere after it in its sentence): negation ("not 3", "cannot be 3", "3 is wrong"), hedges
    /// ("3 maybe", "probably 3", "3, I guess", "3?"), bounds ("at least 3", "less than 3", "~3"). Farther before the
    /// number they belong to the question restated ("the integers not divisible by 3 number 19").
    private static let hedgeWords: Set<String> = [
        "not", "never", "none", "cannot", "can't", "cant", "isn't", "isnt", "aren't", "wasn't", "won't", "wrong",
        "incorrect", "false", "maybe", "perhaps", "possibly", "probably", "likely", "unlikely", "guess", "unsure",
        "uncertain", "approximately", "approx", "roughly", "nearly", "almost", "about", "around", "least", "most",
        "less", "more", "fewer", "greater", "than", "either", "neither", "nor", "unless", "except", "alternatively",
        "could", "might", "may", "without", "excluding",
    ]

    /// The first hedge next to the last number of a sentence, if any (see ``hedgeWords``; also `?`, `~3`,
    /// `\\neq`, `\\approx`).
    static func hedge(in sentence: String) -> String? {
        // Without a number there is nothing to hedge: an ASCII sentence without a digit is decided on its bytes.
        if sentence.utf8.allSatisfy({ $0 < 0x80 && !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) { return nil }
        if let decided = sentence.utf8.withContiguousStorageIfAvailable(asciiHedge), let decided { return decided }
        return hedgeByCharacters(sentence)
    }

    /// ``hedge(in:)`` on Characters, for any text (the ASCII path's tests compare the two).
    static func hedgeByCharacters(_ sentence: String) -> String? {
        let lower = sentence.lowercased()
        let words = lower.split(whereSeparator: { $0.isWhitespace })
        guard let last = words.lastIndex(where: { $0.contains(where: \.isNumber) }) else { return nil }
        // Up to three words before the number, stopping at an earlier number ("not 10, it's 12" negates 10).
        var first = last
        while first > max(0, last - 3), !words[first - 1].contains(where: \.isNumber) { first -= 1 }
        let near = words[first...].map { String($0) }
        for token in near {
            for word in token.split(whereSeparator: { !($0.isLetter || $0 == "'") }) where hedgeWords.contains(String(word)) {
                return String(word)
            }
        }
        let tail = near.joined(separator: " ")
        if tail.contains("?") { return "?" }
        // An ASCII tail holds none of the non-ASCII signs, and there a byte search is Foundation's `contains`.
        let asciiTail = tail.utf8.allSatisfy { $0 < 0x80 }
        for sign in ["\\neq", "\\ne ", "\\approx", "≠", "≈"] where asciiTail ? tail.has(sign) : tail.contains(sign) {
            return sign.trimmed()
        }
        // "~3" is "about 3"; `x~=~3` is LaTeX spacing.
        let characters = Array(tail)
        for index in characters.indices.dropLast() where characters[index] == "~" && characters[index + 1].isNumber
            && (index == 0 || characters[index - 1] != "=")
        {
            return "~"
        }
        return nil
    }

    /// ``hedge(in:)`` on the bytes of an ASCII sentence: `.some(hedge)` when decided, `nil` for any other text. Each
    /// ASCII byte is one Character (a carriage return and line feed, one Character, are both white space, so the
    /// words are the same), and for ASCII `isWhitespace` is 0x09–0x0D and the space, `isNumber` the digits,
    /// `isLetter` the Latin letters, and `lowercased()` maps A–Z alone; the non-ASCII signs cannot occur.
    static func asciiHedge(_ bytes: UnsafeBufferPointer<UInt8>) -> String?? {
        guard bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
        let space = ByteRewrite.isWhitespaceCharacter
        let lower = ByteRewrite.foldingCapital
        func digit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
        var words: [Range<Int>] = []
        var index = 0
        while index < bytes.count {
            while index < bytes.count, space(bytes[index]) { index += 1 }
            let start = index
            while index < bytes.count, !space(bytes[index]) { index += 1 }
            if index > start { words.append(start..<index) }
        }
        func hasDigit(_ word: Range<Int>) -> Bool { word.contains { digit(bytes[$0]) } }
        guard let last = words.lastIndex(where: hasDigit) else { return .some(nil) }
        var first = last
        while first > max(0, last - 3), !hasDigit(words[first - 1]) { first -= 1 }
        for word in words[first...] {
            var position = word.lowerBound
            while position < word.upperBound {
                func inWord(_ byte: UInt8) -> Bool {
                    let folded = byte | 0x20
                    return (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(folded) || byte == UInt8(ascii: "'")
                }
                while position < word.upperBound, !inWord(bytes[position]) { position += 1 }
                let start = position
                while position < word.upperBound, inWord(bytes[position]) { position += 1 }
                guard position > start else { continue }
                let run = String(unsafeUninitializedCapacity: position - start) { buffer in
                    for offset in 0..<(position - start) { buffer[offset] = lower(bytes[start + offset]) }
                    return position - start
                }
                if hedgeWords.contains(run) { return .some(run) }
            }
        }
        // The tail: the words from `first` on, lower-cased, joined by single spaces.
        var tail: [UInt8] = []
        for word in words[first...] {
            if !tail.isEmpty { tail.append(0x20) }
            for position in word { tail.append(lower(bytes[position])) }
        }
        if tail.contains(UInt8(ascii: "?")) { return .some("?") }
        let text = String(decoding: tail, as: UTF8.self)
        for (sign, name) in [("\\neq", "\\neq"), ("\\ne ", "\\ne"), ("\\approx", "\\approx")] where text.has(sign) {
            return .some(name)
        }
        for position in tail.indices.dropLast()
        where tail[position] == UInt8(ascii: "~") && digit(tail[position + 1])
            && (position == 0 || tail[position - 1] != UInt8(ascii: "="))
        {
            return .some("~")
        }
        return .some(nil)
    }

    /// The hedge in the sentence that holds the last of the markers (from the marker to the sentence's end,
    /// terminator included), if any.
    static func hedge(inSentenceOf text: String, markers: [String]) -> String? {
        guard mayHoldMarker(text, markers) else { return nil }
        let found = markers.compactMap { text.lastRange(ofMarker: $0, ignoringCase: true) }.max { $0.lowerBound < $1.lowerBound }
        guard let found else { return nil }
        let remainder = String(text[found.upperBound...])
        var rest = remainder
        if let newline = rest.firstIndex(of: "\n") { rest = String(rest[..<newline]) }
        let sentence = firstSentence(rest)
        // The terminator counts: "The answer is 3?" asks.
        let terminator = rest.dropFirst(sentence.count).first.map(String.init) ?? ""
        if let found = hedge(in: sentence + terminator) { return found }
        // "The answer is 3. No wait, it's 4." / "… Alternatively, it could be 4.": a later retraction or hedge.
        return retraction(String(remainder.dropFirst(sentence.count + terminator.count).prefix(600)))
    }

    /// Whether one of the (lower-case) markers may occur in the text, ignoring case: markers that all hold "answer"
    /// cannot occur in a text without it, which one scan tells (instead of one per marker).
    static func mayHoldMarker(_ text: String, _ markers: [String]) -> Bool {
        guard markers.allSatisfy({ $0.has("answer") }) else { return true }
        // One forward scan of the bytes finds what the backward marker search finds (both fold only A–Z).
        if let found = text.utf8.withContiguousStorageIfAvailable({ LatexNormalizer.containsFoldingCapitals($0, "answer") }) {
            return found
        }
        return text.lastRange(ofMarker: "answer", ignoringCase: true) != nil
    }

    /// The last sentence of a text: after the last `.`, `!`, `?` or `:` followed by a space, or line break, that has
    /// text after it (`3.5` is one number, not two sentences).
    static func lastSentence(_ text: String) -> String {
        let trimmed = text.trimmed()
        // ASCII without a carriage return: each byte is one Character, so the walk below runs on the bytes.
        if let found = trimmed.utf8.withContiguousStorageIfAvailable({ bytes -> String? in
            guard bytes.allSatisfy({ $0 < 0x80 && $0 != UInt8(ascii: "\r") }) else { return nil }
            func ends(_ byte: UInt8) -> Bool {
                byte == UInt8(ascii: ".") || byte == UInt8(ascii: "!") || byte == UInt8(ascii: "?")
            }
            var end = bytes.count
            while end > 0, ends(bytes[end - 1]) { end -= 1 }
            var start = end
            while start > 0 {
                let previous = bytes[start - 1]
                if previous == UInt8(ascii: "\n") { break }
                if ends(previous) || previous == UInt8(ascii: ":"), start < bytes.count,
                    ByteRewrite.isWhitespaceCharacter(bytes[start])
                {
                    break
                }
                start -= 1
            }
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[start...]), as: UTF8.self)
        }), let found {
            return found
        }
        let characters = Array(trimmed)
        var end = characters.count
        while end > 0, ".!?".contains(characters[end - 1]) { end -= 1 }
        var start = end
        while start > 0 {
            let previous = characters[start - 1]
            if previous == "\n" { break }
            if ".!?:".contains(previous), start < characters.count, characters[start].isWhitespace { break }
            start -= 1
        }
        return String(characters[start...])
    }

    /// Words after a box that retract or hedge it, if any.
    static func retraction(_ after: String) -> String? {
        let lower = after.lowercased()
        for marker in [
            "wait", "wrong", "incorrect", "mistake", "actually", "alternatively", "or maybe", "or perhaps", "or possibly",
            "not sure", "unsure", "correction", "instead", "scratch that", "on second thought",
        ] where lower.has(marker) {
            return marker
        }
        // `\boxed 3 or 4`: a brace-less box took only the next word.
        let rest = lower.drop { $0 == " " || $0 == "$" || $0 == "." || $0 == "," }
        if rest.hasPrefix("or ") { return "or" }
        return nil
    }

    /// The contents of every `\boxed{…}` and `\fbox{…}` (balanced braces), in order; nested boxes give the outer.
    static func boxedContents(_ text: String) -> [String] {
        guard mayHoldBox(text) else { return [] }
        return boxes(in: ScalarText(text)).map(\.content)
    }

    /// Up to `limit` characters that follow the last box, or `nil` when there is no box.
    static func textAfterLastBox(_ text: String, limit: Int = 40) -> String? {
        guard mayHoldBox(text) else { return nil }
        let characters = ScalarText(text)
        guard let last = boxes(in: characters).last else { return nil }
        return characters.string(last.range.upperBound..<min(characters.count, last.range.upperBound + limit))
    }

    /// Whether the text has a `\boxed` or `\fbox` marker at all (a byte search before any box is looked for).
    static func mayHoldBox(_ text: String) -> Bool {
        text.has("\\boxed") || text.has("\\fbox")
    }

    /// Every box with the character range it spans, `\boxed` included.
    private static func boxes(in characters: ScalarText) -> [(content: String, range: Range<Int>)] {
        var results: [(content: String, range: Range<Int>)] = []
        var index = 0
        let markers: [[Unicode.Scalar]] = [Array("\\boxed".unicodeScalars), Array("\\fbox".unicodeScalars)]
        while index < characters.count {
            guard characters[index] == "\\", let marker = markers.first(where: { matches($0, characters, at: index) }) else {
                index += 1
                continue
            }
            var cursor = index + marker.count
            while cursor < characters.count, characters[cursor] == " " { cursor += 1 }
            guard cursor < characters.count, characters[cursor] == "{" else {
                // `\boxed 5`
                var end = cursor
                while end < characters.count, !characters[end].properties.isWhitespace, characters[end] != "$" { end += 1 }
                if end > cursor { results.append((characters.string(cursor..<end), index..<end)) }
                index = end
                continue
            }
            var depth = 0
            var end = cursor
            while end < characters.count {
                if characters[end] == "{" { depth += 1 }
                if characters[end] == "}" {
                    depth -= 1
                    if depth == 0 { break }
                }
                end += 1
            }
            guard end < characters.count else { break }
            results.append((characters.string((cursor + 1)..<end), index..<(end + 1)))
            index = end + 1
        }
        return results
    }

    private static func matches(_ marker: [Unicode.Scalar], _ characters: ScalarText, at index: Int) -> Bool {
        guard index + marker.count <= characters.count else { return false }
        for offset in 0..<marker.count where characters[index + offset] != marker[offset] { return false }
        return true
    }

    static func lastTagContent(_ text: String, tag: String) -> String? {
        let bytes = Array(text.utf8)
        guard let close = lastIndex(of: Array("</\(tag)>".utf8), in: bytes, before: bytes.count) else { return nil }
        let openTag = Array("<\(tag)>".utf8)
        guard let open = lastIndex(of: openTag, in: bytes, before: close) else { return nil }
        let inner = String(decoding: bytes[(open + openTag.count)..<close], as: UTF8.self).trimmed()
        return inner.isEmpty ? nil : inner
    }

    /// The start of the last occurrence of `target` that ends at or before `limit`.
    static func lastIndex(of target: [UInt8], in bytes: [UInt8], before limit: Int) -> Int? {
        guard !target.isEmpty else { return nil }
        var start = min(limit, bytes.count) - target.count
        while start >= 0 {
            if bytes[start] == target[0] {
                var offset = 1
                while offset < target.count, bytes[start + offset] == target[offset] { offset += 1 }
                if offset == target.count { return start }
            }
            start -= 1
        }
        return nil
    }

    private static func phrase(_ text: String, markers: [String]) -> [String] {
        guard mayHoldMarker(text, markers) else { return [] }
        for marker in markers {
            guard let found = text.lastRange(ofMarker: marker, ignoringCase: true) else { continue }
            var rest = String(text[found.upperBound...])
            if let newline = firstLineFeed(rest) { rest = String(rest[..<newline]) }
            rest = firstSentence(rest).trimmed()
            while let first = rest.first, first == ":" || first == "*" || first == "_" || first == " " { rest.removeFirst() }
            let boxed = boxedContents(rest)
            if !boxed.isEmpty { return boxed }
            if let group = trailingSpanGroup(rest), group.count > 1 { return group }
            if let span = lastMathSpan(rest) {
                // "The largest $n$ is 34": a number after the last span is the answer.
                if let dollar = rest.lastIndex(of: "$"), let number = lastNumber(String(rest[rest.index(after: dollar)...])) {
                    return [number]
                }
                return [span]
            }
            rest = stripTrailingPunctuation(rest.trimmed())
            if !rest.isEmpty { return [rest] }
        }
        return []
    }

    /// The index of the first Character `"\n"`: the first line feed not preceded by a carriage return (a line feed
    /// always stands alone as a Character, except after a carriage return, with which it is one), found on bytes.
    static func firstLineFeed(_ text: String) -> String.Index? {
        var previous: UInt8 = 0
        var offset = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: "\n"), previous != UInt8(ascii: "\r") {
                return text.utf8.index(text.utf8.startIndex, offsetBy: offset)
            }
            previous = byte
            offset += 1
        }
        return nil
    }

    /// Text up to the first sentence end (`.`, `!` or `?` then a space or the end) outside `$…$`.
    private static func firstSentence(_ text: String) -> String {
        var inMath = false
        var previous: Character? = nil
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if character == "$", previous != "\\" { inMath.toggle() }
            if !inMath, character == "." || character == "!" || character == "?" {
                let next = text.index(after: index)
                if next == text.endIndex || text[next].isWhitespace { return String(text[..<index]) }
            }
            previous = character
            index = text.index(after: index)
        }
        return text
    }

    /// The last `$…$`, `$$…$$`, `\(…\)` or `\[…\]` span.
    static func lastMathSpan(_ text: String) -> String? {
        lastMathSpanWithEnd(text)?.content
    }

    /// A number stated in a concluding last sentence after the last math span (which ends at UTF-8 offset `end`) ("$d = \\frac{90}{n}$ … Therefore,
    /// there are 12 sequences."), which is the later and final word.
    static func concludingNumber(in text: String, after end: Int) -> String? {
        let utf8 = text.utf8
        let tail = String(decoding: utf8[utf8.index(utf8.startIndex, offsetBy: end)...], as: UTF8.self)
        // The last sentence must hold one of the concluding words; in an ASCII tail that holds none of them (ASCII
        // capitals folded, as `lowercased()` folds them), no sentence does.
        if tail.utf8.allSatisfy({ $0 < 0x80 }) {
            let folded = tail.lowercased()
            if !Self.concludingWords.contains(where: { folded.has($0) }) { return nil }
        }
        let sentenceStart = tail.lastIndex(where: { $0 == "\n" }).map { tail.index(after: $0) } ?? tail.startIndex
        let sentences = tail[sentenceStart...].split(whereSeparator: { $0 == "." || $0 == "!" || $0 == "?" })
            .filter { $0.contains(where: \.isNumber) }
        guard let last = sentences.last else { return nil }
        let lower = last.lowercased()
        guard Self.concludingWords.contains(where: { lower.has($0) })
        else { return nil }
        return soleNumber(in: String(last))
    }

    /// Words that make a sentence state the answer.
    private static let concludingWords = ["therefore", "thus", "hence", "so ", "in total", "the answer"]

    /// The one number a sentence states, or `nil` when it states none, several ("3, 4, 5"), a formula ("3n") or
    /// hedges or negates ("not 3", "3 or 4", "maybe 3").
    static func soleNumber(in sentence: String) -> String? {
        // Negations and hedges next to the number ("not 3", "3 maybe"); farther before it they restate the question.
        guard hedge(in: sentence) == nil else { return nil }
        var numbers: [String] = []
        for token in sentence.split(whereSeparator: \.isWhitespace) {
            // Closing punctuation dropped from the end, opening from the start (on indices: the reversed views each
            // instantiated generic types at their first use in a process).
            var end = token.endIndex
            while end > token.startIndex, ".,;:!?)\"'".contains(token[token.index(before: end)]) {
                end = token.index(before: end)
            }
            var start = token.startIndex
            while start < end, "(\"'".contains(token[start]) { start = token.index(after: start) }
            let word = token[start..<end]
            if Self.alternatives.contains(word.lowercased()) { return nil }
            guard word.contains(where: \.isNumber) else { continue }
            guard word.allSatisfy({ $0.isNumber || ".,/-%".contains($0) }) else { return nil }
            numbers.append(String(word))
        }
        return numbers.count == 1 ? numbers[0] : nil
    }

    /// Words that offer alternatives anywhere in a sentence ("either 3 or 4").
    private static let alternatives: Set<String> = ["or", "either", "neither", "nor"]

    /// The delimiters of a math span, opening and closing, in the order they are tried: `$$`, `\\[ \\]`, `\\( \\)`, `$`
    /// (built once, not per search).
    private static let spanDelimiters: [([UInt8], [UInt8])] = [("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$")]
        .map { (Array($0.0.utf8), Array($0.1.utf8)) }

    private static func lastMathSpanWithEnd(_ text: String) -> (end: Int, content: String)? {
        // Every span ends in `$`, `\]` or `\)`: one pass over the bytes tells which of them the text holds, and
        // only those pairs are searched (a search for an absent closer scans the whole text backwards for nothing).
        var dollar = false
        var bracket = false
        var parenthesis = false
        var previous: UInt8 = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: "$") {
                dollar = true
            } else if previous == UInt8(ascii: "\\") {
                if byte == UInt8(ascii: "]") { bracket = true } else if byte == UInt8(ascii: ")") { parenthesis = true }
            }
            previous = byte
        }
        guard dollar || bracket || parenthesis else { return nil }
        let bytes = Array(text.utf8)
        let present = [dollar, bracket, parenthesis, dollar]
        var best: (end: Int, content: String)? = nil
        for (index, (openBytes, closeBytes)) in Self.spanDelimiters.enumerated() where present[index] {
            var limit = bytes.count
            while let closing = lastIndex(of: closeBytes, in: bytes, before: limit) {
                if index == 3, closing > 0, bytes[closing - 1] == UInt8(ascii: "\\") {
                    limit = closing
                    continue
                }
                guard let opening = lastIndex(of: openBytes, in: bytes, before: closing) else { break }
                let content = String(decoding: bytes[(opening + openBytes.count)..<closing], as: UTF8.self).trimmed()
                let end = closing + closeBytes.count
                if !content.isEmpty, end > (best?.end ?? -1) { best = (end, content) }
                break
            }
        }
        return best.map { ($0.end, stripTrailingPunctuation($0.content)) }
    }

    /// Whether the text between consecutive boxes is only list punctuation ("," "and" "or", spaces, math
    /// delimiters), so that several boxes read as one list of answers.
    static func boxesSeparatedByConnectives(_ text: String) -> Bool {
        let noise = Set(["", ",", "and", "or", ";", "for", "part", "respectively"])
        return gapsBetweenBoxes(text).allSatisfy { gap in
            var cleaned = gap.lowercased()
            for token in ["$", "\\(", "\\)", "\\[", "\\]", "\\quad", "\\text{", "}", "\\,", "\\ "] where cleaned.has(token) {
                cleaned = cleaned.replacingEvery(token, with: " ")
            }
            // Labels of the parts: "(a)", "y_2 =", "x_{1} =" (each label holds a `(` or an `=`: without either the
            // pattern has nothing to match).
            if cleaned.has("(") || cleaned.has("=") {
                cleaned = DigitGroups.replacingPartLabels(in: cleaned)
                    ?? Patterns.replace(Patterns.partLabels, in: cleaned, with: " ")
            }
            return cleaned.split(whereSeparator: \.isWhitespace).allSatisfy { noise.contains(String($0)) }
        }
    }

    /// Whether every gap between consecutive boxes is at most `limit` characters and joins them with "and", a comma
    /// or a semicolon ("\\boxed{1} papers and \\boxed{2} bins", not "\\boxed{1} no no \\boxed{2}").
    static func boxesJoinedClosely(_ text: String, limit: Int) -> Bool {
        gapsBetweenBoxes(text).allSatisfy { gap in
            guard gap.unicodeScalars.count <= limit else { return false }
            let lower = gap.lowercased()
            return lower.contains(",") || lower.contains(";") || lower.split(whereSeparator: { !$0.isLetter }).contains("and")
        }
    }

    /// The text between each pair of consecutive boxes.
    private static func gapsBetweenBoxes(_ text: String) -> [String] {
        guard mayHoldBox(text) else { return [] }
        let characters = ScalarText(text)
        let found = boxes(in: characters)
        return zip(found, found.dropFirst()).map { characters.string($0.range.upperBound..<$1.range.lowerBound) }
    }

    /// The last `$…$` spans joined only by "or", "and", commas and the like ("$4$ or $3$"): several candidates,
    /// which the caller judges as a hedge unless the reference is a list.
    static func trailingSpanGroup(_ text: String) -> [String]? {
        // Five parts need four dollar signs once `\(` and `\)` are written as `$`: at most the dollar signs and the
        // backslashes before a parenthesis, counted on bytes first.
        var delimiters = 0
        var previous: UInt8 = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: "$")
                || previous == UInt8(ascii: "\\") && (byte == UInt8(ascii: "(") || byte == UInt8(ascii: ")"))
            {
                delimiters += 1
            }
            previous = byte
        }
        guard delimiters >= 4 else { return nil }
        let parts = dollarSeparated(Self.inlineDelimiters.apply(text))
        guard parts.count >= 5 else { return nil }
        var group: [String] = []
        var index = parts.count % 2 == 1 ? parts.count - 2 : parts.count - 3
        while index >= 1 {
            let span = parts[index].trimmed()
            // Collected last to first and reversed once: inserting each at the front was quadratic.
            if !span.isEmpty { group.append(span) }
            guard index >= 3, Self.isConnective(parts[index - 1]) else { break }
            index -= 2
        }
        return group.count > 1 ? group.reversed() : nil
    }

    /// `\(…\)` written as `$…$`, so that spans of both kinds group alike.
    private static let inlineDelimiters = TextReplacer([("\\(", "$", wholeCommand: false), ("\\)", "$", wholeCommand: false)])

    private static func isConnective(_ gap: String) -> Bool {
        if gap.isEmpty { return true }
        let words = gap.lowercased().split(whereSeparator: { !$0.isLetter })
        let allowed: Set<String> = ["or", "and", "nor", "either", "neither", "also", "maybe", "perhaps", "possibly"]
        let cleaned = gap.filter { !$0.isLetter && !$0.isWhitespace }
        return words.allSatisfy { allowed.contains(String($0)) } && cleaned.allSatisfy { $0 == "," || $0 == ";" || $0 == "/" }
    }

    /// The last number, or every number of the last sentence when that sentence offers alternatives
    /// ("either 4 or 3", "4 3", "answers: 4, 3").
    static func lastNumberCandidates(_ text: String) -> [String] {
        guard let last = lastNumber(text) else { return [] }
        // "Possible answers:\n41\n42": a response ending in a column of different bare numbers offers a list.
        let column = trailingNumberColumn(text)
        if Set(column).count > 1 { return column }
        var sentence = lastSentence(text)
        if sentence.trimmed().isEmpty || !sentence.contains(where: \.isNumber) { sentence = text }
        let numbers = sentence.split(whereSeparator: { !($0.isNumber || $0 == "." || $0 == "/" || $0 == "-") })
            .filter { $0.contains(where: \.isNumber) }.map(String.init)
        // Alternatives matter only when the sentence states several numbers.
        guard numbers.count > 1 else { return [last] }
        let lower = sentence.lowercased()
        // On an ASCII sentence a byte search is Foundation's `contains` (no decompositions, no composed sequences).
        let ascii = lower.utf8.allSatisfy { $0 < 0x80 }
        let alternatives = [" or ", "either", "neither", " nor "].contains { word in
            ascii ? lower.has(word) : lower.contains(word)
        }
            || sentence.allSatisfy { $0.isNumber || $0.isWhitespace || $0 == "." || $0 == "," || $0 == "-" }
        return alternatives ? numbers : [last]
    }

    /// The shortest prompt (in characters) cut out of a response that repeats it verbatim.
    static let minimumEchoedPrompt = 12

    /// The bare numbers on the response's last lines, when two or more consecutive last lines hold only a number
    /// (optionally after a list marker: `-`, `*`, `•`, `1.`, `a)`); empty otherwise.
    static func trailingNumberColumn(_ text: String) -> [String] {
        // Two lines need a line feed between them.
        guard text.utf8.contains(UInt8(ascii: "\n")) else { return [] }
        var numbers: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true).reversed().prefix(64) {
            var item = line.trimmingCharacters(in: .whitespaces)
            if item.isEmpty { continue }
            for marker in ["- ", "* ", "• "] where item.hasPrefix(marker) { item = String(item.dropFirst(2)) }
            if let dot = item.firstIndex(where: { $0 == "." || $0 == ")" }), item[..<dot].count <= 2,
                item[..<dot].allSatisfy({ $0.isLetter || $0.isNumber }), item[item.index(after: dot)...].hasPrefix(" ")
            {
                item = item[item.index(after: dot)...].trimmingCharacters(in: .whitespaces)
            }
            let bare = item.hasSuffix(".") ? String(item.dropLast()) : item
            guard !bare.isEmpty, bare.count <= 40,
                bare.allSatisfy({ $0.isNumber || $0 == "." || $0 == "," || $0 == "/" || $0 == "-" }),
                bare.contains(where: \.isNumber)
            else { break }
            numbers.append(bare)
        }
        return numbers.count >= 2 ? numbers.reversed() : []
    }

    /// The parts of a text between its `$` signs (as `components(separatedBy: "$")`, split on bytes).
    static func dollarSeparated(_ text: String) -> [String] {
        text.utf8.split(separator: UInt8(ascii: "$"), omittingEmptySubsequences: false).map { String(Substring($0)) }
    }

    /// Every `$…$` span, in order.
    static func mathSpans(_ text: String) -> [String] {
        let parts = dollarSeparated(text)
        guard parts.count >= 3 else { return [] }
        return stride(from: 1, to: parts.count - 1, by: 2).map { parts[$0].trimmed() }
            .filter { !$0.isEmpty }
    }

    /// Whether the text between `$…$` spans is only "and", "or", commas and spaces.
    static func onlyConnectives(between text: String) -> Bool {
        let parts = dollarSeparated(text)
        guard parts.count >= 3 else { return false }
        return stride(from: 2, to: parts.count - 1, by: 2).allSatisfy { index in
            let gap = parts[index].lowercased().trimmed()
            return ["", ",", "and", "or", ", and", ", or"].contains(gap)
        }
    }

    /// The last number in the text, such as `-12`, `3.5`, `1,000` or `3/4`, not glued to letters.
    /// Unit symbols a number may be glued to ("1,000.99m²", "5cm"), unlike variables ("3n") or ordinals ("2nd").
    static let units: Set<String> = [
        "m", "cm", "mm", "km", "g", "kg", "mg", "ms", "hr", "hrs", "min", "mins", "ml", "ft", "yd", "mi", "lb", "lbs",
        "oz", "mph", "kmh", "kph", "kw", "hz", "khz", "kj", "kpa", "usd",
    ]

    static func lastNumber(_ text: String) -> String? {
        let characters = Array(text)
        var index = characters.count - 1
        while true {
            while index >= 0, !(characters[index].isASCII && characters[index].isNumber) { index -= 1 }
            guard index >= 0 else { return nil }
            if index + 1 < characters.count, characters[index + 1].isLetter,
                !Self.units.contains(String(characters[(index + 1)...].prefix { $0.isLetter }).lowercased())
            {
                while index >= 0, characters[index].isNumber { index -= 1 }
                continue
            }
            var start = index
            while start >= 0, characters[start].isNumber || characters[start] == "." || characters[start] == "," || characters[start] == "/" { start -= 1 }
            if start >= 0, characters[start].isLetter {
                index = start
                continue
            }
            break
        }
        let end = index + 1
        while index >= 0, characters[index].isASCII && characters[index].isNumber || characters[index] == "." || characters[index] == ","
            || characters[index] == "/"
        {
            index -= 1
        }
        var start = index + 1
        while start < end, !(characters[start].isNumber) { start += 1 }
        if index >= 0, characters[index] == "-" { start = index }
        // "11 6/6": a whole number before a fraction belongs to it (a mixed number, valid or not).
        if characters[start..<end].contains("/"), index >= 1, characters[index] == " ", characters[index - 1].isNumber {
            var wholeStart = index - 1
            while wholeStart > 0, characters[wholeStart - 1].isNumber { wholeStart -= 1 }
            start = wholeStart
        }
        return String(characters[start..<end])
    }

    static func stripMathDelimiters(_ text: String) -> String {
        var value = text.trimmed()
        for (open, close) in [("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$")] where value.hasPrefix(open) && value.hasSuffix(close) && value.count >= open.count + close.count {
            value = String(value.dropFirst(open.count).dropLast(close.count))
            break
        }
        return value.trimmed()
    }

    static func stripTrailingPunctuation(_ text: String) -> String {
        // A last byte that is ASCII and neither punctuation nor space ends no dots and no punctuation character.
        if let last = text.utf8.last, last < 0x80, !MathParser.isSpace(Character(Unicode.Scalar(last))),
            last != UInt8(ascii: "."), last != UInt8(ascii: ","), last != UInt8(ascii: ";"), last != UInt8(ascii: ":")
        {
            return text.trimmed()
        }
        if text.hasSuffix("...") || text.hasSuffix("…") { return text.trimmed() }  // an open-ended list keeps its dots
        var value = text
        while let last = value.last, last == "." || last == "," || last == ";" || last == ":" { value.removeLast() }
        return value.trimmed()
    }
}

/// A text as Unicode scalars (one "character" each, as the box scanner counts them), with the UTF-8 offset of each
/// so that a range of scalars is cut out as a string by copying its bytes.
struct ScalarText {
    private let bytes: [UInt8]
    /// Whether every byte is ASCII: then each byte is one scalar at its own offset, and the two arrays below stay empty.
    private let ascii: Bool
    private let scalars: [Unicode.Scalar]
    /// The UTF-8 offset of each scalar, and of the end.
    private let offsets: [Int]

    init(_ text: String) {
        bytes = Array(text.utf8)
        if bytes.allSatisfy({ $0 < 0x80 }) {
            ascii = true
            scalars = []
            offsets = []
            return
        }
        ascii = false
        var scalars: [Unicode.Scalar] = []
        var offsets: [Int] = []
        scalars.reserveCapacity(bytes.count)
        offsets.reserveCapacity(bytes.count + 1)
        var offset = 0
        for scalar in text.unicodeScalars {
            scalars.append(scalar)
            offsets.append(offset)
            offset += UTF8.width(scalar)
        }
        offsets.append(offset)
        self.scalars = scalars
        self.offsets = offsets
    }

    var count: Int { ascii ? bytes.count : scalars.count }

    subscript(index: Int) -> Unicode.Scalar { ascii ? Unicode.Scalar(bytes[index]) : scalars[index] }

    /// The scalars in `range`, as a string.
    func string(_ range: Range<Int>) -> String {
        if ascii { return String(decoding: bytes[range], as: UTF8.self) }
        return String(decoding: bytes[offsets[range.lowerBound]..<offsets[range.upperBound]], as: UTF8.self)
    }
}

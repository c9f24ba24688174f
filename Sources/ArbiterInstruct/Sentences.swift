// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

/// The two sentence rules the constraints use, and a word tokenizer.
enum Sentences {
    // MARK: The rule-based splitter of IFEval's utilities (used by IFBench and open-instruct)

    private static let prefixes = Pattern("(Mr|St|Mrs|Ms|Dr)[.]")
    private static let websites = Pattern("[.](com|net|org|io|gov|edu|me)")
    private static let decimals = Pattern("([0-9])[.]([0-9])")
    private static let dots = Pattern("\\.{2,}")
    private static let singleLetter = Pattern("\\s([A-Za-z])[.] ")
    private static let starters =
        "(Mr|Mrs|Ms|Dr|Prof|Capt|Cpt|Lt|He\\s|She\\s|It\\s|They\\s|Their\\s|Our\\s|We\\s|But\\s|However\\s|That\\s|This\\s|Wherever)"
    private static let acronymThenStarter = Pattern("([A-Z][.][A-Z][.](?:[A-Z][.])?) " + starters)
    private static let threeLetters = Pattern("([A-Za-z])[.]([A-Za-z])[.]([A-Za-z])[.]")
    private static let twoLetters = Pattern("([A-Za-z])[.]([A-Za-z])[.]")
    private static let suffixThenStarter = Pattern(" (Inc|Ltd|Jr|Sr|Co)[.] " + starters)
    private static let suffix = Pattern(" (Inc|Ltd|Jr|Sr|Co)[.]")
    private static let letterDot = Pattern(" ([A-Za-z])[.]")

    /// Splits text into sentences with the rules of IFEval's `split_into_sentences`: abbreviations (Mr., Inc., Ph.D.,
    /// initials, acronyms, decimals, web domains) keep their periods; `.`, `?` and `!` end a sentence; runs of dots
    /// end one too; pieces are stripped and a trailing empty one dropped.
    static func split(_ input: String) -> [String] { pieces(input).strings }

    /// The sentences of ``split(_:)`` as ranges of one buffer, without a string made for each: for the checks that
    /// count them or read their scalars.
    static func pieces(_ input: String) -> SentencePieces {
        // Text without any terminator is one sentence (or none): the fast path of most list items and lines.
        if !input.utf8.contains(where: { $0 == 0x2E || $0 == 0x3F || $0 == 0x21 }) {
            let bytes = input.utf8.map { $0 == 0x0A ? 0x20 : $0 }
            let range = bytes.withUnsafeBufferPointer { SentencePieces.stripped($0, 0..<$0.count) }
            return SentencePieces(bytes: bytes, ranges: range.isEmpty ? [] : [range])
        }
        var text: [UInt8] = []
        text.reserveCapacity(input.utf8.count + 3)
        text.append(0x20)
        for byte in input.utf8 { text.append(byte == 0x0A ? 0x20 : byte) }
        text.append(0x20)
        text.append(0x20)
        let has = { (byte: UInt8) in text.contains(byte) }
        // Each pass runs only when the text holds what its pattern needs around a '.' (checked on the text as the
        // earlier passes left it): most sentences hold no abbreviation, and a pass that cannot match costs a scan.
        // "Mr.", "St.", "Mrs.", "Ms." or "Dr." (the text starts and ends with spaces, so a '.' is never its first or
        // last byte).
        let afterPrefix = { (text: [UInt8], at: Int) in
            guard at >= 2 else { return false }
            return switch (text[at - 2], text[at - 1]) {
            case (0x4D, 0x72), (0x53, 0x74), (0x4D, 0x73), (0x44, 0x72): true  // Mr St Ms Dr
            case (0x72, 0x73): at >= 3 && text[at - 3] == 0x4D  // Mrs
            default: false
            }
        }
        if Self.dot(in: text, where: afterPrefix) {
            text = prefixes.replace(bytes: text) { "\($0[1]!)<prd>" }
        }
        if Self.dot(in: text, where: { text, at in Self.isWebsiteStart(text[at + 1]) }) {
            text = websites.replace(bytes: text) { "<prd>\($0[1]!)" }
        }
        if Self.dot(in: text, where: { text, at in Self.isDigit(text[at - 1]) && Self.isDigit(text[at + 1]) }) {
            text = decimals.replace(bytes: text) { "\($0[1]!)<prd>\($0[2]!)" }
        }
        if Bytes.contains(text, "..") {
            text = dots.replace(bytes: text) { String(repeating: "<prd>", count: $0[0]!.utf8.count) + "<stop>" }
        }
        if Bytes.contains(text, "Ph.D") { text = Bytes.replaceAll(text, "Ph.D.", "Ph<prd>D<prd>") }
        if Self.dot(in: text, where: { text, at in Self.isLetter(text[at - 1]) && text[at + 1] == 0x20 }) {
            text = singleLetter.replace(bytes: text) { " \($0[1]!)<prd> " }
        }
        // "A.B." (letter, dot, letter, dot) is what the acronym and initials patterns need.
        let lettersAndDots = { (text: [UInt8]) in
            Self.dot(in: text) { text, at in
                at + 2 < text.count && Self.isLetter(text[at - 1]) && Self.isLetter(text[at + 1]) && text[at + 2] == 0x2E
            }
        }
        if lettersAndDots(text) {
            text = acronymThenStarter.replace(bytes: text) { "\($0[1]!)<stop> \($0[2]!)" }
            if lettersAndDots(text) {
                text = threeLetters.replace(bytes: text) { "\($0[1]!)<prd>\($0[2]!)<prd>\($0[3]!)<prd>" }
            }
            if lettersAndDots(text) { text = twoLetters.replace(bytes: text) { "\($0[1]!)<prd>\($0[2]!)<prd>" } }
        }
        // " Inc.", " Ltd.", " Jr.", " Sr.", " Co.": a dot after "nc", "td", "Jr", "Sr" or "Co" (both patterns need one
        // of these before a dot; the space before it is left to the pattern).
        let suffixDot = { (text: [UInt8]) in
            Self.dot(in: text) { text, at in
                guard at >= 2 else { return false }
                return switch (text[at - 2], text[at - 1]) {
                case (0x6E, 0x63), (0x74, 0x64), (0x4A, 0x72), (0x53, 0x72), (0x43, 0x6F): true  // nc td Jr Sr Co
                default: false
                }
            }
        }
        if suffixDot(text) {
            text = suffixThenStarter.replace(bytes: text) { " \($0[1]!)<stop> \($0[2]!)" }
            if suffixDot(text) { text = suffix.replace(bytes: text) { " \($0[1]!)<prd>" } }
        }
        if Self.dot(in: text, where: { text, at in at >= 2 && Self.isLetter(text[at - 1]) && text[at - 2] == 0x20 }) {
            text = letterDot.replace(bytes: text) { " \($0[1]!)<prd>" }
        }
        text = Bytes.replaceAll(text, ".\u{201D}", "\u{201D}.")
        if has(0x22) {
            text = Bytes.replaceAll(text, ".\"", "\".")
            text = Bytes.replaceAll(text, "!\"", "\"!")
            text = Bytes.replaceAll(text, "?\"", "\"?")
        }
        // What remains, in one pass: `.`, `?` and `!` end a sentence (Python appends "<stop>" after each), then
        // "<prd>" becomes "." again, then the text is split at "<stop>". No marker can be made or broken by another's
        // replacement ('.', '?' and '!' are in neither marker), so reading the markers as found is the same.
        // The text is copied once into one buffer, each "<prd>" as a dot and each "<stop>" dropped, and each sentence
        // is the stripped range between two ends (no string is made for it here).
        let count = text.count
        var ranges: [Range<Int>] = []
        let bytes = text.withUnsafeBufferPointer { text in
            [UInt8](unsafeUninitializedCapacity: count) { out, written in
                var start = 0
                var index = 0
                written = 0
                func marker(_ name: StaticString) -> Bool {
                    let length = name.utf8CodeUnitCount
                    guard index + length <= count else { return false }
                    for offset in 1..<length where text[index + offset] != name.utf8Start[offset] { return false }
                    return true
                }
                func close() {
                    ranges.append(SentencePieces.stripped(UnsafeBufferPointer(rebasing: out[..<written]), start..<written))
                    start = written
                }
                while index < count {
                    let byte = text[index]
                    switch byte {
                    case 0x2E, 0x3F, 0x21:  // . ? !
                        out[written] = byte
                        written += 1
                        index += 1
                        close()
                    case 0x3C where marker("<stop>"):
                        close()
                        index += 6
                    case 0x3C where marker("<prd>"):
                        out[written] = 0x2E
                        written += 1
                        index += 5
                    default:
                        out[written] = byte
                        written += 1
                        index += 1
                    }
                }
                close()
            }
        }
        if let last = ranges.last, last.isEmpty { ranges.removeLast() }
        return SentencePieces(bytes: bytes, ranges: ranges)
    }

    /// Whether some '.' in `text` (neither its first nor its last byte) satisfies `test` (given the text and the dot's index).
    private static func dot(in text: [UInt8], where test: ([UInt8], Int) -> Bool) -> Bool {
        guard text.count >= 3 else { return false }
        for index in 1..<(text.count - 1) where text[index] == 0x2E && test(text, index) { return true }
        return false
    }

    private static func isLetter(_ byte: UInt8) -> Bool { (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) }
    private static func isDigit(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) }
    /// The first letters of com, net, org, io, gov, edu, me.
    private static func isWebsiteStart(_ byte: UInt8) -> Bool { [0x63, 0x6E, 0x6F, 0x69, 0x67, 0x65, 0x6D].contains(byte) }

    // MARK: Arbiter's sentence rule (in place of NLTK's trained Punkt model)

    /// Counts sentences with Arbiter's rule, which stands in for NLTK's Punkt model (whose trained data cannot be
    /// shipped here) and follows what Punkt does without training data: a sentence ends after a run of `.`, `!` or
    /// `?` (with any closing quotes or brackets) that is followed by whitespace, or directly by one of
    /// `* : ; @ ( [ {`; not after an ellipsis (two or more dots) nor after a one-letter initial (`J. Smith`), unless
    /// the next word holds `?!` or `!!`; a run like `?!` not followed by a space ends a sentence after its first mark
    /// (`Really?!` at the very end counts as two). Only ASCII whitespace separates (a no-break space does not). Text after the last break is a
    /// sentence when it holds a non-space.
    static func count(_ text: Scalars) -> Int { bounds(text).count }

    /// The sentences of Arbiter's rule, as scalar ranges.
    static func bounds(_ text: Scalars) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var start = 0
        var index = 0
        let count = text.count
        while index < count {
            guard isTerminator(text[index]) else {
                index += 1
                continue
            }
            let runStart = index
            while index < count, isTerminator(text[index]) { index += 1 }
            let runEnd = index
            while index < count, closers.contains(text[index]) { index += 1 }
            let run = text[runStart..<runEnd]
            let ellipsis = run.count >= 2 && run.allSatisfy { $0 == "." }
            let initial =
                run.count == 1 && run.first == "." && runStart >= 1 && text[runStart - 1].isPyWord
                && !text[runStart - 1].isPyDigit
                && (runStart == 1 || text[runStart - 2].isPySpace || "([{\"'`".unicodeScalars.contains(text[runStart - 2]))
            if ellipsis || initial {
                // Punkt still breaks here when the next word holds `?!` or `!!` (its word tokens then hold a
                // sentence end that is not the context's last token).
                if index < count, isASCIISpace(text[index]), nextWordHasDoubleMark(text, from: index) {
                    appendSentence(text, start..<index, to: &result)
                    start = index
                }
                continue
            }
            var rest = index
            while rest < count, text[rest].isPySpace { rest += 1 }
            // A run of marks whose second is `?` or `!`, not followed by a space (or a follower), ends a sentence
            // after its first mark: `Really?!` at the end is two, as is `Why?!so` in Punkt.
            let splitsAfterFirst = index == runEnd && run.count >= 2 && (text[runStart + 1] == "?" || text[runStart + 1] == "!")
            if rest == count {
                if splitsAfterFirst {
                    appendSentence(text, start..<runStart + 1, to: &result)
                    start = runStart + 1
                }
                break
            }
            if index < count, isASCIISpace(text[index]) {
                appendSentence(text, start..<index, to: &result)
                start = index
            } else if index == runEnd, index < count, followers.contains(text[index]) {
                appendSentence(text, start..<index, to: &result)
                start = index
            } else if splitsAfterFirst {
                appendSentence(text, start..<runStart + 1, to: &result)
                start = runStart + 1
            }
        }
        appendSentence(text, start..<count, to: &result)
        return result
    }

    /// Punkt separates words on ASCII whitespace only: a no-break space does not end a sentence.
    private static func isASCIISpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" || scalar == "\u{0B}" || scalar == "\u{0C}"
    }

    private static func nextWordHasDoubleMark(_ text: Scalars, from index: Int) -> Bool {
        var position = index
        while position < text.count, isASCIISpace(text[position]) { position += 1 }
        var previousMark = false
        while position < text.count, !isASCIISpace(text[position]) {
            let mark = text[position] == "?" || text[position] == "!"
            if mark && previousMark { return true }
            previousMark = mark
            position += 1
        }
        return false
    }

    private static func isTerminator(_ scalar: Unicode.Scalar) -> Bool { scalar == "." || scalar == "!" || scalar == "?" }

    private static let closers: ScalarSet = ["\"", "'", ")", "]", "}", "\u{201D}", "\u{2019}", "\u{BB}"]
    private static let followers: ScalarSet = ["*", ":", ";", "@", "(", "[", "{"]

    private static func appendSentence(_ text: Scalars, _ range: Range<Int>, to result: inout [Range<Int>]) {
        var lower = range.lowerBound
        var upper = range.upperBound
        while lower < upper, text[lower].isPySpace { lower += 1 }
        while upper > lower, text[upper - 1].isPySpace { upper -= 1 }
        if lower < upper { result.append(lower..<upper) }
    }

    // MARK: Word tokens (in place of NLTK's word_tokenize)

    private static let splitOff = ScalarSet(",;:@#$%&?!()[]{}<>*\"`\u{201C}\u{201D}\u{2018}\u{AB}\u{BB}".unicodeScalars)
    private static let contractions: [Scalars] = ["n't", "'s", "'m", "'d", "'ll", "'re", "'ve"].map { Array($0.unicodeScalars) }

    /// Word tokens in the manner of NLTK's Treebank tokenizer, sentence by sentence (Arbiter's sentence rule):
    /// whitespace separates; quotes, brackets and `, ; : @ # $ % & ? ! *` are tokens of their own (a comma or
    /// colon inside a number stays); a sentence's final period is a token; `...` is one token; the clitics
    /// `n't 's 'm 'd 'll 're 've` are split from their word. Double quotes become `` and ''.
    static func wordTokens(_ text: Scalars) -> [String] {
        var tokens: [String] = []
        forEachWordToken(text) { tokens.append(Py.string($0)) }
        return tokens
    }

    /// How many word tokens ``wordTokens(_:)`` gives, without making them.
    static func wordTokenCount(_ text: Scalars) -> Int {
        var count = 0
        forEachWordToken(text) { _ in count += 1 }
        return count
    }

    /// Each token of ``wordTokens(_:)`` in order, as its scalars (a slice valid only during the call): for the checks
    /// that count tokens or test each one, without a string made for each.
    static func forEachWordToken(_ text: Scalars, _ body: (ArraySlice<Unicode.Scalar>) -> Void) {
        for range in bounds(text) {
            tokenize(Array(text[range]), body)
        }
    }

    private static let openingQuotes: Scalars = ["`", "`"]
    private static let closingQuotes: Scalars = ["'", "'"]
    private static let backtick: Scalars = ["`"]
    /// The last letters of the clitics, either case: a word ending otherwise cannot end with one once lowercased (no
    /// other scalar's lowercase mapping ends in one of these ASCII letters).
    private static let cliticEnds = ScalarSet("tTsSmMdDlLeE".unicodeScalars)

    /// Ends the current token, splitting a clitic off its word.
    private static func flush(_ current: inout Scalars, _ body: (ArraySlice<Unicode.Scalar>) -> Void) {
        guard let last = current.last else { return }
        if cliticEnds.contains(last) {
            let lowered = Py.lower(current)
            for contraction in contractions where current.count > contraction.count && Py.hasSuffix(lowered, contraction) {
                body(current.dropLast(contraction.count))
                body(current.suffix(contraction.count))
                current.removeAll(keepingCapacity: true)
                return
            }
        }
        body(current[...])
        current.removeAll(keepingCapacity: true)
    }

    private static func tokenize(_ sentence: Scalars, _ body: (ArraySlice<Unicode.Scalar>) -> Void) {
        var pieces = Py.split(sentence)
        // Pieces from this index on were split off the last word (its final period and closers), not by a space.
        var spacedCount = pieces.count
        // The sentence's final period (possibly before closing quotes or brackets) is its own token.
        if var last = pieces.popLast() {
            var tail: [Scalars] = []
            while let end = last.last, closers.contains(end), last.count > 1 {
                tail.append([end])
                last.removeLast()
            }
            if last.count > 1, last.last == ".", last[last.count - 2] != "." {
                last.removeLast()
                tail.append(["."])
            }
            tail.reverse()
            pieces.append(last)
            pieces.append(contentsOf: tail)
            spacedCount = pieces.count - tail.count
        }
        // One buffer for the word being read, emptied by each flush (every piece ends with one).
        var current: Scalars = []
        for (pieceIndex, piece) in pieces.enumerated() {
            var index = 0
            while index < piece.count {
                let scalar = piece[index]
                if scalar == ".", index + 1 < piece.count, piece[index + 1] == "." {
                    flush(&current, body)
                    var end = index
                    while end < piece.count, piece[end] == "." { end += 1 }
                    body(piece[index..<end])
                    index = end
                    continue
                }
                if scalar == "`" {
                    flush(&current, body)
                    var end = index
                    while end < piece.count, piece[end] == "`" { end += 1 }
                    let run = end - index
                    for _ in 0..<(run / 2) { body(openingQuotes[...]) }
                    if run % 2 == 1 { body(backtick[...]) }
                    index = end
                    continue
                }
                if (scalar == "," || scalar == ":"), index + 1 < piece.count, piece[index + 1].isPyDigit, !current.isEmpty {
                    current.append(scalar)
                } else if scalar == "\"" {
                    // Opening when it starts the sentence, follows a space or an opening bracket; closing otherwise.
                    let opening =
                        index == 0 ? pieceIndex < spacedCount : "([{<".unicodeScalars.contains(piece[index - 1])
                    flush(&current, body)
                    body(opening ? openingQuotes[...] : closingQuotes[...])
                } else if splitOff.contains(scalar) {
                    flush(&current, body)
                    body(piece[index..<(index + 1)])
                } else {
                    current.append(scalar)
                }
                index += 1
            }
            flush(&current, body)
        }
    }
}

extension String {
    /// Every occurrence of a literal replaced (`str.replace`).
    func replacingAll(_ target: String, _ replacement: String) -> String {
        let parts = components(target)
        return parts.count == 1 ? self : parts.joined(separator: replacement)
    }

    /// `str.split(separator)` for a literal, non-empty separator, on scalars.
    func components(_ separator: String) -> [String] {
        Py.split(Array(unicodeScalars), separator: Array(separator.unicodeScalars)).map { Py.string($0) }
    }
}

/// The sentences of IFEval's splitter as ranges of one buffer of UTF-8 (the text as its rules left it, each
/// abbreviation's marker a dot again): a sentence's string or scalars are made only when a check reads them.
struct SentencePieces {
    /// The text the ranges index, valid UTF-8 (the rules change only ASCII, at scalar boundaries).
    let bytes: [UInt8]
    /// Each sentence, stripped of Python's whitespace (an empty range for an empty sentence).
    let ranges: [Range<Int>]

    /// How many sentences.
    var count: Int { ranges.count }

    /// Whether there are none.
    var isEmpty: Bool { ranges.isEmpty }

    /// Sentence `index` as a string.
    func string(_ index: Int) -> String { String(decoding: bytes[ranges[index]], as: UTF8.self) }

    /// Sentence `index` as scalars.
    func scalars(_ index: Int) -> Scalars {
        bytes.withUnsafeBufferPointer { Py.scalars(utf8: UnsafeBufferPointer(rebasing: $0[ranges[index]])) }
    }

    /// Every sentence as a string (what ``Sentences/split(_:)`` returns).
    var strings: [String] { ranges.indices.map(string) }

    /// `range` of valid UTF-8 without Python's whitespace at either end (ASCII tested on the byte, other scalars
    /// decoded).
    static func stripped(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Range<Int> {
        var lower = range.lowerBound
        var upper = range.upperBound
        while lower < upper {
            let (scalar, length) = scalar(in: bytes, at: lower)
            guard scalar.isPySpace else { break }
            lower += length
        }
        while upper > lower {
            var start = upper - 1
            while bytes[start] & 0xC0 == 0x80 { start -= 1 }
            guard scalar(in: bytes, at: start).scalar.isPySpace else { break }
            upper = start
        }
        return lower..<upper
    }

    /// The scalar whose UTF-8 starts at `at`, and its length.
    private static func scalar(in bytes: UnsafeBufferPointer<UInt8>, at: Int) -> (scalar: Unicode.Scalar, length: Int) {
        let lead = UInt32(bytes[at])
        if lead < 0x80 { return (Unicode.Scalar(UInt8(lead)), 1) }
        if lead < 0xE0 { return (Unicode.Scalar((lead & 0x1F) << 6 | UInt32(bytes[at + 1] & 0x3F)) ?? "\u{FFFD}", 2) }
        if lead < 0xF0 {
            let value = (lead & 0x0F) << 12 | UInt32(bytes[at + 1] & 0x3F) << 6 | UInt32(bytes[at + 2] & 0x3F)
            return (Unicode.Scalar(value) ?? "\u{FFFD}", 3)
        }
        let value = (lead & 0x07) << 18 | UInt32(bytes[at + 1] & 0x3F) << 12 | UInt32(bytes[at + 2] & 0x3F) << 6
            | UInt32(bytes[at + 3] & 0x3F)
        return (Unicode.Scalar(value) ?? "\u{FFFD}", 4)
    }
}

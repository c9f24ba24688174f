// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation

/// Rewrites an answer's LaTeX or plain text into the form the parser reads.
enum LatexNormalizer {
    /// Whether the answer, once normalised, is plain words (a text answer) rather than math.
    static func textAnswer(_ text: String) -> String? {
        textAnswer(prepared: prepare(AnswerExtractor.stripTrailingPunctuation(text.trimmed())))
    }

    /// Command names and spellings that are math, not words of a text answer.
    private static let mathWords: Set<String> = MathParser.functions.union([
        "pi", "infinity", "inf", "frac", "sqrt", "infty", "cdot", "times", "left", "right", "dfrac", "tfrac", "text",
        "mathrm", "circ", "pm", "le", "ge", "leq", "geq", "cup", "in", "lt", "gt", "neq", "binom", "lfloor", "rfloor",
        "lceil", "rceil", "alpha", "beta", "gamma", "theta", "emptyset", "varnothing", "mathbf", "operatorname",
        "displaystyle", "quad",
    ])

    /// The text answer of an answer already through ``prepare(_:)``.
    static func textAnswer(prepared value: String) -> String? {
        // A fraction is never a text answer; nor is an ASCII answer without two letters in a row outside commands
        // (the words below are such runs). Both are checked first, on bytes.
        if value.has("\\frac") || !mayHoldWord(value) { return nil }
        var bare = value.has("\\") ? blankCommands(value) : value
        if holdsFoldingCapitals(bare, "percent") || holdsFoldingCapitals(bare, "pct") {
            bare = DigitGroups.replacingPercentWords(in: bare)
                ?? Patterns.replace(Patterns.percentWords, in: bare, with: "%")
        }
        let letters: Int
        let words: [String]
        let mathy: Bool
        if let ascii = asciiWords(bare) {
            (letters, words, mathy) = ascii
        } else {
            letters = bare.filter(\.isLetter).count
            words = bare.split(whereSeparator: { !$0.isLetter }).filter { $0.count >= 2 }.map { String($0) }
            mathy = bare.contains { $0.isNumber || "^+=*/()[]{}_<>|".contains($0) }
        }
        let wordy = words.contains { word in
            let lower = word.lowercased()
            guard !mathWords.contains(lower) else { return false }
            // In a formula, an upper-case run such as `MBCN` or `ABCD` names points, not words.
            if mathy, !word.contains(where: \.isLowercase) { return false }
            // Outside a formula, three or more capitals alone (`HHT`, `RRR`) are a sequence — coin flips, moves,
            // vertices — whose order counts, not a product (`HHT` is not `HTH`, `RRR` is not `R^3`).
            if !mathy, words.count == 1, word.count >= 3, letters == word.count, word.allSatisfy({ $0.isASCII && $0.isUppercase }) {
                return true
            }
            return word.count >= 4 || (!mathy && lower.contains(where: { "aeiou".contains($0) }))
        }
        guard letters >= 2, wordy, !value.has("\\frac") else {
            return nil
        }
        let joined = String(value.lowercased().filter { $0 != "\\" }).split(whereSeparator: \.isWhitespace)
            .joined(separator: " ")
        return trimmingSentencePunctuation(joined)
    }

    /// `text.trimmingCharacters(in: CharacterSet(charactersIn: ".,;:!"))`: on the bytes of an ASCII text (each byte a
    /// scalar, which is what Foundation trims), through Foundation for any other.
    static func trimmingSentencePunctuation(_ text: String) -> String {
        let trimmed = text.withASCIIBytes { bytes -> String in
            func punctuation(_ byte: UInt8) -> Bool {
                byte == UInt8(ascii: ".") || byte == UInt8(ascii: ",") || byte == UInt8(ascii: ";")
                    || byte == UInt8(ascii: ":") || byte == UInt8(ascii: "!")
            }
            var start = 0
            var end = bytes.count
            while start < end, punctuation(bytes[start]) { start += 1 }
            while end > start, punctuation(bytes[end - 1]) { end -= 1 }
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
        }
        return trimmed ?? text.trimmingCharacters(in: CharacterSet(charactersIn: ".,;:!"))
    }

    /// Every command (a backslash and the ASCII letters after it, `\\[A-Za-z]+`) replaced by a space, on bytes.
    static func blankCommands(_ text: String) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count)
        var inCommand = false
        var pendingBackslash = false
        for byte in text.utf8 {
            let letter = (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z")
            if pendingBackslash {
                pendingBackslash = false
                if letter {
                    output.append(UInt8(ascii: " "))
                    inCommand = true
                    continue
                }
                output.append(UInt8(ascii: "\\"))
            }
            if inCommand {
                if letter { continue }
                inCommand = false
            }
            if byte == UInt8(ascii: "\\") {
                pendingBackslash = true
            } else {
                output.append(byte)
            }
        }
        if pendingBackslash { output.append(UInt8(ascii: "\\")) }
        return String(decoding: output, as: UTF8.self)
    }

    /// For an ASCII text: its letters, its words of two or more letters and whether it holds a digit or an operator
    /// (what the Character-wise count, split and test give on it, where a letter is `A`–`Z`/`a`–`z` and a number a
    /// digit); `nil` for any other text.
    static func asciiWords(_ text: String) -> (letters: Int, words: [String], mathy: Bool)? {
        var letters = 0
        var words: [String] = []
        var mathy = false
        var run: [UInt8] = []
        for byte in text.utf8 {
            guard byte < 0x80 else { return nil }
            if (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z") {
                letters += 1
                run.append(byte)
                continue
            }
            if run.count >= 2 { words.append(String(decoding: run, as: UTF8.self)) }
            run.removeAll(keepingCapacity: true)
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") { mathy = true }
            switch byte {
            case UInt8(ascii: "^"), UInt8(ascii: "+"), UInt8(ascii: "="), UInt8(ascii: "*"), UInt8(ascii: "/"),
                UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"),
                UInt8(ascii: "}"), UInt8(ascii: "_"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "|"):
                mathy = true
            default: break
            }
        }
        if run.count >= 2 { words.append(String(decoding: run, as: UTF8.self)) }
        return (letters, words, mathy)
    }

    /// Whether the text may hold a word of two or more letters once its commands (`\\[A-Za-z]+`) are blanked:
    /// `false` only when it is ASCII and has no two letters in a row outside commands.
    static func mayHoldWord(_ text: String) -> Bool {
        var run = 0
        var inCommand = false
        var previousWasBackslash = false
        for byte in text.utf8 {
            if byte >= 0x80 { return true }
            let letter = (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z")
            if letter {
                if previousWasBackslash { inCommand = true }
                if !inCommand {
                    run += 1
                    if run >= 2 { return true }
                }
            } else {
                run = 0
                inCommand = false
            }
            previousWasBackslash = byte == UInt8(ascii: "\\")
        }
        return false
    }

    /// `\text{…}` wrapping the whole answer, unwrapped; multiple-choice `(B)` kept as `B`.
    static func unwrapText(_ text: String) -> String {
        var value = text
        if value.hasPrefix("\\"), value.hasSuffix("}") {
            for command in Self.wrappingCommands where value.hasPrefix(command) && value.hasSuffix("}") {
                value = String(value.dropFirst(command.count).dropLast())
            }
        }
        value = value.trimmed()
        // Both forms below start with `(` or an ASCII capital and end with `)` or `.`: decided on the end bytes first.
        guard let firstByte = value.utf8.first, let lastByte = value.utf8.last,
            firstByte == UInt8(ascii: "(") && lastByte == UInt8(ascii: ")")
                || firstByte >= UInt8(ascii: "A") && firstByte <= UInt8(ascii: "Z")
                    && (lastByte == UInt8(ascii: ")") || lastByte == UInt8(ascii: "."))
        else { return value }
        // (Characters are counted last: counting walks the whole text.)
        if value.first == "(", value.last == ")", let letter = value.dropFirst().first, letter.isUppercase, value.count == 3 {
            return String(letter)
        }
        // A choice written `B)` or `B.` is B.
        if let letter = value.first, letter.isUppercase, letter.isASCII, value.last == ")" || value.last == ".", value.count == 2 {
            return String(letter)
        }
        return value
    }

    /// The commands whose group, wrapping a whole answer, is unwrapped (with their opening brace).
    private static let wrappingCommands = ["\\text{", "\\textbf{", "\\mathrm{", "\\mbox{", "\\textit{", "\\mathbf{"]

    /// Whether the answer is written as a percentage.
    static func hasPercent(_ text: String) -> Bool {
        // An ASCII text lower-cases byte by byte: its capitals are searched as lower case in place.
        if let found = text.withASCIIBytes({ bytes in
            bytes.contains(UInt8(ascii: "%")) || containsFoldingCapitals(bytes, "percent")
                || containsFoldingCapitals(bytes, "pct")
        }) {
            return found
        }
        let lower = text.lowercased()
        return lower.has("%") || lower.has("percent") || lower.has("pct")
    }

    private static let connectiveWords: [[UInt8]] = ["or", "and", "nor"].map { Array($0.utf8) }

    /// Whether `\s+(or|and|nor)\s+` (any case) may match: always for a text that is not ASCII; for an ASCII text,
    /// whether one of the words stands between two whitespace bytes (a superset of the pattern's `\s` there).
    static func mayHoldSpacedConnective(_ text: String) -> Bool {
        let found = text.withASCIIBytes { bytes -> Bool in
            let space = ByteRewrite.isWhitespaceCharacter
            for index in bytes.indices where space(bytes[index]) {
                for letters in connectiveWords {
                    let end = index + 1 + letters.count
                    guard end < bytes.count else { continue }
                    if (0..<letters.count).allSatisfy({ ByteRewrite.foldingCapital(bytes[index + 1 + $0]) == letters[$0] }),
                        space(bytes[end])
                    {
                        return true
                    }
                }
            }
            return false
        }
        return found ?? true
    }

    /// `text.lowercased().has(needle)`: on an ASCII text's bytes with capitals folded (the same answer), else as written.
    static func holdsFoldingCapitals(_ text: String, _ needle: StaticString) -> Bool {
        if let found = text.withASCIIBytes({ containsFoldingCapitals($0, needle) }) { return found }
        return text.lowercased().has(needle.description)
    }

    /// Whether the lower-case ASCII `needle` occurs in the bytes with ASCII capitals folded to lower case.
    static func containsFoldingCapitals(_ bytes: UnsafeBufferPointer<UInt8>, _ needle: StaticString) -> Bool {
        let length = needle.utf8CodeUnitCount
        guard bytes.count >= length else { return false }
        let pattern = UnsafeBufferPointer(start: needle.utf8Start, count: length)
        for start in 0...(bytes.count - length) {
            var offset = 0
            while offset < length {
                guard ByteRewrite.foldingCapital(bytes[start + offset]) == pattern[offset] else { break }
                offset += 1
            }
            if offset == length { return true }
        }
        return false
    }

    /// The answer rewritten for the parser; `percent` keeps a percent sign as `%` (divide by 100) instead of
    /// dropping it.
    static func normalize(_ raw: String, percent: Bool = false) -> String {
        normalize(prepared: prepare(raw), percent: percent)
    }

    /// The first steps both readings share: math delimiters off, doubled backslashes repaired, matrices in the
    /// parser's form, a whole-answer `\text{…}` unwrapped.
    static func prepare(_ raw: String) -> String {
        // Over the parser's length budget nothing is normalised (the parse refuses it): the rewrites below are
        // regular expressions, and none of them should meet an unbounded input.
        guard raw.utf8.count <= MathBudget.maxAnswerLength else { return raw }
        var text = collapseWhitespace(repairEscapes(raw))
        // `{\color{blue} 3}` is 3: the colour's name is not a word of a text answer.
        if text.has("color") { text = Patterns.replace(Patterns.color, in: text, with: "") }
        return unwrapText(convertMatrices(repairDoubleBackslashes(AnswerExtractor.stripMathDelimiters(text))))
    }

    /// Runs of whitespace become one character (a line break when the run holds one, else a space): several
    /// rewrites match `\\s*`/`\\s+` around a word, which is quadratic on a long run of spaces (`3` + 4,000 spaces +
    /// `percent` took seconds). Single whitespace characters are kept as they are.
    static func collapseWhitespace(_ text: String) -> String {
        var previousWasSpace = false
        var hasRun = false
        var ascii = true
        for byte in text.utf8 {
            guard byte < 0x80 else { ascii = false; break }
            // The ASCII whitespace of Unicode: tab, line feed, vertical tab, form feed, carriage return, space.
            let space = byte == 0x20 || (0x09...0x0D).contains(byte)
            if space && previousWasSpace { hasRun = true; break }
            previousWasSpace = space
        }
        if ascii && !hasRun { return text }
        previousWasSpace = false
        for scalar in text.unicodeScalars where !hasRun {
            let space = scalar.properties.isWhitespace
            if space && previousWasSpace { hasRun = true; break }
            previousWasSpace = space
        }
        guard hasRun else { return text }
        var result = String.UnicodeScalarView()
        var run = String.UnicodeScalarView()
        func flush() {
            if run.count == 1 {
                result.append(contentsOf: run)
            } else if !run.isEmpty {
                result.append(run.contains("\n") ? "\n" : " ")
            }
            run.removeAll()
        }
        for scalar in text.unicodeScalars {
            if scalar.properties.isWhitespace {
                run.append(scalar)
            } else {
                flush()
                result.append(scalar)
            }
        }
        flush()
        return String(result)
    }

    /// LaTeX typed into a non-raw Python string loses a backslash to an escape: `"\frac"` arrives as a form feed and
    /// `rac`, `"\boxed"` as a backspace and `oxed`. Those control characters never belong in an answer.
    static func repairEscapes(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value == 0x07 || $0.value == 0x08 || $0.value == 0x0B || $0.value == 0x0C })
        else { return text }
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x07: result += "\\a"
            case 0x08: result += "\\b"
            case 0x0B: result += "\\v"
            case 0x0C: result += "\\f"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// ``normalize(_:percent:)`` of an answer already through ``prepare(_:)``.
    static func normalize(prepared: String, percent: Bool) -> String {
        guard prepared.utf8.count <= MathBudget.maxAnswerLength else { return prepared }
        var text = resolveApprox(assignmentGroups(prepared))
        // `1{,}000` and `1\,000` group thousands; between digits in any other grouping (`3{,}4`, a decimal comma,
        // or `3\,4`) they are not a thousands separator, and the digits must not be read as one number.
        if text.has("{,}") || text.has("\\,") {
            text = DigitGroups.replacingLooseDigitSeparators(in: text)
                ?? Patterns.replace(Patterns.looseDigitSeparator, in: text, with: "$1 $2")
        }
        if text.has("{,") {
            text = DigitGroups.replacingSpacedThousandsBraces(in: text)
                ?? Patterns.replace(Patterns.spacedThousandsBrace, in: text, with: "$1$2")
        }
        text = Self.commandReplacer.apply(text)
        // Searches of the lower-cased text; for an ASCII text on its bytes with capitals folded (the same answers).
        let lower = text.utf8.allSatisfy({ $0 < 0x80 }) ? nil : text.lowercased()
        let original = text
        func holds(_ needle: StaticString) -> Bool {
            if let lower { return lower.has(needle.description) }
            return original.utf8.withContiguousStorageIfAvailable { containsFoldingCapitals($0, needle) }
                ?? original.lowercased().has(needle.description)
        }
        if holds("percent") || holds("pct") {
            text = DigitGroups.replacingPercentWords(in: text)
                ?? Patterns.replace(Patterns.percentWords, in: text, with: "%")
        }
        let beforeConnectives = text
        if holds("and") || holds("or") {
            // "3 or 4", "6 \text{ and } 8", "(1,2)and(3,4)", "19, 46, and 82" are lists.
            // Each pattern is tried only when its necessary literals are there: `\text{` (any case; looked for in
            // the lower-cased text when it is ASCII, where that is exact), a closing and an opening bracket, two commas.
            if !text.utf8.allSatisfy({ $0 < 0x80 }) || text.lowercased().has("\\text{") {
                text = DigitGroups.replacingTextConnectives(in: text)
                    ?? Patterns.replace(Patterns.textConnective, in: text, with: ",")
            }
            if text.has(")") || text.has("]"), text.has("(") || text.has("[") {
                text = DigitGroups.replacingConnectivesBetweenTuples(in: text)
                    ?? Patterns.replace(Patterns.connectiveBetweenTuples, in: text, with: ",")
            }
            if mayHoldSpacedConnective(text) {
                text = DigitGroups.replacingSpacedConnectives(in: text)
                    ?? Patterns.replace(Patterns.spacedConnective, in: text, with: ",")
            }
            if mayHoldDoubleComma(text) {
                text = DigitGroups.replacingDoubleCommas(in: text)
                    ?? Patterns.replace(Patterns.doubleComma, in: text, with: ",")
            }
        }
        if text.has("/") { text = mixedNumbers(text) }
        // A comma that stands for "and"/"or" separates items: `12\text{ and }13` is not the decimal 12,13.
        if text == beforeConnectives { text = decimalComma(text) }
        if text.has("\\choose") { text = Patterns.replace(Patterns.choose, in: text, with: "\\\\binom{$1}{$2}") }
        // `\textcolor{red}{3}` and `{\color{red} 3}` are 3.
        if text.has("color") { text = Patterns.replace(Patterns.color, in: text, with: "") }
        text = (percent ? Self.percentReplacer : Self.plainReplacer).apply(text)
        text = removeUnits(text)
        text = joinThousands(text)
        text = AnswerExtractor.stripTrailingPunctuation(text.trimmed())
        return text
    }

    /// Relation and membership commands: `\\in` and `\\to` become `=`, the others gain a space.
    static let commandReplacer = TextReplacer([
        ("\\in", "=", wholeCommand: true), ("\\to", "=", wholeCommand: true),
    ])

    static func spellingRules(percentSign: String) -> [(String, String, wholeCommand: Bool)] {
        let pairs: [(String, String)] = [
            (",\\! ", ","), (",\\!", ","), ("\\operatorname{lcm}", "\\lcm"), ("\\operatorname{gcd}", "\\gcd"),
            ("\\operatorname{det}", "\\det"), ("\\left", ""), ("\\right", ""), ("\\bigl", ""), ("\\bigr", ""), ("\\Bigl", ""), ("\\Bigr", ""),
            ("\\big", ""), ("\\Big", ""), ("\\displaystyle", ""), ("\\!", ""), ("\\,", ""), ("\\;", ""),
            ("\\:", ""), ("\\ ", " "), ("\\quad", " "), ("\\qquad", " "), ("~", " "),
            ("\\dfrac", "\\frac"), ("\\tfrac", "\\frac"), ("\\cfrac", "\\frac"),
            ("^{\\circ}", "\\degree "), ("^\\circ", "\\degree "), ("\\circ", "\\degree "), ("°", "\\degree "),
            ("\\%", percentSign), ("%", percentSign), ("\\$", ""), ("$", ""), ("{,}", ""),
            ("\\approx", "="), ("\\textnormal", "\\text"), ("\\tfrac", "\\frac"), ("<=", "\\le "), (">=", "\\ge "),
            ("!=", "\\ne "), ("=<", "\\le "), ("=>", "\\ge "),
            ("−", "-"), ("–", "-"), ("×", "\\times "), ("÷", "/"), ("·", "*"), ("\\infin ", "\\infty "),
            ("\\colon", ":"), ("...", "\\dots "), ("…", "\\dots "), ("**", ""), ("\\lvert", "|"), ("\\rvert", "|"),
            ("\\vert", "|"), ("\\mid", "|"), ("π", "\\pi "), ("∞", "\\infty "),
            ("\\mathbb{R}", "(-\\infty,\\infty)"), ("\\R ", "(-\\infty,\\infty)"),
            // Emphasis around an answer: `\boldsymbol{3}` and `\bm{3}` are 3.
            ("\\boldsymbol", ""), ("\\bm{", "{"),
        ]
        return pairs.map { ($0.0, $0.1, wholeCommand: false) }
    }

    /// The spelling rewrites, with percent signs kept (`%`, divide by 100) or dropped.
    static let percentReplacer = TextReplacer(spellingRules(percentSign: "%"))
    static let plainReplacer = TextReplacer(spellingRules(percentSign: ""))

    /// `\\left(` written with doubled backslashes (a double-escaped string) becomes `\left(`.
    private static func repairDoubleBackslashes(_ text: String) -> String {
        guard text.has("\\\\") else { return text }
        // A `\begin{` with one backslash and no run of three: the text is not double-escaped, and `a&b\\c&d` breaks a
        // row before `c`.
        if !text.has("\\\\\\"), hasSingleBackslashBegin(text) { return text }
        // Exactly two: three before a letter are a row break and a command (`\\\end{pmatrix}`).
        // `Patterns.doubledBackslash` replaced on the bytes (the same text for any input; `SeparatorScansTests`).
        return DigitGroups.replacingDoubledBackslashes(in: text)
    }

    /// Whether `\begin{` occurs without a backslash right before it: the regular expression `(?<!\\)\\begin\{` on
    /// bytes (a backslash is one byte, and no other character's encoding holds that byte).
    static func hasSingleBackslashBegin(_ text: String) -> Bool {
        let search = { (bytes: UnsafeBufferPointer<UInt8>) -> Bool in
            let target: StaticString = "\\begin{"
            let length = target.utf8CodeUnitCount
            guard bytes.count >= length else { return false }
            let pattern = UnsafeBufferPointer(start: target.utf8Start, count: length)
            var index = 0
            while index <= bytes.count - length {
                if bytes[index] == pattern[0], index == 0 || bytes[index - 1] != UInt8(ascii: "\\") {
                    var offset = 1
                    while offset < length, bytes[index + offset] == pattern[offset] { offset += 1 }
                    if offset == length { return true }
                }
                index += 1
            }
            return false
        }
        if let found = text.utf8.withContiguousStorageIfAvailable(search) { return found }
        return Array(text.utf8).withUnsafeBufferPointer(search)
    }

    /// `text.components(separatedBy: "\\\\")`: split on the bytes of an ASCII text (left to right, not overlapping,
    /// empty parts kept, as Foundation splits an ASCII text), through Foundation for any other.
    static func rowsOf(_ text: String) -> [String] {
        let parts = text.withASCIIBytes { bytes -> [String] in
            var parts: [String] = []
            var start = 0
            var index = 0
            while index + 1 < bytes.count {
                if bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "\\") {
                    parts.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self))
                    index += 2
                    start = index
                } else {
                    index += 1
                }
            }
            parts.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start...]), as: UTF8.self))
            return parts
        }
        return parts ?? text.components(separatedBy: "\\\\")
    }

    /// A word of an ASCII unit block without the dots at either end.
    private static func trimmingDots(_ word: Substring) -> String {
        var word = word
        while word.first == "." { word = word.dropFirst() }
        while word.last == "." { word = word.dropLast() }
        return String(word)
    }

    /// `\begin{pmatrix} a & b \\ c & d \end{pmatrix}` (also bmatrix, array) becomes `\matrix{a,b;c,d}`.
    private static func convertMatrices(_ text: String) -> String {
        guard text.has("\\begin{") && text.has("\\end{") || text.has("\\top") || text.has("\\intercal") else { return text }
        var value = text
        // Each search is linear; at most 32 matrices are converted (an answer with more is not read as matrices).
        var converted = 0
        while converted < 32, value.has("\\end{"),
            let range = firstMatrixBlock(value)
        {
            converted += 1
            var inner = String(value[range])
            if let body = matrixBody(inner) {
                inner = body
            } else {
                inner = Patterns.replace(Patterns.matrixBegin, in: inner, with: "")
                inner = Patterns.replace(Patterns.matrixEnd, in: inner, with: "")
            }
            let rows = rowsOf(inner).map { $0.trimmed() }
                .filter { !$0.isEmpty }
            // `, ` and not `,`: `81&118` is two entries, which thousands joining would read as 81118.
            let body = rows.map { $0.replacingEvery("&", with: ", ") }.joined(separator: ";")
            let determinant = value[range].hasPrefix("\\begin{vmatrix}")
            value.replaceSubrange(range, with: determinant ? "\\det(\\matrix{\(body)})" : "\\matrix{\(body)}")
        }
        // `^\top`, `^{\intercal}`, `^{\mathsf{T}}` … after a matrix or a tuple are its transpose, written `^T`.
        if converted > 0 || value.has("\\top") || value.has("\\intercal"), value.has("^") {
            value = DigitGroups.replacingTransposes(in: value)
                ?? Patterns.replace(Patterns.transpose, in: value, with: "^T")
        }
        // Only brackets around one matrix are its delimiters: `(A B)^2` groups a product, whose square is not `A B^2`.
        if value.has("\\matrix{") {  // both patterns hold it, and each its closing bracket
            if value.has(")") {
                value = DigitGroups.replacingBracketsAroundMatrix(in: value, open: UInt8(ascii: "("))
                    ?? Patterns.replace(Patterns.parenthesesAroundMatrix, in: value, with: "$1")
            }
            if value.has("]") {
                value = DigitGroups.replacingBracketsAroundMatrix(in: value, open: UInt8(ascii: "["))
                    ?? Patterns.replace(Patterns.bracketsAroundMatrix, in: value, with: "$1")
            }
        }
        return value
    }

    /// The first match of ``Patterns/matrixBlock``: on the bytes (``matrixBlock(in:)``) when the text allows, else
    /// the pattern's.
    private static func firstMatrixBlock(_ text: String) -> Range<String.Index>? {
        if let decided = matrixBlock(in: text) { return decided }
        return Patterns.firstMatch(Patterns.matrixBlock, in: text)
    }

    /// The first match of ``Patterns/matrixBlock`` in an ASCII text without line breaks, found on its bytes
    /// (`.some(nil)`: none); `nil` for any other text.
    ///
    /// A match starts at a `\begin{name}` of the six names (none a prefix of another); the optional `{…}` runs to the
    /// first `}`; with `.` matching every byte of such a text, the lazy body ends at the first `\end{name}` after it,
    /// and when there is none after the `{…}` the pattern gives that group back and looks from the name's end.
    static func matrixBlock(in text: String) -> Range<String.Index>?? {
        let bytes = Array(text.utf8)
        guard !bytes.contains(where: { $0 >= 0x80 || (0x0A...0x0D).contains($0) }) else { return nil }
        let begin = Array("\\begin{".utf8)
        func first(_ target: [UInt8], from start: Int) -> Int? {
            guard start <= bytes.count - target.count else { return nil }
            return (start...(bytes.count - target.count)).first { bytes[$0..<($0 + target.count)].elementsEqual(target) }
        }
        var search = 0
        while let start = first(begin, from: search) {
            search = start + 1
            let nameStart = start + begin.count
            guard let name = ["pmatrix", "bmatrix", "Bmatrix", "vmatrix", "matrix", "array"].first(where: { name in
                bytes[nameStart...].starts(with: (name + "}").utf8)
            })
            else { continue }
            let afterName = nameStart + name.utf8.count + 1
            let end = Array("\\end{\(name)}".utf8)
            var found: Int? = nil
            if afterName < bytes.count, bytes[afterName] == UInt8(ascii: "{"),
                let brace = bytes[(afterName + 1)...].firstIndex(of: UInt8(ascii: "}"))
            {
                found = first(end, from: brace + 1)
            }
            if found == nil { found = first(end, from: afterName) }
            guard let found else { continue }
            return .some(text.utf8Range(start..<(found + end.count)))
        }
        return .some(nil)
    }

    /// What removing ``Patterns/matrixBegin`` and then ``Patterns/matrixEnd`` leaves of a block that
    /// ``Patterns/matrixBlock`` matched, cut on its bytes: `\begin{name}`, with a `{…}` right after it (up to the first
    /// `}`), and a final `\end{name}` go. `nil` when the block is not of that shape (the patterns then run).
    static func matrixBody(_ block: String) -> String? {
        let bytes = Array(block.utf8)
        let open = Array("\\begin{".utf8)
        let close = Array("\\end{".utf8)
        func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z") }
        guard bytes.starts(with: open) else { return nil }
        var start = open.count
        while start < bytes.count, isLetter(bytes[start]) { start += 1 }
        guard start > open.count, start < bytes.count, bytes[start] == UInt8(ascii: "}") else { return nil }
        start += 1
        if start < bytes.count, bytes[start] == UInt8(ascii: "{"),
            let brace = bytes[(start + 1)...].firstIndex(of: UInt8(ascii: "}"))
        {
            start = brace + 1
        }
        guard bytes.last == UInt8(ascii: "}") else { return nil }
        var end = bytes.count - 1
        while end > 0, isLetter(bytes[end - 1]) { end -= 1 }
        guard end < bytes.count - 1, end >= close.count, Array(bytes[(end - close.count)..<end]) == close else { return nil }
        end -= close.count
        guard start <= end else { return nil }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    /// `x = 1/3 \approx 0.33` keeps the exact part; `x \approx 11` keeps the approximation.
    private static func resolveApprox(_ text: String) -> String {
        guard text.has("\\approx"), let range = text.range(of: "\\approx") else { return text }
        let before = text[..<range.lowerBound]
        return before.contains("=") ? String(before) : String(before) + "=" + String(text[range.upperBound...])
    }

    /// `4 4/9` is four and four ninths when the fraction is proper (`11 6/6` is left alone).
    private static func mixedNumbers(_ text: String) -> String {
        guard mayHoldDigitGroup(text, separators: [UInt8(ascii: " "), UInt8(ascii: "\t")], repeated: true, digitsAfter: 1)
        else { return text }
        var result = text
        guard let matches = DigitGroups.mixedNumbers(in: text) else {
            let range = NSRange(text.startIndex..., in: text)
            for match in Patterns.mixedNumber.matches(in: text, range: range).reversed() {
                guard let whole = Range(match.range, in: result), let top = Range(match.range(at: 2), in: text),
                    let bottom = Range(match.range(at: 3), in: text), let integer = Range(match.range(at: 1), in: text)
                else { continue }
                replaceMixedNumber(in: &result, whole: whole, integer: text[integer], top: text[top], bottom: text[bottom])
            }
            return result
        }
        // UTF-8 offsets are the same in `text` and in `result` before the parts replaced (from the end).
        for match in matches.reversed() {
            replaceMixedNumber(
                in: &result, whole: result.utf8Range(match.range), integer: text[text.utf8Range(match.groups[0])],
                top: text[text.utf8Range(match.groups[1])], bottom: text[text.utf8Range(match.groups[2])])
        }
        return result
    }

    /// Whether `,(\s*,)+` may match: two commas with only white space between them, on the bytes (any byte of
    /// 0x80 or more answers `true`, since ICU's `\s` takes Unicode spaces; 0x09–0x0D and the space all count, a
    /// superset of ICU's ASCII `\s`).
    static func mayHoldDoubleComma(_ text: String) -> Bool {
        var afterComma = false
        for byte in text.utf8 {
            if byte >= 0x80 { return true }
            if byte == UInt8(ascii: ",") {
                if afterComma { return true }
                afterComma = true
            } else if byte != 0x20, !(0x09...0x0D).contains(byte) {
                afterComma = false
            }
        }
        return false
    }

    /// Writes `(integer+top/bottom)` over `whole` when the fraction is proper.
    private static func replaceMixedNumber(
        in result: inout String, whole: Range<String.Index>, integer: Substring, top: Substring, bottom: Substring
    ) {
        guard let numerator = Int(top), let denominator = Int(bottom), numerator < denominator else { return }
        result.replaceSubrange(whole, with: "(\(integer)+\(numerator)/\(denominator))")
    }

    /// Whether the text may hold a digit, one separator (or a run of them when `repeated`), then `digitsAfter`
    /// digits: a byte scan that lets the regular expressions above skip texts they cannot match. Always `true` for a
    /// text with non-ASCII characters (ICU's `\d` matches other scripts' digits too).
    static func mayHoldDigitGroup(_ text: String, separators: [UInt8], repeated: Bool, digitsAfter: Int) -> Bool {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if byte >= 0x80 { return true }
            bytes.append(byte)
        }
        func isDigit(_ index: Int) -> Bool {
            index < bytes.count && bytes[index] >= UInt8(ascii: "0") && bytes[index] <= UInt8(ascii: "9")
        }
        var index = 0
        while index + 1 < bytes.count {
            if isDigit(index), separators.contains(bytes[index + 1]) {
                var next = index + 2
                while repeated, next < bytes.count, separators.contains(bytes[next]) { next += 1 }
                if (next..<(next + digitsAfter)).allSatisfy(isDigit) { return true }
            }
            index += 1
        }
        return false
    }

    /// `1,22` and `0,111` are decimals written with a comma; `1,234` is a thousands separator.
    private static func decimalComma(_ text: String) -> String {
        guard text.has(",") else { return text }  // exactly one comma is needed
        let trimmed = text.trimmed()
        // Only ASCII digits and the comma after an optional minus sign (checked on bytes first).
        var digits = trimmed.utf8[...]
        if digits.first == UInt8(ascii: "-") { digits = digits.dropFirst() }
        guard digits.allSatisfy({ $0 == UInt8(ascii: ",") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
            return text
        }
        let body = trimmed.hasPrefix("-") ? trimmed.dropFirst() : Substring(trimmed)
        let commas = body.filter { $0 == "," }.count
        guard commas == 1, body.first?.isNumber == true, body.last?.isNumber == true,
            body.allSatisfy({ ($0.isASCII && $0.isNumber) || $0 == "," })
        else { return text }
        let parts = trimmed.split(separator: ",")
        // `trimmingCharacters(in: "-")` without Foundation: the part is ASCII (checked above).
        var whole = parts[0][...]
        while whole.first == "-" { whole = whole.dropFirst() }
        while whole.last == "-" { whole = whole.dropLast() }
        let fraction = parts[1]
        let decimal = (whole == "0" && fraction.count >= 2) || whole.count >= 4 || (fraction.count == 2 && fraction.last != "0")
        guard decimal else { return text }
        return parts[0] + "." + parts[1]
    }

    /// Words that change or qualify a value: a `\text{…}` holding one is not a unit and is not dropped.
    static let meaningfulWords: Set<String> = [
        "less", "more", "than", "least", "most", "not", "never", "no", "or", "and", "nor", "either", "neither", "squared",
        "cubed", "thousand", "thousands", "million", "millions", "billion", "billions", "trillion", "dozen", "dozens",
        "hundred", "hundreds", "factorial", "wrong", "incorrect", "times", "half", "double", "twice", "triple", "between",
        "approximately", "about", "around", "over", "under", "above", "below", "minus", "plus", "negative", "positive",
        "where", "is", "integer", "any", "all", "some", "every", "each", "except", "only", "until", "up", "to", "at",
        "percent", "root", "power", "per", "by", "of", "if",
        // Hedges and truth values are not units either (`3\text{ maybe}`), nor are fractional scales.
        "maybe", "perhaps", "possibly", "probably", "likely", "guess", "false", "true", "wrong", "tenths", "hundredths",
        "thousandths", "millionths", "score", "scores", "gross", "thousandth", "hundredth", "tenth",
    ]

    /// Drops `\text{…}`, `\mathrm{…}` and `\mbox{…}` blocks of words (units such as `cm` or `dollars`).
    static func removeUnits(_ text: String, searchingBytes: Bool = true) -> String {
        guard text.has("\\text") || text.has("\\mathrm") || text.has("\\mbox") || text.has("\\operatorname") else {
            return text
        }
        var value = text
        // An ASCII text stays ASCII (what replaces a block is its own text or a space): its searches are byte searches,
        // which for an ASCII text and needle find what Foundation's `range(of:)` finds, and among letters, spaces and
        // dots the only punctuation to trim is the dot.
        let ascii = searchingBytes && text.utf8.allSatisfy { $0 < 0x80 }
        for command in ["\\text", "\\textbf", "\\mathrm", "\\mbox", "\\textit", "\\operatorname"] {
            let opening = command + "{"
            while let range = ascii ? value.firstRange(ofMarker: opening) : value.range(of: opening) {
                guard let close = value[range.upperBound...].firstIndex(of: "}") else { break }
                let inner = value[range.upperBound..<close]
                let words = inner.allSatisfy({ $0.isLetter || $0 == " " || $0 == "." })
                    && !inner.lowercased().split(separator: " ").contains {
                        meaningfulWords.contains(ascii ? trimmingDots($0) : String($0).trimmingCharacters(in: .punctuationCharacters))
                    }
                // `\mathrm{e}` is the constant; `\text{m}` is a unit; `5\text{k}` is 5,000, not 5.
                let keep = !words || (inner.trimmed().count == 1 && command != "\\text" && command != "\\mbox")
                    || inner.trimmed() == "k"
                var end = value.index(after: close)
                if !keep {
                    // A unit's power goes with it: `12\text{ cm}^2` is 12.
                    for power in ["^{2}", "^{3}", "^2", "^3"] where value[end...].hasPrefix(power) {
                        end = value.index(end, offsetBy: power.count)
                        break
                    }
                }
                value.replaceSubrange(range.lowerBound..<end, with: keep ? " \(inner) " : " ")
            }
        }
        return value
    }

    /// `p=5,q=2;p=7,q=2` (solutions as groups of assignments to the same variables, in the same order) becomes the
    /// list of tuples `(5,2),(7,2)`.
    static func assignmentGroups(_ text: String) -> String {
        guard text.has(";"), text.has("=") else { return text }
        let groups = text.split(separator: ";", omittingEmptySubsequences: false)
        var names: [String]? = nil
        var tuples: [String] = []
        for group in groups {
            var groupNames: [String] = []
            var values: [String] = []
            for part in group.split(separator: ",", omittingEmptySubsequences: false) {
                let sides = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard sides.count == 2 else { return text }
                let name = sides[0].trimmed()
                let value = sides[1].trimmed()
                guard !value.isEmpty, !value.contains("="), let first = name.first, first.isLetter,
                    name.count <= 8, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "{" || $0 == "}" })
                else { return text }
                groupNames.append(name)
                values.append(value)
            }
            if let names, names != groupNames { return text }
            names = groupNames
            tuples.append(values.count == 1 ? values[0] : "(" + values.joined(separator: ",") + ")")
        }
        return tuples.joined(separator: ",")
    }

    /// Bracket depth after `text`, starting from `depth` with `previous` the character before it: `(` and `[`
    /// open, `)` and `]` close (never below 0), and a set's braces `\{…\}` count too, since its commas separate
    /// elements (a bare `{` is a LaTeX group).
    private static func bracketDepth(after text: Substring, from depth: Int, previous: Character) -> (Int, Character) {
        var depth = depth
        var previous = previous
        for character in text {
            switch character {
            case "(", "[": depth += 1
            case ")", "]": depth = max(0, depth - 1)
            case "{" where previous == "\\": depth += 1
            case "}" where previous == "\\": depth = max(0, depth - 1)
            default: break
            }
            previous = character
        }
        return (depth, previous)
    }

    /// `1,000,000` and `1 000` become `1000000` and `1000` when every group has three digits.
    ///
    /// One pass from the start, carrying the bracket depth along: recounting it from the start for each match, and
    /// replacing inside the string, was quadratic (3,300 groups in a 20 KB answer took 43 s in a debug build).
    private static func joinThousands(_ text: String) -> String {
        guard text.has(",") || text.has(" "),
            mayHoldDigitGroup(text, separators: [UInt8(ascii: ","), UInt8(ascii: " ")], repeated: false, digitsAfter: 3)
        else { return text }
        let ranges: [Range<String.Index>]
        if let matches = DigitGroups.thousands(in: text) {
            ranges = matches.map { text.utf8Range($0.range) }
        } else {
            ranges = Patterns.thousands.matches(in: text, range: NSRange(text.startIndex..., in: text))
                .compactMap { Range($0.range, in: text) }
        }
        guard !ranges.isEmpty else { return text }
        var result = ""
        result.reserveCapacity(text.utf8.count)
        var cursor = text.startIndex
        var depth = 0
        var previous: Character = " "
        for range in ranges {
            guard range.lowerBound >= cursor else { continue }
            let gap = text[cursor..<range.lowerBound]
            (depth, previous) = bracketDepth(after: gap, from: depth, previous: previous)
            result += gap
            let matched = text[range]
            // Inside parentheses or brackets a comma separates elements: (12,102) is a pair, not 12102.
            // A match is digits and separators, so a comma byte is a comma Character (a combining mark after it
            // would end the match): the byte test is Foundation's `contains(",")` here.
            if matched.utf8.contains(UInt8(ascii: ",")), depth > 0 {
                result += matched
            } else {
                result += matched.filter { $0 != "," && $0 != " " }
            }
            (depth, previous) = bracketDepth(after: matched, from: depth, previous: previous)
            cursor = range.upperBound
        }
        result += text[cursor...]
        return result
    }
}

/// Regular expressions of the normaliser, compiled once.
enum Patterns {
    static let spacedThousandsBrace = make(#"(\d)\s*\{,\s*\}\s*(\d)"#)
    static let looseDigitSeparator = make(#"(\d)(?:\{,\}|\\,)(?!\d{3}(?!\d))(\d)"#)
    static let partLabels = make(#"\([a-z]{1,3}\)|\b[a-z](?:_\{?[0-9a-z]{1,3}\}?)?\s*="#)
    static let percentWords = make(#"(?<=[\d}\s])\s*(percentage|percent|pct)\b"#, .caseInsensitive)
    static let textConnective = make(#"\\text\{\s*(and|or)\s*\}"#, .caseInsensitive)
    static let connectiveBetweenTuples = make(#"(?<=[)\]])\s*(and|or)\s*(?=[(\[])"#, .caseInsensitive)
    static let mixedNumber = make(#"(?<![\d./])(\d+)[ \t]+(\d+)[ \t]*/[ \t]*(\d+)(?![\d/])"#)
    static let spacedConnective = make(#"\s+(or|and|nor)\s+"#, .caseInsensitive)
    static let choose = make(#"\{([^{}]*)\\choose([^{}]*)\}"#)
    static let doubleComma = make(#",(\s*,)+"#)
    static let command = make(#"\\[A-Za-z]+"#)
    static let color = make(#"\\(?:textcolor|color)\s*\{[A-Za-z0-9!.,]*\}"#)
    static let thousands = make(#"(?<![\d.])\d{1,3}(?:[, ]\d{3})+(?![\d])"#)
    static let scientificE = make(#"(?<![A-Za-z\\])(\d)e([+-]?\d)"#)
    static let doubledBackslash = make(#"(?<!\\)\\\\(?=[A-Za-z{}])"#)
    static let matrixBlock = make(#"\\begin\{(pmatrix|bmatrix|Bmatrix|vmatrix|matrix|array)\}(\{[^}]*\})?(.*?)\\end\{\1\}"#)
    static let matrixBegin = make(#"^\\begin\{[a-zA-Z]+\}(\{[^}]*\})?"#)
    static let matrixEnd = make(#"\\end\{[a-zA-Z]+\}$"#)
    static let transpose = make(
        #"\^\s*(?:\{\s*(?:\\top|\\intercal|\\mathsf\{T\}|\\mathrm\{T\})\s*\}|\\top|\\intercal|\\mathsf\{T\}|\\mathrm\{T\})"#)
    static let parenthesesAroundMatrix = make(#"(?:\\left)?\(\s*(\\matrix\{(?:(?!\\matrix)[^()])*\})\s*(?:\\right)?\)"#)
    static let bracketsAroundMatrix = make(#"(?:\\left)?\[\s*(\\matrix\{(?:(?!\\matrix)[^\[\]])*\})\s*(?:\\right)?\]"#)

    static func make(_ pattern: String, _ options: NSRegularExpression.Options = []) -> NSRegularExpression {
        do {
            return try NSRegularExpression(pattern: pattern, options: options)
        } catch {
            preconditionFailure("bad built-in pattern \(pattern): \(error)")
        }
    }

    /// The range of the first match, as ``String/range(of:options:range:locale:)`` with `.regularExpression` finds it.
    static func firstMatch(_ expression: NSRegularExpression, in text: String) -> Range<String.Index>? {
        expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)).flatMap { Range($0.range, in: text) }
    }

    static func replace(_ expression: NSRegularExpression, in text: String, with template: String) -> String {
        expression.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: template)
    }
}

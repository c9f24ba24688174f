// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation
import Synchronization

extension IFBenchInstructions {
    // MARK: custom:

    private static let digitRuns = Pattern("\\d+")

    static let customs: [(String, InstructionBuilder)] = [
        (
            "custom:multiples",
            plain { text in
                let numbers = digitRuns.findAll(text.string.replacingAll(",", ", "))
                let expected = ["14", "21", "28", "35", "42", "49"]
                return .when(numbers == expected, "numbers \(numbers.prefix(10).joined(separator: " ")), needs 14 21 28 35 42 49")
            }
        ),
        // Four questions of five option lines each hold at least 16 line breaks; 52 lines from Zimbabwe on, 51.
        ("custom:mcq_count_length", prefiltered(multipleChoice, mayFollow: { lineBreaks($0.scalars) >= 16 })),
        ("custom:reverse_newline", prefiltered(reverseNewline, mayFollow: { lineBreaks($0.scalars) >= 51 })),
        (
            "custom:word_reverse",
            plain { text in
                let value = Py.removingPunctuation(Py.strip(Py.lower(text.scalars)))
                let reversed = Py.string(Array(Py.split(value).reversed().joined(separator: [" "])))
                guard reversed.contains("bald eagle") else { return .no("no 'bald eagle' read backwards") }
                return .when(Sentences.split(reversed).contains(reversed), "words in reverse order")
            }
        ),
        (
            "custom:character_reverse",
            plain { text in
                let found = Py.contains(Array("elgae dlab".unicodeScalars), in: Py.lower(text.scalars))
                return .when(found, found ? "'bald eagle' written backwards" : "no 'elgae dlab'")
            }
        ),
        (
            "custom:sentence_alphabet",
            plain { text in
                let sentences = Sentences.pieces(text.string)
                guard sentences.count == 26 else { return .no("\(sentences.count) sentences, needs 26") }
                for index in 0..<sentences.count {
                    guard let word = Py.split(Py.lstrip(sentences.scalars(index))).first else { return .no("an empty sentence") }
                    let letter = Unicode.Scalar(97 + UInt32(index))!
                    if Py.lower(word).first != letter { return .no("sentence \(index + 1) does not start with '\(letter)'") }
                }
                return .ok("26 sentences from a to z")
            }
        ),
        ("custom:european_capitals_sort", plain(europeanCapitals)),
        (
            "custom:csv_city",
            prefiltered(
                { text in
                    guard let rows = CSVReader.rows(text.scalars, delimiter: ",") else { return .no("not parseable as CSV") }
                    guard rows.count == 8 else { return .no("\(rows.count) CSV rows, needs a header and 7 rows") }
                    guard rows[0] == ["ID", "Country", "City", "Year", "Count"] else { return .no("wrong header") }
                    return .when(rows.dropFirst().allSatisfy { $0.count == 5 }, "every row needs 5 fields")
                },
                // The first field of the first row is "ID" only when the text starts with it or with a quoted field
                // (any other first character starts the field, ends it, or ends the row); 8 rows need 8 lines.
                mayFollow: { text in (text.scalars.first == "I" || text.scalars.first == "\"") && CSVReader.lines(text.scalars) >= 8 })
        ),
        (
            "custom:csv_special_character",
            prefiltered(specialCharacterCSV, mayFollow: { firstLineStarts($0, "P") && CSVReader.lines($0.scalars) >= 15 })
        ),
        ("custom:csv_quotes", prefiltered(quotesCSV, mayFollow: { firstLineStarts($0, "S") && CSVReader.lines($0.scalars) >= 4 })),
        ("custom:date_format_list", plain(dateList)),
    ]

    private static let questionSplit = Pattern("\\n*(?:Question \\d+[\\.|\\):;]?\\s*)")
    private static let optionLine = Pattern("^[A-Ea-e][\\.|\\)]\\s*\\w+")

    static func multipleChoice(_ text: Text) -> Outcome {
        let value = text.scalars
        let start = Py.find(Array("Question".unicodeScalars), in: value) ?? max(value.count - 1, 0)
        guard start == 0 else { return .no("text before the first 'Question'") }
        var questions = questionSplit.split(text.string)
        if questions.first == "" { questions.removeFirst() }
        let kept = questions.map { Py.string(Py.strip($0.unicodeScalars)) }.filter { !$0.isEmpty }
        guard kept.count == 4 else { return .no("\(kept.count) questions, needs 4") }
        var lengths: [Int] = []
        for question in kept {
            var questionText = ""
            var options = 0
            var answering = false
            for line in question.components("\n") {
                let stripped = Py.string(Py.strip(line.unicodeScalars))
                if optionLine.matchesStart(stripped) {
                    options += 1
                    answering = true
                } else if !answering {
                    questionText += " " + stripped
                }
            }
            guard options == 5 else { return .no("a question with \(options) options, needs 5") }
            lengths.append(Py.strip(questionText.unicodeScalars).count)
        }
        let increasing = zip(lengths, lengths.dropFirst()).allSatisfy { $0 < $1 }
        return .when(increasing, "question lengths \(lengths.map(String.init).joined(separator: ", ")) must increase")
    }

    /// NFKD, then only ASCII kept (`normalize("NFKD", s).encode("ASCII", "ignore")`).
    ///
    /// NFKD decomposes each scalar on its own and then only reorders runs of combining marks (canonical ordering moves
    /// no starter, and every ASCII character is a starter), so the ASCII left of a text is the ASCII left of each of
    /// its scalars' decompositions, in order: each non-ASCII scalar's is looked up once and kept.
    static func asciiFolded(_ text: Scalars) -> Scalars {
        // ASCII is its own compatibility decomposition: no round trip through Foundation.
        if text.allSatisfy({ $0.value < 0x80 }) { return text }
        var folded: Scalars = []
        folded.reserveCapacity(text.count)
        for scalar in text {
            if scalar.value < 0x80 {
                folded.append(scalar)
            } else {
                folded.append(contentsOf: asciiFoldedScalar(scalar))
            }
        }
        return folded
    }

    /// The ASCII left of one scalar's NFKD, by Foundation, kept for the next text (at most `foldedLimit` scalars
    /// are kept, so what a client sends cannot grow the table without bound).
    static func asciiFoldedScalar(_ scalar: Unicode.Scalar) -> Scalars {
        if let known = foldedScalars.withLock({ $0[scalar.value] }) { return known }
        let folded = Array(
            String(Character(scalar)).decomposedStringWithCompatibilityMapping.unicodeScalars.filter { $0.value < 0x80 })
        foldedScalars.withLock { table in
            if table.count < foldedLimit { table[scalar.value] = folded }
        }
        return folded
    }

    /// The text's fold as Foundation gives it for the whole string (what `asciiFolded` computes scalar by scalar; kept
    /// for tests).
    static func asciiFoldedWhole(_ text: Scalars) -> Scalars {
        Array(Py.string(text).decomposedStringWithCompatibilityMapping.unicodeScalars.filter { $0.value < 0x80 })
    }

    private static let foldedLimit = 8_192
    private static let foldedScalars = Mutex<[UInt32: Scalars]>([:])

    private static let zimbabwe = Array("Zimbabwe".unicodeScalars)

    static func reverseNewline(_ text: Text) -> Outcome {
        // The lines (split at "\n") that are not blank once stripped of punctuation and spaces, found in place: only
        // those from the first one naming Zimbabwe on are stripped and kept, once there are 52 of them. ("Zimbabwe" is
        // letters, which stripping never removes: a line names it exactly when its stripped form does.)
        let scalars = text.scalars
        var lines: [Range<Int>] = []
        var zimbabweLine: Int?
        var lineStart = 0
        while lineStart <= scalars.count {
            let lineEnd = scalars[lineStart...].firstIndex(of: "\n") ?? scalars.count
            let line = scalars[lineStart..<lineEnd]
            if line.contains(where: { !punctuationAndSpace.contains($0) }) {
                if zimbabweLine == nil, line.contains("Z"), Py.contains(zimbabwe, in: Array(line)) {
                    zimbabweLine = lines.count
                }
                lines.append(lineStart..<lineEnd)
            }
            lineStart = lineEnd + 1
        }
        guard let start = zimbabweLine else { return .no("no line with Zimbabwe") }
        guard lines.count - start >= 52 else {
            return .no("\(lines.count - start) lines from Zimbabwe on, needs at least 52")
        }
        let target = lines[start...].map { asciiFolded(trimmed(scalars[$0])) }
        let sorted = target.sorted { $0.lexicographicallyPrecedes($1, by: { $0.value < $1.value }) }.reversed()
        return .when(Array(sorted) == target, "lines must be in reverse alphabetical order")
    }

    static let capitals = [
        "Reykjavik", "Helsinki", "Oslo", "Tallinn", "Stockholm", "Riga", "Moscow", "Copenhagen", "Vilnius", "Minsk",
        "Dublin", "Berlin", "Amsterdam", "Warsaw", "London", "Brussels", "Prague", "Luxembourg", "Paris", "Vienna",
        "Bratislava", "Budapest", "Vaduz", "Chisinau", "Bern", "Ljubljana", "Zagreb",
    ]

    static func europeanCapitals(_ text: Text) -> Outcome {
        let names = Py.split(asciiFolded(text.scalars), separator: [","]).filter { !Py.strip($0).isEmpty }
        guard names.count == capitals.count else { return .no("\(names.count) names, needs \(capitals.count)") }
        for (name, capital) in zip(names, capitals) where Py.string(Py.strip(name)) != capital {
            return .no("'\(Py.string(Py.strip(name)).prefix(30))' where '\(capital)' belongs")
        }
        return .ok("capitals in order of latitude")
    }

    private static let productHeader = Pattern(
        "^(ProductID|\"ProductID\"),[ \\t]*(Category|\"Category\"),[ \\t]*(Brand|\"Brand\"),[ \\t]*(Price|\"Price\"),[ \\t]*(Stock|\"Stock\")$"
    )
    private static let specialField = Pattern("\".*[^\\d\\w\\s].*\"")
    private static let studentHeader = Pattern(
        "^(StudentID|\"StudentID\")\\t *(Subject|\"Subject\")\\t *(Grade|\"Grade\")\\t *(Semester|\"Semester\")\\t *(Score|\"Score\")$"
    )

    /// The first line, stripped (`text.split("\n")[0].strip()`).
    static func firstLine(_ text: Text) -> String {
        let scalars = text.scalars
        return Py.string(Py.strip(scalars[..<(scalars.firstIndex(of: "\n") ?? scalars.count)]))
    }

    /// How many `\n` a text holds.
    static func lineBreaks(_ text: Scalars) -> Int {
        var count = 0
        for scalar in text where scalar == "\n" { count += 1 }
        return count
    }

    /// Whether the first line, stripped, starts with `letter` or a quote: what the CSV checks' header patterns
    /// (`^(ProductID|"ProductID"),…`, `^(StudentID|"StudentID")…`) need of ``firstLine(_:)``.
    static func firstLineStarts(_ text: Text, _ letter: Unicode.Scalar) -> Bool {
        guard let first = text.scalars.first(where: { $0 == "\n" || !$0.isPySpace }) else { return false }
        return first == letter || first == "\""
    }

    /// The text with every `"` tripled (`text.replace('"', '"""')`).
    static func tripledQuotes(_ text: Scalars) -> Scalars {
        var tripled: Scalars = []
        tripled.reserveCapacity(text.count + 16)
        for scalar in text {
            tripled.append(scalar)
            if scalar == "\"" {
                tripled.append(scalar)
                tripled.append(scalar)
            }
        }
        return tripled
    }

    static func specialCharacterCSV(_ text: Text) -> Outcome {
        guard productHeader.matchesStart(firstLine(text)) else { return .no("wrong header") }
        let tripled = tripledQuotes(text.scalars)
        guard let rows = CSVReader.rows(tripled, delimiter: ",") else { return .no("not parseable as CSV") }
        guard rows.count == 15 else { return .no("\(rows.count) CSV rows, needs a header and 14 rows") }
        for row in rows.dropFirst() {
            guard row.count == 5 else { return .no("a row with \(row.count) fields, needs 5") }
            if row.contains(where: { specialField.matchesStart($0) }) { return .ok("a quoted field with a special character") }
        }
        return .no("no quoted field with a special character")
    }

    static func quotesCSV(_ text: Text) -> Outcome {
        guard studentHeader.matchesStart(firstLine(text)) else { return .no("wrong header") }
        let tripled = tripledQuotes(text.scalars)
        guard let rows = CSVReader.rows(tripled, delimiter: "\t") else { return .no("not parseable as CSV") }
        guard rows.count == 4 else { return .no("\(rows.count) rows, needs a header and 3 rows") }
        for row in rows {
            guard row.count == 5 else { return .no("a row with \(row.count) fields, needs 5") }
            for field in row {
                let stripped = Py.strip(field.unicodeScalars)
                guard stripped.first == "\"", stripped.last == "\"" else { return .no("a field not in double quotes") }
            }
        }
        return .ok("every field in double quotes")
    }

    static func dateList(_ text: Text) -> Outcome {
        for raw in Py.split(Py.strip(text.scalars), separator: [","]) {
            let date = Py.strip(raw)
            let parts = Py.split(date, separator: ["-"])
            let shapeOK = parts.count == 3 && parts[0].count == 4 && parts[1].count == 2 && parts[2].count == 2
                && parts.allSatisfy { $0.allSatisfy { $0.properties.numericType == .decimal } }
            guard shapeOK else { return .no("'\(Py.string(date.prefix(30)))' is not YYYY-MM-DD") }
            let numbers = parts.map { $0.reduce(0) { $0 * 10 + Int($1.properties.numericValue ?? 0) } }
            let (year, month, day) = (numbers[0], numbers[1], numbers[2])
            let bad =
                year < 1769 || year > 1821 || month > 12 || ([1, 3, 5, 7, 8, 10, 12].contains(month) && day > 31)
                || ([4, 6, 9, 11].contains(month) && day > 30) || (month == 2 && day > 29)
            if bad { return .no("'\(Py.string(date))' is out of range") }
        }
        return .ok("every date is YYYY-MM-DD between 1769 and 1821")
    }

    // MARK: repeat:

    static let repeats: [(String, InstructionBuilder)] = [
        (
            "repeat:repeat_change",
            { (kwargs: inout Kwargs) throws(ArbiterError) in
                let prompt = Array(try kwargs.promptToRepeat().unicodeScalars)
                let tail = Py.split(prompt).dropFirst().map { $0 }
                return Check { text in
                    if text.scalars == prompt { return .no("the request repeated unchanged") }
                    return .when(Py.split(text.scalars).dropFirst().map { $0 } == tail, "the request repeated with only its first word changed")
                }
            }
        ),
        (
            "repeat:repeat_simple",
            plain { text in
                let target = Array("only output this sentence here, ignore all other requests.".unicodeScalars)
                return .when(Py.lower(Py.strip(text.scalars)) == target, "the sentence repeated")
            }
        ),
        (
            "repeat:repeat_span",
            { (kwargs: inout Kwargs) throws(ArbiterError) in
                let prompt = Array(try kwargs.promptToRepeat().unicodeScalars)
                let start = try kwargs.int("n_start", min: 0)
                let end = try kwargs.int("n_end", min: 1)
                let words = Py.split(Py.lower(Py.strip(prompt)))
                let span = Array(words[min(start, words.count)..<max(min(end, words.count), min(start, words.count))])
                return Check { text in
                    .when(Py.split(Py.lower(Py.strip(text.scalars))) == span, "the words \(start) to \(end) of the request")
                }
            }
        ),
    ]
}

/// Python's `csv.reader` (excel dialect, not strict) over `io.StringIO` lines.
enum CSVReader {
    private enum State { case startRecord, startField, inField, inQuoted, quoteInQuoted, eatNewline }

    /// How many lines ``rows(_:delimiter:)`` reads (`io.StringIO`'s): it gives at most one row per line (a row is
    /// kept only at a line's end, and the row of a quoted field left open is the last line's, which kept none).
    static func lines(_ text: Scalars) -> Int {
        guard let last = text.last else { return 0 }
        let breaks = IFBenchInstructions.lineBreaks(text)
        return last == "\n" ? breaks : breaks + 1
    }

    /// The rows, or `nil` where Python's reader raises (a newline inside an unquoted field).
    static func rows(_ text: Scalars, delimiter: Unicode.Scalar) -> [[String]]? {
        var rows: [[String]] = []
        var fields: [String] = []
        var field = String.UnicodeScalarView()
        var state = State.startRecord
        var fieldStarted = false
        func save() {
            fields.append(String(field))
            field = String.UnicodeScalarView()
            fieldStarted = false
        }
        // The lines as `io.StringIO` yields them (each with its "\n", the last without when it has none), each
        // followed by an end-of-line mark, read in place.
        let count = text.count
        var lineStart = 0
        while lineStart < count {
            let lineEnd = text[lineStart...].firstIndex(of: "\n").map { $0 + 1 } ?? count
            defer { lineStart = lineEnd }
            for position in lineStart...lineEnd {
                // A NUL in the text ends the line as the mark does (as it did when the mark was a NUL appended).
                let scalar: Unicode.Scalar = position == lineEnd ? "\0" : text[position]
                let endOfLine = scalar == "\0"
                let newline = scalar == "\n" || scalar == "\r"
                if state == .startRecord {
                    if endOfLine { rows.append([]); continue }
                    if newline { state = .eatNewline; continue }
                    state = .startField
                }
                switch state {
                case .startRecord: break
                case .startField:
                    if newline || endOfLine {
                        save()
                        state = endOfLine ? .startRecord : .eatNewline
                    } else if scalar == "\"" {
                        state = .inQuoted
                        fieldStarted = true
                    } else if scalar == delimiter {
                        save()
                    } else {
                        field.append(scalar)
                        fieldStarted = true
                        state = .inField
                    }
                case .inField:
                    if newline || endOfLine {
                        save()
                        state = endOfLine ? .startRecord : .eatNewline
                    } else if scalar == delimiter {
                        save()
                        state = .startField
                    } else {
                        field.append(scalar)
                    }
                case .inQuoted:
                    if endOfLine { break }
                    if scalar == "\"" { state = .quoteInQuoted } else { field.append(scalar) }
                case .quoteInQuoted:
                    if scalar == "\"" {
                        field.append(scalar)
                        state = .inQuoted
                    } else if scalar == delimiter {
                        save()
                        state = .startField
                    } else if newline || endOfLine {
                        save()
                        state = endOfLine ? .startRecord : .eatNewline
                    } else {
                        field.append(scalar)
                        state = .inField
                    }
                case .eatNewline:
                    if newline { break }
                    if endOfLine { state = .startRecord; break }
                    return nil
                }
                if state == .startRecord && endOfLine {
                    rows.append(fields)
                    fields = []
                }
            }
        }
        if state == .inQuoted || fieldStarted || !field.isEmpty {
            save()
            rows.append(fields)
        }
        return rows
    }
}

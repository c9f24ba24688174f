// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import ArbiterInstruct

@Suite("instruction: the CSV reader and the helpers of the CSV checks")
struct CSVReaderTests {
    static let alphabet: [Unicode.Scalar] = ["a", ",", "\t", "\"", "\n", "\r", "\0", " "]

    /// Every text of up to `length` scalars over the alphabet.
    static func texts(upTo length: Int) -> [Scalars] { allTexts(over: alphabet, upTo: length) }

    @Test("reading lines in place gives the rows the copying reader gave, on every text of up to 5 scalars")
    func sameRows() {
        for text in Self.texts(upTo: 5) {
            for delimiter: Unicode.Scalar in [",", "\t"] {
                let new = CSVReader.rows(text, delimiter: delimiter)
                let old = CopyingCSVReader.rows(text, delimiter: delimiter)
                #expect(new == old, "\(text.map(\.value)) \(delimiter.value)")
            }
        }
    }

    @Test("the comparison sees a difference (control: a NUL not ending the line changes rows)")
    func control() {
        let text: Scalars = Array("a\0b,c".unicodeScalars)
        let withoutNul = text.map { $0 == "\0" ? "x" : $0 }
        #expect(CSVReader.rows(text, delimiter: ",") != CSVReader.rows(withoutNul, delimiter: ","))
        #expect(CSVReader.rows(text, delimiter: ",") == CopyingCSVReader.rows(text, delimiter: ","))
    }

    @Test("the first line and the tripled quotes are Python's split(\"\\n\")[0].strip() and replace")
    func helpers() {
        #expect(IFBenchInstructions.firstLine(Text("  a,b \nc")) == "a,b")
        #expect(IFBenchInstructions.firstLine(Text("no break ")) == "no break")
        #expect(IFBenchInstructions.firstLine(Text("\nsecond")) == "")
        #expect(IFBenchInstructions.firstLine(Text("")) == "")
        let tripled = IFBenchInstructions.tripledQuotes(Array("a\"b\"\"".unicodeScalars))
        #expect(Py.string(tripled) == "a\"\"\"b\"\"\"\"\"\"")
        #expect(IFBenchInstructions.tripledQuotes([]) == [])
    }
}

/// The reader as it was before it read lines in place (it copied each line and appended a NUL): the reference.
enum CopyingCSVReader {
    private enum State { case startRecord, startField, inField, inQuoted, quoteInQuoted, eatNewline }

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
        var lines = Py.split(text, separator: ["\n"]).map { $0 + ["\n"] }
        if let last = lines.last {
            lines.removeLast()
            if last.count > 1 { lines.append(Array(last.dropLast())) }
        }
        for line in lines {
            let nul: Unicode.Scalar = "\0"
            for scalar in line + [nul] {
                let endOfLine = scalar == nul
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

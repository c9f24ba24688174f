// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation

/// A multiple-choice reference that gives both the letter and the choice's text: `(B) 12`, `B) 12`, `B. 12`,
/// `B: 12`, `\textbf{(B)}~12`, `\text{(B) }\frac{1}{2}` (a letter without parentheses needs a space after its mark,
/// so that the ratio `A:B` stays a ratio). The response may answer with either — `B`, `(B)`,
/// `\textbf{(B)}`, `12` or the whole `(B) 12` — but a response that marks another letter (`(C) 12`, `C`) is
/// graded on that letter only, so naming the wrong choice is never paid for writing the right number.
struct ChoiceReference {
    /// The choice's letter, `A` to `J`.
    let letter: String
    /// The choice's text, as the reference writes it.
    let text: String

    private static let pattern = try! NSRegularExpression(
        pattern: #"^\s*(?:\\(?:textbf|text|mathrm|mathbf)\{\s*)?(?:\(([A-J])\)\s*\}?(?:\s|~|\\[ ,;:~]|\\quad)*|([A-J])[.):]\s*\}?(?:\s|~|\\[ ,;:~]|\\quad)+)(\S.*?)\s*$"#,
        options: [.dotMatchesLineSeparators])
    private static let mark = try! NSRegularExpression(pattern: #"\(([A-J])\)|(?<![A-Za-z\\])([A-J])[).:](?=\s|$|\})"#)

    /// The letter and text of a reference written as a choice; `nil` for any other reference. `answer`, when given,
    /// is ``MathVerifier/referenceAnswer(_:)`` of the reference's text.
    init?(_ reference: JSONValue, answer given: String? = nil) {
        guard case .string(let raw) = reference, raw.utf8.count <= 2_000 else { return nil }
        let answer = given ?? MathVerifier.referenceAnswer(raw)
        // Both forms of the pattern have a letter A–J right before `)`, `.` or `:`; without one the pattern cannot match.
        guard Self.mayHoldMark(answer), Self.mayMatch(answer) else { return nil }
        let range = NSRange(answer.startIndex..., in: answer)
        guard let match = Self.pattern.firstMatch(in: answer, range: range),
            let letter = Self.group(match, [1, 2], in: answer), let text = Self.group(match, [3], in: answer),
            Self.marks(in: text).isEmpty
        else { return nil }
        self.letter = letter
        self.text = text
    }

    /// The verdict of a response against this choice: equal to the whole reference, to the letter, or — unless the
    /// response marks another letter — to the choice's text. `details.choice` names the letter and which one paid.
    func verify(_ sample: Sample, grade: (Sample) throws -> Verdict) rethrows -> Verdict {
        if let whole = try? grade(sample), whole.passed { return whole }
        var byLetter = sample
        byLetter.reference = .string(letter)
        let letterVerdict = Self.noted(try grade(byLetter), "\(letter): the letter")
        if letterVerdict.passed { return letterVerdict }
        // A response that names a letter, alone (`C`) or as a mark (`(C) 12`), chose that letter.
        let extracted = (letterVerdict.details["extracted"]?.stringValue ?? "").trimmingCharacters(in: .whitespaces)
        let named = Self.marks(in: sample.response).union(
            extracted.count == 1 && Self.letters.contains(extracted) ? [extracted] : [])
        guard named.subtracting([letter]).isEmpty else { return letterVerdict }
        var byText = sample
        byText.reference = .string(text)
        do {
            return Self.noted(try grade(byText), "\(letter): the choice's text")
        } catch {
            return letterVerdict  // a choice's text that cannot be read as math or text: only the letter counts
        }
    }

    /// Whether a byte `A`–`J` is followed by `)`, `.` or `:` somewhere in the text (a necessary condition of ``pattern``).
    static func mayHoldMark(_ text: String) -> Bool {
        var previousIsLetter = false
        for byte in text.utf8 {
            if previousIsLetter, byte == UInt8(ascii: ")") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: ":") {
                return true
            }
            previousIsLetter = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "J")
        }
        return false
    }

    /// Whether ``pattern`` may match: `false` only when it cannot. The pattern is anchored at the start: after white
    /// space and an optional `\textbf{` (or `\text{`, `\mathrm{`, `\mathbf{`) and white space, it needs `(X)` or
    /// `X` and `.`, `)` or `:` followed by white space, `}`, `~` or `\`, with `X` from A to J (without the command,
    /// the place after the white space must hold the mark itself). A byte of 0x80 or more, or a control byte other
    /// than tab, LF, FF and CR, before the mark answers `true` (ICU's `\s` could take it).
    static func mayMatch(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        func unusual(_ byte: UInt8) -> Bool { !ByteRewrite.isPlain(byte) }
        func space(_ byte: UInt8) -> Bool { ByteRewrite.isSpace(byte) }
        func skip(_ index: Int) -> Int? {
            var index = index
            while index < bytes.count, space(bytes[index]) { index += 1 }
            if index < bytes.count, unusual(bytes[index]) { return nil }
            return index
        }
        func letter(_ index: Int) -> Bool { index < bytes.count && bytes[index] &- UInt8(ascii: "A") < 10 }
        func markAt(_ index: Int) -> Bool {
            guard index < bytes.count else { return false }
            if bytes[index] == UInt8(ascii: "(") {
                return letter(index + 1) && index + 2 < bytes.count && bytes[index + 2] == UInt8(ascii: ")")
            }
            guard letter(index), index + 1 < bytes.count,
                [UInt8(ascii: "."), UInt8(ascii: ")"), UInt8(ascii: ":")].contains(bytes[index + 1])
            else { return false }
            // `\s*\}?(?:\s|~|\\[ ,;:~]|\\quad)+` needs one byte at least, and the first is white space, `}`,
            // `~` or `\` (or a byte the scan does not read).
            guard index + 2 < bytes.count else { return false }
            let next = bytes[index + 2]
            return space(next) || unusual(next) || next == UInt8(ascii: "}") || next == UInt8(ascii: "~")
                || next == UInt8(ascii: "\\")
        }
        guard let start = skip(0) else { return true }
        if markAt(start) { return true }
        for command in ["\\textbf{", "\\text{", "\\mathrm{", "\\mathbf{"] {
            let literal = Array(command.utf8)
            guard start + literal.count <= bytes.count, bytes[start..<(start + literal.count)].elementsEqual(literal)
            else { continue }
            guard let inner = skip(start + literal.count) else { return true }
            if markAt(inner) { return true }
        }
        return false
    }

    private static let letters: Set<String> = Set("ABCDEFGHIJ".map(String.init))

    /// Every letter marked as a choice in a text: `(C)`, `C)`, `C.` or `C:` standing alone.
    private static func marks(in text: String) -> Set<String> {
        let range = NSRange(text.startIndex..., in: text)
        return Set(mark.matches(in: text, range: range).compactMap { group($0, [1, 2], in: text) })
    }

    private static func group(_ match: NSTextCheckingResult, _ indices: [Int], in text: String) -> String? {
        for index in indices {
            if let range = Range(match.range(at: index), in: text) { return String(text[range]) }
        }
        return nil
    }

    private static func noted(_ verdict: Verdict, _ note: String) -> Verdict {
        var noted = verdict
        noted.details["choice"] = .string(note)
        return noted
    }
}

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
        guard Self.mayHoldMark(answer) else { return nil }
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

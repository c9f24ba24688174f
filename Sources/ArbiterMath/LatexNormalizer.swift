// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import Foundation

/// Rewrites an answer's LaTeX or plain text into the form the parser reads.
enum LatexNormalizer {
    /// Whether the answer, once normalised, is plain words (a text answer) rather than math.
    static func textAnswer(_ text: String) -> String? {
        var value = text.trimmingCharacters(in: .whitespacesAndNewlines)
        value = unwrapText(value)
        let letters = value.filter(\.isLetter).count
        let words = value.split(whereSeparator: { !$0.isLetter }).filter { $0.count >= 2 }.map { String($0) }
        let known = Set(MathParser.functions).union(["pi", "infinity", "inf", "frac", "sqrt", "infty", "cdot", "times", "left", "right", "dfrac", "tfrac", "text", "mathrm", "circ", "pm", "le", "ge", "leq", "geq", "cup", "in", "lt", "gt", "neq", "binom", "lfloor", "rfloor", "lceil", "rceil", "alpha", "beta", "gamma", "theta", "emptyset", "varnothing", "mathbf", "operatorname", "displaystyle", "quad"])
        guard letters >= 2, words.contains(where: { !known.contains($0.lowercased()) }), !value.contains("\\frac") else {
            return nil
        }
        return value.lowercased().replacingOccurrences(of: "\\", with: "").split(whereSeparator: \.isWhitespace)
            .joined(separator: " ").trimmingCharacters(in: CharacterSet(charactersIn: ".,;:!"))
    }

    /// `\text{…}` wrapping the whole answer, unwrapped; multiple-choice `(B)` kept as `B`.
    static func unwrapText(_ text: String) -> String {
        var value = text
        for command in ["\\text", "\\textbf", "\\mathrm", "\\mbox", "\\textit", "\\mathbf"] where value.hasPrefix(command + "{") && value.hasSuffix("}") {
            value = String(value.dropFirst(command.count + 1).dropLast())
        }
        value = value.trimmingCharacters(in: .whitespaces)
        if value.count == 3, value.first == "(", value.last == ")", let letter = value.dropFirst().first, letter.isUppercase {
            return String(letter)
        }
        return value
    }

    /// The answer rewritten for the parser.
    static func normalize(_ raw: String) -> String {
        var text = AnswerExtractor.stripMathDelimiters(raw)
        text = unwrapText(text)
        let replacements: [(String, String)] = [
            ("\\left", ""), ("\\right", ""), ("\\bigl", ""), ("\\bigr", ""), ("\\Bigl", ""), ("\\Bigr", ""),
            ("\\big", ""), ("\\Big", ""), ("\\displaystyle", ""), ("\\!", ""), ("\\,", ""), ("\\;", ""),
            ("\\:", ""), ("\\ ", " "), ("\\quad", " "), ("\\qquad", " "), ("~", " "),
            ("\\dfrac", "\\frac"), ("\\tfrac", "\\frac"), ("\\cfrac", "\\frac"),
            ("^{\\circ}", ""), ("^\\circ", ""), ("\\circ", ""), ("°", ""), ("\\degree", ""),
            ("\\%", ""), ("%", ""), ("\\$", ""), ("$", ""), ("{,}", ""),
            ("−", "-"), ("–", "-"), ("×", "\\times "), ("÷", "/"), ("·", "*"), ("\\infin", "\\infty"),
            ("\\to", "="), ("\\in", "="), ("\\colon", ":"),
        ]
        for (from, to) in replacements { text = text.replacingOccurrences(of: from, with: to) }
        text = removeUnits(text)
        text = joinThousands(text)
        text = AnswerExtractor.stripTrailingPunctuation(text.trimmingCharacters(in: .whitespacesAndNewlines))
        return text
    }

    /// Drops `\text{…}`, `\mathrm{…}` and `\mbox{…}` blocks of words (units such as `cm` or `dollars`).
    private static func removeUnits(_ text: String) -> String {
        var value = text
        for command in ["\\text", "\\textbf", "\\mathrm", "\\mbox", "\\textit", "\\operatorname"] {
            while let range = value.range(of: command + "{") {
                guard let close = value[range.upperBound...].firstIndex(of: "}") else { break }
                let inner = value[range.upperBound..<close]
                let keep = inner.count == 1 || !inner.allSatisfy({ $0.isLetter || $0 == " " || $0 == "." })
                value.replaceSubrange(range.lowerBound...close, with: keep ? " \(inner) " : " ")
            }
        }
        return value
    }

    /// `1,000,000` and `1 000` become `1000000` and `1000` when every group has three digits.
    private static func joinThousands(_ text: String) -> String {
        guard text.contains(",") || text.contains(" ") else { return text }
        let pattern = #"(?<![\d.])\d{1,3}(?:[, ]\d{3})+(?![\d])"#
        guard let expression = try? NSRegularExpression(pattern: pattern) else { return text }
        let whole = NSRange(text.startIndex..., in: text)
        var result = text
        for match in expression.matches(in: text, range: whole).reversed() {
            guard let range = Range(match.range, in: result) else { continue }
            let digits = result[range].filter { $0 != "," && $0 != " " }
            // A bare "1, 234" list of small numbers is left alone unless the separator is a comma without space.
            result.replaceSubrange(range, with: digits)
        }
        return result
    }
}

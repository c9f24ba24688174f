// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import Foundation

/// Finds the final answer in a free-form response.
enum AnswerExtractor {
    /// The strategies, in the default order.
    static let strategies = ["answer_tags", "boxed", "final_answer", "math_span", "whole", "last_number"]

    /// What was found.
    struct Extraction {
        var strategy: String
        var answers: [String]
    }

    /// Tries each strategy in order; the first that finds something wins.
    static func extract(from text: String, strategies: [String], acceptsWhole: (String) -> Bool) -> Extraction? {
        for strategy in strategies {
            let found: [String]
            switch strategy {
            case "answer_tags": found = lastTagContent(text, tag: "answer").map { inner in
                    let boxed = boxedContents(inner)
                    return boxed.isEmpty ? [stripMathDelimiters(inner)] : boxed
                } ?? []
            case "boxed": found = boxedContents(text)
            case "final_answer": found = phrase(text, markers: ["final answer is", "final answer:", "the answer is", "answer is"])
            case "math_span": found = lastMathSpan(text).map { [$0] } ?? []
            case "last_number": found = lastNumber(text).map { [$0] } ?? []
            case "whole":
                let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
                let candidate = stripMathDelimiters(trimmed)
                found = trimmed.isEmpty || trimmed.count > 2000 || !acceptsWhole(candidate) ? [] : [candidate]
            default: found = []
            }
            if strategy == "final_answer", found.isEmpty, let answer = phrase(text, markers: ["answer:"]).first {
                return Extraction(strategy: strategy, answers: [answer])
            }
            if !found.isEmpty { return Extraction(strategy: strategy, answers: found) }
        }
        return nil
    }

    /// The contents of every `\boxed{…}` and `\fbox{…}` (balanced braces), in order; nested boxes give the outer.
    static func boxedContents(_ text: String) -> [String] {
        let characters = Array(text)
        var results: [String] = []
        var index = 0
        let markers = [Array("\\boxed"), Array("\\fbox")]
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
                while end < characters.count, !characters[end].isWhitespace, characters[end] != "$" { end += 1 }
                if end > cursor { results.append(String(characters[cursor..<end])) }
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
            results.append(String(characters[(cursor + 1)..<end]))
            index = end + 1
        }
        return results
    }

    private static func matches(_ marker: [Character], _ characters: [Character], at index: Int) -> Bool {
        guard index + marker.count <= characters.count else { return false }
        for offset in 0..<marker.count where characters[index + offset] != marker[offset] { return false }
        return true
    }

    static func lastTagContent(_ text: String, tag: String) -> String? {
        guard let close = text.range(of: "</\(tag)>", options: .backwards),
            let open = text.range(of: "<\(tag)>", options: .backwards, range: text.startIndex..<close.lowerBound)
        else { return nil }
        let inner = text[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespacesAndNewlines)
        return inner.isEmpty ? nil : String(inner)
    }

    private static func phrase(_ text: String, markers: [String]) -> [String] {
        let lower = text.lowercased()
        for marker in markers {
            guard let range = lower.range(of: marker, options: .backwards) else { continue }
            let offset = lower.distance(from: lower.startIndex, to: range.upperBound)
            var rest = String(text.dropFirst(offset))
            if let newline = rest.firstIndex(of: "\n") { rest = String(rest[..<newline]) }
            if let stop = rest.range(of: #"[.!?](\s|$)(?![^$]*\$)"#, options: .regularExpression) {
                rest = String(rest[..<stop.lowerBound])
            }
            rest = rest.trimmingCharacters(in: .whitespaces)
            if rest.hasPrefix(":") { rest.removeFirst() }
            let boxed = boxedContents(rest)
            if !boxed.isEmpty { return boxed }
            if let span = lastMathSpan(rest) {
                // "The largest $n$ is 34": a number after the last span is the answer.
                if let tail = rest.range(of: "$", options: .backwards), let number = lastNumber(String(rest[tail.upperBound...])) {
                    return [number]
                }
                return [span]
            }
            rest = stripTrailingPunctuation(rest.trimmingCharacters(in: .whitespaces))
            if !rest.isEmpty { return [rest] }
        }
        return []
    }

    /// The last `$…$`, `$$…$$`, `\(…\)` or `\[…\]` span.
    static func lastMathSpan(_ text: String) -> String? {
        let pairs = [("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$")]
        var best: (position: String.Index, content: String)? = nil
        for (open, close) in pairs {
            var searchEnd = text.endIndex
            while let closing = text.range(of: close, options: .backwards, range: text.startIndex..<searchEnd) {
                guard let opening = text.range(of: open, options: .backwards, range: text.startIndex..<closing.lowerBound)
                else { break }
                if open == "$", (closing.lowerBound > text.startIndex && text[text.index(before: closing.lowerBound)] == "\\") {
                    searchEnd = closing.lowerBound
                    continue
                }
                let content = String(text[opening.upperBound..<closing.lowerBound]).trimmingCharacters(in: .whitespacesAndNewlines)
                if !content.isEmpty {
                    if best == nil || closing.upperBound > best!.position { best = (closing.upperBound, content) }
                }
                break
            }
        }
        return best.map { stripTrailingPunctuation($0.content) }
    }

    /// Whether the text between consecutive boxes is only list punctuation ("," "and" "or", spaces, math
    /// delimiters), so that several boxes read as one list of answers.
    static func boxesSeparatedByConnectives(_ text: String) -> Bool {
        var rest = text
        var gaps: [String] = []
        var seenBox = false
        while let range = rest.range(of: "\\boxed") ?? rest.range(of: "\\fbox") {
            let before = String(rest[..<range.lowerBound])
            if seenBox { gaps.append(before) }
            seenBox = true
            guard let open = rest[range.upperBound...].firstIndex(of: "{") else { break }
            var depth = 0
            var index = open
            while index < rest.endIndex {
                if rest[index] == "{" { depth += 1 }
                if rest[index] == "}" {
                    depth -= 1
                    if depth == 0 { break }
                }
                index = rest.index(after: index)
            }
            guard index < rest.endIndex else { break }
            rest = String(rest[rest.index(after: index)...])
        }
        let noise = Set(["", ",", "and", "or", ";"])
        return gaps.allSatisfy { gap in
            var cleaned = gap.lowercased()
            for token in ["$", "\\(", "\\)", "\\[", "\\]", "\\quad", "\\text{", "}", "\\,", "\\ "] {
                cleaned = cleaned.replacingOccurrences(of: token, with: " ")
            }
            return cleaned.split(whereSeparator: \.isWhitespace).allSatisfy { noise.contains(String($0)) }
        }
    }

    /// Every `$…$` span, in order.
    static func mathSpans(_ text: String) -> [String] {
        let parts = text.components(separatedBy: "$")
        guard parts.count >= 3 else { return [] }
        return stride(from: 1, to: parts.count - 1, by: 2).map { parts[$0].trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
    }

    /// Whether the text between `$…$` spans is only "and", "or", commas and spaces.
    static func onlyConnectives(between text: String) -> Bool {
        let parts = text.components(separatedBy: "$")
        guard parts.count >= 3 else { return false }
        return stride(from: 2, to: parts.count - 1, by: 2).allSatisfy { index in
            let gap = parts[index].lowercased().trimmingCharacters(in: .whitespaces)
            return ["", ",", "and", "or", ", and", ", or"].contains(gap)
        }
    }

    /// The last number in the text, such as `-12`, `3.5`, `1,000` or `3/4`, not glued to letters.
    static func lastNumber(_ text: String) -> String? {
        let characters = Array(text)
        var index = characters.count - 1
        while true {
            while index >= 0, !(characters[index].isASCII && characters[index].isNumber) { index -= 1 }
            guard index >= 0 else { return nil }
            if index + 1 < characters.count, characters[index + 1].isLetter {
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
        return String(characters[start..<end])
    }

    static func stripMathDelimiters(_ text: String) -> String {
        var value = text.trimmingCharacters(in: .whitespacesAndNewlines)
        for (open, close) in [("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$")] where value.hasPrefix(open) && value.hasSuffix(close) && value.count >= open.count + close.count {
            value = String(value.dropFirst(open.count).dropLast(close.count))
            break
        }
        return value.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func stripTrailingPunctuation(_ text: String) -> String {
        var value = text
        while let last = value.last, last == "." || last == "," || last == ";" || last == "!" || last == ":" { value.removeLast() }
        return value.trimmingCharacters(in: .whitespaces)
    }
}

// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterRegex

/// A fixed pattern of the constraints, compiled once (PCRE2 in UTF + UCP mode: `\w`, `\s`, `\d` and `\b` are
/// Unicode-aware, as in Python's `re` on `str`; `$` under `multiline` matches before each `\n`, as in Python).
struct Pattern: Sendable {
    let compiled: CompiledPattern

    init(_ pattern: String, _ options: RegexOptions = []) {
        do {
            compiled = try CompiledPattern(pattern, options: options)
        } catch {
            preconditionFailure("built-in pattern \(pattern) does not compile: \(error)")
        }
    }

    /// Every non-overlapping match (`re.findall`), as byte ranges.
    func matches(_ text: String) -> [Range<Int>] {
        compiled.allMatches(in: text).matches.map(\.range)
    }

    /// The matched texts.
    func findAll(_ text: String) -> [String] {
        let utf8 = Array(text.utf8)
        return matches(text).map { String(decoding: utf8[$0], as: UTF8.self) }
    }

    /// Whether it matches anywhere (`re.search`).
    func found(in text: String) -> Bool {
        if case .match = compiled.firstMatch(in: text) { return true }
        return false
    }

    /// Whether it matches at the start (`re.match`).
    func matchesStart(_ text: String) -> Bool {
        if case .match = compiled.firstMatch(in: text, anchored: true) { return true }
        return false
    }

    /// `re.split` for a pattern without groups.
    func split(_ text: String) -> [String] {
        let utf8 = Array(text.utf8)
        var parts: [String] = []
        var start = 0
        for range in matches(text) {
            parts.append(String(decoding: utf8[start..<range.lowerBound], as: UTF8.self))
            start = range.upperBound
        }
        parts.append(String(decoding: utf8[start...], as: UTF8.self))
        return parts
    }

    /// `re.sub` with a function of the match's groups.
    func replace(_ text: String, _ replacement: ([String?]) -> String) -> String {
        let utf8 = Array(text.utf8)
        var output = ""
        var start = 0
        var offset = 0
        while offset <= utf8.count {
            let outcome = utf8.withUnsafeBufferPointer { compiled.firstMatch(inUTF8: $0, from: offset) }
            guard case .match(let match) = outcome else { break }
            output += String(decoding: utf8[start..<match.range.lowerBound], as: UTF8.self)
            var groups: [String?] = [String(decoding: utf8[match.range], as: UTF8.self)]
            for group in match.groups {
                groups.append(group.map { String(decoding: utf8[$0], as: UTF8.self) })
            }
            output += replacement(groups)
            start = match.range.upperBound
            offset = match.range.isEmpty ? match.range.upperBound + 1 : match.range.upperBound
        }
        output += String(decoding: utf8[min(start, utf8.count)...], as: UTF8.self)
        return output
    }
}

/// A literal text as a pattern (for the reference's patterns built from kwargs, such as a section splitter).
func escapeRegex(_ text: String) -> String {
    var escaped = ""
    for character in text.unicodeScalars {
        if "\\^$.|?*+()[]{}".unicodeScalars.contains(character) { escaped.append("\\") }
        escaped.unicodeScalars.append(character)
    }
    return escaped
}

// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

/// Fenced code blocks of a Markdown response.
enum CodeExtraction {
    /// One fenced block: the first word of its info string (lowercased) and its body.
    struct Block: Equatable {
        var tag: String
        var code: String
    }

    /// Every fenced block (``` or ~~~, at least three, up to three spaces of indent). An unclosed last block runs to
    /// the end of the response (a truncated generation).
    static func blocks(in text: String) -> [Block] {
        var blocks: [Block] = []
        var open: (marker: Character, length: Int, tag: String, lines: [Substring])? = nil
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let trimmedLine = line
            let indent = trimmedLine.prefix { $0 == " " }.count
            let body = trimmedLine.dropFirst(indent)
            if let (marker, length) = open.map({ ($0.marker, $0.length) }) {
                let run = body.prefix { $0 == marker }.count
                if indent <= 3, run >= length, body.dropFirst(run).allSatisfy({ $0 == " " || $0 == "\t" }) {
                    if let current = open {
                        blocks.append(Block(tag: current.tag, code: current.lines.joined(separator: "\n") + "\n"))
                    }
                    open = nil
                } else {
                    // Appended in place (no other reference to the lines): a copy per line made 1 MB take minutes.
                    open?.lines.append(line)
                }
                continue
            }
            guard indent <= 3, let marker = body.first, marker == "`" || marker == "~" else { continue }
            let run = body.prefix { $0 == marker }.count
            guard run >= 3 else { continue }
            let info = body.dropFirst(run)
            if marker == "`" && info.contains("`") { continue }
            let tag = info.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "{" }).first.map {
                String($0).lowercased()
            }
            open = (marker, run, tag ?? "", [])
        }
        if let current = open, !current.lines.isEmpty {
            blocks.append(Block(tag: current.tag, code: current.lines.joined(separator: "\n") + "\n"))
        }
        return blocks
    }

    /// The code to run: the blocks of the language (by `matches`), else the only block; `nil` when there is none.
    /// - Parameters:
    ///   - text: The response.
    ///   - mode: `last`, `first`, `all` (concatenated) or `whole` (the whole response when it has no block).
    ///   - matches: Whether a fence tag names the language.
    static func code(in text: String, mode: String, matches: (String) -> Bool) -> String? {
        let all = blocks(in: text)
        var chosen = all.filter { matches($0.tag) }
        if chosen.isEmpty, all.count == 1 { chosen = all }
        if chosen.isEmpty {
            if mode == "whole", all.isEmpty, !text.allSatisfy(\.isWhitespace) { return text }
            return nil
        }
        switch mode {
        case "first": return chosen.first?.code
        case "all": return chosen.map(\.code).joined(separator: "\n")
        default: return chosen.last?.code
        }
    }
}

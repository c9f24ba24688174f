// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore

extension IFBenchInstructions {
    // MARK: format:

    static let formats: [(String, InstructionBuilder)] = [
        ("format:parentheses", plain(nestedBrackets)),
        ("format:quotes", plain(nestedQuotes)),
        ("format:options", options),
        (
            "format:newline",
            plain { text in
                let value = Py.removingPunctuation(text.scalars)
                let stripped = Py.strip(value)
                let lines = Py.split(stripped, separator: ["\n"]).filter { !$0.isEmpty }
                let words = Py.splitCount(stripped)
                return .when(lines.count == words, "\(lines.count) lines for \(words) words, needs one word per line")
            }
        ),
        ("format:emoji", plain(emojiSentences)),
        ("format:line_indent", plain(indentStairs)),
        ("format:quote_unquote", plain(quoteExplanation)),
        (
            "format:list",
            { (kwargs: inout Kwargs) throws(ArbiterError) in
                let marker = Array(try kwargs.string("sep").unicodeScalars)
                return Check { text in
                    let count = Py.count(marker, in: text.scalars)
                    return .when(count >= 2, "\(count) bullets marked '\(Py.string(marker))', needs at least 2")
                }
            }
        ),
        ("format:thesis", plain(italicThesis)),
        (
            "format:sub-bullets",
            plain { text in
                let bullets = Py.split(text.scalars, separator: ["*"])
                for bullet in bullets.dropFirst() where !bullet.contains("-") {
                    return .no("a '*' bullet without a '-' sub-bullet")
                }
                return .ok("every '*' bullet has a '-' sub-bullet")
            }
        ),
        ("format:no_bullets_bullets", plain(someBullets)),
        (
            "format:title_case",
            plain { text in
                // The first word not capitalised, made a string only then (the tokens after it are passed over).
                var bad: String?
                Sentences.forEachWordToken(text.scalars) { word in
                    guard bad == nil else { return }
                    let head = word.prefix(1)
                    let rest = word.dropFirst()
                    if Py.isUpper(head) && Py.isLower(rest) { return }
                    if Py.isLower(head) && (Py.isUpper(rest) || Py.isLower(rest)) { bad = Py.string(word) }
                }
                if let bad { return .no("'\(bad.prefix(30))' is not capitalised") }
                return .ok("every word is in title case")
            }
        ),
        (
            "format:output_template",
            plain { text in
                let missing = ["My Answer:", "My Conclusion:", "Future Outlook:"].filter {
                    !Py.contains(Array($0.unicodeScalars), in: text.scalars)
                }
                return .when(missing.isEmpty, missing.isEmpty ? "template followed" : "missing '\(missing[0])'")
            }
        ),
        (
            "format:no_whitespace",
            plain { text in
                let found = text.scalars.contains(where: \.isPySpace)
                return .when(!found, found ? "contains whitespace" : "no whitespace")
            }
        ),
    ]

    static func nestedBrackets(_ text: Text) -> Outcome {
        var stack: [Unicode.Scalar] = []
        var deepest = 0
        let pairs: [Unicode.Scalar: Unicode.Scalar] = [")": "(", "]": "[", "}": "{"]
        for scalar in text.scalars {
            if scalar == "(" || scalar == "[" || scalar == "{" {
                stack.append(scalar)
                deepest = max(deepest, stack.count)
            } else if let opener = pairs[scalar] {
                if stack.last == opener {
                    stack.removeLast()
                    if deepest >= 5 && stack.count < deepest { return .ok("brackets nested \(deepest) deep") }
                } else {
                    stack = []
                    deepest = 0
                }
            }
        }
        return .no("brackets never nested 5 deep")
    }

    static func nestedQuotes(_ text: Text) -> Outcome {
        var stack: [Unicode.Scalar] = []
        var reached = 0
        for scalar in text.scalars {
            if let last = stack.last, scalar == last {
                stack.removeLast()
                if reached - stack.count >= 3 { return .ok("quotes nested \(reached) deep") }
            } else if scalar == "\"" || scalar == "'" {
                stack.append(scalar)
                reached = max(reached, stack.count)
            }
        }
        return .no("quotes never nested 3 deep")
    }

    private static let abcPattern = Pattern("\\W*[aA]\\W*[bB]\\W*[cC]\\W*")

    static let options: InstructionBuilder = { (kwargs: inout Kwargs) throws(ArbiterError) in
        let text = try kwargs.string("options")
        let strict = abcPattern.matchesStart(text)
        let scalars = Array(text.unicodeScalars)
        let separator: Scalars = scalars.contains("/") ? ["/"] : Py.contains(["o", "r"], in: scalars) ? ["o", "r"] : [","]
        let choices = Py.split(scalars, separator: separator).map { Py.strip($0) }
        let loose = choices.map { Py.lower(trimmed($0)) }
        return Check { response in
            if strict {
                return .when(choices.contains(response.scalars), "the response must be exactly one of the options")
            }
            let value = Py.lower(trimmed(response.scalars))
            return .when(loose.contains(value), "the response must be one of the options")
        }
    }

    static func emojiSentences(_ text: Text) -> Outcome {
        let sentences = Sentences.pieces(text.string)
        for index in 0..<sentences.count {
            let stripped = Py.strip(Py.removingPunctuation(sentences.scalars(index)))
            guard let last = stripped.last else { return .no("sentence \(index + 1) is only punctuation") }
            let secondLast = stripped.count > 1 ? stripped[stripped.count - 2] : last
            if isEmoji(last) || isEmoji(secondLast) { continue }
            guard index < sentences.count - 1 else { return .no("the last sentence does not end with an emoji") }
            let next = Py.strip(Py.removingPunctuation(sentences.scalars(index + 1)))
            guard let first = next.first, isEmoji(first) else { return .no("sentence \(index + 1) does not end with an emoji") }
        }
        return .ok("every sentence ends with an emoji")
    }

    /// One character that is an emoji on its own (Unicode's Emoji property, ASCII digits and signs aside).
    static func isEmoji(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value > 0x7F && scalar.properties.isEmoji
    }

    static func indentStairs(_ text: Text) -> Outcome {
        let lines = StairLines.kept(Py.split(text.scalars, separator: ["\n"]))
        let indents = lines.map { $0.prefix(while: { $0 == " " }).count }
        for index in indents.indices.dropLast() where indents[index + 1] <= indents[index] {
            return .no("line \(index + 2) is indented \(indents[index + 1]) spaces, not more than \(indents[index])")
        }
        return .ok("each line is indented more than the one before")
    }

    static func quoteExplanation(_ text: Text) -> Outcome {
        var value = text.scalars.map { $0 == "\u{201C}" || $0 == "\u{201D}" ? "\"" : $0 }
        value = Py.split(value, separator: ["'", "\"", "'"]).joined().map { $0 }
        value = value.filter { !$0.isPySpace }
        if Py.contains(["\"", "\""], in: value) { return .no("two quotations with no explanation between them") }
        var trim = Set("0123456789".unicodeScalars).union(asciiPunctuation)
        trim.remove("\"")
        let stripped = Py.strip(value, ScalarSet(trim))
        guard let last = stripped.last else { return .no("nothing but digits and punctuation") }
        return .when(last != "\"", last == "\"" ? "ends with a quotation, not an explanation" : "quotations are explained")
    }

    static func italicThesis(_ text: Text) -> Outcome {
        var value = text.scalars
        guard let start = Py.find(["<", "i", ">"], in: value) ?? Py.find(["<", "e", "m", ">"], in: value) else {
            return .no("no <i> or <em> thesis")
        }
        value = Array(value[start...])
        guard let end = Py.find(Array("</i>".unicodeScalars), in: value) ?? Py.find(Array("</em>".unicodeScalars), in: value)
        else {
            return .no("the thesis is not closed")
        }
        let thesis = end > 3 ? Array(value[3..<end]) : []
        if Py.strip(thesis).isEmpty { return .no("the thesis is empty") }
        let after = end + 4 < value.count ? Array(value[(end + 4)...]) : []
        return .when(!Py.strip(after).isEmpty, "text after the thesis is needed")
    }

    static func someBullets(_ text: Text) -> Outcome {
        var prose = true
        var sentences = 0
        var bullets = 0
        for line in Py.split(text.scalars, separator: ["\n"]) {
            let stripped = Py.strip(line)
            if stripped.first == "*" {
                prose = false
                if sentences < 2 { return .no("\(sentences) sentences before the bullets, needs 2") }
                bullets += 1
            } else if prose {
                // The reference reuses its flag for the line's sentences: a blank line ends the prose part.
                let found = Sentences.pieces(Py.string(stripped)).count
                sentences += found
                prose = found > 0
            } else {
                return .no("text after the bullet points")
            }
        }
        return .when(bullets >= 2, "\(bullets) bullet points, needs at least 2")
    }
}

/// The lines the reference keeps: it removes blank lines while iterating over the same list (`for line in lines:
/// if not line.strip(): lines.remove(line)`), which removes the first equal line and skips the line after each
/// removal. The same walk is made here in O(n log n) (a Fenwick tree maps the iterator's position to a line).
enum StairLines {
    static func kept(_ lines: [Scalars]) -> [Scalars] {
        let count = lines.count
        var tree = [Int](repeating: 0, count: count + 1)
        func add(_ position: Int, _ delta: Int) {
            var index = position + 1
            while index <= count {
                tree[index] += delta
                index += index & -index
            }
        }
        for position in 0..<count { add(position, 1) }
        var alive = count
        /// The original position of the line at rank `rank` (0-based) among those not removed.
        func find(_ rank: Int) -> Int {
            var position = 0
            var remaining = rank + 1
            var step = 1
            while step * 2 <= count { step *= 2 }
            while step > 0 {
                if position + step <= count, tree[position + step] < remaining {
                    position += step
                    remaining -= tree[position]
                }
                step /= 2
            }
            return position
        }
        var removed = [Bool](repeating: false, count: count)
        var queues: [Scalars: (positions: [Int], next: Int)] = [:]
        for (position, line) in lines.enumerated() where Py.strip(line).isEmpty {
            queues[line, default: ([], 0)].positions.append(position)
        }
        var rank = 0
        while rank < alive {
            let line = lines[find(rank)]
            if Py.strip(line).isEmpty, var queue = queues[line] {
                while queue.next < queue.positions.count, removed[queue.positions[queue.next]] { queue.next += 1 }
                if queue.next < queue.positions.count {
                    let first = queue.positions[queue.next]
                    removed[first] = true
                    add(first, -1)
                    alive -= 1
                    queue.next += 1
                }
                queues[line] = queue
            }
            rank += 1
        }
        return lines.indices.filter { !removed[$0] }.map { lines[$0] }
    }
}

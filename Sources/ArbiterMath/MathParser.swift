// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import BigInt

/// Parses normalised LaTeX or plain-text math into a ``MathExpr``.
struct MathParser {
    enum Token: Hashable {
        case number(Substring)
        case word(String)
        case command(String)
        case symbol(Character)
    }

    struct Failure: Error {
        var message: String
        var budget = false
    }

    static let functions: Set<String> = [
        "sin", "cos", "tan", "cot", "sec", "csc", "arcsin", "arccos", "arctan", "asin", "acos", "atan", "sinh", "cosh",
        "tanh", "ln", "log", "exp", "sqrt", "abs", "gcd", "lcm", "det",
    ]
    /// The longest name ``parseWord(_:)`` recognises, in letters (`infinity`).
    static let longestName = functions.reduce("infinity".count) { max($0, $1.count) }

    private var tokens: [Token]
    private var position = 0
    private var depth = 0
    /// Inside the argument of a trigonometric function, `30^\circ` means 30π/180; elsewhere it is just 30.
    private var trigonometric = 0

    /// Parses a whole answer.
    static func parse(_ text: String) throws(Failure) -> MathExpr {
        guard text.count <= MathBudget.maxAnswerLength else { throw Failure(message: "answer too long", budget: true) }
        var parser = MathParser(tokens: try tokenize(text))
        guard !parser.tokens.isEmpty else { throw Failure(message: "empty") }
        let expression = try parser.parseList()
        guard parser.position == parser.tokens.count else { throw Failure(message: "unexpected trailing input") }
        // Folding rebuilds every sum and product: only worth it when a matrix was written.
        return !text.has("\\matrix") ? expression : MatrixAlgebra.fold(expression)
    }

    // MARK: Tokens

    static func tokenize(_ text: String) throws(Failure) -> [Token] {
        var tokens: [Token] = []
        // One Character per Unicode scalar: no grapheme breaking on the hot path (math answers need none); tokens are
        // cut out of the text's bytes.
        let scalars = ScalarText(text)
        let characters = scalars
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if Self.isSpaceScalar(character) {
                index += 1
            } else if Self.isDigitScalar(character) || (character == "." && index + 1 < characters.count && Self.isDigitScalar(characters[index + 1])) {
                let start = index
                while index < characters.count, Self.isDigitScalar(characters[index]) { index += 1 }
                if index < characters.count, characters[index] == ".", index + 1 < characters.count, Self.isDigitScalar(characters[index + 1]) {
                    index += 1
                    while index < characters.count, Self.isDigitScalar(characters[index]) { index += 1 }
                } else if index < characters.count, characters[index] == ".", start < index,
                    index + 1 == characters.count || !Self.isLetterScalar(characters[index + 1])
                {
                    index += 1  // "5." is 5
                }
                if index + 1 < characters.count, characters[index] == "e" || characters[index] == "E",
                    Self.isDigitScalar(characters[index + 1])
                        || ((characters[index + 1] == "-" || characters[index + 1] == "+") && index + 2 < characters.count
                            && Self.isDigitScalar(characters[index + 2]))
                {
                    index += 2
                    while index < characters.count, Self.isDigitScalar(characters[index]) { index += 1 }
                }
                var literal = scalars.string(start..<index)
                if literal.hasSuffix(".") { literal.removeLast() }
                if literal.hasPrefix(".") { literal = "0" + literal }
                tokens.append(.number(Substring(literal)))
            } else if character == "\\" {
                index += 1
                let start = index
                while index < characters.count, Self.isLetterScalar(characters[index]) { index += 1 }
                if index == start {
                    guard index < characters.count else { throw Failure(message: "lone backslash") }
                    tokens.append(.command(String(Character(characters[index]))))
                    index += 1
                } else {
                    tokens.append(.command(scalars.string(start..<index)))
                }
            } else if Self.isLetterScalar(character) {
                let start = index
                while index < characters.count, Self.isLetterScalar(characters[index]) { index += 1 }
                tokens.append(.word(scalars.string(start..<index)))
            } else {
                tokens.append(.symbol(Character(character)))
                index += 1
            }
        }
        return tokens
    }

    /// A numeral's exact value, as ``Rational/parseDecimal(_:)`` reads it; a plain numeral of at most 18 digits
    /// (`12`, `-3.25`) is read on its bytes, without a conversion from text to a big integer.
    static func decimalValue(_ literal: Substring) -> Rational? {
        var integer = 0
        var digits = 0
        var fractionDigits = 0
        var point = false
        var negative = false
        for (offset, byte) in literal.utf8.enumerated() {
            if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), digits < 18 {
                integer = integer * 10 + Int(byte - UInt8(ascii: "0"))
                digits += 1
                if point { fractionDigits += 1 }
            } else if byte == UInt8(ascii: "."), !point {
                point = true
            } else if byte == UInt8(ascii: "-"), offset == 0 {
                negative = true
            } else {
                return Rational.parseDecimal(literal)
            }
        }
        guard digits > 0 else { return Rational.parseDecimal(literal) }
        if fractionDigits == 0, !negative, integer < smallIntegers.count { return smallIntegers[integer] }
        // Under 10^18 both parts are machine words: the same reduction as `Rational(BigInt, BigInt)` without building
        // BigInts first.
        let value = Rational.reducing(integer, machinePowersOfTen[fractionDigits])
        return negative ? -value : value
    }

    /// 10^0 … 10^18 as machine integers.
    private static let machinePowersOfTen: [Int] = (0...18).map { (0..<$0).reduce(1) { value, _ in value * 10 } }

    /// The integers most answers are made of, as rationals already in lowest terms.
    private static let smallIntegers: [Rational] = (0..<1024).map { Rational($0) }

    /// Whether a numeral is written as a decimal (with a point or an exponent).
    static func isDecimal(_ literal: Substring) -> Bool {
        literal.utf8.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
    }

    /// ``isSpace(_:)`` of a scalar read as a `Character`.
    @inline(__always)
    static func isSpaceScalar(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII ? scalar.value == 0x20 || (0x09...0x0D).contains(scalar.value) : Character(scalar).isWhitespace
    }

    /// ``isLetter(_:)`` of a scalar read as a `Character`.
    @inline(__always)
    static func isLetterScalar(_ scalar: Unicode.Scalar) -> Bool {
        guard scalar.isASCII else { return Character(scalar).isLetter }
        let folded = scalar.value | 0x20
        return folded >= 0x61 && folded <= 0x7A
    }

    /// ``isDigit(_:)`` of a scalar read as a `Character`.
    @inline(__always)
    static func isDigitScalar(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value >= 0x30 && scalar.value <= 0x39
    }

    /// `Character.isWhitespace`, answered on the byte for ASCII.
    @inline(__always)
    static func isSpace(_ character: Character) -> Bool {
        guard let ascii = character.asciiValue else { return character.isWhitespace }
        return ascii == 0x20 || (0x09...0x0D).contains(ascii)
    }

    /// `Character.isLetter`, answered on the byte for ASCII.
    @inline(__always)
    static func isLetter(_ character: Character) -> Bool {
        guard let ascii = character.asciiValue else { return character.isLetter }
        return (ascii | 0x20) >= UInt8(ascii: "a") && (ascii | 0x20) <= UInt8(ascii: "z")
    }

    /// An ASCII digit: the only digits a numeral is read from (`٣` or `½` would pass `isNumber` and then fail to convert).
    static func isDigit(_ character: Character) -> Bool {
        guard let ascii = character.asciiValue else { return false }
        return ascii >= UInt8(ascii: "0") && ascii <= UInt8(ascii: "9")
    }

    // MARK: Grammar

    private var next: Token? { position < tokens.count ? tokens[position] : nil }

    private mutating func take(_ token: Token) -> Bool {
        // Compared in place: copying the next token out retained and released its text.
        guard position < tokens.count, tokens[position] == token else { return false }
        position += 1
        return true
    }

    private mutating func expect(_ token: Token) throws(Failure) {
        guard take(token) else { throw Failure(message: "missing bracket or separator") }
    }

    private mutating func enter() throws(Failure) {
        depth += 1
        if depth > MathBudget.maxDepth { throw Failure(message: "nesting too deep", budget: true) }
    }

    mutating func parseList() throws(Failure) -> MathExpr {
        var items = [try parseUnion()]
        while take(.symbol(",")) || take(.symbol(";")) { items.append(try parseUnion()) }
        return items.count == 1 ? items[0] : .list(items)
    }

    private mutating func parseUnion() throws(Failure) -> MathExpr {
        var items = [try parseRelation()]
        while take(.command("cup")) || take(.symbol("∪")) || take(.word("U")) { items.append(try parseRelation()) }
        var value = items.count == 1 ? items[0] : .union(items)
        // `A \setminus B`: what remains of A.
        while take(.command("setminus")) || take(.command("backslash")) {
            value = .function("setminus", [value, try parseRelation()])
        }
        return value
    }

    private static let relations: [Token: String] = [
        .symbol("="): "=", .symbol("<"): "<", .symbol(">"): ">", .command("le"): "<=", .command("leq"): "<=",
        .command("ge"): ">=", .command("geq"): ">=", .command("lt"): "<", .command("gt"): ">", .symbol("≤"): "<=",
        .symbol("≥"): ">=", .command("neq"): "!=", .command("ne"): "!=", .symbol("≠"): "!=",
        .command("leqslant"): "<=", .command("geqslant"): ">=", .command("equiv"): "=",
    ]

    private mutating func parseRelation() throws(Failure) -> MathExpr {
        var operands = [try parseSum()]
        var operators: [String] = []
        while let token = next, let relation = Self.relations[token] {
            position += 1
            operators.append(relation)
            operands.append(try parseSum())
        }
        return operators.isEmpty ? operands[0] : .relation(operands, operators)
    }

    private mutating func parseSum() throws(Failure) -> MathExpr {
        try enter()
        defer { depth -= 1 }
        var terms = [try parseTerm()]
        while true {
            if take(.symbol("+")) {
                terms.append(try parseTerm())
            } else if take(.symbol("-")) {
                terms.append(.negate(try parseTerm()))
            } else if take(.command("pm")) || take(.symbol("±")) {
                let left: MathExpr = terms.count == 1 ? terms[0] : .sum(terms)
                return .plusMinus(left, try parseSum())
            } else {
                break
            }
        }
        return terms.count == 1 ? terms[0] : .sum(terms)
    }

    private mutating func parseTerm() throws(Failure) -> MathExpr {
        var factors = [try parseUnary()]
        while true {
            if take(.symbol("*")) || take(.command("cdot")) || take(.command("times")) {
                factors.append(try parseUnary())
            } else if take(.command("bmod")) {
                // `17 \bmod 5` is the remainder 2.
                let left: MathExpr = factors.count == 1 ? factors[0] : .product(factors)
                factors = [.function("mod", [left, try parseUnary()])]
            } else if take(.symbol("/")) || take(.command("div")) || take(.symbol(":")) {
                factors.append(.reciprocal(try parseUnary()))
            } else if startsPrimary() {
                // Two numerals side by side ("11 6/6") are not a product.
                if case .number = next, case .number? = factors.last { break }
                factors.append(try parsePower())
            } else {
                break
            }
        }
        return factors.count == 1 ? factors[0] : .product(factors)
    }

    private func startsPrimary() -> Bool {
        switch next {
        case .number, .word: return true
        case .symbol(let character): return character == "(" || character == "{" || character == "√"
        case .command(let name):
            return Self.primaryCommands.contains(name) || Self.functions.contains(name) || Self.greek.contains(name)
        case nil: return false
        }
    }

    /// Commands that begin a primary besides functions and Greek letters (built once, not at every call).
    private static let primaryCommands = [
        "frac", "sqrt", "pi", "infty", "binom", "lfloor", "lceil", "{", "e", "mathrm", "operatorname", "matrix", "overline",
        "sum", "prod",
    ]

    private mutating func parseUnary() throws(Failure) -> MathExpr {
        // Each sign nests: `------3` is as deep as six brackets, and counts against the same budget.
        if take(.symbol("-")) {
            try enter()
            defer { depth -= 1 }
            return .negate(try parseUnary())
        }
        if take(.symbol("+")) {
            try enter()
            defer { depth -= 1 }
            return try parseUnary()
        }
        if take(.command("pm")) {
            try enter()
            defer { depth -= 1 }
            return .plusMinus(.number(.zero, decimal: false), try parseUnary())
        }
        return try parsePower()
    }

    private mutating func parsePower() throws(Failure) -> MathExpr {
        try enter()
        defer { depth -= 1 }
        var base = try parsePostfix()
        if take(.symbol("^")) {
            let exponent = try parseExponent()
            base = .power(base, exponent)
            base = try factorials(of: base)
        }
        return base
    }

    /// `x!!!…`: each `!` wraps the value once more, so each counts against the nesting budget like a bracket (a few
    /// thousand of them made a tree too deep for the recursive passes that follow the parse).
    private mutating func factorials(of value: MathExpr) throws(Failure) -> MathExpr {
        var value = value
        var levels = 0
        defer { depth -= levels }
        while take(.symbol("!")) {
            try enter()
            levels += 1
            value = .function("factorial", [value])
        }
        return value
    }

    private mutating func parseExponent() throws(Failure) -> MathExpr {
        if take(.symbol("-")) {
            try enter()
            defer { depth -= 1 }
            return .negate(try parseExponent())
        }
        if case .number(let literal)? = next {
            position += 1
            // `2^10` in plain text; in LaTeX `2^{10}` uses a group, and `x^23` is rare. A literal over the size budget
            // (`2^1e99999`) is a budget verdict: read as 0 it made `2^1e99999` equal to 1.
            guard let value = Self.decimalValue(literal) else { throw Failure(message: "number out of range", budget: true) }
            return .number(value, decimal: Self.isDecimal(literal))
        }
        return try parsePower()
    }

    private mutating func parsePostfix() throws(Failure) -> MathExpr {
        var value = try factorials(of: try parsePrimary())
        if take(.command("degree")), trigonometric > 0 {
            value = .product([value, .constant(.pi), .reciprocal(.number(Rational(180), decimal: false))])
        }
        if take(.symbol("%")) { value = .function("percent", [value]) }
        // `3 \pmod{7}` states the residue 3: the modulus qualifies it and is not part of the value.
        if take(.command("pmod")) { _ = try parseGroupArgument() }
        return value
    }

    private static let greek: Set<String> = [
        "alpha", "beta", "gamma", "delta", "theta", "lambda", "mu", "sigma", "phi", "omega", "varphi", "epsilon", "tau",
        "rho", "psi", "eta", "xi", "zeta", "kappa", "nu", "chi",
    ]

    private mutating func parsePrimary() throws(Failure) -> MathExpr {
        guard let token = next else { throw Failure(message: "unexpected end") }
        position += 1
        switch token {
        case .number(let literal):
            guard let value = Self.decimalValue(literal) else { throw Failure(message: "number out of range", budget: true) }
            let number = MathExpr.number(value, decimal: Self.isDecimal(literal))
            if next == .command("overline") || next == .command("bar") {
                position += 1
                return .number(try repeatingDecimal(literal), decimal: false)
            }
            if next == .symbol("_") {
                // A numeral in another base, such as 204_5: compared as written.
                guard case .variable(let label) = try subscripted("n") else { throw Failure(message: "bad base") }
                return .text(String(literal) + String(label.dropFirst(1)))
            }
            return try mixedNumber(after: number, literal: literal)
        case .word(let word):
            return try parseWord(word)
        case .symbol("("), .symbol("["):
            return try parseBracketed(open: token == .symbol("(") ? "(" : "[")
        case .symbol("{"):
            let inner = try parseList()
            try expect(.symbol("}"))
            return inner
        case .symbol("|"):
            let inner = try parseSum()
            try expect(.symbol("|"))
            return .function("abs", [inner])
        case .symbol("√"):
            try enter()
            defer { depth -= 1 }
            return .function("sqrt", [try parsePostfix(), .number(Rational(2), decimal: false)])
        case .symbol("∞"):
            return .constant(.infinity)
        case .symbol("π"):
            return .constant(.pi)
        case .command(let name):
            return try parseCommand(name)
        case .symbol:
            throw Failure(message: "unexpected symbol")
        }
    }

    /// `0.\overline{3}` is 1/3 and `0.1\overline{6}` is 1/6: the digits of the group repeat for ever.
    private mutating func repeatingDecimal(_ literal: Substring) throws(Failure) -> Rational {
        try expect(.symbol("{"))
        var repeating = ""
        while case .number(let digits)? = next {
            position += 1
            repeating += digits
        }
        try expect(.symbol("}"))
        guard !repeating.isEmpty, repeating.count <= 50, repeating.allSatisfy({ $0.isASCII && $0.isNumber }),
            let fixed = Rational.parseDecimal(literal), let cycle = BigInt(repeating)
        else { throw Failure(message: "bad repeating decimal") }
        let places = literal.split(separator: ".").dropFirst().first?.count ?? 0
        let scale = BigInt(10).power(places)
        let period = BigInt(10).power(repeating.count) - 1
        let tail = Rational(cycle, scale * period)
        return fixed.isNegative ? fixed - tail : fixed + tail
    }

    /// `2\frac{1}{2}` is two and a half.
    private mutating func mixedNumber(after number: MathExpr, literal: Substring) throws(Failure) -> MathExpr {
        guard case .number(let whole, false) = number, whole.isInteger, next == .command("frac") else { return number }
        let save = position
        position += 1
        let numerator = try parseGroupArgument()
        let denominator = try parseGroupArgument()
        if case .number(let top, false) = numerator, case .number(let bottom, false) = denominator, top.isInteger,
            bottom.isInteger, top.numerator < bottom.numerator, let fraction = top.divided(by: bottom), !whole.isNegative
        {
            return .number(whole + fraction, decimal: false)
        }
        position = save
        return number
    }

    private mutating func parseWord(_ word: String) throws(Failure) -> MathExpr {
        // Only a short word can lower to one of the names below (lowering maps each scalar to one or more, so such a
        // word has at most as many scalars as the name, of at most 4 bytes each): lowering and counting a run of
        // thousands of letters again at each of its letters was quadratic (fuzz finding 2026-12-06: 18,000 letters
        // took 1.3 s in a release build).
        let lower = word.utf8.count <= 4 * Self.longestName ? word.lowercased() : ""
        if lower == "pi" || word == "π" { return .constant(.pi) }
        if lower == "infinity" || lower == "inf" || lower == "oo" { return .constant(.infinity) }
        if Self.functions.contains(lower) { return try parseFunction(lower) }
        if !word.isEmpty && word.dropFirst().isEmpty {
            if word == "i" { return .constant(.i) }
            if word == "e" { return .constant(.e) }
            return try subscripted(word)
        }
        // Several letters in a row are a product of variables (`xy`), as in LaTeX: read the first letter and put the
        // rest back, so that `ab^2` is a·b².
        tokens.insert(.word(String(word.dropFirst())), at: position)
        return try parseWord(String(word.prefix(1)))
    }

    private mutating func subscripted(_ name: String) throws(Failure) -> MathExpr {
        guard take(.symbol("_")) else { return .variable(name) }
        guard let token = next else { throw Failure(message: "dangling subscript") }
        position += 1
        switch token {
        case .number(let literal): return .variable("\(name)_\(literal)")
        case .word(let word): return .variable("\(name)_\(word)")
        case .symbol("{"):
            var label = ""
            while let inner = next, inner != .symbol("}") {
                position += 1
                switch inner {
                case .number(let literal): label += literal
                case .word(let word): label += word
                case .command(let command): label += command
                case .symbol(let character): label.append(character)
                }
            }
            try expect(.symbol("}"))
            return .variable("\(name)_\(label)")
        default: throw Failure(message: "bad subscript")
        }
    }

    private mutating func parseBracketed(open: Character) throws(Failure) -> MathExpr {
        if take(.symbol(")")) && open == "(" { return .bracketed(open: "(", close: ")", []) }
        var items = [try parseUnion()]
        while take(.symbol(",")) || take(.symbol(";")) { items.append(try parseUnion()) }
        let close: Character
        if take(.symbol(")")) {
            close = ")"
        } else if take(.symbol("]")) {
            close = "]"
        } else {
            throw Failure(message: "unclosed bracket")
        }
        if items.count == 1, open == "(", close == ")" { return items[0] }
        if items.count == 1, open == "[", close == "]" { return items[0] }
        return .bracketed(open: open, close: close, items)
    }

    private mutating func parseCommand(_ name: String) throws(Failure) -> MathExpr {
        switch name {
        case "frac", "dfrac", "tfrac", "cfrac":
            let top = try parseGroupArgument()
            let bottom = try parseGroupArgument()
            return .product([top, .reciprocal(bottom)])
        case "sqrt":
            var index: MathExpr = .number(Rational(2), decimal: false)
            if take(.symbol("[")) {
                index = try parseSum()
                try expect(.symbol("]"))
            }
            return .function("sqrt", [try parseGroupArgument(), index])
        case "binom", "dbinom", "tbinom", "choose":
            let top = try parseGroupArgument()
            let bottom = try parseGroupArgument()
            return .function("binomial", [top, bottom])
        case "pi": return .constant(.pi)
        case "infty", "infin": return .constant(.infinity)
        case "{":
            if take(.command("}")) { return .set([]) }
            var items = [try parseRelation()]
            while take(.symbol(",")) || take(.symbol(";")) { items.append(try parseRelation()) }
            try expect(.command("}"))
            return .set(items)
        case "lfloor":
            let inner = try parseSum()
            try expect(.command("rfloor"))
            return .function("floor", [inner])
        case "lceil":
            let inner = try parseSum()
            try expect(.command("rceil"))
            return .function("ceil", [inner])
        case "mathrm", "operatorname", "mathit", "mathbf":
            let inner = try parseGroupArgument()
            return inner
        case "e": return .constant(.e)
        case "overline", "bar":
            // `\overline{3+4i}` is the complex conjugate 3 − 4i.
            return .function("conj", [try parseGroupArgument()])
        case "degree":
            throw Failure(message: "a degree sign needs a number")
        case "dots", "ldots", "cdots":
            throw Failure(message: "an open-ended sequence is not a finite answer")
        case "emptyset", "varnothing", "empty": return .set([])
        case "sum", "prod": return try parseSeries(name)
        case "matrix":
            try expect(.symbol("{"))
            var rows: [MathExpr] = []
            repeat {
                var row = [try parseSum()]
                while take(.symbol(",")) { row.append(try parseSum()) }
                rows.append(.bracketed(open: "r", close: "r", row))
            } while take(.symbol(";"))
            try expect(.symbol("}"))
            return .bracketed(open: "M", close: "M", rows)
        default:
            if Self.functions.contains(name) { return try parseFunction(name) }
            if Self.greek.contains(name) { return try subscripted(name) }
            throw Failure(message: "unknown command \\\(name)")
        }
    }

    /// `\sum_{k=0}^{n-1} F_k F_{n-k-1}` (or `\prod`): the index, its first and last values and the term — the factors
    /// written after it — as `sum(k, 0, n-1, term)`, which ``Evaluator`` evaluates.
    private mutating func parseSeries(_ name: String) throws(Failure) -> MathExpr {
        var range: MathExpr? = nil
        var last: MathExpr? = nil
        for _ in 0..<2 {
            if take(.symbol("_")) { range = try parseGroupArgument() }
            if take(.symbol("^")) { last = try parseGroupArgument() }
        }
        guard case .relation(let sides, ["="])? = range, sides.count == 2, let last else {
            throw Failure(message: "a sum needs its index's range")
        }
        // `\sum_{i=1}^{n} i^2`: an index named i is the index, not the imaginary unit.
        if sides[0] == .constant(.i) { return .function(name, [.variable("i"), sides[1], last, try parseTerm().imaginaryUnitAsIndex]) }
        guard case .variable = sides[0] else { throw Failure(message: "a sum needs its index's range") }
        return .function(name, [sides[0], sides[1], last, try parseTerm()])
    }

    private mutating func parseGroupArgument() throws(Failure) -> MathExpr {
        // `\frac\frac\frac…` and `\sqrt\sqrt…` recurse through here without passing a sum or a power.
        try enter()
        defer { depth -= 1 }
        if take(.symbol("{")) {
            let inner = try parseList()
            try expect(.symbol("}"))
            return inner
        }
        // `\frac12`: a single digit or letter.
        guard let token = next else { throw Failure(message: "missing argument") }
        if case .number(let literal) = token, let first = literal.first {
            // Only a digit can stand alone: in `\frac1.5` or `\frac1e308` the second argument would be `.5` or
            // `e308`, which LaTeX does not read as a number either.
            guard let digit = first.wholeNumberValue, Self.isDigit(first) else {
                throw Failure(message: "a one-character argument must be a digit")
            }
            position += 1
            let rest = literal.dropFirst()
            if !rest.isEmpty {
                guard let next = rest.first, Self.isDigit(next) else {
                    throw Failure(message: "a one-character argument must be a digit")
                }
                tokens.insert(.number(rest), at: position)
            }
            return .number(Rational(digit), decimal: false)
        }
        return try parsePrimary()
    }

    private mutating func parseFunction(_ rawName: String) throws(Failure) -> MathExpr {
        let aliases = ["arcsin": "asin", "arccos": "acos", "arctan": "atan"]
        var name = aliases[rawName] ?? rawName
        var power: MathExpr? = nil
        var base: MathExpr? = nil
        for _ in 0..<2 {
            if take(.symbol("^")) { power = try parseExponent() }
            if take(.symbol("_")) { base = try parseGroupArgument() }
        }
        // `\tan^{-1} 2` is the inverse function, arctan 2, as in MATH's references — not 1/tan 2 (cot 2).
        let inverses = ["sin": "asin", "cos": "acos", "tan": "atan"]
        if let inverse = inverses[name], power == .negate(.number(.one, decimal: false)) {
            name = inverse
            power = nil
        }
        let trig: Set<String> = ["sin", "cos", "tan", "cot", "sec", "csc"]
        if trig.contains(name) { trigonometric += 1 }
        defer { if trig.contains(name) { trigonometric -= 1 } }
        var argument: MathExpr
        if next == .symbol("(") || next == .symbol("{") {
            argument = try parsePrimary()
        } else {
            // `\sin 2x` is sin(2x): a coefficient and the variables written right after it belong to the argument.
            var factors = [try parsePower()]
            while case .word? = next { factors.append(try parsePower()) }
            argument = factors.count == 1 ? factors[0] : .product(factors)
        }
        var value: MathExpr
        switch name {
        case "sqrt": value = .function("sqrt", [argument, .number(Rational(2), decimal: false)])
        case "log": value = .function("log", [argument, base ?? .number(Rational(10), decimal: false)])
        default: value = .function(name, [argument])
        }
        if let power { value = .power(value, power) }
        return value
    }
}

// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation

/// `math`: score 1 when the response's final answer is mathematically equivalent to the reference.
public struct MathVerifier: Verifier, SynchronousVerifier {
    /// Options of ``MathVerifier``.
    public struct Configuration: VerifierConfiguration {
        /// Extraction strategies, in order.
        public let strategies: [String]
        /// Relative tolerance when a decimal is compared.
        public let decimalTolerance: Double
        /// Whether a `<think>` block is left out of extraction.
        public let skipThink: Bool
        /// Whether an angle in degrees equals the same angle in radians.
        public let anglesEither: Bool
        /// How a percent sign in the response reads when the reference has none: `fraction` (divide by 100),
        /// `number` (the sign is dropped) or `either`.
        public let percent: String

        public static let options: [OptionSpec] = [
            OptionSpec(
                "extract", .stringList, default: .array(AnswerExtractor.strategies.map(JSONValue.string)),
                "Answer extraction strategies in order: answer_tags, boxed, final_answer, math_span, last_number, whole."),
            OptionSpec(
                "decimal_tolerance", .number(0...0.1), default: .double(0),
                "Relative tolerance when either side is written as a decimal (exact values compare exactly; a decimal with 3+ places that is the reference correctly rounded is accepted)."),
            OptionSpec(
                "skip_think", .boolean, default: true,
                "Extract only after the last </think> (reasoning is not an answer); a <think> never closed means no answer."),
            OptionSpec(
                "angles_either", .boolean, default: false,
                "Accept an angle in degrees against the same angle in radians (90^\\circ against \\frac{\\pi}{2}); off, a degree sign is dropped and the numbers compare as written."),
            OptionSpec(
                "percent", .string(choices: ["fraction", "number", "either"]), default: "fraction",
                "How a percent sign in the response reads when the reference has none: fraction (30% is 0.3, as Math-Verify), number (30% is 30, for references that store percentages as bare numbers) or either."),
        ]

        public init(options: OptionValues) throws {
            strategies = options.strings("extract")
            for strategy in strategies where !AnswerExtractor.strategies.contains(strategy) {
                throw ArbiterError(
                    .invalidOptions,
                    "unknown extraction strategy '\(strategy)' (strategies: \(AnswerExtractor.strategies.joined(separator: ", ")))")
            }
            decimalTolerance = options.double("decimal_tolerance")
            skipThink = options.bool("skip_think")
            anglesEither = options.bool("angles_either")
            percent = options.string("percent")
        }
    }

    public static let name = "math"
    public static let summary = "Score 1 when the final answer is mathematically equivalent to the reference (exact rationals, sets, intervals, equations, numeric identity)."

    private let configuration: Configuration

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Whether a text reads as words rather than a formula: two or more words of two or more letters, outside LaTeX
    /// commands and known function names, separated by spaces.
    static func looksLikeProse(_ text: String) -> Bool {
        var words = 0
        for token in text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }) {
            let letters = token.drop { $0 == "(" || $0 == "[" }.prefix { $0.isLetter }
            guard letters.count >= 2, letters.count == token.filter(\.isLetter).count,
                !Self.functionNames.contains(letters.lowercased()), !token.hasPrefix("\\")
            else { continue }
            words += 1
            if words >= 2 { return true }
        }
        return false
    }

    private static let functionNames: Set<String> = [
        "sin", "cos", "tan", "cot", "sec", "csc", "log", "ln", "exp", "sqrt", "pi", "arcsin", "arccos", "arctan",
        "sinh", "cosh", "tanh", "mod", "gcd", "lcm", "max", "min", "det", "and", "or", "infty", "inf",
    ]

    /// Verifies in named stages; each stage either refines the answer or returns the verdict that ends the
    /// verification: the reference is read, the region of the response that may hold the answer is cut out (think
    /// blocks, an echoed prompt), the answer is extracted (hedges, several answers), its units and angle measure
    /// are brought to the reference's, and the two are compared.
    public func verify(_ sample: Sample) throws -> Verdict {
        guard StageClock.enabled else { return try verify(sample, clock: nil) }
        // The benchmark's stage profile (`ARBITER_MATH_PROFILE=1`): CPU time per stage in the details.
        let clock = StageClock()
        var verdict = try verify(sample, clock: clock)
        verdict.details["stages_us"] = clock.summary
        return verdict
    }

    private func verify(_ sample: Sample, clock: StageClock?) throws -> Verdict {
        // The reference's answer is picked out of its text once, for the choice test and the stages alike.
        var referenceAnswer: String? = nil
        if case .string(let raw) = sample.reference { referenceAnswer = Self.referenceAnswer(raw) }
        // `(B) 12`: a reference that gives a choice's letter and text accepts either (ChoiceReference).
        if let choice = ChoiceReference(sample.reference, answer: referenceAnswer) {
            return VerdictMethod.named(try choice.verify(sample, grade: { try percentReadings($0, clock: clock) }))
        }
        return VerdictMethod.named(try percentReadings(sample, referenceAnswer: referenceAnswer, clock: clock))
    }

    /// The stages under the `percent` option: a percent sign divides by 100, is dropped, or either reading pays
    /// (`details.percent` says when the second one did). `referenceAnswer`, when given, is
    /// ``referenceAnswer(_:)`` of the sample's string reference.
    private func percentReadings(_ sample: Sample, referenceAnswer: String? = nil, clock: StageClock?) throws -> Verdict {
        switch configuration.percent {
        case "number": return try stages(sample, referenceAnswer, dividePercent: false, clock: clock)
        case "either":
            let fraction = try stages(sample, referenceAnswer, clock: clock)
            let lower = sample.response.lowercased()
            guard !fraction.passed, lower.contains("%") || lower.contains("percent") || lower.contains("pct")
            else { return fraction }
            var number = try stages(sample, referenceAnswer, dividePercent: false, clock: clock)
            guard number.passed else { return fraction }
            number.details["percent"] = "the sign dropped: the reference stores the percentage as a number"
            return number
        default: return try stages(sample, referenceAnswer, clock: clock)
        }
    }

    private func stages(_ sample: Sample, _ referenceAnswer: String?, dividePercent: Bool = true, clock: StageClock?)
        throws -> Verdict
    {
        var attempt = try Self.readReference(sample.reference, answer: referenceAnswer, clock: clock)
        if !dividePercent { attempt.percent = false }
        clock?.mark("reference")
        var region = Substring(sample.response)
        var answer = ""
        if let verdict = cutAnswerRegion(of: sample, into: &region, &attempt)
            ?? Self.extractAnswer(from: region, strategies: configuration.strategies, into: &answer, &attempt)
            ?? convertMeasures(of: &answer, &attempt)
        {
            clock?.mark("extraction")
            return verdict
        }
        clock?.mark("extraction")
        let verdict = compare(answer, &attempt)
        clock?.mark("comparison")
        return verdict
    }

    /// Stage 1: the reference, read as math (or text) once; a reference that cannot be read is the request's error.
    private static func readReference(_ value: JSONValue, answer: String?, clock: StageClock?) throws -> Attempt {
        let referenceText: String
        switch value {
        case .string(let text): referenceText = text
        case .number(let number): referenceText = number.literal
        default:
            throw ArbiterError(.invalidReference, "verifier 'math' needs a string or number reference, got \(value.typeName)")
        }
        let referenceAnswer = answer ?? Self.referenceAnswer(referenceText)
        var memo = ParseMemo(clock: clock)
        guard let reference = memo.parse(referenceAnswer, percent: false).expression else {
            throw ArbiterError(.invalidReference, "cannot read the reference '\(referenceText.prefix(200))' as math or text")
        }
        var referenceIsText = false
        if case .text = reference { referenceIsText = true }
        return Attempt(
            referenceAnswer: referenceAnswer, reference: reference,
            referenceIsCollection: Equivalence.elements(of: reference) != nil, referenceIsText: referenceIsText,
            percent: !LatexNormalizer.hasPercent(referenceAnswer), memo: memo,
            details: ["reference": .string(referenceAnswer)])
    }

    /// Stage 2: the part of the response that may hold the answer: outside every think block (with `skip_think`),
    /// and without verbatim copies of the prompt.
    private func cutAnswerRegion(of sample: Sample, into region: inout Substring, _ attempt: inout Attempt) -> Verdict? {
        // A chat template that ends the prompt with `<think>` (R1's) opened the reasoning: until the response closes
        // it, everything is reasoning — a generation cut off mid-thought, with a guess boxed inside, has no answer.
        if configuration.skipThink, Self.promptOpensThink(sample.prompt),
            sample.response.lastRange(ofMarker: "</think", ignoringCase: true) == nil
        {
            attempt.details["think"] = "unclosed"
            return .fail("no_answer", details: attempt.details)
        }
        // Both tags begin with `<`: a response without one (most) skips the two case-folding searches.
        if configuration.skipThink, sample.response.utf8.contains(UInt8(ascii: "<")) {
            // Tags in any case (`<Think>`), a think block reopened after the last close and never closed again: the
            // answer must stand outside every think block.
            let response = sample.response
            let closing = response.lastRange(ofMarker: "</think", ignoringCase: true)
            if response.firstRange(ofMarker: "<think", from: closing?.upperBound, ignoringCase: true) != nil {
                attempt.details["think"] = "unclosed"
                return .fail("no_answer", details: attempt.details)
            }
            if let closing {
                var rest = response[closing.upperBound...]
                if let end = rest.firstIndex(of: ">") { rest = rest[rest.index(after: end)...] }
                region = rest
            }
        }
        // A response that repeats the prompt must not be paid for the numbers of the prompt ("Some say 40, others
        // 42."): verbatim copies of the prompt are cut out before the answer is looked for.
        if let prompt = sample.prompt?.trimmed(), prompt.count >= AnswerExtractor.minimumEchoedPrompt,
            let cut = PromptEcho.removingCopies(of: prompt, from: region)
        {
            region = Substring(cut)
            attempt.details["prompt_echo_removed"] = true
        }
        return nil
    }

    /// Stage 3: the one answer the response states; a negated or hedged statement, an empty answer or several
    /// different answers (when the reference is not a list) end the verification.
    private static func extractAnswer(
        from region: Substring, strategies: [String], into answer: inout String, _ attempt: inout Attempt
    ) -> Verdict? {
        let extraction = AnswerExtractor.extract(from: String(region), strategies: strategies) { whole in
            guard let parsed = attempt.memo.parse(whole, percent: attempt.percent).expression else { return false }
            if case .text = parsed { return attempt.referenceIsText }
            // "so it is 4" parses as a product of variables; a sentence is not a whole answer.
            return !Self.looksLikeProse(whole)
        }
        guard let extraction else { return .fail("no_answer", details: attempt.details) }
        attempt.details["strategy"] = .string(extraction.strategy)
        if !extraction.hedge.isEmpty, !attempt.referenceIsText {
            // "The answer is 3 maybe", "It cannot be 3", "\boxed{3} … or maybe 4": a negated, hedged, bounded or
            // retracted statement is not an answer.
            attempt.details["extracted"] = .string(Self.clipped(extraction.answers.last ?? ""))
            attempt.details["hedge"] = .string(extraction.hedge)
            return .fail("hedged", details: attempt.details)
        }
        // "$\frac{1}{2} \$ = \frac{10}{9}$" leaves "= \frac{10}{9}": a leading equals sign introduces the answer.
        let answers = extraction.answers.map { answer in
            let trimmed = answer.trimmed()
            return trimmed.hasPrefix("=") && !trimmed.hasPrefix("==") ? String(trimmed.dropFirst()).trimmed() : trimmed
        }
        answer = answers.last ?? ""
        if answers.contains(where: \.isEmpty) {
            attempt.details["extracted"] = .string("")
            return .fail("empty_answer", details: attempt.details)
        }
        if Self.distinctForms(of: answers, all: attempt.referenceIsCollection) > 1 {
            // Several different boxes: a list when the reference is one, hedging otherwise.
            guard attempt.referenceIsCollection, AnswerExtractor.boxesSeparatedByConnectives(String(region)) else {
                attempt.details["extracted"] = .string(Self.clipped(answer))
                attempt.details["candidates"] = .array(answers.map { .string(String($0.prefix(200))) })
                return .fail("multiple_answers", details: attempt.details)
            }
            answer = answers.joined(separator: ", ")
        }
        if extraction.strategy == "final_answer", Self.looksLikeProse(answer), !answer.contains("$"),
            let number = AnswerExtractor.soleNumber(in: answer)
        {
            answer = number  // "Final Answer: Jane started growing Sphere 3 hours ago."
        }
        attempt.details["extracted"] = .string(Self.clipped(answer))
        if Self.isHedged(answer) { return .fail("multiple_answers", details: attempt.details) }
        return nil
    }

    /// Stage 4: units converted to the reference's (a unit of another dimension is a difference), and with
    /// `angles_either` degrees against radians.
    private func convertMeasures(of answer: inout String, _ attempt: inout Attempt) -> Verdict? {
        let referenceAnswer = attempt.referenceAnswer
        switch Units.convert(response: answer, reference: referenceAnswer) {
        case .converted(let value)?:
            // `50\text{ mm}` against `5\text{ cm}`: the response in the reference's unit.
            if value != answer { attempt.details["converted"] = .string(Self.clipped(value)) }
            answer = value
        case .mismatch(let given, let wanted)?:
            attempt.details["method"] = "units"
            attempt.details["units"] = .string("\(given) against \(wanted)")
            return .fail("not_equivalent", details: attempt.details)
        case nil:
            break
        }
        // Only a side written with π is in radians: a bare `90` against `90^\circ` stays 90 degrees.
        let responseInDegrees = Self.hasDegrees(answer)
        let radianSide = responseInDegrees ? referenceAnswer : answer
        if configuration.anglesEither, responseInDegrees != Self.hasDegrees(referenceAnswer),
            radianSide.has("pi") || radianSide.has("π")
        {
            // `90^\circ` against `\frac{\pi}{2}`, or `\frac{\pi}{2}` against `90^\circ`: the response in the
            // reference's measure.
            answer = responseInDegrees ? "(\(answer))\\cdot\\frac{\\pi}{180}" : "(\(answer))\\cdot\\frac{180}{\\pi}"
            attempt.details["converted"] = .string(Self.clipped(answer))
        }
        return nil
    }

    /// Stage 5: the answer against the reference: equal normalised text first, then parsed and compared by
    /// ``Equivalence``.
    private func compare(_ answer: String, _ attempt: inout Attempt) -> Verdict {
        let percent = attempt.percent
        let responseNormalized = attempt.memo.normalize(answer, percent: percent)
        let referenceNormalized = attempt.memo.normalize(attempt.referenceAnswer, percent: false)
        attempt.details["response_normalized"] = .string(Self.clipped(responseNormalized))
        attempt.details["reference_normalized"] = .string(Self.clipped(referenceNormalized))
        if responseNormalized == referenceNormalized, !responseNormalized.isEmpty {
            attempt.details["method"] = "string"
            return .pass("equivalent", details: attempt.details)
        }
        guard answer.utf8.count <= MathBudget.maxAnswerLength else { return .fail("budget", details: attempt.details) }
        var parsed = attempt.memo.parse(answer, percent: percent)
        if attempt.reference.mentionsEulerNumber, let rewritten = Self.eulerReading(answer) {
            // `2e-1` is 0.2 in scientific notation, unless the reference uses the constant e (`2e - 1`): then the
            // reference's own reading wins and the response is read as 2e − 1 too.
            parsed = attempt.memo.parse(rewritten, percent: percent)
            attempt.details["reading"] = "e is the constant, as in the reference"
        }
        if case .text? = parsed.expression, !attempt.referenceIsText, let number = Self.leadingNumber(answer) {
            parsed = attempt.memo.parse(number, percent: percent)  // "9 apples"
        }
        guard let response = parsed.expression else {
            return .fail(parsed.overBudget ? "budget" : "unparseable", details: attempt.details)
        }
        if Equivalence.elements(of: response) != nil, !attempt.referenceIsCollection {
            return .fail("multiple_answers", details: attempt.details)
        }
        var equivalence = Equivalence(decimalTolerance: configuration.decimalTolerance)
        switch equivalence.compare(response, attempt.reference) {
        case .equal(let method):
            attempt.details["method"] = .string(method)
            if let domain = equivalence.domain { attempt.details["domain"] = .string(domain) }
            if let series = equivalence.series { attempt.details["series"] = .string(series) }
            return .pass("equivalent", details: attempt.details)
        case .different(let method):
            attempt.details["method"] = .string(method)
            return .fail("not_equivalent", details: attempt.details)
        case .budget:
            return .fail("budget", details: attempt.details)
        }
    }

    /// How many different answers there are once normalised (each distinct text normalised once: 100,000 equal
    /// boxes took seconds). Counting stops at 2, which is all a hedge check needs, unless `all` and the answers
    /// joined into one list would still be within the answer budget.
    static func distinctForms(of answers: [String], all: Bool) -> Int {
        // One distinct text is one form: nothing to normalise (the common case, a single box).
        guard let first = answers.first else { return 0 }
        if answers.allSatisfy({ $0 == first }) { return 1 }
        let joinable = all && answers.reduce(0, { $0 + $1.utf8.count + 2 }) <= MathBudget.maxAnswerLength
        var seen = Set<String>()
        var forms = Set<String>()
        for answer in answers where seen.insert(answer).inserted {
            forms.insert(LatexNormalizer.normalize(answer))
            if forms.count > 1, !joinable { break }
        }
        return forms.count
    }

    /// Whether the prompt ends with an open `<think>` (any case, as math reads its tags; whitespace after it
    /// allowed): a chat template that starts the response inside its reasoning.
    static func promptOpensThink(_ prompt: String?) -> Bool {
        prompt?.endsWith(marker: "<think>", ignoringCase: true) ?? false
    }

    /// The text as a detail: its first 1,000 characters (a text of at most 1,000 bytes is whole, uncounted).
    static func clipped(_ text: String) -> String {
        text.utf8.count <= 1000 ? text : text.clipped(characters: 1000, bytes: 4000, marker: "")
    }

    /// The reference's answer: its boxes (several make a list) or its math spans, else the whole text.
    static func referenceAnswer(_ text: String) -> String {
        if let answer = gsm8kAnswer(text) { return answer }
        let boxes = AnswerExtractor.boxedContents(text)
        // A reference is trusted: several boxes close together are the parts of one answer.
        if boxes.count > 1, AnswerExtractor.boxesSeparatedByConnectives(text) || AnswerExtractor.boxesJoinedClosely(text, limit: 40) {
            return boxes.joined(separator: ", ")
        }
        if let boxed = boxes.last {
            // "$\boxed{20}$ percent": the unit outside the box still makes the reference a percentage.
            let after = (AnswerExtractor.textAfterLastBox(text) ?? "").drop { $0 == "$" || $0 == " " || $0 == "}" }
            if !LatexNormalizer.hasPercent(boxed),
                after.hasPrefix("\\%") || after.hasPrefix("%") || after.lowercased().hasPrefix("percent")
            {
                return boxed + "\\%"
            }
            return boxed
        }
        if text.has("$") || text.has("\\("), let span = AnswerExtractor.lastMathSpan(text) {
            // Two spans need four dollar signs: the spans are listed only then.
            if text.utf8.lazy.filter({ $0 == UInt8(ascii: "$") }).count >= 4 {
                let spans = AnswerExtractor.mathSpans(text)
                if spans.count > 1, AnswerExtractor.onlyConnectives(between: text) { return spans.joined(separator: ",") }
            }
            return span
        }
        return AnswerExtractor.stripMathDelimiters(text)
    }

    /// The final answer of a reference written as a GSM8K solution: the text after its last `####` line marker
    /// (`… = <<6*2=12>>12 apples.\n#### 12`), when that is one non-empty line.
    static func gsm8kAnswer(_ text: String) -> String? {
        // `has` finds a first `#` with memchr; most references have none (the backward search compares every byte).
        guard text.has("####"), let marker = text.lastRange(ofMarker: "####") else { return nil }
        let answer = text[marker.upperBound...].trimmed()
        guard !answer.isEmpty, !answer.contains("\n"), !answer.contains("#") else { return nil }
        return answer
    }

    /// The parsed answer, or whether parsing stopped at a budget (too long or too deeply nested).
    static func parse(_ text: String, percent: Bool) -> (expression: MathExpr?, overBudget: Bool) {
        var memo = ParseMemo()
        return memo.parse(text, percent: percent)
    }

    /// The parse of text already normalised (``LatexNormalizer/normalize(prepared:percent:)``).
    static func parse(normalized: String) -> (expression: MathExpr?, overBudget: Bool) {
        guard !normalized.isEmpty else { return (nil, false) }
        do {
            return (try MathParser.parse(normalized), false)
        } catch {
            return (nil, error.budget)
        }
    }

    /// The number an answer such as "9 apples" or "12 square units" starts with.
    static func leadingNumber(_ answer: String) -> String? {
        let trimmed = answer.trimmed()
        let number = trimmed.prefix { $0.isNumber || $0 == "." || $0 == "-" || $0 == "/" || $0 == "," }
        guard !number.isEmpty, number.contains(where: \.isNumber) else { return nil }
        let rest = trimmed.dropFirst(number.count)
        // "9 apples" or "12 square units", but not "3n where n is an integer" or "3 thousand".
        guard rest.first == " ", rest.allSatisfy({ $0.isLetter || $0 == " " || $0 == "." }) else { return nil }
        let words = rest.split(separator: " ").map { $0.lowercased().trimmingCharacters(in: .punctuationCharacters) }
        guard words.count <= 3, words.allSatisfy({ !LatexNormalizer.meaningfulWords.contains($0) }) else { return nil }
        return String(number)
    }

    /// `2e-1` with `e` read as the constant (`2 e -1`), when the answer has scientific notation at all.
    static func eulerReading(_ answer: String) -> String? {
        guard answer.contains("e") else { return nil }
        let rewritten = DigitGroups.replacingScientificE(in: answer)
            ?? Patterns.replace(Patterns.scientificE, in: answer, with: "$1 e $2")
        return rewritten == answer ? nil : rewritten
    }

    /// Whether an answer is written in degrees.
    static func hasDegrees(_ text: String) -> Bool {
        text.has("\\circ") || text.has("°") || text.has("\\degree") || text.lowercased().has("degree")
    }

    /// "either 3 or 4" (other "or"s become list commas and are judged as several answers).
    static func isHedged(_ answer: String) -> Bool {
        answer.lowercased().hasPrefix("either ")
    }
}

/// What one math verification carries from stage to stage: the reference as read, how the response is read, the
/// parse memo and the verdict's details so far.
struct Attempt {
    let referenceAnswer: String
    let reference: MathExpr
    let referenceIsCollection: Bool
    let referenceIsText: Bool
    /// Whether a `%` in the response divides by 100 (not when the reference writes the percent sign itself, nor
    /// under the option `percent: number`).
    var percent: Bool
    var memo: ParseMemo
    var details: JSONObject
}

/// Parses and normalisations already done while judging one sample (extraction, hedging checks and comparison
/// look at the same strings).
struct ParseMemo {
    /// A text and how a percent sign in it is read (no concatenated copy of the text as the key).
    private struct Key: Hashable {
        let text: String
        let percent: Bool
    }

    /// The few texts of one verification, looked up by comparison (no hashing of each text).
    private var parsed = SmallMap<Key, (expression: MathExpr?, overBudget: Bool)>()
    private var normalized = SmallMap<Key, String>()
    /// ``LatexNormalizer/prepare(_:)`` of each text (it does not depend on the percent reading).
    private var preparedTexts = SmallMap<String, String>()
    /// Where normalisation and parsing times are counted, when stages are timed.
    let clock: StageClock?

    init(clock: StageClock? = nil) {
        self.clock = clock
    }

    /// The parsed answer (see ``MathVerifier/parse(_:percent:)``). When the text is already trimmed and without
    /// trailing punctuation, its normalisation is the one ``normalize(_:percent:)`` gives, and is kept for it (or
    /// taken from it): each side is normalised once.
    mutating func parse(_ text: String, percent: Bool) -> (expression: MathExpr?, overBudget: Bool) {
        let key = Key(text: text, percent: percent)
        if let known = parsed[key] { return known }
        let result: (expression: MathExpr?, overBudget: Bool)
        if text.utf8.count > MathBudget.maxAnswerLength {
            result = (nil, true)
        } else {
            let cleaned = AnswerExtractor.stripTrailingPunctuation(text.trimmed())
            let known = cleaned == text ? normalized[key] : nil
            let (words, normalizedText) = timed(clock, "normalization") { () -> (String?, String) in
                let prepared = prepare(cleaned)
                if let words = LatexNormalizer.textAnswer(prepared: prepared) { return (words, "") }
                return (nil, known ?? LatexNormalizer.normalize(prepared: prepared, percent: percent))
            }
            if let words {
                result = (.text(words), false)
            } else {
                if cleaned == text { normalized[key] = normalizedText }
                result = timed(clock, "parsing") { MathVerifier.parse(normalized: normalizedText) }
            }
        }
        parsed[key] = result
        return result
    }

    mutating func normalize(_ text: String, percent: Bool) -> String {
        let key = Key(text: text, percent: percent)
        if let known = normalized[key] { return known }
        let result = timed(clock, "normalization") { LatexNormalizer.normalize(prepared: prepare(text), percent: percent) }
        normalized[key] = result
        return result
    }

    /// ``LatexNormalizer/prepare(_:)``, once per text.
    private mutating func prepare(_ text: String) -> String {
        if let known = preparedTexts[text] { return known }
        let result = LatexNormalizer.prepare(text)
        preparedTexts[text] = result
        return result
    }
}

/// A map for a handful of keys: a list searched by equality, with a dictionary once it holds more than 16.
struct SmallMap<Key: Hashable, Value> {
    private var entries: [(key: Key, value: Value)] = []
    private var dictionary: [Key: Value]? = nil

    subscript(key: Key) -> Value? {
        get {
            if let dictionary { return dictionary[key] }
            for entry in entries where entry.key == key { return entry.value }
            return nil
        }
        set {
            if dictionary != nil {
                dictionary![key] = newValue
                return
            }
            if let index = entries.firstIndex(where: { $0.key == key }) {
                if let newValue { entries[index].value = newValue } else { entries.remove(at: index) }
                return
            }
            guard let newValue else { return }
            entries.append((key, newValue))
            if entries.count > 16 {
                dictionary = Dictionary(entries, uniquingKeysWith: { _, last in last })
                entries = []
            }
        }
    }
}

extension VerifierRegistry {
    /// Adds the `math` verifier.
    public mutating func registerMathVerifiers() {
        register(MathVerifier.self)
    }
}

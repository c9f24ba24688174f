// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import ArbiterRegex
import Synchronization

/// `instruction`: the constraints of an IFEval / IFBench / open-instruct dataset row, checked strictly or loosely.
///
/// The reference is the row as published: `{"instruction_id_list": [...], "kwargs": [{...}, ...]}` (other fields,
/// such as `key` and `prompt`, are ignored; the request's `prompt`, else the row's, is the text to repeat for the
/// constraints that repeat the request). The score is the fraction of instructions followed, or 1 only when all are.
public struct InstructionVerifier: Verifier, SynchronousVerifier {
    /// Options of ``InstructionVerifier``.
    public struct Configuration: VerifierConfiguration {
        /// Whether loose evaluation is used.
        public let loose: Bool
        /// Whether the score is all-or-nothing.
        public let all: Bool
        /// Whether a leading reasoning span is dropped first.
        public let dropThinking: Bool
        /// Rows already configured, and the pattern cache their kwargs' patterns compile in (shared by every verifier
        /// that ``VerifierRegistry/registerInstructionVerifiers(patterns:)`` makes).
        let rows: RowCache

        public static let options: [OptionSpec] = [
            OptionSpec(
                "mode", .string(choices: ["strict", "loose"]), default: "strict",
                "strict checks the response as it is; loose also accepts it without its first line, its last line, both, or markdown '*' (IFEval's loose accuracy)."
            ),
            OptionSpec(
                "score", .string(choices: ["fraction", "all"]), default: "fraction",
                "fraction: the share of instructions followed (instruction-level); all: 1 only when every instruction is followed (prompt-level)."
            ),
            OptionSpec(
                "strip_think", .boolean, default: true,
                "Judge only what follows '</think>' (a response that opens <think> and never closes it is empty), as if-verifiable does."
            ),
        ]

        /// Reads the options, with caches of its own (a verifier made by the registry shares the registry's).
        public init(options: OptionValues) throws {
            try self.init(options: options, patterns: PatternCache(capacity: 64))
        }

        /// Reads the options; patterns built from kwargs compile in `patterns`.
        public init(options: OptionValues, patterns: PatternCache) throws {
            try self.init(options: options, rows: RowCache(capacity: 1024, patterns: patterns))
        }

        init(options: OptionValues, rows: RowCache) throws {
            loose = options.string("mode") == "loose"
            all = options.string("score") == "all"
            dropThinking = options.bool("strip_think")
            self.rows = rows
        }
    }

    public static let name = "instruction"
    public static let summary =
        "Checks the constraints of an IFEval / IFBench / open-instruct dataset row (instruction_id_list + kwargs), strictly or loosely; score is the share followed, or all-or-nothing."

    private let configuration: Configuration

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    public func verify(_ sample: Sample) throws -> Verdict {
        let row = try configuration.rows.row(sample.reference, prompt: sample.prompt)
        let response = configuration.dropThinking ? Self.stripThinking(sample.response) : Text(sample.response)
        guard response.scalars.contains(where: { !$0.isPySpace }) else {
            let details: JSONObject = [
                "instructions": .array(row.ids.map { .object(["id": .string($0), "followed": false, "why": "empty response"]) }),
                "followed": 0, "total": .int(row.ids.count), "mode": .string(configuration.loose ? "loose" : "strict"),
            ]
            return Verdict(score: 0, passed: false, reason: "empty_response", details: details)
        }
        let variants = configuration.loose ? Self.looseVariants(response) : [response]
        // A variant equal to an earlier one (no '*' to drop, a one-line response) gets the same answer: skip it.
        // A blank variant is never checked (IFEval skips it); decided once per variant, not once per instruction.
        let distinct = variants.indices.filter { index in
            variants[index].scalars.contains { !$0.isPySpace }
                && !variants[..<index].contains { $0.scalars == variants[index].scalars }
        }
        var results: [JSONValue] = []
        var followed = 0
        for (id, instruction) in zip(row.ids, row.instructions) {
            // When no variant follows the instruction, the why is the response's own (the first variant's).
            var outcome = Outcome.no("")
            var which = 0
            for index in distinct {
                let found = instruction.check(variants[index])
                if found.followed || index == 0 {
                    outcome = found
                    which = index
                }
                if found.followed { break }
            }
            if outcome.followed { followed += 1 }
            var entry: JSONObject = ["id": .string(id), "followed": .bool(outcome.followed), "why": .string(outcome.why)]
            if configuration.loose && outcome.followed && which > 0 { entry["variant"] = .string(Self.variantNames[which]) }
            results.append(.object(entry))
        }
        let total = row.ids.count
        let everything = followed == total
        let score = configuration.all ? (everything ? 1 : 0) : Double(followed) / Double(total)
        let details: JSONObject = [
            "instructions": .array(results), "followed": .int(followed), "total": .int(total),
            "mode": .string(configuration.loose ? "loose" : "strict"),
        ]
        let reason = everything ? "all_followed" : followed == 0 ? "none_followed" : "some_followed"
        return Verdict(score: score, passed: everything, reason: reason, details: details)
    }

    static let variantNames = [
        "as is", "without *", "without first line", "without last line", "without first and last lines",
        "without first line and *", "without last line and *", "without first and last lines and *",
    ]

    /// IFEval's loose variants: the response, without `*`, without its first line, last line or both (stripped),
    /// and those without `*`. (`"\n".join(lines[1:])` is the text after the first newline, and so on.)
    static func looseVariants(_ response: Text) -> [Text] {
        let whole = response.scalars
        let firstBreak = whole.firstIndex(of: "\n")
        let lastBreak = whole.lastIndex(of: "\n")
        let first = firstBreak.map { Py.strip(whole[($0 + 1)...]) } ?? []
        let last = lastBreak.map { Py.strip(whole[..<$0]) } ?? []
        var both: Scalars = []
        if let firstBreak, let lastBreak, firstBreak < lastBreak { both = Py.strip(whole[(firstBreak + 1)..<lastBreak]) }
        let stars = whole.contains("*")
        let noStar = { (text: Scalars) -> Scalars in stars ? text.filter { $0 != "*" } : text }
        return [
            response, Text(noStar(whole)), Text(first), Text(last), Text(both), Text(noStar(first)),
            Text(noStar(last)), Text(noStar(both)),
        ]
    }

    private static let thinkTag = Array("think>".unicodeScalars)

    /// The response after its reasoning: what follows the first `</think>`, stripped; empty when it opens `<think>`
    /// and never closes it.
    static func stripThinking(_ response: String) -> Text {
        let scalars = Array(response.unicodeScalars)
        guard let first = scalars.first, let last = scalars.last else { return Text(response, scalars) }
        let mentionsThink = scalars.contains("<") && Py.find(thinkTag, in: scalars) != nil
        if !mentionsThink, !first.isPySpace, !last.isPySpace { return Text(response, scalars) }
        let stripped = Py.strip(scalars)
        guard !stripped.isEmpty else { return Text([]) }
        if mentionsThink {
            let close = Array("</think>".unicodeScalars)
            if let index = Py.find(close, in: stripped) { return Text(Py.strip(stripped[(index + close.count)...])) }
            if Py.hasPrefix(stripped, Array("<think>".unicodeScalars)) { return Text([]) }
        }
        return Text(stripped)
    }
}

/// A dataset row: its instruction ids and their configured checks.
struct InstructionRow: Sendable {
    let ids: [String]
    let instructions: [any Instruction]

    init(_ reference: JSONValue, prompt: String?, patterns: PatternCache) throws(ArbiterError) {
        guard let object = reference.objectValue else {
            throw ArbiterError(
                .invalidReference,
                "the reference must be a dataset row {\"instruction_id_list\": [...], \"kwargs\": [{...}, ...]}, got \(reference.typeName)")
        }
        guard let list = object["instruction_id_list"]?.arrayValue else {
            throw ArbiterError(.invalidReference, "the reference needs 'instruction_id_list', an array of instruction ids")
        }
        let ids = try list.enumerated().map { (index, value) throws(ArbiterError) -> String in
            guard let id = value.stringValue else {
                throw ArbiterError(.invalidReference, "instruction_id_list[\(index)] must be a string, got \(value.typeName)")
            }
            return id
        }
        guard !ids.isEmpty else { throw ArbiterError(.invalidReference, "'instruction_id_list' is empty") }
        let kwargsList: [JSONValue]
        switch object["kwargs"] {
        case nil, .null?: kwargsList = []
        case .array(let array)?:
            guard array.isEmpty || array.count == ids.count else {
                throw ArbiterError(
                    .invalidReference, "'kwargs' has \(array.count) entries for \(ids.count) instructions")
            }
            kwargsList = array
        case let other?:
            throw ArbiterError(.invalidReference, "'kwargs' must be an array of objects, got \(other.typeName)")
        }
        let text = prompt ?? object["prompt"]?.stringValue
        var instructions: [any Instruction] = []
        for (index, id) in ids.enumerated() {
            let kwargsValue = kwargsList.isEmpty ? .null : kwargsList[index]
            let kwargsObject: JSONObject
            switch kwargsValue {
            case .null: kwargsObject = [:]
            case .object(let object): kwargsObject = object
            default:
                throw ArbiterError(.invalidReference, "kwargs[\(index)] for '\(id)' must be an object, got \(kwargsValue.typeName)")
            }
            instructions.append(try InstructionCatalog.build(id, kwargs: kwargsObject, prompt: text, patterns: patterns))
        }
        self.ids = ids
        self.instructions = instructions
    }
}

/// Rows already configured, by reference and prompt: a GRPO step sends each row with every rollout of its prompt,
/// and configuring a row (reading kwargs, compiling a pattern) costs more than looking it up. Bounded: emptied when
/// full. Only rows that configured without error are kept.
final class RowCache: Sendable {
    /// A configured row with the reference and prompt it was configured from. The reference is hashed once per
    /// request (the table is keyed by its hash) and compared on a hit; the prompt is only compared: a GRPO step sends
    /// the same prompt with every rollout, and comparing equal strings costs less than hashing them.
    struct Entry: Sendable {
        var reference: JSONValue
        var prompt: String?
        var row: InstructionRow
    }

    let capacity: Int
    /// Where patterns built from kwargs compile.
    let patterns: PatternCache
    private let rows = Mutex<[Int: Entry]>([:])

    init(capacity: Int, patterns: PatternCache) {
        self.capacity = capacity
        self.patterns = patterns
    }

    /// The configured row, from the cache or built (and kept).
    /// - Throws: ``ArbiterError`` `invalid_reference` as ``InstructionRow/init(_:prompt:)`` does.
    func row(_ reference: JSONValue, prompt: String?) throws(ArbiterError) -> InstructionRow {
        let hash = reference.hashValue
        if let found = rows.withLock({ $0[hash] }), found.prompt == prompt, found.reference == reference {
            return found.row
        }
        let built = try InstructionRow(reference, prompt: prompt, patterns: patterns)
        rows.withLock { rows in
            if rows.count >= capacity { rows.removeAll(keepingCapacity: true) }
            rows[hash] = Entry(reference: reference, prompt: prompt, row: built)
        }
        return built
    }
}

// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import ArbiterRegex
import Foundation
import Synchronization

/// `instruction`: the constraints of an IFEval / IFBench / open-instruct dataset row, checked strictly or loosely.
///
/// The reference is the row as published: `{"instruction_id_list": [...], "kwargs": [{...}, ...]}` (other fields,
/// such as `key` and `prompt`, are ignored; the request's `prompt`, else the row's, is the text to repeat for the
/// constraints that repeat the request). The score is the fraction of instructions followed, or 1 only when all are.
public struct InstructionVerifier: Verifier, SynchronousVerifier, JSONReferenceVerifier {
    /// Options of ``InstructionVerifier``.
    public struct Configuration: VerifierConfiguration {
        /// Whether loose evaluation is used.
        public let loose: Bool
        /// Whether the score is all-or-nothing.
        public let all: Bool
        /// Whether a leading reasoning span is dropped first.
        public let dropThinking: Bool
        /// Whether the response is normalised first (invisible characters, compatibility forms, look-alike letters and
        /// commas), closing tricks the reference implementations miss.
        public let hardened: Bool
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
                "Judge only what follows '</think>' (a response that opens <think> and never closes it is empty, as is one that never closes the <think> its prompt ends with), as if-verifiable does."
            ),
            OptionSpec(
                "hardened", .boolean, default: false,
                "Judge the response as a reader sees it: drop invisible characters, fold fullwidth and styled letters (NFKC), Cyrillic/Greek look-alikes inside Latin words and other scripts' commas. Closes reward hacks the reference misses; off agrees with the reference."
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
            hardened = options.bool("hardened")
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
        try judge(configuration.rows.row(sample.reference, prompt: sample.prompt), sample.response, prompt: sample.prompt)
    }

    /// The daemon's path: the row given as the JSON text of the request's reference, looked up by those bytes.
    public func verify(response: String, referenceJSON: UnsafeBufferPointer<UInt8>, prompt: String?) throws -> Verdict {
        try judge(configuration.rows.row(json: referenceJSON, prompt: prompt), response, prompt: prompt)
    }

    private func judge(_ row: InstructionRow, _ responseText: String, prompt: String?) -> Verdict {
        // A chat template that ends the prompt with `<think>` (DeepSeek-R1's) makes the response its continuation:
        // reasoning up to `</think>`, all of it when it never closes.
        let continued = configuration.dropThinking && Self.promptOpensThink(prompt)
        var response =
            configuration.dropThinking ? Self.stripThinking(responseText, promptOpensThink: continued) : Text(responseText)
        var hardening: Hardening.Changes?
        if configuration.hardened {
            let (normalised, changes) = Hardening.normalise(response.scalars)
            // Dropping an invisible character may leave a space at an end: stripped again, as the reasoning span's
            // removal strips.
            if !changes.isEmpty { response = Text(configuration.dropThinking ? Py.strip(normalised) : normalised) }
            hardening = changes
        }
        guard response.scalars.contains(where: { !$0.isPySpace }) else {
            var details: JSONObject = [
                "instructions": .array(row.ids.map { .object(["id": .string($0), "followed": false, "why": "empty response"]) }),
                "followed": 0, "total": .int(row.ids.count), "mode": .string(configuration.loose ? "loose" : "strict"),
            ]
            if let hardening { details["hardened"] = Self.describe(hardening) }
            if continued { details["continued_from_prompt"] = true }
            return Verdict(score: 0, passed: false, reason: "empty_response", details: details)
        }
        // Strict mode checks the response alone (it is not blank: checked above), without the loose variants' state.
        var variants = configuration.loose ? LooseVariants(response, loose: true) : nil
        // The details are written as JSON text as the instructions are judged, byte for byte what writing the
        // object `{"instructions": [{"id", "followed", "why"[, "variant"]}, …], "followed", "total", "mode"[,
        // "hardened"]}` gives (the daemon copies the text into its answer).
        var details = DetailsWriter(capacity: 96 + 96 * row.ids.count)
        var followed = 0
        for (position, (id, instruction)) in zip(row.ids, row.instructions).enumerated() {
            // When no variant follows the instruction, the why is the response's own (the first variant's).
            var outcome = Outcome.no("")
            var which = 0
            if variants != nil {
                var index = 0
                while let variant = variants!.next(from: &index) {
                    // A variant after the first counts only if it follows: its why is not read otherwise.
                    let found = index == 0 ? instruction.check(variant) : instruction.check(variant, explained: false)
                    if found.followed || index == 0 {
                        outcome = found
                        which = index
                    }
                    if found.followed { break }
                    index += 1
                }
            } else {
                outcome = instruction.check(response)
            }
            if outcome.followed { followed += 1 }
            details.instruction(
                first: position == 0, id: id, outcome: outcome,
                variant: configuration.loose && outcome.followed && which > 0 ? Self.variantNames[which] : nil)
        }
        let total = row.ids.count
        let everything = followed == total
        let score = configuration.all ? (everything ? 1 : 0) : Double(followed) / Double(total)
        details.finish(
            followed: followed, total: total, loose: configuration.loose, hardened: hardening.map(Self.describe))
        let reason = everything ? "all_followed" : followed == 0 ? "none_followed" : "some_followed"
        return Verdict(score: score, passed: everything, reason: reason, writtenDetails: details.bytes)
    }

    /// What the `hardened` option changed in the response: characters dropped or replaced, by kind.
    static func describe(_ changes: Hardening.Changes) -> JSONValue {
        .object([
            "invisible_dropped": .int(changes.invisible), "compatibility_folded": .int(changes.compatibility),
            "look_alikes_folded": .int(changes.lookAlikes), "commas_folded": .int(changes.commas),
        ])
    }

    static let variantNames = [
        "as is", "without *", "without first line", "without last line", "without first and last lines",
        "without first line and *", "without last line and *", "without first and last lines and *",
    ]

    private static let thinkTag = Array("think>".unicodeScalars)
    private static let openTag = Array("<think>".unicodeScalars)
    private static let closeTag = Array("</think>".unicodeScalars)

    /// Whether UTF-8 text holds `think>`.
    static func containsThinkEnd(_ utf8: UnsafeBufferPointer<UInt8>) -> Bool { Bytes.contains(utf8, "think>") }

    /// Whether the prompt ends with `<think>` (after trailing whitespace), as a chat template that opens the
    /// reasoning leaves it; the same rule as `think-format`'s (``Swift/String/endsWith(marker:ignoringCase:)``).
    static func promptOpensThink(_ prompt: String?) -> Bool {
        prompt?.endsWith(marker: "<think>") ?? false
    }

    /// The response after its reasoning: what follows the first `</think>`, stripped; empty when it opens `<think>`
    /// and never closes it, or when `promptOpensThink` (the prompt opened it) and it never closes it.
    static func stripThinking(_ response: String, promptOpensThink: Bool = false) -> Text {
        if promptOpensThink {
            let closes =
                response.utf8.withContiguousStorageIfAvailable { Bytes.contains($0, "</think>") }
                ?? response.contains("</think>")
            if !closes { return Text([]) }
        }
        let scalars = Py.scalars(response)
        guard let first = scalars.first, let last = scalars.last else { return Text(response, scalars) }
        // '<' and "think>" anywhere, looked for in the UTF-8 (an ASCII needle is found there where it is found
        // among the scalars).
        let mentionsThink =
            response.utf8.withContiguousStorageIfAvailable { utf8 in
                guard let base = utf8.baseAddress, memchr(base, 0x3C, utf8.count) != nil else { return false }
                return Self.containsThinkEnd(utf8)
            } ?? (scalars.contains("<") && Py.find(thinkTag, in: scalars) != nil)
        if !mentionsThink, !first.isPySpace, !last.isPySpace { return Text(response, scalars) }
        let stripped = Py.strip(scalars)
        guard !stripped.isEmpty else { return Text([]) }
        if mentionsThink {
            if let index = Py.find(closeTag, in: stripped) {
                return Text(Py.strip(stripped[(index + closeTag.count)...]))
            }
            if Py.hasPrefix(stripped, openTag) { return Text([]) }
        }
        return Text(stripped)
    }
}

/// The details of an instruction verdict written as JSON text as they are judged: the same bytes as ``JSONWriter``
/// writes for the object they stand for.
struct DetailsWriter {
    private var writer: JSONWriter

    init(capacity: Int) {
        writer = JSONWriter(capacity: capacity)
        writer.raw("{\"instructions\":[")
    }

    /// Writes one instruction's entry `{"id":…,"followed":…,"why":…[,"variant":…]}`.
    mutating func instruction(first: Bool, id: String, outcome: Outcome, variant: String?) {
        writer.raw(first ? "{\"id\":" : ",{\"id\":")
        writer.write(string: id)
        writer.raw(outcome.followed ? ",\"followed\":true,\"why\":" : ",\"followed\":false,\"why\":")
        writer.write(string: outcome.why)
        if let variant {
            writer.raw(",\"variant\":")
            writer.write(string: variant)
        }
        writer.byte(UInt8(ascii: "}"))
    }

    /// Closes the list and writes the counts, the mode and what hardening changed.
    mutating func finish(followed: Int, total: Int, loose: Bool, hardened: JSONValue?) {
        writer.raw("],\"followed\":")
        writer.write(int: followed)
        writer.raw(",\"total\":")
        writer.write(int: total)
        writer.raw(loose ? ",\"mode\":\"loose\"" : ",\"mode\":\"strict\"")
        if let hardened {
            writer.raw(",\"hardened\":")
            writer.write(hardened)
        }
        writer.byte(UInt8(ascii: "}"))
    }

    /// The text written.
    var bytes: [UInt8] { writer.bytes }
}

/// The variants of a response that are checked, made on first use: strict mode has one; IFEval's loose mode has the
/// response, without `*`, without its first line, last line or both (stripped), and those without `*`
/// (`"\n".join(lines[1:])` is the text after the first newline, and so on). A variant is made only when an instruction
/// was not followed by the ones before it, so a response that follows every instruction costs one. A blank variant is
/// never checked (IFEval skips it), nor one equal to an earlier variant (no `*` to drop, a one-line response): it
/// would get the same answer. The newlines and stars are found in one scan; a variant without `*` of a variant that is
/// not checked is not made (it is blank or equal to an earlier one too).
struct LooseVariants {
    private let count: Int
    private let response: Text
    /// Whether the response itself is checked (it is not blank).
    private let responseUsable: Bool
    /// Variants 1, 2, … decided so far: made, or nil when not checked (allocated only when one is needed).
    private var made: [Text?] = []
    /// Where the response's first and last newlines are and whether it holds a `*`, found in one scan on the first
    /// call for a variant after the response (a response that follows every instruction needs none).
    private var scanned = false
    private var firstBreak: Int?
    private var lastBreak: Int?
    private var stars = false

    init(_ response: Text, loose: Bool) {
        count = loose ? 8 : 1
        self.response = response
        responseUsable = response.scalars.contains { !$0.isPySpace }
    }

    /// How many variants were decided so far (for tests).
    var madeCount: Int { 1 + made.count }

    /// The first usable variant at `index` or after it (`index` moved to it), or nil when none is left.
    mutating func next(from index: inout Int) -> Text? {
        if index == 0 {
            if responseUsable { return response }
            index = 1
        }
        guard index < count else { return nil }
        if !scanned { scan() }
        while index < count {
            while made.count < index { made.append(make(made.count + 1)) }
            if let text = made[index - 1] { return text }
            index += 1
        }
        return nil
    }

    /// The variant at `index` if it is checked.
    private func variant(_ index: Int) -> Text? {
        index == 0 ? (responseUsable ? response : nil) : made[index - 1]
    }

    private mutating func scan() {
        scanned = true
        made.reserveCapacity(count - 1)
        response.scalars.withUnsafeBufferPointer { scalars in
            for index in scalars.indices {
                let value = scalars[index].value
                if value == 0x0A {
                    if firstBreak == nil { firstBreak = index }
                    lastBreak = index
                } else if value == 0x2A {
                    stars = true
                }
            }
        }
    }

    /// The variant at `index` when it is to be checked: not blank, not equal to an earlier one.
    private func make(_ index: Int) -> Text? {
        let scalars: Scalars
        switch index {
        case 2: scalars = first
        case 3: scalars = last
        case 4: scalars = both
        default:
            // Without '*' in the response, a variant without '*' is the one it was made from; of a variant that is
            // not checked (blank, or equal to an earlier one), it is blank or equal to an earlier one too.
            guard stars, let source = variant(index == 1 ? 0 : index - 3) else { return nil }
            scalars = Self.withoutStars(source.scalars)
        }
        // The stripped lines are blank when empty; a variant without '*' may hold only spaces.
        guard !scalars.isEmpty, index >= 2 && index <= 4 || scalars.contains(where: { !$0.isPySpace }) else {
            return nil
        }
        if responseUsable, response.scalars == scalars { return nil }
        for case let earlier? in made where earlier.scalars == scalars { return nil }
        return Text(scalars)
    }

    /// The scalars without `*`, copied in one pass into storage of the source's size (what `filter` gives, without
    /// growing an array one scalar at a time).
    static func withoutStars(_ source: Scalars) -> Scalars {
        source.withUnsafeBufferPointer { source in
            Scalars(unsafeUninitializedCapacity: source.count) { buffer, initialized in
                var written = 0
                for scalar in source where scalar != "*" {
                    buffer.initializeElement(at: written, to: scalar)
                    written += 1
                }
                initialized = written
            }
        }
    }

    private var first: Scalars { firstBreak.map { Py.strip(response.scalars[($0 + 1)...]) } ?? [] }
    private var last: Scalars { lastBreak.map { Py.strip(response.scalars[..<$0]) } ?? [] }
    private var both: Scalars {
        guard let firstBreak, let lastBreak, firstBreak < lastBreak else { return [] }
        return Py.strip(response.scalars[(firstBreak + 1)..<lastBreak])
    }
}

/// A dataset row: its instruction ids and their configured checks.
struct InstructionRow: Sendable {
    let ids: [String]
    let instructions: [any Instruction]
    /// Whether an instruction was configured from the request's prompt (a row that was not is the same row whatever
    /// prompt comes with it).
    let usesPrompt: Bool

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
        var usesPrompt = false
        for (index, id) in ids.enumerated() {
            let kwargsValue = kwargsList.isEmpty ? .null : kwargsList[index]
            let kwargsObject: JSONObject
            switch kwargsValue {
            case .null: kwargsObject = [:]
            case .object(let object): kwargsObject = object
            default:
                throw ArbiterError(.invalidReference, "kwargs[\(index)] for '\(id)' must be an object, got \(kwargsValue.typeName)")
            }
            instructions.append(
                try InstructionCatalog.build(
                    id, kwargs: kwargsObject, prompt: text, patterns: patterns, usesPrompt: &usesPrompt))
        }
        self.ids = ids
        self.instructions = instructions
        self.usesPrompt = usesPrompt
    }
}

/// Rows already configured, by the JSON text of the reference (and the prompt, for a row that reads it): a GRPO step
/// sends each row with every rollout of its prompt, and configuring a row (parsing the reference, reading kwargs,
/// compiling a pattern) costs more than looking it up. Bounded: emptied when full. Only rows that configured without
/// error are kept.
final class RowCache: Sendable {
    /// A configured row with the reference text and the prompt it was configured from (a class: a lookup retains
    /// one reference instead of copying its fields).
    final class Entry: Sendable {
        let json: [UInt8]
        let prompt: String?
        let row: InstructionRow

        init(json: [UInt8], prompt: String?, row: InstructionRow) {
            self.json = json
            self.prompt = prompt
            self.row = row
        }
    }

    let capacity: Int
    /// Where patterns built from kwargs compile.
    let patterns: PatternCache
    private let rows = Mutex<[Int: Entry]>([:])
    /// The longest reference text (with the prompt, for a row that reads it) that is kept.
    static let maxEntryBytes = 65_536

    /// How many rows are kept (for tests).
    var count: Int { rows.withLock { $0.count } }

    init(capacity: Int, patterns: PatternCache) {
        self.capacity = capacity
        self.patterns = patterns
    }

    /// The configured row of a reference given as a value (its JSON text, as ``JSONWriter`` writes it, is the key).
    /// - Throws: ``ArbiterError`` `invalid_reference` as ``InstructionRow/init(_:prompt:patterns:)`` does.
    func row(_ reference: JSONValue, prompt: String?) throws(ArbiterError) -> InstructionRow {
        var writer = JSONWriter()
        writer.write(reference)
        return try writer.bytes.withUnsafeBufferPointer { json throws(ArbiterError) in
            try row(json: json, prompt: prompt, parsed: reference)
        }
    }

    /// The configured row of a reference given as JSON text, from the cache or built (and kept).
    /// - Parameters:
    ///   - json: The reference's JSON text.
    ///   - prompt: The request's prompt.
    ///   - parsed: The reference as a value, when the caller has it (else it is parsed from `json`).
    /// - Throws: ``ArbiterError`` `invalid_reference` as ``InstructionRow/init(_:prompt:patterns:)`` does.
    func row(json: UnsafeBufferPointer<UInt8>, prompt: String?, parsed: JSONValue? = nil) throws(ArbiterError)
        -> InstructionRow
    {
        let hash = Self.fingerprint(json)
        // Compared in place: only the row is copied out of the table.
        let kept = rows.withLock { rows -> InstructionRow? in
            guard let found = rows[hash], !found.row.usesPrompt || found.prompt == prompt, Self.same(found.json, json)
            else { return nil }
            return found.row
        }
        if let kept { return kept }
        let reference: JSONValue
        if let parsed {
            reference = parsed
        } else {
            do {
                reference = try JSONParser.parse(json)
            } catch {
                throw ArbiterError(.invalidReference, "the reference is not valid JSON: \(error.message)")
            }
        }
        let built = try InstructionRow(reference, prompt: prompt, patterns: patterns)
        // A reference longer than any published row (IFEval's carry their prompt: a few kilobytes) is not kept, so
        // that the cache holds at most capacity × maxEntryBytes of text whatever clients send.
        guard json.count + (built.usesPrompt ? prompt?.utf8.count ?? 0 : 0) <= Self.maxEntryBytes else { return built }
        let entry = Entry(json: Array(json), prompt: built.usesPrompt ? prompt : nil, row: built)
        rows.withLock { rows in
            if rows.count >= capacity { rows.removeAll(keepingCapacity: true) }
            rows[hash] = entry
        }
        return built
    }

    /// Whether a kept reference text is the given one (`memcmp`, not a generic element loop).
    private static func same(_ kept: [UInt8], _ json: UnsafeBufferPointer<UInt8>) -> Bool {
        guard kept.count == json.count else { return false }
        guard let base = json.baseAddress, !kept.isEmpty else { return true }
        return kept.withUnsafeBufferPointer { memcmp($0.baseAddress!, base, json.count) == 0 }
    }

    /// A 64-bit FNV-1a digest of the reference's text, eight bytes at a time, the table's key. A collision only costs
    /// a rebuild: a hit is confirmed by comparing the stored text.
    static func fingerprint(_ json: UnsafeBufferPointer<UInt8>) -> Int {
        var state: UInt64 = 0xcbf2_9ce4_8422_2325
        guard let base = json.baseAddress else { return Int(truncatingIfNeeded: state) }
        let raw = UnsafeRawPointer(base)
        var offset = 0
        while offset + 8 <= json.count {
            state = (state ^ raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* 0x0000_0100_0000_01b3
            state ^= state >> 29
            offset += 8
        }
        while offset < json.count {
            state = (state ^ UInt64(base[offset])) &* 0x0000_0100_0000_01b3
            offset += 1
        }
        state ^= UInt64(json.count)
        return Int(truncatingIfNeeded: state &* 0x0000_0100_0000_01b3)
    }
}

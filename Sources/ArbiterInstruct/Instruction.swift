// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import ArbiterRegex

/// Whether one instruction was followed, and why (the count found against the limit, the missing keyword …).
struct Outcome: Sendable {
    var followed: Bool
    var why: String

    static func ok(_ why: String) -> Outcome { Outcome(followed: true, why: why) }
    static func no(_ why: String) -> Outcome { Outcome(followed: false, why: why) }
    static func when(_ followed: Bool, _ why: String) -> Outcome { Outcome(followed: followed, why: why) }
}

/// A response variant being checked: its scalars (Python's indices) and, made on first use, its string.
final class Text {
    let scalars: Scalars
    private var cached: String?

    init(_ string: String) {
        self.cached = string
        self.scalars = Py.scalars(string)
    }

    init(_ string: String, _ scalars: Scalars) {
        self.cached = string
        self.scalars = scalars
    }

    init(_ scalars: Scalars) {
        self.scalars = scalars
    }

    var string: String {
        if let cached { return cached }
        let made = Py.string(scalars)
        cached = made
        return made
    }
}

/// One configured constraint of a dataset row.
protocol Instruction: Sendable {
    /// Checks one response variant.
    func check(_ text: Text) -> Outcome

    /// Checks one response variant whose why is read only when it is followed (a loose variant after the first):
    /// when `explained` is false, an outcome that is not followed may carry any why, so a check may stop at the first
    /// condition it finds broken, in any order; a followed outcome carries the why ``check(_:)`` gives.
    func check(_ text: Text, explained: Bool) -> Outcome
}

extension Instruction {
    func check(_ text: Text, explained: Bool) -> Outcome { check(text) }
}

/// A constraint written as a closure (for the many that need no state beyond their kwargs).
struct Check: Instruction {
    let body: @Sendable (Text) -> Outcome
    init(_ body: @escaping @Sendable (Text) -> Outcome) { self.body = body }
    func check(_ text: Text) -> Outcome { body(text) }
}

/// A constraint written as a closure, with a cheap test that every text following it passes: an unexplained check
/// (a loose variant after the first) of a text that fails the test is not followed, without running the closure.
struct PrefilteredCheck: Instruction {
    let body: @Sendable (Text) -> Outcome
    let mayFollow: @Sendable (Text) -> Bool

    func check(_ text: Text) -> Outcome { body(text) }

    func check(_ text: Text, explained: Bool) -> Outcome {
        explained || mayFollow(text) ? body(text) : .no("")
    }
}

/// A comparison relation as IFEval spells it.
enum Relation: String, Sendable {
    case lessThan = "less than"
    case atLeast = "at least"

    func holds(_ count: Int, _ limit: Int) -> Bool {
        switch self {
        case .lessThan: count < limit
        case .atLeast: count >= limit
        }
    }

    /// "12 words, needs less than 10".
    func why(_ count: Int, _ unit: String, _ limit: Int) -> String {
        "\(count) \(unit), needs \(rawValue) \(limit)"
    }

    func outcome(_ count: Int, _ unit: String, _ limit: Int) -> Outcome {
        .when(holds(count, limit), why(count, unit, limit))
    }
}

/// The kwargs of one instruction, read with the types the reference implementation expects.
///
/// `null` values are ignored (published rows carry every kwarg name of the dataset, null where unused). A kwarg
/// of the wrong type, a required kwarg that is missing, and a kwarg the instruction does not take are
/// `invalid_reference` errors naming the instruction and the kwarg.
struct Kwargs {
    let id: String
    let prompt: String?
    /// Where patterns built from these kwargs compile.
    let patterns: PatternCache
    /// The non-null kwargs in order, and whether each was read (a row has a handful: a scan costs less than hashing).
    private var values: [(key: String, value: JSONValue)] = []
    private var used: [Bool] = []
    /// Whether the request's prompt was read (``promptToRepeat()`` without the kwarg).
    private(set) var readPrompt = false

    init(id: String, object: JSONObject, prompt: String?, patterns: PatternCache) {
        self.id = id
        self.prompt = prompt
        self.patterns = patterns
        values.reserveCapacity(object.count)
        for entry in object where !entry.value.isNull { values.append((entry.key, entry.value)) }
        used = Array(repeating: false, count: values.count)
    }

    func error(_ message: String) -> ArbiterError {
        ArbiterError(.invalidReference, "instruction '\(id)': \(message)")
    }

    private mutating func take(_ name: String) -> JSONValue? {
        guard let index = values.firstIndex(where: { $0.key == name }) else { return nil }
        used[index] = true
        return values[index].value
    }

    /// Whether a kwarg was given (not null).
    func has(_ name: String) -> Bool { values.contains { $0.key == name } }

    /// An optional integer (integral JSON numbers only).
    mutating func optionalInt(_ name: String, min: Int = Int.min) throws(ArbiterError) -> Int? {
        guard let value = take(name) else { return nil }
        guard case .number(let number) = value, let int = number.int ?? Self.integral(number.double) else {
            throw error("kwarg '\(name)' must be an integer, got \(value.jsonText.prefix(60))")
        }
        guard int >= min else { throw error("kwarg '\(name)' must be at least \(min), got \(int)") }
        return int
    }

    private static func integral(_ double: Double) -> Int? {
        double.isFinite && double.rounded() == double && abs(double) < 1e15 ? Int(double) : nil
    }

    /// A required integer.
    mutating func int(_ name: String, min: Int = Int.min) throws(ArbiterError) -> Int {
        guard let int = try optionalInt(name, min: min) else { throw missing(name) }
        return int
    }

    /// A required number.
    mutating func number(_ name: String, min: Double = -.infinity) throws(ArbiterError) -> Double {
        guard let value = take(name) else { throw missing(name) }
        guard let double = value.doubleValue, double.isFinite else {
            throw error("kwarg '\(name)' must be a number, got \(value.jsonText.prefix(60))")
        }
        guard double >= min else { throw error("kwarg '\(name)' must be at least \(min), got \(double)") }
        return double
    }

    /// An optional string.
    mutating func optionalString(_ name: String) throws(ArbiterError) -> String? {
        guard let value = take(name) else { return nil }
        guard let text = value.stringValue else {
            throw error("kwarg '\(name)' must be a string, got \(value.jsonText.prefix(60))")
        }
        return text
    }

    /// A required non-empty string (the reference draws a random one when it is missing or empty: no default).
    mutating func string(_ name: String) throws(ArbiterError) -> String {
        guard let text = try optionalString(name) else { throw missing(name) }
        guard !text.isEmpty else { throw error("kwarg '\(name)' must not be empty") }
        return text
    }

    /// A required non-empty list of strings.
    mutating func strings(_ name: String) throws(ArbiterError) -> [String] {
        guard let value = take(name) else { throw missing(name) }
        guard let array = value.arrayValue, array.allSatisfy({ $0.stringValue != nil }) else {
            throw error("kwarg '\(name)' must be an array of strings, got \(value.jsonText.prefix(60))")
        }
        guard !array.isEmpty else { throw error("kwarg '\(name)' must not be empty") }
        return array.compactMap(\.stringValue)
    }

    /// A required relation, `less than` or `at least`.
    mutating func relation(_ name: String) throws(ArbiterError) -> Relation {
        let text = try string(name)
        guard let relation = Relation(rawValue: text) else {
            throw error("kwarg '\(name)' must be 'less than' or 'at least', got '\(text.prefix(40))'")
        }
        return relation
    }

    /// The text to repeat: the kwarg `prompt_to_repeat`, else the request's prompt.
    mutating func promptToRepeat() throws(ArbiterError) -> String {
        if let text = try optionalString("prompt_to_repeat"), !text.isEmpty { return text }
        readPrompt = true
        guard let prompt, !prompt.isEmpty else {
            throw error("needs kwarg 'prompt_to_repeat' or the request's 'prompt'")
        }
        return prompt
    }

    func missing(_ name: String) -> ArbiterError {
        error("missing kwarg '\(name)' (the reference implementation has no default for it)")
    }

    /// Fails when a kwarg was given that the instruction does not take.
    func finish() throws(ArbiterError) {
        if let extra = values.indices.filter({ !used[$0] }).map({ values[$0].key }).min() {
            throw error("unexpected kwarg '\(extra)'")
        }
    }
}

/// Builds a configured instruction from its kwargs.
typealias InstructionBuilder = @Sendable (inout Kwargs) throws(ArbiterError) -> any Instruction

/// Where an instruction id comes from.
enum InstructionFamily: String, Sendable {
    case ifeval, ifbench, openInstruct = "open-instruct"
}

// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import ArbiterRegex

/// Every instruction id Arbiter knows, from IFEval, IFBench and open-instruct.
public enum InstructionCatalog {
    static let builders: [String: InstructionBuilder] = {
        var table: [String: InstructionBuilder] = [:]
        for (id, builder) in IFEvalInstructions.builders { table[id] = builder }
        for (id, builder) in IFBenchInstructions.builders { table[id] = builder }
        for (id, builder) in OpenInstructInstructions.builders { table[id] = builder }
        return table
    }()

    /// The ids of each family, in the order of their sources.
    public static let ids: [(family: String, ids: [String])] = [
        ("ifeval", IFEvalInstructions.builders.map(\.0)),
        ("ifbench", IFBenchInstructions.builders.map(\.0)),
        ("open-instruct", OpenInstructInstructions.builders.map(\.0)),
    ]

    /// Configures one instruction.
    /// - Throws: ``ArbiterError`` `invalid_reference` for an unknown id (with the nearest known one) or bad kwargs.
    /// - Parameter usesPrompt: Set when the instruction was configured from `prompt`.
    static func build(
        _ id: String, kwargs object: JSONObject, prompt: String?, patterns: PatternCache, usesPrompt: inout Bool
    ) throws(ArbiterError) -> any Instruction {
        guard let builder = builders[id] else {
            var message = "unknown instruction id '\(id.prefix(80))'"
            if let near = NameSuggestion.nearest(to: id, in: Array(builders.keys)) { message += " (did you mean '\(near)'?)" }
            throw ArbiterError(.invalidReference, message)
        }
        var kwargs = Kwargs(id: id, object: object, prompt: prompt, patterns: patterns)
        let instruction = try builder(&kwargs)
        try kwargs.finish()
        if kwargs.readPrompt { usesPrompt = true }
        return instruction
    }
}

extension VerifierRegistry {
    /// Adds the instruction-following family: `instruction`.
    /// - Parameter patterns: Where patterns built from a row's kwargs compile (and are kept); the verifiers made
    ///   from this registry also share one cache of configured rows.
    public mutating func registerInstructionVerifiers(patterns: PatternCache) {
        let rows = RowCache(capacity: 1024, patterns: patterns)
        let make: @Sendable (OptionValues) throws -> any SampleVerifier = { values in
            InstructionVerifier(configuration: try InstructionVerifier.Configuration(options: values, rows: rows))
        }
        register(
            VerifierEntry(
                name: InstructionVerifier.name, summary: InstructionVerifier.summary, kind: "builtin",
                options: InstructionVerifier.Configuration.options, factory: make))
    }
}

/// JSON as Python's `json.loads` accepts it.
enum PythonJSON {
    /// Whether the text is one JSON value (Python also accepts `NaN`, `Infinity` and `-Infinity`).
    static func isValid(_ text: String) -> Bool {
        if parses(text) { return true }
        // Looked for in the UTF-8, not with `String.contains` (a search by characters, the check's main cost): where
        // the bytes hold a word that no character-wise match sees (a combining mark after it, inside a string or
        // not), replacing it does not make invalid JSON valid, so the answer is the same.
        var utf8 = text
        guard utf8.withUTF8({ Bytes.contains($0, "NaN") || Bytes.contains($0, "Infinity") }) else { return false }
        return parses(text.replacingAll("-Infinity", "0").replacingAll("Infinity", "0").replacingAll("NaN", "0"))
    }

    /// Whether the text parses as JSON (checked without building the value).
    private static func parses(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { JSONParser.isValid($0) }
    }
}

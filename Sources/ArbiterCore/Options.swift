// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

/// One documented option of a verifier: its name, type, default and a sentence of help.
///
/// The list of specs is the single source of truth for a verifier's options: `arbiter list` prints it, the `list`
/// op returns it, and requests are validated against it (unknown names and wrong types are `invalid_options`).
public struct OptionSpec: Sendable {
    /// The JSON type an option takes.
    public enum Kind: Sendable, Equatable {
        /// `true` or `false`.
        case boolean
        /// An integral number within the range.
        case integer(ClosedRange<Int>)
        /// Any number within the range.
        case number(ClosedRange<Double>)
        /// A string; when `choices` is not empty, one of them.
        case string(choices: [String])
        /// An array of strings.
        case stringList
        /// Any JSON object (for structured options).
        case object

        /// The name shown in `list` output.
        public var typeName: String {
            switch self {
            case .boolean: "boolean"
            case .integer: "integer"
            case .number: "number"
            case .string(let choices): choices.isEmpty ? "string" : "enum"
            case .stringList: "string[]"
            case .object: "object"
            }
        }
    }

    /// The option's name in requests (snake_case).
    public let name: String
    /// Its type and range.
    public let kind: Kind
    /// The value used when a request does not set it.
    public let defaultValue: JSONValue
    /// One sentence saying what it does.
    public let summary: String

    /// Declares an option.
    /// - Parameters:
    ///   - name: The option's name.
    ///   - kind: Its type and range.
    ///   - defaultValue: Its default.
    ///   - summary: One sentence of help.
    public init(_ name: String, _ kind: Kind, default defaultValue: JSONValue, _ summary: String) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.summary = summary
    }

    /// The spec as JSON, as the `list` op returns it.
    public var jsonObject: JSONObject {
        var object: JSONObject = [
            "name": .string(name), "type": .string(kind.typeName), "default": defaultValue,
            "description": .string(summary),
        ]
        switch kind {
        case .string(let choices) where !choices.isEmpty: object["choices"] = .array(choices.map(JSONValue.string))
        case .integer(let range): object["range"] = .array([.int(range.lowerBound), .int(range.upperBound)])
        case .number(let range): object["range"] = .array([.double(range.lowerBound), .double(range.upperBound)])
        default: break
        }
        return object
    }

    /// Reads a spec written as JSON, the form ``jsonObject`` writes: `{"name", "type", "default", "description",
    /// "choices"?, "range"?}` (used by process plugins, whose options are declared in their definition file).
    /// - Parameter value: The spec.
    /// - Throws: ``ArbiterError`` `invalid_request` for a missing name or type, an unknown type, or a default that
    ///   does not fit the type.
    public init(json value: JSONValue) throws(ArbiterError) {
        guard let object = value.objectValue, let name = object["name"]?.stringValue, !name.isEmpty,
            let type = object["type"]?.stringValue
        else {
            throw ArbiterError(.invalidRequest, "each option needs 'name' and 'type' (and 'default', 'description')")
        }
        let range = object["range"]?.arrayValue?.compactMap(\.doubleValue)
        let kind: OptionSpec.Kind
        switch type {
        case "boolean": kind = .boolean
        case "integer":
            let clamp = { (value: Double) -> Int in
                value >= 9.2e18 ? Int.max : value <= -9.2e18 ? Int.min : Int(value.rounded())
            }
            let bounds = range.flatMap { $0.count == 2 && $0.allSatisfy(\.isFinite) ? (clamp($0[0]), clamp($0[1])) : nil }
                ?? (Int.min, Int.max)
            kind = .integer(bounds.0...max(bounds.0, bounds.1))
        case "number":
            let bounds = range.flatMap { $0.count == 2 ? ($0[0], $0[1]) : nil } ?? (-Double.greatestFiniteMagnitude, .greatestFiniteMagnitude)
            kind = .number(bounds.0...max(bounds.0, bounds.1))
        case "string": kind = .string(choices: [])
        case "enum": kind = .string(choices: object["choices"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        case "string[]": kind = .stringList
        case "object": kind = .object
        default:
            throw ArbiterError(
                .invalidRequest, "option '\(name)': unknown type '\(type)' (boolean, integer, number, string, enum, string[], object)")
        }
        guard let defaultValue = object["default"] else {
            throw ArbiterError(.invalidRequest, "option '\(name)' needs a 'default'")
        }
        self.init(name, kind, default: defaultValue, object["description"]?.stringValue ?? "")
        do {
            try validate(defaultValue, verifier: "option spec")
        } catch {
            throw ArbiterError(.invalidRequest, "option '\(name)': its default does not fit its type")
        }
    }

    /// Checks a value against this spec.
    /// - Parameters:
    ///   - value: The value sent.
    ///   - verifier: The verifier's name, for the message.
    /// - Throws: ``ArbiterError`` `invalid_options` saying what was expected.
    func validate(_ value: JSONValue, verifier: String) throws(ArbiterError) {
        let problem: String?
        switch kind {
        case .boolean:
            problem = value.boolValue == nil ? "must be a boolean" : nil
        case .integer(let range):
            if case .number(let number) = value, let int = number.int {
                problem = range.contains(int) ? nil : "must be between \(range.lowerBound) and \(range.upperBound)"
            } else {
                problem = "must be an integer"
            }
        case .number(let range):
            if let double = value.doubleValue, double.isFinite {
                problem =
                    range.contains(double) ? nil : "must be between \(range.lowerBound) and \(range.upperBound)"
            } else {
                problem = "must be a number"
            }
        case .string(let choices):
            if let text = value.stringValue {
                problem =
                    choices.isEmpty || choices.contains(text)
                    ? nil : "must be one of \(choices.map { "'\($0)'" }.joined(separator: ", "))"
            } else {
                problem = "must be a string"
            }
        case .stringList:
            let ok = value.arrayValue.map { $0.allSatisfy { $0.stringValue != nil } } ?? false
            problem = ok ? nil : "must be an array of strings"
        case .object:
            problem = value.objectValue == nil ? "must be an object" : nil
        }
        if let problem {
            throw ArbiterError(
                .invalidOptions,
                "option '\(name)' of verifier '\(verifier)' \(problem), got \(value.jsonText.prefix(80))")
        }
    }
}

/// A verifier's options after validation: every declared option has a value (sent or default) of the right type.
public struct OptionValues: Sendable {
    private let values: JSONObject
    private let verifier: String

    /// Validates options sent in a request against specs and fills in defaults.
    /// - Parameters:
    ///   - sent: The request's `options` object (empty when absent).
    ///   - specs: The verifier's declared options.
    ///   - verifier: The verifier's name, for messages.
    /// - Throws: ``ArbiterError`` `invalid_options` for an unknown option (with the nearest name) or a bad value.
    public init(_ sent: JSONObject, specs: [OptionSpec], verifier: String) throws(ArbiterError) {
        var merged = JSONObject()
        for spec in specs { merged[spec.name] = spec.defaultValue }
        for entry in sent {
            guard let spec = specs.first(where: { $0.name == entry.key }) else {
                var message = "verifier '\(verifier)' has no option '\(entry.key)'"
                if let near = NameSuggestion.nearest(to: entry.key, in: specs.map(\.name)) {
                    message += " (did you mean '\(near)'?)"
                } else if specs.isEmpty {
                    message += " (it takes no options)"
                } else {
                    message += " (options: \(specs.map(\.name).joined(separator: ", ")))"
                }
                throw ArbiterError(.invalidOptions, message)
            }
            try spec.validate(entry.value, verifier: verifier)
            merged[entry.key] = entry.value
        }
        self.values = merged
        self.verifier = verifier
    }

    /// The value of an option as JSON.
    /// - Parameter name: A declared option.
    /// - Returns: The value.
    public func value(_ name: String) -> JSONValue {
        guard let value = values[name] else {
            preconditionFailure("verifier '\(verifier)' reads undeclared option '\(name)'")
        }
        return value
    }

    /// A boolean option.
    /// - Parameter name: A declared `.boolean` option.
    /// - Returns: Its value.
    public func bool(_ name: String) -> Bool {
        value(name).boolValue ?? false
    }

    /// An integer option.
    /// - Parameter name: A declared `.integer` option.
    /// - Returns: Its value.
    public func int(_ name: String) -> Int {
        if case .number(let number) = value(name), let int = number.int { return int }
        return 0
    }

    /// A number option.
    /// - Parameter name: A declared `.number` option.
    /// - Returns: Its value.
    public func double(_ name: String) -> Double {
        value(name).doubleValue ?? 0
    }

    /// A string option.
    /// - Parameter name: A declared `.string` option.
    /// - Returns: Its value.
    public func string(_ name: String) -> String {
        value(name).stringValue ?? ""
    }

    /// A string-list option.
    /// - Parameter name: A declared `.stringList` option.
    /// - Returns: Its value.
    public func strings(_ name: String) -> [String] {
        value(name).arrayValue?.compactMap(\.stringValue) ?? []
    }
}

// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore

/// The tests of a `code` reference, in one of three forms.
struct TestSpec: Sendable {
    /// What is run.
    enum Form: Sendable {
        /// stdin/stdout cases: one run per case.
        case standardIO([(stdin: String, stdout: String)])
        /// Scripts of asserts or a `check(candidate)` function, run after the program in one harness run.
        case script(tests: [String], entryPoint: String?)
        /// Calls of a function with JSON arguments, compared with the expected JSON.
        /// `unwrapSingle`: an expected one-element array also matches its element (APPS stores outputs so).
        case calls(function: String, cases: [(arguments: [JSONValue], expected: JSONValue)], unwrapSingle: Bool)
    }

    /// The language the reference names, if any.
    var language: String?
    /// The tests.
    var form: Form
    /// Code of the reference installed after the program and before the tests (`test` and `calls` forms): helpers
    /// the tests call, such as HumanEval's `encode_cyclic`, which the response must not be able to redefine.
    var setup: String?

    /// The number of cases.
    var count: Int {
        switch form {
        case .standardIO(let cases): cases.count
        case .script(let tests, _): tests.count
        case .calls(_, let cases, _): cases.count
        }
    }

    static let maximumCases = 10_000

    /// Reads a reference: an object (or a JSON string holding one) with `tests`, `test` or `calls`.
    /// - Throws: ``ArbiterError`` `invalid_reference` saying what is wrong.
    init(reference: JSONValue) throws(ArbiterError) {
        var value = reference
        if case .string(let text) = reference, let parsed = try? JSONParser.parse(text), parsed.objectValue != nil {
            value = parsed
        }
        guard let object = value.objectValue else {
            throw ArbiterError(
                .invalidReference,
                "the code reference must be an object with 'tests' (stdin/stdout), 'test' (a script) or 'calls', "
                    + "got \(value.typeName)")
        }
        if let language = object["language"], language.stringValue == nil, !language.isNull {
            throw ArbiterError(.invalidReference, "'language' must be a string")
        }
        language = object["language"]?.stringValue
        form = try Self.form(of: object)
        if let setup = object["setup"], !setup.isNull {
            guard let text = setup.stringValue else { throw ArbiterError(.invalidReference, "'setup' must be a string") }
            if case .standardIO = form {
                throw ArbiterError(.invalidReference, "'setup' goes with 'test' or 'calls', not stdin/stdout 'tests'")
            }
            self.setup = text
        }
        guard count > 0 else { throw ArbiterError(.invalidReference, "the code reference has no test cases") }
        guard count <= Self.maximumCases else {
            throw ArbiterError(.invalidReference, "at most \(Self.maximumCases) test cases, got \(count)")
        }
    }

    private static func form(of object: JSONObject) throws(ArbiterError) -> Form {
        let present = ["tests", "test", "calls"].filter { object[$0] != nil }
        if present.isEmpty, object["inputs"] != nil, object["outputs"] != nil { return try apps(object) }
        guard present.count == 1 else {
            throw ArbiterError(
                .invalidReference,
                present.isEmpty
                    ? "the code reference needs 'tests' (stdin/stdout), 'test' (a script), 'calls' or 'inputs'/'outputs'"
                    : "the code reference has \(present.joined(separator: " and ")): give one form")
        }
        switch present[0] {
        case "tests": return .standardIO(try standardIO(object["tests"]!))
        case "test": return try script(object["test"]!, entryPoint: object["entry_point"])
        default: return try calls(object["calls"]!)
        }
    }

    /// APPS/TACO's `input_output`: `{"inputs": [...], "outputs": [...]}` as stdin/stdout strings, or with `fn_name` as
    /// calls (each input an argument list; an output wrapped in a one-element list, as APPS stores them, matches its
    /// element too).
    private static func apps(_ object: JSONObject) throws(ArbiterError) -> Form {
        guard let inputs = object["inputs"]?.arrayValue, let outputs = object["outputs"]?.arrayValue,
            inputs.count == outputs.count
        else {
            throw ArbiterError(.invalidReference, "'inputs' and 'outputs' must be arrays of the same length")
        }
        if let function = object["fn_name"]?.stringValue, !function.isEmpty {
            var cases: [(arguments: [JSONValue], expected: JSONValue)] = []
            for (index, input) in inputs.enumerated() {
                guard let arguments = input.arrayValue else {
                    throw ArbiterError(.invalidReference, "inputs[\(index)] must be an array of arguments")
                }
                cases.append((arguments, outputs[index]))
            }
            return .calls(function: function, cases: cases, unwrapSingle: true)
        }
        var cases: [(stdin: String, stdout: String)] = []
        for (index, pair) in zip(inputs, outputs).enumerated() {
            guard let stdin = Self.text(pair.0), let stdout = Self.text(pair.1) else {
                throw ArbiterError(.invalidReference, "inputs[\(index)] and outputs[\(index)] must be strings (or lists of lines)")
            }
            cases.append((stdin, stdout))
        }
        return .standardIO(cases)
    }

    /// A string, or a list of lines joined with newlines.
    private static func text(_ value: JSONValue) -> String? {
        if let string = value.stringValue { return string }
        guard let lines = value.arrayValue, lines.allSatisfy({ $0.stringValue != nil }) else { return nil }
        return lines.compactMap(\.stringValue).joined(separator: "\n") + "\n"
    }

    private static func standardIO(_ value: JSONValue) throws(ArbiterError) -> [(stdin: String, stdout: String)] {
        guard let array = value.arrayValue else { throw ArbiterError(.invalidReference, "'tests' must be an array") }
        var cases: [(stdin: String, stdout: String)] = []
        for (index, item) in array.enumerated() {
            guard let object = item.objectValue, let output = object["stdout"]?.stringValue,
                object["stdin"] == nil || object["stdin"]?.stringValue != nil
            else {
                throw ArbiterError(
                    .invalidReference, "tests[\(index)] must be {\"stdin\": string, \"stdout\": string}")
            }
            cases.append((object["stdin"]?.stringValue ?? "", output))
        }
        return cases
    }

    private static func script(_ value: JSONValue, entryPoint: JSONValue?) throws(ArbiterError) -> Form {
        let tests: [String]
        if let text = value.stringValue {
            tests = [text]
        } else if let array = value.arrayValue, array.allSatisfy({ $0.stringValue != nil }) {
            tests = array.compactMap(\.stringValue)
        } else {
            throw ArbiterError(.invalidReference, "'test' must be a string or an array of strings")
        }
        if let entryPoint, entryPoint.stringValue == nil, !entryPoint.isNull {
            throw ArbiterError(.invalidReference, "'entry_point' must be a string")
        }
        return .script(tests: tests, entryPoint: entryPoint?.stringValue)
    }

    private static func calls(_ value: JSONValue) throws(ArbiterError) -> Form {
        guard let object = value.objectValue, let function = object["function"]?.stringValue, !function.isEmpty,
            let array = object["cases"]?.arrayValue
        else {
            throw ArbiterError(
                .invalidReference,
                "'calls' must be {\"function\": name, \"cases\": [{\"args\": [...], \"expected\": value}]}")
        }
        var cases: [(arguments: [JSONValue], expected: JSONValue)] = []
        for (index, item) in array.enumerated() {
            guard let case_ = item.objectValue, let arguments = case_["args"]?.arrayValue,
                let expected = case_["expected"]
            else {
                throw ArbiterError(.invalidReference, "calls.cases[\(index)] needs 'args' (an array) and 'expected'")
            }
            cases.append((arguments, expected))
        }
        return .calls(function: function, cases: cases, unwrapSingle: false)
    }
}

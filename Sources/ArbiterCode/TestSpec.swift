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
        let fields = JSONFields(object, code: .invalidReference)
        language = try fields.string("language")
        form = try Self.form(of: fields)
        if let text = try fields.string("setup") {
            if case .standardIO = form {
                throw ArbiterError(.invalidReference, "'setup' goes with 'test' or 'calls', not stdin/stdout 'tests'")
            }
            setup = text
        }
        guard count > 0 else { throw ArbiterError(.invalidReference, "the code reference has no test cases") }
        guard count <= Self.maximumCases else {
            throw ArbiterError(.invalidReference, "at most \(Self.maximumCases) test cases, got \(count)")
        }
    }

    private static func form(of fields: JSONFields) throws(ArbiterError) -> Form {
        let object = fields.object
        let present = ["tests", "test", "calls"].filter { object[$0] != nil }
        if present.isEmpty, object["inputs"] != nil, object["outputs"] != nil { return try apps(fields) }
        guard present.count == 1 else {
            throw ArbiterError(
                .invalidReference,
                present.isEmpty
                    ? "the code reference needs 'tests' (stdin/stdout), 'test' (a script), 'calls' or 'inputs'/'outputs'"
                    : "the code reference has \(present.joined(separator: " and ")): give one form")
        }
        switch present[0] {
        case "tests": return .standardIO(try standardIO(fields))
        case "test": return try script(fields)
        default: return try calls(fields)
        }
    }

    /// The error for an element of an array (`'tests[2]' must be …, got …`), worded as ``JSONFields`` words a field.
    private static func elementError(_ path: String, _ value: JSONValue, mustBe what: String) -> ArbiterError {
        JSONFields([path: value], code: .invalidReference).error(path, mustBe: what)
    }

    /// An array field that must be there.
    private static func requiredArray(_ key: String, in fields: JSONFields, what: String) throws(ArbiterError)
        -> [JSONValue]
    {
        guard let array = try fields.array(key, what: what) else { throw fields.error(key, mustBe: what) }
        return array
    }

    /// APPS/TACO's `input_output`: `{"inputs": [...], "outputs": [...]}` as stdin/stdout strings, or with `fn_name` as
    /// calls (each input an argument list; an output wrapped in a one-element list, as APPS stores them, matches its
    /// element too).
    private static func apps(_ fields: JSONFields) throws(ArbiterError) -> Form {
        let inputs = try requiredArray("inputs", in: fields, what: "an array")
        let outputs = try requiredArray("outputs", in: fields, what: "an array")
        guard inputs.count == outputs.count else {
            throw ArbiterError(
                .invalidReference,
                "'inputs' and 'outputs' must have the same length, got \(inputs.count) and \(outputs.count)")
        }
        if let function = try fields.string("fn_name"), !function.isEmpty {
            var cases: [(arguments: [JSONValue], expected: JSONValue)] = []
            for (index, input) in inputs.enumerated() {
                guard let arguments = input.arrayValue else {
                    throw elementError("inputs[\(index)]", input, mustBe: "an array of arguments")
                }
                cases.append((arguments, outputs[index]))
            }
            return .calls(function: function, cases: cases, unwrapSingle: true)
        }
        var cases: [(stdin: String, stdout: String)] = []
        for (index, pair) in zip(inputs, outputs).enumerated() {
            guard let stdin = Self.text(pair.0) else {
                throw elementError("inputs[\(index)]", pair.0, mustBe: "a string or an array of strings (lines)")
            }
            guard let stdout = Self.text(pair.1) else {
                throw elementError("outputs[\(index)]", pair.1, mustBe: "a string or an array of strings (lines)")
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

    private static func standardIO(_ fields: JSONFields) throws(ArbiterError) -> [(stdin: String, stdout: String)] {
        let what = "an array of {\"stdin\": string, \"stdout\": string}"
        var cases: [(stdin: String, stdout: String)] = []
        for (index, item) in try requiredArray("tests", in: fields, what: what).enumerated() {
            guard let object = item.objectValue else {
                throw elementError("tests[\(index)]", item, mustBe: "an object {\"stdin\": string, \"stdout\": string}")
            }
            let test = JSONFields(object, context: "tests[\(index)]: ", code: .invalidReference)
            let stdin = try test.string("stdin") ?? ""
            cases.append((stdin, try test.requiredString("stdout", nonEmpty: false)))
        }
        return cases
    }

    private static func script(_ fields: JSONFields) throws(ArbiterError) -> Form {
        let what = "a string or an array of strings"
        guard let tests = try fields.stringOrStrings("test", what: what) else { throw fields.error("test", mustBe: what) }
        return .script(tests: tests, entryPoint: try fields.string("entry_point"))
    }

    private static func calls(_ fields: JSONFields) throws(ArbiterError) -> Form {
        let what = "an object {\"function\": name, \"cases\": [{\"args\": [...], \"expected\": value}]}"
        guard let object = fields.object["calls"]?.objectValue else { throw fields.error("calls", mustBe: what) }
        let calls = JSONFields(object, context: "'calls': ", code: .invalidReference)
        let function = try calls.requiredString("function")
        var cases: [(arguments: [JSONValue], expected: JSONValue)] = []
        for (index, item) in try requiredArray("cases", in: calls, what: "an array").enumerated() {
            guard let object = item.objectValue else {
                throw elementError("calls.cases[\(index)]", item, mustBe: "an object {\"args\": [...], \"expected\": value}")
            }
            let call = JSONFields(object, context: "calls.cases[\(index)]: ", code: .invalidReference)
            let arguments = try requiredArray("args", in: call, what: "an array of arguments")
            // `null` is a value a function can return, so only a missing 'expected' is an error.
            guard let expected = object["expected"] else { throw call.error("expected", mustBe: "a JSON value") }
            cases.append((arguments, expected))
        }
        return .calls(function: function, cases: cases, unwrapSingle: false)
    }
}

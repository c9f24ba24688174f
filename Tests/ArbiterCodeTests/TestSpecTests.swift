// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

@testable import ArbiterCode
import ArbiterCore
import Testing

/// The error a reference (JSON text) gives, or `nil` when it is read.
private func rejection(_ text: String) throws -> ArbiterError? {
    let reference = try JSONParser.parse(text)
    do {
        _ = try TestSpec(reference: reference)
        return nil
    } catch {
        return error
    }
}

/// No root needed: only the reading of references, no run.
@Suite("Code references")
struct TestSpecTests {
    @Test("each bad field is invalid_reference with one uniform message naming the field", arguments: [
        (#"{"tests": [{"stdout": "1"}], "language": 3}"#, "'language' must be a string, got number"),
        (#"{"test": "assert f() == 1", "setup": ["x"]}"#, "'setup' must be a string, got array"),
        (#"{"tests": "1 2"}"#, #"'tests' must be an array of {"stdin": string, "stdout": string}, got string"#),
        (#"{"tests": null}"#, #"'tests' must be an array of {"stdin": string, "stdout": string}, got null"#),
        (#"{"tests": [7]}"#, #"'tests[0]' must be an object {"stdin": string, "stdout": string}, got number"#),
        (#"{"tests": [{"stdin": "1"}]}"#, "tests[0]: 'stdout' must be a string, it is missing"),
        (#"{"tests": [{"stdin": 1, "stdout": "1"}]}"#, "tests[0]: 'stdin' must be a string, got number"),
        (#"{"test": 1}"#, "'test' must be a string or an array of strings, got number"),
        (#"{"test": ["assert True", 2]}"#, "'test' must be a string or an array of strings, got array"),
        (#"{"test": "assert f()", "entry_point": false}"#, "'entry_point' must be a string, got boolean"),
        (
            #"{"calls": []}"#,
            #"'calls' must be an object {"function": name, "cases": [{"args": [...], "expected": value}]}, got array"#
        ),
        (#"{"calls": {"function": "", "cases": []}}"#, "'calls': 'function' must be a non-empty string, got string"),
        (#"{"calls": {"function": "f"}}"#, "'calls': 'cases' must be an array, it is missing"),
        (#"{"calls": {"function": "f", "cases": ["x"]}}"#, #"'calls.cases[0]' must be an object {"args": [...], "expected": value}, got string"#),
        (#"{"calls": {"function": "f", "cases": [{"args": 1, "expected": 1}]}}"#, "calls.cases[0]: 'args' must be an array of arguments, got number"),
        (#"{"calls": {"function": "f", "cases": [{"args": []}]}}"#, "calls.cases[0]: 'expected' must be a JSON value, it is missing"),
        (#"{"inputs": "1", "outputs": ["1"]}"#, "'inputs' must be an array, got string"),
        (#"{"inputs": ["1"], "outputs": {}}"#, "'outputs' must be an array, got object"),
        (#"{"inputs": ["1"], "outputs": []}"#, "'inputs' and 'outputs' must have the same length, got 1 and 0"),
        (#"{"inputs": ["1"], "outputs": ["1"], "fn_name": 3}"#, "'fn_name' must be a string, got number"),
        (#"{"inputs": ["1"], "outputs": ["1"], "fn_name": "f"}"#, "'inputs[0]' must be an array of arguments, got string"),
        (#"{"inputs": [1], "outputs": ["1"]}"#, "'inputs[0]' must be a string or an array of strings (lines), got number"),
        (#"{"inputs": ["1"], "outputs": [[2]]}"#, "'outputs[0]' must be a string or an array of strings (lines), got array"),
    ])
    func badField(reference: String, message: String) throws {
        let error = try rejection(reference)
        #expect(error?.code == .invalidReference)
        #expect(error?.message == message)
    }

    @Test("control: a valid reference of each form is read, with its cases, language, setup and entry point")
    func valid() throws {
        let io = try TestSpec(reference: JSONParser.parse(
            #"{"tests": [{"stdin": "1", "stdout": "2"}, {"stdout": ""}], "language": "python", "setup": null}"#))
        #expect(io.count == 2 && io.language == "python" && io.setup == nil)
        let script = try TestSpec(reference: JSONParser.parse(
            #"{"test": ["assert f() == 1"], "entry_point": "f", "setup": "def g(): pass"}"#))
        guard case .script(let tests, let entryPoint) = script.form else { Issue.record("not a script"); return }
        #expect(tests == ["assert f() == 1"] && entryPoint == "f" && script.setup == "def g(): pass")
        let calls = try TestSpec(reference: JSONParser.parse(
            #"{"calls": {"function": "f", "cases": [{"args": [1], "expected": null}]}}"#))
        guard case .calls(let function, let cases, false) = calls.form else { Issue.record("not calls"); return }
        #expect(function == "f" && cases.count == 1 && cases[0].expected == .null)
        let apps = try TestSpec(reference: JSONParser.parse(#"{"inputs": [[1]], "outputs": [[2]], "fn_name": "f"}"#))
        guard case .calls(_, _, true) = apps.form else { Issue.record("APPS calls not read"); return }
        #expect(try rejection(#"{"inputs": ["1", ["2", "3"]], "outputs": ["1", "2"]}"#) == nil)
    }
}

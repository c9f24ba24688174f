// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCode
import ArbiterCore
import Foundation
import Testing

@Suite(
    "code: test forms", .timeLimit(.minutes(3)),
    .enabled(if: isolatedTestsRun, "needs namespaces (root or unprivileged user namespaces)"))
struct FormTests {
    let sum: JSONValue = ["tests": [["stdin": "1 2\n", "stdout": "3\n"], ["stdin": "40 2\n", "stdout": "42\n"]]]

    @Test("stdin/stdout in Python: right, partly right, all or nothing")
    func pythonStandardIO() async throws {
        let right = try await judge(fenced("a, b = map(int, input().split())\nprint(a + b)"), sum)
        #expect(right.passed && right.score == 1 && right.reason == "passed")
        let partly = try await judge(fenced("a, b = map(int, input().split())\nprint(3)"), sum)
        #expect(!partly.passed && partly.score == 0.5 && partly.reason == "wrong_answer")
        #expect(statuses(partly) == ["passed", "wrong_answer"])
        let strict = try await judge(
            fenced("a, b = map(int, input().split())\nprint(3)"), sum, ["all_or_nothing": true])
        #expect(strict.score == 0)
    }

    @Test("Python without `site` still has exit(), quit() and __main__")
    func pythonStartup() async throws {
        let program =
            "import sys\nif __name__ == '__main__':\n    print(int(input()) * 2)\n    sys.stdout.flush()\n    exit(0)\nprint('unreachable')"
        let reference: JSONValue = ["tests": [["stdin": "21\n", "stdout": "42\n"]]]
        #expect(try await judge(fenced(program), reference).passed)
        #expect(try await !judge(fenced("print(42)\nquit(3)"), reference).passed)
    }

    @Test("stdin/stdout in C++, compiled once")
    func cppStandardIO() async throws {
        let program =
            "#include <cstdio>\nint main() { long long a, b; scanf(\"%lld %lld\", &a, &b); printf(\"%lld\\n\", a + b); }"
        let verdict = try await judge(fenced(program, "cpp"), sum)
        #expect(verdict.passed, "\(verdict.details)")
        #expect(verdict.details["language"] == "cpp")
        #expect(verdict.details["compile"]?.objectValue?["status"] == "ok")
    }

    @Test("stdin/stdout in C and bash")
    func cAndBash() async throws {
        let c =
            "#include <stdio.h>\nint main(void) { int a, b; scanf(\"%d %d\", &a, &b); printf(\"%d\\n\", a + b); return 0; }"
        #expect(try await judge(fenced(c, "c"), sum).passed)
        let bash = "read a b\necho $((a + b))"
        #expect(try await judge(fenced(bash, "bash"), sum).passed)
    }

    @Test("a compile error fails every case with the compiler's message")
    func compileError() async throws {
        let verdict = try await judge(fenced("int main() { return x; }", "cpp"), sum)
        #expect(!verdict.passed && verdict.reason == "compile_error")
        #expect(statuses(verdict) == ["compile_error", "compile_error"])
        let stderr = verdict.details["cases"]?.arrayValue?.first?.objectValue?["stderr"]?.stringValue ?? ""
        #expect(stderr.contains("x"))
    }

    @Test("float tolerance end to end: decimals close, integers exact, 0 is exact")
    func floatTolerance() async throws {
        let reference: JSONValue = ["tests": [["stdin": "", "stdout": "0.333333333 12345678901234567\n"]]]
        let close = fenced("print('0.3333333', 12345678901234567)")
        #expect(try await judge(close, reference).passed)
        #expect(try await !judge(close, reference, ["float_tolerance": 0]).passed)
        #expect(try await !judge(fenced("print('0.3333333', 12345678901234568)"), reference).passed)
    }

    @Test("a HumanEval-style check(candidate) and an MBPP-style list of asserts")
    func scripts() async throws {
        let program = fenced("def add(a, b):\n    return a + b")
        let check: JSONValue = [
            "test": "def check(candidate):\n    assert candidate(2, 3) == 5\n", "entry_point": "add",
        ]
        #expect(try await judge(program, check).passed)
        let asserts: JSONValue = ["test": ["assert add(1, 1) == 2", "assert add(2, 2) == 5", "assert add(0, 0) == 0"]]
        let verdict = try await judge(program, asserts)
        #expect(statuses(verdict) == ["passed", "wrong_answer", "passed"])
        #expect(abs(verdict.score - 2.0 / 3.0) < 1e-9)
        let wrong = try await judge(fenced("def add(a, b):\n    return a - b"), check)
        #expect(!wrong.passed && wrong.reason == "wrong_answer")
    }

    @Test("C++ and C `test` programs (MultiPL-E style): the test's main runs wrapped; a failed assert is wrong")
    func compiledScripts() async throws {
        let program = fenced("#include <vector>\nlong add(long a, long b) { return a + b; }", "cpp")
        let good = "#include <cassert>\nint main() {\n    auto candidate = add;\n    assert(candidate(2, 3) == 5);\n}"
        let bad = "#include <cassert>\nint main() {\n    assert(add(2, 2) == 5);\n}"
        let passing = try await judge(program, ["test": .string(good)])
        #expect(passing.passed, "\(passing.details)")
        let failing = try await judge(program, ["test": .string(bad)])
        #expect(statuses(failing) == ["wrong_answer"], "\(failing.details)")
        let exits = fenced("#include <cstdlib>\nlong add(long a, long b) { std::exit(0); }", "cpp")
        let early = try await judge(exits, ["test": .string(good)])
        #expect(!early.passed && early.reason == "runtime_error", "\(early.details)")
        let c = fenced("int twice(int x) { return 2 * x; }", "c")
        let cTest = "#include <assert.h>\nint main(void) {\n    assert(twice(21) == 42);\n    return 0;\n}"
        #expect(try await judge(c, ["test": .string(cTest)]).passed)
        let markers = fenced("long add(long a, long b) { return a + b; } // @ARBITER_TEST@ @ARBITER_PROGRAM@", "cpp")
        #expect(try await judge(markers, ["test": .string(good)]).passed)
        // Two test programs: an error when the reference names C++; without a language the response's fence chose
        // C++, and a fence whose language cannot run the reference is passed over (Python runs it: a verdict).
        await #expect(throws: ArbiterError.self) {
            try await judge(program, ["language": "cpp", "test": [.string(good), .string(good)]])
        }
        let chosen = try await judge(program, ["test": [.string(good), .string(good)]])
        #expect(chosen.score == 0 && chosen.details["language"] == "python", "\(chosen.details)")
    }

    @Test("call-based tests in Python: deep equality, float tolerance, exceptions")
    func pythonCalls() async throws {
        let reference: JSONValue = [
            "calls": [
                "function": "stats",
                "cases": [
                    ["args": [[1, 2, 3]], "expected": ["mean": 2.0, "items": [1, 2, 3], "odd": true]],
                    ["args": [[1, 2]], "expected": ["mean": 1.5, "items": [1, 2], "odd": false]],
                    ["args": [[]], "expected": ["mean": 0, "items": [], "odd": false]],
                ],
            ]
        ]
        let program =
            "def stats(xs):\n    return {'mean': sum(xs) / len(xs), 'items': tuple(xs), 'odd': len(xs) % 2 == 1}"
        let verdict = try await judge(fenced(program), reference)
        #expect(statuses(verdict) == ["passed", "passed", "runtime_error"], "\(verdict.details)")
        let third = fenced("def f(x):\n    return x / 3")
        let floats: JSONValue = ["calls": ["function": "f", "cases": [["args": [1], "expected": 0.3333333333]]]]
        #expect(try await judge(third, floats).passed)
        #expect(try await !judge(third, floats, ["float_tolerance": 0]).passed)
        let integers: JSONValue = ["calls": ["function": "f", "cases": [["args": [9], "expected": 3]]]]
        #expect(try await judge(third, integers).passed)
        let big: JSONValue = ["calls": ["function": "g", "cases": [["args": [], "expected": 9_007_199_254_740_993]]]]
        #expect(try await judge(fenced("def g():\n    return 9007199254740993"), big).passed)
        #expect(try await !judge(fenced("def g():\n    return 9007199254740992"), big).passed)
        #expect(try await !judge(fenced("def g():\n    return 9007199254740993.0"), big).passed)
    }

    @Test("JavaScript: calls and an assert script")
    func javascript() async throws {
        let program = fenced("function add(a, b) { return a + b; }", "javascript")
        let calls: JSONValue = ["calls": ["function": "add", "cases": [["args": [1, 2], "expected": 3]]]]
        #expect(try await judge(program, calls).passed)
        let script: JSONValue = [
            "test":
                "const assert = require('node:assert');\nassert.deepEqual(add(2, 2), 4);\nassert.deepEqual(add(1, 2), 4);"
        ]
        let verdict = try await judge(program, script)
        #expect(verdict.reason == "wrong_answer", "\(verdict.details)")
    }

    @Test("no code block is no_code; the only block runs whatever its tag; 'whole' takes an unfenced response")
    func extraction() async throws {
        let none = try await judge("The answer is 3.", sum)
        #expect(none.reason == "no_code" && none.score == 0)
        let untagged = "```\na, b = map(int, input().split())\nprint(a + b)\n```"
        #expect(try await judge(untagged, sum).passed)
        let bare = "a, b = map(int, input().split())\nprint(a + b)\n"
        #expect(try await judge(bare, sum, ["extract": "whole"]).passed)
        let two = fenced("print('first')") + fenced("a, b = map(int, input().split())\nprint(a + b)")
        #expect(try await judge(two, sum).passed)
        #expect(try await !judge(two, sum, ["extract": "first"]).passed)
    }

    @Test("runs proceed in parallel: blocking supervision stays off Swift's cooperative pool")
    func parallelRuns() async throws {
        // 8 runs that each report when they start and end around a 20 s sleep (long: on a loaded machine starting 8
        // interpreters takes seconds). In parallel every run starts before
        // any ends; if runs blocked the cooperative pool (2 threads on a 2-core machine) at most 2 would overlap.
        let program = "import time\ndef span():\n    start = time.time()\n    time.sleep(20)\n    return [start, time.time()]"
        let reference: JSONValue = ["calls": ["function": "span", "cases": [["args": [], "expected": [0, 0]]]]]
        let spans = try await withThrowingTaskGroup(of: [Double].self) { group in
            for _ in 0..<8 {
                group.addTask {
                    let verdict = try await judge(fenced(program), reference, ["time_limit_s": 60])
                    let message = verdict.details["cases"]?.arrayValue?.first?.objectValue?["message"]?.stringValue ?? ""
                    // "got [start, end], expected [0, 0]"
                    let got = message.dropFirst(5).prefix { $0 != "]" }
                    return got.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
                }
            }
            return try await group.reduce(into: [[Double]]()) { $0.append($1) }
        }
        #expect(spans.count == 8 && spans.allSatisfy { $0.count == 2 }, "\(spans)")
        let latestStart = spans.compactMap(\.first).max() ?? 0
        let earliestEnd = spans.compactMap(\.last).min() ?? 0
        #expect(latestStart < earliestEnd, "runs did not overlap: \(spans)")
    }

    @Test("stop_on_failure skips the cases after the first failure")
    func stopOnFailure() async throws {
        let reference: JSONValue = [
            "tests": [["stdin": "1", "stdout": "2"], ["stdin": "2", "stdout": "2"], ["stdin": "3", "stdout": "3"]]
        ]
        let program = fenced("print(input())")
        let verdict = try await judge(program, reference, ["stop_on_failure": true])
        #expect(statuses(verdict) == ["wrong_answer", "wrong_answer", "wrong_answer"])
        let message = verdict.details["cases"]?.arrayValue?.last?.objectValue?["message"]?.stringValue ?? ""
        #expect(message.contains("not run"))
        let all = try await judge(program, reference)
        #expect(statuses(all) == ["wrong_answer", "passed", "passed"])
    }

    @Test("all_or_nothing stops a list of test scripts at the first failure: the rest are not run, never passed")
    func stopTestScripts() async throws {
        // The second script would spin until the CPU limit; the third would pass.
        let program = fenced("def f(x):\n    if x == 2:\n        while True:\n            pass\n    return x")
        let reference: JSONValue = ["test": ["assert f(1) == 5", "assert f(2) == 2", "assert f(3) == 3"]]
        // A generous wall-clock backstop: the CPU limit is what stops the spinning script, and a loaded machine must
        // not turn a quick run into a wall-clock kill.
        let options: JSONObject = ["all_or_nothing": true, "time_limit_s": 1, "wall_time_limit_s": 120]
        let stopped = try await judge(program, reference, options)
        #expect(statuses(stopped) == ["wrong_answer", "wrong_answer", "wrong_answer"], "\(stopped.details)")
        let message = stopped.details["cases"]?.arrayValue?.last?.objectValue?["message"]?.stringValue ?? ""
        #expect(message.contains("not run: an earlier case failed"), "\(message)")
        #expect(stopped.details["run"]?.objectValue?["reached_end"] == true)
        // Negative control: without stopping, the second script runs into the CPU limit.
        let all = try await judge(program, reference, ["time_limit_s": 1, "wall_time_limit_s": 120])
        #expect(statuses(all).prefix(2) == ["wrong_answer", "time_limit"], "\(all.details)")
    }

    /// A function that returns its argument, except for 2, where it spins until the CPU limit.
    static let spinsAtTwo = [
        "python": fenced("def f(x):\n    if x == 2:\n        while True:\n            pass\n    return x"),
        "javascript": fenced("function f(x) { if (x === 2) { for (;;) {} } return x; }", "javascript"),
    ]

    @Test(
        "all_or_nothing stops calls and JavaScript test scripts at the first failure: the rest are not run, never passed",
        arguments: [
            ("python", "calls"), ("javascript", "calls"), ("javascript", "test"),
        ])
    func stopCallsAndScripts(language: String, form: String) async throws {
        // The second case would spin until the CPU limit; the third would pass.
        let program = try #require(Self.spinsAtTwo[language])
        let reference: JSONValue =
            form == "calls"
            ? ["calls": ["function": "f", "cases": [["args": [1], "expected": 5], ["args": [2], "expected": 2],
                                                    ["args": [3], "expected": 3]]]]
            : ["test": [
                "const assert = require('node:assert');\nassert.strictEqual(f(1), 5);",
                "const assert = require('node:assert');\nassert.strictEqual(f(2), 2);",
                "const assert = require('node:assert');\nassert.strictEqual(f(3), 3);",
            ]]
        let options: JSONObject = ["all_or_nothing": true, "time_limit_s": 1, "wall_time_limit_s": 120]
        let stopped = try await judge(program, reference, options)
        #expect(statuses(stopped) == ["wrong_answer", "wrong_answer", "wrong_answer"], "\(stopped.details)")
        let message = stopped.details["cases"]?.arrayValue?.last?.objectValue?["message"]?.stringValue ?? ""
        #expect(message.contains("not run: an earlier case failed"), "\(message)")
        #expect(stopped.details["run"]?.objectValue?["reached_end"] == true)
        // Negative control: without stopping, the second case runs into the CPU limit (as an ordinary user, without a
        // cpu cgroup, JavaScript's program process dies of its own RLIMIT_CPU, which the runner sees as its end).
        let all = try await judge(program, reference, ["time_limit_s": 1, "wall_time_limit_s": 120])
        let expected = geteuid() == 0 || language == "python" ? ["time_limit"] : ["time_limit", "runtime_error"]
        #expect(statuses(all).first == "wrong_answer" && expected.contains(statuses(all)[1]), "\(all.details)")
        let second = all.details["cases"]?.arrayValue?[1].objectValue?["message"]?.stringValue ?? ""
        #expect(!second.contains("an earlier case failed"), "\(second)")
    }

    @Test(
        "all_or_nothing calls do not stop at a value the daemon accepts (a float within the tolerance, 2.0 for 2, APPS's [x])",
        arguments: ["python", "javascript"])
    func stopOnlyWhenSurelyWrong(language: String) async throws {
        let program =
            language == "python"
            ? fenced("def f(x):\n    return [0.1 + 0.2, 2.0, 3][x]")
            : fenced("function f(x) { return [0.1 + 0.2, 2.0, 3][x]; }", "javascript")
        let calls: JSONValue = [
            "calls": ["function": "f", "cases": [["args": [0], "expected": 0.3], ["args": [1], "expected": 2],
                                                 ["args": [2], "expected": 3]]]
        ]
        let verdict = try await judge(program, calls, ["all_or_nothing": true])
        #expect(verdict.passed, "\(verdict.details)")
        let apps: JSONValue = ["fn_name": "f", "inputs": [[2], [1]], "outputs": [[3], [2]]]
        let wrapped = try await judge(program, apps, ["all_or_nothing": true])
        #expect(wrapped.passed, "\(wrapped.details)")
        // Control: a value that is wrong at the first case fails the whole sample.
        let wrong: JSONValue = [
            "calls": ["function": "f", "cases": [["args": [0], "expected": 0.4], ["args": [2], "expected": 3]]]
        ]
        let failed = try await judge(program, wrong, ["all_or_nothing": true])
        #expect(statuses(failed) == ["wrong_answer", "wrong_answer"], "\(failed.details)")
    }

    @Test("APPS/TACO references: inputs/outputs as stdin/stdout, and with fn_name as calls")
    func apps() async throws {
        let standard: JSONValue = ["inputs": ["1 2\n", "3 4\n"], "outputs": ["3\n", ["7"]]]
        #expect(try await judge(fenced("a, b = map(int, input().split())\nprint(a + b)"), standard).passed)
        let calls: JSONValue = ["fn_name": "add", "inputs": [[1, 2], [3, 4]], "outputs": [[3], 7]]
        let verdict = try await judge(fenced("def add(a, b):\n    return a + b"), calls)
        #expect(verdict.passed, "\(verdict.details)")
        #expect(
            try await !judge(
                fenced("def add(a, b):\n    return [a + b]"), ["fn_name": "add", "inputs": [[1, 2]], "outputs": [3]]
            ).passed)
    }

    @Test("bad references are errors, not verdicts")
    func badReferences() async throws {
        let program = fenced("print(1)")
        for reference: JSONValue in [
            "3", ["tests": []], ["tests": [["stdin": "1"]]], ["test": 3], ["calls": ["function": "f"]],
            ["tests": [["stdin": "", "stdout": ""]], "test": "assert True"],
            ["language": "cobol", "tests": [["stdin": "", "stdout": "1"]]],
        ] {
            await #expect(throws: ArbiterError.self) { try await judge(program, reference) }
        }
        await #expect(throws: ArbiterError.self) {
            try await judge(fenced("echo 1", "bash"), ["language": "bash", "test": "true"])
        }
        // Without a language the fence's bash cannot run a `test` script and is passed over: a verdict.
        let chosen = try await judge(fenced("echo 1", "bash"), ["test": "true"])
        #expect(chosen.score == 0 && chosen.details["language"] == "python", "\(chosen.details)")
    }

    @Test("a reference given as a JSON string is read as its object")
    func stringReference() async throws {
        let verdict = try await judge(
            fenced("print(int(input()) * 2)"), #"{"tests": [{"stdin": "21", "stdout": "42"}]}"#)
        #expect(verdict.passed)
    }
}

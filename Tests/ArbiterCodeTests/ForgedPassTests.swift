// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCode
import ArbiterCore
import Foundation
import Testing

/// One attempt to forge a pass: a wrong program (`add` returns 0) with a trick, which must fail; the negative control
/// is the same wrong program without the trick, which must fail for the expected reason (so the test would notice a
/// trick that turned the verdict).
struct ForgeryCase: Sendable, CustomTestStringConvertible {
    var language: String
    var form: String
    var trick: String
    /// Code of the trick, placed before or after the wrong program as `after` says.
    var code: String
    var after = false
    /// The reason the plain wrong program fails with.
    var plainReason = "wrong_answer"

    var testDescription: String { "\(language) \(form): \(trick)" }

    static let wrong: [String: String] = [
        "python": "def add(a, b):\n    return 0\n",
        "javascript": "function add(a, b) { return 0; }\n",
        "c": "int add(int a, int b) { return 0; }\n",
        "cpp": "int add(int a, int b) { return 0; }\n",
    ]

    static let references: [String: JSONValue] = [
        "python test": ["test": "def check(candidate):\n    assert candidate(1, 2) == 3\n", "entry_point": "add"],
        "python asserts": ["test": ["assert add(1, 2) == 3", "assert add(2, 2) == 4"]],
        "python calls": ["calls": ["function": "add", "cases": [["args": [1, 2], "expected": 3]]]],
        "python stdio": ["tests": [["stdin": "1 2\n", "stdout": "3\n"]]],
        "javascript test": [
            "test": "function check(candidate) {\n  const assert = require('assert');\n  assert.equal(candidate(1, 2), 3);\n}\n",
            "entry_point": "add",
        ],
        "javascript asserts": ["test": ["const assert = require('node:assert');\nassert.strictEqual(add(1, 2), 3);"]],
        "javascript calls": ["calls": ["function": "add", "cases": [["args": [1, 2], "expected": 3]]]],
        "c test": ["language": "c", "test": "#include <assert.h>\nint main(void) {\n    assert(add(1, 2) == 3);\n    return 0;\n}\n"],
        "cpp test": ["language": "cpp", "test": "#include <cassert>\nint main() {\n    auto candidate = add;\n    assert(candidate(1, 2) == 3);\n}\n"],
    ]

    var response: String { fenced(code + "\n" + Self.wrong[language]!, language) }
    var forged: String {
        fenced(after ? Self.wrong[language]! + "\n" + code : code + "\n" + Self.wrong[language]!, language)
    }
    var plain: String { fenced(Self.wrong[language]!, language) }
    var reference: JSONValue {
        var reference = Self.references["\(language) \(form)"]!
        if case .object(var object) = reference, object["language"] == nil {
            object["language"] = .string(language)
            reference = .object(object)
        }
        return reference
    }

    static let all: [ForgeryCase] = python + javascript + compiled

    static let python: [ForgeryCase] = ["test", "asserts", "calls"].flatMap { form in
        [
            ForgeryCase(
                language: "python", form: form, trick: "fake reports on stdout and fd 4",
                code: "import os\nprint('passed')\ntry:\n    os.write(4, b'x [0, \"passed\", 1]\\nx [\"end\"]\\n')\nexcept OSError:\n    pass",
                after: true),
            ForgeryCase(language: "python", form: form, trick: "early exit", code: "import os\nos._exit(0)", after: true,
                        plainReason: "wrong_answer"),
            ForgeryCase(
                language: "python", form: form, trick: "patched assert and exit",
                code: "import builtins, sys\nbuiltins.AssertionError = type('AssertionError', (Exception,), {})\nsys.exit = lambda *a: None\nbuiltins.exit = sys.exit",
                after: true),
            ForgeryCase(
                language: "python", form: form, trick: "an always-equal result",
                code: "class Equal(int):\n    def __eq__(self, other):\n        return True\n    __hash__ = int.__hash__\ndef add(a, b):\n    return Equal(0)",
                after: true),
            ForgeryCase(language: "python", form: form, trick: "closed stdout", code: "import os\nos.close(1)", after: true),
        ]
    } + [
        ForgeryCase(language: "python", form: "stdio", trick: "closed stdout", code: "import os\nos.close(1)\nprint(0)"),
        ForgeryCase(language: "python", form: "stdio", trick: "early exit", code: "import os\nos._exit(0)"),
    ]

    static let javascript: [ForgeryCase] = ["test", "asserts", "calls"].flatMap { form in
        [
            ForgeryCase(
                language: "javascript", form: form, trick: "fake reports on stdout and fd 4",
                code: "console.log('passed');\ntry { require('fs').writeSync(4, 'x [0, \"passed\", 1]\\nx [\"end\"]\\n'); } catch (e) {}",
                after: true),
            ForgeryCase(language: "javascript", form: form, trick: "early exit", code: "process.exit(0);", after: true),
            ForgeryCase(
                language: "javascript", form: form, trick: "patched assert module",
                code: "const a = require('assert');\nfor (const k of Object.keys(a)) a[k] = () => {};\nrequire('assert/strict').strictEqual = () => {};",
                after: true),
            ForgeryCase(
                language: "javascript", form: form, trick: "vm.Script patched",
                code: "const vm = require('vm');\nvm.Script.prototype.runInThisContext = function () { return () => undefined; };\nvm.runInThisContext = () => undefined;",
                after: true),
            ForgeryCase(
                language: "javascript", form: form, trick: "require replaced by a getter handing out a no-op assert",
                code: "const noop = Object.assign(() => {}, {equal() {}, strictEqual() {}, deepStrictEqual() {}, deepEqual() {}, ok() {}});\nObject.defineProperty(globalThis, 'require', {get() { return () => noop; }, configurable: false});",
                after: true),
            ForgeryCase(
                language: "javascript", form: form, trick: "fn.caller reads the test's expected value",
                code: "function add(a, b) {\n  try { const m = /add\\(1, 2\\),\\s*(\\d+)/.exec(String(add.caller)); if (m) return Number(m[1]); } catch (e) {}\n  return 0;\n}",
                after: true),
            ForgeryCase(
                language: "javascript", form: form, trick: "an always-equal result (valueOf)",
                code: "function add(a, b) { return { valueOf() { return 3; }, toString() { return '3'; } }; }", after: true),
            ForgeryCase(language: "javascript", form: form, trick: "closed stdout", code: "require('fs').closeSync(1);", after: true),
        ]
    }

    static let compiled: [ForgeryCase] = ["c", "cpp"].flatMap { language in
        [
            ForgeryCase(
                language: language, form: "test", trick: "#define main (its own main runs instead)",
                code: "int main(void) { return 0; }\n#define main never_called", after: true),
            ForgeryCase(
                language: language, form: "test", trick: "#define __assert_fail",
                code: "#include <assert.h>\n#define __assert_fail(...) ((void)0)", after: true),
            ForgeryCase(
                language: language, form: "test", trick: "#define assert and NDEBUG",
                code: "#define NDEBUG 1\n#include <assert.h>\n#undef assert\n#define assert(x) ((void)0)", after: true),
            ForgeryCase(
                language: language, form: "test", trick: "__assert_fail defined as a function",
                code: "#ifdef __cplusplus\nextern \"C\"\n#endif\nvoid __assert_fail(const char *a, const char *f, unsigned l, const char *fn) {}",
                after: true),
            ForgeryCase(
                language: language, form: "test", trick: "a constructor reads fd 3 and reports a pass",
                code: "#include <string.h>\n#include <unistd.h>\n#include <stdio.h>\n__attribute__((constructor)) static void steal(void) {\n    char b[200]; long n = read(3, b, 199);\n    if (n > 0) { b[n] = 0; char *e = strchr(b, '\\n'); if (e) *e = 0; dprintf(4, \"%s [0, \\\"passed\\\", 1]\\n%s [\\\"end\\\"]\\n\", b, b); _exit(0); }\n}",
                after: true),
            ForgeryCase(
                language: language, form: "test", trick: "exit(0) from a constructor",
                code: "#include <stdlib.h>\n__attribute__((constructor)) static void leave(void) { exit(0); }", after: true),
            ForgeryCase(
                language: language, form: "test", trick: "a SIGABRT handler that exits 0",
                code: "#include <signal.h>\n#include <unistd.h>\nstatic void quiet(int s) { _exit(0); }\n__attribute__((constructor)) static void install(void) { signal(SIGABRT, quiet); }",
                after: true),
            ForgeryCase(
                language: language, form: "test", trick: "the program leaves a namespace or block open",
                code: language == "cpp" ? "namespace hidden {" : "struct open {", after: true),
        ]
    } + [
        ForgeryCase(
            language: "cpp", form: "test", trick: "an always-equal result type",
            code: "struct Equal { template <class T> bool operator==(const T &) const { return true; } };\nEqual add(int a, int b) { return Equal{}; }",
            after: true),
        ForgeryCase(
            language: "cpp", form: "test", trick: "a conversion to bool that is always true",
            code: "struct Yes { operator bool() const { return true; } bool operator==(int) const; };\n", after: false),
    ]
}

@Suite(
    "code: forged passes", .timeLimit(.minutes(3)),
    .enabled(if: isolatedTestsRun, "needs namespaces (root or unprivileged user namespaces)"))
struct ForgedPassTests {
    @Test(arguments: ForgeryCase.all)
    func forgery(_ attack: ForgeryCase) async throws {
        let forged = try await judge(attack.forged, attack.reference, ["time_limit_s": 5])
        #expect(!forged.passed && forged.score == 0, "\(forged.details)")
        let plain = try await judge(attack.plain, attack.reference, ["time_limit_s": 5])
        #expect(!plain.passed && plain.reason == attack.plainReason, "\(plain.details)")
    }

    @Test("the correct program passes every reference the forgeries were tried on")
    func correctPasses() async throws {
        let right: [String: String] = [
            "python": "def add(a, b):\n    return a + b\n", "javascript": "function add(a, b) { return a + b; }\n",
            "c": "int add(int a, int b) { return a + b; }\n", "cpp": "int add(int a, int b) { return a + b; }\n",
        ]
        for key in ForgeryCase.references.keys.sorted() {
            let language = String(key.split(separator: " ")[0])
            var reference = ForgeryCase.references[key]!
            if case .object(var object) = reference, object["language"] == nil {
                object["language"] = .string(language)
                reference = .object(object)
            }
            let program = key.hasSuffix("stdio") ? "a, b = map(int, input().split())\nprint(a + b)\n" : right[language]!
            let verdict = try await judge(fenced(program, language), reference)
            #expect(verdict.passed, "\(key): \(verdict.details)")
        }
    }

    @Test("JavaScript: the program's process sees only itself in /proc; the runner is out of reach")
    func javascriptIsolation() async throws {
        let program = """
            const fs = require('fs');
            function visible() { return fs.readdirSync('/proc').filter((n) => /^[0-9]+$/.test(n)); }
            """
        let reference: JSONValue = [
            "language": "javascript",
            "test": "const assert = require('assert');\nassert.deepStrictEqual(visible(), ['1']);",
        ]
        let verdict = try await judge(fenced(program, "javascript"), reference)
        #expect(verdict.passed, "\(verdict.details)")
    }
}

// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation
import Testing

@testable import ArbiterCode

/// What a response can do to its own grading must end in a verdict: an error is skipped by the trainers' adapters,
/// so a wrong program that could turn its score-0 verdict into an error would escape its penalty. Each case here was
/// an error (or an answer of megabytes) before; each has a control showing the same program without the trick.
@Suite(
    "code: a response's own faults are verdicts", .timeLimit(.minutes(3)),
    .enabled(if: isolatedTestsRun, "needs namespaces (root or unprivileged user namespaces)"))
struct ProgramFaultTests {
    static let sum: JSONValue = ["language": "c", "tests": [["stdin": "1 2\n", "stdout": "3\n"]]]
    static let correctC = "#include <stdio.h>\nint main(void) { int a, b; scanf(\"%d %d\", &a, &b); printf(\"%d\\n\", a + b); return 0; }\n"
    /// One line that makes the binary's interpreter path longer than the kernel reads: execve fails (ENOEXEC).
    static let unloadable = "__asm__(\".section .interp,\\\"a\\\"\\n.fill 5000,1,0\\n.previous\\n\");\n"

    @Test("a compiled binary the kernel will not execute is runtime_error, not an internal error")
    func unexecutableBinary() async throws {
        let forged = try await judge(fenced(Self.unloadable + Self.correctC, "c"), Self.sum)
        #expect(forged.score == 0 && forged.reason == "runtime_error", "\(forged.details)")
        let message = forged.details["cases"]?.arrayValue?.first?.objectValue?["message"]?.stringValue ?? ""
        #expect(message.contains("cannot be executed"), "\(forged.details)")
        // The C test form runs its binary the same way.
        let test: JSONValue = ["language": "c", "test": "#include <assert.h>\nint main(void) { assert(add(1, 2) == 3); return 0; }\n"]
        let add = "int add(int a, int b) { return a + b; }\n"
        let forgedTest = try await judge(fenced(Self.unloadable + add, "c"), test)
        #expect(forgedTest.score == 0 && forgedTest.reason == "runtime_error", "\(forgedTest.details)")
        // Controls: without the line both programs pass.
        let plain = try await judge(fenced(Self.correctC, "c"), Self.sum)
        #expect(plain.passed, "\(plain.details)")
        let plainTest = try await judge(fenced(add, "c"), test)
        #expect(plainTest.passed, "\(plainTest.details)")
    }

    @Test("a fence tag whose language cannot run the reference is passed over, never an error")
    func fenceLanguageThatCannotRunTheReference() async throws {
        let mbpp: JSONValue = ["test": ["assert add(1, 1) == 2", "assert add(2, 2) == 4"]]
        let wrong = "```python\ndef add(a, b):\n    return a - b\n```\nRun it:\n```sh\npython3 main.py\n```\n"
        let verdict = try await judge(wrong, mbpp)
        #expect(verdict.reason == "wrong_answer" && verdict.details["language"] == "python", "\(verdict.details)")
        let right = wrong.replacingOccurrences(of: "a - b", with: "a + b")
        #expect(try await judge(right, mbpp).passed)
        // A C block against `calls` (C has no harness) and against a HumanEval `setup`: Python is taken instead.
        let calls: JSONValue = ["calls": ["function": "add", "cases": [["args": [1, 2], "expected": 3]]]]
        let cBlock = "```c\nint add(int a, int b) { return a + b; }\n```\n"
        let onCalls = try await judge(cBlock, calls)
        #expect(onCalls.score == 0 && onCalls.details["language"] == "python", "\(onCalls.details)")
        // Control: when the reference itself names the language, the reference is at fault: an error, as before.
        await #expect(throws: ArbiterError.self) {
            try await judge("```sh\necho 2\n```\n", ["language": "bash", "test": ["assert add(1, 1) == 2"]])
        }
    }

    @Test("an output line of one huge character is clipped by bytes: the answer stays small")
    func hugeCharacterOutput() async throws {
        // "3" followed by 500,000 combining accents is one character of a megabyte; twenty cases used to copy it into
        // twenty messages (a 910-byte request made a 20 MB answer).
        let program = "import sys\nsys.stdout.write('3' + '\\u0301' * 500000 + '\\n')\n"
        let cases: [JSONValue] = Array(repeating: ["stdin": "", "stdout": "4\n"], count: 20)
        let verdict = try await judge(fenced(program), ["tests": .array(cases)])
        #expect(verdict.reason == "wrong_answer", "\(verdict.details)")
        var writer = JSONWriter(capacity: 1 << 16)
        writer.write(.object(verdict.details))
        #expect(writer.bytes.count < 64 << 10, "details of \(writer.bytes.count) bytes")
        for message in verdict.details["cases"]?.arrayValue?.compactMap({ $0.objectValue?["message"]?.stringValue }) ?? [] {
            #expect(message.utf8.count <= 800, "a message of \(message.utf8.count) bytes")
        }
        // Control: a plain wrong line is still quoted whole.
        let plain = try await judge(fenced("print(3)"), ["tests": [["stdin": "", "stdout": "4\n"]]])
        #expect(plain.details["cases"]?.arrayValue?.first?.objectValue?["message"]?.stringValue == "line 1: token 1: got '3', expected '4'"
            || (plain.details["cases"]?.arrayValue?.first?.objectValue?["message"]?.stringValue ?? "").contains("'3'"))
    }

    @Test("processes: 1 leaves the program one process (init and the harness are the sandbox's), and binds it")
    func oneProcess() async throws {
        let options: JSONObject = ["processes": 1]
        #expect(try await judge(fenced(Self.correctC, "c"), Self.sum, options).passed)
        let bash: JSONValue = ["language": "bash", "tests": [["stdin": "1 2\n", "stdout": "3\n"]]]
        #expect(try await judge(fenced("read a b\necho $((a + b))", "bash"), bash, options).passed)
        let humanEval: JSONValue = ["test": "def check(c):\n    assert c(1, 2) == 3\n", "entry_point": "add"]
        let python = try await judge(fenced("def add(a, b):\n    return a + b\n"), humanEval, options)
        #expect(python.passed, "\(python.details)")
        // Control: the limit still binds — a second process of the program's own cannot be made.
        let forks = """
            #include <stdio.h>
            #include <sys/wait.h>
            #include <unistd.h>
            int main(void) {
                int a, b;
                if (scanf("%d %d", &a, &b) != 2) return 2;
                pid_t child = fork();
                if (child < 0) return 1;
                if (child == 0) _exit(0);
                waitpid(child, NULL, 0);
                printf("%d\\n", a + b);
                return 0;
            }
            """
        let bound = try await judge(fenced(forks, "c"), Self.sum, options)
        #expect(!bound.passed, "\(bound.details)")
        #expect(try await judge(fenced(forks, "c"), Self.sum, ["processes": 2]).passed)
    }

    @Test("C/C++ test form: a name that starts with 'operator' is not an operator")
    func operatorLikeNames() async throws {
        let refused = ProgramText.refusedOperator
        func refuses(_ text: String) -> Bool {
            refused.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
        }
        for name in ["int operators = 1;", "int operator_count;", "long operatorX(void);", "int my_operator = 2;"] {
            #expect(!refuses(name), "\(name)")
        }
        for definition in [
            "bool operator==(const T &) const;", "bool operator !=(int);", "auto operator<=>(const T &) const;",
            "operator bool() const;", "operator const char *() const;", "operator ::size_t() const;",
            "bool operator!() const;", "bool operator&&(T);", "bool operator||(T);",
        ] {
            #expect(refuses(definition), "\(definition)")
        }
        for allowed in ["void *operator new(size_t);", "void operator delete(void *);", "T operator+(T);"] {
            #expect(!refuses(allowed), "\(allowed)")
        }
        let test: JSONValue = ["language": "c", "test": "#include <assert.h>\nint main(void) { assert(add(1, 2) == 3); return 0; }\n"]
        let verdict = try await judge(fenced("int operators = 1;\nint add(int a, int b) { return a + b; }\n", "c"), test)
        #expect(verdict.passed, "\(verdict.details)")
    }
}

@Suite("clipped excerpts")
struct ClippedTests {
    @Test("characters and bytes both bound an excerpt; whole characters where one fits")
    func clipping() {
        #expect("short".clipped(characters: 80, bytes: 320) == "short")
        #expect(String(repeating: "a", count: 100).clipped(characters: 80, bytes: 320) == String(repeating: "a", count: 80) + "…")
        #expect(String(repeating: "é", count: 100).clipped(characters: 80, bytes: 100) == String(repeating: "é", count: 50) + "…")
        // One character of 500,001 scalars: cut between its scalars, within the byte bound.
        let huge = "3" + String(repeating: "\u{0301}", count: 500_000)
        let cut = huge.clipped(characters: 80, bytes: 320)
        #expect(cut.utf8.count <= 320 + "…".utf8.count)
        #expect(cut.unicodeScalars.first == "3" && cut.unicodeScalars.last == "…" && cut.unicodeScalars.count > 100)
        // A huge character after a small one: the small one alone.
        #expect(("a" + huge).clipped(characters: 80, bytes: 320) == "a…")
        #expect("abc".clipped(characters: 2, bytes: 320, marker: "") == "ab")
        #expect("".clipped(characters: 0, bytes: 0) == "")
    }
}

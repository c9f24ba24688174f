// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

@testable import ArbiterCode
import ArbiterCore
import Foundation
import Synchronization
import Testing

/// Python's `test` scripts are compiled by the sandbox's test compiler, outside every run, and kept by script: the
/// runner loads the code instead of compiling it. The verdicts must be the ones the runner's own compilation gives.
@Suite("code: the test compiler", .serialized, .timeLimit(.minutes(2)))
struct TestCompilerTests {
    let toolchains = repository.appendingPathComponent("verifiers/toolchains")
    let reference: JSONValue = [
        "test": "def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(0, 0) == 0\n",
        "entry_point": "add",
    ]

    func verify(_ verifier: CodeVerifier, _ program: String, _ reference: JSONValue) async throws -> Verdict {
        try await verifier.verify(Sample(response: fenced(program), reference: reference))
    }

    @Test("a script is compiled once, outside the runs, once the compiler has started; the verdicts stay the same")
    func compiledOnce() async throws {
        try #require(isolatedTestsRun, "needs namespaces")
        let verifier = try codeVerifier(toolchains: toolchains)
        let compilers = verifier.sandbox.testCompilers
        // The first request starts the compiler in the background and compiles its script itself.
        let first = try await verify(verifier, "def add(a, b):\n    return a + b", reference)
        #expect(first.passed, "\(first.details)")
        #expect(compilers.compiled.load(ordering: .relaxed) == 0)
        compilers.waitForStarts()
        let right = try await verify(verifier, "def add(a, b):\n    return a + b", reference)
        let wrong = try await verify(verifier, "def add(a, b):\n    return a * b", reference)
        // An always-equal result still meets the rewritten comparison, compiled by the compiler.
        let forged = try await verify(
            verifier, "class W(int):\n    def __eq__(self, other):\n        return True\ndef add(a, b):\n    return W(7)",
            reference)
        #expect(right.passed && !wrong.passed && !forged.passed, "\(right.details) \(wrong.details) \(forged.details)")
        #expect(statuses(wrong) == ["wrong_answer"] && statuses(forged) == ["wrong_answer"])
        guard verifier.sandbox.usesForkServers else { return }
        #expect(compilers.compiled.load(ordering: .relaxed) == 1, "one script, compiled once")
        #expect(compilers.reused.load(ordering: .relaxed) == 2, "then taken from what was kept")
        // The compiler is no run's process: as root it sits in the sandbox's base groups, never in a slot's.
        let pid = try #require(compilers.pids.first)
        let groups = try String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8)
        if verifier.sandbox.isolation.memoryCgroup != nil {
            let memory = try #require(groups.split(separator: "\n").first { $0.contains(":memory:") })
            #expect(memory.hasSuffix("/arbiter-\(getpid())"), "\(memory)")
        }
    }

    @Test("a script that does not compile fails in the runner as it did without the compiler (control)")
    func brokenScript() async throws {
        try #require(isolatedTestsRun, "needs namespaces")
        let broken: JSONValue = ["test": ["assert add(1, 1) == 2", "assert add(1, 1) ==", "assert add(2, 2) == 4"]]
        let program = "def add(a, b):\n    return a + b"
        let compiling = try codeVerifier(toolchains: toolchains)
        _ = try await verify(compiling, program, ["test": ["assert add(1, 1) == 2"]])
        compiling.sandbox.testCompilers.waitForStarts()
        let withCompiler = try await verify(compiling, program, broken)
        if compiling.sandbox.usesForkServers {
            #expect(compiling.sandbox.testCompilers.compiled.load(ordering: .relaxed) == 3, "the three scripts asked")
        }
        let directory = try plainToolchains()
        defer { try? FileManager.default.removeItem(at: directory) }
        let without = try codeVerifier(toolchains: directory)
        let control = try await verify(without, program, broken)
        #expect(statuses(withCompiler) == statuses(control) && statuses(control) == ["passed", "runtime_error", "passed"],
                "\(withCompiler.details) vs \(control.details)")
        #expect(without.sandbox.testCompilers.compiled.load(ordering: .relaxed) == 0, "control: no compiler")
    }

    @Test("when the compiler cannot start, runs compile their scripts themselves")
    func compilerMissing() async throws {
        try #require(isolatedTestsRun, "needs namespaces")
        let directory = try plainToolchains(compilerRun: ["/bin/false"])
        defer { try? FileManager.default.removeItem(at: directory) }
        let verifier = try codeVerifier(toolchains: directory)
        let right = try await verify(verifier, "def add(a, b):\n    return a + b", reference)
        verifier.sandbox.testCompilers.waitForStarts()
        let wrong = try await verify(verifier, "def add(a, b):\n    return a - b", reference)
        #expect(right.passed && statuses(wrong) == ["wrong_answer"], "\(right.details) \(wrong.details)")
        #expect(verifier.sandbox.testCompilers.compiled.load(ordering: .relaxed) == 0)
    }

    /// A copy of the shipped Python toolchain without a test compiler, or with another command for it.
    func plainToolchains(compilerRun: [String]? = nil) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("arbiter-compiler-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for name in ["python.harness.py", "python.forkserver.py", "python.compiler.py"] {
            try FileManager.default.copyItem(
                at: toolchains.appendingPathComponent(name), to: directory.appendingPathComponent(name))
        }
        var declaration = try JSONParser.parse(
            String(contentsOf: toolchains.appendingPathComponent("python.json"), encoding: .utf8)
        ).objectValue ?? [:]
        var harness = declaration["harness"]?.objectValue ?? [:]
        if let compilerRun {
            harness["test_compiler"] = ["code_file": "python.compiler.py", "run": .array(compilerRun.map { .string($0) })]
        } else {
            harness["test_compiler"] = nil
        }
        declaration["harness"] = .object(harness)
        try JSONValue.object(declaration).jsonText.write(
            to: directory.appendingPathComponent("python.json"), atomically: true, encoding: .utf8)
        return directory
    }
}

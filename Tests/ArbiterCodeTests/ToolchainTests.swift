// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

@testable import ArbiterCode
import ArbiterCore
import Foundation
import Testing

@Suite(
    "code: toolchains",
    .enabled(if: isolatedTestsRun, "needs namespaces (root or unprivileged user namespaces)"))
struct ToolchainTests {
    let directory = repository.appendingPathComponent("verifiers/toolchains")

    @Test("the shipped files and the built-in copies declare the same toolchains")
    func builtinsMatchFiles() throws {
        let builtin = ToolchainSet(directory: nil)
        let files = ToolchainSet(directory: directory)
        #expect(builtin.problems.isEmpty && files.problems.isEmpty, "\(builtin.problems) \(files.problems)")
        #expect(builtin.names == ["bash", "c", "cpp", "javascript", "python"])
        #expect(files.names == builtin.names)
        for name in builtin.names {
            #expect(builtin.all[name] == files.all[name], "toolchain \(name) differs from its file")
        }
    }

    @Test("interpreters resolve to real binaries the sandbox user may run, never to shims")
    func interpreters() throws {
        for toolchain in ToolchainSet(directory: nil).all.values {
            let interpreter = try #require(toolchain.interpreter, "\(toolchain.name) has no interpreter here")
            #expect(interpreter.hasPrefix("/") && !interpreter.contains("/shims/"))
            #expect(!interpreter.hasPrefix("/root/"))
        }
    }

    @Test("aliases and fence tags find their toolchain")
    func aliases() {
        let set = ToolchainSet(directory: nil)
        #expect(set.toolchain(for: "py")?.name == "python")
        #expect(set.toolchain(for: "C++")?.name == "cpp")
        #expect(set.toolchain(for: "js")?.name == "javascript")
        #expect(set.toolchain(for: "sh")?.name == "bash")
        #expect(set.toolchain(for: "cobol") == nil)
    }

    @Test("a toolchain's `visible` directories are shown, read-only, and nothing else outside /usr, /etc and /dev")
    func visibleDirectories() async throws {
        let shared = "/var/tmp/arbiter-visible-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: shared) }
        try "42\n".write(toFile: shared + "/answer.txt", atomically: false, encoding: .utf8)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("arbiter-toolchains-\(UUID().uuidString)")
        let toolchains = root.appendingPathComponent("toolchains")
        try FileManager.default.createDirectory(at: toolchains, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let declaration = """
            {"name": "pyshared", "source": "main.py", "interpreter": ["/usr/bin/python3", "python3"],
             "run": ["{interpreter}", "-I", "main.py"], "visible": ["\(shared)", "/usr/share"]}
            """
        try declaration.write(to: toolchains.appendingPathComponent("pyshared.json"), atomically: true, encoding: .utf8)
        var registry = VerifierRegistry()
        registry.registerCodeVerifiers(verifiersDirectory: root, sandbox: .shared)
        let program = """
            import os
            value = open("\(shared)/answer.txt").read().strip()
            try:
                open("\(shared)/mine.txt", "w")
                value += " writable"
            except OSError:
                pass
            print(value, os.path.exists("/var/tmp"), os.path.exists("/opt"))
            """
        let verdict = try await registry.entry(named: "code").verifier(options: nil).verify(
            Sample(response: "```pyshared\n\(program)\n```", reference: ["tests": [["stdin": "", "stdout": "42 True False"]]]))
        #expect(verdict.passed, "\(verdict.details)")
    }

    @Test("a new language is a new file")
    func newLanguage() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "arbiter-toolchains-\(UUID().uuidString)")
        let toolchains = root.appendingPathComponent("toolchains")
        try FileManager.default.createDirectory(at: toolchains, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let declaration = """
            {"name": "awk", "aliases": ["gawk"], "source": "main.awk", "interpreter": ["/usr/bin/awk", "awk"],
             "run": ["{interpreter}", "-f", "main.awk"]}
            """
        try declaration.write(to: toolchains.appendingPathComponent("awk.json"), atomically: true, encoding: .utf8)
        try "{\"name\": 3}".write(
            to: toolchains.appendingPathComponent("broken.json"), atomically: true, encoding: .utf8)
        var registry = VerifierRegistry()
        registry.registerCodeVerifiers(verifiersDirectory: root, sandbox: .shared)
        let entry = try registry.entry(named: "code")
        #expect(entry.summary.contains("awk") && entry.summary.contains("broken.json"))
        let response = "```awk\n{ print $1 + $2 }\n```"
        let verdict = try await entry.verifier(options: nil).verify(
            Sample(response: response, reference: ["tests": [["stdin": "1 2\n", "stdout": "3\n"]]]))
        #expect(verdict.passed && verdict.details["language"] == "awk", "\(verdict.details)")
    }

    /// A program that reports which harness files its work directory holds.
    static let harnessFiles = fenced("import os\ndef files():\n    return sorted(n for n in os.listdir('.') if n.startswith('harness'))")

    @Test("the Python harness is compiled once per daemon: runs get the marshalled code, not the source")
    func preparedHarness() async throws {
        let toolchains = repository.appendingPathComponent("verifiers/toolchains")
        let python = try #require(ToolchainSet(directory: toolchains).toolchain(for: "python"))
        #expect(python.harness?.prepare != nil && python.harness?.preparedFile == "harness.bin")
        // Executed runs (no fork server) get the marshalled file; a run forked from a fork server gets no harness file
        // at all (the server loaded the harness), so nothing of it is copied into the run's directory.
        let executed = try codeVerifier(toolchains: toolchains, forkServers: false)
        let shared = try codeVerifier(toolchains: toolchains)
        let forked = shared.sandbox.usesForkServers
        for (verifier, expected) in [(executed, "['harness.bin']"), (shared, forked ? "[]" : "['harness.bin']")] {
            for _ in 0..<2 {
                let test = JSONValue.string("assert files() == \(expected), files()")
                let verdict = try await verifier.verify(
                    Sample(response: Self.harnessFiles, reference: ["test": .array([test])]))
                #expect(verdict.passed, "\(verdict.details)")
            }
        }
    }

    @Test("when preparing fails, runs fall back to the plain harness")
    func unpreparedHarness() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("arbiter-unprepared-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let toolchains = repository.appendingPathComponent("verifiers/toolchains")
        let declaration = try String(contentsOf: toolchains.appendingPathComponent("python.json"), encoding: .utf8)
        let failing = #""prepare": ["{interpreter}", "-I", "-S", "-c", "raise SystemExit(3)"],"#
        let broken = declaration.replacing(#/"prepare": \[[^\]]*\],/#, with: failing)
        #expect(broken != declaration)
        try broken.write(to: directory.appendingPathComponent("python.json"), atomically: true, encoding: .utf8)
        for name in ["python.harness.py", "python.forkserver.py", "python.compiler.py"] {
            try FileManager.default.copyItem(
                at: toolchains.appendingPathComponent(name), to: directory.appendingPathComponent(name))
        }
        // Executed runs: a forked run gets no harness file (the fork server compiles the source itself).
        let verifier = try codeVerifier(toolchains: directory, forkServers: false)
        #expect(ToolchainSet(directory: directory).problems.isEmpty)
        let verdict = try await verifier.verify(
            Sample(response: Self.harnessFiles, reference: ["test": ["assert files() == ['harness.py'], files()"]]))
        #expect(verdict.passed, "\(verdict.details)")
    }

    @Test("prepare, prepared_file and prepared_run come together, and prepared_file is a file name", arguments: [
        #", "prepare": ["x"]"#, #", "prepare": ["x"], "prepared_run": ["y"]"#,
        #", "prepare": ["x"], "prepared_file": "a/b", "prepared_run": ["y"]"#,
        #", "prepare": [], "prepared_file": "b", "prepared_run": ["y"]"#,
    ])
    func preparedDeclaration(_ extra: String) throws {
        let text = #"{"name": "t", "source": "m", "run": ["m"], "harness": {"file": "h", "code": "c", "run": ["h"]"#
            + extra + "}}"
        let object = try #require(JSONParser.parse(text).objectValue)
        #expect(throws: ArbiterError.self) { try Toolchain(object) { _ throws(ArbiterError) in "" } }
        let plain = try #require(JSONParser.parse(text.replacingOccurrences(of: extra, with: "")).objectValue)
        #expect(try Toolchain(plain) { _ throws(ArbiterError) in "" }.harness?.prepare == nil)
    }
}


@Suite("code: toolchain declarations")
struct ToolchainDeclarationTests {
    /// The problems a directory holding one declaration reports.
    func problems(_ declaration: String) throws -> [String] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("arbiter-decl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try declaration.write(to: directory.appendingPathComponent("t.json"), atomically: true, encoding: .utf8)
        return ToolchainSet(directory: directory).problems
    }

    @Test("a bad field is named with its type, in the uniform form of every configuration reader")
    func badFields() throws {
        let valid = #"{"name": "t", "source": "main.t", "run": ["./main"]"#
        // Negative control: the same declaration without the bad field is accepted.
        #expect(try problems(valid + "}") == [])
        let cases: [(String, String)] = [
            (#"{"name": 3, "source": "main.t", "run": ["./main"]}"#, "'name' must be a non-empty string, got number"),
            (#"{"name": "t", "source": "a/b", "run": ["./main"]}"#, "'source' must be a file name (no '/'), got string"),
            (#"{"name": "t", "source": "main.t", "run": []}"#, "'run' must be a non-empty array of non-empty strings, got array"),
            (valid + #", "aliases": [1]}"#, "'aliases' must be an array of strings, got array"),
            (valid + #", "env": {"A": 1}}"#, "'env': 'A' must be a string, got number"),
            (valid + #", "limits": {"processes": "many"}}"#, "'limits': 'processes' must be an integer from 1 to 4096, got string"),
            (valid + #", "harness": {"file": "h.py", "run": "python3", "code": ""}}"#,
             "'harness': 'run' must be a non-empty array of non-empty strings, got string"),
            (valid + #", "test_template": {"file": "w.c", "code": "", "preprocess": ["cc"], "compile": ["cc"], "symbols": ["nm"]}}"#,
             "'test_template': 'test_file' must be a file name (no '/'), it is missing"),
        ]
        for (declaration, message) in cases {
            let found = try problems(declaration)
            #expect(found.count == 1 && found[0].hasSuffix(": " + message), "\(declaration): \(found)")
        }
    }
}

@Suite(
    "code: the C/C++ test wrapper, compiled once", .serialized,
    .enabled(if: isolatedTestsRun, "needs namespaces (root or unprivileged user namespaces)"))
struct PreparedWrapperTests {
    let program = fenced("long add(long a, long b) { return a + b; }", "cpp")
    let good: JSONValue = ["test": "#include <cassert>\nint main() {\n    assert(add(2, 3) == 5);\n}"]
    let bad: JSONValue = ["test": "#include <cassert>\nint main() {\n    assert(add(2, 2) == 5);\n}"]

    /// A directory holding the shipped cpp toolchain with `edit` applied to its declaration.
    func toolchains(_ edit: (String) -> String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("arbiter-wrapper-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let shipped = repository.appendingPathComponent("verifiers/toolchains")
        try FileManager.default.copyItem(
            at: shipped.appendingPathComponent("c.test.c"), to: directory.appendingPathComponent("c.test.c"))
        let declaration = try String(contentsOf: shipped.appendingPathComponent("cpp.json"), encoding: .utf8)
        try edit(declaration).write(to: directory.appendingPathComponent("cpp.json"), atomically: true, encoding: .utf8)
        #expect(ToolchainSet(directory: directory).problems.isEmpty)
        return directory
    }

    @Test("test programs link the wrapper's object, compiled once per sandbox; the test still decides")
    func prepared() async throws {
        let directory = try toolchains { $0 }
        defer { try? FileManager.default.removeItem(at: directory) }
        let verifier = try codeVerifier(toolchains: directory)
        let cpp = try #require(verifier.toolchains.toolchain(for: "cpp"))
        for (reference, expected) in [(good, ["passed"]), (bad, ["wrong_answer"])] {
            let verdict = try await verifier.verify(Sample(response: program, reference: reference))
            #expect(statuses(verdict) == expected, "\(verdict.details)")
            #expect(verdict.details["compile"]?.objectValue?["wrapper"] == "prepared", "\(verdict.details)")
        }
        // The sandbox holds the object (an ELF file).
        let object = try #require(await verifier.sandbox.preparedHarnesses.wrapper(for: cpp, in: verifier.sandbox))
        #expect(object.starts(with: [0x7f, 0x45, 0x4c, 0x46]))
    }

    @Test("when the wrapper cannot be prepared, each test program compiles it (control: nothing is prepared)")
    func unprepared() async throws {
        let directory = try toolchains {
            $0.replacingOccurrences(of: #""prepare": ["{interpreter}""#, with: #""prepare": ["/bin/false""#)
        }
        defer { try? FileManager.default.removeItem(at: directory) }
        let verifier = try codeVerifier(toolchains: directory)
        let cpp = try #require(verifier.toolchains.toolchain(for: "cpp"))
        #expect(cpp.testTemplate?.prepare?.first == "/bin/false")
        for (reference, expected) in [(good, ["passed"]), (bad, ["wrong_answer"])] {
            let verdict = try await verifier.verify(Sample(response: program, reference: reference))
            #expect(statuses(verdict) == expected, "\(verdict.details)")
            #expect(verdict.details["compile"]?.objectValue?["wrapper"] == "compiled", "\(verdict.details)")
        }
        #expect(await verifier.sandbox.preparedHarnesses.wrapper(for: cpp, in: verifier.sandbox) == nil)
    }
}

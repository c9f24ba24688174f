// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCode
import ArbiterCore
import Foundation
import Testing

/// Negative controls: the attack tests' programs against a sandbox with one guard switched off must get through,
/// which shows that those tests detect the guard (and not something else) failing.
@Suite(
    "code: negative controls", .serialized, .timeLimit(.minutes(1)),
    .enabled(if: isolatedTestsRun, "needs namespaces (root or unprivileged user namespaces)"))
struct NegativeControlTests {
    let answer: JSONValue = ["tests": [["stdin": "", "stdout": "safe\n"]]]

    /// Judges with a sandbox whose isolation is the host's minus what `weaken` removes.
    func judgeWeakened(
        _ response: String, _ reference: JSONValue, weaken: (inout Isolation) -> Void
    ) async throws -> Verdict {
        var isolation = Isolation.current
        weaken(&isolation)
        let verifier = CodeVerifier(
            configuration: try CodeVerifier.Configuration(
                options: OptionValues([:], specs: CodeVerifier.Configuration.options, verifier: "code")),
            toolchains: ToolchainSet(directory: nil), sandbox: Sandbox(isolation: isolation),
            allowDegradedIsolation: true)
        return try await verifier.verify(Sample(response: response, reference: reference))
    }

    /// Whether the program's output, as the verdict reports it, contains `text`.
    func printed(_ text: String, in verdict: Verdict) -> Bool {
        JSONValue.object(verdict.details).jsonText.contains(text)
    }

    @Test("without the network namespace the program reaches the host's loopback")
    func network() async throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        listen(listener, 8)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        let port = Int(UInt16(bigEndian: address.sin_port))
        let program = """
            import socket
            try:
                socket.create_connection(("127.0.0.1", \(port)), timeout=2).close()
                print("connected")
            except OSError:
                print("safe")
            """
        // The seccomp filter (no socket family but Unix) would stop it as well: both guards are off here.
        let verdict = try await judgeWeakened(fenced(program), answer) { isolation in
            isolation.namespaces.removeAll { $0 == "net" }
            isolation.seccomp = false
        }
        #expect(!verdict.passed)
        // The leak itself, not just a failure for some other reason: the program printed that it connected.
        #expect(printed("connected", in: verdict), "\(verdict.details)")
    }

    @Test("without the read-only root the program writes to a world-writable directory outside its own")
    func readOnlyRoot() async throws {
        let open = "/tmp/arbiter-open-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: open, withIntermediateDirectories: false)
        chmod(open, 0o777)
        defer { try? FileManager.default.removeItem(atPath: open) }
        let program =
            "try:\n    open('\(open)/x', 'w').write('x')\n    print('written')\nexcept OSError:\n    print('safe')"
        let verdict = try await judgeWeakened(fenced(program), answer) { $0.readOnlyRoot = false }
        #expect(!verdict.passed)
        #expect(FileManager.default.fileExists(atPath: open + "/x"))
        #expect(printed("written", in: verdict), "\(verdict.details)")
    }

    @Test("without the minimal root the program sees the repository")
    func minimalRoot() async throws {
        let program = "import os\nprint('seen' if os.path.exists('\(repository.path)') else 'safe')"
        let verdict = try await judgeWeakened(fenced(program), answer) { $0.readOnlyRoot = false }
        #expect(!verdict.passed)
        #expect(printed("seen", in: verdict), "\(verdict.details)")
    }

    @Test(
        "without the user switch the program reads a root-only file inside its view (/etc/shadow)",
        .enabled(if: rootTestsRun, "needs root (the user switch)"))
    func user() async throws {
        let program = "try:\n    print(open('/etc/shadow').read()[:4])\nexcept OSError:\n    print('safe')"
        let verdict = try await judgeWeakened(fenced(program), answer) { $0.user = nil }
        #expect(!verdict.passed)
        // The first bytes of /etc/shadow reached the output (its first entry is root's).
        #expect(printed("root", in: verdict), "\(verdict.details)")
    }

    @Test("without the PID namespace an orphan that left the process group outlives the verdict")
    func orphan() async throws {
        let mark = "1000.\(UInt32.random(in: 100_000...999_999))"
        let program = AttackTests.detachedSleeper(mark)
        _ = try await judgeWeakened(fenced(program), answer) { $0.namespaces.removeAll { $0 == "pid" } }
        try await Task.sleep(for: .milliseconds(200))
        let survivors = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).filter { name in
            guard let pid = Int32(name), let data = FileManager.default.contents(atPath: "/proc/\(name)/cmdline") else {
                return false
            }
            let found = String(decoding: data, as: UTF8.self).contains(mark)
            if found { kill(pid, SIGKILL) }
            return found
        }
        #expect(!survivors.isEmpty)
    }

    @Test("without PR_SET_DUMPABLE 0 the program reads the test runner's memory and can ptrace it")
    func dumpableRunner() async throws {
        // The Python toolchain with a harness whose prctl call is taken out (it still claims to be non-dumpable).
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("arbiter-dumpable-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let toolchains = repository.appendingPathComponent("verifiers/toolchains")
        let harness = try String(
            contentsOf: toolchains.appendingPathComponent("python.harness.py"), encoding: .utf8)
        let call = "            prctl(arguments[0], zero, zero, zero, zero)  # PR_SET_DUMPABLE, 0\n"
        let check = "            return prctl(arguments[2], zero, zero, zero, zero) == 0  # PR_GET_DUMPABLE\n"
        #expect(harness.contains(call) && harness.contains(check))
        let weakened = harness.replacingOccurrences(of: call, with: "")
            .replacingOccurrences(of: check, with: "            return True\n")
        try weakened.write(to: directory.appendingPathComponent("python.harness.py"), atomically: true, encoding: .utf8)
        for name in ["python.json", "python.forkserver.py", "python.compiler.py"] {
            try FileManager.default.copyItem(
                at: toolchains.appendingPathComponent(name), to: directory.appendingPathComponent(name))
        }
        #expect(ToolchainSet(directory: directory).problems.isEmpty)
        // Seccomp denies ptrace and process_vm_readv on its own: it is off here, to show what the prctl guards.
        var isolation = Isolation.current
        isolation.seccomp = false
        // A run forked from the fork server is non-dumpable from the start (it changed credentials without executing
        // anything): the control needs the executed harness, whose only guard is the prctl.
        let verifier = try codeVerifier(toolchains: directory, isolation: isolation, forkServers: false)
        let reference: JSONValue = ["test": ["opened = probe()\nassert opened == ['harness'], opened"]]
        let verdict = try await verifier.verify(Sample(response: fenced(AttackTests.parentProbe), reference: reference))
        #expect(!verdict.passed)
        let message = verdict.details["cases"]?.arrayValue?.first?.objectValue?["message"]?.stringValue ?? ""
        #expect(message.contains("'mem:4096'") && message.contains("'ptrace'"), "\(message)")
    }

    @Test("the degraded isolation is named in the verdict")
    func degradedIsVisible() async throws {
        let verdict = try await judgeWeakened(fenced("print('safe')"), answer) {
            $0.namespaces = []
            $0.readOnlyRoot = false
            $0.missing.append("namespaces switched off for this test")
        }
        #expect(verdict.passed)
        let sandbox = verdict.details["sandbox"]?.stringValue ?? ""
        #expect(sandbox.contains("DEGRADED: ") && sandbox.contains("namespaces switched off for this test"), "\(sandbox)")
    }
}

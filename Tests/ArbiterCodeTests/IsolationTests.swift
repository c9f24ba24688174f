// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCode
import ArbiterCore
import Foundation
import Testing

/// The sandbox refuses loudly when it cannot isolate, and what it adds against hostile programs: a user namespace
/// when not root, the seccomp filter, a network namespace per run, a minimal /dev, a hidden daemon command line.
@Suite("code: isolation", .serialized, .timeLimit(.minutes(1)))
struct IsolationTests {
    let answer: JSONValue = ["tests": [["stdin": "", "stdout": "safe\n"]]]

    func verifier(_ isolation: Isolation, allowDegraded: Bool = false) throws -> CodeVerifier {
        CodeVerifier(
            configuration: try CodeVerifier.Configuration(
                options: OptionValues([:], specs: CodeVerifier.Configuration.options, verifier: "code")),
            toolchains: ToolchainSet(directory: nil), sandbox: Sandbox(isolation: isolation),
            allowDegradedIsolation: allowDegraded)
    }

    func run(_ program: String, _ isolation: Isolation = .current, expect: String) async throws -> Verdict {
        let reference: JSONValue = ["tests": [["stdin": "", "stdout": .string(expect)]]]
        return try await verifier(isolation, allowDegraded: !isolation.isolated).verify(
            Sample(response: fenced(program), reference: reference))
    }

    /// The program's standard output when it was not what the test expected (for messages).
    func output(_ verdict: Verdict) -> String {
        verdict.details["cases"]?.arrayValue?.first?.objectValue?["message"]?.stringValue ?? "\(verdict.details)"
    }

    @Test("without namespaces `code` refuses with an internal error naming the reason and the flag")
    func refusesWithoutIsolation() async throws {
        let isolation = Isolation.probe(environment: ["ARBITER_CODE_NO_NAMESPACES": "1"])
        #expect(!isolation.isolated)
        #expect(isolation.summary.contains("DEGRADED: namespaces unavailable (switched off by ARBITER_CODE_NO_NAMESPACES"))
        do {
            _ = try await verifier(isolation).verify(Sample(response: fenced("print('safe')"), reference: answer))
            Issue.record("a program ran without isolation")
        } catch let error as ArbiterError {
            #expect(error.code == .internal)
            #expect(error.message.contains("ARBITER_CODE_NO_NAMESPACES") && error.message.contains("--allow-degraded-isolation"))
        }
    }

    @Test("negative control: with --allow-degraded-isolation the same program runs, and the verdict says DEGRADED")
    func degradedWhenAllowed() async throws {
        let isolation = Isolation.probe(environment: ["ARBITER_CODE_NO_NAMESPACES": "1"])
        let verdict = try await verifier(isolation, allowDegraded: true).verify(
            Sample(response: fenced("print('safe')"), reference: answer))
        #expect(verdict.passed)
        #expect(verdict.details["sandbox"]?.stringValue?.contains("DEGRADED: namespaces unavailable") == true)
    }

    @Test("ARBITER_CODE_NO_SECCOMP simulates a kernel without seccomp, and it is named")
    func noSeccompKnob() {
        let isolation = Isolation.probe(environment: ["ARBITER_CODE_NO_SECCOMP": "1"])
        #expect(!isolation.seccomp)
        #expect(isolation.summary.contains("DEGRADED: ") && isolation.summary.contains("no seccomp filter"))
    }

    @Test(
        "as an ordinary user the runs are isolated by a user namespace of their own",
        .enabled(if: geteuid() != 0, "runs as root here: the user namespace is the unprivileged path"))
    func unprivilegedIsIsolated() {
        #expect(Isolation.current.isolated, "\(Isolation.current.summary)")
        #expect(Isolation.current.namespaces.contains("user"))
    }

    /// Calls a system call through ctypes and prints its errno name, or `ok`.
    static let syscalls = """
        import ctypes, errno, os, socket
        libc = ctypes.CDLL(None, use_errno=True)
        def call(number, *args):
            ctypes.set_errno(0)
            result = libc.syscall(number, *[ctypes.c_long(a) for a in args])
            return "ok" if result >= 0 else errno.errorcode[ctypes.get_errno()]
        results = []
        results.append(call(250, 0, -4))        # keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_USER_KEYRING)
        results.append(call(272, 0x10000000))   # unshare(CLONE_NEWUSER)
        results.append(call(101, 0, 0, 0, 0))   # ptrace(PTRACE_TRACEME)
        results.append(call(425, 8, 0))         # io_uring_setup(8, NULL)
        results.append(call(321, 0, 0, 0))      # bpf(BPF_MAP_CREATE, NULL, 0)
        try:
            socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
            results.append("ok")
        except OSError as error:
            results.append(errno.errorcode[error.errno])
        socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).close()
        print(" ".join(results))
        """

    @Test(
        "seccomp: no keyring, no new namespaces, no ptrace, no io_uring, no bpf, no socket but Unix",
        .enabled(if: isolatedTestsRun, "needs namespaces (root or unprivileged user namespaces)"))
    func seccompDenies() async throws {
        #if arch(x86_64)
            let verdict = try await run(Self.syscalls, expect: "EPERM EPERM EPERM ENOSYS EPERM EAFNOSUPPORT\n")
            #expect(verdict.passed, "\(output(verdict))")
            // Negative control: without the filter the keyring answers and the socket opens.
            var open = Isolation.current
            open.seccomp = false
            let control = try await run(Self.syscalls, open, expect: "EPERM EPERM EPERM ENOSYS EPERM EAFNOSUPPORT\n")
            #expect(!control.passed)
            #expect(output(control).contains("ok"), "\(output(control))")
        #endif
    }

    @Test(
        "a fork bomb's kill(-1, SIGKILL) reaches only its own sandbox",
        .enabled(if: isolatedTestsRun, "needs namespaces: without them kill(-1) would end every process of this user"))
    func killEverything() async throws {
        // A process of this user outside the sandbox; it must outlive the program (as must this test process).
        let sentinel = Process()
        sentinel.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sentinel.arguments = ["30"]
        try sentinel.run()
        defer { sentinel.terminate() }
        let program = "import os, signal\nos.fork()\nos.kill(-1, signal.SIGKILL)\nprint('alive')"
        let verdict = try await run(program, expect: "safe\n")
        #expect(!verdict.passed)
        #expect(sentinel.isRunning)
        #expect(kill(sentinel.processIdentifier, 0) == 0)
    }

    @Test(
        "concurrent runs cannot talk over abstract Unix sockets (a network namespace per run)",
        .enabled(if: isolatedTestsRun, "needs namespaces (root or unprivileged user namespaces)"))
    func abstractSockets() async throws {
        let name = "arbiter-\(UUID().uuidString)"
        // The listener waits up to 3 s for a connection; the talker tries for 2 s. Neither needs the other's timing:
        // with a shared namespace the talker connects whenever both overlap, which the stamps printed show.
        let listener = """
            import socket
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind("\\0\(name)")
            s.listen(1)
            s.settimeout(3)
            try:
                s.accept()
                print("reached")
            except OSError:
                print("safe")
            """
        let talker = """
            import socket, time
            end = time.time() + 2
            result = "safe"
            while time.time() < end:
                c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    c.connect("\\0\(name)")
                    result = "reached"
                    break
                except OSError:
                    time.sleep(0.02)
            print(result)
            """
        func pair(_ isolation: Isolation) async throws -> (Verdict, Verdict) {
            async let first = run(listener, isolation, expect: "safe\n")
            try await Task.sleep(for: .milliseconds(300))
            async let second = run(talker, isolation, expect: "safe\n")
            return try await (first, second)
        }
        let (a, b) = try await pair(.current)
        #expect(a.passed && b.passed, "\(output(a)) / \(output(b))")
        // Negative control: without the network namespace the talker reaches the listener.
        var shared = Isolation.current
        shared.namespaces.removeAll { $0 == "net" }
        let (c, d) = try await pair(shared)
        #expect(!c.passed || !d.passed)
    }

    @Test(
        "/dev holds only null, zero, full, random, urandom, tty, the fd links and shm",
        .enabled(if: isolatedTestsRun, "needs namespaces (root or unprivileged user namespaces)"))
    func minimalDev() async throws {
        let program = """
            import os
            allowed = {"null", "zero", "full", "random", "urandom", "tty", "fd", "stdin", "stdout", "stderr", "shm"}
            extra = sorted(set(os.listdir("/dev")) - allowed)
            open("/dev/null", "w").write("x")
            print("safe" if not extra and os.path.exists("/dev/urandom") else "extra: " + " ".join(extra))
            """
        let verdict = try await run(program, expect: "safe\n")
        #expect(verdict.passed, "\(output(verdict))")
        // Negative control: the host's /dev (the root not minimal) has more.
        var host = Isolation.current
        host.readOnlyRoot = false
        let control = try await run(program, host, expect: "safe\n")
        #expect(!control.passed)
    }

    @Test(
        "the daemon's command line is not readable from /proc/1/cmdline",
        .enabled(if: isolatedTestsRun, "needs namespaces (root or unprivileged user namespaces)"))
    func hiddenCommandLine() async throws {
        let own = FileManager.default.contents(atPath: "/proc/self/cmdline") ?? Data()
        let first = String(decoding: own.prefix { $0 != 0 }, as: UTF8.self)
        #expect(!first.isEmpty)
        let program = """
            data = open("/proc/1/cmdline", "rb").read()
            print("safe" if \(Array(first.utf8)) and bytes(\(Array(first.utf8))) not in data else "seen")
            """
        let verdict = try await run(program, expect: "safe\n")
        #expect(verdict.passed, "\(output(verdict))")
    }
}

// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCode
import ArbiterCore
import Foundation
import Testing

/// The sandbox refuses loudly when it cannot isolate, and what it adds against hostile programs: a user namespace
/// when not root, the seccomp filter, a network namespace per run, a minimal /dev, a hidden daemon command line.
@Suite("code: isolation", .serialized, .timeLimit(.minutes(3)))
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

    // The unprivileged path (a user namespace of the run's own) is tested end to end, as root too, in
    // Tests/ArbiterEndToEndTests/UnprivilegedSandboxTests.swift: it runs `arbiter check` as an ordinary uid.

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

    @Test(
        "the work directory is a tmpfs of work_dir_mb and work_dir_files: writes stop there, not on the host's disk",
        .enabled(if: isolatedTestsRun, "needs namespaces (root or unprivileged user namespaces)"))
    func workDirectoryCaps() async throws {
        let fill = """
            import errno
            total = 0
            try:
                for i in range(64):
                    with open("f%d" % i, "wb") as f:
                        f.write(b"x" * (1 << 20))
                    total += 1
            except OSError as error:
                print("stopped", errno.errorcode[error.errno], total)
            else:
                print("wrote", total)
            """
        let capped = try await judgeWith(fill, ["work_dir_mb": 16, "file_size_mb": 4], expect: "wrote 64\n")
        #expect(!capped.passed)
        #expect(output(capped).contains("stopped ENOSPC"), "\(output(capped))")
        let many = """
            import errno
            count = 0
            try:
                for i in range(500):
                    open("n%d" % i, "w").close()
                    count += 1
            except OSError as error:
                print("stopped", errno.errorcode[error.errno])
            else:
                print("made", count)
            """
        let files = try await judgeWith(many, ["work_dir_files": 100], expect: "made 500\n")
        #expect(output(files).contains("stopped ENOSPC"), "\(output(files))")
        // Negative control: on the host's directory (no mount namespace for the work directory) nothing stops them.
        var host = Isolation.current
        host.readOnlyRoot = false
        let uncapped = try await judgeWith(many, ["work_dir_files": 100], host, expect: "made 500\n")
        #expect(uncapped.passed, "\(output(uncapped))")
    }

    @Test(
        "a program whose files do not fit its work directory gets a failing verdict, never an error a policy could hide behind",
        .enabled(if: isolatedTestsRun, "needs namespaces (root or unprivileged user namespaces)"))
    func programLargerThanWorkDirectory() async throws {
        // A 2 MB comment makes main.py 2 MB; a 2 MB initialized array makes the C binary 2 MB. Both fit 8 MB, not 1.
        let padding = "# " + String(repeating: "a", count: 2 << 20) + "\n"
        let python = padding + "def f():\n    return 1\nprint(f())\n"
        let c = "#include <stdio.h>\nchar big[2 << 20] = {1};\nint main(void) { printf(\"%d\\n\", big[0]); return 0; }\n"
        let cases: [(name: String, response: String, reference: JSONValue)] = [
            ("python stdin/stdout", fenced(python), ["tests": [["stdin": "", "stdout": "1\n"]]]),
            ("python test", fenced(python), ["test": "assert f() == 1"]),
            ("c stdin/stdout", fenced(c, "c"), ["language": "c", "tests": [["stdin": "", "stdout": "1\n"]]]),
        ]
        for item in cases {
            let small = try await judge(item.response, item.reference, ["work_dir_mb": 1])
            #expect(small.score == 0 && !small.passed, "\(item.name): \(small.details)")
            #expect(small.reason == "runtime_error", "\(item.name): \(small.details)")
            let message = small.details["cases"]?.arrayValue?.first?.objectValue?["message"]?.stringValue ?? ""
            #expect(message.contains("do not fit its work directory"), "\(item.name): \(small.details)")
            // Negative control: the same program with room for its files passes, so the cap alone failed it.
            let roomy = try await judge(item.response, item.reference, ["work_dir_mb": 8])
            #expect(roomy.passed, "\(item.name): \(roomy.details)")
        }
    }

    /// Judges with options through a verifier built here (the shared registry has no way to pass an isolation).
    func judgeWith(_ program: String, _ options: JSONObject, _ isolation: Isolation = .current, expect: String)
        async throws -> Verdict
    {
        let configuration = try CodeVerifier.Configuration(
            options: OptionValues(options, specs: CodeVerifier.Configuration.options, verifier: "code"))
        let verifier = CodeVerifier(
            configuration: configuration, toolchains: ToolchainSet(directory: nil), sandbox: Sandbox(isolation: isolation),
            allowDegradedIsolation: !isolation.isolated)
        let reference: JSONValue = ["tests": [["stdin": "", "stdout": .string(expect)]]]
        return try await verifier.verify(Sample(response: fenced(program), reference: reference))
    }

    @Test(
        "a 25,000-level directory tree is gone after the verdict, on the tmpfs and on the host's disk (iterative cleanup)",
        .enabled(if: isolatedTestsRun, "needs namespaces (root or unprivileged user namespaces)"))
    func deepTree() async throws {
        func program(_ levels: Int) -> String {
            """
            import os, sys
            base = os.getcwd()
            depth = 0
            try:
                for depth in range(\(levels)):
                    os.mkdir("d")
                    os.chdir("d")
            except OSError:
                pass
            sys.stderr.write("BASE=" + base + " DEPTH=%d\\n" % depth)
            sys.exit(1)
            """
        }
        // On the tmpfs 25,000 levels; on the host's disk (slow here: about 1 ms a directory) 3,000, still three times
        // the descriptors a recursive removal would hold open against a default limit of 1,024.
        var host = Isolation.current
        host.readOnlyRoot = false
        for (isolation, levels) in [(Isolation.current, 25000), (host, 3000)] {
            let verdict = try await judgeWith(
                program(levels), ["work_dir_files": 30000, "time_limit_s": 20], isolation, expect: "")
            let stderr = verdict.details["cases"]?.arrayValue?.first?.objectValue?["stderr"]?.stringValue ?? ""
            let base = try #require(stderr.split(separator: " ").first { $0.hasPrefix("BASE=") }?.dropFirst(5))
            #expect(stderr.contains("DEPTH=\(levels - 1)"), "\(stderr)")
            #expect(!FileManager.default.fileExists(atPath: String(base)), "\(base) is left behind")
        }
    }

    @Test(
        "nothing a run writes reaches the next run of the same program",
        .enabled(if: isolatedTestsRun, "needs namespaces (root or unprivileged user namespaces)"))
    func nothingShared() async throws {
        let program = "import os\nprint('seen' if os.path.exists('mark') else 'safe')\nopen('mark', 'w').write('x')"
        let reference: JSONValue = ["tests": [["stdin": "", "stdout": "safe\n"], ["stdin": "", "stdout": "safe\n"]]]
        let verdict = try await verifier(.current).verify(Sample(response: fenced(program), reference: reference))
        #expect(verdict.passed, "\(verdict.details)")
        // Negative control: runs on the host's directory share it.
        var host = Isolation.current
        host.readOnlyRoot = false
        let control = try await verifier(host, allowDegraded: true).verify(
            Sample(response: fenced(program), reference: reference))
        #expect(statuses(control) == ["passed", "wrong_answer"])
    }

    static let hog = """
        import os, time
        for _ in range(60):
            if os.fork() == 0:
                os.setsid()
                while True:
                    pass
        time.sleep(60)
        """

    /// About 1.2 s of CPU in CPython here.
    static let honest = "n = 0\nfor i in range(20000000):\n    n += i\nprint('safe')"

    @Test(
        "a run's CPU time is all its processes together: setsid spinners end at the run's CPU limit, not the wall clock",
        .enabled(if: rootTestsRun, "needs root (cpu and cpuacct cgroups)"))
    func cpuOfTheWholeRun() async throws {
        // Three spinners: each stays under its own per-process limit of 1 s until well past the run's 1 s in total.
        let spinners = Self.hog.replacingOccurrences(of: "range(60)", with: "range(3)")
        // A wall-clock backstop far away: on a loaded machine 1 s of CPU can take many seconds to accumulate.
        let verdict = try await judgeWith(spinners, ["time_limit_s": 1, "wall_time_limit_s": 100], expect: "safe\n")
        #expect(verdict.reason == "time_limit")
        #expect(output(verdict).contains("killed at the CPU limit"), "\(output(verdict))")
        let cpu = verdict.details["cases"]?.arrayValue?.first?.objectValue?["cpu_ms"]?.doubleValue ?? 0
        #expect(cpu >= 1000, "\(cpu)")
        // Negative control: without the cpuacct group only the program's own (sleeping) process is measured, and the
        // spinners run on to the wall-clock backstop.
        var perProcess = Isolation.current
        perProcess.cpuCgroup = nil
        perProcess.cpuacctCgroup = nil
        let control = try await judgeWith(
            spinners, ["time_limit_s": 1, "wall_time_limit_s": 10], perProcess, expect: "safe\n")
        #expect(output(control).contains("killed at the wall-clock limit"), "\(output(control))")
    }

    @Test(
        "60 setsid spinners get their run's CPU share only: an honest program beside them passes",
        .enabled(if: rootTestsRun, "needs root (cpu and cpuacct cgroups)"))
    func fairUnderLoad() async throws {
        func pair(_ isolation: Isolation, wall: Double) async throws -> Verdict {
            async let hog = judgeWith(
                Self.hog, ["time_limit_s": 1, "wall_time_limit_s": .double(wall + 1), "processes": 100], isolation,
                expect: "safe\n")
            try await Task.sleep(for: .milliseconds(500))
            let honest = try await judgeWith(
                Self.honest, ["time_limit_s": 3, "wall_time_limit_s": .double(wall)], isolation, expect: "safe\n")
            _ = try await hog
            return honest
        }
        let fair = try await pair(.current, wall: 60)
        #expect(fair.passed, "\(fair.details)")
        // Negative control: without per-run cpu groups the spinners share the daemon's group with the honest program,
        // which gets a 61st of it and reaches its 10 s wall-clock backstop. For those seconds it would starve every other test
        // running in this process as well, so it runs only when asked (ARBITER_HEAVY_TESTS=1).
        guard ProcessInfo.processInfo.environment["ARBITER_HEAVY_TESTS"] == "1" else { return }
        var shared = Isolation.current
        shared.cpuCgroup = nil
        shared.cpuacctCgroup = nil
        let unfair = try await pair(shared, wall: 10)
        #expect(!unfair.passed && unfair.reason == "time_limit", "\(unfair.details)")
    }
}

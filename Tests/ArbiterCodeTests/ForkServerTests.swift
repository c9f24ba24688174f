// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

@testable import ArbiterCode
import ArbiterCore
import CArbiterSandbox
import Foundation
import Synchronization
import Testing

/// Python's fork server: a warm interpreter per sandbox slot forks each harness run (as root). Each run must be as
/// confined as an executed one and start from the same state, whatever earlier runs from the same server did.
@Suite(
    "code: fork server", .serialized, .timeLimit(.minutes(2)),
    .enabled(if: rootTestsRun, "needs root (the fork server joins each run's namespaces)"))
struct ForkServerTests {
    /// A verifier on its own sandbox: sequential runs reuse the one slot, so they reach the same server.
    func verifier(forkServers: Bool = true, toolchains: URL? = nil) throws -> CodeVerifier {
        CodeVerifier(
            configuration: try CodeVerifier.Configuration(
                options: OptionValues([:], specs: CodeVerifier.Configuration.options, verifier: "code")),
            toolchains: ToolchainSet(directory: toolchains), sandbox: Sandbox(isolation: .current, forkServers: forkServers))
    }

    /// Runs `probe()` of a program through the `calls` form and returns its JSON value.
    func probe(_ program: String, on verifier: CodeVerifier) async throws -> JSONValue {
        let reference: JSONValue = ["calls": ["function": "probe", "cases": [["args": [], "expected": "unused"]]]]
        let verdict = try await verifier.verify(Sample(response: fenced(program), reference: reference))
        let message = verdict.details["cases"]?.arrayValue?.first?.objectValue?["message"]?.stringValue ?? ""
        // "got <value>, expected "unused"": the value the program returned.
        guard message.hasPrefix("got "), let end = message.range(of: ", expected \"unused\"", options: .backwards)
        else {
            Issue.record("no value: \(verdict.details)")
            return .null
        }
        return try JSONParser.parse(String(message[message.index(message.startIndex, offsetBy: 4)..<end.lowerBound]))
    }

    /// The parent of the harness's runner (the program's parent): 0 when the server forked it (from outside the run's
    /// PID namespace), 1 when the run's init executed it.
    static let parent = """
        import os
        def probe():
            return int(open("/proc/%d/stat" % os.getppid()).read().rsplit(")", 1)[1].split()[1])
        """

    @Test("runs fork from the server (their parent is outside the run's namespace); the opt-out executes them")
    func forked() async throws {
        let sandboxed = try verifier()
        #expect(try await probe(Self.parent, on: sandboxed) == 0)
        #expect(sandboxed.sandbox.startedForkServers.withLock { $0.count } == 1)
        // Negative control: without fork servers the run's init is the harness's parent.
        let executed = try verifier(forkServers: false)
        #expect(try await probe(Self.parent, on: executed) == 1)
        #expect(executed.sandbox.startedForkServers.withLock { $0.isEmpty })
    }

    /// What a run can observe of earlier runs: modules, attributes set on them, builtins, environment, files in the
    /// work directory, /tmp and /dev/shm, and the `random` module's state.
    static let observer = """
        import builtins, os, sys, json, random
        def probe():
            return [hasattr(builtins, "arbiter_mark"), getattr(json, "arbiter_mark", None), "arbiter_evil" in sys.modules,
                    os.environ.get("ARBITER_LEAK"), os.path.exists("mark"), os.path.exists("/dev/shm/mark"),
                    sorted(os.listdir(".")), random.random()]
        """

    /// Leaves every trace the observer looks for, then observes (so, within one run, it sees them all).
    static let polluter = """
        import builtins, os, sys, json, random, types
        builtins.arbiter_mark = 1
        json.arbiter_mark = "set"
        sys.modules["arbiter_evil"] = types.ModuleType("arbiter_evil")
        os.environ["ARBITER_LEAK"] = "1"
        open("mark", "w").write("x")
        open("/dev/shm/mark", "w").write("x")
        random.seed(7)
        """ + "\n" + observer

    @Test("nothing carries over between runs of the same server: modules, globals, builtins, environment, files")
    func isolatedRuns() async throws {
        let sandboxed = try verifier()
        let first = try await probe(Self.observer, on: sandboxed)
        let polluted = try await probe(Self.polluter, on: sandboxed)
        let after = try await probe(Self.observer, on: sandboxed)
        #expect(sandboxed.sandbox.startedForkServers.withLock { $0.count } == 1, "the three runs share one server")
        // Negative control: within the polluting run every trace is seen.
        let seen = try #require(polluted.arrayValue)
        #expect(Array(seen.prefix(6)) == [true, "set", true, "1", true, true], "\(polluted)")
        let clean: [JSONValue] = [false, .null, false, .null, false, false]
        #expect(Array(try #require(first.arrayValue).prefix(6)) == clean, "\(first)")
        #expect(Array(try #require(after.arrayValue).prefix(6)) == clean, "\(after)")
        // Each run starts with the same files, and `random` is seeded afresh in each run (never the server's state).
        #expect(first.arrayValue?[6] == after.arrayValue?[6])
        #expect(first.arrayValue?[7] != after.arrayValue?[7], "random repeats across runs: \(first) \(after)")
    }

    /// How confined the run's process is: identity, no_new_privs, seccomp, capabilities, limits, directory,
    /// environment and open descriptors.
    static let confinement = """
        import os, resource
        def probe():
            status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line)
            descriptors = []
            for fd in os.listdir("/proc/self/fd"):
                try:
                    descriptors.append(os.readlink("/proc/self/fd/" + fd).split(":")[0])
                except OSError:
                    pass  # the listing's own descriptor
            return [[status[key].split()[0] for key in ("Uid", "NoNewPrivs", "Seccomp", "CapEff")],
                    resource.getrlimit(resource.RLIMIT_CPU), resource.getrlimit(resource.RLIMIT_NOFILE),
                    resource.getrlimit(resource.RLIMIT_CORE), os.getcwd() == os.environ["HOME"], sorted(os.environ),
                    sorted(set(d for d in descriptors if d != "pipe" and not d.startswith("/")))]
        """

    @Test("a forked run is as confined as an executed one: user, no_new_privs, seccomp, limits, environment, fds")
    func confined() async throws {
        let forked = try await probe(Self.confinement, on: try verifier())
        let executed = try await probe(Self.confinement, on: try verifier(forkServers: false))
        #expect(forked == executed, "forked \(forked)\nexecuted \(executed)")
        #expect(forked.arrayValue?.first == ["65534", "1", "2", "0000000000000000"], "\(forked)")
        // No socket (the server's), no descriptor other than pipes and files.
        #expect(forked.arrayValue?[6] == [])
    }

    /// The first line of the output a stdin/stdout case got, from its `wrong_answer` message.
    func output(_ program: String, on verifier: CodeVerifier) async throws -> String {
        let reference: JSONValue = ["tests": [["stdin": "", "stdout": "unused\n"]]]
        let verdict = try await verifier.verify(Sample(response: fenced(program), reference: reference))
        let message = verdict.details["cases"]?.arrayValue?.first?.objectValue?["message"]?.stringValue ?? ""
        return message.split(separator: "'").dropFirst().first.map(String.init) ?? "no output: \(verdict.details)"
    }

    @Test("stdin/stdout cases fork from the server too (warm_run), as confined as executed ones")
    func warmRun() async throws {
        let forked = try verifier(), executed = try verifier(forkServers: false)
        let parent = "import os\nprint(os.getppid())"
        #expect(try await output(parent, on: forked) == "0")
        // Negative control: executed, the program is the child of the run's init.
        #expect(try await output(parent, on: executed) == "1")
        // The confinement probe, printed as a digest: the same both ways.
        let digest = Self.confinement + "\nimport hashlib, json\nprint(hashlib.sha256(json.dumps(probe()).encode()).hexdigest())"
        let (a, b) = (try await output(digest, on: forked), try await output(digest, on: executed))
        #expect(a == b && a.count == 64, "\(a) \(b)")
        #expect(forked.sandbox.startedForkServers.withLock { $0.count } == 1)
    }

    @Test("many quick runs at once all get their program's status (the pid and status lines are read apart)")
    func quickRuns() async throws {
        // A program that ends before init reads its pid used to lose its status line with it (init read both at once
        // and saw the program as killed): 4 in 200 such runs failed at --jobs 6 here.
        let verifier = try verifier()
        let reference: JSONValue = ["tests": [["stdin": "1 2\n", "stdout": "3\n"]]]
        let program = fenced("a, b = map(int, input().split())\nprint(a + b)")
        let failed = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<120 {
                if index >= 6, try await group.next() == false { return 1 }
                group.addTask { try await verifier.verify(Sample(response: program, reference: reference)).passed }
            }
            return try await group.reduce(0) { $0 + ($1 ? 0 : 1) }
        }
        #expect(failed == 0)
    }

    @Test("a program's kill(0), killpg and kill(-1) reach only its own run, not a concurrent run of another server")
    func processGroups() async throws {
        let verifier = try verifier()
        // Each forked run leads a session of its own (an executed one is in its init's: session 1).
        #expect(try await output("import os\nprint(os.getsid(0) == os.getpid() == os.getpgrp())", on: verifier) == "True")
        let sleeper = fenced("import time\ntime.sleep(3)\nprint('safe')")
        let killer = """
            import os, signal, time
            time.sleep(0.5)
            for kill in (lambda: os.kill(0, signal.SIGKILL), lambda: os.killpg(0, signal.SIGKILL),
                         lambda: os.kill(-1, signal.SIGKILL)):
                try:
                    kill()
                except OSError:
                    pass
            def f():
                return 1
            """
        let answer: JSONValue = ["tests": [["stdin": "", "stdout": "safe\n"]]]
        let results = try await withThrowingTaskGroup(of: Verdict?.self) { group in
            group.addTask { try await verifier.verify(Sample(response: sleeper, reference: answer)) }
            group.addTask {
                _ = try await verifier.verify(Sample(response: fenced(killer), reference: ["test": "assert f() == 1"]))
                return nil
            }
            group.addTask {
                _ = try await verifier.verify(Sample(response: fenced(killer), reference: ["tests": [["stdin": "", "stdout": ""]]]))
                return nil
            }
            return try await group.reduce(into: [Verdict]()) { if let verdict = $1 { $0.append(verdict) } }
        }
        #expect(results.count == 1 && results[0].passed, "\(results.map(\.details))")
    }

    @Test("limits hold in forked runs: the CPU limit is time_limit, the memory cgroup memory_limit")
    func limits() async throws {
        let sandboxed = CodeVerifier(
            configuration: try CodeVerifier.Configuration(
                options: OptionValues(
                    ["time_limit_s": 1, "memory_mb": 64], specs: CodeVerifier.Configuration.options, verifier: "code")),
            toolchains: ToolchainSet(directory: nil), sandbox: Sandbox(isolation: .current))
        let reference: JSONValue = ["test": "assert f() == 1", "entry_point": "f"]
        let spin = try await sandboxed.verify(
            Sample(response: fenced("def f():\n    while True:\n        pass"), reference: reference))
        #expect(spin.reason == "time_limit", "\(spin.details)")
        let hog = try await sandboxed.verify(
            Sample(response: fenced("def f():\n    x = 'x' * (512 << 20)\n    return 1"), reference: reference))
        #expect(hog.reason == "memory_limit", "\(hog.details)")
        // Negative control: the same verifier passes an honest program, forked from the same server.
        let honest = try await sandboxed.verify(Sample(response: fenced("def f():\n    return 1"), reference: reference))
        #expect(honest.passed, "\(honest.details)")
        #expect(sandboxed.sandbox.startedForkServers.withLock { $0.count } == 1)
    }

    @Test("a server that died is started again; runs never fail for it")
    func restarted() async throws {
        let sandboxed = try verifier()
        #expect(try await probe(Self.parent, on: sandboxed) == 0)
        let first = try #require(sandboxed.sandbox.startedForkServers.withLock { $0.first })
        kill(first, SIGKILL)
        #expect(try await probe(Self.parent, on: sandboxed) == 0)
        let servers = sandboxed.sandbox.startedForkServers.withLock { $0 }
        #expect(servers.count == 2 && servers[1] != first, "\(servers)")
    }

    @Test("a server that cannot start leaves runs to the executed harness (control: the working server forks them)")
    func fallback() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("arbiter-fs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let shipped = repository.appendingPathComponent("verifiers/toolchains")
        for name in ["python.harness.py", "python.forkserver.py", "python.compiler.py"] {
            try FileManager.default.copyItem(at: shipped.appendingPathComponent(name), to: root.appendingPathComponent(name))
        }
        let declaration = try String(contentsOf: shipped.appendingPathComponent("python.json"), encoding: .utf8)
        let broken = declaration.replacingOccurrences(
            of: #""fork_server": {"code_file": "python.forkserver.py", "run": ["{interpreter}""#,
            with: #""fork_server": {"code_file": "python.forkserver.py", "run": ["/bin/false""#)
        #expect(broken != declaration)
        try broken.write(to: root.appendingPathComponent("python.json"), atomically: true, encoding: .utf8)
        let fallback = try verifier(toolchains: root)
        #expect(try await probe(Self.parent, on: fallback) == 1)
        #expect(try await probe(Self.parent, on: fallback) == 1)
        // Negative control: the shipped declaration, copied the same way, forks.
        try declaration.write(to: root.appendingPathComponent("python.json"), atomically: true, encoding: .utf8)
        #expect(try await probe(Self.parent, on: try verifier(toolchains: root)) == 0)
    }
}

@Suite(
    "code: concurrent slots", .timeLimit(.minutes(1)),
    .enabled(if: rootTestsRun, "needs root (a network namespace per slot)"))
struct ConcurrentSlotTests {
    @Test("slots made at once each get their network namespace: no child of one holds another's gate open")
    func concurrentNetworkNamespaces() async throws {
        // Before the fix two children each inherited the other's gate and both waited for ever (the suite hung).
        let made = Mutex<[Int32]>([])
        for _ in 0..<4 {
            Thread.detachNewThread {
                for _ in 0..<25 {
                    let fd = arb_create_network_namespace()
                    made.withLock { $0.append(fd) }
                }
            }
        }
        while made.withLock({ $0.count }) < 100 { try await Task.sleep(for: .milliseconds(20)) }
        let descriptors = made.withLock { $0 }
        #expect(descriptors.allSatisfy { $0 >= 0 }, "\(descriptors.filter { $0 < 0 })")
        for fd in descriptors where fd >= 0 { close(fd) }
    }
}

/// The fork server as an ordinary user: each run has a user namespace of its own; the server's child joins it (as
/// its owner) and the run's other namespaces, and forks the run's process, which must leave every capability that
/// joining gave it. As root these runs are covered by "code: fork server".
@Suite(
    "code: fork server, ordinary user", .serialized, .timeLimit(.minutes(2)),
    .enabled(
        if: geteuid() == 0
            ? FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") || requireAllTests
            : (isolatedTestsRun && Isolation.current.namespaces.contains("user")) || requireAllTests,
        "needs an ordinary user whose runs get user namespaces (as root: setpriv, to run the tests as uid 65534)"))
struct UnprivilegedForkServerTests {
    let helper = ForkServerTests()

    /// As root (CI), each test of this suite runs again in a copy of this test binary as uid/gid 65534 (`setpriv`),
    /// filtered to that one test, and passes only if the copy ran it and it passed: an ordinary user's sandbox
    /// cannot be made by a root process. Returns false when this process is already an ordinary user.
    static func delegatedAsOrdinaryUser(_ function: String = #function) throws -> Bool {
        guard geteuid() == 0 else { return false }
        let name = String(function.prefix { $0 != "(" })
        let binary = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", binary,
                             "--testing-library", "swift-testing", "--filter", "UnprivilegedForkServerTests/\(name)"]
        process.currentDirectoryURL = FileManager.default.temporaryDirectory
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        let passedLines = text.split(separator: "\n").filter { $0.contains("Test \"") && $0.contains("\" passed") }
        #expect(process.terminationStatus == 0 && passedLines.count == 1 && !text.contains("skipped"),
            "the test as uid 65534: \(text.suffix(3000))")
        return true
    }

    /// The parent of the runner (0: forked from outside the run's PID namespace; 1: executed by the run's init), the
    /// identity, no_new_privs, seccomp mode and the four capability sets of the run's process.
    static let identity = """
        import os
        def probe():
            status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line)
            parent = int(open("/proc/%d/stat" % os.getppid()).read().rsplit(")", 1)[1].split()[1])
            return [parent] + [status[key].split()[0] for key in
                               ("Uid", "NoNewPrivs", "Seccomp", "CapEff", "CapPrm", "CapInh", "CapAmb")]
        """

    @Test("runs fork from the server and are as confined as executed ones: no capability, no_new_privs, seccomp")
    func forkedAndConfined() async throws {
        if try Self.delegatedAsOrdinaryUser() { return }
        let forked = try await helper.probe(Self.identity, on: try helper.verifier())
        let executed = try await helper.probe(Self.identity, on: try helper.verifier(forkServers: false))
        let uid = JSONValue.string(String(getuid()))
        let none = JSONValue.string("0000000000000000")
        #expect(forked == [0, uid, "1", "2", none, none, none, none], "\(forked)")
        // Control: the executed run differs only in its parent (the run's init).
        #expect(executed == [1, uid, "1", "2", none, none, none, none], "\(executed)")
        #expect(try await helper.probe(ForkServerTests.confinement, on: try helper.verifier())
            == helper.probe(ForkServerTests.confinement, on: try helper.verifier(forkServers: false)))
    }

    @Test("without the capability drop a forked run would keep what joining the user namespace gave it")
    func capabilitiesControl() async throws {
        if try Self.delegatedAsOrdinaryUser() { return }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("arbiter-caps-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let toolchains = repository.appendingPathComponent("verifiers/toolchains")
        let server = try String(contentsOf: toolchains.appendingPathComponent("python.forkserver.py"), encoding: .utf8)
        let drop = "    if prctl(*clear_ambient) != 0 or not drop_capabilities():\n"
        #expect(server.contains(drop))
        let weakened = server.replacingOccurrences(of: drop, with: "    if False:\n")
        try weakened.write(to: directory.appendingPathComponent("python.forkserver.py"), atomically: true, encoding: .utf8)
        for name in ["python.json", "python.harness.py", "python.compiler.py"] {
            try FileManager.default.copyItem(
                at: toolchains.appendingPathComponent(name), to: directory.appendingPathComponent(name))
        }
        let value = try await helper.probe(Self.identity, on: try helper.verifier(toolchains: directory))
        let effective = value.arrayValue?[4].stringValue ?? ""
        #expect(value.arrayValue?.first == 0 && effective != "0000000000000000", "\(value)")
    }

    @Test("nothing carries over between runs of the same server")
    func isolatedRuns() async throws {
        if try Self.delegatedAsOrdinaryUser() { return }
        let sandboxed = try helper.verifier()
        let first = try await helper.probe(ForkServerTests.observer, on: sandboxed)
        let polluted = try await helper.probe(ForkServerTests.polluter, on: sandboxed)
        let after = try await helper.probe(ForkServerTests.observer, on: sandboxed)
        #expect(sandboxed.sandbox.startedForkServers.withLock { $0.count } == 1)
        #expect(Array(try #require(polluted.arrayValue).prefix(6)) == [true, "set", true, "1", true, true])
        let clean: [JSONValue] = [false, .null, false, .null, false, false]
        #expect(Array(try #require(first.arrayValue).prefix(6)) == clean, "\(first)")
        #expect(Array(try #require(after.arrayValue).prefix(6)) == clean, "\(after)")
    }
}

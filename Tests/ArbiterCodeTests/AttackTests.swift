// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCode
import ArbiterCore
import Foundation
import Testing

/// What a hostile program tries, each against the guard that must stop it. Every test would fail if its guard broke.
@Suite(
    "code: attacks", .serialized, .timeLimit(.minutes(1)),
    .enabled(if: isolatedTestsRun, "needs namespaces (root or unprivileged user namespaces)"))
struct AttackTests {
    let answer: JSONValue = ["tests": [["stdin": "", "stdout": "safe\n"]]]

    /// A marker no other process carries: a `sleep` duration unique to this test.
    func marker() -> String { "1000.\(UInt32.random(in: 100_000...999_999))" }

    /// The processes whose command line contains a marker.
    func processes(carrying marker: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return names.filter { name in
            guard Int(name) != nil, let data = FileManager.default.contents(atPath: "/proc/\(name)/cmdline") else {
                return false
            }
            return String(decoding: data, as: UTF8.self).contains(marker)
        }
    }

    @Test("the isolation on this host is complete (CI runs as root) and named in every verdict")
    func isolationIsComplete() async throws {
        let verdict = try await judge(fenced("print('safe')"), answer)
        #expect(verdict.passed)
        let sandbox = verdict.details["sandbox"]?.stringValue ?? ""
        #expect(sandbox.contains("namespaces pid+net+mount+ipc+uts"), "\(sandbox)")
        #expect(sandbox.contains("a network namespace per run") && sandbox.contains("seccomp"), "\(sandbox)")
        #expect(sandbox.contains("minimal read-only root"))
        #expect(try registry.entry(named: "code").summary.contains("namespaces pid+net"))
        if rootTestsRun {
            #expect(sandbox.contains("uid 65534") && sandbox.contains("cgroups memory+pids"))
            #expect(!sandbox.contains("DEGRADED"))
        } else {
            // An ordinary user: the same namespaces inside a user namespace; no cgroups, which is named.
            #expect(sandbox.contains("+user") && sandbox.contains("DEGRADED: not root: no cgroups"), "\(sandbox)")
        }
    }

    @Test("an infinite loop ends at the time limit")
    func infiniteLoop() async throws {
        // A generous wall-clock backstop: the CPU limit must be what ends it, however loaded the machine is.
        let verdict = try await judge(fenced("while True:\n    pass"), answer, ["time_limit_s": 1, "wall_time_limit_s": 60])
        #expect(statuses(verdict) == ["time_limit"])
        let message = verdict.details["cases"]?.arrayValue?.first?.objectValue?["message"]?.stringValue ?? ""
        #expect(!message.contains("wall-clock"), "\(message)")
    }

    @Test("sleeping ends at the wall-clock limit, not the CPU limit")
    func sleep() async throws {
        let verdict = try await judge(fenced("import time\ntime.sleep(60)"), answer, ["time_limit_s": 1])
        #expect(statuses(verdict) == ["time_limit"])
        let message = verdict.details["cases"]?.arrayValue?.first?.objectValue?["message"]?.stringValue ?? ""
        #expect(message.contains("wall-clock"), "\(message)")
    }

    @Test("a fork bomb hits the process limit and leaves nothing behind")
    func forkBomb() async throws {
        let mark = marker()
        let program = """
            import os
            n = 0
            while True:
                n += 1
                try:
                    if os.fork() == 0 and n % 3 == 0:
                        os.execv("/bin/sleep", ["sleep", "\(mark)"])
                except OSError:
                    pass
            """
        let verdict = try await judge(fenced(program), answer, ["time_limit_s": 2, "processes": 32])
        #expect(!verdict.passed)
        #expect(["time_limit", "runtime_error"].contains(statuses(verdict).first ?? ""))
        let message = verdict.details["cases"]?.arrayValue?.first?.objectValue?["message"]?.stringValue ?? ""
        // The pids cgroup (root) reports the limit; RLIMIT_NPROC in a user namespace only makes fork fail.
        if rootTestsRun { #expect(message.contains("process limit reached"), "\(message)") }
        #expect(processes(carrying: mark).isEmpty)
    }

    @Test("a 16 GiB allocation is a memory_limit")
    func hugeAllocation() async throws {
        let verdict = try await judge(fenced("x = 'a' * (16 << 30)\nprint('safe')"), answer, ["memory_mb": 256])
        #expect(statuses(verdict) == ["memory_limit"], "\(verdict.details)")
    }

    @Test("an output flood is cut at the cap and killed")
    func outputFlood() async throws {
        let verdict = try await judge(
            fenced("while True:\n    print('x' * 1000)"), answer, ["output_limit_kb": 64, "time_limit_s": 10])
        #expect(statuses(verdict) == ["output_limit"])
        let stderrFlood = try await judge(
            fenced("import sys\nwhile True:\n    sys.stderr.write('y' * 1000)"), answer, ["output_limit_kb": 64])
        #expect(statuses(stderrFlood) == ["output_limit"])
        let kept = stderrFlood.details["cases"]?.arrayValue?.first?.objectValue?["stderr"]?.stringValue ?? ""
        #expect(kept.utf8.count < 1000)
    }

    /// A program that forks a child which leaves the process group (`setsid`) and sleeps with `mark` in its command
    /// line, waits until the child has exec'd, then prints "safe".
    static func detachedSleeper(_ mark: String) -> String {
        """
        import os
        ready, done = os.pipe()
        if os.fork() == 0:
            os.setsid()
            os.close(done)
            os.execv("/bin/sleep", ["sleep", "\(mark)"])
        os.close(done)
        os.read(ready, 1)
        print("safe")
        """
    }

    @Test("an orphaned background process is dead once the verdict is out")
    func orphan() async throws {
        let mark = marker()
        let program = """
            import subprocess
            subprocess.Popen(["/bin/sleep", "\(mark)"], start_new_session=True,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

            """ + Self.detachedSleeper(mark)
        let verdict = try await judge(fenced(program), answer)
        #expect(verdict.passed, "\(verdict.details)")
        #expect(processes(carrying: mark).isEmpty)
    }

    @Test("no network: a listener on the host's loopback is unreachable")
    func network() async throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        #expect(bound == 0 && listen(listener, 8) == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        let port = Int(UInt16(bigEndian: address.sin_port))
        let program = """
            import socket
            results = []
            for host, port in (("127.0.0.1", \(port)), ("1.1.1.1", 53)):
                try:
                    socket.create_connection((host, port), timeout=2).close()
                    results.append("connected")
                except OSError:
                    results.append("blocked")
            print("safe" if results == ["blocked", "blocked"] else " ".join(results))
            """
        let verdict = try await judge(fenced(program), answer)
        #expect(verdict.passed, "\(verdict.details)")
        _ = fcntl(listener, F_SETFL, O_NONBLOCK)
        #expect(accept(listener, nil, nil) == -1)
    }

    @Test("a root-only file cannot be read")
    func rootOnlyFile() async throws {
        let path = "/tmp/arbiter-secret-\(UUID().uuidString)"
        #expect(
            FileManager.default.createFile(
                atPath: path, contents: Data("secret".utf8), attributes: [.posixPermissions: 0o600]))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let program = """
            found = []
            for path in ("\(path)", "/etc/shadow"):
                try:
                    found.append(open(path).read()[:10])
                except OSError:
                    pass
            print("safe" if not found else found)
            """
        #expect(try await judge(fenced(program), answer).passed)
    }

    @Test("the host's files beyond /usr, /etc and /dev are out of sight (datasets, repositories, homes)")
    func hiddenFiles() async throws {
        let program = """
            import os
            seen = [p for p in ("\(repository.path)", "/work", "/home", "/root", "/var", "/sys", "/run", "/boot", "/opt")
                    if os.path.exists(p)]
            print("safe" if not seen and sorted(os.listdir("/usr"))[:1] == ["bin"] else seen)
            """
        let verdict = try await judge(fenced(program), answer)
        #expect(verdict.passed, "\(verdict.details)")
    }

    @Test("nothing outside the work directory can be written, not even a world-writable directory")
    func writeOutside() async throws {
        let open = "/tmp/arbiter-open-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: open, withIntermediateDirectories: false)
        chmod(open, 0o777)
        defer { try? FileManager.default.removeItem(atPath: open) }
        let program = """
            written = []
            for path in ("\(open)/x", "/tmp/arbiter-probe", "/dev/shm/../x", "/var/tmp/arbiter-probe"):
                try:
                    with open(path, "w") as f:
                        f.write("x")
                    written.append(path)
                except OSError:
                    pass
            with open("mine.txt", "w") as f:
                f.write("the work directory is writable")
            print("safe" if not written else written)
            """
        let verdict = try await judge(fenced(program), answer)
        #expect(verdict.passed, "\(verdict.details)")
        #expect(!FileManager.default.fileExists(atPath: open + "/x"))
        #expect(!FileManager.default.fileExists(atPath: "/var/tmp/arbiter-probe"))
    }

    @Test("os._exit(0) before the tests, or forged reports, never pass")
    func earlyExit() async throws {
        let check: JSONValue = [
            "test": "def check(candidate):\n    assert candidate(2) == 4\n", "entry_point": "double",
        ]
        let honest = try await judge(fenced("def double(x):\n    return 2 * x"), check)
        #expect(honest.passed)
        let exits = try await judge(fenced("import os\ndef double(x):\n    return 0\nos._exit(0)"), check)
        #expect(!exits.passed && exits.score == 0 && exits.reason == "runtime_error")
        let forged = """
            import os, sys
            def double(x):
                return 0
            for fd in (1, 2, 4):
                os.write(fd, b'["end"]\\n0 ["end"]\\n [0, "passed", 1]\\n')
            sys.exit(0)
            """
        let forgery = try await judge(fenced(forged), check)
        #expect(!forgery.passed && forgery.score == 0)
        let raises = try await judge(fenced("def double(x):\n    raise SystemExit(0)"), check)
        #expect(!raises.passed)
    }

    /// A Python program whose `probe()` lists every way it found into the test runner (its parent): its memory, its
    /// descriptors 3 and 4, its environment, ptrace and process_vm_readv. The reference passes only when the list is
    /// empty and the parent is the harness, so the test fails if the runner were readable.
    static let parentProbe = #"""
        import ctypes, os
        def probe():
            parent = os.getppid()
            with open("/proc/%d/cmdline" % parent, "rb") as f:
                opened = ["harness"] if b"harness." in f.read() else ["parent is not the harness"]
            # This process is a fork of the runner: its first writable mapping is at an address the runner has too.
            with open("/proc/self/maps") as f:
                address = next(int(line.split("-")[0], 16) for line in f if line.split()[1].startswith("rw"))
            for name, mode in (("mem", "rb"), ("fd/3", "rb"), ("fd/4", "wb"), ("environ", "rb"), ("maps", "rb")):
                try:
                    with open("/proc/%d/%s" % (parent, name), mode, buffering=0) as f:
                        if name == "mem":
                            f.seek(address)
                        opened.append(name if "w" in mode else name + ":" + str(len(f.read(4096))))
                except OSError:
                    pass
            for fd in (3, 4):
                try:
                    os.fstat(fd)
                    opened.append("own fd %d" % fd)
                except OSError:
                    pass
            libc = ctypes.CDLL(None, use_errno=True)
            buffer = ctypes.create_string_buffer(64)
            class IOVec(ctypes.Structure):
                _fields_ = [("base", ctypes.c_void_p), ("length", ctypes.c_size_t)]
            local, remote = IOVec(ctypes.addressof(buffer), 64), IOVec(0x400000, 64)
            if libc.process_vm_readv(parent, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0) >= 0:
                opened.append("process_vm_readv")
            if libc.ptrace(16, parent, None, None) == 0:  # PTRACE_ATTACH
                opened.append("ptrace")
                os.waitpid(parent, 0x40000000)  # __WALL: the attach stop, before the detach can work
                libc.ptrace(17, parent, None, None)  # PTRACE_DETACH
            return opened
        """#

    @Test("Python: the test runner is out of the program's reach (memory, fds 3 and 4, environ, ptrace)")
    func runnerIsShielded() async throws {
        let reference: JSONValue = ["test": ["opened = probe()\nassert opened == ['harness'], opened"]]
        let verdict = try await judge(fenced(Self.parentProbe), reference)
        #expect(verdict.passed, "\(verdict.details)")
    }

    @Test("Python: killing or stopping the test runner, or the program's own process, never passes")
    func runnerKilled() async throws {
        let check: JSONValue = [
            "test": "def check(candidate):\n    assert candidate(2) == 4\n    assert candidate(3) == 6\n",
            "entry_point": "double",
        ]
        for (signal, expected) in [("SIGKILL", "runtime_error"), ("SIGSTOP", "time_limit"), ("SIGTERM", "runtime_error")] {
            let program = "import os, signal\ndef double(x):\n    os.kill(os.getppid(), signal.\(signal))\n    return 2 * x"
            let verdict = try await judge(fenced(program), check, ["time_limit_s": 1])
            #expect(!verdict.passed && verdict.score == 0 && verdict.reason == expected, "\(signal): \(verdict.details)")
        }
        // The program's process dies in the second case: that case and the rest fail, the first stands.
        let dies = "import os\ndef double(x):\n    if x == 3:\n        os._exit(0)\n    return 2 * x"
        let asserts: JSONValue = ["test": ["assert double(2) == 4", "assert double(3) == 6", "assert double(4) == 8"]]
        let verdict = try await judge(fenced(dies), asserts)
        #expect(statuses(verdict) == ["passed", "runtime_error", "runtime_error"], "\(verdict.details)")
        let memory = "def double(x):\n    if x == 3:\n        b = b'x' * (1 << 30)\n    return 2 * x"
        let heavy = try await judge(fenced(memory), asserts, ["memory_mb": 128])
        // The memory cgroup (root) kills the program's process; RLIMIT_AS (an ordinary user) makes the allocation
        // raise MemoryError, and the process lives on to pass the third case.
        // As root the third case fails because the program's process is gone; whether it is labelled by that death
        // (`runtime_error`) or by the cgroup's out-of-memory event the supervisor may already have read
        // (`memory_limit`) depends on timing. Either way it is not passed: that is the guarantee.
        let third = statuses(heavy).last ?? ""
        #expect(Array(statuses(heavy).prefix(2)) == ["passed", "memory_limit"], "\(heavy.details)")
        if rootTestsRun {
            #expect(["runtime_error", "memory_limit"].contains(third) && !heavy.passed, "\(heavy.details)")
        } else {
            #expect(third == "passed", "\(heavy.details)")
        }
        let loops = "def double(x):\n    while x == 3:\n        pass\n    return 2 * x"
        let slow = try await judge(fenced(loops), asserts, ["time_limit_s": 1])
        #expect(statuses(slow).prefix(2) == ["passed", "time_limit"] && !slow.passed, "\(slow.details)")
    }

    @Test("\"AlwaysEqual\": a result that says it equals anything does not pass an assert", arguments: [
        "class W(int):\n    def __eq__(self, other): return True\n    __hash__ = int.__hash__\ndef double(x):\n    return W(0)",
        "class A:\n    def __eq__(self, other): return True\n    def __ne__(self, other): return False\ndef double(x):\n    return A()",
        "class L(list):\n    def __eq__(self, other): return True\ndef double(x):\n    return L([0])",
        "class S(str):\n    def __eq__(self, other): return True\n    __hash__ = str.__hash__\ndef double(x):\n    return S('no')",
    ])
    func alwaysEqual(_ program: String) async throws {
        let check: JSONValue = [
            "test": "def check(candidate):\n    assert candidate(2) == 4\n    assert not (candidate(3) != 6)\n",
            "entry_point": "double",
        ]
        let verdict = try await judge(fenced(program), check)
        #expect(!verdict.passed && verdict.score == 0, "\(verdict.details)")
        // MBPP-style bare asserts too.
        let mbpp = try await judge(fenced(program), ["test": ["assert double(2) == 4"]])
        #expect(!mbpp.passed, "\(mbpp.details)")
        // A subclass whose value is right still passes: only the claim of equality is checked, not the type.
        let right = "class W(int):\n    def __eq__(self, other): return True\n    __hash__ = int.__hash__\ndef double(x):\n    return W(2 * x)"
        #expect(try await judge(fenced(right), check).passed)
    }

    @Test("patching the harness's tools (exec, compile, os.write; vm, fs, Array.prototype.forEach) never passes")
    func patchedHarness() async throws {
        let check: JSONValue = ["test": "def check(candidate):\n    assert candidate(2) == 4\n", "entry_point": "double"]
        let python = """
            import builtins, os
            builtins.exec = lambda *args, **kwargs: None
            builtins.compile = lambda *args, **kwargs: None
            os.write = lambda fd, data: len(data)
            def double(x):
                return 0
            """
        let patched = try await judge(fenced(python), check)
        #expect(!patched.passed && patched.reason == "wrong_answer", "\(patched.details)")
        let script: JSONValue = ["test": "const assert = require('node:assert');\nassert.strictEqual(double(2), 4);"]
        let javascript = """
            const vm = require("vm"), fs = require("fs");
            vm.runInThisContext = () => undefined;
            fs.writeSync = () => 0;
            Array.prototype.forEach = function () {};
            function double(x) { return 0; }
            """
        let patchedJS = try await judge(fenced(javascript, "javascript"), script)
        #expect(!patchedJS.passed, "\(patchedJS.details)")
    }

    @Test("killing the parent reaches nothing outside the sandbox")
    func killParent() async throws {
        let program = """
            import os, signal
            for target in (os.getppid(), \(getpid())):
                try:
                    os.kill(target, signal.SIGKILL)
                except OSError:
                    pass
            try:
                os.killpg(0, signal.SIGKILL)
            except OSError:
                pass
            print("safe")
            """
        _ = try await judge(fenced(program), answer)
        #expect(try await judge(fenced("print('safe')"), answer).passed)
    }

    @Test("the daemon's environment does not leak")
    func environment() async throws {
        setenv("ARBITER_TEST_SECRET", UUID().uuidString, 1)
        let program = """
            import os
            leaked = "ARBITER_TEST_SECRET" in os.environ
            for pid in ["1", str(os.getppid()), "\(getpid())"] + os.listdir("/proc"):
                try:
                    with open("/proc/%s/environ" % pid, "rb") as f:
                        leaked = leaked or b"ARBITER_TEST_SECRET" in f.read()
                except OSError:
                    pass
            print("leaked" if leaked else "safe")
            """
        let verdict = try await judge(fenced(program), answer)
        #expect(verdict.passed, "\(verdict.details)")
    }

    @Test("a program that exits without reading 8 MB of stdin costs nothing but its verdict")
    func unreadInput() async throws {
        let big = String(repeating: "1234567\n", count: 1 << 20)
        let verdict = try await judge(fenced("print('safe')"), ["tests": [["stdin": .string(big), "stdout": "safe"]]])
        #expect(verdict.passed)
    }

    @Test("a normal request is served right after the attacks")
    func normalAfterwards() async throws {
        let verdict = try await judge(
            fenced("a, b = map(int, input().split())\nprint(a + b)"), ["tests": [["stdin": "2 3", "stdout": "5"]]])
        #expect(verdict.passed)
    }
}

// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import CArbiterSandbox
import Foundation
import Synchronization

/// What a run asks the test compiler for: the toolchain's compiler (its command, and the harness whose `compile_test`
/// it uses) and the scripts, in the order the harness numbers them (the tests, then the setup; an empty script is not
/// compiled).
struct TestCompileRequest: Sendable {
    let compiler: ForkServerRequest
    let scripts: [(name: String, source: String)]
}

/// The test compilers of a sandbox (``Harness/testCompiler``; Python's is `python.compiler.py`), and the code they
/// made, kept by script.
///
/// A run's runner would otherwise parse, rewrite and compile every test script in a process just forked, where
/// everything it allocates copies pages (about 0.8 ms and 150 page faults a HumanEval test); the compiler is a warm
/// interpreter that does it without copying anything, and a script that many responses share (a prompt's tests in a
/// group) is compiled once. The compiler runs only the harness's own compilation, never a test or a program, in no
/// run's namespaces or groups: it is started (like a fork server) from a thread of its own that sits in the sandbox's
/// base groups, so that it never counts in a run's memory, processes or CPU time. The code reaches the runner on its
/// fd 3, which the program's process never holds. Whatever fails (the compiler cannot start, a script does not
/// compile, an answer is too large or late) leaves that script to the runner, as before.
final class TestCompilers: Sendable {
    private struct Compiler {
        let pid: pid_t
        let socket: Int32
    }

    private struct State {
        var running: [ForkServerRequest: Compiler] = [:]
        var starting: Set<ForkServerRequest> = []
        var failed: Set<ForkServerRequest> = []
        /// Marshalled code by compiler and script (name, NUL, source).
        var code: [ForkServerRequest: [String: [UInt8]]] = [:]
        var bytes = 0
    }

    /// The groups the compilers are born in (`tasks` files of the sandbox's base groups).
    private let groups: [String]
    private let state = Mutex(State())
    /// At most this many bytes of code are kept (then everything is dropped and kept anew).
    private static let capacity = 64 << 20
    /// How long an answer may take before the compiler is ended and the script left to the runner.
    private static let patienceMilliseconds: Int32 = 10_000
    /// How many scripts the compilers compiled, and how many answers came from what was kept (tests read them).
    let compiled = Atomic<Int>(0)
    let reused = Atomic<Int>(0)

    /// The pids of the compilers running now (tests read them).
    var pids: [pid_t] { state.withLock { $0.running.values.map(\.pid) } }

    init(groups: [String]) {
        self.groups = groups
    }

    /// The `code` section of a run's fd-3 input (`code <n>`, then each script's marshalled code as its length and
    /// bytes, empty where there is none), or nothing when no script could be compiled. Blocks: call it from a slot's
    /// thread.
    func section(for request: TestCompileRequest) -> [UInt8] {
        let items = state.withLock { state in
            // One lookup of the compiler's table (its key holds the harness's code: hashing it is not free), taken out
            // of the state while it is extended: a copy left there would make the first insertion copy the whole table
            // (every script kept so far) in every run that compiles a new script.
            var kept = state.code.removeValue(forKey: request.compiler) ?? [:]
            defer { if !kept.isEmpty { state.code[request.compiler] = kept } }
            var added = 0
            var items: [[UInt8]] = []
            for script in request.scripts {
                guard !script.source.isEmpty else {
                    items.append([])
                    continue
                }
                let key = script.name + "\u{0}" + script.source
                if let code = kept[key] {
                    reused.add(1, ordering: .relaxed)
                    items.append(code)
                    continue
                }
                let code = compile(script, with: request.compiler, in: &state)
                if !code.isEmpty {
                    kept[key] = code
                    added += code.count
                }
                items.append(code)
            }
            if added > 0 {
                state.bytes += added
                if state.bytes > Self.capacity {
                    // Everything of the other compilers goes; this one's table is what it holds now (put back on the
                    // way out).
                    state.code = [:]
                    state.bytes = kept.values.reduce(0) { $0 + $1.count }
                }
            }
            return items
        }
        guard items.contains(where: { !$0.isEmpty }) else { return [] }
        var section = Array("code \(items.count)\n".utf8)
        for item in items { section += Array("\(item.count)\n".utf8) + item }
        return section
    }

    /// One script's code from the compiler, or nothing (the runner then compiles it).
    private func compile(
        _ script: (name: String, source: String), with request: ForkServerRequest, in state: inout State
    ) -> [UInt8] {
        guard let compiler = compiler(for: request, in: &state) else { return [] }
        guard let answer = ask(compiler, Array((script.name + "\n" + script.source).utf8)) else {
            kill(compiler.pid, SIGKILL)
            while waitpid(compiler.pid, nil, 0) < 0 && errno == EINTR {}
            close(compiler.socket)
            state.running[request] = nil
            return []
        }
        compiled.add(1, ordering: .relaxed)
        return answer
    }

    /// A live compiler for the request, or `nil` while there is none: then one is started in the background, and the
    /// scripts asked for meanwhile are left to their runners (a compiler's start, a tenth of a second or more on a
    /// loaded machine, never delays a run).
    private func compiler(for request: ForkServerRequest, in state: inout State) -> Compiler? {
        if let running = state.running[request] {
            if waitpid(running.pid, nil, WNOHANG) == 0 { return running }
            close(running.socket)
            state.running[request] = nil
        }
        guard !state.failed.contains(request), !state.starting.contains(request) else { return nil }
        state.starting.insert(request)
        let groups = self.groups
        Thread.detachNewThread { [self] in
            let started = Self.start(request, groups: groups)
            self.state.withLock { state in
                state.starting.remove(request)
                if let started { state.running[request] = started } else { state.failed.insert(request) }
            }
        }
        return nil
    }

    /// Blocks until no compiler is starting (tests call it so that what follows meets a running compiler).
    func waitForStarts() {
        var rounds = 0
        while rounds < 12_000, state.withLock({ !$0.starting.isEmpty }) {
            usleep(5_000)
            rounds += 1
        }
    }

    /// Starts a compiler, born in the sandbox's base groups from a thread of its own that joined them (never in a
    /// slot's); `nil` when it cannot start.
    private static func start(_ request: ForkServerRequest, groups: [String]) -> Compiler? {
        guard let executable = request.command.first else { return nil }
        let input = Array("\(request.harnessCode.utf8.count)\n".utf8) + Array(request.harnessCode.utf8)
        let environment = ["PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", "LC_ALL=C.UTF-8"]
        var socket: Int32 = -1
        let tasks = groups.map { strdup($0) }
        defer { for task in tasks { free(task) } }
        let pid = withCStringArray(request.command) { argv in
            withCStringArray(environment) { envp in
                input.withUnsafeBufferPointer { bytes in
                    tasks.map { UnsafePointer($0) }.withUnsafeBufferPointer {
                        arb_start_fork_server_in_groups(
                            $0.baseAddress, Int32($0.count), executable, argv, envp, bytes.baseAddress, bytes.count,
                            &socket)
                    }
                }
            }
        }
        return pid > 0 ? Compiler(pid: pid, socket: socket) : nil
    }

    /// Sends a request and waits for its answer; `nil` when the compiler did not answer in time or is gone.
    private func ask(_ compiler: Compiler, _ request: [UInt8]) -> [UInt8]? {
        let sent = request.withUnsafeBytes { send(compiler.socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == request.count else { return nil }
        var ready = pollfd(fd: compiler.socket, events: Int16(POLLIN), revents: 0)
        var polled: Int32
        repeat { polled = poll(&ready, 1, Self.patienceMilliseconds) } while polled < 0 && errno == EINTR
        guard polled == 1 else { return nil }
        // The answer's size first (MSG_PEEK | MSG_TRUNC gives a datagram's whole length), then the answer.
        var probe: UInt8 = 0
        let size = recv(compiler.socket, &probe, 0, Int32(MSG_PEEK | MSG_TRUNC))
        guard size >= 0 else { return nil }
        var answer = [UInt8](repeating: 0, count: max(size, 1))
        let got = answer.withUnsafeMutableBytes { recv(compiler.socket, $0.baseAddress, $0.count, 0) }
        guard got == size else { return nil }
        return Array(answer.prefix(size))
    }
}

/// Calls `body` with a NULL-terminated array of C strings that live until it returns.
private func withCStringArray<Result>(
    _ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> Result
) -> Result {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { for pointer in pointers { free(pointer) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import CArbiterSandbox
import Foundation

/// What a run asks of a fork server: the toolchain's server and the harness it runs.
struct ForkServerRequest: Sendable, Hashable {
    /// The command that starts the server, `{interpreter}` and `{code}` substituted.
    let command: [String]
    /// The harness's source, compiled once by the server.
    let harnessCode: String

    /// Hashes the sizes and the first bytes only: the command holds the server's code and the harness is tens of
    /// kilobytes, hashed for every run otherwise. Equality still compares everything (fast when, as here, the strings
    /// share their storage with the toolchain's).
    func hash(into hasher: inout Hasher) {
        hasher.combine(command.count)
        for part in command {
            hasher.combine(part.utf8.count)
            hasher.combine(part.utf8.prefix(64).reduce(into: 0) { $0 = $0 &* 31 &+ Int($1) })
        }
        hasher.combine(harnessCode.utf8.count)
        hasher.combine(harnessCode.utf8.prefix(256).reduce(into: 0) { $0 = $0 &* 31 &+ Int($1) })
    }
}

/// The fork servers of one sandbox slot (``SlotWorker``), started on first use from the slot's thread, so that they
/// and every process they fork are born in the slot's cgroups. Used only on that thread.
///
/// A fork server is a warm interpreter (`python.forkserver.py`): for each run, the run's init hands it the run's
/// pipes and namespaces, and it forks a process that joins them, drops to the sandbox user under the run's limits and
/// seccomp filter, and runs the harness, which saves starting the interpreter (about 8 ms of CPU a run for Python).
/// It runs as root outside the runs, like the daemon, and only ever runs its own code; nothing of a run comes back to
/// it (each run starts from the server's state before the first run), and a server that died is started again.
final class ForkServers {
    private var running: [ForkServerRequest: (pid: pid_t, socket: Int32)] = [:]
    /// Servers that could not start (they exited, or never said `ready` within a minute): not tried again in this slot,
    /// so that a broken server costs one wait, not one per run.
    private var failed: Set<ForkServerRequest> = []

    /// Whether runs may use fork servers here, unless `ARBITER_CODE_NO_FORK_SERVER=1`: as root with the whole sandbox
    /// (the server's child joins the run's namespaces and switches to the sandbox user), and as an ordinary user whose
    /// runs each have a user namespace (the server's child joins it first, as its owner, then the others).
    static func available(for isolation: Isolation) -> Bool {
        guard isolation.isolated, ProcessInfo.processInfo.environment["ARBITER_CODE_NO_FORK_SERVER"] != "1" else {
            return false
        }
        let all = ["pid", "net", "mount", "ipc", "uts"].allSatisfy(isolation.namespaces.contains)
        if isolation.namespaces.contains("user") { return all }
        return all && isolation.user != nil && geteuid() == 0
    }

    /// The sandbox's seccomp filter, as the server installs it in each run's process.
    static let seccompFilter: [UInt8]? = {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let length = buffer.withUnsafeMutableBufferPointer { arb_seccomp_filter_bytes($0.baseAddress, $0.count) }
        return length > 0 ? Array(buffer[..<Int(length)]) : nil
    }()

    /// The socket of a live server for the request, started when there is none (or the last one died), and the pid
    /// of a server started now; `nil` when it cannot start.
    func socket(for request: ForkServerRequest) -> (socket: Int32, started: pid_t?)? {
        if let server = running[request] {
            var status: Int32 = 0
            if waitpid(server.pid, &status, WNOHANG) == 0 { return (server.socket, nil) }
            close(server.socket)
            running[request] = nil
        }
        guard !failed.contains(request), let filter = Self.seccompFilter, let executable = request.command.first else {
            return nil
        }
        var input = Array("\(request.harnessCode.utf8.count)\n".utf8) + Array(request.harnessCode.utf8)
        input += Array("\(filter.count)\n".utf8) + filter
        // LD_BIND_NOW: the dynamic linker binds every function of the interpreter when the server starts, instead of
        // at its first call, which for the functions only runs call (setresuid, prctl, pipe, ...) was in every run's
        // process: a symbol search and a write to a copied page each time. The run's environment replaces the
        // server's (python.forkserver.py), so the variable never reaches a program.
        let environment = ["PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", "LC_ALL=C.UTF-8", "LD_BIND_NOW=1"]
        var socket: Int32 = -1
        let pid = withCStrings(request.command) { argv in
            withCStrings(environment) { envp in
                input.withUnsafeBufferPointer {
                    arb_start_fork_server(executable, argv, envp, $0.baseAddress, $0.count, &socket)
                }
            }
        }
        guard pid > 0 else {
            failed.insert(request)
            return nil
        }
        running[request] = (pid, socket)
        return (socket, pid)
    }

    /// Ends a server that failed a run (the next run starts a new one).
    func discard(_ request: ForkServerRequest) {
        guard let server = running.removeValue(forKey: request) else { return }
        kill(server.pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(server.pid, &status, 0) < 0 && errno == EINTR {}
        close(server.socket)
    }
}

/// Calls `body` with a NULL-terminated array of C strings that live until it returns.
private func withCStrings<Result>(
    _ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> Result
) -> Result {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { for pointer in pointers { free(pointer) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

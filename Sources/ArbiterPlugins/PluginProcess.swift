// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import CProcessSpawn
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One running plugin process: its stdin and stdout pipes (non-blocking on our side), its process group, and a
/// line reader on its stdout.
///
/// Used by one thread at a time (the pool thread that owns it, which also started it: the process is killed when
/// that thread, or the daemon, ends); not thread-safe.
final class PluginProcess {
    /// Why a round trip failed.
    enum Failure: Error {
        /// The process could not be started.
        case spawn(String)
        /// The process closed its stdin before the request was written (it was not handling it yet).
        case notReading
        /// The process exited or closed stdout while handling the request.
        case exited(String)
        /// No answer within the time limit (writing the request included).
        case timedOut
        /// The answer line is longer than the limit.
        case answerTooLarge
    }

    let pid: pid_t
    private var input: Int32
    private var output: Int32
    private var buffer: [UInt8] = []
    private var scanned = 0
    private var reaped = false

    /// Starts a process in its own process group, with pipes on stdin and stdout; stderr is inherited.
    /// - Parameters:
    ///   - command: The program and its arguments; a program without `/` is looked up on `PATH`, a relative path is
    ///     taken from `directory`.
    ///   - directory: The working directory.
    init(command: [String], directory: String) throws(Failure) {
        guard let program = Self.resolve(command[0], directory: directory) else {
            throw .spawn("cannot find '\(command[0])' (on PATH or in \(directory))")
        }
        var toChild: [Int32] = [-1, -1]
        var fromChild: [Int32] = [-1, -1]
        guard arbiter_cloexec_pipe(&toChild) == 0 else { throw .spawn("pipe: \(String(cString: strerror(errno)))") }
        guard arbiter_cloexec_pipe(&fromChild) == 0 else {
            close(toChild[0])
            close(toChild[1])
            throw .spawn("pipe: \(String(cString: strerror(errno)))")
        }
        let arguments = [program] + command.dropFirst()
        let argv = arguments.map { strdup($0) } + [nil]
        let environment = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in argv + environment { free(pointer) } }
        var child: pid_t = 0
        let status = argv.withUnsafeBufferPointer { argvBuffer in
            environment.withUnsafeBufferPointer { envBuffer in
                arbiter_spawn_plugin(
                    program, argvBuffer.baseAddress!, envBuffer.baseAddress!, directory, toChild[0], fromChild[1], &child)
            }
        }
        close(toChild[0])
        close(fromChild[1])
        guard status == 0 else {
            close(toChild[1])
            close(fromChild[0])
            throw .spawn("cannot start '\(program)' in \(directory): \(String(cString: strerror(status)))")
        }
        pid = child
        input = toChild[1]
        output = fromChild[0]
        _ = fcntl(input, F_SETFL, fcntl(input, F_GETFL) | O_NONBLOCK)
        _ = fcntl(output, F_SETFL, fcntl(output, F_GETFL) | O_NONBLOCK)
    }

    deinit {
        stop(grace: 0)
    }

    /// An executable path for a command name: as is when absolute, from `directory` when relative with a `/`, else
    /// the first match on `PATH`.
    static func resolve(_ name: String, directory: String) -> String? {
        let manager = FileManager.default
        if name.hasPrefix("/") { return manager.isExecutableFile(atPath: name) ? name : nil }
        if name.contains("/") {
            let path = URL(fileURLWithPath: directory).appendingPathComponent(name).standardized.path
            return manager.isExecutableFile(atPath: path) ? path : nil
        }
        let search = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in search.split(separator: ":") where !folder.isEmpty {
            let path = folder + "/" + name
            if manager.isExecutableFile(atPath: String(path)) { return String(path) }
        }
        return nil
    }

    /// Sends one request line and reads lines until the one answering it (the same `id`); other lines are skipped.
    /// Writing and reading share one deadline, and neither blocks: a plugin that reads nothing, or writes a large
    /// answer before reading all of a large request, still times out.
    /// - Parameters:
    ///   - line: The request, without its newline.
    ///   - id: The request's id, which the answer must carry.
    ///   - timeout: Seconds for the whole exchange.
    ///   - maxAnswerBytes: The longest answer line accepted.
    /// - Returns: The answer, parsed.
    func roundTrip(_ line: [UInt8], id: JSONValue, timeout: Double, maxAnswerBytes: Int) throws(Failure) -> JSONObject {
        var request = line
        request.append(UInt8(ascii: "\n"))
        var written = 0
        let deadline = Date().addingTimeInterval(timeout)
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            while let newline = buffer[scanned...].firstIndex(of: UInt8(ascii: "\n")) {
                let candidate = buffer[..<newline]
                buffer.removeSubrange(...newline)
                scanned = 0
                if let answer = try? JSONParser.parse(candidate), case .object(let object) = answer, object["id"] == id {
                    if written < request.count { throw .exited("it answered before reading the whole request") }
                    return object
                }
                // Any other line (a stray `print`, an answer to an abandoned request) is skipped.
            }
            scanned = buffer.count
            guard buffer.count <= maxAnswerBytes else { throw .answerTooLarge }
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { throw .timedOut }
            var descriptors = [pollfd(fd: output, events: Int16(POLLIN), revents: 0)]
            if written < request.count { descriptors.append(pollfd(fd: input, events: Int16(POLLOUT), revents: 0)) }
            let ready = poll(&descriptors, nfds_t(descriptors.count), Int32(min(left * 1000 + 1, 60_000)))
            if ready < 0 {
                if errno == EINTR { continue }
                throw .exited("poll: \(String(cString: strerror(errno)))")
            }
            if ready == 0 { continue }
            if descriptors.count > 1, descriptors[1].revents != 0 {
                let count = request.withUnsafeBytes { raw in
                    Glibc.write(input, raw.baseAddress! + written, request.count - written)
                }
                if count > 0 {
                    written += count
                } else if count < 0, errno != EAGAIN, errno != EINTR {
                    if errno == EPIPE { throw written == 0 ? .notReading : .exited(exitDescription()) }
                    throw .exited("write: \(String(cString: strerror(errno)))")
                }
            }
            if descriptors[0].revents != 0 {
                let count = chunk.withUnsafeMutableBytes { read(output, $0.baseAddress, $0.count) }
                if count < 0 {
                    if errno == EINTR || errno == EAGAIN { continue }
                    throw .exited("read: \(String(cString: strerror(errno)))")
                }
                if count == 0 { throw .exited(exitDescription()) }
                buffer.append(contentsOf: chunk[..<count])
            }
        }
    }

    /// How the process ended (it closed its output, so it is exiting; after half a second it is killed).
    private func exitDescription() -> String {
        guard !reaped else { return "it exited" }
        var status: Int32 = 0
        var result: pid_t = 0
        for _ in 0..<50 {
            result = waitpid(pid, &status, WNOHANG)
            if result == pid || (result < 0 && errno != EINTR) { break }
            usleep(10_000)
        }
        guard result == pid else {
            kill(-pid, SIGKILL)
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            reaped = true
            return "it closed its output"
        }
        reaped = true
        kill(-pid, SIGKILL)  // descendants it left behind
        let signal = status & 0x7f
        if signal == 0 { return "it exited with status \((status >> 8) & 0xff)" }
        return "it was killed by signal \(signal)"
    }

    /// Stops the process: closes its stdin (a well-behaved plugin exits at end of input), waits up to `grace` seconds,
    /// then kills its whole process group.
    /// - Parameter grace: Seconds to wait before killing.
    func stop(grace: Double) {
        if input >= 0 { close(input) }
        if output >= 0 { close(output) }
        input = -1
        output = -1
        guard !reaped else { return }
        let deadline = Date().addingTimeInterval(grace)
        var status: Int32 = 0
        while Date() < deadline {
            if waitpid(pid, &status, WNOHANG) == pid {
                reaped = true
                kill(-pid, SIGKILL)  // descendants it left behind
                return
            }
            usleep(10_000)
        }
        kill(-pid, SIGKILL)
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        reaped = true
    }
}

// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import CProcessSpawn
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One running plugin process: its stdin and stdout pipes, its process group, and a line reader on its stdout.
///
/// Used by one thread at a time (the pool thread that owns it); not thread-safe.
final class PluginProcess {
    /// Why a round trip failed.
    enum Failure: Error {
        /// The process could not be started.
        case spawn(String)
        /// The process closed its stdin before the request was written (it was not handling it yet).
        case notReading
        /// The process exited or closed stdout while handling the request.
        case exited(String)
        /// No answer within the time limit.
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
    ///   - command: The program and its arguments; a program without `/` is looked up on `PATH`.
    ///   - directory: The working directory.
    init(command: [String], directory: String) throws(Failure) {
        var toChild: [Int32] = [-1, -1]
        var fromChild: [Int32] = [-1, -1]
        guard arbiter_cloexec_pipe(&toChild) == 0 else { throw .spawn("pipe: \(String(cString: strerror(errno)))") }
        guard arbiter_cloexec_pipe(&fromChild) == 0 else {
            close(toChild[0])
            close(toChild[1])
            throw .spawn("pipe: \(String(cString: strerror(errno)))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, toChild[0], 0)
        posix_spawn_file_actions_adddup2(&actions, fromChild[1], 1)
        guard arbiter_spawn_actions_chdir(&actions, directory) == 0 else {
            for descriptor in toChild + fromChild { close(descriptor) }
            throw .spawn("cannot set the working directory of a child process on this system")
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP] { sigaddset(&defaults, signal) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let arguments = command.map { strdup($0) } + [nil]
        defer { for argument in arguments { free(argument) } }
        var child: pid_t = 0
        let status = arguments.withUnsafeBufferPointer { argv in
            posix_spawnp(&child, command[0], &actions, &attributes, argv.baseAddress!, environ)
        }
        close(toChild[0])
        close(fromChild[1])
        guard status == 0 else {
            close(toChild[1])
            close(fromChild[0])
            throw .spawn("cannot start '\(command[0])' in \(directory): \(String(cString: strerror(status)))")
        }
        pid = child
        input = toChild[1]
        output = fromChild[0]
    }

    deinit {
        stop(grace: 0)
    }

    /// Sends one request line and reads one answer line.
    /// - Parameters:
    ///   - line: The request, without its newline.
    ///   - timeout: Seconds to wait for the answer.
    ///   - maxAnswerBytes: The longest answer accepted.
    /// - Returns: The answer line, without its newline.
    func roundTrip(_ line: [UInt8], timeout: Double, maxAnswerBytes: Int) throws(Failure) -> ArraySlice<UInt8> {
        var request = line
        request.append(UInt8(ascii: "\n"))
        try write(request)
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let newline = buffer[scanned...].firstIndex(of: UInt8(ascii: "\n")) {
                let answer = buffer[..<newline]
                let rest = Array(buffer[(newline + 1)...])
                defer {
                    buffer = rest
                    scanned = 0
                }
                return answer
            }
            scanned = buffer.count
            guard buffer.count <= maxAnswerBytes else { throw .answerTooLarge }
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { throw .timedOut }
            var poller = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(min(left * 1000 + 1, 60_000)))
            if ready < 0 {
                if errno == EINTR { continue }
                throw .exited("poll: \(String(cString: strerror(errno)))")
            }
            if ready == 0 { continue }
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            let count = chunk.withUnsafeMutableBytes { read(output, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw .exited("read: \(String(cString: strerror(errno)))")
            }
            if count == 0 { throw .exited(exitDescription()) }
            buffer.append(contentsOf: chunk[..<count])
        }
    }

    private func write(_ bytes: [UInt8]) throws(Failure) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(input, $0.baseAddress! + offset, bytes.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE { throw offset == 0 ? .notReading : .exited(exitDescription()) }
                throw .exited("write: \(String(cString: strerror(errno)))")
            }
            offset += written
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

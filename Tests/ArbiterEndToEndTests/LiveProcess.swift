// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import Foundation

/// A running `arbiter` whose stdin stays open and whose output is collected as it arrives.
final class LiveArbiter: @unchecked Sendable {
    let process = Process()
    private let stdin = Pipe()
    private let condition = NSCondition()
    private var stdoutText = ""
    private var stderrText = ""
    /// Whether stdout's reader has seen its end: after the process exits, its last answers may still be in the pipe.
    private var stdoutEnded = false

    /// Starts `arbiter` with arguments, optionally under a lower limit of open descriptors (`ulimit -n`).
    init(_ arguments: [String], descriptorLimit: Int? = nil) throws {
        if let descriptorLimit {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "ulimit -n \(descriptorLimit) && exec \"$0\" \"$@\"", Paths.binary.path] + arguments
        } else {
            process.executableURL = Paths.binary
            process.arguments = arguments
        }
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        collect(stdout.fileHandleForReading, isStdout: true)
        collect(stderr.fileHandleForReading, isStdout: false)
    }

    private func collect(_ handle: FileHandle, isStdout: Bool) {
        Thread { [self] in
            while true {
                let data = handle.availableData
                condition.lock()
                if data.isEmpty {
                    if isStdout { stdoutEnded = true }
                    condition.broadcast()
                    condition.unlock()
                    return
                }
                if isStdout {
                    stdoutText += String(decoding: data, as: UTF8.self)
                } else {
                    stderrText += String(decoding: data, as: UTF8.self)
                }
                condition.broadcast()
                condition.unlock()
            }
        }.start()
    }

    /// Writes to the process's stdin.
    func send(_ text: String) throws {
        try stdin.fileHandleForWriting.write(contentsOf: Data(text.utf8))
    }

    /// Closes the process's stdin (end of input).
    func closeInput() throws {
        try stdin.fileHandleForWriting.close()
    }

    /// Complete stdout lines so far.
    var lines: [String] {
        condition.lock()
        defer { condition.unlock() }
        return stdoutText.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    /// Everything written to stderr so far.
    var errors: String {
        condition.lock()
        defer { condition.unlock() }
        return stderrText
    }

    /// Waits until `ready` holds for the collected output, or the timeout passes.
    func wait(seconds: Double = 20, until ready: (_ stdout: String, _ stderr: String) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        condition.lock()
        defer { condition.unlock() }
        while !ready(stdoutText, stderrText) {
            if !condition.wait(until: deadline) { return ready(stdoutText, stderrText) }
        }
        return true
    }

    /// Waits for `count` complete stdout lines.
    func waitForLines(_ count: Int, seconds: Double = 20) -> Bool {
        wait(seconds: seconds) { stdout, _ in stdout.utf8.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) } >= count }
    }

    /// Waits for the process to exit; `nil` when it is still running after the timeout (it is then killed).
    func waitForExit(seconds: Double = 20) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning, Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        process.waitUntilExit()
        // What the process wrote before it exited is read by the collector thread, which a loaded machine may not
        // have run yet: wait for stdout's end (a descendant still holding it open would keep it; bounded).
        let drained = Date().addingTimeInterval(max(10, deadline.timeIntervalSinceNow))
        condition.lock()
        while !stdoutEnded, condition.wait(until: drained) {}
        condition.unlock()
        return process.terminationStatus
    }

    func signal(_ number: Int32) {
        kill(process.processIdentifier, number)
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// Connects to a Unix or TCP socket and returns the descriptor.
func connectSocket(unixPath: String? = nil, tcpPort: Int? = nil) throws -> Int32 {
    if let unixPath {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (offset, byte) in unixPath.utf8.enumerated() { raw[offset] = byte }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else { throw POSIXError(.ECONNREFUSED) }
        return descriptor
    }
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(tcpPort ?? 0).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard result == 0 else { throw POSIXError(.ECONNREFUSED) }
    return descriptor
}

/// Sends `text` on a socket, half-closes it, and reads everything the server answers.
func exchange(on descriptor: Int32, _ text: String) -> String {
    let bytes = Array(text.utf8)
    let writer = Thread {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if written <= 0 { break }
            offset += written
        }
        shutdown(descriptor, Int32(SHUT_WR))
    }
    writer.start()
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        if count <= 0 { break }
        received.append(contentsOf: buffer[0..<count])
    }
    close(descriptor)
    return String(decoding: received, as: UTF8.self)
}

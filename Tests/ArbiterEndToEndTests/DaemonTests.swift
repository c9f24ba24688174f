// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation
import Synchronization
import Testing

@Suite("The daemon: signals and sockets", .serialized)
struct DaemonTests {
    @Test("SIGTERM and SIGINT stop reading, answer what was read, and exit 0", .timeLimit(.minutes(1)),
          arguments: [SIGTERM, SIGINT])
    func signalDrain(_ signal: Int32) throws {
        let daemon = try LiveArbiter(["serve"])
        try daemon.send(exactRequests(2000))
        #expect(daemon.waitForLines(2000))
        daemon.signal(signal)
        #expect(daemon.waitForExit() == 0, "the daemon exits 0 without end of input")
        expectExactAnswers(daemon.lines, ids: 0..<2000)
    }

    @Test("end of input drains everything and exits 0", .timeLimit(.minutes(1)))
    func endOfInput() throws {
        let daemon = try LiveArbiter(["serve", "--jobs", "2"])
        try daemon.send(exactRequests(20_000))
        try daemon.closeInput()
        #expect(daemon.waitForExit() == 0)
        _ = daemon.waitForLines(20_000, seconds: 5)
        expectExactAnswers(daemon.lines, ids: 0..<20_000)
        #expect(!daemon.errors.contains("error"), "stderr: \(daemon.errors)")
    }

    @Test("--listen unix: serves concurrent connections, each its own stream", .timeLimit(.minutes(1)))
    func unixSocket() throws {
        let directory = try Paths.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("arbiter.sock").path
        let daemon = try LiveArbiter(["serve", "--listen", "unix:\(path)"])
        #expect(daemon.wait { _, stderr in stderr.contains("listening") }, "stderr: \(daemon.errors)")
        try serveClients(count: 8) { try connectSocket(unixPath: path) }
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
        #expect(!FileManager.default.fileExists(atPath: path), "the socket file is removed on exit")
    }

    @Test("--listen tcp: with port 0 picks a port and logs it", .timeLimit(.minutes(1)))
    func tcpSocket() throws {
        let daemon = try LiveArbiter(["serve", "--listen", "tcp:127.0.0.1:0"])
        var port: Int? = nil
        #expect(daemon.wait { _, stderr in
            guard let range = stderr.range(of: "tcp:127.0.0.1:") else { return false }
            port = Int(stderr[range.upperBound...].prefix { $0.isNumber })
            return port != nil && port != 0
        })
        let chosen = try #require(port)
        try serveClients(count: 6) { try connectSocket(tcpPort: chosen) }
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
    }

    /// Runs `count` clients at once, each sending its own ids, and checks each gets exactly its own answers.
    private func serveClients(count: Int, connect: @escaping @Sendable () throws -> Int32) throws {
        let answers = Mutex<[Int: String]>([:])
        let failures = Mutex<[String]>([])
        let threads = (0..<count).map { client in
            Thread {
                do {
                    let descriptor = try connect()
                    let reply = exchange(on: descriptor, exactRequests(500, idOffset: client * 1000))
                    answers.withLock { $0[client] = reply }
                } catch {
                    failures.withLock { $0.append("client \(client): \(error)") }
                }
            }
        }
        threads.forEach { $0.start() }
        let deadline = Date().addingTimeInterval(30)
        while answers.withLock({ $0.count }) + failures.withLock({ $0.count }) < count, Date() < deadline {
            usleep(10_000)
        }
        #expect(failures.withLock { $0 } == [])
        let collected = answers.withLock { $0 }
        #expect(collected.count == count)
        for (client, reply) in collected {
            let lines = reply.split(separator: "\n").map(String.init)
            expectExactAnswers(lines, ids: (client * 1000)..<(client * 1000 + 500))
        }
    }
}

@Suite("Out of descriptors")
struct DescriptorExhaustionTests {
    /// CPU seconds (user + system) a process has used, from /proc.
    static func cpuSeconds(_ pid: Int32) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    @Test("out of descriptors, the daemon backs off instead of spinning, keeps serving, and accepts again once some close",
        .timeLimit(.minutes(1)))
    func backOff() throws {
        let directory = try Paths.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("full.sock").path
        let daemon = try LiveArbiter(["serve", "--listen", "unix:\(path)"], descriptorLimit: 32)
        #expect(daemon.wait { _, stderr in stderr.contains("listening") }, "stderr: \(daemon.errors)")
        // Far more connections than the daemon has descriptors: the kernel queues the rest (backlog 512).
        var connections: [Int32] = []
        defer { connections.forEach { close($0) } }
        for _ in 0..<60 { connections.append(try connectSocket(unixPath: path)) }
        func ask(_ descriptor: Int32, id: Int) {
            let line = Array("{\"id\": \(id), \"verifier\": \"exact\", \"response\": \"a\", \"reference\": \"a\"}\n".utf8)
            _ = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        }
        func answered(_ descriptor: Int32, seconds: Int32) -> Bool {
            var waiting = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&waiting, 1, seconds * 1000) == 1 else { return false }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            return count > 0 && String(decoding: buffer[0..<count], as: UTF8.self).contains("\"passed\":true")
        }
        ask(connections[0], id: 1)
        #expect(answered(connections[0], seconds: 10), "an accepted connection is still served")
        ask(connections[59], id: 2)
        #expect(!answered(connections[59], seconds: 1), "the last connection cannot have been accepted yet")
        // Waiting on EMFILE must not burn a core: a spinning accept loop would use about a CPU second per second.
        let pid = daemon.process.processIdentifier
        let before = try #require(Self.cpuSeconds(pid))
        usleep(2_000_000)
        let used = try #require(Self.cpuSeconds(pid)) - before
        #expect(used < 0.5, "\(used) CPU seconds in 2 s while out of descriptors")
        // Free descriptors: the queued connections are accepted and the waiting request is answered.
        for descriptor in connections[0..<40] { close(descriptor) }
        connections.removeFirst(40)
        #expect(answered(connections[connections.count - 1], seconds: 20), "served once descriptors are free")
        connections.forEach { close($0) }
        connections = []
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
    }
}

@Suite("Unix socket ownership", .serialized)
struct SocketOwnershipTests {
    @Test("a second daemon on a live socket refuses to start, and the first stays reachable", .timeLimit(.minutes(1)))
    func liveSocketIsKept() throws {
        let directory = try Paths.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("a.sock").path
        let first = try LiveArbiter(["serve", "--listen", "unix:\(path)"])
        #expect(first.wait { _, stderr in stderr.contains("listening") })
        let second = try runArbiter(["serve", "--listen", "unix:\(path)"])
        #expect(second.status != 0)
        #expect(second.stderrText.contains("another process is listening"), "\(second.stderrText)")
        let reply = exchange(on: try connectSocket(unixPath: path), exactRequests(3))
        #expect(reply.split(separator: "\n").count == 3)
        first.signal(SIGTERM)
        #expect(first.waitForExit() == 0)
    }

    @Test("a stale socket file from a dead daemon is replaced", .timeLimit(.minutes(1)))
    func staleSocketIsReplaced() throws {
        let directory = try Paths.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("b.sock").path
        let stale = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (offset, byte) in path.utf8.enumerated() { raw[offset] = byte }
        }
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(stale, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        close(stale)
        #expect(FileManager.default.fileExists(atPath: path))
        let daemon = try LiveArbiter(["serve", "--listen", "unix:\(path)"])
        #expect(daemon.wait { _, stderr in stderr.contains("listening") }, "\(daemon.errors)")
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
    }
}

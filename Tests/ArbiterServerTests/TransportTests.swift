// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
@testable import ArbiterServer
import Foundation
import Synchronization
import Testing

/// Reads from a blocking socket until `count` answer lines have arrived (or the peer ends, or 60 s pass without a
/// byte): the lines. On a thread of its own that ends before it returns (never on the cooperative pool, which the
/// daemon's workers need), so that the test's own threads do not blur the daemon's thread count.
func readLines(_ descriptor: Int32, count: Int) async -> [String] {
    await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: readLinesBlocking(descriptor, count: count)) }.start()
    }
}

private func readLinesBlocking(_ descriptor: Int32, count: Int) -> [String] {
    var lines: [String] = []
    var pending: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while lines.count < count {
        var waiting = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&waiting, 1, 60_000) == 1 else { break }
        let got = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        if got <= 0 { break }
        pending.append(contentsOf: buffer[0..<got])
        while let newline = pending.firstIndex(of: 0x0A) {
            lines.append(String(decoding: pending[..<newline], as: UTF8.self))
            pending.removeSubrange(...newline)
        }
    }
    return lines
}

/// Sends 200,000 `exact` lines on a thread of its own, 5,000 at a time, each piece after the daemon's in-flight count
/// has not moved for 50 ms (its single worker has caught up), so that on a busy machine the reader cannot read
/// everything before any answer exists. A send blocks once the daemon stops reading. ``finish()`` shuts the socket
/// (which ends a blocked send), waits for the thread, then closes the descriptor: the thread never writes to a
/// descriptor number that a later socket of the same process may have been given.
final class PieceSender: Sendable {
    let client: Connection
    private let stopped = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)

    init(_ client: Connection, _ daemon: ListeningServer) {
        self.client = client
        Thread { [self] in
            let piece = String(repeating: HandOverTests.exactLine, count: 5_000)
            for _ in 0..<40 where !stopped.load(ordering: .relaxed) {
                client.send(piece)
                var last = -1
                while !stopped.load(ordering: .relaxed), daemon.server.stats.inFlight != last {
                    last = daemon.server.stats.inFlight
                    usleep(50_000)
                }
            }
            done.signal()
        }.start()
    }

    /// Stops sending and closes the connection.
    func finish() {
        stopped.store(true, ordering: .relaxed)
        shutdown(client.descriptor, Int32(SHUT_RDWR))
        done.wait()
        close(client.descriptor)
    }
}

/// The kernel names of this process's threads.
func threadNames() -> [String] {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    return tasks.compactMap { try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8) }
        .map { $0.trimmingCharacters(in: .newlines) }
}

private func exactRequest(_ id: String, _ response: String, _ reference: String) -> String {
    "{\"id\":\"\(id)\",\"verifier\":\"exact\",\"response\":\"\(response)\",\"reference\":\"\(reference)\"}\n"
}

private func answer(_ line: String?) -> JSONObject? {
    line.flatMap { try? JSONParser.parse($0).objectValue }
}

@Suite("The event-driven socket transport", .serialized, .timeLimit(.minutes(2)))
struct TransportTests {
    /// Opens `count` connections, each sending a ping and an `exact` request, reads every answer, and returns the
    /// connections (still open), how many were fully answered, and the thread names while they are all open.
    func openAnswered(
        _ daemon: ListeningServer, count: Int
    ) async throws -> (clients: [Connection], answered: Int, threads: [String]) {
        var clients: [Connection] = []
        for index in 0..<count {
            let client = try daemon.connect()
            client.send("{\"id\":\"p\(index)\",\"op\":\"ping\"}\n" + exactRequest("e\(index)", "1", "1"))
            clients.append(client)
        }
        var answered = 0
        for (index, client) in clients.enumerated() {
            let ids = Set(await readLines(client.descriptor, count: 2).compactMap { answer($0)?["id"]?.stringValue })
            if ids == ["p\(index)", "e\(index)"] { answered += 1 }
        }
        #expect(await eventually { daemon.server.stats.sessions.count == count })
        return (clients, answered, threadNames())
    }

    @Test("200 connections, each answered, are served without a thread per connection (the threads are counted)")
    func boundedThreads() async throws {
        let daemon = try await ListeningServer(jobs: 2, transport: .events)
        let before = threadNames()
        let (clients, answered, during) = try await openAnswered(daemon, count: 200)
        #expect(answered == 200)
        #expect(
            during.count - before.count < 100, "threads before: \(before.count), with 200 connections: \(during.count)")
        #expect(during.contains("arbiter-events"))
        #expect(during.filter { $0 == "arbiter-reader" }.count <= before.filter { $0 == "arbiter-reader" }.count + 10)
        for client in clients { close(client.descriptor) }
        #expect(await eventually { daemon.server.stats.sessions.isEmpty }, "closed connections are let go")
        await daemon.stop()
    }

    @Test("negative control: the threads transport starts a reader and a writer per connection")
    func threadsPerConnection() async throws {
        let daemon = try await ListeningServer(jobs: 2, transport: .threads)
        let before = threadNames()
        let (clients, answered, during) = try await openAnswered(daemon, count: 100)
        #expect(answered == 100)
        #expect(
            during.count - before.count >= 150, "threads before: \(before.count), with 100 connections: \(during.count)")
        let readers = during.filter { $0 == "arbiter-reader" }.count - before.filter { $0 == "arbiter-reader" }.count
        #expect(readers >= 80)
        for client in clients { close(client.descriptor) }
        await daemon.stop()
    }

    @Test("two connections whose requests arrive byte by byte, interleaved, each keep their own partial line")
    func partialLinesPerConnection() async throws {
        // Reads of at most 3 bytes: every request reaches the daemon in many pieces, alternating between connections
        // that share the loop's one read buffer.
        let daemon = try await ListeningServer(jobs: 1, limits: SessionLimits(readSize: 3), transport: .events)
        let first = try daemon.connect(), second = try daemon.connect()
        let one = Array(exactRequest("a", "x", "x").utf8), two = Array(exactRequest("b", "yy", "zz").utf8)
        for index in 0..<max(one.count, two.count) {
            if index < one.count { first.send(String(decoding: [one[index]], as: UTF8.self)) }
            if index < two.count { second.send(String(decoding: [two[index]], as: UTF8.self)) }
        }
        let a = answer(await readLines(first.descriptor, count: 1).first)
        let b = answer(await readLines(second.descriptor, count: 1).first)
        #expect(a?["id"]?.stringValue == "a" && a?["passed"]?.boolValue == true, "\(String(describing: a))")
        #expect(b?["id"]?.stringValue == "b" && b?["passed"]?.boolValue == false, "\(String(describing: b))")
        // Negative control: the same bytes interleaved on one connection are no request at all.
        let mixed = try daemon.connect()
        var bytes: [UInt8] = []
        for index in 0..<max(one.count, two.count) {
            if index < one.count, one[index] != 0x0A { bytes.append(one[index]) }
            if index < two.count, two[index] != 0x0A { bytes.append(two[index]) }
        }
        mixed.send(String(decoding: bytes, as: UTF8.self) + "\n")
        let garbled = answer(await readLines(mixed.descriptor, count: 1).first)
        #expect(garbled?["error"] != nil, "\(String(describing: garbled))")
        for client in [first, second, mixed] { close(client.descriptor) }
        await daemon.stop()
    }

    @Test("a client that never reads is paused at its cap while another connection is served in full")
    func nonReaderPausedOthersServed() async throws {
        let limits = SessionLimits(maxInFlightLines: 1_000_000, maxUnwrittenBytes: 4096)
        let daemon = try await ListeningServer(jobs: 1, drainTimeout: 0.1, limits: limits, transport: .events)
        let silent = PieceSender(try daemon.connect(), daemon)
        // The silent client's lines pile up until its unwritten answers pass the cap; then it is no longer read.
        var last = -1
        while true {
            let now = daemon.server.stats.inFlight
            if now == last, now > 0 { break }
            last = now
            try await Task.sleep(for: .milliseconds(500))
        }
        let paused = daemon.server.stats.inFlight
        #expect(paused < 100_000, "the silent client was paused with requests unread")
        let other = try daemon.connect()
        let requests = (0..<2000).map { exactRequest("o\($0)", "1", "1") }.joined()
        Thread { other.send(requests) }.start()
        let lines = await readLines(other.descriptor, count: 2000)
        #expect(lines.count == 2000, "every request of the reading client was answered")
        #expect(Set(lines.compactMap { answer($0)?["id"]?.stringValue }).count == 2000)
        #expect(daemon.server.stats.inFlight <= paused, "the silent client stayed paused meanwhile")
        silent.finish()
        close(other.descriptor)
        await daemon.stop()
    }

    @Test(
        "an accepted TCP connection is close-on-exec and has TCP_NODELAY; the client's own socket (control) is neither")
    func acceptedDescriptorFlags() async throws {
        let daemon = try await ListeningServer(jobs: 1, tcp: true, transport: .events)
        let client = try daemon.connect()
        client.send("{\"id\":\"p\",\"op\":\"ping\"}\n")
        #expect(await readLines(client.descriptor, count: 1).count == 1)
        guard case .tcp(_, let serverPort) = daemon.address else { Issue.record("not TCP"); return }
        func port(_ descriptor: Int32, peer: Bool) -> Int? {
            var address = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let status = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    peer ? getpeername(descriptor, $0, &length) : getsockname(descriptor, $0, &length)
                }
            }
            guard status == 0, Int32(address.sin_family) == AF_INET else { return nil }
            return Int(UInt16(bigEndian: address.sin_port))
        }
        let clientPort = try #require(port(client.descriptor, peer: false))
        // The daemon's end: the descriptor in this process whose local port is the server's and whose peer is the
        // client.
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        let descriptors = names.compactMap { Int32($0) }
        let accepted = try #require(descriptors.first {
            $0 != client.descriptor && port($0, peer: false) == serverPort && port($0, peer: true) == clientPort
        })
        func noDelay(_ descriptor: Int32) -> Int32 {
            var value: Int32 = -1
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &value, &length)
            return value
        }
        #expect(fcntl(accepted, F_GETFD) & FD_CLOEXEC != 0)
        #expect(noDelay(accepted) != 0)
        #expect(fcntl(client.descriptor, F_GETFD) & FD_CLOEXEC == 0)
        #expect(noDelay(client.descriptor) == 0)
        close(client.descriptor)
        await daemon.stop()
    }

    @Test("a connection that hangs up while its reading is paused is let go, and its queued work is dropped")
    func hangUpWhilePaused() async throws {
        let limits = SessionLimits(maxInFlightLines: 5, readSize: 256)
        let daemon = try await ListeningServer(jobs: 1, limits: limits, transport: .events)
        let client = try daemon.connect()
        // A few reads of 256 bytes bring 5 or more lines (one runs, held at the turnstile); the rest wait unread.
        client.send(turnRequests("t", 40))
        #expect(await eventually { daemon.turnstile.arrived == 1 && daemon.server.stats.inFlight >= 5 })
        try await Task.sleep(for: .milliseconds(200))
        #expect(daemon.server.stats.inFlight < 40, "reading paused at the limit")
        close(client.descriptor)
        #expect(await eventually { daemon.server.stats.goneConnections == 1 })
        daemon.turnstile.release(100)
        #expect(await eventually { daemon.server.stats.sessions.isEmpty }, "the connection was closed")
        #expect(daemon.server.stats.inFlight == 0)
        #expect(daemon.turnstile.arrived == 1, "the queued requests of the gone client did not run")
        #expect(daemon.server.stats.dropped >= 4)
        await daemon.stop()
    }

    @Test("--ordered over a socket: a slow request's answer comes before the fast ones after it")
    func orderedOverSocket() async throws {
        let daemon = try await ListeningServer(jobs: 2, transport: .events, ordered: true)
        let client = try daemon.connect()
        client.send(turnRequests("t", 1) + (0..<50).map { exactRequest("e\($0)", "1", "1") }.joined())
        #expect(await eventually { daemon.turnstile.arrived == 1 })
        daemon.turnstile.release(1)
        let ids = await readLines(client.descriptor, count: 51).compactMap { answer($0)?["id"]?.stringValue }
        #expect(ids == ["t0"] + (0..<50).map { "e\($0)" })
        close(client.descriptor)
        await daemon.stop()
    }

    @Test("negative control: without --ordered the fast answers come before the slow one")
    func unorderedOverSocket() async throws {
        let daemon = try await ListeningServer(jobs: 2, transport: .events)
        let client = try daemon.connect()
        client.send(turnRequests("t", 1) + (0..<50).map { exactRequest("e\($0)", "1", "1") }.joined())
        let early = await readLines(client.descriptor, count: 50).compactMap { answer($0)?["id"]?.stringValue }
        #expect(Set(early) == Set((0..<50).map { "e\($0)" }), "the fast answers arrived while t0 waits")
        daemon.turnstile.release(1)
        #expect(await readLines(client.descriptor, count: 1).compactMap { answer($0)?["id"]?.stringValue } == ["t0"])
        close(client.descriptor)
        await daemon.stop()
    }

    @Test("--ordered, 20,000 answers to a client that reads only once the socket is full: every one, in order")
    func orderedThroughFullSocket() async throws {
        let daemon = try await ListeningServer(jobs: 2, transport: .events, ordered: true)
        let client = try daemon.connect()
        let count = 20_000
        let requests = (0..<count).map { exactRequest("r\($0)", "1", "1") }.joined()
        Thread { client.send(requests) }.start()
        // Answers fill the socket (the workers' own writes stop short; the loop waits for writability) before the
        // client reads anything.
        var last = -1
        while true {
            let now = daemon.server.stats.inFlight
            if now == last, now > 0 { break }
            last = now
            try await Task.sleep(for: .milliseconds(300))
        }
        let ids = await readLines(client.descriptor, count: count).compactMap { answer($0)?["id"]?.stringValue }
        #expect(ids.count == count)
        #expect(ids == (0..<count).map { "r\($0)" })
        close(client.descriptor)
        await daemon.stop()
    }
}

// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
@testable import ArbiterServer
import Foundation
import Logging
import Synchronization
import Testing

/// A turnstile that verifications pass one at a time, as the test lets them through.
final class Turnstile: Sendable {
    private let state = Mutex<(tickets: Int, arrived: Int, waiters: [CheckedContinuation<Void, Never>])>((0, 0, []))

    /// Verifications that reached the turnstile (passed or waiting).
    var arrived: Int { state.withLock { $0.arrived } }

    func pass() async {
        await withCheckedContinuation { continuation in
            let go = state.withLock { state -> Bool in
                state.arrived += 1
                if state.tickets > 0 {
                    state.tickets -= 1
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if go { continuation.resume() }
        }
    }

    /// Lets `count` verifications through (those waiting first).
    func release(_ count: Int = 1) {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            let now = min(count, state.waiters.count)
            state.tickets += count - now
            defer { state.waiters.removeFirst(now) }
            return Array(state.waiters.prefix(now))
        }
        woken.forEach { $0.resume() }
    }
}

/// `turn`: waits at the turnstile, then passes.
struct TurnVerifier: SampleVerifier {
    let turnstile: Turnstile

    func verify(_ sample: Sample) async throws -> Verdict {
        await turnstile.pass()
        return .pass("ok")
    }
}

/// A server listening on a Unix socket (or TCP), run in a task, with a `turn` verifier.
final class ListeningServer: Sendable {
    let server: Server
    let turnstile = Turnstile()
    let address: ListenAddress
    private let task: Task<Void, Never>

    init(
        jobs: Int, drainTimeout: Double = 5, tcp: Bool = false, limits: SessionLimits = SessionLimits(),
        extra: [VerifierEntry] = [], transport: Server.Configuration.Transport = .fromEnvironment, ordered: Bool = false
    ) async throws {
        var registry = VerifierRegistry.builtin
        for entry in extra { registry.register(entry) }
        let turnstile = self.turnstile
        registry.register(VerifierEntry(name: "turn", summary: "Test.", kind: "test", options: []) { _ in
            TurnVerifier(turnstile: turnstile)
        })
        let server = Server(
            registry: registry, configuration: .init(
                jobs: jobs, ordered: ordered, limits: limits, drainTimeout: drainTimeout, transport: transport),
            logger: Logger(label: "test"))
        self.server = server
        let wanted: ListenAddress =
            tcp ? .tcp(host: "127.0.0.1", port: 0) : .unix(path: "/tmp/arbiter-fair-\(UUID().uuidString.prefix(8)).sock")
        let bound = Mutex<ListenAddress?>(nil)
        task = Task { try? await server.serve(listening: wanted) { address in bound.withLock { $0 = address } } }
        var found: ListenAddress? = nil
        for _ in 0..<2000 {
            found = bound.withLock { $0 }
            if found != nil { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        address = try #require(found)
    }

    func connect() throws -> Connection { try Connection(address) }

    /// Stops the server and waits for its serve call to return.
    func stop() async {
        server.stop()
        await task.value
    }
}

/// A blocking client connection that collects answer lines on a thread.
final class Connection: Sendable {
    private final class Received: Sendable {
        let value = Mutex<(lines: [String], ended: Bool, error: Int32)>(([], false, 0))
    }

    let descriptor: Int32
    private let received = Received()

    init(_ address: ListenAddress) throws {
        switch address {
        case .unix(let path):
            descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var socketAddress = sockaddr_un()
            socketAddress.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &socketAddress.sun_path) { raw in
                for (offset, byte) in path.utf8.enumerated() { raw[offset] = byte }
            }
            let result = withUnsafePointer(to: &socketAddress) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            try #require(result == 0)
        case .tcp(_, let port):
            descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var socketAddress = sockaddr_in()
            socketAddress.sin_family = sa_family_t(AF_INET)
            socketAddress.sin_port = UInt16(port).bigEndian
            socketAddress.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
            let result = withUnsafePointer(to: &socketAddress) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            try #require(result == 0)
        }
    }

    /// Starts collecting answers on a thread.
    func startReading() {
        let descriptor = self.descriptor
        let received = self.received
        Thread {
            var pending: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count < 0 {
                    let error = errno
                    received.value.withLock { $0.error = error }
                }
                if count <= 0 { break }
                pending.append(contentsOf: buffer[0..<count])
                while let newline = pending.firstIndex(of: 0x0A) {
                    let line = String(decoding: pending[..<newline], as: UTF8.self)
                    pending.removeSubrange(...newline)
                    received.value.withLock { $0.lines.append(line) }
                }
            }
            received.value.withLock { $0.ended = true }
        }.start()
    }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if written <= 0 { break }
            offset += written
        }
    }

    var lines: [String] { received.value.withLock { $0.lines } }
    var ended: Bool { received.value.withLock { $0.ended } }
    /// The errno of a failed read (ECONNRESET for a reset connection), 0 if none.
    var readError: Int32 { received.value.withLock { $0.error } }

    func ids(_ prefix: String) -> [String] {
        lines.compactMap { (try? JSONParser.parse($0))?.objectValue?["id"]?.stringValue }.filter { $0.hasPrefix(prefix) }
    }
}

func turnRequests(_ prefix: String, _ count: Int) -> String {
    (0..<count).map { "{\"id\":\"\(prefix)\($0)\",\"verifier\":\"turn\",\"response\":\"x\"}\n" }.joined()
}

/// Polls `condition` every 5 ms for up to 20 s.
func eventually(_ condition: () -> Bool) async -> Bool {
    for _ in 0..<4000 {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return condition()
}

@Suite("Fair scheduling between connections, prompt ops, dropped work, drain", .serialized, .timeLimit(.minutes(2)))
struct FairnessTests {
    @Test("a second client's request runs after at most one more of another client's queued requests, not after all 20")
    func roundRobin() async throws {
        let daemon = try await ListeningServer(jobs: 1)
        let first = try daemon.connect()
        first.startReading()
        first.send(turnRequests("a", 20))
        #expect(await eventually { daemon.turnstile.arrived == 1 && daemon.server.stats.inFlight == 20 })
        let second = try daemon.connect()
        second.startReading()
        second.send("{\"id\":\"b0\",\"verifier\":\"exact\",\"response\":\"1\",\"reference\":\"1\"}\n")
        #expect(await eventually { daemon.server.stats.inFlight == 21 })
        daemon.turnstile.release(2)  // a0 and the next request of the first client
        #expect(await eventually { second.ids("b") == ["b0"] })
        #expect(first.ids("a").count <= 2, "the second client waited for at most one more of the first's requests")
        daemon.turnstile.release(100)
        #expect(await eventually { first.ids("a").count == 20 })
        await daemon.stop()
    }

    @Test("negative control: within one connection requests are served in order, so a late one waits for all")
    func oneStreamIsFIFO() async throws {
        let daemon = try await ListeningServer(jobs: 1)
        let client = try daemon.connect()
        client.startReading()
        client.send(turnRequests("a", 20) + "{\"id\":\"b0\",\"verifier\":\"exact\",\"response\":\"1\",\"reference\":\"1\"}\n")
        #expect(await eventually { daemon.turnstile.arrived == 1 && daemon.server.stats.inFlight == 21 })
        daemon.turnstile.release(2)
        // a0 and a1 are done once a2 waits at the turnstile (their answers may still sit in the worker's share).
        #expect(await eventually { daemon.turnstile.arrived == 3 })
        try await Task.sleep(for: .milliseconds(100))
        #expect(client.ids("b").isEmpty, "in one stream the exact request is behind 18 waiting ones")
        daemon.turnstile.release(100)
        #expect(await eventually { client.ids("b") == ["b0"] })
        await daemon.stop()
    }

    @Test("ping and stats are answered while every worker is busy and requests are queued")
    func opsAhead() async throws {
        let daemon = try await ListeningServer(jobs: 1)
        let busy = try daemon.connect()
        busy.startReading()
        busy.send(turnRequests("a", 20) + "{\"id\":\"p\",\"op\":\"ping\"}\n")
        #expect(await eventually { daemon.server.stats.inFlight >= 20 })
        let other = try daemon.connect()
        other.startReading()
        other.send("{\"id\":\"s\",\"op\":\"stats\"}\n")
        #expect(await eventually { busy.ids("p") == ["p"] && other.ids("s") == ["s"] })
        #expect(busy.ids("a").isEmpty, "no verification had finished: the ping went ahead of them")
        let stats = try #require(try JSONParser.parse(other.lines[0]).objectValue?["stats"]?.objectValue)
        let busiest = stats["connections"]?.objectValue?["busiest"]?.arrayValue ?? []
        let depth = busiest.first?.objectValue?["in_flight"]?.doubleValue ?? 0
        #expect((20...21).contains(depth), "the busy connection's queue depth (its ping may not be written yet)")
        daemon.turnstile.release(100)
        #expect(await eventually { busy.ids("a").count == 20 })
        await daemon.stop()
    }

    @Test("the queued work of a client that hung up is dropped, not run")
    func goneClientDropped() async throws {
        let daemon = try await ListeningServer(jobs: 1)
        let client = try daemon.connect()
        client.send(turnRequests("a", 20))
        #expect(await eventually { daemon.turnstile.arrived == 1 && daemon.server.stats.inFlight == 20 })
        close(client.descriptor)
        // The reader sees the hang-up; the running request finishes, the 19 queued ones are dropped.
        #expect(await eventually { daemon.server.stats.goneConnections == 1 })
        daemon.turnstile.release(1)
        #expect(await eventually { daemon.server.stats.inFlight == 0 })
        #expect(daemon.turnstile.arrived == 1, "none of the 19 queued requests ran")
        #expect(daemon.server.stats.dropped == 19)
        await daemon.stop()
    }

    @Test("negative control: a client that only closes its sending half still gets every answer")
    func halfCloseIsNotGone() async throws {
        let daemon = try await ListeningServer(jobs: 1)
        let client = try daemon.connect()
        client.startReading()
        client.send(turnRequests("a", 20))
        shutdown(client.descriptor, Int32(SHUT_WR))
        #expect(await eventually { daemon.turnstile.arrived == 1 && daemon.server.stats.inFlight == 20 })
        daemon.turnstile.release(100)
        #expect(await eventually { client.ended })
        #expect(client.ids("a").count == 20)
        #expect(daemon.server.stats.dropped == 0)
        await daemon.stop()
    }

    @Test("after a stop, queued requests past the drain time are answered 'cancelled' and the stop ends")
    func drainCancels() async throws {
        let daemon = try await ListeningServer(jobs: 1, drainTimeout: 0.2)
        let client = try daemon.connect()
        client.startReading()
        client.send(turnRequests("a", 10))
        #expect(await eventually { daemon.turnstile.arrived == 1 && daemon.server.stats.inFlight == 10 })
        daemon.server.stop()
        try await Task.sleep(for: .milliseconds(400))  // past the drain time
        daemon.turnstile.release(1)  // the running request finishes with its verdict
        await daemon.stop()
        #expect(await eventually { client.ended })
        let answers = client.lines.compactMap { try? JSONParser.parse($0).objectValue }
        #expect(answers.count == 10, "every request read is answered")
        #expect(answers.filter { $0["passed"]?.boolValue == true }.count == 1)
        let cancelled = answers.filter { $0["error"]?.objectValue?["code"]?.stringValue == "cancelled" }
        #expect(cancelled.count == 9)
        #expect(Set(cancelled.compactMap { $0["id"]?.stringValue }) == Set((1..<10).map { "a\($0)" }))
        #expect(daemon.turnstile.arrived == 1, "cancelled requests did not run")
        #expect(client.readError == 0, "the connection ended cleanly, not with a reset")
    }

    @Test("a stop over TCP with unread requests in the socket delivers every answer without a reset")
    func tcpStopWithoutReset() async throws {
        let limits = SessionLimits(maxInFlightLines: 5, readSize: 256)
        let daemon = try await ListeningServer(jobs: 1, tcp: true, limits: limits)
        let client = try daemon.connect()
        client.send(turnRequests("a", 5))
        #expect(await eventually { daemon.turnstile.arrived == 1 && daemon.server.stats.inFlight == 5 })
        // Requests the paused reader will never read stay in the server's socket buffer.
        client.send(String(repeating: "{\"id\":\"late\",\"verifier\":\"exact\",\"response\":\"1\",\"reference\":\"1\"}\n", count: 200))
        daemon.server.stop()
        daemon.turnstile.release(100)
        try await Task.sleep(for: .milliseconds(300))  // the answers are written, then the socket is closed
        client.startReading()
        await daemon.stop()
        #expect(await eventually { client.ended })
        #expect(client.ids("a").count == 5, "every answer arrived")
        #expect(client.readError == 0, "end of stream, not ECONNRESET")
    }

    @Test("accepted TCP connections have TCP_NODELAY; the client's own socket (negative control) does not")
    func tcpNoDelay() throws {
        let listener = try Listener(address: .tcp(host: "127.0.0.1", port: 0))
        let client = try Connection(listener.boundAddress)
        defer { close(client.descriptor) }
        let accepted = accept(listener.descriptor, nil, nil)
        defer { close(accepted) }
        try #require(accepted >= 0)
        listener.configure(connection: accepted)
        func noDelay(_ descriptor: Int32) -> Int32 {
            var value: Int32 = -1
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &value, &length)
            return value
        }
        #expect(noDelay(accepted) != 0)
        #expect(noDelay(client.descriptor) == 0)
        close(listener.descriptor)
    }
}

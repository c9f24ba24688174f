// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
@testable import ArbiterServer
import Foundation
import Logging
import Synchronization
import Testing

/// A gate that verifications wait at until the test opens it.
final class Gate: Sendable {
    private let state = Mutex<(open: Bool, arrived: Int, waiters: [CheckedContinuation<Void, Never>])>((false, 0, []))

    var arrived: Int { state.withLock { $0.arrived } }
    var isOpen: Bool { state.withLock { $0.open } }

    func pass() async {
        await withCheckedContinuation { continuation in
            let go = state.withLock { state -> Bool in
                state.arrived += 1
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if go { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        waiters.forEach { $0.resume() }
    }
}

/// `gate`: responses "slow" wait at the gate; `broken`: throws a non-Arbiter error; `nan`: returns a NaN score.
struct TestVerifier: Verifier {
    typealias Configuration = NoOptions
    static let name = "gate"
    static let summary = "Test verifier."
    let gate: Gate?
    let behaviour: String

    init(configuration: NoOptions) {
        gate = nil
        behaviour = "gate"
    }

    init(gate: Gate?, behaviour: String) {
        self.gate = gate
        self.behaviour = behaviour
    }

    struct Broken: Error {}

    func verify(_ sample: Sample) async throws -> Verdict {
        switch behaviour {
        case "broken": throw Broken()
        case "nan": return Verdict(score: .nan, passed: false, reason: "nan")
        default:
            if sample.response == "slow" { await gate?.pass() }
            return .pass("ok", details: ["response": .string(sample.response)])
        }
    }
}

/// A server on pipes, run in a task, with its output collected line by line.
final class PipedServer: @unchecked Sendable {
    let server: Server
    let gate = Gate()
    private let input: (read: Int32, write: Int32)
    private let output: (read: Int32, write: Int32)
    private final class Lines: Sendable {
        let value = Mutex<[String]>([])
        let ended = Atomic<Bool>(false)
    }

    private let collected = Lines()
    private var task: Task<Void, Never>?

    init(jobs: Int = 2, ordered: Bool = false, limits: SessionLimits = SessionLimits()) {
        var registry = VerifierRegistry.builtin
        for behaviour in ["gate", "broken", "nan"] {
            let gate = self.gate
            registry.register(
                VerifierEntry(name: behaviour, summary: "Test.", kind: "test", options: []) { _ in
                    TestVerifier(gate: gate, behaviour: behaviour)
                })
        }
        server = Server(
            registry: registry, configuration: .init(jobs: jobs, ordered: ordered, limits: limits),
            logger: Logger(label: "test"))
        var descriptors: [Int32] = [0, 0]
        _ = pipe(&descriptors)
        input = (descriptors[0], descriptors[1])
        _ = pipe(&descriptors)
        output = (descriptors[0], descriptors[1])
        let server = self.server
        let (inputRead, outputWrite) = (input.read, output.write)
        task = Task {
            await server.serve(input: inputRead, output: outputWrite)
            close(outputWrite)
        }
        let collected = self.collected
        let outputRead = output.read
        Thread {
            var pending: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(outputRead, $0.baseAddress, $0.count) }
                if count <= 0 { break }
                pending.append(contentsOf: buffer[0..<count])
                while let newline = pending.firstIndex(of: 0x0A) {
                    let line = String(decoding: pending[..<newline], as: UTF8.self)
                    pending.removeSubrange(...newline)
                    collected.value.withLock { $0.append(line) }
                }
            }
            collected.ended.store(true, ordering: .sequentiallyConsistent)
        }.start()
    }

    private let sending = NSCondition()
    private var senders = 0

    /// Writes to the server's input on a thread (the pipe may fill while the server applies backpressure).
    func send(_ text: String) {
        let bytes = Array(text.utf8)
        let descriptor = input.write
        sending.lock()
        senders += 1
        sending.unlock()
        Thread { [self] in
            var offset = 0
            while offset < bytes.count {
                let written = bytes[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
                if written <= 0 { break }
                offset += written
            }
            sending.lock()
            senders -= 1
            sending.broadcast()
            sending.unlock()
        }.start()
    }

    /// Ends the input once everything sent has been written.
    func closeInput() {
        sending.lock()
        while senders > 0 { sending.wait() }
        sending.unlock()
        close(input.write)
    }

    var lines: [String] { collected.value.withLock { $0 } }

    /// Polls `condition` every 5 ms for up to 20 s.
    func eventually(_ condition: () -> Bool) async -> Bool {
        for _ in 0..<4000 {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return condition()
    }

    /// Waits for the serve call to return.
    func finish() async {
        await task?.value
        _ = await eventually { collected.ended.load(ordering: .sequentiallyConsistent) }
    }

    deinit {
        close(input.read)
        close(output.read)
    }
}

func request(_ id: Int, _ verifier: String = "gate", response: String = "fast") -> String {
    "{\"id\":\(id),\"verifier\":\"\(verifier)\",\"response\":\"\(response)\"}\n"
}

@Suite("Server scheduling, backpressure and draining")
struct ServerTests {
    @Test("a slow request does not hold back fast ones (answers are written as they finish)", .timeLimit(.minutes(1)))
    func outOfOrder() async {
        let piped = PipedServer(jobs: 2)
        piped.send(request(1, response: "slow") + (2...50).map { request($0) }.joined())
        #expect(await piped.eventually { piped.lines.count == 49 })
        #expect(!piped.lines.contains { $0.hasPrefix("{\"id\":1,") })
        piped.gate.open()
        piped.closeInput()
        await piped.finish()
        #expect(piped.lines.count == 50)
        #expect(piped.lines.last?.hasPrefix("{\"id\":1,") == true)
    }

    @Test("--ordered holds fast answers until the slow one before them is written", .timeLimit(.minutes(1)))
    func ordered() async {
        let piped = PipedServer(jobs: 2, ordered: true)
        piped.send(request(1, response: "slow") + (2...50).map { request($0) }.joined())
        #expect(await piped.eventually { piped.gate.arrived == 1 })
        try? await Task.sleep(for: .milliseconds(100))
        #expect(piped.lines.isEmpty)
        piped.gate.open()
        piped.closeInput()
        await piped.finish()
        #expect(piped.lines.count == 50)
        let ids = piped.lines.compactMap { try? JSONParser.parse($0).objectValue?["id"]?.doubleValue }
        #expect(ids == (1...50).map(Double.init))
    }

    @Test("a full in-flight queue stops the reader instead of growing memory", .timeLimit(.minutes(1)))
    func backpressure() async {
        let limits = SessionLimits(maxInFlightLines: 8, readSize: 64)
        let piped = PipedServer(jobs: 2, ordered: true, limits: limits)
        piped.send(request(0, response: "slow") + (1..<2000).map { request($0) }.joined())
        #expect(await piped.eventually { piped.gate.arrived == 1 })
        try? await Task.sleep(for: .milliseconds(200))
        let read = piped.server.stats.inFlight
        #expect(read <= 8 + 2, "in flight: \(read)")
        #expect(piped.lines.isEmpty)
        piped.gate.open()
        piped.closeInput()
        await piped.finish()
        #expect(piped.lines.count == 2000)
    }

    @Test("stop() stops reading but answers everything already read", .timeLimit(.minutes(1)))
    func stopDrains() async {
        let piped = PipedServer(jobs: 4)
        piped.send((0..<4).map { request($0, response: "slow") }.joined())
        #expect(await piped.eventually { piped.gate.arrived == 4 })
        piped.server.stop()
        try? await Task.sleep(for: .milliseconds(50))
        piped.send(request(99))
        piped.gate.open()
        await piped.finish()
        let ids = Set(piped.lines.compactMap { try? JSONParser.parse($0).objectValue?["id"]?.doubleValue })
        #expect(ids == [0, 1, 2, 3], "in-flight requests answered; nothing after the stop was read")
    }

    @Test("batch items run on several workers and come back in order", .timeLimit(.minutes(1)))
    func batchFanOut() async {
        let piped = PipedServer(jobs: 3)
        let items = (0..<3).map { "{\"id\":\($0),\"verifier\":\"gate\",\"response\":\"slow\"}" }
            + (3..<40).map { "{\"id\":\($0),\"verifier\":\"gate\",\"response\":\"fast\"}" }
        piped.send("{\"id\":\"b\",\"batch\":[\(items.joined(separator: ","))]}\n")
        #expect(await piped.eventually { piped.gate.arrived == 3 }, "three slow items wait at once")
        piped.gate.open()
        piped.closeInput()
        await piped.finish()
        let results = (try? JSONParser.parse(piped.lines.first ?? ""))?.objectValue?["results"]?.arrayValue ?? []
        #expect(results.compactMap { $0.objectValue?["id"]?.doubleValue } == (0..<40).map(Double.init))
    }

    @Test("a verifier that throws or returns NaN is an internal error, and its neighbours are unaffected")
    func internalErrors() async {
        let piped = PipedServer(jobs: 2, ordered: true)
        piped.send(request(1, "broken") + request(2, "nan") + request(3))
        piped.closeInput()
        await piped.finish()
        let lines = piped.lines
        #expect(lines.count == 3)
        #expect(lines[0].contains("\"code\":\"internal\"") && lines[0].contains("verifier 'broken' failed"))
        #expect(lines[1].contains("\"code\":\"internal\"") && lines[1].contains("non-finite score"))
        #expect(lines[2].contains("\"passed\":true"))
    }

    @Test("stats count requests, verdicts, errors by code and latency")
    func stats() async {
        let piped = PipedServer(jobs: 1, ordered: true)
        piped.send(request(1) + request(2) + "oops\n" + request(3, "broken"))
        #expect(await piped.eventually { piped.lines.count == 4 })
        piped.send("{\"id\":\"s\",\"op\":\"stats\"}\n")
        piped.closeInput()
        await piped.finish()
        let stats = (try? JSONParser.parse(piped.lines.last ?? ""))?.objectValue?["stats"]?.objectValue
        #expect(stats?["requests"]?.doubleValue == 5)
        #expect(stats?["verdicts"]?.doubleValue == 2)
        #expect(stats?["errors"]?.objectValue?["invalid_json"]?.doubleValue == 1)
        #expect(stats?["errors"]?.objectValue?["internal"]?.doubleValue == 1)
        #expect(stats?["verifiers"]?.objectValue?["gate"]?.objectValue?["verdicts"]?.doubleValue == 2)
        let latency = stats?["latency_ms"]?.objectValue
        let p99 = latency?["p99"]?.doubleValue ?? -1
        #expect(p99 > 0 && p99 <= (latency?["max"]?.doubleValue ?? 0) * 1.1, "four timed answers: a positive p99, not above the maximum")
        #expect(stats?["in_flight"]?.doubleValue == 0, "everything before it is written; the stats line is answered as it is read")
        #expect(stats?["dropped"]?.doubleValue == 0)
        #expect(stats?["connections"]?.objectValue?["open"]?.doubleValue == 1)
    }
}

@Suite("Stops and line limits")
struct StopAndLimitTests {
    @Test("a stop drops a half-received line instead of answering it", .timeLimit(.minutes(1)))
    func stopDropsPartialLine() async {
        let piped = PipedServer(jobs: 1)
        piped.send("{\"id\":1,\"op\":\"ping\"}\n{\"id\":2,\"op\":\"pi")
        #expect(await piped.eventually { piped.lines.count == 1 })
        try? await Task.sleep(for: .milliseconds(50))
        piped.server.stop()
        await piped.finish()
        #expect(piped.lines.count == 1)
        #expect(piped.lines.first?.hasPrefix("{\"id\":1,") == true)
    }

    @Test("whether a CRLF line is too large does not depend on where reads split it")
    func crlfAtChunkBoundary() {
        let line = Array(String(repeating: "x", count: 80).utf8)
        for split in [80, 81] {
            var splitter = LineSplitter(maxLineBytes: 80)
            var events: [LineSplitter.Event] = []
            let whole = line + [0x0D, 0x0A]
            whole[..<split].withUnsafeBufferPointer { splitter.feed($0) { events.append($0) } }
            whole[split...].withUnsafeBufferPointer { splitter.feed($0) { events.append($0) } }
            guard events.count == 1, case .line(let bytes) = events[0] else {
                Issue.record("split at \(split): \(events)")
                continue
            }
            #expect(bytes.count == 80)
        }
    }
}

// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Synchronization

/// Counters for one verifier.
public struct VerifierCounters: Sendable {
    /// Verdicts given.
    public var verdicts = 0
    /// Verdicts that passed.
    public var passed = 0
    /// Sum of scores, for the mean.
    public var scoreSum = 0.0
    /// Requests for this verifier answered with an error.
    public var errors = 0
}

/// What a server has done: requests, verdicts, errors by code, reasons and latency.
public struct StatsSnapshot: Sendable {
    /// Request lines answered (including ops and errors; a batch counts once).
    public var requests = 0
    /// Verdicts given (a batch item counts once).
    public var verdicts = 0
    /// Verdicts that passed.
    public var passed = 0
    /// Sum of verdict scores.
    public var scoreSum = 0.0
    /// Counters per verifier name.
    public var verifiers: [String: VerifierCounters] = [:]
    /// Verdict counts per reason.
    public var reasons: [String: Int] = [:]
    /// Error counts per error code.
    public var errors: [String: Int] = [:]
    /// Latency of verdicts and errors.
    public var latency = LatencyHistogram()

    /// Adds another snapshot's counts to this one.
    /// - Parameter other: The snapshot to add.
    public mutating func merge(_ other: StatsSnapshot) {
        requests += other.requests
        verdicts += other.verdicts
        passed += other.passed
        scoreSum += other.scoreSum
        for (name, counters) in other.verifiers {
            var mine = verifiers[name, default: VerifierCounters()]
            mine.verdicts += counters.verdicts
            mine.passed += counters.passed
            mine.scoreSum += counters.scoreSum
            mine.errors += counters.errors
            verifiers[name] = mine
        }
        for (reason, count) in other.reasons { reasons[reason, default: 0] += count }
        for (code, count) in other.errors { errors[code, default: 0] += count }
        latency.merge(other.latency)
    }
}

extension VerifierCounters {
    fileprivate mutating func record(_ verdict: Verdict) {
        verdicts += 1
        scoreSum += verdict.score
        if verdict.passed { passed += 1 }
    }
}

/// One worker's counters, kept in small arrays found by linear search instead of dictionaries keyed by strings:
/// a daemon serves a handful of verifiers and reasons, and comparing two short (inline) strings is a word compare,
/// where hashing one per verdict was a measurable part of the hot path.
struct SlotCounters: Sendable {
    var requests = 0
    var verdicts = 0
    var passed = 0
    var scoreSum = 0.0
    var verifierNames: [String] = []
    var verifierCounters: [VerifierCounters] = []
    var reasonNames: [String] = []
    var reasonCounts: [Int] = []
    var errors: [String: Int] = [:]
    var latency = LatencyHistogram()

    mutating func recordVerdict(verifier: String, _ verdict: Verdict, nanoseconds: UInt64) {
        verdicts += 1
        scoreSum += verdict.score
        if verdict.passed { passed += 1 }
        verifierCounters[Self.index(of: verifier, in: &verifierNames, &verifierCounters, VerifierCounters())].record(verdict)
        reasonCounts[Self.index(of: verdict.reason, in: &reasonNames, &reasonCounts, 0)] += 1
        latency.record(nanoseconds: nanoseconds)
    }

    /// Adds what a worker counted on the byte path since its last hand-over, and empties the tally.
    /// - Parameters:
    ///   - tally: The worker's tally.
    ///   - names: The names of the byte path's verifiers, by their index in the tally.
    mutating func add(_ tally: inout ByteTally, names: [String]) {
        requests += tally.requests
        verdicts += tally.verdicts
        passed += tally.passed
        scoreSum += tally.scoreSum
        for index in tally.verifierVerdicts.indices where tally.verifierVerdicts[index] > 0 {
            var counters = VerifierCounters()
            counters.verdicts = tally.verifierVerdicts[index]
            counters.passed = tally.verifierPassed[index]
            counters.scoreSum = tally.verifierScoreSums[index]
            let slot = Self.index(of: names[index], in: &verifierNames, &verifierCounters, VerifierCounters())
            verifierCounters[slot].verdicts += counters.verdicts
            verifierCounters[slot].passed += counters.passed
            verifierCounters[slot].scoreSum += counters.scoreSum
        }
        for index in tally.reasonCounts.indices where tally.reasonCounts[index] > 0 {
            reasonCounts[Self.index(of: tally.reasonTexts[index].description, in: &reasonNames, &reasonCounts, 0)] +=
                tally.reasonCounts[index]
        }
        latency.drain(&tally.latency)
        tally.reset()
    }

    mutating func recordError(verifier: String?, _ code: ArbiterError.Code, nanoseconds: UInt64?) {
        errors[code.rawValue, default: 0] += 1
        if let verifier {
            verifierCounters[Self.index(of: verifier, in: &verifierNames, &verifierCounters, VerifierCounters())].errors += 1
        }
        if let nanoseconds { latency.record(nanoseconds: nanoseconds) }
    }

    /// The index of `name`, appended (with `initial`) when it is new.
    private static func index<Value>(of name: String, in names: inout [String], _ values: inout [Value], _ initial: Value) -> Int {
        if let found = names.firstIndex(of: name) { return found }
        names.append(name)
        values.append(initial)
        return names.count - 1
    }

    /// The counters as a snapshot.
    var snapshot: StatsSnapshot {
        var snapshot = StatsSnapshot()
        snapshot.requests = requests
        snapshot.verdicts = verdicts
        snapshot.passed = passed
        snapshot.scoreSum = scoreSum
        for (name, counters) in zip(verifierNames, verifierCounters) { snapshot.verifiers[name] = counters }
        for (reason, count) in zip(reasonNames, reasonCounts) { snapshot.reasons[reason] = count }
        snapshot.errors = errors
        snapshot.latency = latency
        return snapshot
    }
}

/// What one worker counted on the byte path since it last handed answers over: kept by the worker alone (no lock per
/// line) and added to its statistics slot before the answers are handed over, so that every answer written is
/// counted.
struct ByteTally {
    var requests = 0
    var verdicts = 0
    var passed = 0
    var scoreSum = 0.0
    /// By the index of the verifier among the byte path's verifiers.
    var verifierVerdicts: [Int]
    var verifierPassed: [Int]
    var verifierScoreSums: [Double]
    /// Reasons, found by the address of their static text.
    var reasonAddresses: [UInt] = []
    var reasonTexts: [StaticString] = []
    var reasonCounts: [Int] = []
    var latency = LatencyHistogram()

    /// An empty tally for `verifiers` verifiers.
    init(verifiers: Int) {
        verifierVerdicts = Array(repeating: 0, count: verifiers)
        verifierPassed = Array(repeating: 0, count: verifiers)
        verifierScoreSums = Array(repeating: 0, count: verifiers)
    }

    var isEmpty: Bool { requests == 0 }

    mutating func record(verifier: Int, _ verdict: CompactVerdict, nanoseconds: UInt64) {
        requests += 1
        verdicts += 1
        scoreSum += verdict.score
        verifierVerdicts[verifier] += 1
        verifierScoreSums[verifier] += verdict.score
        if verdict.passed {
            passed += 1
            verifierPassed[verifier] += 1
        }
        let address = UInt(bitPattern: verdict.reason.utf8Start)
        if let index = reasonAddresses.firstIndex(of: address) {
            reasonCounts[index] += 1
        } else {
            reasonAddresses.append(address)
            reasonTexts.append(verdict.reason)
            reasonCounts.append(1)
        }
        latency.record(nanoseconds: nanoseconds)
    }

    /// Sets every count to zero (the latency histogram is emptied by ``LatencyHistogram/drain(_:)``).
    mutating func reset() {
        requests = 0
        verdicts = 0
        passed = 0
        scoreSum = 0
        for index in verifierVerdicts.indices {
            verifierVerdicts[index] = 0
            verifierPassed[index] = 0
            verifierScoreSums[index] = 0
        }
        for index in reasonCounts.indices { reasonCounts[index] = 0 }
    }
}

/// Live statistics of a server: one slot per worker, so that recording never contends.
public final class ServerStats: Sendable {
    private final class Slot: Sendable {
        let counters = Mutex(SlotCounters())
    }

    private let slots: [Slot]
    private let inFlightCount = Atomic<Int>(0)
    private let droppedCount = Atomic<Int>(0)
    private let cancelledCount = Atomic<Int>(0)
    private let goneCount = Atomic<Int>(0)
    private let openSessions = Mutex<[Int: Session]>([:])
    private let started = monotonicNanoseconds()

    /// Statistics with one slot per worker.
    /// - Parameter workers: The number of workers.
    public init(workers: Int) {
        slots = (0...workers).map { _ in Slot() }
    }

    /// Runs `body` on one worker's slot.
    func record<Result>(slot: Int, _ body: (inout SlotCounters) -> Result) -> Result {
        slots[min(slot, slots.count - 1)].counters.withLock { body(&$0) }
    }

    /// Request lines read but not yet answered, across every connection.
    public var inFlight: Int { inFlightCount.load(ordering: .relaxed) }

    func addInFlight(_ delta: Int) {
        inFlightCount.add(delta, ordering: .relaxed)
    }

    /// Requests (or batch items) of clients that had gone, dropped without being run.
    public var dropped: Int { droppedCount.load(ordering: .relaxed) }

    /// Requests (or batch items) answered `cancelled` because the drain time after a stop was over.
    public var cancelled: Int { cancelledCount.load(ordering: .relaxed) }

    /// Connections whose client went away before every answer was written.
    public var goneConnections: Int { goneCount.load(ordering: .relaxed) }

    func countDropped() { droppedCount.add(1, ordering: .relaxed) }
    func countCancelled() { cancelledCount.add(1, ordering: .relaxed) }
    func countGoneConnection() { goneCount.add(1, ordering: .relaxed) }

    /// Registers a stream while it is served, for statistics and for the drain after a stop.
    func open(_ session: Session) { openSessions.withLock { $0[session.number] = session } }
    func close(_ session: Session) { _ = openSessions.withLock { $0.removeValue(forKey: session.number) } }

    /// The streams being served.
    var sessions: [Session] { openSessions.withLock { Array($0.values) } }

    /// Seconds since the server started.
    public var uptimeSeconds: Double { Double(monotonicNanoseconds() - started) / 1e9 }

    /// Every slot merged.
    public func snapshot() -> StatsSnapshot {
        var total = StatsSnapshot()
        for slot in slots { total.merge(slot.counters.withLock { $0.snapshot }) }
        return total
    }

    /// The `stats` op's answer.
    public func jsonObject() -> JSONObject {
        let snapshot = snapshot()
        var errors = JSONObject()
        for code in ArbiterError.Code.all { errors[code.rawValue] = .int(snapshot.errors[code.rawValue] ?? 0) }
        var verifiers = JSONObject()
        for name in snapshot.verifiers.keys.sorted() {
            let counters = snapshot.verifiers[name]!
            verifiers[name] = .object([
                "verdicts": .int(counters.verdicts), "passed": .int(counters.passed),
                "mean_score": .double(counters.verdicts > 0 ? counters.scoreSum / Double(counters.verdicts) : 0),
                "errors": .int(counters.errors),
            ])
        }
        var reasons = JSONObject()
        for reason in snapshot.reasons.keys.sorted() { reasons[reason] = .int(snapshot.reasons[reason]!) }
        return [
            "requests": .int(snapshot.requests), "verdicts": .int(snapshot.verdicts),
            "passed": .int(snapshot.passed),
            "mean_score": .double(snapshot.verdicts > 0 ? snapshot.scoreSum / Double(snapshot.verdicts) : 0),
            "errors": .object(errors), "verifiers": .object(verifiers), "reasons": .object(reasons),
            "latency_ms": .object([
                "p50": .double(rounded(snapshot.latency.percentileMilliseconds(0.5))),
                "p99": .double(rounded(snapshot.latency.percentileMilliseconds(0.99))),
                "max": .double(rounded(Double(snapshot.latency.maximum) / 1e6)),
            ]),
            "in_flight": .int(inFlight), "uptime_s": .double(rounded(uptimeSeconds)),
            "dropped": .int(dropped), "cancelled": .int(cancelled), "gone_connections": .int(goneConnections),
            "connections": connectionsObject(),
        ]
    }

    /// `{"open": n, "busiest": [{"connection": k, "in_flight": m}, …]}`: the streams with the most lines in flight
    /// (at most 32, so that the answer stays small with thousands of connections).
    private func connectionsObject() -> JSONValue {
        let open = sessions
        let busiest = open.map { ($0.number, $0.inFlightLines) }.filter { $0.1 > 0 }
            .sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }.prefix(32)
        return .object([
            "open": .int(open.count),
            "busiest": .array(busiest.map { .object(["connection": .int($0.0), "in_flight": .int($0.1)]) }),
        ])
    }

    private func rounded(_ value: Double) -> Double {
        (value * 1000).rounded() / 1000
    }
}

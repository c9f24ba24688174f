// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import DequeModule
import Synchronization

/// One piece of work for a worker.
enum WorkUnit: Sendable {
    /// A request line of a session, with its sequence number.
    case line(Session, seq: Int, bytes: [UInt8])
    /// A line that was over the size limit; its id when the line started with one.
    case tooLarge(Session, seq: Int, size: Int, id: JSONValue?)
    /// One item of a batch request.
    case batchItem(BatchCollector, index: Int, item: BatchItem)

    /// The stream the unit came from.
    var session: Session {
        switch self {
        case .line(let session, _, _), .tooLarge(let session, _, _, _): session
        case .batchItem(let collector, _, _): collector.session
        }
    }
}

/// The queue between readers and workers, fair between streams: each stream (connection) has its own queue, and
/// workers serve the streams with queued work in turn (round-robin), so that one client's long backlog delays
/// another client's request by at most the requests already running.
///
/// A worker takes up to its requested number of units of one stream, but never more than a fair share of that
/// stream's queue, so that slow requests spread over every worker.
final class WorkQueue: Sendable {
    private struct Waiter {
        var continuation: UnsafeContinuation<[WorkUnit]?, Never>
        var maximum: Int
    }

    private struct State {
        /// Queued units per stream; a stream is here only while it has queued units.
        var queues: [ObjectIdentifier: Deque<WorkUnit>] = [:]
        /// The streams with queued units, in the order they are served.
        var turns = Deque<ObjectIdentifier>()
        var waiters = Deque<Waiter>()
        var closed = false

        var isEmpty: Bool { turns.isEmpty }

        mutating func add(_ units: [WorkUnit], atFront: Bool) {
            let key = ObjectIdentifier(units[0].session)
            if queues[key] == nil {
                queues[key] = Deque(units)
                turns.append(key)
            } else if atFront {
                queues[key]!.insert(contentsOf: units, at: 0)
            } else {
                queues[key]!.append(contentsOf: units)
            }
        }

        /// The next stream's share; the stream goes to the back of the line if it has units left.
        mutating func takeShare(maximum: Int, workers: Int) -> [WorkUnit] {
            let key = turns.removeFirst()
            var units = queues.removeValue(forKey: key)!
            var taken: [WorkUnit]
            // A batch's items are taken one at a time: their cost is unknown, and one slow item must not hold others.
            if case .batchItem? = units.first {
                taken = [units.removeFirst()]
            } else {
                let share = max(1, min(maximum, units.count / workers))
                taken = []
                taken.reserveCapacity(share)
                for _ in 0..<share { taken.append(units.removeFirst()) }
            }
            if !units.isEmpty {
                queues[key] = units
                turns.append(key)
            }
            return taken
        }
    }

    private let state = Mutex(State())
    private let workers: Int
    private let cancelledFlag = Atomic<Bool>(false)

    /// Whether queued work is answered `cancelled` instead of run (the drain time after a stop is over).
    var isCancelled: Bool { cancelledFlag.load(ordering: .relaxed) }

    /// From now on, queued work is answered `cancelled` instead of run.
    func cancelQueued() { cancelledFlag.store(true, ordering: .relaxed) }

    init(workers: Int) {
        self.workers = max(1, workers)
    }

    /// Adds one stream's units at the back of its queue (new lines) or the front (the items of a batch already
    /// being answered, or units a worker hands back).
    func push(_ units: [WorkUnit], atFront: Bool = false) {
        guard !units.isEmpty else { return }
        let handoffs = state.withLock { state -> [(UnsafeContinuation<[WorkUnit]?, Never>, [WorkUnit])] in
            state.add(units, atFront: atFront)
            var handoffs: [(UnsafeContinuation<[WorkUnit]?, Never>, [WorkUnit])] = []
            while !state.isEmpty, let waiter = state.waiters.popFirst() {
                handoffs.append((waiter.continuation, state.takeShare(maximum: waiter.maximum, workers: workers)))
            }
            return handoffs
        }
        for (continuation, share) in handoffs { continuation.resume(returning: share) }
    }

    /// Waits for units, all of one stream; `nil` once the queue is closed and empty.
    func take(maximum: Int) async -> [WorkUnit]? {
        if let ready = state.withLock({ state -> [WorkUnit]?? in
            if !state.isEmpty { return .some(state.takeShare(maximum: maximum, workers: workers)) }
            return state.closed ? .some(nil) : nil
        }) {
            return ready
        }
        return await withUnsafeContinuation { continuation in
            let immediate = state.withLock { state -> [WorkUnit]?? in
                if !state.isEmpty { return .some(state.takeShare(maximum: maximum, workers: workers)) }
                if state.closed { return .some(nil) }
                state.waiters.append(Waiter(continuation: continuation, maximum: maximum))
                return nil
            }
            if let immediate { continuation.resume(returning: immediate) }
        }
    }

    /// Units queued (not yet taken by a worker) for one stream.
    func queuedCount(of session: Session) -> Int {
        state.withLock { $0.queues[ObjectIdentifier(session)]?.count ?? 0 }
    }

    /// Ends the queue: workers finish what is queued, then `take` returns `nil`.
    func close() {
        let waiters = state.withLock { state -> [Waiter] in
            state.closed = true
            guard state.isEmpty else { return [] }
            let waiting = Array(state.waiters)
            state.waiters.removeAll()
            return waiting
        }
        for waiter in waiters { waiter.continuation.resume(returning: nil) }
    }
}

/// Gathers the answers to a batch's items and writes the batch's line when the last one arrives.
final class BatchCollector: Sendable {
    let session: Session
    let seq: Int
    let inputBytes: Int
    let id: JSONValue
    private let slots: Mutex<(results: [[UInt8]?], remaining: Int)>

    init(session: Session, seq: Int, inputBytes: Int, id: JSONValue, count: Int) {
        self.session = session
        self.seq = seq
        self.inputBytes = inputBytes
        self.id = id
        self.slots = Mutex((Array(repeating: nil, count: count), count))
    }

    /// Stores one item's result object; the last one writes `{"id":…,"results":[…]}`.
    func complete(index: Int, result: [UInt8]) {
        let finished = slots.withLock { state -> [[UInt8]?]? in
            state.results[index] = result
            state.remaining -= 1
            return state.remaining == 0 ? state.results : nil
        }
        guard let finished else { return }
        session.submit(firstSeq: seq, lines: 1, inputBytes: inputBytes, bytes: Self.line(id: id, results: finished))
    }

    /// The batch's response line, newline included.
    static func line(id: JSONValue, results: [[UInt8]?]) -> [UInt8] {
        var out = JSONWriter(capacity: results.reduce(32) { $0 + ($1?.count ?? 0) + 1 })
        out.byte(UInt8(ascii: "{"))
        out.key("id")
        out.write(id)
        out.raw(",\"results\":[")
        for (offset, result) in results.enumerated() {
            if offset > 0 { out.byte(UInt8(ascii: ",")) }
            out.bytes.append(contentsOf: result ?? [])
        }
        out.raw("]}\n")
        return out.bytes
    }
}

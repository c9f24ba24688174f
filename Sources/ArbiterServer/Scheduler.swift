// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import DequeModule
import Synchronization

// The scheduling part of the request path: the queue between the streams' readers and the workers (fair between
// streams), the workers that answer units, and the fan-out and collection of a batch's items.

/// Consecutive request lines of one session, read together, numbered from `firstSeq`: the queue holds ranges of a
/// block rather than a unit per line, so that a line costs no queue entry and no reference counting of its own. Each
/// line is a range of the read's storage.
final class LineBlock: Sendable {
    let session: Session
    let firstSeq: Int
    private let storage: LineStorage
    private let bounds: [Range<Int>]

    init(session: Session, firstSeq: Int, storage: LineStorage, bounds: [Range<Int>]) {
        self.session = session
        self.firstSeq = firstSeq
        self.storage = storage
        self.bounds = bounds
    }

    /// A block of the given lines (copied into one storage).
    convenience init(session: Session, firstSeq: Int, lines: [ArraySlice<UInt8>]) {
        let joined = Array(lines.joined())
        var bounds: [Range<Int>] = []
        var start = 0
        for line in lines {
            bounds.append(start..<(start + line.count))
            start += line.count
        }
        let storage = joined.withUnsafeBufferPointer { LineStorage($0, UnsafeBufferPointer(start: nil, count: 0)) }
        self.init(session: session, firstSeq: firstSeq, storage: storage, bounds: bounds)
    }

    /// The number of lines.
    var count: Int { bounds.count }

    /// The bytes of line `index` (without its newline), valid while the block lives.
    func line(_ index: Int) -> UnsafeBufferPointer<UInt8> { storage.bytes(bounds[index]) }
}

/// One piece of work for a worker.
enum WorkUnit: Sendable {
    /// Request lines of a session: a range of a block's lines.
    case lines(LineBlock, Range<Int>)
    /// A line that was over the size limit; its id when the line started with one.
    case tooLarge(Session, seq: Int, size: Int, id: JSONValue?)
    /// One item of a batch request.
    case batchItem(BatchCollector, index: Int, item: BatchItem)

    /// The stream the unit came from.
    var session: Session {
        switch self {
        case .lines(let block, _): block.session
        case .tooLarge(let session, _, _, _): session
        case .batchItem(let collector, _, _): collector.session
        }
    }

    /// The request lines (or batch items) the unit stands for.
    var count: Int {
        if case .lines(_, let range) = self { return range.count }
        return 1
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

    /// One stream's queued units and the lines (or items) they stand for.
    private struct StreamQueue {
        var units: Deque<WorkUnit>
        var count: Int
    }

    private struct State {
        /// Queued units per stream; a stream is here only while it has queued units.
        var queues: [ObjectIdentifier: StreamQueue] = [:]
        /// The streams with queued units, in the order they are served.
        var turns = Deque<ObjectIdentifier>()
        var waiters = Deque<Waiter>()
        var closed = false

        var isEmpty: Bool { turns.isEmpty }

        mutating func add(_ units: [WorkUnit], atFront: Bool) {
            let key = ObjectIdentifier(units[0].session)
            let count = units.reduce(0) { $0 + $1.count }
            if queues[key] == nil {
                queues[key] = StreamQueue(units: Deque(units), count: count)
                turns.append(key)
            } else if atFront {
                queues[key]!.units.insert(contentsOf: units, at: 0)
                queues[key]!.count += count
            } else {
                queues[key]!.units.append(contentsOf: units)
                queues[key]!.count += count
            }
        }

        /// The next stream's share; the stream goes to the back of the line if it has units left.
        mutating func takeShare(maximum: Int, workers: Int) -> [WorkUnit] {
            let key = turns.removeFirst()
            var stream = queues.removeValue(forKey: key)!
            var taken: [WorkUnit] = []
            // A batch's items are taken one at a time: their cost is unknown, and one slow item must not hold others.
            if case .batchItem? = stream.units.first {
                taken = [stream.units.removeFirst()]
                stream.count -= 1
            } else {
                // A share counts lines: a range of a block is cut where the share ends.
                var needed = max(1, min(maximum, stream.count / workers))
                while needed > 0, let first = stream.units.first {
                    if case .batchItem = first { break }
                    if case .lines(let block, let range) = first, range.count > needed {
                        let cut = range.lowerBound + needed
                        taken.append(.lines(block, range.lowerBound..<cut))
                        stream.units[stream.units.startIndex] = .lines(block, cut..<range.upperBound)
                        stream.count -= needed
                        break
                    }
                    let unit = stream.units.removeFirst()
                    taken.append(unit)
                    stream.count -= unit.count
                    needed -= unit.count
                }
            }
            if !stream.units.isEmpty {
                queues[key] = stream
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

    /// Every unit queued now, taken at once: the drain's end answers them itself when no worker may be free (each
    /// can be held by a verification that ignores cancellation).
    func takeAllQueued() -> [WorkUnit] {
        state.withLock { state in
            var all: [WorkUnit] = []
            while !state.isEmpty { all += state.takeShare(maximum: Int.max, workers: workers) }
            return all
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

/// One worker: takes units from the queue, answers them, and hands the answers to their sessions.
///
/// It takes several units at a time while they are cheap (so that fast verifiers cost one lock per batch, not per
/// line) and one at a time as soon as they are slow (so that slow verifiers spread over every worker).
struct Worker {
    /// Consecutive answered lines of one session, not yet handed over.
    private struct Run {
        let session: Session
        let firstSeq: Int
        /// A clock reading from when its first answer was ready (about).
        let started: UInt64
        var lines = 0
        var inputBytes = 0
    }

    static let maximumBatch = 1024
    /// The capacity a worker's answer buffer starts with.
    static let outputCapacity = 1 << 16
    static let cheapUnitNanoseconds: UInt64 = 500_000
    /// A share of cheap units grows while it takes under half of this and shrinks when it takes more, so that a
    /// worker holding one stream's share delays other streams by about this much at most.
    static let shareNanoseconds: UInt64 = 2_000_000
    /// Answers held in a share are handed over before the next line once the oldest is this old, so that a share of
    /// many lines does not hold finished answers back for its whole length.
    static let holdNanoseconds: UInt64 = 1_000_000

    let slot: Int
    let queue: WorkQueue
    let dispatcher: Dispatcher
    /// What the byte path counted since the last hand-over: the worker's own, reached through a pointer so that the
    /// hot loop pays neither a lock nor exclusivity checks, and added to the statistics by `flush`.
    private let tally: UnsafeMutablePointer<ByteTally>

    init(slot: Int, queue: WorkQueue, dispatcher: Dispatcher) {
        self.slot = slot
        self.queue = queue
        self.dispatcher = dispatcher
        tally = .allocate(capacity: 1)
        tally.initialize(to: dispatcher.makeTally())
    }

    /// Answers units without running them — `cancelled`, or dropped for a client that has gone — on the calling
    /// thread, then frees the tally: the drain thread's worker, for the units still queued when the drain time is
    /// over. The async workers would answer them so too, but every one of them may be inside a verification that
    /// ignores cancellation (a synchronous verifier does not see it), and a queued line must not wait for that.
    func answerWithoutRunning(_ units: [WorkUnit]) {
        defer {
            tally.deinitialize(count: 1)
            tally.deallocate()
        }
        var out = JSONWriter(capacity: 1 << 12)
        var run: Run? = nil
        for unit in units {
            guard case .lines(let block, let range) = unit else {
                if unit.session.isGone { drop(unit, run: &run, out: &out) } else { cancel(unit, run: &run, out: &out) }
                continue
            }
            let session = block.session
            for index in range {
                let seq = block.firstSeq + index
                let bytes = block.line(index)
                continueRun(&run, session: session, seq: seq, out: &out)
                answerUnrun(bytes, of: session, into: &out)
                extend(&run, session: session, seq: seq, inputBytes: bytes.count)
            }
        }
        flush(&run, &out)
    }

    /// Answers units until the queue is closed and empty. A worker runs once: its tally is freed at the end.
    func run() async {
        defer {
            tally.deinitialize(count: 1)
            tally.deallocate()
        }
        var out = JSONWriter(capacity: Self.outputCapacity)
        var batchSize = 1
        while let units = await queue.take(maximum: batchSize) {
            // One clock reading per share; after it, each unit's end is the dispatcher's reading after `verify`.
            var now = monotonicNanoseconds()
            let started = now
            var run: Run? = nil
            var done = 0
            var handedBack = false
            share: for (position, unit) in units.enumerated() {
                guard case .lines(let block, let range) = unit else {
                    let unitStarted = now
                    await answer(unit, run: &run, out: &out, now: &now)
                    done += 1
                    if now &- unitStarted > Self.cheapUnitNanoseconds, position + 1 < units.count {
                        // A slow unit: hand the rest of the share back so that idle workers take it.
                        queue.push(Array(units[(position + 1)...]), atFront: true)
                        handedBack = true
                        break
                    }
                    continue
                }
                for index in range {
                    let unitStarted = now
                    if !answerLineFromBytes(block, index, run: &run, out: &out, now: &now) {
                        await answerLine(block, index, run: &run, out: &out, now: &now)
                    }
                    done += 1
                    if now &- unitStarted > Self.cheapUnitNanoseconds {
                        var rest: [WorkUnit] = []
                        if index + 1 < range.upperBound { rest.append(.lines(block, (index + 1)..<range.upperBound)) }
                        rest.append(contentsOf: units[(position + 1)...])
                        if !rest.isEmpty {
                            queue.push(rest, atFront: true)
                            handedBack = true
                            break share
                        }
                    }
                }
            }
            flush(&run, &out)
            let elapsed = now &- started
            if elapsed / UInt64(max(1, done)) >= Self.cheapUnitNanoseconds || handedBack {
                batchSize = 1
            } else if elapsed < Self.shareNanoseconds / 2 {
                batchSize = min(batchSize * 2, Self.maximumBatch)
            } else if elapsed > Self.shareNanoseconds {
                batchSize = max(1, batchSize / 2)
            }
        }
    }

    /// Answers one unit; `now` is moved to a clock reading taken after it when the dispatcher read the clock.
    nonisolated(nonsending) private func answer(_ unit: WorkUnit, run: inout Run?, out: inout JSONWriter, now: inout UInt64) async {
        if case .lines(let block, let range) = unit {
            for index in range { await answerLine(block, index, run: &run, out: &out, now: &now) }
            return
        }
        if unit.session.isGone {
            drop(unit, run: &run, out: &out)
            return
        }
        if queue.isCancelled {
            cancel(unit, run: &run, out: &out)
            return
        }
        switch unit {
        case .lines: break  // answered above
        case .tooLarge(let session, let seq, let size, let id):
            continueRun(&run, session: session, seq: seq, out: &out)
            dispatcher.answerTooLarge(size: size, id: id, into: &out, slot: slot)
            out.byte(UInt8(ascii: "\n"))
            extend(&run, session: session, seq: seq, inputBytes: 0)
        case .batchItem(let collector, let index, let item):
            var result = JSONWriter(capacity: 256)
            if let ended = await dispatcher.run(item: item, into: &result, slot: slot) { now = ended }
            collector.complete(index: index, result: result.bytes)
        }
    }

    /// Answers one line of a block on the dispatcher's byte path when it can (see ``Dispatcher/answerBytes``):
    /// synchronously, without the cost of an asynchronous call; `false` when ``answerLine`` must answer it.
    private func answerLineFromBytes(
        _ block: LineBlock, _ index: Int, run: inout Run?, out: inout JSONWriter, now: inout UInt64
    ) -> Bool {
        let session = block.session
        guard !session.isGone, !queue.isCancelled else { return false }
        let seq = block.firstSeq + index
        continueRun(&run, session: session, seq: seq, out: &out)
        if let current = run, now &- current.started >= Self.holdNanoseconds { flush(&run, &out) }
        let line = block.line(index)
        guard dispatcher.answerBytes(line, into: &out, tally: &tally.pointee, now: &now) else { return false }
        extend(&run, session: session, seq: seq, inputBytes: line.count, now: now)
        return true
    }

    /// Answers one line of a block: runs it, or drops it when its client has gone, or answers it `cancelled`.
    nonisolated(nonsending) private func answerLine(
        _ block: LineBlock, _ index: Int, run: inout Run?, out: inout JSONWriter, now: inout UInt64
    ) async {
        let session = block.session
        let seq = block.firstSeq + index
        let bytes = block.line(index)
        continueRun(&run, session: session, seq: seq, out: &out)
        if let current = run, now &- current.started >= Self.holdNanoseconds { flush(&run, &out) }
        if session.isGone || queue.isCancelled {
            answerUnrun(bytes, of: session, into: &out)
        } else {
            let decoded = dispatcher.codec.decode(bytes)
            // A line that may suspend (a code run, a plugin) could take seconds: what is answered goes out first.
            if decoded.mayWait { flush(&run, &out) }
            if let batch = await dispatcher.handle(decoded, into: &out, slot: slot, now: &now) {
                flush(&run, &out)
                startBatch(batch, session: session, seq: seq, inputBytes: bytes.count)
                return
            }
            out.byte(UInt8(ascii: "\n"))
        }
        extend(&run, session: session, seq: seq, inputBytes: bytes.count, now: now)
    }

    /// A line that is not run: dropped (counted) when its client has gone, else answered `cancelled` (the drain time
    /// after a stop is over).
    private func answerUnrun(_ bytes: UnsafeBufferPointer<UInt8>, of session: Session, into out: inout JSONWriter) {
        if session.isGone {
            dispatcher.stats.countDropped()
        } else {
            dispatcher.answerCancelled(id: RequestCodec.leadingID(of: bytes), into: &out, slot: slot, topLevel: true)
            out.byte(UInt8(ascii: "\n"))
        }
    }

    /// Accounts for a unit of a client that has gone, without running it: nobody can receive its answer.
    private func drop(_ unit: WorkUnit, run: inout Run?, out: inout JSONWriter) {
        dispatcher.stats.countDropped()
        switch unit {
        case .lines: break  // answered line by line
        case .tooLarge(let session, let seq, _, _):
            continueRun(&run, session: session, seq: seq, out: &out)
            extend(&run, session: session, seq: seq, inputBytes: 0)
        case .batchItem(let collector, let index, _):
            collector.complete(index: index, result: Array("null".utf8))
        }
    }

    /// Answers a unit `cancelled` without running it: the drain time after a stop is over.
    private func cancel(_ unit: WorkUnit, run: inout Run?, out: inout JSONWriter) {
        switch unit {
        case .lines: break  // answered line by line
        case .tooLarge(let session, let seq, let size, let id):
            continueRun(&run, session: session, seq: seq, out: &out)
            dispatcher.answerTooLarge(size: size, id: id, into: &out, slot: slot)
            out.byte(UInt8(ascii: "\n"))
            extend(&run, session: session, seq: seq, inputBytes: 0)
        case .batchItem(let collector, let index, let item):
            var result = JSONWriter(capacity: 160)
            dispatcher.answerCancelled(id: item.id, into: &result, slot: slot, topLevel: false)
            collector.complete(index: index, result: result.bytes)
        }
    }

    private func startBatch(_ batch: (id: JSONValue, items: [BatchItem]), session: Session, seq: Int, inputBytes: Int) {
        guard !batch.items.isEmpty else {
            let line = RequestCodec.batchLine(id: batch.id, results: [])
            session.submit(firstSeq: seq, lines: 1, inputBytes: inputBytes, bytes: line)
            return
        }
        let collector = BatchCollector(
            session: session, seq: seq, inputBytes: inputBytes, id: batch.id, count: batch.items.count)
        let units = batch.items.enumerated().map { WorkUnit.batchItem(collector, index: $0.offset, item: $0.element) }
        queue.push(units, atFront: true)
    }

    /// Hands over the current run when the next line does not continue it.
    private func continueRun(_ run: inout Run?, session: Session, seq: Int, out: inout JSONWriter) {
        if let current = run, current.session !== session || current.firstSeq + current.lines != seq {
            flush(&run, &out)
        }
    }

    private func extend(_ run: inout Run?, session: Session, seq: Int, inputBytes: Int, now: UInt64 = 0) {
        if run == nil { run = Run(session: session, firstSeq: seq, started: now) }
        run!.lines += 1
        run!.inputBytes += inputBytes
    }

    private func flush(_ run: inout Run?, _ out: inout JSONWriter) {
        guard let current = run else { return }
        dispatcher.record(&tally.pointee, slot: slot)
        current.session.submit(
            firstSeq: current.firstSeq, lines: current.lines, inputBytes: current.inputBytes, taking: &out.bytes)
        out.bytes.removeAll(keepingCapacity: true)
        // A buffer given in exchange may be a fresh one: start it at a size that holds a share of cheap answers.
        if out.bytes.capacity < Self.outputCapacity { out.bytes.reserveCapacity(Self.outputCapacity) }
        run = nil
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
        session.submit(firstSeq: seq, lines: 1, inputBytes: inputBytes, bytes: RequestCodec.batchLine(id: id, results: finished))
    }
}

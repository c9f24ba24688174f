// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore

/// One worker: takes units from the queue, answers them, and hands the answers to their sessions.
///
/// It takes several units at a time while they are cheap (so that fast verifiers cost one lock per batch, not per
/// line) and one at a time as soon as they are slow (so that slow verifiers spread over every worker).
struct Worker {
    /// Consecutive answered lines of one session, not yet handed over.
    private struct Run {
        let session: Session
        let firstSeq: Int
        var lines = 0
        var inputBytes = 0
    }

    static let maximumBatch = 64
    static let cheapUnitNanoseconds: UInt64 = 500_000

    let slot: Int
    let queue: WorkQueue
    let handler: RequestHandler

    func run() async {
        var out = JSONWriter(capacity: 1 << 16)
        var batchSize = 1
        while let units = await queue.take(maximum: batchSize) {
            let started = monotonicNanoseconds()
            var run: Run? = nil
            var done = 0
            for unit in units {
                let unitStarted = monotonicNanoseconds()
                await answer(unit, run: &run, out: &out)
                done += 1
                if monotonicNanoseconds() &- unitStarted > Self.cheapUnitNanoseconds, done < units.count {
                    // A slow unit: hand the rest of the batch back so that idle workers take it.
                    queue.push(Array(units[done...]), atFront: true)
                    break
                }
            }
            flush(&run, &out)
            let perUnit = (monotonicNanoseconds() &- started) / UInt64(done)
            batchSize = perUnit < Self.cheapUnitNanoseconds && done == units.count ? min(batchSize * 2, Self.maximumBatch) : 1
        }
    }

    private func answer(_ unit: WorkUnit, run: inout Run?, out: inout JSONWriter) async {
        if unit.session.isGone {
            drop(unit, run: &run, out: &out)
            return
        }
        if queue.isCancelled {
            cancel(unit, run: &run, out: &out)
            return
        }
        switch unit {
        case .line(let session, let seq, let bytes):
            continueRun(&run, session: session, seq: seq, out: &out)
            if let batch = await handler.handle(line: bytes, into: &out, slot: slot) {
                flush(&run, &out)
                startBatch(batch, session: session, seq: seq, inputBytes: bytes.count)
            } else {
                out.byte(UInt8(ascii: "\n"))
                extend(&run, session: session, seq: seq, inputBytes: bytes.count)
            }
        case .tooLarge(let session, let seq, let size, let id):
            continueRun(&run, session: session, seq: seq, out: &out)
            handler.answerTooLarge(size: size, id: id, into: &out, slot: slot)
            out.byte(UInt8(ascii: "\n"))
            extend(&run, session: session, seq: seq, inputBytes: 0)
        case .batchItem(let collector, let index, let item):
            var result = JSONWriter(capacity: 256)
            await handler.run(item: item, into: &result, slot: slot)
            collector.complete(index: index, result: result.bytes)
        }
    }

    /// Accounts for a unit of a client that has gone, without running it: nobody can receive its answer.
    private func drop(_ unit: WorkUnit, run: inout Run?, out: inout JSONWriter) {
        handler.stats.countDropped()
        switch unit {
        case .line(let session, let seq, let bytes):
            continueRun(&run, session: session, seq: seq, out: &out)
            extend(&run, session: session, seq: seq, inputBytes: bytes.count)
        case .tooLarge(let session, let seq, _, _):
            continueRun(&run, session: session, seq: seq, out: &out)
            extend(&run, session: session, seq: seq, inputBytes: 0)
        case .batchItem(let collector, let index, _):
            collector.complete(index: index, result: Array("null".utf8))
        }
    }

    /// Answers a unit `cancelled` without running it: the drain time after a stop is over.
    private func cancel(_ unit: WorkUnit, run: inout Run?, out: inout JSONWriter) {
        handler.stats.countCancelled()
        switch unit {
        case .line(let session, let seq, let bytes):
            continueRun(&run, session: session, seq: seq, out: &out)
            handler.answerCancelled(id: JSONParser.leadingID(Array(bytes.prefix(4096))), into: &out, slot: slot, topLevel: true)
            out.byte(UInt8(ascii: "\n"))
            extend(&run, session: session, seq: seq, inputBytes: bytes.count)
        case .tooLarge(let session, let seq, let size, let id):
            continueRun(&run, session: session, seq: seq, out: &out)
            handler.answerTooLarge(size: size, id: id, into: &out, slot: slot)
            out.byte(UInt8(ascii: "\n"))
            extend(&run, session: session, seq: seq, inputBytes: 0)
        case .batchItem(let collector, let index, let item):
            var result = JSONWriter(capacity: 160)
            handler.answerCancelled(id: item.id, into: &result, slot: slot, topLevel: false)
            collector.complete(index: index, result: result.bytes)
        }
    }

    private func startBatch(_ batch: (id: JSONValue, items: [BatchItem]), session: Session, seq: Int, inputBytes: Int) {
        guard !batch.items.isEmpty else {
            let line = BatchCollector.line(id: batch.id, results: [])
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

    private func extend(_ run: inout Run?, session: Session, seq: Int, inputBytes: Int) {
        if run == nil { run = Run(session: session, firstSeq: seq) }
        run!.lines += 1
        run!.inputBytes += inputBytes
    }

    private func flush(_ run: inout Run?, _ out: inout JSONWriter) {
        guard let current = run else { return }
        current.session.submit(
            firstSeq: current.firstSeq, lines: current.lines, inputBytes: current.inputBytes, bytes: out.bytes)
        out.bytes.removeAll(keepingCapacity: true)
        run = nil
    }
}

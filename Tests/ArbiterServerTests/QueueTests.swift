// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
@testable import ArbiterServer
import Testing

/// The work queue holds ranges of line blocks: shares count lines, cut a block where they end, and streams take turns.
@Suite("Work queue: line blocks")
struct QueueTests {
    func session(_ queue: WorkQueue) -> Session {
        let stats = ServerStats(workers: 1)
        let dispatcher = Dispatcher(registry: .builtin, settings: .init(maxLineBytes: 1 << 20, jobs: 1), stats: stats)
        return Session(
            input: -1, output: -1, ownsDescriptors: false, ordered: false, limits: SessionLimits(), queue: queue,
            stats: stats, dispatcher: dispatcher, stopDescriptor: -1)
    }

    func block(_ session: Session, firstSeq: Int, count: Int) -> WorkUnit {
        let lines = (0..<count).map { Array("line \($0)".utf8)[...] }
        return .lines(LineBlock(session: session, firstSeq: firstSeq, lines: lines), 0..<count)
    }

    /// The sequence numbers a share holds.
    func seqs(_ units: [WorkUnit]?) -> [Int] {
        (units ?? []).flatMap { unit -> [Int] in
            guard case .lines(let block, let range) = unit else { return [-1] }
            return range.map { block.firstSeq + $0 }
        }
    }

    @Test("a share is cut inside a block, the streams take turns, and the rest stays queued in order")
    func cutAndTurns() async {
        let queue = WorkQueue(workers: 1)
        let first = session(queue), second = session(queue)
        queue.push([block(first, firstSeq: 0, count: 10)])
        queue.push([block(second, firstSeq: 0, count: 3)])
        #expect(queue.queuedCount(of: first) == 10 && queue.queuedCount(of: second) == 3)
        #expect(seqs(await queue.take(maximum: 4)) == [0, 1, 2, 3])
        #expect(queue.queuedCount(of: first) == 6)
        #expect(seqs(await queue.take(maximum: 4)) == [0, 1, 2])  // the second stream's turn
        #expect(queue.queuedCount(of: second) == 0)
        #expect(seqs(await queue.take(maximum: 100)) == [4, 5, 6, 7, 8, 9])
        #expect(queue.queuedCount(of: first) == 0)
    }

    @Test("a share spans blocks, and is a fair part of the stream's lines (negative control: one worker takes all)")
    func fairShare() async {
        let two = WorkQueue(workers: 2)
        let stream = session(two)
        two.push([block(stream, firstSeq: 0, count: 4)])
        two.push([block(stream, firstSeq: 4, count: 6)])
        #expect(seqs(await two.take(maximum: 100)) == [0, 1, 2, 3, 4])  // 10 lines / 2 workers
        #expect(seqs(await two.take(maximum: 100)) == [5, 6])  // 5 lines left / 2 workers
        let one = WorkQueue(workers: 1)
        let alone = session(one)
        one.push([block(alone, firstSeq: 0, count: 4)])
        one.push([block(alone, firstSeq: 4, count: 6)])
        #expect(seqs(await one.take(maximum: 100)) == Array(0..<10))
    }
}

// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

@testable import ArbiterCode
import ArbiterThreads
import Foundation
import Testing

/// What a job saw of the thread it ran on.
private struct Seen: Sendable, Equatable {
    let name: String
    let stackSize: Int
    let thread: UInt
    let joined: Bool

    static func here(joined: Bool) -> Seen {
        let comm = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
        return Seen(
            name: comm.trimmingCharacters(in: .newlines), stackSize: BlockingThread.currentStackSize,
            thread: UInt(pthread_self()), joined: joined)
    }
}

private func run(on worker: SlotWorker) async -> Seen {
    await withCheckedContinuation { continuation in
        worker.submit { joined in continuation.resume(returning: .here(joined: joined)) }
    }
}

/// No root needed: a slot without groups has nothing to join.
@Suite("Sandbox slot workers")
struct SlotWorkerTests {
    @Test("a slot's jobs run one after another on its own named thread with a 1 MiB stack")
    func namedThread() async throws {
        let cgroups = CgroupPool(memoryBase: nil, pidsBase: nil)
        let worker = try SlotWorker(slot: cgroups.acquire(), networkPerSlot: false)
        let first = await run(on: worker)
        let second = await run(on: worker)
        #expect(first.name == "arbiter-sbx-0")
        #expect(first.stackSize >= SlotWorker.stackSize && first.stackSize < 2 * SlotWorker.stackSize)
        #expect(first.joined)
        // The same thread takes every job of the slot (the slot's groups and fork servers belong to it).
        #expect(second == first)
        #expect(first.thread != UInt(pthread_self()))
    }

    @Test("negative control: a thread started without a stack size or name fails both checks")
    func control() async throws {
        let seen = ThreadMonitor<Seen?>(nil)
        let thread = try BlockingThread(name: "") { seen.withLock { $0 = .here(joined: false) } }
        thread.join()
        let other = try #require(seen.withLock { $0 })
        #expect(other.name != "arbiter-sbx-0")
        #expect(!(other.stackSize >= SlotWorker.stackSize && other.stackSize < 2 * SlotWorker.stackSize))
    }
}

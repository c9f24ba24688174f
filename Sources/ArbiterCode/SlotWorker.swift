// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import CArbiterSandbox
import Foundation
import Synchronization

/// A long-lived thread that owns one cgroup slot and launches runs from inside it.
///
/// The thread moves itself (only itself, through the v1 `tasks` files) into its slot's memory and pids groups once;
/// every process it starts is then born there. Moving each run's process instead costs an RCU grace period per run
/// (8–25 ms measured here). Memory is charged per address space, so the daemon's own allocations stay in the
/// daemon's group; the OOM killer looks at processes, not at this thread. Blocking work (waiting, reading pipes)
/// happens on this thread, never on Swift's cooperative pool.
final class SlotWorker: @unchecked Sendable {
    // Unchecked: `pending` is read and written only under `condition`.
    let slot: CgroupPool.Slot
    /// The slot's empty network namespace (a descriptor), or -1 when each run creates its own.
    let network: Int32
    /// The slot's fork servers, used only on this worker's thread.
    let forkServers = ForkServers()
    private let condition = NSCondition()
    private var pending: (@Sendable (_ joined: Bool) -> Void)?

    init(slot: CgroupPool.Slot, networkPerSlot: Bool) {
        self.slot = slot
        let fd = networkPerSlot ? arb_create_network_namespace() : -1
        self.network = fd >= 0 ? fd : -1
        let thread = Thread { [self] in loop() }
        thread.name = "arbiter-sandbox-\(slot.index)"
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Runs work on this worker's thread; `joined` says whether the thread sits in the slot's groups.
    func submit(_ work: @escaping @Sendable (_ joined: Bool) -> Void) {
        condition.lock()
        pending = work
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        // Empty paths stand for controllers that are not there.
        let tasks = slot.groups.map { strdup($0.map { $0 + "/tasks" } ?? "")! }
        defer { for task in tasks { free(task) } }
        let joined =
            slot.groups.allSatisfy({ $0 == nil })
            || tasks.map({ UnsafePointer($0) }).withUnsafeBufferPointer {
                arb_join_cgroups_thread($0.baseAddress, Int32($0.count))
            } == 0
        while true {
            condition.lock()
            while pending == nil { condition.wait() }
            let work = pending!
            pending = nil
            condition.unlock()
            work(joined)
        }
    }
}

/// Idle workers, created on demand: as many as runs were ever in flight at once.
final class SlotWorkerPool: Sendable {
    private let cgroups: CgroupPool
    private let networkPerSlot: Bool
    private let idle = Mutex<[SlotWorker]>([])

    init(cgroups: CgroupPool, networkPerSlot: Bool) {
        self.cgroups = cgroups
        self.networkPerSlot = networkPerSlot
    }

    /// An idle worker, or a new one with a new slot.
    func acquire() -> SlotWorker {
        if let worker = idle.withLock({ $0.popLast() }) { return worker }
        return SlotWorker(slot: cgroups.acquire(), networkPerSlot: networkPerSlot)
    }

    /// Gives a worker back once its run is over and every process of the run is gone.
    func release(_ worker: SlotWorker) {
        idle.withLock { $0.append(worker) }
    }
}

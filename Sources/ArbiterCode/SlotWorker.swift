// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import ArbiterThreads
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
    // Unchecked: `forkServers` and `mountTemplates` are used only on the worker's thread; everything else is immutable
    // or a monitor.
    /// The worker's thread's stack size: runs set up namespaces and pipes there, nothing deep.
    static let stackSize = 1 << 20

    let slot: CgroupPool.Slot
    /// The slot's empty network namespace (a descriptor), or -1 when each run creates its own.
    let network: Int32
    /// The slot's fork servers, used only on this worker's thread.
    let forkServers = ForkServers()
    /// The slot's mount templates, used only on this worker's thread.
    let mountTemplates = MountTemplates()
    /// The one job handed over and not yet taken: the pool gives a worker to one run at a time.
    private let pending = ThreadMonitor<(@Sendable (_ joined: Bool) -> Void)?>(nil)
    private static var worker: ThreadMonitor<(@Sendable (_ joined: Bool) -> Void)?>.Party { .init(0) }
    private let thread: BlockingThread

    /// A worker with its thread, which joins the slot's groups before it takes its first job.
    /// - Throws: ``ArbiterError`` `internal` when the system refuses another thread.
    init(slot: CgroupPool.Slot, networkPerSlot: Bool) throws(ArbiterError) {
        self.slot = slot
        let fd = networkPerSlot ? arb_create_network_namespace() : -1
        self.network = fd >= 0 ? fd : -1
        let pending = self.pending
        do throws(ArbiterError) {
            // Short enough that the kernel keeps the slot number (15 bytes) for slots up to 999.
            thread = try BlockingThread(name: "arbiter-sbx-\(slot.index)", stackSize: Self.stackSize) {
                Self.loop(slot: slot, pending: pending)
            }
        } catch {
            if fd >= 0 { close(fd) }
            throw error
        }
    }

    /// Hands work to this worker's thread; `joined` says whether the thread sits in the slot's groups. The worker
    /// must be idle (the pool hands it to one run at a time).
    func submit(_ work: @escaping @Sendable (_ joined: Bool) -> Void) {
        pending.withLock(waking: Self.worker) { pending in
            precondition(pending == nil, "sandbox slot \(slot.index) was handed a second run")
            pending = work
        }
    }

    /// The thread's body: joins the slot's groups once, then runs each job handed over, forever (slots live as long
    /// as their sandbox, which lives as long as the process).
    private static func loop(slot: CgroupPool.Slot, pending: ThreadMonitor<(@Sendable (_ joined: Bool) -> Void)?>) {
        // Empty paths stand for controllers that are not there.
        let tasks = slot.groups.map { strdup($0.map { $0 + "/tasks" } ?? "")! }
        defer { for task in tasks { free(task) } }
        let joined =
            slot.groups.allSatisfy({ $0 == nil })
            || tasks.map({ UnsafePointer($0) }).withUnsafeBufferPointer {
                arb_join_cgroups_thread($0.baseAddress, Int32($0.count))
            } == 0
        while true {
            let work = pending.wait(as: worker, until: { $0 != nil }) { pending in
                defer { pending = nil }
                return pending!
            }
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
    /// - Throws: ``ArbiterError`` `internal` when the system refuses the new worker's thread.
    func acquire() throws(ArbiterError) -> SlotWorker {
        if let worker = idle.withLock({ $0.popLast() }) { return worker }
        let slot = cgroups.acquire()
        do throws(ArbiterError) {
            return try SlotWorker(slot: slot, networkPerSlot: networkPerSlot)
        } catch {
            cgroups.release(slot)
            throw error
        }
    }

    /// Gives a worker back once its run is over and every process of the run is gone.
    func release(_ worker: SlotWorker) {
        idle.withLock { $0.append(worker) }
    }
}

/// The mount templates of one sandbox slot (root only): for each work root and set of visible directories, a mount
/// namespace holding the minimal root its runs see (``arb_create_mount_template``), made on first use from the slot's
/// thread. A run's init copies it and mounts only what is the run's own (its work directory's tmpfs, /proc, /dev/shm)
/// into the copy; the template itself never changes, and a copy shares no file system that a run can write with any
/// other. Used only on the slot's thread.
final class MountTemplates {
    private struct Key: Hashable {
        let workParent: String
        let visible: [String]
    }

    private var templates: [Key: Int32] = [:]
    /// Templates that could not be made: their runs build their root as before, without trying again.
    private var failed: Set<Key> = []

    /// Whether runs use templates: as root with the whole sandbox (a user namespace's runs cannot join a namespace
    /// the daemon made), unless `ARBITER_CODE_NO_MOUNT_TEMPLATE=1`.
    static func available(for isolation: Isolation) -> Bool {
        isolation.isolated && !isolation.namespaces.contains("user") && isolation.user != nil && geteuid() == 0
            && ProcessInfo.processInfo.environment["ARBITER_CODE_NO_MOUNT_TEMPLATE"] != "1"
    }

    /// The template for runs whose work directory is in `workParent` and that see `visible`, made now if needed;
    /// `nil` when it cannot be made.
    func template(workParent: String, visible: [String]) -> Int32? {
        let key = Key(workParent: workParent, visible: visible)
        if let fd = templates[key] { return fd }
        guard !failed.contains(key) else { return nil }
        let strings = (visible.map { strdup($0) }) + [nil]
        defer { for string in strings { free(string) } }
        let fd = strings.withUnsafeBufferPointer { arb_create_mount_template(workParent, $0.baseAddress) }
        guard fd >= 0 else {
            failed.insert(key)
            return nil
        }
        templates[key] = fd
        return fd
    }

    /// How many templates this slot made (tests read it).
    var count: Int { templates.count }
}

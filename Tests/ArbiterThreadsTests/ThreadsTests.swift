// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import ArbiterThreads
import Foundation
import Testing

/// Generous bound on waits that should end at once: only a broken primitive reaches it (then the test fails
/// instead of hanging). No assertion depends on how long anything took.
private let patience: UInt64 = 60_000_000_000
private let anyone = ThreadMonitor<Int>.Party(0)

/// Two parties that each wait (at most `wait` ns) for the other: both arrive only when they run at the same time.
private final class Rendezvous: Sendable {
    let monitor = ThreadMonitor(0)
    func meet(waiting wait: UInt64) -> Bool {
        monitor.withLockWakingAll { $0 += 1 }
        return monitor.wait(as: anyone, atMost: wait) { $0 >= 2 }
    }
}

/// Polls `condition` until it holds (or, if the primitive is broken, until `patience` runs out).
private func eventually(_ condition: () -> Bool) -> Bool {
    let start = ContinuousClock.now
    while !condition() {
        if ContinuousClock.now - start > .nanoseconds(patience) { return false }
        usleep(1_000)
    }
    return true
}

/// The kernel name of the calling thread.
private func currentKernelName() -> String {
    let text = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
    return text.trimmingCharacters(in: .newlines)
}

/// Records one value per thread.
private final class Record<Value: Sendable>: Sendable {
    let monitor = ThreadMonitor([Value]())
    func add(_ value: Value) { monitor.withLockWakingAll { $0.append(value) } }
    var values: [Value] { monitor.withLock { $0 } }
}

@Suite("Blocking threads")
struct BlockingThreadTests {
    @Test("two threads run at the same time: each sees the other arrive")
    func concurrent() throws {
        let rendezvous = Rendezvous()
        let met = Record<Bool>()
        let first = try BlockingThread(name: "meet-1") { met.add(rendezvous.meet(waiting: patience)) }
        let second = try BlockingThread(name: "meet-2") { met.add(rendezvous.meet(waiting: patience)) }
        first.join()
        second.join()
        #expect(met.values == [true, true])
    }

    @Test("negative control: the rendezvous fails when the two parties run one after the other")
    func rendezvousDetectsSerialRuns() {
        let rendezvous = Rendezvous()
        let met = Record<Bool>()
        let pool = ThreadPool<Int>(name: "serial", limit: 1) { jobs in
            while jobs.next() != nil { met.add(rendezvous.meet(waiting: 200_000_000)) }
        }
        #expect(throws: Never.self) { try pool.submit(1) }
        #expect(throws: Never.self) { try pool.submit(2) }
        let done = met.monitor.wait(as: .init(0), atMost: patience) { $0.count == 2 }
        pool.shutdown()
        #expect(done)
        // The first party waited alone and gave up; the second found it had already arrived.
        #expect(met.values == [false, true])
    }

    @Test("a thread sets its kernel name, cut to 15 bytes")
    func names() throws {
        let seen = Record<String>()
        let short = try BlockingThread(name: "arbiter-test") { seen.add(currentKernelName()) }
        short.join()
        let long = try BlockingThread(name: "arbiter-a-very-long-thread-name") { seen.add(currentKernelName()) }
        long.join()
        #expect(long.kernelName == "arbiter-a-very-")
        #expect(seen.values == ["arbiter-test", "arbiter-a-very-"])
        // Negative control: the name read is the thread's own, not the process's.
        #expect(currentKernelName() != "arbiter-test")
    }

    @Test("a thread gets the stack size asked for")
    func stackSize() throws {
        let sizes = Record<Int>()
        let large = try BlockingThread(name: "large-stack", stackSize: 32 << 20) { sizes.add(BlockingThread.currentStackSize) }
        large.join()
        let small = try BlockingThread(name: "small-stack", stackSize: 256 << 10) { sizes.add(BlockingThread.currentStackSize) }
        small.join()
        let values = sizes.values
        try #require(values.count == 2)
        #expect(values[0] >= 32 << 20)
        // Negative control: the size follows the request (a fixed default would make both equal).
        #expect(values[1] >= 256 << 10 && values[1] < 32 << 20)
    }

    @Test("join waits for the body; joining twice is harmless")
    func joinWaits() throws {
        let gate = ThreadMonitor(false)
        let finished = ThreadMonitor(false)
        let thread = try BlockingThread(name: "gated") {
            _ = gate.wait(as: .init(0), atMost: patience) { $0 }
            finished.withLock { $0 = true }
        }
        // The body cannot have finished: it waits for the gate.
        #expect(finished.withLock { $0 } == false)
        gate.withLockWakingAll { $0 = true }
        thread.join()
        #expect(finished.withLock { $0 })
        thread.join()
    }
}

@Suite("Thread monitor")
struct ThreadMonitorTests {
    @Test("a timed wait ends true when another thread makes the condition hold")
    func wakes() throws {
        let monitor = ThreadMonitor(0, parties: 2)
        let waiter = try BlockingThread(name: "setter") {
            monitor.withLock(waking: .init(1)) { $0 = 7 }
        }
        #expect(monitor.wait(as: .init(1), atMost: patience) { $0 == 7 })
        waiter.join()
    }

    @Test("negative control: a timed wait ends false when nobody makes the condition hold")
    func timesOut() {
        let monitor = ThreadMonitor(0)
        #expect(monitor.wait(as: .init(0), atMost: 1_000_000) { $0 == 7 } == false)
    }
}

/// Jobs that hold their thread until a gate opens, counting how many run at once.
private final class GatedJobs: Sendable {
    struct Counts {
        var running = 0
        var most = 0
        var done = 0
        var open = false
    }
    let monitor = ThreadMonitor(Counts())

    func run() {
        monitor.withLockWakingAll { counts in
            counts.running += 1
            counts.most = max(counts.most, counts.running)
        }
        _ = monitor.wait(as: .init(0), atMost: patience) { $0.open }
        monitor.withLockWakingAll { counts in
            counts.running -= 1
            counts.done += 1
        }
    }

    func waitUntil(_ ready: (Counts) -> Bool) -> Bool { monitor.wait(as: .init(0), atMost: patience, until: ready) }
    func open() { monitor.withLockWakingAll { $0.open = true } }
}

@Suite("Thread pool")
struct ThreadPoolTests {
    @Test("no more threads than the limit run; the other jobs wait in the queue", arguments: [3, 10])
    func bounded(limit: Int) throws {
        let gated = GatedJobs()
        let pool = ThreadPool<Int>(name: "bounded", limit: limit) { jobs in
            while jobs.next() != nil { gated.run() }
        }
        for job in 0..<10 { try pool.submit(job) }
        // With the limit of 10 (the control), all ten run at once: the bound below is the limit, not the machine.
        #expect(gated.waitUntil { $0.running == limit })
        #expect(pool.threadCount == limit)
        #expect(pool.queuedCount == 10 - limit)
        gated.open()
        #expect(gated.waitUntil { $0.done == 10 })
        #expect(gated.monitor.withLock { $0.most } == limit)
        #expect(pool.threadCount == limit)
        pool.shutdown()
    }

    @Test("threads start only when jobs need them, and idle ones are reused")
    func lazy() throws {
        let gated = GatedJobs()
        gated.open()
        let pool = ThreadPool<Int>(name: "lazy", limit: 4) { jobs in
            while jobs.next() != nil { gated.run() }
        }
        #expect(pool.threadCount == 0)
        for job in 0..<5 {
            try pool.submit(job)
            #expect(gated.waitUntil { $0.done == job + 1 })
            #expect(eventually { pool.idleCount == 1 })
        }
        // One job at a time, each submitted while the thread waited for work: that one thread took them all.
        #expect(pool.threadCount == 1)
        pool.shutdown()
    }

    @Test("shutdown lets running jobs finish, hands back queued ones, and joins every thread")
    func shutdownJoins() throws {
        let gated = GatedJobs()
        let cleanups = ThreadMonitor(0)
        let pool = ThreadPool<Int>(name: "joined", limit: 2) { jobs in
            while jobs.next() != nil { gated.run() }
            cleanups.withLock { $0 += 1 }
        }
        for job in 0..<5 { try pool.submit(job) }
        #expect(gated.waitUntil { $0.running == 2 })
        let abandoned = ThreadMonitor<[Int]?>(nil)
        let stopper = try BlockingThread(name: "stopper") {
            let jobs = pool.shutdown()
            abandoned.withLock { $0 = jobs }
        }
        // Once the shutdown has begun, it cannot end while the running jobs hold their threads.
        #expect(eventually { pool.isShuttingDown })
        #expect(try pool.submit(99) == false)
        #expect(abandoned.withLock { $0 } == nil)
        #expect(cleanups.withLock { $0 } == 0)
        gated.open()
        stopper.join()
        #expect(abandoned.withLock { $0 }?.count == 3)
        #expect(gated.monitor.withLock { $0.done } == 2)
        #expect(cleanups.withLock { $0 } == 2)
        #expect(try pool.submit(100) == false)
    }
}

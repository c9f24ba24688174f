// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import DequeModule

/// At most `limit` blocking threads that take jobs from one queue, started lazily as jobs need them.
///
/// Each thread runs the pool's `work` closure once; `work` takes jobs with ``next()`` until it returns `nil`, so
/// state a thread keeps between jobs (such as a child process) lives in `work`'s local variables:
///
/// ```swift
/// let pool = ThreadPool<Job>(name: "plugin-sql", limit: 2) { jobs in
///     var process: PluginProcess?
///     while let job = jobs.next() { … }
///     process?.stop()
/// }
/// ```
/// A new thread starts when a job arrives, no thread is idle and fewer than `limit` run. ``shutdown()`` refuses
/// new jobs, lets each thread finish the job it holds, hands back the jobs nobody took, and joins every thread.
public final class ThreadPool<Job: Sendable>: Sendable {
    private struct State {
        var jobs = Deque<Job>()
        var threads: [BlockingThread] = []
        var idle = 0
        var stopping = false
    }

    /// The threads' name (each thread's kernel name is its first 15 bytes).
    public let name: String
    /// The most threads that run at once.
    public let limit: Int
    private let stackSize: Int?
    private let work: @Sendable (ThreadPool<Job>) -> Void
    private let monitor = ThreadMonitor(State())
    private static var worker: ThreadMonitor<State>.Party { .init(0) }

    /// A pool with no threads yet.
    /// - Parameters:
    ///   - name: The threads' name.
    ///   - limit: The most threads that run at once (at least 1).
    ///   - stackSize: Each thread's stack size in bytes; `nil` for the system default.
    ///   - work: What each thread runs: it takes jobs from the pool with ``next()`` until that returns `nil`.
    public init(
        name: String, limit: Int, stackSize: Int? = nil, work: @escaping @Sendable (_ jobs: ThreadPool<Job>) -> Void
    ) {
        precondition(limit >= 1, "a thread pool needs at least one thread")
        self.name = name
        self.limit = limit
        self.stackSize = stackSize
        self.work = work
    }

    /// Queues a job, starting a thread for it if none is idle and fewer than `limit` run.
    /// - Parameter job: The job.
    /// - Returns: `false` (and the job is not queued) once ``shutdown()`` has begun.
    /// - Throws: ``ArbiterError`` `internal` when the job has no thread to run it because the system refuses a new
    ///   one; the job is then not queued.
    @discardableResult
    public func submit(_ job: Job) throws(ArbiterError) -> Bool {
        let result: Result<Bool, ArbiterError> = monitor.withLock(waking: Self.worker) { state in
            guard !state.stopping else { return .success(false) }
            state.jobs.append(job)
            guard state.idle < state.jobs.count, state.threads.count < limit else { return .success(true) }
            do throws(ArbiterError) {
                state.threads.append(try BlockingThread(name: name, stackSize: stackSize) { [self] in work(self) })
            } catch {
                // Other threads will take the job in time; with none, nobody would.
                guard state.threads.isEmpty else { return .success(true) }
                state.jobs.removeLast()
                return .failure(error)
            }
            return .success(true)
        }
        return try result.get()
    }

    /// The next job, for the pool's own threads: blocks until there is one, or returns `nil` once the pool shuts
    /// down (queued jobs are then handed back by ``shutdown()`` instead).
    /// - Returns: A job, or `nil` when the thread should clean up and return from `work`.
    public func next() -> Job? {
        monitor.withLock { $0.idle += 1 }
        return monitor.wait(as: Self.worker, until: { $0.stopping || !$0.jobs.isEmpty }) { state in
            state.idle -= 1
            return state.stopping ? nil : state.jobs.removeFirst()
        }
    }

    /// Refuses new jobs, wakes idle threads, and waits until every thread has returned from `work`. Must not be
    /// called from one of the pool's threads.
    /// - Returns: The jobs that were queued and never taken, for the caller to answer.
    @discardableResult
    public func shutdown() -> [Job] {
        let (abandoned, threads) = monitor.withLockWakingAll { state in
            state.stopping = true
            defer { state.jobs.removeAll() }
            return (Array(state.jobs), state.threads)
        }
        for thread in threads { thread.join() }
        return abandoned
    }

    /// How many threads were started (none stops before ``shutdown()``).
    public var threadCount: Int { monitor.withLock { $0.threads.count } }

    /// How many threads wait in ``next()`` for a job.
    public var idleCount: Int { monitor.withLock { $0.idle } }

    /// Whether ``shutdown()`` has begun.
    public var isShuttingDown: Bool { monitor.withLock { $0.stopping } }

    /// How many jobs wait for a thread.
    public var queuedCount: Int { monitor.withLock { $0.jobs.count } }
}

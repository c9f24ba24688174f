// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import ArbiterThreads
import Foundation
import Synchronization

/// The worker processes of one plugin, each driven by its own thread of a ``ThreadPool``.
///
/// Requests wait in one queue; at most `workers` are handled at once, one per process. Threads and processes start
/// lazily, when requests need them. A process that dies is started again for the next request; the request it was
/// handling fails with `internal`. Blocking pipe I/O happens on the pool's threads, never on the caller's task.
public final class PluginPool: Sendable {
    /// How a plugin is run.
    public struct Settings: Sendable {
        /// The verifier name the plugin serves.
        public var name: String
        /// The program and its arguments.
        public var command: [String]
        /// The working directory (the definition file's directory).
        public var directory: String
        /// How many processes may run at once.
        public var workers: Int
        /// Seconds to wait for one answer before the process is killed and restarted.
        public var timeout: Double
        /// The longest answer line accepted.
        public var maxAnswerBytes = 64 << 20
    }

    struct Job: Sendable {
        let request: JSONObject
        let continuation: CheckedContinuation<JSONObject, any Error>
    }

    let settings: Settings
    private let counters = PluginCounters()
    private let threads: ThreadPool<Job>

    init(settings: Settings) {
        self.settings = settings
        let worker = PluginWorker(settings: settings, counters: counters)
        threads = ThreadPool(name: "plugin-\(settings.name)", limit: settings.workers) { jobs in worker.serve(jobs) }
    }

    /// Processes started after the first one of a thread (crashes, time-outs), for tests and stats.
    public var restartCount: Int { counters.state.withLock { $0.restarts } }

    /// Sends one request to a worker process and returns its answer.
    /// - Parameter request: The request without `id` (each one sent gets its own, which the answer must carry).
    /// - Returns: The answer object.
    /// - Throws: ``ArbiterError`` `internal` when the process cannot start, dies, times out or the pool is stopped.
    func send(_ request: JSONObject) async throws -> JSONObject {
        try await withCheckedThrowingContinuation { continuation in
            do {
                guard try threads.submit(Job(request: request, continuation: continuation)) else {
                    continuation.resume(throwing: shuttingDown)
                    return
                }
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }

    /// Stops every worker: no new requests; each process finishes its current request, gets end of input, and is
    /// killed (with its process group) if it has not exited two seconds later. Waits for the threads to end.
    public func stop() {
        for job in threads.shutdown() { job.continuation.resume(throwing: shuttingDown) }
    }

    private var shuttingDown: ArbiterError { ArbiterError(.internal, "plugin '\(settings.name)' is shutting down") }
}

/// A plugin's request ids and restart count, shared by its threads.
private final class PluginCounters: Sendable {
    struct State {
        var restarts = 0
        var nextID = 1
    }

    let state = Mutex(State())

    func nextID() -> Int {
        state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
    }

    func countRestart() {
        state.withLock { $0.restarts += 1 }
    }
}

/// What each of a plugin's threads runs: one process at a time, kept between requests.
private final class PluginWorker: Sendable {
    let settings: PluginPool.Settings
    let counters: PluginCounters

    init(settings: PluginPool.Settings, counters: PluginCounters) {
        self.settings = settings
        self.counters = counters
    }

    func serve(_ jobs: ThreadPool<PluginPool.Job>) {
        var process: PluginProcess?
        var started = 0
        while let job = jobs.next() {
            do {
                job.continuation.resume(returning: try answer(job.request, process: &process, started: &started))
            } catch {
                job.continuation.resume(throwing: error)
            }
        }
        process?.stop(grace: 2)
    }

    private func answer(_ request: JSONObject, process: inout PluginProcess?, started: inout Int) throws(ArbiterError)
        -> JSONObject
    {
        let id = JSONValue.int(counters.nextID())
        var object: JSONObject = ["id": id]
        for entry in request where entry.key != "id" { object[entry.key] = entry.value }
        var writer = JSONWriter(capacity: 1024)
        writer.write(object)
        let line = writer.bytes
        var attempts = 0
        while true {
            attempts += 1
            if process == nil {
                do {
                    process = try PluginProcess(command: settings.command, directory: settings.directory)
                } catch {
                    throw ArbiterError(.internal, "plugin '\(settings.name)' could not start: \(describe(error))")
                }
                started += 1
                if started > 1 { counters.countRestart() }
            }
            do {
                return try process!.roundTrip(
                    line, id: id, timeout: settings.timeout, maxAnswerBytes: settings.maxAnswerBytes)
            } catch .notReading where attempts == 1 {
                // It died between requests: this request was never handed over, so a fresh process may take it.
                process?.stop(grace: 0)
                process = nil
            } catch {
                process?.stop(grace: 0)
                process = nil
                throw ArbiterError(
                    .internal, "plugin '\(settings.name)' failed on this request: \(describe(error)); it is restarted")
            }
        }
    }

    private func describe(_ failure: PluginProcess.Failure) -> String {
        switch failure {
        case .spawn(let message): message
        case .notReading: "it stopped reading its input"
        case .exited(let how): how
        case .timedOut: "no answer within \(settings.timeout) s"
        case .answerTooLarge: "its answer exceeded \(settings.maxAnswerBytes) bytes"
        }
    }
}

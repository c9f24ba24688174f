// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation

/// The worker processes of one plugin, each driven by its own thread.
///
/// Requests wait in one queue; at most `workers` are handled at once, one per process. Threads and processes start
/// lazily, when requests need them. A process that dies is started again for the next request; the request it was
/// handling fails with `internal`. Blocking pipe I/O happens on the pool's threads, never on the caller's task.
///
/// `@unchecked Sendable`: the mutable state is guarded by `condition`.
public final class PluginPool: @unchecked Sendable {
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

    private struct Job {
        let request: JSONObject
        let continuation: CheckedContinuation<JSONObject, any Error>
    }

    let settings: Settings
    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var jobHead = 0
    private var threads = 0
    private var idleThreads = 0
    private var stopping = false
    private var restarts = 0
    private var nextID = 1

    init(settings: Settings) {
        self.settings = settings
    }

    /// Processes started after the first one of a thread (crashes, time-outs), for tests and stats.
    public var restartCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return restarts
    }

    /// Sends one request to a worker process and returns its answer.
    /// - Parameter request: The request without `id` (each one sent gets its own, which the answer must carry).
    /// - Returns: The answer object.
    /// - Throws: ``ArbiterError`` `internal` when the process cannot start, dies, times out or the pool is stopped.
    func send(_ request: JSONObject) async throws -> JSONObject {
        try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            defer { condition.unlock() }
            guard !stopping else {
                continuation.resume(throwing: ArbiterError(.internal, "plugin '\(settings.name)' is shutting down"))
                return
            }
            jobs.append(Job(request: request, continuation: continuation))
            if idleThreads == 0, threads < settings.workers {
                threads += 1
                let thread = Thread { [self] in serveJobs() }
                thread.name = "plugin-\(settings.name)"
                thread.start()
            } else {
                condition.signal()
            }
        }
    }

    /// Stops every worker: no new requests; each process finishes its current request, gets end of input, and is
    /// killed (with its process group) if it has not exited two seconds later. Waits for the threads to end.
    public func stop() {
        condition.lock()
        stopping = true
        let abandoned = jobs[jobHead...]
        jobs = []
        jobHead = 0
        condition.broadcast()
        condition.unlock()
        for job in abandoned {
            job.continuation.resume(throwing: ArbiterError(.internal, "plugin '\(settings.name)' is shutting down"))
        }
        condition.lock()
        while threads > 0 { condition.wait() }
        condition.unlock()
    }

    private func nextJob() -> Job? {
        condition.lock()
        defer { condition.unlock() }
        while jobHead == jobs.count, !stopping {
            idleThreads += 1
            condition.wait()
            idleThreads -= 1
        }
        guard !stopping, jobHead < jobs.count else { return nil }
        let job = jobs[jobHead]
        jobHead += 1
        if jobHead > 64, jobHead * 2 > jobs.count {
            jobs.removeFirst(jobHead)
            jobHead = 0
        }
        return job
    }

    private func serveJobs() {
        var process: PluginProcess?
        var started = 0
        while let job = nextJob() {
            do {
                job.continuation.resume(returning: try answer(job.request, process: &process, started: &started))
            } catch {
                job.continuation.resume(throwing: error)
            }
        }
        process?.stop(grace: 2)
        condition.lock()
        threads -= 1
        condition.broadcast()
        condition.unlock()
    }

    private func answer(_ request: JSONObject, process: inout PluginProcess?, started: inout Int) throws(ArbiterError)
        -> JSONObject
    {
        condition.lock()
        let id = JSONValue.int(nextID)
        nextID += 1
        condition.unlock()
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
                if started > 1 {
                    condition.lock()
                    restarts += 1
                    condition.unlock()
                }
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

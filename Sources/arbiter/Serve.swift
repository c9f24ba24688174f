// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import ArbiterPlugins
import ArbiterServer
import ArgumentParser
import Logging

extension Arbiter {
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Answers JSON-lines verification requests on stdin/stdout or on a socket.",
            discussion: """
                Each request line gets exactly one response line carrying the request's "id". Example request:
                  {"id": 1, "verifier": "exact", "response": "42", "reference": "42"}
                Ops: {"op": "ping"}, {"op": "list"}, {"op": "stats"}. Batches: {"id": "b", "batch": [request, ...]}.

                Without --listen, requests come on stdin (a pipe, a terminal or a regular file) and answers go to \
                stdout; a trainer starts the daemon as a child process. With --listen, every connection is its own \
                JSON-lines stream. Logs go to stderr only.

                At end of input Arbiter answers everything it read and exits 0. On SIGTERM/SIGINT it stops accepting \
                and reading, runs queued requests for --drain-timeout seconds, answers the rest with the error \
                "cancelled", writes every answer it can (closing sockets without a reset), and exits 0. A second \
                signal exits at once with status 130.

                Fairness: each connection has its own queue and the workers serve connections in turn, so one \
                client's backlog does not hold another's requests; ping, stats and list are answered as soon as they \
                are read, ahead of queued work. Work of a client that has gone is dropped.

                Exit codes: 0 after a clean drain; 1 when the socket cannot be bound; 64 for bad arguments.
                """
        )

        @Option(name: .long, help: "Listen on unix:PATH or tcp:HOST:PORT instead of stdin/stdout.")
        var listen: String?

        @Flag(name: .long, help: "Write answers in request order instead of as they finish.")
        var ordered = false

        @Option(name: .long, help: "Request lines read but not yet answered before reading pauses (backpressure).")
        var maxInFlight: Int = 16_384

        @Option(name: .long, help: "Seconds queued requests still run after SIGTERM before they are answered 'cancelled'.")
        var drainTimeout: Double = 5

        @OptionGroup var engine: EngineOptions
        @OptionGroup var definitions: DefinitionOptions

        func validate() throws {
            guard maxInFlight >= 1 else { throw ValidationError("--max-in-flight must be at least 1.") }
            guard drainTimeout >= 0, drainTimeout.isFinite else { throw ValidationError("--drain-timeout must be 0 or more seconds.") }
            if let listen {
                do { _ = try ListenAddress(parsing: listen) } catch { throw ValidationError(error.message) }
            }
        }

        /// The parsed options as plain values, which the fast path (``ServeSettings/init(fastPath:)``) also fills.
        var settings: ServeSettings {
            var settings = ServeSettings()
            settings.listen = listen
            settings.ordered = ordered
            settings.maxInFlight = maxInFlight
            settings.drainTimeout = drainTimeout
            settings.jobs = engine.jobs
            settings.maxLine = engine.maxLine
            settings.logLevel = engine.logLevel
            settings.definitions = definitions.settings
            return settings
        }

        func run() async throws {
            try await settings.run()
        }
    }
}

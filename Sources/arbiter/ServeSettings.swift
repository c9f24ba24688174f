// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import ArbiterPlugins
import ArbiterServer
import ArgumentParser
import Foundation
import Logging

/// What `arbiter serve` runs with, whether ArgumentParser read the command line or ``init(fastPath:)`` did.
///
/// A trainer starts the daemon once per run, often once per worker, and ArgumentParser's reflection over the
/// command tree was about a fifth of the daemon's start (3 ms of CPU). The common command lines — `serve` with each
/// of its options given at most once, as `--name value` — are read here by hand; anything else (a repeated option,
/// `--name=value`, an unknown word, `--help`, a value ArgumentParser would refuse) goes to ArgumentParser, so its
/// messages and exit statuses stay the only ones.
struct ServeSettings: Equatable {
    var listen: String?
    var ordered = false
    var maxInFlight = 16_384
    var drainTimeout: Double = 5
    /// `nil`: the number of cores (read only when needed; it reads the cgroup's quota).
    var jobs: Int?
    var maxLine = 64 << 20
    var logLevel: String?
    var definitions = DefinitionSettings()

    init() {}

    /// The settings of `arguments` (without the program's name) when they are a `serve` command line this reader is
    /// sure of, else `nil` (ArgumentParser then reads them).
    init?(fastPath arguments: some Collection<String>) {
        guard arguments.first == "serve" else { return nil }
        var seen: [String] = []  // a handful of words: a set would cost more (hashing seeds itself once)
        var words = arguments.dropFirst().makeIterator()
        while let word = words.next() {
            guard !seen.contains(word) else { return nil }
            seen.append(word)
            switch word {
            case "--ordered": ordered = true
            case "--allow-degraded-isolation": definitions.allowDegradedIsolation = true
            case "--listen", "--verifiers", "--log-level", "--jobs", "--max-in-flight", "--max-line", "--drain-timeout":
                guard let value = words.next(), !value.isEmpty, !value.hasPrefix("-") else { return nil }
                guard set(word, to: value) else { return nil }
            default: return nil
            }
        }
        guard isValid else { return nil }
    }

    /// Sets the option `name` from its value; false when the value is one to leave to ArgumentParser.
    private mutating func set(_ name: String, to value: String) -> Bool {
        switch name {
        case "--listen": listen = value
        case "--verifiers": definitions.verifiers = value
        case "--log-level": logLevel = value
        case "--jobs": jobs = Self.plainInteger(value)
        case "--max-in-flight": guard let number = Self.plainInteger(value) else { return false }; maxInFlight = number
        case "--max-line": guard let number = Self.plainInteger(value) else { return false }; maxLine = number
        case "--drain-timeout":
            guard value.utf8.allSatisfy({ (0x30...0x39).contains($0) || $0 == UInt8(ascii: ".") }),
                let number = Double(value)
            else { return false }
            drainTimeout = number
        default: return false
        }
        return name != "--jobs" || jobs != nil
    }

    /// A decimal integer of ASCII digits only (no sign, no underscores), which `Int(_:)` reads as ArgumentParser does.
    private static func plainInteger(_ text: String) -> Int? {
        guard text.utf8.count <= 18, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        return Int(text)
    }

    /// Whether every validation of `serve`, its engine options and its definition options passes; when one does not,
    /// ArgumentParser reads the line again and reports it.
    private var isValid: Bool {
        guard maxInFlight >= 1, drainTimeout >= 0, drainTimeout.isFinite, maxLine >= 16 else { return false }
        if let jobs, jobs < 1 { return false }
        if let logLevel, Logger.Level(rawValue: logLevel) == nil { return false }
        if let listen, (try? ListenAddress(parsing: listen)) == nil { return false }
        if let verifiers = definitions.verifiers {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: verifiers, isDirectory: &isDirectory), isDirectory.boolValue
            else { return false }
        }
        return true
    }

    /// Verifications run at once.
    var resolvedJobs: Int { jobs ?? ProcessInfo.processInfo.activeProcessorCount }

    /// Runs the daemon until its input ends or a signal stops it.
    /// - Throws: What loading the definitions or binding the socket throws.
    func run() async throws {
        let logger = EngineOptions.makeLogger(label: "arbiter.serve", level: logLevel, defaultLevel: .info)
        let limits = SessionLimits(maxLineBytes: maxLine, maxInFlightLines: maxInFlight)
        let loaded = try definitions.load(logger: logger)
        defer { loaded.plugins.stop() }
        let jobs = resolvedJobs
        let server = Server(
            registry: loaded.registry,
            configuration: .init(jobs: jobs, ordered: ordered, limits: limits, drainTimeout: drainTimeout),
            logger: logger)
        SignalForwarder.install(for: server)
        if let listen {
            try await server.serve(listening: try ListenAddress(parsing: listen))
        } else {
            logger.debug("serving stdin/stdout", metadata: ["jobs": "\(jobs)", "ordered": "\(ordered)"])
            await server.serve(input: 0, output: 1)
        }
    }
}

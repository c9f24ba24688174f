// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import ArbiterServer
import Foundation

/// The short hash of the configuration that produced a verdict: Arbiter's version, the verifier's name, kind,
/// option defaults (a definition file's options included) and description (a recipe's components), and the
/// request's own options. Two verdicts with the same hash were produced by the same rules; a grader fix, a changed
/// definition or other options change it. `arbiter grade` writes it into each output row as `"config"`.
final class ConfigurationHash: @unchecked Sendable {  // used by the pipeline's feeder thread only
    private let registry: VerifierRegistry
    private var cache: [String: String] = [:]

    init(registry: VerifierRegistry) {
        self.registry = registry
    }

    /// The hash for a request (a string), or for each item of a batch (an array).
    func value(for request: JSONObject) -> JSONValue {
        if let batch = request["batch"]?.arrayValue {
            return .array(batch.map { $0.objectValue.map(value(for:)) ?? .null })
        }
        return .string(hash(verifier: request["verifier"]?.stringValue ?? "", options: request["options"]))
    }

    func hash(verifier: String, options: JSONValue?, depth: Int = 0) -> String {
        var key = JSONWriter(capacity: 128)
        key.write(string: verifier)
        key.write(options ?? .null)
        let keyText = String(decoding: key.bytes, as: UTF8.self)
        if let known = cache[keyText] { return known }
        var description = JSONWriter(capacity: 512)
        description.write(string: Dispatcher.version)
        description.bytes.append(contentsOf: key.bytes)
        if let entry = try? registry.entry(named: verifier) {
            description.write(string: entry.kind)
            for spec in entry.options {
                description.write(string: spec.name)
                description.write(spec.defaultValue)
            }
            description.write(.object(entry.about))
            // A recipe's components: their own verifiers' configurations count too.
            for case .object(let component) in entry.about["components"]?.arrayValue ?? [] where depth < 8 {
                description.write(string: hash(verifier: component["verifier"]?.stringValue ?? "", options: nil, depth: depth + 1))
            }
        }
        let text = Self.fnv1a(description.bytes)
        if cache.count < 4096 { cache[keyText] = text }
        return text
    }

    /// FNV-1a, 64 bits, as 12 hexadecimal digits (a label for humans and scripts, not a security measure).
    static func fnv1a(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        let hex = String(hash, radix: 16)
        return String((String(repeating: "0", count: 16 - hex.count) + hex).prefix(12))
    }
}

// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation
import Synchronization

/// Verifiers that are external processes, declared in `verifiers/*.json` with `"kind": "process"`.
///
/// ```json
/// {"name": "sql", "kind": "process", "summary": "…", "command": ["python3", "plugins/sql.py"],
///  "workers": 2, "timeout_s": 30, "options": [{"name": "ordered", "type": "boolean", "default": false,
///  "description": "…"}]}
/// ```
/// The command runs in the definition file's directory and speaks Arbiter's JSON-lines protocol on stdin/stdout:
/// one request line in, one verdict (or error) line out, one request at a time per process. Every process started
/// belongs to this object; ``stop()`` ends them all.
public final class ProcessPlugins: Sendable {
    private let pools = Mutex<[PluginPool]>([])

    /// No plugins yet; each loaded definition adds one.
    public init() {}

    /// The definition kind `process`, whose pools this object owns.
    public var kind: DefinitionKind {
        DefinitionKind(name: "process", keys: ["command", "workers", "timeout_s", "options"]) { [self] definition, url, _ in
            let pool = PluginPool(settings: try Self.settings(definition, url: url))
            pools.withLock { $0.append(pool) }
            return try Self.entry(definition, pool: pool)
        }
    }

    /// Every pool, for tests and stats.
    public var all: [PluginPool] { pools.withLock { $0 } }

    /// Stops every plugin process (each finishes its current request first).
    public func stop() {
        for pool in all { pool.stop() }
    }

    static func settings(_ definition: JSONObject, url: URL) throws(ArbiterError) -> PluginPool.Settings {
        let fields = JSONFields(definition)
        let name = try fields.string("name") ?? ""
        let commandShape = "a non-empty array of non-empty strings, such as [\"python3\", \"plugin.py\"]"
        guard let command = try fields.strings("command", nonEmpty: true, what: commandShape) else {
            throw fields.error("command", mustBe: commandShape)
        }
        let workers = try fields.integer("workers", in: 1...256) ?? 1
        let timeout = try fields.number("timeout_s", in: 0.001...86_400, what: "a number of seconds above 0 (at most a day)") ?? 60
        return PluginPool.Settings(
            name: name, command: command, directory: url.deletingLastPathComponent().path, workers: workers,
            timeout: timeout)
    }

    static func entry(_ definition: JSONObject, pool: PluginPool) throws(ArbiterError) -> VerifierEntry {
        let settings = pool.settings
        let declared = try JSONFields(definition).array("options", what: "an array of option specs") ?? []
        let specs = try declared.map { value throws(ArbiterError) in try OptionSpec(json: value) }
        let summary = definition["summary"]?.stringValue ?? "Process plugin '\(settings.command.joined(separator: " "))'."
        let about: JSONObject = [
            "command": .array(settings.command.map(JSONValue.string)), "workers": .int(settings.workers),
            "timeout_s": .double(settings.timeout),
        ]
        let names = specs.map { spec -> (String, Bool) in
            if case .integer = spec.kind { return (spec.name, true) }
            return (spec.name, false)
        }
        return VerifierEntry(name: settings.name, summary: summary, kind: "process", options: specs, about: about) {
            values in
            var options = JSONObject()
            for (name, isInteger) in names {
                // An integer sent as `1e6` reaches the plugin as 1000000, the type it declared.
                let value = values.value(name)
                options[name] = isInteger ? .int(values.int(name)) : value
            }
            return ProcessPluginVerifier(pool: pool, options: options)
        }
    }
}

/// A request handed to a plugin process, and its answer read back as a verdict.
struct ProcessPluginVerifier: SampleVerifier {
    let pool: PluginPool
    let options: JSONObject

    func verify(_ sample: Sample) async throws -> Verdict {
        var request: JSONObject = [
            "verifier": .string(pool.settings.name), "response": .string(sample.response), "reference": sample.reference,
        ]
        if let prompt = sample.prompt { request["prompt"] = .string(prompt) }
        request["options"] = .object(options)
        return try Self.verdict(from: try await pool.send(request), plugin: pool.settings.name)
    }

    /// Reads a plugin's answer.
    static func verdict(from answer: JSONObject, plugin: String) throws(ArbiterError) -> Verdict {
        if let error = answer["error"] {
            let code = error.objectValue?["code"]?.stringValue ?? "internal"
            let message = error.objectValue?["message"]?.stringValue ?? error.jsonText
            switch code {
            case "invalid_reference": throw ArbiterError(.invalidReference, message)
            case "invalid_options": throw ArbiterError(.invalidOptions, message)
            default: throw ArbiterError(.internal, "plugin '\(plugin)' failed (\(code)): \(message)")
            }
        }
        guard let score = answer["score"]?.doubleValue, score.isFinite else {
            throw ArbiterError(.internal, "plugin '\(plugin)' answered without a numeric 'score'")
        }
        return Verdict(
            score: score, passed: answer["passed"]?.boolValue ?? (score >= 1),
            reason: answer["reason"]?.stringValue ?? (score >= 1 ? "passed" : "failed"),
            details: answer["details"]?.objectValue ?? [:],
            components: answer["components"]?.objectValue)
    }
}

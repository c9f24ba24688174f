// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import Foundation

/// A definition file that could not be loaded, and why.
public struct DefinitionProblem: Sendable, CustomStringConvertible {
    /// The file.
    public var path: String
    /// What is wrong with it.
    public var reason: String

    public var description: String { "\(path): \(reason)" }
}

/// Named verifiers declared as JSON files: a verifier kind plus options.
///
/// A file `verifiers/NAME.json` holds `{"name": "r1-format", "kind": "think-format", "summary": "…",
/// "options": {"mode": "answer"}}`. `name` defaults to the file name without `.json`; `kind` names any verifier
/// already known, including another definition; `options` replace that verifier's defaults (requests can still
/// override them). A broken file is reported with its path and reason, and the others still load.
public enum VerifierDefinitions {
    /// Loads every `*.json` file directly inside a directory into a registry.
    /// - Parameters:
    ///   - directory: The directory (subdirectories are not read).
    ///   - registry: The registry to add to.
    /// - Returns: The files that were skipped, with reasons.
    public static func load(from directory: URL, into registry: inout VerifierRegistry) -> [DefinitionProblem] {
        let files: [URL]
        do {
            files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
                .filter { $0.pathExtension == "json" }.sorted { $0.path < $1.path }
        } catch {
            return [DefinitionProblem(path: directory.path, reason: "cannot read the directory: \(error.localizedDescription)")]
        }
        var problems: [DefinitionProblem] = []
        var pending: [(url: URL, definition: JSONObject)] = []
        for url in files {
            do {
                pending.append((url, try read(url)))
            } catch {
                problems.append(DefinitionProblem(path: url.path, reason: error.message))
            }
        }
        // Definitions may build on each other: resolve in passes until nothing more loads.
        while !pending.isEmpty {
            var waiting: [(url: URL, definition: JSONObject)] = []
            for item in pending {
                let kind = item.definition["kind"]?.stringValue ?? ""
                if (try? registry.entry(named: kind)) == nil, pending.contains(where: { name(of: $0) == kind }) {
                    waiting.append(item)
                    continue
                }
                do {
                    registry.register(try entry(item.definition, url: item.url, registry: registry))
                } catch {
                    problems.append(DefinitionProblem(path: item.url.path, reason: error.message))
                }
            }
            if waiting.count == pending.count {
                for item in waiting {
                    problems.append(DefinitionProblem(path: item.url.path, reason: "its kind is part of a cycle of definitions"))
                }
                break
            }
            pending = waiting
        }
        return problems
    }

    private static func name(of item: (url: URL, definition: JSONObject)) -> String {
        item.definition["name"]?.stringValue ?? item.url.deletingPathExtension().lastPathComponent
    }

    private static func read(_ url: URL) throws(ArbiterError) -> JSONObject {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ArbiterError(.invalidRequest, "cannot read: \(error.localizedDescription)")
        }
        guard case .object(var object) = try JSONParser.parse(Array(data)) else {
            throw ArbiterError(.invalidRequest, "a definition must be a JSON object")
        }
        if object["name"] == nil { object["name"] = .string(url.deletingPathExtension().lastPathComponent) }
        for key in object.keys where !["name", "kind", "summary", "options"].contains(key) {
            throw ArbiterError(.invalidRequest, "unknown key '\(key)' (keys: name, kind, summary, options)")
        }
        guard object["kind"]?.stringValue != nil else { throw ArbiterError(.invalidRequest, "missing 'kind' (a verifier name)") }
        return object
    }

    private static func entry(_ definition: JSONObject, url: URL, registry: VerifierRegistry) throws(ArbiterError)
        -> VerifierEntry
    {
        guard let name = definition["name"]?.stringValue, !name.isEmpty else {
            throw ArbiterError(.invalidRequest, "'name' must be a non-empty string")
        }
        if (try? registry.entry(named: name)) != nil {
            throw ArbiterError(.invalidRequest, "a verifier named '\(name)' already exists")
        }
        let base = try registry.entry(named: definition["kind"]?.stringValue ?? "")
        let options: JSONObject
        switch definition["options"] {
        case nil: options = [:]
        case .object(let object)?: options = object
        case let other?: throw ArbiterError(.invalidOptions, "'options' must be an object, got \(other.typeName)")
        }
        let summary = definition["summary"]?.stringValue ?? "\(base.summary) (defined in \(url.lastPathComponent))"
        return try base.derived(name: name, summary: summary, kind: base.name, defaults: options)
    }
}

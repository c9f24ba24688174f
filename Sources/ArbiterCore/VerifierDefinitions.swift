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
    /// Whether the problem must stop the program (a cycle of definitions) rather than skip the file.
    public var isFatal = false

    public var description: String { "\(path): \(reason)" }
}

/// A kind of definition file other than "a known verifier with new defaults", such as `recipe` or `process`.
public struct DefinitionKind: Sendable {
    /// The value of `kind` that selects it.
    public var name: String
    /// The keys its files may hold besides `name`, `kind` and `summary`.
    public var keys: [String]
    /// The verifier names a definition needs before it can be built.
    public var dependencies: @Sendable (JSONObject) -> [String]
    /// Builds the entry from the file's object (with `name` set), its location and the verifiers known so far.
    public var build: @Sendable (JSONObject, URL, VerifierRegistry) throws -> VerifierEntry

    /// Declares a kind.
    public init(
        name: String,
        keys: [String],
        dependencies: @escaping @Sendable (JSONObject) -> [String] = { _ in [] },
        build: @escaping @Sendable (JSONObject, URL, VerifierRegistry) throws -> VerifierEntry
    ) {
        self.name = name
        self.keys = keys
        self.dependencies = dependencies
        self.build = build
    }

    /// Recipes: `{"kind": "recipe", "components": […]}` (see ``Recipe``).
    public static let recipe = DefinitionKind(
        name: "recipe", keys: ["components"],
        dependencies: { definition in
            definition["components"]?.arrayValue?.compactMap { $0.objectValue?["verifier"]?.stringValue } ?? []
        },
        build: { definition, url, registry in
            let recipe = try Recipe(definition: definition)
            let summary =
                definition["summary"]?.stringValue
                ?? "Recipe: " + recipe.components.map { "\($0.name) (\($0.verifier))" }.joined(separator: " + ")
            return try recipe.entry(summary: summary, registry: registry)
        })
}

/// Named verifiers declared as JSON files: a verifier kind plus options, a recipe, or a process plugin.
///
/// A file `verifiers/NAME.json` holds `{"name": "r1-format", "kind": "think-format", "summary": "…",
/// "options": {"mode": "answer"}}`. `name` defaults to the file name without `.json`; `kind` names any verifier
/// already known, including another definition; `options` replace that verifier's defaults (requests can still
/// override them). `kind` may instead name a ``DefinitionKind`` (`recipe`, and `process` where plugins are
/// enabled). A broken file is reported with its path and reason, and the others still load; a cycle of definitions
/// is reported as fatal.
public enum VerifierDefinitions {
    /// Loads every `*.json` file directly inside a directory into a registry.
    /// - Parameters:
    ///   - directory: The directory (subdirectories are not read).
    ///   - registry: The registry to add to.
    ///   - kinds: The special kinds understood besides verifier names (recipes by default).
    /// - Returns: The files that were skipped, with reasons.
    public static func load(
        from directory: URL, into registry: inout VerifierRegistry, kinds: [DefinitionKind] = [.recipe]
    ) -> [DefinitionProblem] {
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
                pending.append((url, try read(url, kinds: kinds)))
            } catch {
                problems.append(DefinitionProblem(path: url.path, reason: error.message))
            }
        }
        // Definitions may build on each other: resolve in passes until nothing more loads.
        while !pending.isEmpty {
            var waiting: [(url: URL, definition: JSONObject)] = []
            for item in pending {
                let kindName = item.definition["kind"]?.stringValue ?? ""
                let special = kinds.first { $0.name == kindName }
                let needs = special.map { $0.dependencies(item.definition) } ?? [kindName]
                let blocked = needs.contains { need in
                    (try? registry.entry(named: need)) == nil && pending.contains { name(of: $0) == need }
                }
                if blocked {
                    waiting.append(item)
                    continue
                }
                do {
                    if let special {
                        try checkNameIsFree(item.definition, registry: registry)
                        registry.register(try special.build(item.definition, item.url, registry))
                    } else {
                        registry.register(try entry(item.definition, url: item.url, registry: registry))
                    }
                } catch let error as ArbiterError {
                    problems.append(DefinitionProblem(path: item.url.path, reason: error.message))
                } catch {
                    problems.append(DefinitionProblem(path: item.url.path, reason: "\(error)"))
                }
            }
            if waiting.count == pending.count {
                let names = waiting.map { name(of: $0) }.joined(separator: ", ")
                for item in waiting {
                    problems.append(
                        DefinitionProblem(
                            path: item.url.path,
                            reason: "'\(name(of: item))' is part of a cycle of definitions (\(names))", isFatal: true))
                }
                break
            }
            pending = waiting
        }
        return problems
    }

    /// Loads one definition file under a name of the caller's choosing (the file's own `name` is ignored), for
    /// tools that set two definitions side by side (`arbiter grade --compare`).
    /// - Returns: The name it was registered under.
    @discardableResult
    public static func load(
        file url: URL, as name: String, into registry: inout VerifierRegistry, kinds: [DefinitionKind] = [.recipe]
    ) throws(ArbiterError) -> String {
        var definition = try read(url, kinds: kinds)
        definition["name"] = .string(name)
        let kindName = definition["kind"]?.stringValue ?? ""
        if let special = kinds.first(where: { $0.name == kindName }) {
            try checkNameIsFree(definition, registry: registry)
            do { registry.register(try special.build(definition, url, registry)) } catch let error as ArbiterError {
                throw error
            } catch {
                throw ArbiterError(.invalidRequest, "\(error)")
            }
        } else {
            registry.register(try entry(definition, url: url, registry: registry))
        }
        return name
    }

    private static func name(of item: (url: URL, definition: JSONObject)) -> String {
        item.definition["name"]?.stringValue ?? item.url.deletingPathExtension().lastPathComponent
    }

    @discardableResult
    private static func checkNameIsFree(_ definition: JSONObject, registry: VerifierRegistry) throws(ArbiterError) -> String {
        let name = try JSONFields(definition).requiredString("name")
        if (try? registry.entry(named: name)) != nil {
            throw ArbiterError(.invalidRequest, "a verifier named '\(name)' already exists")
        }
        return name
    }

    private static func read(_ url: URL, kinds: [DefinitionKind]) throws(ArbiterError) -> JSONObject {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ArbiterError(.invalidRequest, "cannot read: \(error.localizedDescription)")
        }
        guard case .object(var object) = try JSONParser.parse(Array(data)) else {
            throw ArbiterError(.invalidRequest, "a definition must be a JSON object")
        }
        if object["name"] == nil { object["name"] = .string(url.deletingPathExtension().lastPathComponent) }
        guard let kindName = object["kind"]?.stringValue else {
            throw ArbiterError(.invalidRequest, "missing 'kind' (a verifier name, or one of: \(kinds.map(\.name).joined(separator: ", ")))")
        }
        let allowed = ["name", "kind", "summary"] + (kinds.first { $0.name == kindName }?.keys ?? ["options"])
        for key in object.keys where !allowed.contains(key) {
            throw ArbiterError(
                .invalidRequest, "unknown key '\(key)' for kind '\(kindName)' (keys: \(allowed.joined(separator: ", ")))")
        }
        return object
    }

    private static func entry(_ definition: JSONObject, url: URL, registry: VerifierRegistry) throws(ArbiterError)
        -> VerifierEntry
    {
        let name = try checkNameIsFree(definition, registry: registry)
        let base = try registry.entry(named: definition["kind"]?.stringValue ?? "")
        let options = try JSONFields(definition, code: .invalidOptions).object("options") ?? [:]
        let summary = definition["summary"]?.stringValue ?? "\(base.summary) (defined in \(url.lastPathComponent))"
        return try base.derived(name: name, summary: summary, kind: base.name, defaults: options)
    }
}

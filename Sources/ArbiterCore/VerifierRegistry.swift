// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

/// A verifier known to a registry: its documentation and a way to configure it.
public struct VerifierEntry: Sendable {
    /// The name requests use.
    public let name: String
    /// One sentence saying what it checks.
    public let summary: String
    /// Where it comes from, such as `builtin`.
    public let kind: String
    /// Its documented options.
    public let options: [OptionSpec]
    /// The verifier with every option at its default, built once.
    public let defaultVerifier: any Verifier
    private let factory: @Sendable (OptionValues) throws -> any Verifier

    /// Declares an entry.
    /// - Parameters:
    ///   - name: The name requests use.
    ///   - summary: One sentence of help.
    ///   - kind: Where it comes from.
    ///   - options: The documented options.
    ///   - factory: Builds a verifier from validated options.
    /// - Throws: Whatever `factory` throws for the default options.
    public init(
        name: String,
        summary: String,
        kind: String,
        options: [OptionSpec],
        factory: @escaping @Sendable (OptionValues) throws -> any Verifier
    ) throws {
        self.name = name
        self.summary = summary
        self.kind = kind
        self.options = options
        self.factory = factory
        self.defaultVerifier = try factory(try OptionValues([:], specs: options, verifier: name))
    }

    /// The verifier configured with a request's options.
    /// - Parameter sent: The request's `options`; `nil` or empty gives the prebuilt default.
    /// - Returns: The verifier.
    /// - Throws: ``ArbiterError`` `invalid_options`.
    public func verifier(options sent: JSONObject?) throws -> any Verifier {
        guard let sent, !sent.isEmpty else { return defaultVerifier }
        return try factory(try OptionValues(sent, specs: options, verifier: name))
    }

    /// The entry as JSON, as the `list` op returns it.
    public var jsonObject: JSONObject {
        [
            "name": .string(name), "kind": .string(kind), "summary": .string(summary),
            "options": .array(options.map { .object($0.jsonObject) }),
        ]
    }
}

/// The verifiers a server or command knows, by name. It is a value: build one, add to it, pass it on.
public struct VerifierRegistry: Sendable {
    private var entries: [String: VerifierEntry] = [:]

    /// An empty registry.
    public init() {}

    /// A registry holding every verifier built into ArbiterCore.
    public static var builtin: VerifierRegistry {
        var registry = VerifierRegistry()
        registry.register(ExactVerifier.self)
        return registry
    }

    /// Adds a Swift verifier type; its default configuration must be valid.
    /// - Parameter type: The verifier type.
    public mutating func register<V: Verifier>(_ type: V.Type) {
        let make: @Sendable (OptionValues) throws -> any Verifier = { values in
            V(configuration: try V.Configuration(options: values))
        }
        do {
            try register(
                VerifierEntry(
                    name: V.name, summary: V.summary, kind: "builtin", options: V.Configuration.options, factory: make))
        } catch {
            preconditionFailure("the default options of verifier '\(V.name)' are invalid: \(error)")
        }
    }

    /// Adds an entry, replacing any entry of the same name.
    /// - Parameter entry: The entry.
    public mutating func register(_ entry: VerifierEntry) {
        entries[entry.name] = entry
    }

    /// The names, sorted.
    public var names: [String] { entries.keys.sorted() }

    /// Every entry, sorted by name.
    public var all: [VerifierEntry] { names.compactMap { entries[$0] } }

    /// The entry for a name.
    /// - Parameter name: The verifier's name.
    /// - Returns: The entry.
    /// - Throws: ``ArbiterError`` `unknown_verifier`, suggesting the nearest name.
    public func entry(named name: String) throws(ArbiterError) -> VerifierEntry {
        if let entry = entries[name] { return entry }
        var message = "no verifier named '\(name.prefix(100))'"
        if let near = NameSuggestion.nearest(to: name, in: entries.keys) {
            message += " (did you mean '\(near)'?)"
        } else {
            message += " (known: \(names.joined(separator: ", ")))"
        }
        throw ArbiterError(.unknownVerifier, message)
    }
}

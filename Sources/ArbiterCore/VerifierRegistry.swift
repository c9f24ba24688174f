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
    /// More to show in listings, such as a recipe's components or a plugin's command.
    public let about: JSONObject
    /// The verifier with every option at its default, built once; an error when an option is required.
    public let defaultVerifier: Result<any SampleVerifier, ArbiterError>
    private let factory: @Sendable (OptionValues) throws -> any SampleVerifier

    /// Declares an entry.
    /// - Parameters:
    ///   - name: The name requests use.
    ///   - summary: One sentence of help.
    ///   - kind: Where it comes from.
    ///   - options: The documented options.
    ///   - about: More to show in listings.
    ///   - factory: Builds a verifier from validated options.
    public init(
        name: String,
        summary: String,
        kind: String,
        options: [OptionSpec],
        about: JSONObject = [:],
        factory: @escaping @Sendable (OptionValues) throws -> any SampleVerifier
    ) {
        self.name = name
        self.summary = summary
        self.kind = kind
        self.options = options
        self.about = about
        self.factory = factory
        self.defaultVerifier = Self.build(factory, options: [:], specs: options, name: name)
    }

    /// The verifier configured with a request's options.
    /// - Parameter sent: The request's `options`; `nil` or empty gives the prebuilt default.
    /// - Returns: The verifier.
    /// - Throws: ``ArbiterError`` `invalid_options`.
    public func verifier(options sent: JSONObject?) throws(ArbiterError) -> any SampleVerifier {
        guard let sent, !sent.isEmpty else { return try defaultVerifier.get() }
        return try Self.build(factory, options: sent, specs: options, name: name).get()
    }

    /// The same verifier under another name, with some defaults replaced (for definitions under `verifiers/`).
    /// - Parameters:
    ///   - name: The new name.
    ///   - summary: Its summary.
    ///   - kind: Where it comes from, such as the definition's path.
    ///   - defaults: Options whose defaults change; requests can still override them.
    /// - Returns: The new entry.
    /// - Throws: ``ArbiterError`` `invalid_options` when a default is unknown or ill-typed.
    public func derived(name: String, summary: String, kind: String, defaults: JSONObject) throws(ArbiterError)
        -> VerifierEntry
    {
        let validated = try OptionValues(defaults, specs: options, verifier: self.name)
        let specs = options.map { spec in
            OptionSpec(spec.name, spec.kind, default: validated.value(spec.name), spec.summary)
        }
        let entry = VerifierEntry(
            name: name, summary: summary, kind: kind, options: specs, about: about, factory: factory)
        _ = try entry.defaultVerifier.get()
        return entry
    }

    private static func build(
        _ factory: @Sendable (OptionValues) throws -> any SampleVerifier,
        options sent: JSONObject,
        specs: [OptionSpec],
        name: String
    ) -> Result<any SampleVerifier, ArbiterError> {
        do {
            return .success(try factory(try OptionValues(sent, specs: specs, verifier: name)))
        } catch let error as ArbiterError {
            return .failure(error)
        } catch {
            return .failure(ArbiterError(.invalidOptions, "verifier '\(name)': \(error)"))
        }
    }

    /// The entry as JSON, as the `list` op returns it.
    public var jsonObject: JSONObject {
        var object: JSONObject = [
            "name": .string(name), "kind": .string(kind), "summary": .string(summary),
            "options": .array(options.map { .object($0.jsonObject) }),
        ]
        for entry in about { object[entry.key] = entry.value }
        return object
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

    /// Adds a Swift verifier type. When its defaults are not a valid configuration (an option is required), requests
    /// without options get that error.
    /// - Parameter type: The verifier type.
    public mutating func register<V: Verifier>(_ type: V.Type) {
        let make: @Sendable (OptionValues) throws -> any SampleVerifier = { values in
            V(configuration: try V.Configuration(options: values))
        }
        register(
            VerifierEntry(name: V.name, summary: V.summary, kind: "builtin", options: V.Configuration.options, factory: make))
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

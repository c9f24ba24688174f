// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

/// A named, weighted combination of verifiers: DeepSeek-R1's "accuracy + format (+ language)" reward in one name.
///
/// A recipe file under `verifiers/` reads
/// `{"name": "r1-zero", "kind": "recipe", "components": [{"name": "accuracy", "verifier": "math", "weight": 1},
/// {"name": "format", "verifier": "think-format", "weight": 1, "options": {"mode": "answer"}}]}`.
/// A component may name `requires` (one earlier component or a list of them): it then counts only when those
/// passed, and is not run otherwise; `"reference": false` runs it without the sample's reference. The verdict's score is the weighted sum of the component scores; it passes when
/// every component passed; its `components` object carries each part's `score`, `weight`, `passed`, `reason` and
/// `details`.
public struct Recipe: Sendable {
    /// One part of a recipe.
    public struct Component: Sendable {
        /// The part's name, such as `accuracy`; a key of the verdict's `components`.
        public var name: String
        /// The verifier it runs.
        public var verifier: String
        /// Its weight in the sum.
        public var weight: Double
        /// Options for its verifier, over that verifier's defaults.
        public var options: JSONObject
        /// Earlier components that must pass for this one to count.
        public var requires: [String]
        /// Whether the component sees the sample's reference; `false` sends it `null` (the reference of R1's
        /// recipes is the math answer, which `language` would read as a target language).
        public var receivesReference: Bool

        /// Declares a component.
        public init(
            name: String, verifier: String, weight: Double = 1, options: JSONObject = [:], requires: [String] = [],
            receivesReference: Bool = true
        ) {
            self.name = name
            self.verifier = verifier
            self.weight = weight
            self.options = options
            self.requires = requires
            self.receivesReference = receivesReference
        }
    }

    /// The recipe's name.
    public var name: String
    /// Its parts, run in this order.
    public var components: [Component]

    /// Declares a recipe.
    /// - Parameters:
    ///   - name: The recipe's name.
    ///   - components: Its parts.
    public init(name: String, components: [Component]) {
        self.name = name
        self.components = components
    }

    /// The verifier names this recipe needs.
    public var dependencies: [String] { components.map(\.verifier) }

    /// Reads a recipe definition.
    /// - Parameter definition: The file's object, with `name` set.
    /// - Returns: The recipe.
    /// - Throws: ``ArbiterError`` `invalid_request` saying what is wrong with the file.
    public init(definition: JSONObject) throws(ArbiterError) {
        let name = definition["name"]?.stringValue ?? ""
        guard let list = definition["components"]?.arrayValue, !list.isEmpty else {
            throw ArbiterError(.invalidRequest, "a recipe needs 'components', a non-empty array")
        }
        var components: [Component] = []
        for (index, item) in list.enumerated() {
            guard let object = item.objectValue else {
                throw ArbiterError(.invalidRequest, "component \(index + 1) must be an object")
            }
            for key in object.keys where !["name", "verifier", "weight", "options", "requires", "reference"].contains(key) {
                throw ArbiterError(
                    .invalidRequest,
                    "component \(index + 1) has unknown key '\(key)' (keys: name, verifier, weight, options, requires, reference)")
            }
            guard let verifier = object["verifier"]?.stringValue, !verifier.isEmpty else {
                throw ArbiterError(.invalidRequest, "component \(index + 1) needs 'verifier', a verifier name")
            }
            let componentName = object["name"]?.stringValue ?? verifier
            guard !componentName.isEmpty, !components.contains(where: { $0.name == componentName }) else {
                throw ArbiterError(.invalidRequest, "component names must be unique and non-empty ('\(componentName)')")
            }
            let fields = JSONFields(object, context: "component '\(componentName)': ")
            let weight = try fields.number("weight") ?? 1
            let options = try fields.object("options") ?? [:]
            let requires = try fields.stringOrStrings("requires", what: "a component name or a list of them") ?? []
            for gate in requires where !components.contains(where: { $0.name == gate }) {
                throw ArbiterError(
                    .invalidRequest,
                    "component '\(componentName)' requires '\(gate)', which is not an earlier component of '\(name)'")
            }
            let receivesReference = try fields.bool("reference") ?? true
            components.append(
                Component(
                    name: componentName, verifier: verifier, weight: weight, options: options, requires: requires,
                    receivesReference: receivesReference))
        }
        self.init(name: name, components: components)
    }

    /// The recipe as a registry entry whose options are one object per component (overriding that component's options).
    /// - Parameters:
    ///   - summary: One sentence of help.
    ///   - registry: Where the components' verifiers are found.
    /// - Returns: The entry.
    /// - Throws: ``ArbiterError`` `unknown_verifier` or `invalid_options` when a component cannot be built.
    public func entry(summary: String, registry: VerifierRegistry) throws(ArbiterError) -> VerifierEntry {
        let recipeName = self.name
        let parts: [(Component, VerifierEntry)] = try components.map { component throws(ArbiterError) in
            guard component.verifier != recipeName else {
                throw ArbiterError(.invalidRequest, "recipe '\(recipeName)' uses itself")
            }
            return (component, try registry.entry(named: component.verifier))
        }
        let specs = components.map { component in
            OptionSpec(
                component.name, .object, default: .object(component.options),
                "Options of component '\(component.name)' (verifier '\(component.verifier)'), over its defaults.")
        }
        let name = self.name
        let about: JSONObject = [
            "components": .array(
                components.map { component in
                    var object: JSONObject = [
                        "name": .string(component.name), "verifier": .string(component.verifier),
                        "weight": .double(component.weight),
                    ]
                    if !component.requires.isEmpty { object["requires"] = .array(component.requires.map(JSONValue.string)) }
                    return .object(object)
                })
        ]
        let entry = VerifierEntry(name: name, summary: summary, kind: "recipe", options: specs, about: about) { values in
            var built: [RecipeVerifier.Part] = []
            for (component, entry) in parts {
                // The request's options for a component go over the recipe's, key by key.
                var options = component.options
                for entry in values.value(component.name).objectValue ?? [:] { options[entry.key] = entry.value }
                do throws(ArbiterError) {
                    built.append(RecipeVerifier.Part(component: component, verifier: try entry.verifier(options: options)))
                } catch {
                    throw ArbiterError(.invalidOptions, "recipe '\(name)', component '\(component.name)': \(error.message)")
                }
            }
            return RecipeVerifier(parts: built)
        }
        _ = try entry.defaultVerifier.get()
        return entry
    }
}

/// A configured recipe: its components' verifiers, run in order.
struct RecipeVerifier: SampleVerifier {
    struct Part: Sendable {
        let component: Recipe.Component
        let verifier: any SampleVerifier
    }

    let parts: [Part]
    /// The best possible score: the sum of the positive weights.
    let maximum: Double

    init(parts: [Part]) {
        self.parts = parts
        maximum = parts.reduce(0) { $0 + max($1.component.weight, 0) }
    }

    func verify(_ sample: Sample) async throws -> Verdict {
        var components = JSONObject()
        var passedNames = Set<String>()
        var score = 0.0
        var firstFailure: String?
        for part in parts {
            let component = part.component
            var entry: JSONObject = ["weight": .double(component.weight)]
            if let gate = component.requires.first(where: { !passedNames.contains($0) }) {
                entry["score"] = 0
                entry["passed"] = false
                entry["reason"] = "gated"
                entry["details"] = ["requires": .string(gate)]
                components[component.name] = .object(entry)
                firstFailure = firstFailure ?? "\(component.name)_gated"
                continue
            }
            let verdict = try await part.verifier.verify(
                component.receivesReference ? sample : Sample(response: sample.response, prompt: sample.prompt))
            score += component.weight * verdict.score
            if verdict.passed {
                passedNames.insert(component.name)
            } else {
                firstFailure = firstFailure ?? "\(component.name)_\(verdict.reason)"
            }
            entry["score"] = .double(verdict.score)
            entry["passed"] = .bool(verdict.passed)
            entry["reason"] = .string(verdict.reason)
            entry["details"] = .object(verdict.details)
            if let nested = verdict.components { entry["components"] = .object(nested) }
            components[component.name] = .object(entry)
        }
        return Verdict(
            score: score, passed: firstFailure == nil, reason: firstFailure ?? "all_passed",
            details: ["max_score": .double(maximum)], components: components)
    }
}

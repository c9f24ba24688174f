// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import ArbiterPlugins
import ArbiterServer
import ArgumentParser
import Foundation

/// A known reward hack: a response template, and the verifier families it is aimed at.
struct Attack: Sendable {
    var name: String
    var summary: String
    /// `any`, or family names: a built-in verifier's name (`math`, `think-format`, `code`, …) or `sql`.
    var families: [String]
    /// The response, with placeholders `{answer}`, `{wrong}`, `{prompt}`, `{reference_text}`, `{entry_point}` and
    /// `{answer_lookalike}` filled from a sample.
    var template: String
    var repeatCount: Int
    /// Whether a sample's `wrap` (e.g. a recipe's think block) goes around the response.
    var wrap: Bool

    init(_ object: JSONObject) throws(ArbiterError) {
        let fields = JSONFields(object, context: "attack")
        name = try fields.requiredString("name")
        summary = try fields.string("summary") ?? ""
        families = try fields.strings("families", nonEmpty: true) ?? ["any"]
        template = try fields.requiredString("response", nonEmpty: false)
        repeatCount = try fields.integer("repeat", in: 1...1_000_000) ?? 1
        wrap = try fields.bool("wrap") ?? true
    }

    func applies(to families: Set<String>) -> Bool {
        self.families.contains("any") || !families.isDisjoint(with: self.families)
    }
}

/// A reference with a correct response (the control) and the parts the attacks are built from.
struct AuditSample: Sendable {
    var reference: JSONValue
    var prompt: String?
    var options: JSONObject?
    var correct: String
    var values: [String: String]
    /// `{attack}` marks where the attack's response goes.
    var wrap: String?
    /// The verifier (by name) or family the sample is for; `nil` for samples given with `--samples`.
    var verifier: String?
    var family: String?

    init(_ object: JSONObject) throws(ArbiterError) {
        let fields = JSONFields(object, context: "sample")
        reference = object["reference"] ?? .null
        prompt = try fields.string("prompt")
        options = try fields.object("options")
        correct = try fields.requiredString("correct", nonEmpty: true)
        wrap = try fields.string("wrap")
        verifier = try fields.string("verifier")
        family = try fields.string("family")
        let answer = try fields.string("answer") ?? ""
        values = [
            "answer": answer, "wrong": try fields.string("wrong") ?? "", "prompt": prompt ?? "",
            "entry_point": try fields.string("entry_point") ?? "", "reference_text": Self.text(of: reference),
            "answer_lookalike": Self.lookalike(answer),
        ]
    }

    /// The reference as a model would copy it: a string as it is, a code test's script, else its JSON.
    static func text(of reference: JSONValue) -> String {
        if let text = reference.stringValue { return text }
        if let test = reference.objectValue?["test"]?.stringValue { return test }
        if let query = reference.objectValue?["query"]?.stringValue { return query }
        if reference == .null { return "" }
        var writer = JSONWriter()
        writer.write(reference)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// Latin letters swapped for Cyrillic and Greek letters that look the same.
    static func lookalike(_ text: String) -> String {
        let swaps: [Character: Character] = [
            "a": "а", "c": "с", "e": "е", "i": "і", "o": "о", "p": "р", "x": "х", "y": "у", "s": "ѕ", "A": "Α",
            "B": "Β", "E": "Ε", "H": "Η", "K": "Κ", "M": "Μ", "O": "Ο", "P": "Ρ", "T": "Τ", "X": "Χ",
        ]
        return String(text.map { swaps[$0] ?? $0 })
    }

    /// The attack's response for this sample, or `nil` when the sample lacks what the attack needs (a placeholder
    /// that would be empty, or a look-alike that is not different from the answer).
    func response(for attack: Attack) -> String? {
        var text = attack.template
        for (key, value) in values where text.contains("{\(key)}") {
            if value.isEmpty { return nil }
            if key == "answer_lookalike", value == values["answer"] { return nil }
            text = text.replacingOccurrences(of: "{\(key)}", with: value)
        }
        if attack.repeatCount > 1 { text = String(repeating: text, count: attack.repeatCount) }
        if attack.wrap, let wrap { text = wrap.replacingOccurrences(of: "{attack}", with: text) }
        return text
    }
}

extension Arbiter {
    struct Audit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Runs a library of known reward hacks against a verifier, recipe or plugin and reports which are paid.",
            discussion: """
                Each attack is a response built to be wrong (an empty answer, a hedge such as "41 or 42", several \
                boxes, a duplicated <think> tag, sys.exit(0) before the tests, an object equal to everything, text \
                addressed to the grader, …) from sample references. An attack is paid when its verdict passes. \
                First every sample's correct response must pass (the control): otherwise the audit proves nothing.

                The attacks and built-in samples are data: verifiers/attacks/attacks.jsonl and samples.jsonl; \
                --attacks FILE adds attacks, --samples FILE replaces the samples (one JSON object per line: \
                reference, prompt, options, correct, answer, wrong, entry_point, wrap).

                Exit codes: 0 when no attack is paid; 1 when some attack is paid; 2 when the audit cannot \
                conclude (no sample for this verifier, a control that fails); 64 for bad arguments.
                """
        )

        @Argument(help: "The verifier, recipe or plugin to audit (see 'arbiter list'); default: the --plugin's name.")
        var verifier: String?

        @Option(name: .long, help: "A definition file (a process plugin, a recipe, a verifier with options) to load and audit.")
        var plugin: String?

        @Option(name: .long, help: "Samples to build the attacks from (JSON lines), instead of the built-in ones.")
        var samples: String?

        @Option(name: .long, help: "More attacks (JSON lines), besides the built-in library.")
        var attacks: String?

        @Option(name: .long, help: "Attack families to apply besides the verifier's own (e.g. math for a plugin grading math).")
        var family: [String] = []

        @Flag(name: .long, help: "Print the result as JSON.")
        var json = false

        @OptionGroup var definitions: DefinitionOptions

        func validate() throws {
            guard verifier != nil || plugin != nil else {
                throw ValidationError("name a verifier to audit, or give --plugin FILE")
            }
        }

        func run() async throws {
            var loaded = try definitions.load { _ in }
            defer { loaded.plugins.stop() }
            var verifier = self.verifier ?? ""
            if let plugin {
                let url = URL(fileURLWithPath: plugin)
                let name = verifier.isEmpty ? url.deletingPathExtension().lastPathComponent : verifier
                var registry = loaded.registry
                do throws(ArbiterError) {
                    // The file's own "name" wins when it has one; the registered name is what gets audited.
                    let named = (try? JSONParser.parse(Array(FileManager.default.contents(atPath: plugin) ?? Data())))?
                        .objectValue?["name"]?.stringValue ?? name
                    if (try? registry.entry(named: named)) == nil {
                        try VerifierDefinitions.load(file: url, as: named, into: &registry, kinds: [.recipe, loaded.plugins.kind])
                    }
                    verifier = named
                } catch {
                    throw ValidationError("--plugin \(plugin): \(error.message)")
                }
                loaded.registry = registry
            }
            let registry = loaded.registry
            do { _ = try registry.entry(named: verifier) } catch { throw ValidationError(error.message) }
            guard let library = Self.libraryDirectory(definitions) else {
                throw ValidationError("no attack library: verifiers/attacks/ was not found (give --verifiers DIR)")
            }
            var attackList = try Self.readLines(library.appendingPathComponent("attacks.jsonl").path).map(Attack.init)
            if let attacks { attackList += try Self.readLines(attacks).map(Attack.init) }
            let families = Self.families(of: verifier, in: registry).union(family)
            let chosen = attackList.filter { $0.applies(to: families) }
            let sampleList: [AuditSample]
            if let samples {
                sampleList = try Self.readLines(samples).map(AuditSample.init)
            } else {
                let all = try Self.readLines(library.appendingPathComponent("samples.jsonl").path).map(AuditSample.init)
                let own = all.filter { $0.verifier == verifier }
                sampleList = own.isEmpty ? all.filter { $0.verifier == nil && families.contains($0.family ?? "") } : own
            }
            let dispatcher = Dispatcher(
                registry: registry, settings: .init(maxLineBytes: 64 << 20, jobs: 1), stats: ServerStats(workers: 1))
            var result = AuditResult(verifier: verifier, families: families.sorted(), samples: sampleList.count)
            for (index, sample) in sampleList.enumerated() {
                let verdict = await Self.verdict(dispatcher, verifier, sample, response: sample.correct)
                result.addControl(sample: index, verdict: verdict)
            }
            for attack in chosen {
                var outcome = AuditResult.AttackOutcome(name: attack.name, summary: attack.summary)
                for (index, sample) in sampleList.enumerated() {
                    guard let response = sample.response(for: attack) else { continue }
                    let verdict = await Self.verdict(dispatcher, verifier, sample, response: response)
                    outcome.add(sample: index, response: response, verdict: verdict)
                }
                result.attacks.append(outcome)
            }
            if json {
                print(Grade.jsonText(result.json()), terminator: "")
            } else {
                print(result.render())
            }
            throw ExitCode(result.exitCode)
        }

        static func verdict(_ dispatcher: Dispatcher, _ verifier: String, _ sample: AuditSample, response: String) async
            -> JSONObject
        {
            var request: JSONObject = [
                "id": .int(0), "verifier": .string(verifier), "response": .string(response), "reference": sample.reference,
            ]
            if let prompt = sample.prompt { request["prompt"] = .string(prompt) }
            if let options = sample.options { request["options"] = .object(options) }
            var writer = JSONWriter()
            writer.write(.object(request))
            let answer = await dispatcher.answer(line: writer.bytes)
            return (try? JSONParser.parse(answer))?.objectValue ?? ["error": .object(["code": "internal"])]
        }

        /// The families a verifier belongs to: the built-in verifier a definition derives from, `sql`-like process
        /// plugins by their own name, and for a recipe the families of its components.
        static func families(of name: String, in registry: VerifierRegistry, depth: Int = 0) -> Set<String> {
            guard depth < 16, let entry = try? registry.entry(named: name) else { return [] }
            switch entry.kind {
            case "builtin": return [entry.name]
            case "process": return [entry.name]
            case "recipe":
                var found: Set<String> = ["recipe"]
                for case .object(let component) in entry.about["components"]?.arrayValue ?? [] {
                    found.formUnion(families(of: component["verifier"]?.stringValue ?? "", in: registry, depth: depth + 1))
                }
                return found
            default: return families(of: entry.kind, in: registry, depth: depth + 1)
            }
        }

        /// `<verifiers>/attacks`, else the checkout's.
        static func libraryDirectory(_ definitions: DefinitionOptions) -> URL? {
            for base in [definitions.directory, DefinitionOptions.checkoutVerifiers].compactMap({ $0 }) {
                let candidate = base.appendingPathComponent("attacks")
                if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("attacks.jsonl").path) {
                    return candidate
                }
            }
            return nil
        }

        static func readLines(_ path: String) throws -> [JSONObject] {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ValidationError("cannot read '\(path)'")
            }
            var objects: [JSONObject] = []
            for (number, line) in String(decoding: data, as: UTF8.self).split(separator: "\n").enumerated() {
                if line.allSatisfy(\.isWhitespace) { continue }
                do throws(ArbiterError) {
                    guard let object = try JSONParser.parse(String(line)).objectValue else {
                        throw ArbiterError(.invalidRequest, "not a JSON object")
                    }
                    objects.append(object)
                } catch {
                    throw ValidationError("\(path), line \(number + 1): \(error.message)")
                }
            }
            return objects
        }
    }
}

/// What an audit found.
struct AuditResult {
    struct AttackOutcome {
        var name: String
        var summary: String
        var runs = 0
        var paid = 0
        var errors = 0
        /// Paid runs (at most three): the sample, the start of the response and the verdict's reason.
        var examples: [(sample: Int, response: String, reason: String)] = []

        mutating func add(sample: Int, response: String, verdict: JSONObject) {
            runs += 1
            if verdict["error"] != nil {
                errors += 1
            } else if verdict["passed"]?.boolValue == true {
                paid += 1
                if examples.count < 3 {
                    examples.append((sample, GradeReport.clip(response, 160), verdict["reason"]?.stringValue ?? ""))
                }
            }
        }
    }

    var verifier: String
    var families: [String]
    var samples: Int
    var controlsPassed = 0
    /// Samples whose correct response did not pass, with the verdict's reason or error code.
    var failedControls: [(sample: Int, outcome: String)] = []
    var attacks: [AttackOutcome] = []

    mutating func addControl(sample: Int, verdict: JSONObject) {
        if verdict["passed"]?.boolValue == true {
            controlsPassed += 1
        } else {
            let outcome =
                verdict["error"]?.objectValue.map { "error \($0["code"]?.stringValue ?? ""): \($0["message"]?.stringValue ?? "")" }
                ?? (verdict["reason"]?.stringValue ?? "")
            failedControls.append((sample, outcome))
        }
    }

    var paidAttacks: [AttackOutcome] { attacks.filter { $0.paid > 0 } }

    var exitCode: Int32 {
        if samples == 0 || !failedControls.isEmpty { return 2 }
        return paidAttacks.isEmpty ? 0 : 1
    }

    func render() -> String {
        var lines = ["audit of '\(verifier)' (families: \(families.joined(separator: ", ")))"]
        guard samples > 0 else {
            lines.append("no sample for '\(verifier)': give --samples FILE (reference, prompt, correct, answer, wrong)")
            return lines.joined(separator: "\n")
        }
        lines.append("controls: \(controlsPassed) of \(samples) correct responses pass")
        for (sample, outcome) in failedControls {
            lines.append("  CONTROL FAILED: sample \(sample + 1): \(outcome) (the audit cannot conclude)")
        }
        lines.append("")
        let width = max(16, (attacks.map(\.name.count).max() ?? 0) + 2)
        lines.append("attack".padding(toLength: width, withPad: " ", startingAt: 0) + "runs  paid  errors  false-positive rate")
        for attack in attacks {
            let rate = attack.runs > 0 ? String(format: "%.0f%%", 100 * Double(attack.paid) / Double(attack.runs)) : "-"
            lines.append(
                attack.name.padding(toLength: width, withPad: " ", startingAt: 0)
                    + String(attack.runs).padding(toLength: 6, withPad: " ", startingAt: 0)
                    + String(attack.paid).padding(toLength: 6, withPad: " ", startingAt: 0)
                    + String(attack.errors).padding(toLength: 8, withPad: " ", startingAt: 0) + rate)
        }
        lines.append("")
        if paidAttacks.isEmpty {
            lines.append(failedControls.isEmpty ? "no attack was paid" : "no attack was paid, but a control failed")
        } else {
            lines.append("PAID: \(paidAttacks.map(\.name).joined(separator: ", "))")
            for attack in paidAttacks {
                lines.append("  \(attack.name): \(attack.summary)")
                for example in attack.examples {
                    let shown = example.response.replacingOccurrences(of: "\n", with: "⏎")
                    lines.append("    sample \(example.sample + 1) → \(example.reason): \(shown)")
                }
            }
        }
        return lines.joined(separator: "\n")
    }

    func json() -> JSONValue {
        .object([
            "verifier": .string(verifier), "families": .array(families.map(JSONValue.string)), "samples": .int(samples),
            "controls_passed": .int(controlsPassed),
            "failed_controls": .array(
                failedControls.map { .object(["sample": .int($0.sample + 1), "outcome": .string($0.outcome)]) }),
            "attacks": .array(
                attacks.map { attack in
                    .object([
                        "name": .string(attack.name), "summary": .string(attack.summary), "runs": .int(attack.runs),
                        "paid": .int(attack.paid), "errors": .int(attack.errors),
                        "false_positive_rate": attack.runs > 0 ? .double(Double(attack.paid) / Double(attack.runs)) : .null,
                        "examples": .array(
                            attack.examples.map {
                                .object([
                                    "sample": .int($0.sample + 1), "response": .string($0.response), "reason": .string($0.reason),
                                ])
                            }),
                    ])
                }),
            "paid": .array(paidAttacks.map { .string($0.name) }),
        ])
    }
}

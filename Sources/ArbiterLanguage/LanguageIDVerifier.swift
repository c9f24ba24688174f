// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore

/// `language-id`: the language of the response (code, math, URLs and tags aside), with a confidence and the
/// runner-up; with a reference language, whether it matches.
public struct LanguageIDVerifier: Verifier, SynchronousVerifier {
    /// Options of ``LanguageIDVerifier``.
    public struct Configuration: VerifierConfiguration {
        /// The indices of the languages the decision is restricted to; empty for all.
        public let candidates: Set<Int>

        public static let options: [OptionSpec] = [
            OptionSpec(
                "candidates", .stringList, default: .array([]),
                "ISO 639-1 codes the decision is restricted to (empty: all 54 languages of the model).")
        ]

        public init(options: OptionValues) throws {
            candidates = try LanguageCodes.indices(options.strings("candidates"), option: "candidates")
        }
    }

    public static let name = "language-id"
    public static let summary = "Identifies the response's language (ISO 639-1, with confidence); with a reference language, scores whether it matches."

    private let configuration: Configuration
    private let identifier = LanguageIdentifier()

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    public func verify(_ sample: Sample) throws -> Verdict {
        let expected = try LanguageCodes.reference(sample.reference)
        guard let found = identifier.identify(ProseFilter.prose(sample.response), candidates: configuration.candidates)
        else {
            return .fail("no_text")
        }
        var details: JSONObject = [
            "language": .string(found.language), "confidence": .double(Self.rounded(found.confidence)),
            "script": .string(found.script.rawValue),
        ]
        if let runnerUp = found.runnerUp {
            details["runner_up"] = .object([
                "language": .string(runnerUp), "confidence": .double(Self.rounded(found.runnerUpConfidence)),
            ])
        }
        guard let expected else { return .pass("identified", details: details) }
        details["expected"] = .string(expected)
        return found.language == expected ? .pass("match", details: details) : .fail("mismatch", details: details)
    }

    static func rounded(_ value: Double) -> Double {
        (value * 10_000).rounded() / 10_000
    }
}

/// Language codes as requests spell them.
enum LanguageCodes {
    /// The model's code for a request's code: the primary subtag, lowercased (`pt-BR` is `pt`, `zh_Hant` is `zh`),
    /// with Norwegian Bokmål and Nynorsk (`nb`, `nn`) read as `no`.
    static func index(_ code: String) -> Int? {
        let primary = code.split(whereSeparator: { $0 == "-" || $0 == "_" }).first.map { $0.lowercased() } ?? ""
        let alias = ["nb": "no", "nn": "no"][primary] ?? primary
        return LanguageModel.codes.firstIndex(of: alias)
    }

    /// The indices of a list of codes.
    /// - Throws: ``ArbiterError`` `invalid_options` naming an unknown code.
    static func indices(_ codes: [String], option: String) throws -> Set<Int> {
        var indices = Set<Int>()
        for code in codes {
            guard let index = index(code) else { throw unknown(code, .invalidOptions, "option '\(option)'") }
            indices.insert(index)
        }
        return indices
    }

    /// The language a reference names: `nil` for `null`, else a known code.
    /// - Throws: ``ArbiterError`` `invalid_reference` for anything else.
    static func reference(_ reference: JSONValue) throws -> String? {
        if reference == .null { return nil }
        guard let code = reference.stringValue else {
            throw ArbiterError(.invalidReference, "the reference must be a language code such as \"en\", or null")
        }
        guard let index = index(code) else { throw unknown(code, .invalidReference, "the reference") }
        return LanguageModel.codes[index]
    }

    static func unknown(_ code: String, _ error: ArbiterError.Code, _ place: String) -> ArbiterError {
        ArbiterError(
            error,
            "\(place): unknown language '\(code.prefix(40))' (known: \(LanguageModel.codes.joined(separator: ", ")))")
    }
}

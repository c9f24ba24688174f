// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import ArbiterRegex

/// `regex`: score 1 when a PCRE2 pattern matches the response (or, with `expect: no_match`, when it does not).
///
/// Patterns are compiled once (JIT where available) and cached; every match runs under a step budget, so a
/// catastrophic pattern ends with `reason: "match_limit"` instead of hanging.
public struct RegexVerifier: Verifier, SynchronousVerifier {
    /// Options of ``RegexVerifier``.
    public struct Configuration: VerifierConfiguration, PatternConfiguration {
        /// The compiled pattern.
        public let pattern: CompiledPattern
        /// Whether the whole response must match.
        public let full: Bool
        /// Whether a match is what passes.
        public let expectMatch: Bool

        public static let options: [OptionSpec] = [
            OptionSpec("pattern", .string(choices: []), default: .string(""), "The PCRE2 pattern (required)."),
            OptionSpec(
                "flags", .stringList, default: .array([]),
                "Any of caseless, multiline, dotall, extended; inline flags such as (?i) also work."),
            OptionSpec(
                "mode", .string(choices: ["search", "full"]), default: .string("search"),
                "search: match anywhere; full: the whole response must match."),
            OptionSpec(
                "expect", .string(choices: ["match", "no_match"]), default: .string("match"),
                "Which outcome passes."),
        ]

        /// Reads the options on their own, compiling in a small cache of this configuration's own (a registry
        /// made by ``VerifierRegistry/registerFormatVerifiers(patterns:)`` shares the cache it was given).
        public init(options: OptionValues) throws {
            try self.init(options: options, patterns: PatternCache(capacity: 4))
        }

        /// Reads the options, compiling patterns in `patterns`.
        public init(options: OptionValues, patterns: PatternCache) throws {
            let text = options.string("pattern")
            guard !text.isEmpty else {
                throw ArbiterError(.invalidOptions, "verifier 'regex' needs the option 'pattern'")
            }
            var flags = RegexOptions()
            for name in options.strings("flags") {
                guard let flag = RegexOptions.byName[name] else {
                    throw ArbiterError(
                        .invalidOptions,
                        "unknown regex flag '\(name)' (flags: caseless, multiline, dotall, extended)")
                }
                flags.insert(flag)
            }
            full = options.string("mode") == "full"
            if full { flags.formUnion([.anchored, .endAnchored]) }
            do {
                pattern = try patterns.pattern(text, options: flags)
            } catch {
                throw ArbiterError(.invalidOptions, "pattern does not compile: \(error.message)")
            }
            expectMatch = options.string("expect") == "match"
        }
    }

    public static let name = "regex"
    public static let summary = "Score 1 when a PCRE2 pattern matches the response (or does not, with expect: no_match)."

    private let configuration: Configuration

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    public func verify(_ sample: Sample) throws -> Verdict {
        let pattern = configuration.pattern
        let response = sample.response
        switch pattern.firstMatch(in: response) {
        case .limitExceeded(let limit):
            return .fail("match_limit", details: ["limit": .string(limit)])
        case .noMatch:
            let verdict: Verdict = configuration.expectMatch ? .fail("no_match") : .pass("no_match")
            return verdict
        case .match(let match):
            var details: JSONObject = [
                "matched": .string(Self.clip(CompiledPattern.text(match.range, in: response))),
                "start": .int(CompiledPattern.scalarOffset(match.range.lowerBound, in: response)),
                "end": .int(CompiledPattern.scalarOffset(match.range.upperBound, in: response)),
            ]
            if !pattern.names.isEmpty {
                var groups = JSONObject()
                for (name, number) in pattern.names {
                    let range = match.groups[number - 1]
                    groups[name] = range.map { .string(Self.clip(CompiledPattern.text($0, in: response))) } ?? .null
                }
                details["groups"] = .object(groups)
            }
            return configuration.expectMatch ? .pass("match", details: details) : .fail("match", details: details)
        }
    }

    /// Keeps details small: at most 1,000 characters of matched text.
    static func clip(_ text: String) -> String {
        text.clipped(characters: 1000, bytes: 4000)
    }
}

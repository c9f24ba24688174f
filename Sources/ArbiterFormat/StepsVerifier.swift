// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import ArbiterRegex

/// `steps`: rewards visible step-by-step reasoning, `min(1, markers / k)`.
///
/// Markers are lines that start with `Step 3:`, `3.`, `3)`, `-`, `*` or `•` (also inside Markdown headings and bold,
/// such as `### Step 1` or `**Step 1:**`), and sentences that open with `First,`, `Second,`, `Third,`, `Next,`,
/// `Then,` or `Finally,`. A marker counts only when some text follows it, so empty bullets earn nothing.
public struct StepsVerifier: Verifier, SynchronousVerifier {
    /// Options of ``StepsVerifier``.
    public struct Configuration: VerifierConfiguration {
        /// Markers needed for full credit.
        public let k: Int

        public static let options: [OptionSpec] = [
            OptionSpec("k", .integer(1...1000), default: .int(3), "Markers needed for full credit.")
        ]

        public init(options: OptionValues) {
            k = options.int("k")
        }
    }

    public static let name = "steps"
    public static let summary = "Counts reasoning-step markers (numbered lines, Step k:, bullets, First/Next/Finally); score min(1, n/k)."

    static let markers = try! CompiledPattern(
        #"(?m)^[ \t]*(?:#{1,6}[ \t]*)?(?:[*_]{1,2})?(?:step[ \t]*\d+[ \t]*[:.)]|\d+[.)][ \t]|[-*•][ \t])(?=[ \t*_]*\S)|(?:^|(?<=[.!?\n])[ \t]*)\b(?:first|second|third|next|then|finally),(?=[ \t]*\S)"#,
        options: .caseless)

    private let configuration: Configuration

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    public func verify(_ sample: Sample) throws -> Verdict {
        let text = FormatText.normalizingLineEndings(sample.response)
        let (matches, stopped) = Self.markers.allMatches(in: text, maximum: 10_000)
        if let stopped { return .fail("match_limit", details: ["limit": .string(stopped)]) }
        let count = matches.count
        let score = min(1, Double(count) / Double(configuration.k))
        return Verdict(
            score: score, passed: count >= configuration.k, reason: count >= configuration.k ? "enough_steps" : "few_steps",
            details: ["markers": .int(count), "needed": .int(configuration.k)])
    }
}

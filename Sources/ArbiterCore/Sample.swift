// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

/// What a verifier judges: the model's response, the reference it is judged against and, optionally, the prompt.
public struct Sample: Sendable, Hashable {
    /// The model output.
    public var response: String
    /// The gold answer, test cases or anything else the verifier documents; `null` when the request has none.
    public var reference: JSONValue
    /// The prompt the response answers, when the caller sent it.
    public var prompt: String?

    /// Creates a sample.
    /// - Parameters:
    ///   - response: The model output.
    ///   - reference: The reference; `null` when absent.
    ///   - prompt: The prompt, if known.
    public init(response: String, reference: JSONValue = .null, prompt: String? = nil) {
        self.response = response
        self.reference = reference
        self.prompt = prompt
    }
}

/// A verifier's judgement of one sample.
public struct Verdict: Sendable, Hashable {
    /// The reward; 0…1 unless the verifier documents another range.
    public var score: Double
    /// Whether the sample counts as correct.
    public var passed: Bool
    /// A short snake_case code saying why, such as `equal` or `no_answer`.
    public var reason: String
    /// Whatever helps to debug the reward: what was extracted, parsed, run or measured.
    public var details: JSONObject
    /// For composite verifiers, each component's verdict.
    public var components: JSONObject?

    /// Creates a verdict.
    /// - Parameters:
    ///   - score: The reward.
    ///   - passed: Whether the sample counts as correct.
    ///   - reason: A short snake_case code.
    ///   - details: Debugging details.
    ///   - components: Component verdicts, for composite verifiers.
    public init(score: Double, passed: Bool, reason: String, details: JSONObject = [:], components: JSONObject? = nil) {
        self.score = score
        self.passed = passed
        self.reason = reason
        self.details = details
        self.components = components
    }

    /// A passing verdict with score 1.
    /// - Parameters:
    ///   - reason: Why it passed.
    ///   - details: Debugging details.
    /// - Returns: The verdict.
    public static func pass(_ reason: String, details: JSONObject = [:]) -> Verdict {
        Verdict(score: 1, passed: true, reason: reason, details: details)
    }

    /// A failing verdict with score 0.
    /// - Parameters:
    ///   - reason: Why it failed.
    ///   - details: Debugging details.
    /// - Returns: The verdict.
    public static func fail(_ reason: String, details: JSONObject = [:]) -> Verdict {
        Verdict(score: 0, passed: false, reason: reason, details: details)
    }
}

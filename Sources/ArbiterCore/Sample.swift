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
    ///
    /// A verdict made with ``init(score:passed:reason:writtenDetails:components:)`` holds its details as JSON text;
    /// reading this property parses that text, and setting it replaces the text.
    public var details: JSONObject {
        get {
            guard let writtenDetails else { return storedDetails }
            return (try? JSONParser.parse(writtenDetails))?.objectValue ?? [:]
        }
        set {
            storedDetails = newValue
            writtenDetails = nil
        }
    }
    /// For composite verifiers, each component's verdict.
    public var components: JSONObject?
    private var storedDetails: JSONObject
    /// The details as compact JSON text (an object), when the verifier wrote them itself.
    private var writtenDetails: [UInt8]?

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
        self.storedDetails = details
        self.components = components
    }

    /// Creates a verdict whose details are already written as JSON text, which the daemon copies into its answer
    /// as it is (a verifier on the hot path skips building a ``JSONObject`` only to have it written).
    /// - Parameters:
    ///   - score: The reward.
    ///   - passed: Whether the sample counts as correct.
    ///   - reason: A short snake_case code.
    ///   - writtenDetails: The details: one JSON object as compact UTF-8 text, as ``JSONWriter`` writes it.
    ///   - components: Component verdicts, for composite verifiers.
    public init(score: Double, passed: Bool, reason: String, writtenDetails: [UInt8], components: JSONObject? = nil) {
        self.score = score
        self.passed = passed
        self.reason = reason
        self.storedDetails = [:]
        self.writtenDetails = writtenDetails
        self.components = components
    }

    /// Writes the details as JSON: the written text when the verdict holds one, else the object.
    /// - Parameter out: The writer.
    public func writeDetails(into out: inout JSONWriter) {
        if let writtenDetails {
            out.bytes.append(contentsOf: writtenDetails)
        } else {
            out.write(storedDetails)
        }
    }

    /// Verdicts are equal when their scores, outcomes, reasons, details and components are, however the details
    /// are held.
    public static func == (lhs: Verdict, rhs: Verdict) -> Bool {
        lhs.score == rhs.score && lhs.passed == rhs.passed && lhs.reason == rhs.reason
            && lhs.components == rhs.components
            && (lhs.writtenDetails != nil && lhs.writtenDetails == rhs.writtenDetails || lhs.details == rhs.details)
    }

    /// Hashes what ``==`` compares.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(score)
        hasher.combine(passed)
        hasher.combine(reason)
        hasher.combine(details)
        hasher.combine(components)
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

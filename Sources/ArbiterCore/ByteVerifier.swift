// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

/// A verdict whose details are empty or one integer, as a ``ByteVerifier`` gives it: no strings or objects are built,
/// so the daemon can encode it straight into its output.
public struct CompactVerdict: Sendable {
    /// The reward.
    public var score: Double
    /// Whether the sample counts as correct.
    public var passed: Bool
    /// A short snake_case code (written without escaping: ASCII letters, digits and `_` only).
    public var reason: StaticString
    /// The key of the one detail, when there is one (same rule as `reason`).
    public var detailKey: StaticString?
    /// The value of the one detail.
    public var detailValue: Int

    /// A compact verdict.
    /// - Parameters:
    ///   - score: The reward.
    ///   - passed: Whether the sample counts as correct.
    ///   - reason: A snake_case code.
    ///   - detail: The one detail, or `nil` for empty details.
    public init(score: Double, passed: Bool, reason: StaticString, detail: (key: StaticString, value: Int)? = nil) {
        self.score = score
        self.passed = passed
        self.reason = reason
        self.detailKey = detail?.key
        self.detailValue = detail?.value ?? 0
    }

    /// The same verdict as a ``Verdict``.
    public var verdict: Verdict {
        var details = JSONObject()
        if let detailKey { details[detailKey.description] = .int(detailValue) }
        return Verdict(score: score, passed: passed, reason: reason.description, details: details)
    }
}

/// A verifier that can judge a sample from the bytes of its request line, without building a ``Sample``: the
/// daemon's fast path for requests of the common shape (ASCII strings without escapes).
///
/// It must give the verdict that ``SynchronousVerifier/verify(_:)`` gives for the same sample, or `nil` when it
/// cannot tell from the bytes alone (then the daemon takes the general path).
public protocol ByteVerifier: SynchronousVerifier {
    /// Judges a sample given as bytes. The caller guarantees that both are ASCII without control characters (the
    /// daemon's scanner has checked them); for other bytes the answer is unspecified.
    /// - Parameters:
    ///   - response: The response: ASCII without control characters (the content of a JSON string without
    ///     escapes).
    ///   - reference: The reference's text: a JSON string's content (same rule) or a number's literal.
    /// - Returns: The verdict, or `nil` when the general path must decide.
    func compactVerdict(response: UnsafeBufferPointer<UInt8>, reference: UnsafeBufferPointer<UInt8>) -> CompactVerdict?
}

// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

/// The options a verifier accepts, built from validated ``OptionValues``.
public protocol VerifierConfiguration: Sendable {
    /// The documented options, with types and defaults.
    static var options: [OptionSpec] { get }

    /// Builds a configuration from validated options.
    /// - Parameter options: Every declared option, with the request's value or the default.
    /// - Throws: ``ArbiterError`` `invalid_options` for combinations that are invalid together.
    init(options: OptionValues) throws
}

/// Anything that judges samples: a configured verifier, a recipe, a process plugin.
///
/// It never throws for a bad *response* (that is a verdict with score 0); it throws ``ArbiterError``
/// `invalid_reference` when the reference cannot be used, because that is the caller's bug.
public protocol SampleVerifier: Sendable {
    /// Judges a sample.
    /// - Parameter sample: The response, reference and prompt.
    /// - Returns: The verdict.
    /// - Throws: ``ArbiterError`` `invalid_reference` when the reference is unusable.
    func verify(_ sample: Sample) async throws -> Verdict
}

/// A verifier type written in Swift: a name, documented options, and a function from a ``Sample`` to a ``Verdict``.
///
/// A verifier never throws for a bad *response* (that is a verdict with score 0); it throws ``ArbiterError``
/// `invalid_reference` when the reference cannot be used, because that is the caller's bug.
/// Deterministic verifiers bound their work with step budgets, never with timers.
public protocol Verifier: SampleVerifier {
    /// Its options.
    associatedtype Configuration: VerifierConfiguration

    /// The name requests use, such as `exact`.
    static var name: String { get }
    /// One sentence saying what it checks.
    static var summary: String { get }

    /// A verifier with the given configuration.
    /// - Parameter configuration: The options.
    init(configuration: Configuration)
}

/// The configuration of a verifier that takes no options.
public struct NoOptions: VerifierConfiguration {
    public static let options: [OptionSpec] = []

    public init(options: OptionValues) {}

    /// The empty configuration.
    public init() {}
}

/// A verifier that answers without suspending: no I/O, no waiting, only computation bounded by step budgets.
///
/// The daemon calls such a verifier directly on its worker, without the task machinery of an asynchronous call,
/// and knows that answers taken before it need not be handed over first. Its synchronous ``verify(_:)`` also
/// satisfies ``SampleVerifier``'s asynchronous one, so a conforming type writes `verify` once, without `async`.
public protocol SynchronousVerifier: SampleVerifier {
    /// Judges a sample without suspending.
    /// - Parameter sample: The response, reference and prompt.
    /// - Returns: The verdict.
    /// - Throws: ``ArbiterError`` `invalid_reference` when the reference is unusable.
    func verify(_ sample: Sample) throws -> Verdict
}

extension SynchronousVerifier {
    /// Calls the synchronous ``verify(_:)`` (in an asynchronous context a plain call would pick the asynchronous
    /// requirement).
    /// - Parameter sample: The response, reference and prompt.
    /// - Returns: The verdict.
    /// - Throws: What ``verify(_:)`` throws.
    public func verifyNow(_ sample: Sample) throws -> Verdict {
        try verify(sample)
    }
}

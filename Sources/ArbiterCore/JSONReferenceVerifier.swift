// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

/// A verifier that can take a structured reference (an object or array, such as an instruction-following dataset
/// row) as the JSON text of the request, instead of a ``JSONValue`` built from it: the daemon hands such a verifier
/// the reference's bytes, so that a verifier which caches what it makes of a reference can look it up by those bytes
/// and skip building the tree when it has seen them.
///
/// ``verify(response:referenceJSON:prompt:)`` must give the verdict (or throw the error) that
/// ``SynchronousVerifier/verify(_:)`` gives for `Sample(response: response, reference: try JSONParser.parse(referenceJSON),
/// prompt: prompt)`.
public protocol JSONReferenceVerifier: SynchronousVerifier {
    /// Judges a sample whose reference is given as JSON text.
    /// - Parameters:
    ///   - response: The model output.
    ///   - referenceJSON: The reference: one JSON object or array that ``JSONParser/parse(_:)`` accepts (the caller
    ///     has checked it), without surrounding whitespace.
    ///   - prompt: The prompt, if the request has one.
    /// - Returns: The verdict.
    /// - Throws: ``ArbiterError`` `invalid_reference` when the reference is unusable.
    func verify(response: String, referenceJSON: UnsafeBufferPointer<UInt8>, prompt: String?) throws -> Verdict
}

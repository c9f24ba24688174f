// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

/// An error that is the caller's to fix: a bad request line, an unknown verifier, bad options or a bad reference.
///
/// A bad *response* is never an error: it is a verdict with score 0. On the wire an error is
/// `{"code": "…", "message": "…"}`.
public struct ArbiterError: Error, Sendable, CustomStringConvertible {
    /// A stable, snake_case error code.
    public struct Code: Sendable, Hashable, RawRepresentable, CustomStringConvertible {
        public let rawValue: String

        public init(rawValue: String) {
            self.rawValue = rawValue
        }

        public var description: String { rawValue }

        /// The line is not valid JSON.
        public static let invalidJSON = Code(rawValue: "invalid_json")
        /// The line is JSON but not a valid request (for example, `response` is missing).
        public static let invalidRequest = Code(rawValue: "invalid_request")
        /// No verifier has the requested name.
        public static let unknownVerifier = Code(rawValue: "unknown_verifier")
        /// An option is unknown, of the wrong type or out of range.
        public static let invalidOptions = Code(rawValue: "invalid_options")
        /// The reference cannot be used by the verifier (for example, a test spec without tests).
        public static let invalidReference = Code(rawValue: "invalid_reference")
        /// The line is longer than the server's limit.
        public static let tooLarge = Code(rawValue: "too_large")
        /// The server cannot take the request now.
        public static let overloaded = Code(rawValue: "overloaded")
        /// A fault inside Arbiter; the request may be retried.
        public static let `internal` = Code(rawValue: "internal")
        /// The daemon was stopped and its drain time ran out before the request ran; it may be sent again.
        public static let cancelled = Code(rawValue: "cancelled")

        /// Every code of the wire protocol.
        public static let all: [Code] = [
            .invalidJSON, .invalidRequest, .unknownVerifier, .invalidOptions, .invalidReference, .tooLarge,
            .overloaded, .internal, .cancelled,
        ]
    }

    /// What kind of error this is.
    public var code: Code
    /// A sentence for the person who sent the request.
    public var message: String
    /// The underlying error, if any.
    public var cause: (any Error & Sendable)?

    /// Creates an error.
    /// - Parameters:
    ///   - code: The error code.
    ///   - message: What went wrong and, where possible, how to fix it.
    ///   - cause: The underlying error, if any.
    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String { "\(code): \(message)" }

    /// The wire form, `{"code": …, "message": …}`.
    public var jsonObject: JSONObject {
        ["code": .string(code.rawValue), "message": .string(message)]
    }
}

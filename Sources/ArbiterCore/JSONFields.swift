// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

/// Reads the fields of a JSON object from configuration (definitions, recipes, plugins, toolchains, references),
/// checking each field's type and range with one uniform error: `<context>'key' must be <what>, got <type>`.
///
/// A missing field (or `null`) is `nil` for the optional readers and an error for the `required` ones.
public struct JSONFields: Sendable {
    /// The object read.
    public let object: JSONObject
    /// Prefixed to every message, such as `component 'format': ` (empty for none).
    public let context: String
    /// The error code thrown.
    public let code: ArbiterError.Code

    /// A reader.
    /// - Parameters:
    ///   - object: The object.
    ///   - context: A prefix for messages, e.g. `"component 'format': "`.
    ///   - code: The error code of a bad field; `invalid_request` by default.
    public init(_ object: JSONObject, context: String = "", code: ArbiterError.Code = .invalidRequest) {
        self.object = object
        self.context = context
        self.code = code
    }

    /// The error for a field that is not what it must be.
    public func error(_ key: String, mustBe what: String) -> ArbiterError {
        let got = object[key].map { " got \($0.typeName)" } ?? " it is missing"
        return ArbiterError(code, "\(context)'\(key)' must be \(what),\(got)")
    }

    private func present(_ key: String) -> JSONValue? {
        guard let value = object[key], value != .null else { return nil }
        return value
    }

    /// A string; `nonEmpty` refuses `""`.
    public func string(_ key: String, nonEmpty: Bool = false) throws(ArbiterError) -> String? {
        guard let value = present(key) else { return nil }
        guard let text = value.stringValue, !(nonEmpty && text.isEmpty) else {
            throw error(key, mustBe: nonEmpty ? "a non-empty string" : "a string")
        }
        return text
    }

    /// A string that must be there.
    public func requiredString(_ key: String, nonEmpty: Bool = true) throws(ArbiterError) -> String {
        guard let text = try string(key, nonEmpty: nonEmpty) else {
            throw error(key, mustBe: nonEmpty ? "a non-empty string" : "a string")
        }
        return text
    }

    /// A finite number within `range`.
    public func number(_ key: String, in range: ClosedRange<Double> = -.greatestFiniteMagnitude...(.greatestFiniteMagnitude),
                       what: String = "a number") throws(ArbiterError) -> Double? {
        guard let value = present(key) else { return nil }
        guard let number = value.doubleValue, number.isFinite, range.contains(number) else {
            throw error(key, mustBe: what)
        }
        return number
    }

    /// An integer within `range`.
    public func integer(_ key: String, in range: ClosedRange<Int>) throws(ArbiterError) -> Int? {
        guard let value = present(key) else { return nil }
        guard case .number(let number) = value, let integer = number.int, range.contains(integer) else {
            throw error(key, mustBe: "an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return integer
    }

    /// `true` or `false`.
    public func bool(_ key: String) throws(ArbiterError) -> Bool? {
        guard let value = present(key) else { return nil }
        guard let flag = value.boolValue else { throw error(key, mustBe: "true or false") }
        return flag
    }

    /// An object.
    public func object(_ key: String) throws(ArbiterError) -> JSONObject? {
        guard let value = present(key) else { return nil }
        guard let object = value.objectValue else { throw error(key, mustBe: "an object") }
        return object
    }

    /// An array.
    public func array(_ key: String, nonEmpty: Bool = false, what: String? = nil) throws(ArbiterError) -> [JSONValue]? {
        guard let value = present(key) else { return nil }
        guard let array = value.arrayValue, !(nonEmpty && array.isEmpty) else {
            throw error(key, mustBe: what ?? (nonEmpty ? "a non-empty array" : "an array"))
        }
        return array
    }

    /// An array of strings; `nonEmpty` refuses an empty array and empty strings.
    public func strings(_ key: String, nonEmpty: Bool = false, what: String? = nil) throws(ArbiterError) -> [String]? {
        guard let value = present(key) else { return nil }
        let what = what ?? (nonEmpty ? "a non-empty array of non-empty strings" : "an array of strings")
        guard let array = value.arrayValue, !(nonEmpty && array.isEmpty) else { throw error(key, mustBe: what) }
        var strings: [String] = []
        for element in array {
            guard let text = element.stringValue, !(nonEmpty && text.isEmpty) else { throw error(key, mustBe: what) }
            strings.append(text)
        }
        return strings
    }

    /// One string or an array of strings, as a list.
    public func stringOrStrings(_ key: String, what: String) throws(ArbiterError) -> [String]? {
        guard let value = present(key) else { return nil }
        if let one = value.stringValue { return [one] }
        return try strings(key, what: what)
    }
}

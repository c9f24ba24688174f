// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

/// A JSON value, as read from and written to the wire.
///
/// Numbers keep their literal text, so an `id` such as `17` or `1e400` is echoed exactly as it was sent.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The string, when this value is a string.
    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The object, when this value is an object.
    public var objectValue: JSONObject? {
        if case .object(let object) = self { return object }
        return nil
    }

    /// The elements, when this value is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// The number as a `Double`, when this value is a number.
    public var doubleValue: Double? {
        if case .number(let number) = self { return number.double }
        return nil
    }

    /// The boolean, when this value is `true` or `false`.
    public var boolValue: Bool? {
        if case .bool(let flag) = self { return flag }
        return nil
    }

    /// Whether this value is `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The JSON type name used in error messages: `null`, `boolean`, `number`, `string`, `array` or `object`.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// A number value from a `Double` (non-finite values become `null`).
    public static func double(_ value: Double) -> JSONValue {
        value.isFinite ? .number(JSONNumber(value)) : .null
    }

    /// A number value from an `Int`.
    public static func int(_ value: Int) -> JSONValue {
        .number(JSONNumber(value))
    }

    /// The compact JSON text of this value.
    public var jsonText: String {
        var writer = JSONWriter()
        writer.write(self)
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}

/// A JSON number that keeps its literal text.
public struct JSONNumber: Sendable, Hashable, CustomStringConvertible {
    /// The number as JSON text, exactly as it was read or canonically formatted.
    public let literal: String

    /// A number from JSON text that the caller has already validated.
    /// - Parameter literal: Text following the JSON number grammar.
    public init(literal: String) {
        self.literal = literal
    }

    /// A number from an integer.
    /// - Parameter value: The integer.
    public init(_ value: Int) {
        self.literal = String(value)
    }

    /// A number from a finite `Double`; integral values are written without a fraction.
    /// - Parameter value: The number; must be finite.
    public init(_ value: Double) {
        if value == value.rounded(), abs(value) < 1e15 {
            self.literal = String(Int(value))
        } else {
            self.literal = value.description
        }
    }

    /// The value as a `Double` (may be infinite for literals out of range).
    public var double: Double {
        Double(literal) ?? .nan
    }

    /// The value as an `Int` when it is integral and fits (`3` and `3.0` both give 3).
    public var int: Int? {
        if let exact = Int(literal) { return exact }
        let value = double
        guard value.isFinite, value == value.rounded(), abs(value) < 9.0e15 else { return nil }
        return Int(value)
    }

    public var description: String { literal }
}

/// A JSON object that keeps its keys in order; a key appears at most once.
public struct JSONObject: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    /// One key and its value.
    public struct Entry: Sendable, Hashable {
        /// The key.
        public var key: String
        /// The value.
        public var value: JSONValue

        /// An entry.
        /// - Parameters:
        ///   - key: The key.
        ///   - value: The value.
        public init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// The entries in order.
    public private(set) var entries: [Entry]

    /// An empty object.
    public init() {
        entries = []
    }

    /// An object from entries whose keys are already unique (no search for a repeated key, as a literal makes).
    /// - Parameter uniqueEntries: The entries, in order; the caller guarantees that no key repeats.
    public init(uniqueEntries: [Entry]) {
        entries = uniqueEntries
    }

    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        entries = []
        entries.reserveCapacity(elements.count)
        for (key, value) in elements { self[key] = value }
    }

    /// The number of keys.
    public var count: Int { entries.count }

    /// Whether the object has no keys.
    public var isEmpty: Bool { entries.isEmpty }

    /// The keys in order.
    public var keys: [String] { entries.map(\.key) }

    /// The value for a key; setting `nil` removes the key, setting a value replaces it in place or appends it.
    public subscript(key: String) -> JSONValue? {
        get {
            for entry in entries where entry.key == key { return entry.value }
            return nil
        }
        set {
            if let index = entries.firstIndex(where: { $0.key == key }) {
                if let newValue { entries[index].value = newValue } else { entries.remove(at: index) }
            } else if let newValue {
                entries.append(Entry(key: key, value: newValue))
            }
        }
    }

    public func makeIterator() -> IndexingIterator<[Entry]> {
        entries.makeIterator()
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        var object = JSONObject()
        for (key, value) in elements { object[key] = value }
        self = .object(object)
    }
}

// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

/// Writes compact JSON as UTF-8 bytes into a growing buffer.
///
/// Strings are written as UTF-8 with only `"`, `\` and control characters escaped; non-finite numbers become `null`.
public struct JSONWriter: Sendable {
    /// The bytes written so far.
    public var bytes: [UInt8]

    /// A writer with an empty buffer.
    /// - Parameter capacity: Bytes to reserve up front.
    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Writes any JSON value.
    /// - Parameter value: The value.
    public mutating func write(_ value: JSONValue) {
        switch value {
        case .null: raw("null")
        case .bool(let flag): raw(flag ? "true" : "false")
        case .number(let number): write(number)
        case .string(let text): write(string: text)
        case .array(let elements):
            bytes.append(UInt8(ascii: "["))
            for (offset, element) in elements.enumerated() {
                if offset > 0 { bytes.append(UInt8(ascii: ",")) }
                write(element)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let object): write(object)
        }
    }

    /// Writes an object.
    /// - Parameter object: The object.
    public mutating func write(_ object: JSONObject) {
        bytes.append(UInt8(ascii: "{"))
        var first = true
        for entry in object {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            write(string: entry.key)
            bytes.append(UInt8(ascii: ":"))
            write(entry.value)
        }
        bytes.append(UInt8(ascii: "}"))
    }

    /// Writes a number literal.
    /// - Parameter number: The number.
    public mutating func write(_ number: JSONNumber) {
        var literal = number.literal
        literal.withUTF8 { bytes.append(contentsOf: $0) }
    }

    /// Writes a `Double`: integral values without a fraction, non-finite values as `null`.
    /// - Parameter value: The number.
    public mutating func write(double value: Double) {
        guard value.isFinite else {
            raw("null")
            return
        }
        if value == value.rounded(), abs(value) < 1e15 {
            write(int: Int(value))
        } else {
            var text = value.description
            text.withUTF8 { bytes.append(contentsOf: $0) }
        }
    }

    /// Writes a non-negative `Double` rounded to three decimals, such as a latency in milliseconds.
    /// - Parameter value: The number.
    public mutating func write(milliseconds value: Double) {
        guard value.isFinite, value >= 0, value < 1e12 else {
            write(double: value)
            return
        }
        let thousandths = Int((value * 1000).rounded())
        write(int: thousandths / 1000)
        let fraction = thousandths % 1000
        if fraction != 0 {
            bytes.append(UInt8(ascii: "."))
            bytes.append(UInt8(ascii: "0") + UInt8(fraction / 100))
            if fraction % 100 != 0 {
                bytes.append(UInt8(ascii: "0") + UInt8(fraction / 10 % 10))
                if fraction % 10 != 0 { bytes.append(UInt8(ascii: "0") + UInt8(fraction % 10)) }
            }
        }
    }

    /// Writes an integer.
    /// - Parameter value: The integer.
    public mutating func write(int value: Int) {
        if value >= 0, value < 10 {
            bytes.append(UInt8(ascii: "0") + UInt8(value))
            return
        }
        var text = String(value)
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    /// Writes a boolean.
    /// - Parameter value: The boolean.
    public mutating func write(bool value: Bool) {
        raw(value ? "true" : "false")
    }

    /// Writes a quoted, escaped string.
    /// - Parameter text: The string.
    public mutating func write(string text: String) {
        var text = text
        text.withUTF8 { utf8 in writeEscaped(utf8) }
    }

    /// Writes `"key":`, for building objects by hand on the hot path.
    /// - Parameter key: A key that needs no escaping.
    public mutating func key(_ key: StaticString) {
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    /// Appends literal JSON text that the caller guarantees is valid.
    /// - Parameter text: The text.
    public mutating func raw(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Appends one byte, such as `{`, `,` or `}`.
    /// - Parameter byte: The byte.
    public mutating func byte(_ byte: UInt8) {
        bytes.append(byte)
    }

    private mutating func writeEscaped(_ utf8: UnsafeBufferPointer<UInt8>) {
        bytes.append(UInt8(ascii: "\""))
        var runStart = 0
        for offset in 0..<utf8.count {
            let byte = utf8[offset]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            if runStart < offset { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<offset])) }
            appendEscape(byte)
            runStart = offset + 1
        }
        if runStart < utf8.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...])) }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func appendEscape(_ byte: UInt8) {
        bytes.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\"))
        case 0x0A: bytes.append(UInt8(ascii: "n"))
        case 0x0D: bytes.append(UInt8(ascii: "r"))
        case 0x09: bytes.append(UInt8(ascii: "t"))
        case 0x08: bytes.append(UInt8(ascii: "b"))
        case 0x0C: bytes.append(UInt8(ascii: "f"))
        default:
            let digits: StaticString = "0123456789abcdef"
            bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
            bytes.append(digits.utf8Start[Int(byte >> 4)])
            bytes.append(digits.utf8Start[Int(byte & 0xF)])
        }
    }
}

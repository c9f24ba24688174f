// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

/// Reads one Unicode scalar from UTF-8 bytes in place (the model parsers and the prose filter work on bytes).
enum UTF8Scalar {
    /// The scalar encoded at a position before `end`, and its length in bytes; `nil` for a malformed or cut sequence.
    @inline(__always)
    static func decode(_ byte: (Int) -> UInt8, at position: Int, end: Int) -> (Unicode.Scalar, Int)? {
        let lead = byte(position)
        if lead < 0x80 { return (Unicode.Scalar(lead), 1) }
        let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
        guard length > 1, position + length <= end else { return nil }
        var value = UInt32(lead) & (0xFF >> (length + 1))
        for offset in 1..<length {
            let next = byte(position + offset)
            guard next & 0xC0 == 0x80 else { return nil }
            value = value << 6 | UInt32(next & 0x3F)
        }
        return Unicode.Scalar(value).map { ($0, length) }
    }
}

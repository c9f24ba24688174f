// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

/// Verbatim copies of the prompt in a response, found and cut out in linear time.
///
/// A response that repeats the prompt must not be paid for the prompt's numbers ("Some say 40, others 42."), so the
/// math verifier cuts every copy out before it looks for the answer. The copies are found byte for byte with
/// Knuth–Morris–Pratt, left to right and not overlapping (what `replacingOccurrences` did): the earlier search was
/// quadratic on periodic text — a prompt of 10,000 `a` and a `b` against a megabyte of `a` took 111 s, a policy's
/// way to stall a batch. Here every byte of the response is looked at a bounded number of times.
enum PromptEcho {
    /// The region with each copy of `prompt` replaced by a line break, or `nil` when it holds none.
    static func removingCopies(of prompt: String, from region: Substring) -> String? {
        let needle = Array(prompt.utf8)
        guard !needle.isEmpty, needle.count <= region.utf8.count else { return nil }
        let haystack = Array(region.utf8)
        let starts = occurrences(of: needle, in: haystack)
        guard !starts.isEmpty else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(haystack.count - starts.count * (needle.count - 1))
        var at = 0
        for start in starts {
            out.append(contentsOf: haystack[at..<start])
            out.append(0x0A)
            at = start + needle.count
        }
        out.append(contentsOf: haystack[at...])
        return String(decoding: out, as: UTF8.self)
    }

    /// The starts of the non-overlapping occurrences of `needle` in `haystack`, left to right.
    static func occurrences(of needle: [UInt8], in haystack: [UInt8]) -> [Int] {
        let m = needle.count
        guard m > 0, m <= haystack.count else { return [] }
        // failure[i]: the length of the longest proper border of needle[0...i].
        var failure = [Int](repeating: 0, count: m)
        var k = 0
        for i in 1..<m {
            while k > 0 && needle[i] != needle[k] { k = failure[k - 1] }
            if needle[i] == needle[k] { k += 1 }
            failure[i] = k
        }
        var starts: [Int] = []
        var j = 0
        for (i, byte) in haystack.enumerated() {
            while j > 0 && byte != needle[j] { j = failure[j - 1] }
            if byte == needle[j] { j += 1 }
            if j == m {
                starts.append(i - m + 1)
                j = 0  // not overlapping: the next copy starts after this one
            }
        }
        return starts
    }
}

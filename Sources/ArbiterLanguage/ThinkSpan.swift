// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore

/// Which part of a response the `language` verifier reads.
enum ThinkSpan: String, CaseIterable {
    /// Everything before the last `</think>` (the think tags themselves are dropped later, with any others); the
    /// whole response when it has no `</think>`. Reading from the start rather than from the first `<think>` means
    /// that reasoning placed before a second, fake `<think>…</think>` is read too.
    case think
    /// What follows the last `</think>`; the whole response when it has no think tag, nothing when the block is
    /// unclosed.
    case answer
    /// The whole response.
    case all

    /// The part of a response this span names.
    /// - Parameters:
    ///   - response: The model output.
    ///   - prompt: The prompt; when it ends with an opened `<think>`, the response is its continuation.
    /// - Returns: The text to read (tags are left for ``ProseFilter``, which drops them).
    func text(of response: String, prompt: String?) -> Substring {
        let whole = response[...]
        let close = response.lastRange(ofMarker: "</think>")
        let continued = prompt.map { $0.trimmingSuffixWhitespace.hasSuffix("<think>") } ?? false
        switch self {
        case .all:
            return whole
        case .think:
            if let close { return response[..<close.lowerBound] }
            return whole
        case .answer:
            if let close { return response[close.upperBound...] }
            if response.firstRange(ofMarker: "<think>") != nil || continued { return "" }
            return whole
        }
    }
}

extension String {
    fileprivate var trimmingSuffixWhitespace: Substring {
        var end = endIndex
        while end > startIndex, self[index(before: end)].isWhitespace { end = index(before: end) }
        return self[..<end]
    }
}

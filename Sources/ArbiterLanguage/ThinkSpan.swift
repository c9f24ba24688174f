// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore

/// Which part of a response the `language` verifier reads.
enum ThinkSpan: String, CaseIterable {
    /// The `<think>` block's content; the whole response when it has no think tag.
    case think
    /// What follows `</think>`; the whole response when it has no think tag, nothing when the block is unclosed.
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
        let open = response.firstRange(ofMarker: "<think>")
        let close = response.firstRange(ofMarker: "</think>", from: open?.upperBound)
        let continued = prompt.map { $0.trimmingSuffixWhitespace.hasSuffix("<think>") } ?? false
        switch self {
        case .all:
            return whole
        case .think:
            if let close { return response[(open?.upperBound ?? response.startIndex)..<close.lowerBound] }
            if let open { return response[open.upperBound...] }
            return whole
        case .answer:
            if let close { return response[close.upperBound...] }
            if open != nil || continued { return "" }
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

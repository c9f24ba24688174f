// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

@testable import ArbiterInstruct

/// Every text of up to `length` scalars over `alphabet` (the empty text first), for tests that compare two forms of
/// a function exhaustively on short texts.
func allTexts(over alphabet: [Unicode.Scalar], upTo length: Int) -> [Scalars] {
    var all: [Scalars] = [[]]
    var layer: [Scalars] = [[]]
    for _ in 0..<length {
        layer = layer.flatMap { text in alphabet.map { text + [$0] } }
        all += layer
    }
    return all
}

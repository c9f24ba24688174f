// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore

/// The 58 constraints of AllenAI's IFBench.
enum IFBenchInstructions {
    static let builders: [(String, InstructionBuilder)] = []
}

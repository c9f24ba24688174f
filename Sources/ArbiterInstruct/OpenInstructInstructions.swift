// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore

/// The 29 training constraints open-instruct adds to IFEval's (its `IFEvalG` registry).
enum OpenInstructInstructions {
    static let builders: [(String, InstructionBuilder)] = []
}

// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore

/// The name `details.method` gives to how a verdict was decided, so that a user who disagrees can see why.
enum VerdictMethod {
    /// Methods of the comparison: `string` (equal normalised text), `text` (plain-text answers), `exact` (exact
    /// rationals, or rational functions at exact points), `rounded` (a decimal correctly rounded), `decimal` (under
    /// `decimal_tolerance`), `exact-symbolic` (closed forms of constants), `symbolic-power` (products of powers too
    /// large to write out), `numeric` (numeric identity testing in complex arithmetic), `numeric-sampling` (on the real
    /// domain, named in `details.domain`), `structure` (sets, tuples, intervals, matrices, equations), `units`.
    static let comparisons: Set<String> = [
        "string", "text", "exact", "rounded", "decimal", "exact-symbolic", "symbolic-power", "numeric", "numeric-sampling",
        "structure", "units",
    ]

    /// The method of a verdict decided before any comparison, by its reason: `extraction` (no answer, a hedge,
    /// several answers, an empty box), `parse` (the answer cannot be read), `budget` (the work ran over a budget).
    static func stage(of reason: String) -> String {
        switch reason {
        case "unparseable": return "parse"
        case "budget": return "budget"
        default: return "extraction"
        }
    }

    /// The verdict with `details.method` set from its reason when no comparison named one.
    static func named(_ verdict: Verdict) -> Verdict {
        guard verdict.details["method"] == nil else { return verdict }
        var named = verdict
        named.details["method"] = .string(stage(of: verdict.reason))
        return named
    }
}

// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The CPU time each stage of one math verification takes, kept only when the environment variable
/// `ARBITER_MATH_PROFILE` is `1` (the speed benchmark sets it): the verdict's details then carry `stages_us`.
///
/// The stages are disjoint and add up to the verification: `reference` (the reference's answer picked out of its
/// text), `extraction` (the response's answer found, hedges and multiple answers checked, units converted),
/// `normalization` (LaTeX rewritten for the parser, both sides), `parsing` (both sides) and `comparison`.
final class StageClock {
    /// Whether stages are timed in this process.
    static let enabled: Bool = {
        guard let value = getenv("ARBITER_MATH_PROFILE") else { return false }
        return String(cString: value) == "1"
    }()

    private var totals: [String: UInt64] = [:]
    private var last = StageClock.now()
    private var nestedSinceLast: UInt64 = 0

    /// The calling thread's CPU time in nanoseconds (not wall time: a busy machine does not move it).
    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }

    /// Runs `body`, counting its time to `stage` and not to the stage that encloses it.
    func measure<Result>(_ stage: String, _ body: () throws -> Result) rethrows -> Result {
        let start = Self.now()
        defer {
            let elapsed = Self.now() &- start
            totals[stage, default: 0] &+= elapsed
            nestedSinceLast &+= elapsed
        }
        return try body()
    }

    /// Counts the time since the previous mark (less what nested measurements took) to `stage`.
    func mark(_ stage: String) {
        let now = Self.now()
        totals[stage, default: 0] &+= (now &- last) &- min(nestedSinceLast, now &- last)
        last = now
        nestedSinceLast = 0
    }

    /// Microseconds per stage, for a verdict's details.
    var summary: JSONValue {
        var object = JSONObject()
        for stage in ["reference", "extraction", "normalization", "parsing", "comparison"] {
            object[stage] = .double(Double(totals[stage, default: 0]) / 1000)
        }
        return .object(object)
    }
}

/// Runs `body`, timed as `stage` when there is a clock.
@inline(__always)
func timed<Result>(_ clock: StageClock?, _ stage: String, _ body: () throws -> Result) rethrows -> Result {
    guard let clock else { return try body() }
    return try clock.measure(stage, body)
}

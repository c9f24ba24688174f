// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

/// A log-bucketed histogram of durations: eight buckets per power of two (about 9 % resolution), constant memory.
public struct LatencyHistogram: Sendable {
    private static let subBuckets = 8
    private var counts = [UInt64](repeating: 0, count: 64 * 8)
    /// How many durations were recorded.
    public private(set) var total: UInt64 = 0
    /// The longest duration recorded, in nanoseconds.
    public private(set) var maximum: UInt64 = 0
    /// The lowest and highest bucket counted since the histogram was last emptied, so that draining a mostly empty
    /// histogram looks at the buckets it used only.
    private var lowest = Int.max
    private var highest = -1

    /// An empty histogram.
    public init() {}

    /// Records one duration.
    /// - Parameter nanoseconds: The duration.
    public mutating func record(nanoseconds: UInt64) {
        let bucket = Self.bucket(nanoseconds)
        counts[bucket] &+= 1
        if bucket < lowest { lowest = bucket }
        if bucket > highest { highest = bucket }
        total &+= 1
        if nanoseconds > maximum { maximum = nanoseconds }
    }

    /// Adds another histogram's counts to this one.
    /// - Parameter other: The histogram to add.
    public mutating func merge(_ other: LatencyHistogram) {
        for index in counts.indices { counts[index] &+= other.counts[index] }
        total &+= other.total
        maximum = max(maximum, other.maximum)
        lowest = min(lowest, other.lowest)
        highest = max(highest, other.highest)
    }

    /// Adds another histogram's counts to this one and empties it, looking only at the buckets it used.
    /// - Parameter other: The histogram to move the counts from.
    mutating func drain(_ other: inout LatencyHistogram) {
        guard other.total > 0, other.lowest <= other.highest else { return }
        for index in other.lowest...other.highest {
            counts[index] &+= other.counts[index]
            other.counts[index] = 0
        }
        total &+= other.total
        maximum = max(maximum, other.maximum)
        lowest = min(lowest, other.lowest)
        highest = max(highest, other.highest)
        other.total = 0
        other.maximum = 0
        other.lowest = .max
        other.highest = -1
    }

    /// The duration below which the given fraction of recorded durations fall, in milliseconds (0 when empty).
    /// - Parameter fraction: A fraction such as 0.5 or 0.99.
    /// - Returns: The percentile, in milliseconds.
    public func percentileMilliseconds(_ fraction: Double) -> Double {
        guard total > 0 else { return 0 }
        let rank = max(1, UInt64((fraction * Double(total)).rounded(.up)))
        var seen: UInt64 = 0
        for (index, count) in counts.enumerated() where count > 0 {
            seen += count
            if seen >= rank { return min(Self.midpoint(of: index), Double(maximum)) / 1e6 }
        }
        return Double(maximum) / 1e6
    }

    private static func bucket(_ value: UInt64) -> Int {
        guard value >= UInt64(subBuckets) else { return Int(value) }
        let exponent = 63 - value.leadingZeroBitCount
        let sub = Int((value >> UInt64(exponent - 3)) & 7)
        return (exponent - 2) * subBuckets + sub
    }

    private static func midpoint(of index: Int) -> Double {
        guard index >= subBuckets else { return Double(index) }
        let exponent = index / subBuckets + 2
        let sub = index % subBuckets
        let low = Double((8 + sub) << (exponent - 3))
        let width = Double(1 << (exponent - 3))
        return low + width / 2
    }
}

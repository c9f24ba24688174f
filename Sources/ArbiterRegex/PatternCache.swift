// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import Synchronization

/// A bounded cache of compiled patterns, keyed by pattern and options; the least recently used is evicted.
///
/// Compilation (and JIT) happens once per distinct pattern, however many requests use it.
public final class PatternCache: Sendable {
    private struct Key: Hashable {
        var pattern: String
        var options: RegexOptions
    }

    private struct State {
        var entries: [Key: (pattern: CompiledPattern, used: UInt64)] = [:]
        var clock: UInt64 = 0
    }

    /// The most patterns kept.
    public let capacity: Int
    private let state = Mutex(State())

    /// A cache.
    /// - Parameter capacity: The most patterns kept (at least 1).
    public init(capacity: Int = 256) {
        self.capacity = max(1, capacity)
    }

    /// The shared cache used by Arbiter's verifiers.
    public static let shared = PatternCache()

    /// The compiled pattern, compiling it on first use.
    /// - Parameters:
    ///   - pattern: The pattern.
    ///   - options: Compile flags.
    /// - Returns: The compiled pattern.
    /// - Throws: ``RegexError`` when it does not compile (failures are not cached).
    public func pattern(_ pattern: String, options: RegexOptions = []) throws(RegexError) -> CompiledPattern {
        let key = Key(pattern: pattern, options: options)
        if let hit = state.withLock({ state -> CompiledPattern? in
            guard let entry = state.entries[key] else { return nil }
            state.clock += 1
            state.entries[key]!.used = state.clock
            return entry.pattern
        }) {
            return hit
        }
        let compiled = try CompiledPattern(pattern, options: options)
        return state.withLock { state in
            if let raced = state.entries[key] { return raced.pattern }
            if state.entries.count >= capacity,
                let oldest = state.entries.min(by: { $0.value.used < $1.value.used })?.key
            {
                state.entries.removeValue(forKey: oldest)
            }
            state.clock += 1
            state.entries[key] = (compiled, state.clock)
            return compiled
        }
    }

    /// How many patterns are cached.
    public var count: Int { state.withLock { $0.entries.count } }
}

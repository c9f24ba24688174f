// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterServer
import Foundation

/// A one-line progress bar on stderr: rows done, rate and ETA, redrawn five times a second.
struct ProgressBar {
    let total: Int?
    let started: Date

    func run(_ stats: ServerStats) async {
        while !Task.isCancelled {
            draw(done: stats.snapshot().requests)
            try? await Task.sleep(for: .milliseconds(200))
        }
        draw(done: stats.snapshot().requests)
        FileHandle.standardError.write(Data("\n".utf8))
    }

    func draw(done: Int) {
        let elapsed = max(Date().timeIntervalSince(started), 0.001)
        let rate = Double(done) / elapsed
        var line = "\r"
        if let total, total > 0 {
            let fraction = min(1, Double(done) / Double(total))
            let filled = Int(fraction * 30)
            line += "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: 30 - filled) + "] "
            line += "\(done)/\(total) rows  \(Int(rate)) rows/s"
            if rate > 0, done < total { line += "  ETA \(Self.clock(Double(total - done) / rate))" }
        } else {
            line += "\(done) rows  \(Int(rate)) rows/s  \(Self.clock(elapsed)) elapsed"
        }
        FileHandle.standardError.write(Data((line + "\u{1B}[K").utf8))
    }

    static func clock(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded())
        let (hours, minutes, secs) = (whole / 3600, whole / 60 % 60, whole % 60)
        let mmss = String(format: "%02d:%02d", minutes, secs)
        return hours > 0 ? "\(hours):\(mmss)" : mmss
    }
}

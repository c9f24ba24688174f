// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation
import Testing

/// The host pids whose command line is exactly `command`.
private func processes(running command: String) -> [String] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.filter { entry in
        guard entry.allSatisfy(\.isNumber), let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline")
        else { return false }
        return String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            .trimmingCharacters(in: .whitespaces) == command
    }
}

@Suite(
    "arbiter serve --drain-timeout: a code run still going at the drain's end", .serialized, .timeLimit(.minutes(2)),
    .enabled(
        if: geteuid() == 0 || ProcessInfo.processInfo.environment["ARBITER_REQUIRE_ALL_TESTS"] == "1",
        "needs root (the code sandbox's cgroup slots)"))
struct CodeDrainTests {
    @Test("SIGTERM while a program sleeps 600 s: answered 'cancelled', its processes killed, the daemon exits 0")
    func sleepingRunIsKilled() throws {
        let marker = String(UInt32.random(in: 100_000...999_999))
        let command = "sleep 600.\(marker)"
        let program = "import subprocess\nsubprocess.run(['sleep', '600.\(marker)'])\nprint('ok')"
        let line: JSONValue = [
            "id": 7, "verifier": "code", "response": .string("```python\n\(program)\n```"),
            "reference": ["tests": [["stdin": "", "stdout": "ok"]]],
            "options": ["time_limit_s": 300, "wall_time_limit_s": 3600],
        ]
        let daemon = try LiveArbiter(["serve", "--drain-timeout", "1", "--log-level", "error"])
        try daemon.send(line.jsonText + "\n")
        var started = false
        for _ in 0..<1200 where !started {
            started = !processes(running: command).isEmpty
            if !started { usleep(50_000) }
        }
        #expect(started, "the program never started its sleep; stderr: \(daemon.errors)")
        // Negative control: past the drain time but without a stop, the run goes on and nothing is answered.
        usleep(1_500_000)
        #expect(!processes(running: command).isEmpty)
        #expect(daemon.lines.isEmpty)
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit(seconds: 60) == 0, "stderr: \(daemon.errors)")
        let answer = try #require(daemon.lines.first.flatMap { try? JSONParser.parse($0).objectValue })
        #expect(answer["id"] == .int(7))
        #expect(answer["error"]?.objectValue?["code"]?.stringValue == "cancelled", "\(answer)")
        #expect(processes(running: command).isEmpty, "a process of the cancelled run outlived the daemon")
    }
}

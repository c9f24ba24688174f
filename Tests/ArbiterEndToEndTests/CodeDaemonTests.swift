// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation
import Testing

/// The `code` verifier through the real daemon: hostile programs in parallel, then a normal request.
@Suite("code through arbiter serve", .timeLimit(.minutes(1)))
struct CodeDaemonTests {
    func request(_ id: Int, _ program: String, _ options: JSONObject = [:]) -> String {
        let line: JSONValue = [
            "id": .int(id), "verifier": "code", "response": .string("```python\n\(program)\n```"),
            "reference": ["tests": [["stdin": "", "stdout": "ok"]]], "options": .object(options),
        ]
        return line.jsonText
    }

    @Test("the daemon survives fork bombs, floods, memory hogs and attempts to kill it, and answers every line")
    func survives() throws {
        let hostile = [
            "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nos.kill(1, signal.SIGKILL)\nprint('ok')",
            "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass",
            "x = 'a' * (8 << 30)",
            "while True:\n    print('x' * 4096)",
            "import subprocess\nsubprocess.Popen(['sleep', '1000'], start_new_session=True)\nprint('ok')",
            "import os\nos.kill(-1, 9)\nprint('ok')",
        ]
        var lines = hostile.enumerated().map { request($0.offset, $0.element, ["time_limit_s": 2, "memory_mb": 128]) }
        lines.append(request(99, "print('ok')"))
        let result = try runArbiter(
            ["serve", "--jobs", "2", "--ordered", "--log-level", "error"], input: Data((lines.joined(separator: "\n") + "\n").utf8))
        #expect(result.status == 0, "\(result.stderrText)")
        let answers = result.stdoutLines.compactMap { try? JSONParser.parse($0).objectValue }
        #expect(answers.count == lines.count)
        #expect(answers.last?["id"] == .int(99) && answers.last?["passed"] == .bool(true))
        #expect(answers.allSatisfy { $0["error"] == nil })
    }

    @Test("arbiter list names the isolation in force")
    func listNamesIsolation() throws {
        let result = try runArbiter(["list"])
        #expect(result.status == 0)
        #expect(String(decoding: result.stdout, as: UTF8.self).contains("Isolation: namespaces"))
    }
}

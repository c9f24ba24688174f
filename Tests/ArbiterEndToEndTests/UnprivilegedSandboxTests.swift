// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation
import Testing

/// The code sandbox of a daemon that is not root: each run in a user namespace of its own, as the daemon's uid.
/// As root the test runs `arbiter check` as uid 65534 (`setpriv`), so that CI, which is root, runs it too.
@Suite("code: the unprivileged sandbox, end to end")
struct UnprivilegedSandboxTests {
    /// `arbiter check` as an ordinary user: this user when the tests are not root, else uid/gid 65534.
    func checkAsOrdinaryUser(_ program: String, expected: String) throws -> (JSONObject, uid: UInt32) {
        let reference = #"{"language":"python","tests":[{"stdin":"","stdout":"\#(expected)\n"}]}"#
        let arguments = ["check", "--verifier", "code", "--reference-json", reference, "--json", program]
        let process = Process()
        let uid: UInt32
        if geteuid() == 0 {
            uid = 65534
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", Paths.binary.path] + arguments
        } else {
            uid = getuid()
            process.executableURL = Paths.binary
            process.arguments = arguments
        }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (try #require(try JSONParser.parse(Array(data)).objectValue), uid)
    }

    @Test("runs are isolated by a user namespace and keep the daemon's (non-zero) uid",
        .enabled(if: geteuid() != 0 || FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"),
            "as root this test needs setpriv (util-linux) to run the daemon as an ordinary user"))
    func userNamespace() throws {
        let probe = "```python\nimport os\nprint(os.getuid())\n```"
        let (verdict, uid) = try checkAsOrdinaryUser(probe, expected: "\(geteuid() == 0 ? 65534 : getuid())")
        let details = verdict["details"]?.objectValue ?? [:]
        let sandbox = details["sandbox"]?.stringValue ?? ""
        #expect(verdict["passed"] == true, "the program runs as uid \(uid), not as root: \(verdict)")
        #expect(sandbox.contains("+user"), "a user namespace of the run's own: \(sandbox)")
        #expect(sandbox.contains("DEGRADED") && sandbox.contains("no cgroups"), "what an ordinary user lacks is named")
        // Negative control: the same check expecting root's uid fails — the program is really not root.
        let (asRoot, _) = try checkAsOrdinaryUser(probe, expected: "0")
        #expect(asRoot["passed"] == false && asRoot["reason"] == "wrong_answer")
    }
}

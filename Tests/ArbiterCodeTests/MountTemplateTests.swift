// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

@testable import ArbiterCode
import ArbiterCore
import Foundation
import Synchronization
import Testing

/// As root, a run copies its slot's mount template (the minimal root, made once per slot) instead of building its
/// root; what the program sees must be what a built root shows, and nothing one run mounts or writes may reach the
/// template or the next run.
@Suite("code: mount templates", .serialized, .timeLimit(.minutes(2)))
struct MountTemplateTests {
    /// Prints the run's mounts (mount point and first option, the work directory's path replaced by WORK), its
    /// root's entries, and what writing outside the work directory does; leaves a file in the work directory, in
    /// /dev/shm and tries /tmp.
    let viewer = """
        import os
        work = os.getcwd()
        for line in open("/proc/self/mountinfo"):
            fields = line.split()
            print(fields[4].replace(work, "WORK"), fields[5].split(",")[0], fields[fields.index("-") + 1])
        print(sorted(os.listdir("/")), sorted(os.listdir("/dev")), sorted(os.listdir("/dev/shm")), os.listdir("."))
        for path in ("../left", "/tmp/left", "/left", "/usr/left"):
            try:
                open(path, "w")
                print(path, "written")
            except OSError as error:
                print(path, error.strerror)
        open("left", "w").write("1")
        open("/dev/shm/left", "w").write("1")
        """

    func view(_ sandbox: Sandbox) async throws -> [String] {
        let work = try sandbox.makeWorkDirectory()
        defer { sandbox.removeWorkDirectory(work) }
        try Data(viewer.utf8).write(to: URL(fileURLWithPath: work + "/main.py"))
        let limits = RunLimits(
            wallSeconds: 20, cpuSeconds: 10, memoryBytes: 256 << 20, processes: 16, fileBytes: 1 << 20, openFiles: 64,
            stackBytes: 8 << 20, outputBytes: 1 << 20)
        let outcome = try await sandbox.run(
            executable: "/usr/bin/python3", arguments: ["python3", "-I", "-S", "main.py"],
            environment: ["PATH=/usr/bin:/bin", "HOME=\(work)"], workDirectory: work, limits: limits)
        #expect(outcome.exitCode == 0, "\(String(decoding: outcome.stderr, as: UTF8.self))")
        return String(decoding: outcome.stdout, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    @Test(
        "runs copy the slot's template; the program sees what a built root shows, plus a read-only parent",
        .enabled(if: rootTestsRun && isolatedTestsRun, "needs root (mount templates are made only by a root daemon)"))
    func sameView() async throws {
        let templated = Sandbox(isolation: .current)
        let built = Sandbox(isolation: .current, mountTemplates: false)
        let first = try await runView(templated)
        let second = try await runView(templated)
        let control = try await runView(built)
        #expect(templated.runsFromMountTemplates.load(ordering: .relaxed) == 2)
        #expect(built.runsFromMountTemplates.load(ordering: .relaxed) == 0, "control: no template")
        // The same mounts, in another order, plus the template's read-only tmpfs on the work directory's parent.
        let parent = first.mounts.filter { !control.mounts.contains($0) }
        #expect(parent.count == 1 && parent[0].hasSuffix(" ro tmpfs"), "\(first.mounts) vs \(control.mounts)")
        #expect(Set(first.mounts.filter { $0 != parent.first }) == Set(control.mounts))
        // The same files, and nothing of the first run in the second: its work directory, /dev/shm and the parent
        // hold only what the run wrote itself.
        #expect(first.rest == control.rest && second.rest == control.rest, "\(first.rest) vs \(control.rest)")
        #expect(first.rest.contains("../left Read-only file system") && first.rest.contains("/usr/left Read-only file system"))
    }

    struct View {
        var mounts: [String]
        var rest: [String]
    }

    func runView(_ sandbox: Sandbox) async throws -> View {
        let printed = try await view(sandbox)
        let mounts = printed.prefix { $0.split(separator: " ").count == 3 && !$0.hasPrefix("[") }
        return View(mounts: Array(mounts), rest: Array(printed.dropFirst(mounts.count)))
    }
}

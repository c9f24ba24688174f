// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

@testable import ArbiterCode
import ArbiterCore
import Foundation
import Testing

/// Where each run has a tmpfs of its own, a session that compiles nothing keeps its work directory in memory: the
/// run's init writes the files into the run's tmpfs, and nothing is made on the host. The program must see exactly
/// what a run from a host directory sees.
@Suite("code: work directories in memory", .timeLimit(.minutes(2)))
struct MemoryWorkDirectoryTests {
    /// Prints the work directory's entries with their mode, owner and size, and the program's own file's first line.
    let lister = """
        import os
        for name in sorted(os.listdir(".")):
            info = os.lstat(name)
            print(name, oct(info.st_mode), info.st_uid, info.st_gid, info.st_size)
        print(open("data.txt").read())
        open("written", "w").write("ok")
        print(os.listdir("."))
        """

    let limits = RunLimits(
        wallSeconds: 20, cpuSeconds: 10, memoryBytes: 256 << 20, processes: 16, fileBytes: 1 << 20, openFiles: 64,
        stackBytes: 8 << 20, outputBytes: 1 << 20)

    func run(_ sandbox: Sandbox, work: String, memoryFiles: [(name: String, bytes: [UInt8])]?) async throws -> String {
        let outcome = try await sandbox.run(
            executable: "/usr/bin/python3", arguments: ["python3", "-I", "-S", "main.py"],
            environment: ["PATH=/usr/bin:/bin", "HOME=\(work)"], workDirectory: work, limits: limits,
            memoryFiles: memoryFiles)
        #expect(outcome.exitCode == 0, "\(String(decoding: outcome.stderr, as: UTF8.self))")
        return String(decoding: outcome.stdout, as: UTF8.self)
    }

    @Test(
        "a run from memory sees the files, modes and owners a run from a host directory sees; no host directory exists",
        .enabled(if: isolatedTestsRun, "needs the sandbox's namespaces (a tmpfs work directory per run)"))
    func sameView() async throws {
        let sandbox = Sandbox(isolation: .current)
        #expect(sandbox.keepsWorkInMemory)
        let files: [(name: String, bytes: [UInt8])] = [
            ("main.py", Array(lister.utf8)), ("data.txt", Array("hello".utf8)),
        ]
        let work = try sandbox.reserveWorkDirectory()
        let fromMemory = try await run(sandbox, work: work, memoryFiles: files)
        #expect(access(work, F_OK) != 0, "nothing was made on the host")
        // Control: the same files in a directory made on the host, copied in by init as before.
        let host = try sandbox.makeWorkDirectory()
        defer { sandbox.removeWorkDirectory(host) }
        for file in files { try Data(file.bytes).write(to: URL(fileURLWithPath: host + "/" + file.name)) }
        chmod(host + "/main.py", 0o644)
        chmod(host + "/data.txt", 0o644)
        let fromHost = try await run(sandbox, work: host, memoryFiles: nil)
        #expect(access(host, F_OK) == 0, "control: the host directory exists")
        #expect(fromMemory == fromHost)
        #expect(fromMemory.contains("hello") && fromMemory.contains("'written'"), "\(fromMemory)")
        #expect(!FileManager.default.fileExists(atPath: host + "/written"), "a run's writes stay in its tmpfs")
    }

    @Test(
        "a session that compiles nothing makes no host directory; one that must (materialize) writes its files there",
        .enabled(if: isolatedTestsRun, "needs the sandbox's namespaces (a tmpfs work directory per run)"))
    func sessionDirectory() throws {
        let sandbox = Sandbox(isolation: .current)
        let toolchain = try #require(ToolchainSet(directory: repository.appendingPathComponent("verifiers/toolchains"))
            .toolchain(for: "python"))
        let configuration = try CodeVerifier.Configuration(
            options: OptionValues([:], specs: CodeVerifier.Configuration.options, verifier: "code"))
        let session = try RunSession(
            toolchain: toolchain, configuration: configuration, sandbox: sandbox, code: "print(1)\n")
        #expect(access(session.workDirectory, F_OK) != 0, "in memory: no host directory")
        // Control: a session that needs its directory on the host (a compiler's run) has it, with its files.
        try session.materialize()
        let written = FileManager.default.contents(atPath: session.workDirectory + "/" + toolchain.source)
        #expect(written == Data("print(1)\n".utf8))
        session.close()
        #expect(access(session.workDirectory, F_OK) != 0, "removed at the end")
    }
}

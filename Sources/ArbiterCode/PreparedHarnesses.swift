// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation
import Synchronization

/// Files prepared once per daemon: the bytes of each toolchain's ``Harness/preparedFile`` (Python's marshalled
/// harness) and ``TestTemplate/preparedFile`` (the C/C++ wrapper's object).
final class PreparedHarnesses: Sendable {
    private let entries = Mutex<[String: Task<[UInt8]?, Never>]>([:])

    /// The prepared file of a toolchain's harness, prepared on first use (concurrent callers wait for the one
    /// preparation); `nil` when the toolchain prepares nothing or its preparation failed (runs then use the plain
    /// harness).
    func file(for toolchain: Toolchain, in sandbox: Sandbox) async -> [UInt8]? {
        guard let harness = toolchain.harness, let prepare = harness.prepare, let output = harness.preparedFile else {
            return nil
        }
        return await file(output, by: prepare, from: (harness.file, harness.code), toolchain, sandbox)
    }

    /// The prepared object of a toolchain's C/C++ test wrapper, as ``file(for:in:)``.
    func wrapper(for toolchain: Toolchain, in sandbox: Sandbox) async -> [UInt8]? {
        guard let template = toolchain.testTemplate, let prepare = template.prepare,
            let output = template.preparedFile
        else { return nil }
        return await file(output, by: prepare, from: (template.file, template.code), toolchain, sandbox)
    }

    private func file(
        _ output: String, by prepare: [String], from source: (file: String, code: String), _ toolchain: Toolchain,
        _ sandbox: Sandbox
    ) async -> [UInt8]? {
        let key = ([toolchain.name, toolchain.interpreter ?? "", source.file, source.code, output] + prepare)
            .joined(separator: "\u{0}")
        let task = entries.withLock { entries in
            if let existing = entries[key] { return existing }
            let task = Task {
                await Self.prepare(source, command: toolchain.command(prepare), output: output, toolchain, sandbox)
            }
            entries[key] = task
            return task
        }
        return await task.value
    }

    private static func prepare(
        _ source: (file: String, code: String), command: [String], output: String, _ toolchain: Toolchain,
        _ sandbox: Sandbox
    ) async -> [UInt8]? {
        guard let directory = try? sandbox.makeWorkDirectory() else { return nil }
        defer { sandbox.removeWorkDirectory(directory) }
        guard FileManager.default.createFile(
            atPath: directory + "/" + source.file, contents: Data(source.code.utf8),
            attributes: [.posixPermissions: 0o644])
        else { return nil }
        let environment = RunSession.environment(workDirectory: directory, toolchain: toolchain)
        let limits = RunLimits(
            wallSeconds: max(30, toolchain.compileSeconds), cpuSeconds: max(30, toolchain.compileSeconds),
            memoryBytes: max(512, toolchain.compileMemoryMB) << 20, processes: max(32, toolchain.minimumProcesses),
            fileBytes: 64 << 20, openFiles: 256, stackBytes: 64 << 20, outputBytes: 64 << 10)
        let outcome = try? await sandbox.run(
            executable: command[0], arguments: command, environment: environment, workDirectory: directory,
            visible: toolchain.visible, limits: limits, exportFiles: true)
        guard let outcome, outcome.exitCode == 0, !outcome.timedOut, !outcome.outputExceeded, !outcome.outOfMemory,
            let data = FileManager.default.contents(atPath: directory + "/" + output), !data.isEmpty
        else { return nil }
        return [UInt8](data)
    }
}

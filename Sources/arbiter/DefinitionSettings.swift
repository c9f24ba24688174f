// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCode
import ArbiterCore
import ArbiterPlugins
import ArgumentParser
import Foundation
import Logging

/// Where verifier definitions are read from and whether `code` may run unisolated: the values of
/// ``DefinitionOptions``, also filled by the `serve` fast path (``ServeSettings``).
struct DefinitionSettings: Equatable {
    /// `--verifiers`, if given.
    var verifiers: String?
    /// `--allow-degraded-isolation`.
    var allowDegradedIsolation = false

    /// The directory to read, if any: `--verifiers`, else `$ARBITER_VERIFIERS`, else `./verifiers` when it exists,
    /// else the checkout's (``checkoutVerifiers``).
    var directory: URL? {
        if let verifiers { return URL(fileURLWithPath: verifiers) }
        // One variable read, not the whole environment copied into a dictionary.
        if let value = getenv("ARBITER_VERIFIERS"), value.pointee != 0 {
            return URL(fileURLWithPath: String(cString: value))
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: "verifiers", isDirectory: &isDirectory), isDirectory.boolValue {
            return URL(fileURLWithPath: "verifiers", isDirectory: true)  // known to be one: no second look
        }
        return Self.checkoutVerifiers
    }

    /// The `verifiers/` of the checkout this binary was built in (`.build/<triple>/<config>/arbiter`), so that a
    /// trainer starting the daemon from another directory still gets the shipped recipes and plugins.
    static var checkoutVerifiers: URL? {
        // On path strings with `realpath` and `stat`: Foundation's symlink resolution and URL edits were about 3 % of
        // the daemon's start. The same steps: the executable's directory, then up to four parents (the parent of `/`
        // is `/..`, as `deletingLastPathComponent` makes it), each holding `Package.swift` and a directory `verifiers`.
        guard let resolved = realpath("/proc/self/exe", nil) else { return nil }
        var directory = parentPath(String(cString: resolved))
        free(resolved)
        func exists(_ path: String, directory: Bool) -> Bool {
            var status = stat()
            guard stat(path, &status) == 0 else { return false }
            return !directory || status.st_mode & 0o170000 == 0o040000  // S_IFMT, S_IFDIR
        }
        for _ in 0..<4 {
            directory = parentPath(directory)
            let base = directory == "/" ? "" : directory
            if exists(base + "/Package.swift", directory: false), exists(base + "/verifiers", directory: true) {
                return URL(fileURLWithPath: base + "/verifiers", isDirectory: true)
            }
        }
        return nil
    }

    /// The directory holding `path` (absolute, without a trailing slash); `/..` above `/` and above itself.
    static func parentPath(_ path: String) -> String {
        if path == "/" { return "/.." }
        if path.hasSuffix("/..") { return path + "/.." }
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The built-in verifiers plus the definitions, and the plugin processes they may start.
    /// - Parameters:
    ///   - report: Called with each definition file that was skipped.
    ///   - describeCode: Name `code`'s languages and isolation in its summary (`arbiter list`): probes the host now.
    /// - Throws: `ValidationError` when a definition problem is fatal (a cycle of recipes or definitions).
    func load(report: (DefinitionProblem) -> Void, describeCode: Bool = false) throws -> LoadedVerifiers {
        // Looked up once: each lookup reads the environment and the file system (and resolves the executable).
        let directory = self.directory
        var registry = Verifiers.builtin(
            verifiers: directory, allowDegradedIsolation: allowDegradedIsolation, describeCode: describeCode)
        let plugins = ProcessPlugins()
        guard let directory else { return LoadedVerifiers(registry: registry, plugins: plugins) }
        let problems = VerifierDefinitions.load(from: directory, into: &registry, kinds: [.recipe, plugins.kind])
        for problem in problems where !problem.isFatal { report(problem) }
        let fatal = problems.filter(\.isFatal)
        if !fatal.isEmpty {
            throw ValidationError(
                "verifier definitions: " + fatal.map(\.description).joined(separator: "; "))
        }
        return LoadedVerifiers(registry: registry, plugins: plugins)
    }

    /// The same, logging each skipped definition as a warning.
    func load(logger: Logger) throws -> LoadedVerifiers {
        if allowDegradedIsolation, !Isolation.current.isolated {
            logger.warning(
                "code runs programs WITHOUT isolation (--allow-degraded-isolation)",
                metadata: ["missing": "\(Isolation.current.missing.joined(separator: "; "))"])
        }
        return try load { problem in
            logger.warning(
                "skipped a verifier definition", metadata: ["path": "\(problem.path)", "reason": "\(problem.reason)"])
        }
    }
}

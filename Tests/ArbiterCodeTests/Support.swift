// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCode
import ArbiterCore
import Foundation
import Testing

let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

let registry: VerifierRegistry = {
    var registry = VerifierRegistry.builtin
    registry.registerCodeVerifiers(verifiersDirectory: repository.appendingPathComponent("verifiers"), sandbox: .shared)
    return registry
}()

/// Runs `code` with options on a response and reference.
func judge(_ response: String, _ reference: JSONValue, _ options: JSONObject = [:]) async throws -> Verdict {
    let verifier = try registry.entry(named: "code").verifier(options: options)
    return try await verifier.verify(Sample(response: response, reference: reference))
}

/// A `code` verifier with default options on the toolchains of a directory, in a sandbox of its own.
func codeVerifier(toolchains directory: URL, isolation: Isolation = .current, forkServers: Bool = true) throws
    -> CodeVerifier
{
    CodeVerifier(
        configuration: try CodeVerifier.Configuration(
            options: OptionValues([:], specs: CodeVerifier.Configuration.options, verifier: "code")),
        toolchains: ToolchainSet(directory: directory), sandbox: Sandbox(isolation: isolation, forkServers: forkServers),
        allowDegradedIsolation: !isolation.isolated)
}

/// `ARBITER_REQUIRE_ALL_TESTS=1` (CI, as root): tests that need a privilege run, and fail, instead of being skipped.
let requireAllTests = ProcessInfo.processInfo.environment["ARBITER_REQUIRE_ALL_TESTS"] == "1"

/// Whether tests that need root (the user switch, cgroups) run: as root, or when every test must run.
let rootTestsRun = geteuid() == 0 || requireAllTests

/// Whether tests that need the sandbox's namespaces run: when this host isolates runs, or when every test must run.
let isolatedTestsRun = Isolation.current.isolated || requireAllTests

/// A response holding one fenced block.
func fenced(_ code: String, _ language: String = "python") -> String {
    "Here is my solution.\n```\(language)\n\(code)\n```\n"
}

/// The statuses of a verdict's cases.
func statuses(_ verdict: Verdict) -> [String] {
    verdict.details["cases"]?.arrayValue?.compactMap { $0.objectValue?["status"]?.stringValue } ?? []
}

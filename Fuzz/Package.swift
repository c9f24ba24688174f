// swift-tools-version: 6.1
// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import PackageDescription

// libFuzzer harnesses for every entry point model text or a request line reaches, kept out of the main package so
// that its build is untouched. Build and run with `scripts/fuzz` (it passes `--sanitize=fuzzer --sanitize=address`).
let package = Package(
    name: "ArbiterFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "Arbiter", path: "../")],
    targets: [
        .executableTarget(
            name: "arbiter-fuzz",
            dependencies: [
                .product(name: "ArbiterCore", package: "Arbiter"),
                .product(name: "ArbiterServer", package: "Arbiter"),
                .product(name: "ArbiterFormat", package: "Arbiter"),
                .product(name: "ArbiterMath", package: "Arbiter"),
                .product(name: "ArbiterInstruct", package: "Arbiter"),
                .product(name: "ArbiterLanguage", package: "Arbiter"),
            ],
            // libFuzzer supplies `main`; the harness only defines `LLVMFuzzerTestOneInput`.
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        )
    ]
)

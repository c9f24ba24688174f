// swift-tools-version: 6.1
// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import PackageDescription

// Micro-benchmarks of Arbiter's layers, kept out of the main package so that CI does not build them.
// Run: swift run -c release --package-path Benchmarks micro
let package = Package(
    name: "ArbiterBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "Arbiter", path: "../")],
    targets: [
        .executableTarget(
            name: "micro",
            dependencies: [
                .product(name: "ArbiterCore", package: "Arbiter"),
                .product(name: "ArbiterRegex", package: "Arbiter"),
                .product(name: "ArbiterFormat", package: "Arbiter"),
            ]
        )
    ]
)

// swift-tools-version: 6.1
// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import PackageDescription

let upcoming: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Arbiter",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "arbiter", targets: ["arbiter"]),
        .library(name: "ArbiterCore", targets: ["ArbiterCore"]),
        .library(name: "ArbiterServer", targets: ["ArbiterServer"]),
        .library(name: "ArbiterRegex", targets: ["ArbiterRegex"]),
        .library(name: "ArbiterFormat", targets: ["ArbiterFormat"]),
        .library(name: "ArbiterMath", targets: ["ArbiterMath"]),
        .library(name: "ArbiterPlugins", targets: ["ArbiterPlugins"]),
        .library(name: "ArbiterLanguage", targets: ["ArbiterLanguage"]),
        .library(name: "ArbiterCode", targets: ["ArbiterCode"]),
        .library(name: "ArbiterInstruct", targets: ["ArbiterInstruct"]),
        .library(name: "ArbiterThreads", targets: ["ArbiterThreads"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/attaswift/BigInt", from: "6.0.1"),
    ],
    targets: [
        .target(
            name: "ArbiterCore",
            swiftSettings: upcoming
        ),
        // Blocking threads (named, with their own stack size), a monitor and a small pool, for the work that must
        // never run on the cooperative pool.
        .target(name: "CArbiterThreads"),
        .target(
            name: "ArbiterThreads",
            dependencies: ["ArbiterCore", "CArbiterThreads", .product(name: "DequeModule", package: "swift-collections")],
            swiftSettings: upcoming
        ),
        .systemLibrary(
            name: "CPCRE2",
            pkgConfig: "libpcre2-8",
            providers: [.apt(["libpcre2-dev"])]
        ),
        .target(
            name: "ArbiterRegex",
            dependencies: ["CPCRE2"],
            swiftSettings: upcoming
        ),
        .target(
            name: "ArbiterFormat",
            dependencies: ["ArbiterCore", "ArbiterRegex"],
            swiftSettings: upcoming
        ),
        .target(
            name: "ArbiterMath",
            dependencies: ["ArbiterCore", .product(name: "BigInt", package: "BigInt")],
            swiftSettings: upcoming
        ),
        .target(name: "CProcessSpawn"),
        .target(
            name: "ArbiterPlugins",
            dependencies: ["ArbiterCore", "ArbiterThreads", "CProcessSpawn"],
            swiftSettings: upcoming
        ),
        .target(
            name: "ArbiterLanguage",
            dependencies: ["ArbiterCore"],
            swiftSettings: upcoming
        ),
        .target(
            name: "ArbiterInstruct",
            dependencies: ["ArbiterCore", "ArbiterRegex", "ArbiterLanguage"],
            swiftSettings: upcoming
        ),
        .target(name: "CArbiterSandbox"),
        .target(
            name: "ArbiterCode",
            dependencies: ["ArbiterCore", "ArbiterThreads", "CArbiterSandbox"],
            swiftSettings: upcoming
        ),
        .target(
            name: "ArbiterServer",
            dependencies: [
                "ArbiterCore",
                "ArbiterThreads",
                "CProcessSpawn",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: upcoming
        ),
        .executableTarget(
            name: "arbiter",
            dependencies: [
                "ArbiterCore",
                "ArbiterServer",
                "ArbiterFormat",
                "ArbiterMath",
                "ArbiterPlugins",
                "ArbiterLanguage",
                "ArbiterCode",
                "ArbiterInstruct",
                "ArbiterRegex",
                "ArbiterThreads",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "ArbiterCoreTests",
            dependencies: ["ArbiterCore"],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "ArbiterThreadsTests",
            dependencies: ["ArbiterCore", "ArbiterThreads"],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "ArbiterRegexTests",
            dependencies: ["ArbiterRegex"],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "ArbiterFormatTests",
            dependencies: ["ArbiterCore", "ArbiterFormat", "ArbiterRegex"],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "ArbiterMathTests",
            dependencies: ["ArbiterCore", "ArbiterMath"],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "ArbiterPluginsTests",
            dependencies: ["ArbiterCore", "ArbiterPlugins"],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "ArbiterLanguageTests",
            dependencies: ["ArbiterCore", "ArbiterLanguage"],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "ArbiterInstructTests",
            dependencies: ["ArbiterCore", "ArbiterInstruct", "ArbiterRegex"],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "ArbiterCodeTests",
            dependencies: ["ArbiterCore", "ArbiterCode", "ArbiterThreads"],
            swiftSettings: upcoming
        ),
        // The server's own pieces, in process: codec, scheduling, fairness, drain.
        .testTarget(
            name: "ArbiterServerTests",
            dependencies: ["ArbiterCore", "ArbiterServer", "ArbiterThreads"],
            swiftSettings: upcoming
        ),
        // The `arbiter` command run as a process: serve over pipes and sockets, signals, grade, check, plugins.
        .testTarget(
            name: "ArbiterEndToEndTests",
            dependencies: ["ArbiterCore", "arbiter"],
            swiftSettings: upcoming
        ),
    ]
)

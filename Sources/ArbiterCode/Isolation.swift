// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import CArbiterSandbox
import Foundation

/// The isolation mechanisms this host offers to the code runner, probed once per process.
///
/// When the daemon runs as root, each run gets fresh PID, network, mount, IPC and UTS namespaces, a minimal
/// read-only root (/usr, /etc, /dev and its toolchain's directories) with its work directory the only writable place, the unprivileged user `nobody` (65534), its own memory and pids
/// cgroups (v1) and rlimits. What is missing is listed in ``missing`` and shown in every verdict and in
/// `arbiter list`: the runner degrades visibly, never silently.
public struct Isolation: Sendable {
    /// Namespaces each run gets: `pid`, `net`, `mount`, `ipc`, `uts`.
    public var namespaces: [String]
    /// The user and group programs run as, when the daemon can switch.
    public var user: (uid: Int32, gid: Int32)?
    /// Whether the run sees a minimal root (/usr, /etc, /dev, its toolchain's directories, its /proc and its work
    /// directory), read-only except the work directory.
    public var readOnlyRoot: Bool
    /// A network namespace every run joins (empty, its loopback down), instead of a new one per run.
    public var sharedNetwork: SharedNetworkNamespace?
    /// The memory cgroup directory (v1) under which each run gets its own group, if writable.
    public var memoryCgroup: String?
    /// The pids cgroup directory (v1) under which each run gets its own group, if writable.
    public var pidsCgroup: String?
    /// The mechanisms that are missing here, in words.
    public var missing: [String]

    /// The ``ARB_NS_PID``-style flags for the C launcher.
    var namespaceFlags: Int32 {
        var flags: Int32 = 0
        for name in namespaces {
            switch name {
            case "pid": flags |= Int32(ARB_NS_PID)
            case "net": flags |= Int32(ARB_NS_NET)
            case "mount": flags |= Int32(ARB_NS_MOUNT)
            case "ipc": flags |= Int32(ARB_NS_IPC)
            case "uts": flags |= Int32(ARB_NS_UTS)
            default: break
            }
        }
        return flags
    }

    /// The isolation of this process, probed on first use.
    public static let current = Isolation.probe()

    /// One line for `arbiter list`.
    public var summary: String {
        var parts: [String] = []
        if !namespaces.isEmpty { parts.append("namespaces " + namespaces.joined(separator: "+")) }
        if namespaces.contains("net") {
            parts.append(sharedNetwork == nil ? "a network namespace per run" : "one empty network namespace")
        }
        if let user { parts.append("uid \(user.uid)") }
        if readOnlyRoot { parts.append("minimal read-only root") }
        var groups: [String] = []
        if memoryCgroup != nil { groups.append("memory") }
        if pidsCgroup != nil { groups.append("pids") }
        if !groups.isEmpty { parts.append("cgroups " + groups.joined(separator: "+")) }
        parts.append("rlimits")
        var text = "isolation: " + parts.joined(separator: ", ")
        if !missing.isEmpty { text += "; DEGRADED: " + missing.joined(separator: "; ") }
        return text
    }

    /// The isolation as JSON, for verdict details.
    public var jsonObject: JSONObject {
        var object: JSONObject = [
            "namespaces": .array(namespaces.map(JSONValue.string)),
            "read_only_root": .bool(readOnlyRoot),
            "cgroups": .array(
                [memoryCgroup.map { _ in "memory" }, pidsCgroup.map { _ in "pids" }].compactMap { $0 }.map(
                    JSONValue.string)),
            "rlimits": .array(["cpu", "fsize", "nofile", "nproc", "core", "stack"].map(JSONValue.string)),
        ]
        object["uid"] = user.map { .int(Int($0.uid)) } ?? .null
        if !missing.isEmpty { object["degraded"] = .array(missing.map(JSONValue.string)) }
        return object
    }

    static func probe() -> Isolation {
        var isolation = Isolation(
            namespaces: [], user: nil, readOnlyRoot: false, sharedNetwork: nil, memoryCgroup: nil, pidsCgroup: nil,
            missing: [])
        guard geteuid() == 0 else {
            isolation.missing.append(
                "not root: no namespaces (network, PID, mounts), no user switch, no cgroups; programs run as the "
                    + "daemon's user with rlimits and a process group only")
            return isolation
        }
        let all = Int32(ARB_NS_PID | ARB_NS_NET | ARB_NS_MOUNT | ARB_NS_IPC | ARB_NS_UTS)
        let error = arb_probe_namespaces(all)
        if error == 0 {
            isolation.namespaces = ["pid", "net", "mount", "ipc", "uts"]
            isolation.readOnlyRoot = true
            isolation.sharedNetwork = SharedNetworkNamespace()
        } else {
            isolation.missing.append(
                "namespaces unavailable (\(String(cString: strerror(error)))): no network or PID isolation, "
                    + "orphans outside the process group survive")
        }
        isolation.user = (65534, 65534)
        isolation.memoryCgroup = CgroupPool.makeBase(controller: "memory")
        isolation.pidsCgroup = CgroupPool.makeBase(controller: "pids")
        if isolation.memoryCgroup == nil {
            isolation.missing.append("no writable memory cgroup: memory is limited by RLIMIT_AS instead")
        }
        if isolation.pidsCgroup == nil {
            isolation.missing.append("no writable pids cgroup: processes are limited by RLIMIT_NPROC per user instead")
        }
        return isolation
    }
}

/// An empty network namespace held open for the process's lifetime. Runs join it (microseconds) rather than each
/// creating and destroying one (about 1.2 ms of latency and 2 ms of CPU here). It has no interface up, so there is no
/// network; concurrent runs could reach each other only through abstract Unix sockets.
public final class SharedNetworkNamespace: Sendable {
    /// The descriptor holding the namespace.
    let descriptor: Int32

    /// Creates the namespace; `nil` when this process may not.
    public init?() {
        let fd = arb_create_network_namespace()
        guard fd >= 0 else { return nil }
        descriptor = fd
    }
}

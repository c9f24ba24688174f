// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import CArbiterSandbox
import Foundation

/// The isolation mechanisms this host offers to the code runner, probed once per process.
///
/// As root, each run gets fresh PID, network, mount, IPC and UTS namespaces, a minimal read-only root (/usr, /etc, a
/// minimal /dev and its toolchain's directories) with its work directory the only writable place, the unprivileged
/// user `nobody` (65534), its own memory and pids cgroups (v1), rlimits and a seccomp filter. As an ordinary user the
/// same namespaces are built inside a user namespace of the run's own (as bubblewrap does), where the program keeps
/// the daemon's uid without any capability; cgroups need root, so memory and processes are bounded by rlimits. What
/// is missing is listed in ``missing`` and shown in every verdict and in `arbiter list`; with no namespaces at all the
/// runner is not ``isolated`` and `code` refuses to run programs unless degraded isolation was allowed explicitly.
public struct Isolation: Sendable {
    /// Namespaces each run gets: `pid`, `net`, `mount`, `ipc`, `uts`, and `user` when the daemon is not root.
    public var namespaces: [String]
    /// The user and group programs run as, when the daemon can switch.
    public var user: (uid: Int32, gid: Int32)?
    /// Whether the run sees a minimal root (/usr, /etc, a minimal /dev, its toolchain's directories, its /proc and its
    /// work directory), read-only except the work directory.
    public var readOnlyRoot: Bool
    /// Whether programs start under the seccomp filter (no keyrings, namespaces, mounts, ptrace, io_uring, bpf,
    /// perf events, and no sockets but Unix ones).
    public var seccomp: Bool
    /// The memory cgroup directory (v1) under which each run gets its own group, if writable.
    public var memoryCgroup: String?
    /// The pids cgroup directory (v1) under which each run gets its own group, if writable.
    public var pidsCgroup: String?
    /// The cpu cgroup directory (v1): each run gets its own group with an equal share of the CPU.
    public var cpuCgroup: String?
    /// The cpuacct cgroup directory (v1): each run's CPU time, all its processes together, judges its time limit.
    public var cpuacctCgroup: String?
    /// The mechanisms that are missing here, in words.
    public var missing: [String]

    /// Whether runs are isolated from the host: their own PID, mount and network namespaces and the minimal root.
    /// Without them a program runs as a process of the daemon's user among the host's processes and files.
    public var isolated: Bool {
        ["pid", "mount", "net"].allSatisfy(namespaces.contains) && readOnlyRoot
    }

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
            case "user": flags |= Int32(ARB_NS_USER)
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
        if namespaces.contains("net") { parts.append("a network namespace per run") }
        if let user { parts.append("uid \(user.uid)") }
        if namespaces.contains("user") { parts.append("the daemon's uid without capabilities") }
        if readOnlyRoot { parts.append("minimal read-only root") }
        if seccomp { parts.append("seccomp") }
        var groups: [String] = []
        if memoryCgroup != nil { groups.append("memory") }
        if pidsCgroup != nil { groups.append("pids") }
        if cpuCgroup != nil { groups.append("cpu") }
        if cpuacctCgroup != nil { groups.append("cpuacct") }
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
            "seccomp": .bool(seccomp),
            "cgroups": .array(
                [
                    memoryCgroup.map { _ in "memory" }, pidsCgroup.map { _ in "pids" }, cpuCgroup.map { _ in "cpu" },
                    cpuacctCgroup.map { _ in "cpuacct" },
                ].compactMap { $0 }.map(JSONValue.string)),
            "rlimits": .array(["cpu", "fsize", "nofile", "nproc", "core", "stack"].map(JSONValue.string)),
        ]
        object["uid"] = user.map { .int(Int($0.uid)) } ?? .null
        if !missing.isEmpty { object["degraded"] = .array(missing.map(JSONValue.string)) }
        return object
    }

    /// Probes what this host offers. `ARBITER_CODE_NO_NAMESPACES=1` and `ARBITER_CODE_NO_SECCOMP=1` in `environment`
    /// simulate a host without namespaces or without seccomp.
    /// - Parameter environment: The variables to read the simulation switches from.
    /// - Returns: The isolation runs get.
    public static func probe(environment: [String: String] = ProcessInfo.processInfo.environment) -> Isolation {
        let flag = { (name: String) -> Bool in
            guard let value = environment[name] else { return false }
            return !value.isEmpty && value != "0"
        }
        var isolation = Isolation(
            namespaces: [], user: nil, readOnlyRoot: false, seccomp: false, memoryCgroup: nil, pidsCgroup: nil,
            cpuCgroup: nil, cpuacctCgroup: nil, missing: [])
        let root = geteuid() == 0
        let wanted = ARB_NS_PID | ARB_NS_NET | ARB_NS_MOUNT | ARB_NS_IPC | ARB_NS_UTS | (root ? 0 : ARB_NS_USER)
        let error = flag("ARBITER_CODE_NO_NAMESPACES") ? EPERM : arb_probe_namespaces(Int32(wanted))
        if error == 0 {
            isolation.namespaces = ["pid", "net", "mount", "ipc", "uts"] + (root ? [] : ["user"])
            isolation.readOnlyRoot = true
        } else {
            let why =
                flag("ARBITER_CODE_NO_NAMESPACES")
                ? "switched off by ARBITER_CODE_NO_NAMESPACES" : String(cString: strerror(error))
            isolation.missing.append(
                "namespaces unavailable (\(why))\(root ? "" : ", unprivileged user namespaces included"): programs "
                    + "would run among the host's processes and files, as the daemon's user")
        }
        if flag("ARBITER_CODE_NO_SECCOMP") {
            isolation.missing.append("no seccomp filter (switched off by ARBITER_CODE_NO_SECCOMP)")
        } else if arb_probe_seccomp() == 0 {
            isolation.seccomp = true
        } else {
            isolation.missing.append("no seccomp filter (the kernel refused it)")
        }
        guard root else {
            isolation.missing.append(
                "not root: no cgroups, so memory is bounded by RLIMIT_AS per process, processes by RLIMIT_NPROC "
                    + "in the run's user namespace, and CPU time per process (a run gets no CPU share of its own)")
            return isolation
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
        isolation.cpuCgroup = CgroupPool.makeBase(controller: "cpu")
        isolation.cpuacctCgroup = CgroupPool.makeBase(controller: "cpuacct")
        if isolation.cpuCgroup == nil || isolation.cpuacctCgroup == nil {
            isolation.missing.append(
                "no writable cpu/cpuacct cgroup: no CPU share per run, and CPU time is limited per process")
        }
        return isolation
    }
}

// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Synchronization

/// Per-run cgroups (v1 memory and pids), reused: a run takes a free slot and gives it back when every process of the
/// run is gone. Slots live under `<own cgroup>/arbiter-<pid>/`; groups left by dead daemons are removed at start.
final class CgroupPool: Sendable {
    /// One slot: a memory, a pids, a cpu and a cpuacct group of the same name.
    struct Slot: Sendable {
        let index: Int
        let memory: String?
        let pids: String?
        /// Its own CPU share (cpu.shares, equal for every slot), so that a run of many processes cannot starve others.
        var cpu: String? = nil
        /// Its CPU time, all processes together (cpuacct.usage).
        var cpuacct: String? = nil

        /// The groups' directories, in the order memory, pids, cpu, cpuacct.
        var groups: [String?] { [memory, pids, cpu, cpuacct] }
    }

    /// What a slot measured during one run.
    struct Usage: Sendable {
        var peakMemoryBytes: Int?
        var outOfMemory: Bool
        var processLimitHit: Bool
    }

    private let memoryBase: String?
    private let pidsBase: String?
    private let cpuBase: String?
    private let cpuacctBase: String?
    /// Slot names are unique per pool, so that several pools (several sandboxes) never share a group.
    private let prefix: String
    private static let pools = Atomic<Int>(0)
    private let state = Mutex<(free: [Slot], created: Int)>(([], 0))

    init(memoryBase: String?, pidsBase: String?, cpuBase: String? = nil, cpuacctBase: String? = nil) {
        self.memoryBase = memoryBase
        self.pidsBase = pidsBase
        self.cpuBase = cpuBase
        self.cpuacctBase = cpuacctBase
        self.prefix = "p\(Self.pools.add(1, ordering: .relaxed).oldValue)s"
    }

    /// Creates this process's base group for a controller, removing groups of daemons that are gone.
    /// - Parameter controller: `memory` or `pids`.
    /// - Returns: The base directory, or `nil` when the controller is not mounted or not writable.
    static func makeBase(controller: String) -> String? {
        let mount = "/sys/fs/cgroup/\(controller)"
        guard FileManager.default.fileExists(atPath: mount + "/cgroup.procs") else { return nil }
        let own = ownGroup(controller: controller)
        let parent = own == "/" ? mount : mount + own
        sweepStale(in: parent)
        let base = parent + "/arbiter-\(getpid())"
        if mkdir(base, 0o755) != 0 && errno != EEXIST { return nil }
        return access(base + "/cgroup.procs", W_OK) == 0 ? base : nil
    }

    private static func ownGroup(controller: String) -> String {
        guard let text = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8) else { return "/" }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            if fields.count == 3, fields[1].split(separator: ",").contains(Substring(controller)) {
                return String(fields[2])
            }
        }
        return "/"
    }

    private static func sweepStale(in parent: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: parent) else { return }
        for name in names where name.hasPrefix("arbiter-") {
            guard let pid = Int32(name.dropFirst("arbiter-".count)), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH
            else { continue }
            let base = parent + "/" + name
            for slot in (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? [] where slot.hasPrefix("p") {
                rmdir(base + "/" + slot)
            }
            rmdir(base)
        }
    }

    /// A free slot, created when none is free.
    func acquire() -> Slot {
        let (reused, index): (Slot?, Int) = state.withLock { state in
            if let slot = state.free.popLast() { return (slot, slot.index) }
            state.created += 1
            return (nil, state.created - 1)
        }
        if let reused { return reused }
        let paths = [memoryBase, pidsBase, cpuBase, cpuacctBase].map { $0.map { $0 + "/\(prefix)\(index)" } }
        for path in paths.compactMap({ $0 }) { mkdir(path, 0o755) }
        return Slot(index: index, memory: paths[0], pids: paths[1], cpu: paths[2], cpuacct: paths[3])
    }

    /// Returns a slot whose processes are all gone.
    func release(_ slot: Slot) {
        state.withLock { $0.free.append(slot) }
    }

    /// Sets a slot's limits and resets its counters before a run.
    /// - Returns: Counters to compare against after the run, or `nil` when a limit could not be set.
    func prepare(_ slot: Slot, memoryBytes: Int, processes: Int) -> (oomKills: Int, pidsMax: Int)? {
        if let memory = slot.memory {
            guard writeIfChanged("\(memoryBytes)", to: memory + "/memory.limit_in_bytes") else { return nil }
            _ = Self.write("0", to: memory + "/memory.max_usage_in_bytes")
        }
        if let pids = slot.pids {
            // Tasks already in the group (the launching thread, and any thread it happened to start) are not the run's.
            let present = Self.read(pids + "/pids.current").flatMap {
                Int($0.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            guard writeIfChanged("\(processes + (present ?? 0))", to: pids + "/pids.max") else { return nil }
        }
        return (Self.oomKills(slot), Self.pidsMaxEvents(slot))
    }

    /// The limits last written, by file: a slot's runs mostly share their limits, and writing a cgroup limit costs
    /// more than comparing (the memory controller reclaims and checks against the new limit on every write).
    private let written = Mutex<[String: String]>([:])

    /// Writes a limit unless the file holds it already (as written by this pool); false when the write failed.
    private func writeIfChanged(_ text: String, to path: String) -> Bool {
        if written.withLock({ $0[path] == text }) { return true }
        guard Self.write(text, to: path) else {
            written.withLock { $0[path] = nil }
            return false
        }
        written.withLock { $0[path] = text }
        return true
    }

    /// What the run used, against the counters from ``prepare(_:memoryBytes:processes:)``.
    func usage(_ slot: Slot, since before: (oomKills: Int, pidsMax: Int)) -> Usage {
        let peak = slot.memory.flatMap { Self.read($0 + "/memory.max_usage_in_bytes") }.flatMap {
            Int($0.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return Usage(
            peakMemoryBytes: peak, outOfMemory: Self.oomKills(slot) > before.oomKills,
            processLimitHit: Self.pidsMaxEvents(slot) > before.pidsMax)
    }

    private static func oomKills(_ slot: Slot) -> Int {
        guard let memory = slot.memory, let text = read(memory + "/memory.oom_control") else { return 0 }
        return counter(named: "oom_kill", in: text)
    }

    private static func pidsMaxEvents(_ slot: Slot) -> Int {
        guard let pids = slot.pids, let text = read(pids + "/pids.events") else { return 0 }
        return counter(named: "max", in: text)
    }

    private static func counter(named name: String, in text: String) -> Int {
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 2, fields[0] == name { return Int(fields[1]) ?? 0 }
        }
        return 0
    }

    /// The slots' cgroup files, opened on first use and kept open (by mode and path; close-on-exec, and every init
    /// closes what it does not pass on): opening a cgroup file costs more than reading it, and each run reads or
    /// writes six of them. Each read starts at offset 0, where the kernel writes the file's text anew; a slot's groups
    /// live as long as the daemon, so a descriptor never outlives its file.
    private static let descriptors = Mutex<[String: Int32]>([:])

    private static func descriptor(_ path: String, writing: Bool) -> Int32 {
        let key = (writing ? "w " : "r ") + path
        if let fd = descriptors.withLock({ $0[key] }) { return fd }
        let fd = open(path, (writing ? O_WRONLY : O_RDONLY) | O_CLOEXEC)
        guard fd >= 0 else { return -1 }
        let kept = descriptors.withLock { table -> Int32 in
            if let first = table[key] { return first }  // another thread opened it meanwhile
            table[key] = fd
            return fd
        }
        if kept != fd { close(fd) }
        return kept
    }

    /// A cgroup file's text (they are short: the first 4 kB), read with plain calls (Foundation's reader stats the file
    /// and grows a buffer, several times the cost for these pseudo-files).
    private static func read(_ path: String) -> String? {
        let fd = descriptor(path, writing: false)
        guard fd >= 0 else { return nil }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 4096) { buffer -> String? in
            var length = 0
            while length < buffer.count {
                let n = pread(fd, buffer.baseAddress! + length, buffer.count - length, off_t(length))
                if n < 0 && errno == EINTR { continue }
                if n < 0 { return nil }
                if n == 0 { break }
                length += n
            }
            return String(decoding: UnsafeBufferPointer(rebasing: buffer[..<length]), as: UTF8.self)
        }
    }

    private static func write(_ text: String, to path: String) -> Bool {
        let fd = descriptor(path, writing: true)
        guard fd >= 0 else { return false }
        return text.withCString { pwrite(fd, $0, strlen($0), 0) } >= 0
    }
}

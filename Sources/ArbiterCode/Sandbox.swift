// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import CArbiterSandbox
import Foundation
import Synchronization

/// The limits of one sandboxed run.
public struct RunLimits: Sendable, Hashable {
    /// Wall-clock seconds before the whole run is killed.
    public var wallSeconds: Double
    /// CPU seconds (RLIMIT_CPU, per process).
    public var cpuSeconds: Double
    /// Memory of the whole run (the run's memory cgroup, else RLIMIT_AS).
    public var memoryBytes: Int
    /// Processes and threads of the whole run (the run's pids cgroup, else RLIMIT_NPROC).
    public var processes: Int
    /// Largest file the program may write (RLIMIT_FSIZE).
    public var fileBytes: Int
    /// Open files per process (RLIMIT_NOFILE).
    public var openFiles: Int
    /// Stack size (RLIMIT_STACK).
    public var stackBytes: Int
    /// Bytes of stdout, and separately of stderr, kept; more kills the run.
    public var outputBytes: Int
    /// The least RLIMIT_AS where that limit bounds memory (no memory cgroup); 0 for none.
    public var minimumAddressSpace: Int = 0
    /// Bytes of the run's work directory (a tmpfs of its own, where the sandbox has a mount namespace).
    public var workDirectoryBytes: Int = 256 << 20
    /// Files and directories the work directory may hold.
    public var workDirectoryFiles: Int = 10_000
}

/// What one sandboxed run did.
public struct RunOutcome: Sendable {
    /// Standard output, truncated at the cap.
    public var stdout: [UInt8]
    /// Standard error, truncated at the cap.
    public var stderr: [UInt8]
    /// What the harness wrote on its private descriptor (fd 4).
    public var report: [UInt8]
    /// The exit code, when the program exited.
    public var exitCode: Int32?
    /// The signal that ended it, when one did.
    public var signal: Int32?
    /// Killed at the wall-clock limit.
    public var timedOut: Bool
    /// Killed when the run's CPU time (all its processes together) reached the limit.
    public var cpuExceeded: Bool = false
    /// Killed because stdout, stderr or the report went over the cap.
    public var outputExceeded: Bool
    /// The memory cgroup killed a process of the run.
    public var outOfMemory: Bool
    /// A fork failed at the process limit.
    public var processLimitHit: Bool
    /// Wall-clock seconds from launch to the last process's end.
    public var wallSeconds: Double
    /// CPU seconds of the run: all its processes (the cpuacct cgroup), else the program and its reaped children.
    public var cpuSeconds: Double
    /// Peak memory of the run's cgroup, when measured.
    public var peakMemoryBytes: Int?
    /// Why the run never started, when that was the program's doing (so a verdict, not an error): its files (the
    /// program, what was compiled from it, the harness) do not fit its work directory, or the binary compiled from
    /// it cannot be executed. `nil` for a run that started.
    public var notStarted: String? = nil
}

/// Runs programs in the sandbox of ``Isolation``: one C launch per run on a thread of its own, so that runs proceed
/// in parallel without blocking Swift's cooperative pool.
public final class Sandbox: Sendable {
    /// The mechanisms in use.
    public let isolation: Isolation
    private let cgroups: CgroupPool
    private let workers: SlotWorkerPool
    private let workRoot: String
    /// Harnesses prepared once for all runs (``Harness/prepare``).
    let preparedHarnesses = PreparedHarnesses()
    /// Whether harness runs of toolchains with a fork server fork from a warm interpreter (``ForkServers``).
    let usesForkServers: Bool
    /// Whether runs copy their slot's mount template (``MountTemplates``) instead of building their root.
    let usesMountTemplates: Bool
    /// The test compilers and the code they made (``TestCompilers``).
    let testCompilers: TestCompilers
    /// How many runs started from a mount template (tests read it).
    let runsFromMountTemplates = Atomic<Int>(0)
    /// The pids of the fork servers this sandbox started, in order (tests read them).
    let startedForkServers = Mutex<[Int32]>([])

    /// The sandbox of this process.
    public static let shared = Sandbox(isolation: .current)

    /// A sandbox with the given mechanisms (tests switch single guards off with this; use ``shared`` otherwise).
    /// - Parameters:
    ///   - isolation: The mechanisms to use; they must be available on this host.
    ///   - forkServers: Let toolchains with a fork server fork runs from a warm interpreter, where the host allows it
    ///     (as root with the whole sandbox; `ARBITER_CODE_NO_FORK_SERVER=1` turns it off for the process).
    ///   - mountTemplates: Let runs copy their slot's mount template instead of building their root, where the host
    ///     allows it (as root with the whole sandbox; `ARBITER_CODE_NO_MOUNT_TEMPLATE=1` turns it off for the process).
    public init(isolation: Isolation, forkServers: Bool = true, mountTemplates: Bool = true) {
        _ = Self.runtimeDataNotForked
        self.isolation = isolation
        self.cgroups = CgroupPool(
            memoryBase: isolation.memoryCgroup, pidsBase: isolation.pidsCgroup,
            cpuBase: isolation.cpuacctCgroup == nil ? nil : isolation.cpuCgroup,
            cpuacctBase: isolation.cpuCgroup == nil ? nil : isolation.cpuacctCgroup)
        // As root each slot keeps an empty network namespace of its own: one run at a time uses it, and a run's
        // processes (and so its sockets) are all gone before the slot is reused, so concurrent runs never share one,
        // and no run pays for creating and destroying a namespace (which costs milliseconds, more under load). In a
        // user namespace a run cannot join a namespace the daemon made, so each run creates its own.
        let perSlot = isolation.namespaces.contains("net") && !isolation.namespaces.contains("user")
        self.workers = SlotWorkerPool(cgroups: cgroups, networkPerSlot: perSlot)
        self.usesForkServers = forkServers && ForkServers.available(for: isolation)
        self.usesMountTemplates = mountTemplates && MountTemplates.available(for: isolation)
        self.keepsWorkInMemory =
            isolation.readOnlyRoot && isolation.namespaces.contains("mount")
            && ProcessInfo.processInfo.environment["ARBITER_CODE_NO_MEMORY_WORKDIR"] != "1"
        // The compilers live in the base groups, beside the slots: never in a run's.
        self.testCompilers = TestCompilers(
            groups: [isolation.memoryCgroup, isolation.pidsCgroup, isolation.cpuCgroup, isolation.cpuacctCgroup]
                .compactMap { $0.map { $0 + "/tasks" } })
        let temporary = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        self.workRoot = temporary + "/arbiter-code-\(getpid())"
        Self.sweepStaleWorkRoots(in: temporary)
    }

    /// The Swift runtime's and Foundation's writable data is kept out of every process cloned from the daemon (each
    /// run's init runs only C code): `arb_dont_fork_runtime_data`, once per process, before the first run.
    private static let runtimeDataNotForked: Int32 = arb_dont_fork_runtime_data()

    /// A fresh, empty work directory owned by the sandbox user; remove it with ``removeWorkDirectory(_:)``.
    /// - Throws: ``ArbiterError`` `internal` when it cannot be created.
    func makeWorkDirectory() throws(ArbiterError) -> String {
        let path = try reserveWorkDirectory()
        try createWorkDirectory(path)
        return path
    }

    /// Whether a run's work directory may stay in memory (`run`'s `memoryFiles`): each run's is a tmpfs of its own in
    /// its own mount namespace, so the host directory serves only as the source of the files copied in, which the
    /// run's init can take from memory instead.
    let keepsWorkInMemory: Bool

    /// A fresh work directory's path, not yet created (``createWorkDirectory(_:)``); the work root exists.
    /// - Throws: ``ArbiterError`` `internal` when the work root cannot be created.
    func reserveWorkDirectory() throws(ArbiterError) -> String {
        if !workRootMade.load(ordering: .acquiring) {
            if mkdir(workRoot, 0o711) != 0 && errno != EEXIST {
                throw ArbiterError(.internal, "cannot create \(workRoot): \(String(cString: strerror(errno)))")
            }
            chmod(workRoot, 0o711)
            workRootMade.store(true, ordering: .releasing)
        }
        var random = SystemRandomNumberGenerator()
        let name = (0..<4).map { _ in String(random.next() as UInt32, radix: 16) }.joined()
        return workRoot + "/" + name
    }

    /// Creates a reserved work directory, empty, owned by the sandbox user.
    /// - Throws: ``ArbiterError`` `internal` when it cannot be created.
    func createWorkDirectory(_ path: String) throws(ArbiterError) {
        guard mkdir(path, 0o700) == 0 else {
            throw ArbiterError(.internal, "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        if let user = isolation.user { chown(path, uid_t(user.uid), gid_t(user.gid)) }
    }

    /// Whether the work root was made (once per sandbox; a run's directory is made in it).
    private let workRootMade = Atomic<Bool>(false)

    /// Removes a work directory and everything the program left in it, without following links.
    func removeWorkDirectory(_ path: String) {
        _ = arb_remove_tree(path)
    }

    private static func sweepStaleWorkRoots(in temporary: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: temporary) else { return }
        for name in names where name.hasPrefix("arbiter-code-") {
            guard let pid = Int32(name.dropFirst("arbiter-code-".count)), pid != getpid(), kill(pid, 0) != 0,
                errno == ESRCH
            else { continue }
            _ = arb_remove_tree(temporary + "/" + name)
        }
    }

    /// Runs a program to its end and reports what it did.
    /// - Parameters:
    ///   - executable: The program (absolute, or relative to the work directory).
    ///   - arguments: Its arguments, `argv[0]` included.
    ///   - environment: Its whole environment, as `NAME=value`.
    ///   - workDirectory: The run's directory, its only writable place.
    ///   - stdin: Fed to standard input.
    ///   - harnessInput: Fed to fd 3, the harness's private channel.
    ///   - visible: Directories shown besides /usr, /etc and /dev (a toolchain installed elsewhere).
    ///   - limits: The limits.
    ///   - companion: A second command started beside it in PID and mount namespaces of its own (a split harness's
    ///     program process), reached over pipes: its fds 3 and 4, the first program's 6 and 7.
    ///   - exportFiles: Copy the files the run left at the top of its (tmpfs) work directory back to `workDirectory`
    ///     (a compiler's outputs); other runs leave nothing behind.
    ///   - forkServer: Fork the process from this warm interpreter instead of executing the command, when
    ///     ``usesForkServers`` (the command is the fallback when the server fails).
    ///   - commandFiles: Files (name in the work directory, bytes) that the command needs and a forked run does not
    ///     (the harness's file): written before the command is executed, not for a run forked from a server.
    ///   - testCompile: Test scripts for the test compiler, whose code goes after `harnessInput`.
    ///   - memoryFiles: The work directory's files when it was never created on the host (``keepsWorkInMemory``;
    ///     not with `exportFiles`): the run's init writes them into the run's tmpfs.
    /// - Returns: The outcome.
    /// - Throws: ``ArbiterError`` `internal` when the sandbox cannot be set up (never for what the program does).
    func run(
        executable: String, arguments: [String], environment: [String], workDirectory: String, stdin: [UInt8] = [],
        harnessInput: [UInt8] = [], visible: [String] = [], limits: RunLimits, companion: [String]? = nil,
        exportFiles: Bool = false, forkServer: ForkServerRequest? = nil,
        commandFiles: [(name: String, bytes: [UInt8])] = [], testCompile: TestCompileRequest? = nil,
        memoryFiles: [(name: String, bytes: [UInt8])]? = nil
    ) async throws(ArbiterError) -> RunOutcome {
        precondition(memoryFiles == nil || (keepsWorkInMemory && !exportFiles), "a run in memory needs its own tmpfs")
        let job = Job(
            executable: executable, arguments: arguments, environment: environment, workDirectory: workDirectory,
            stdin: stdin, harnessInput: harnessInput, visible: visible, limits: limits, companion: companion,
            exportFiles: exportFiles, forkServer: usesForkServers && companion == nil ? forkServer : nil,
            commandFiles: commandFiles.map { CommandFile(name: $0.name, bytes: $0.bytes) },
            testCompile: usesForkServers ? testCompile : nil,
            memoryFiles: memoryFiles?.map { CommandFile(name: $0.name, bytes: $0.bytes) })
        if Task.isCancelled { throw Self.cancellation }
        let cancel = try RunCancellation()
        defer { cancel.close() }
        let worker = try workers.acquire()
        let result: Result<RunOutcome, ArbiterError> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                worker.submit { joined in
                    let result = self.runBlocking(job, worker: worker, joined: joined, cancel: cancel.descriptor)
                    self.workers.release(worker)
                    continuation.resume(returning: result)
                }
            }
        } onCancel: {
            cancel.signal()
        }
        return try result.get()
    }

    /// What a run whose task was cancelled throws: its processes were killed, nothing of it is judged.
    static let cancellation = ArbiterError(.cancelled, "code: the run was cancelled (its processes were killed)")

    private struct Job: Sendable {
        let executable: String
        let arguments: [String]
        let environment: [String]
        let workDirectory: String
        let stdin: [UInt8]
        let harnessInput: [UInt8]
        let visible: [String]
        let limits: RunLimits
        let companion: [String]?
        let exportFiles: Bool
        let forkServer: ForkServerRequest?
        let commandFiles: [CommandFile]
        let testCompile: TestCompileRequest?
        /// The work directory's files when the host directory does not exist (``keepsWorkInMemory``), else `nil`.
        var memoryFiles: [CommandFile]? = nil

        func with(harnessInput: [UInt8]) -> Job {
            Job(
                executable: executable, arguments: arguments, environment: environment, workDirectory: workDirectory,
                stdin: stdin, harnessInput: harnessInput, visible: visible, limits: limits, companion: companion,
                exportFiles: exportFiles, forkServer: forkServer, commandFiles: commandFiles, testCompile: nil,
                memoryFiles: memoryFiles)
        }
    }

    private struct CommandFile: Sendable {
        let name: String
        let bytes: [UInt8]
    }

    /// Writes the files the command needs into the work directory (once); false when one cannot be written.
    private static func writeCommandFiles(_ job: Job) -> Bool {
        for file in job.commandFiles {
            let path = job.workDirectory + "/" + file.name
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o644)
            guard fd >= 0 else { return false }
            defer { close(fd) }
            var offset = 0
            while offset < file.bytes.count {
                let written = file.bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { return false }
                offset += written
            }
        }
        return true
    }

    private func runBlocking(
        _ job: Job, worker: SlotWorker, joined: Bool, cancel: Int32
    ) -> Result<RunOutcome, ArbiterError> {
        let slot = worker.slot
        // The test scripts' code, from the test compiler (on this thread: it may wait for the compiler), after the
        // harness's other input. Asked before the limits are set: a compiler started now joins the slot's pids group
        // and is counted there as present, not as one of the run's processes.
        var job = job
        if let request = job.testCompile {
            let section = testCompilers.section(for: request)
            if !section.isEmpty { job = job.with(harnessInput: job.harnessInput + section) }
        }
        // The run's init is one task of the slot's pids group, and a fork server another: neither is the program's, so
        // `processes` (the program's processes and threads) is what is left for it (with `processes: 1` a compiled
        // program could not even be started).
        if let base = isolation.memoryCgroup, slot.memory != nil { arb_prepare_slot_thread(base + "/tasks") }
        let processes = job.limits.processes + 1 + (job.forkServer == nil ? 0 : 1)
        guard let before = cgroups.prepare(slot, memoryBytes: job.limits.memoryBytes, processes: processes) else {
            return .failure(ArbiterError(.internal, "cannot set the limits of cgroup slot \(slot.index)"))
        }
        var result = arb_run_result()
        // A server that died (or was dying when it was handed the run) gives init no process, before the program
        // started: it is ended, and the run tries a new server once, then executes the command.
        var status: Int32 = -1
        var wroteCommandFiles = false
        for attempt in 0..<3 {
            var server: Int32? = nil
            if let request = job.forkServer, attempt < 2, let connection = worker.forkServers.socket(for: request) {
                if let started = connection.started { startedForkServers.withLock { $0.append(started) } }
                server = connection.socket
            }
            if server == nil && !wroteCommandFiles, job.memoryFiles != nil {
                // The command's files join the run's files in memory.
                job.memoryFiles! += job.commandFiles
                wroteCommandFiles = true
            }
            if server == nil && !wroteCommandFiles {
                guard Self.writeCommandFiles(job) else {
                    return .failure(
                        ArbiterError(
                            .internal, "cannot write the harness into \(job.workDirectory): \(String(cString: strerror(errno)))"))
                }
                wroteCommandFiles = true
            }
            if attempt > 0 { arb_run_result_free(&result); result = arb_run_result() }
            let template =
                usesMountTemplates
                ? worker.mountTemplates.template(
                    workParent: (job.workDirectory as NSString).deletingLastPathComponent, visible: job.visible) : nil
            status = launch(
                job, slot: slot, joined: joined, network: worker.network, server: server, template: template,
                cancel: cancel, result: &result)
            guard status != 0, result.cancelled == 0, let request = job.forkServer, server != nil,
                result.failed_stage == ARB_STAGE_FORK
            else { break }
            worker.forkServers.discard(request)
        }
        defer { arb_run_result_free(&result) }
        // Every process of the run is gone (init was reaped): the slot is clean and serves the next run.
        if result.cancelled != 0 { return .failure(Self.cancellation) }
        if status != 0, let reason = Self.programsFault(result, job: job) {
            return .success(
                RunOutcome(
                    stdout: [], stderr: [], report: [], exitCode: nil, signal: nil, timedOut: false,
                    outputExceeded: false, outOfMemory: false, processLimitHit: false, wallSeconds: 0, cpuSeconds: 0,
                    peakMemoryBytes: nil, notStarted: reason))
        }
        if status != 0 {
            let stage = Self.stageNames[Int(result.failed_stage)] ?? "stage \(result.failed_stage)"
            return .failure(
                ArbiterError(
                    .internal,
                    "the sandbox failed to \(stage) for '\(job.executable)': \(String(cString: strerror(result.failed_errno)))"
                ))
        }
        let usage = cgroups.usage(slot, since: before)
        let wait = result.program_status
        let exited = result.program_reaped != 0 && (wait & 0x7f) == 0
        let signal = result.program_reaped != 0 && !exited ? wait & 0x7f : nil
        return .success(
            RunOutcome(
                stdout: Self.bytes(result.stdout_bytes, result.stdout_length),
                stderr: Self.bytes(result.stderr_bytes, result.stderr_length),
                report: Self.bytes(result.fd4_bytes, result.fd4_length),
                exitCode: exited ? (wait >> 8) & 0xff : nil, signal: signal, timedOut: result.timed_out != 0,
                cpuExceeded: result.cpu_exceeded != 0,
                outputExceeded: result.output_exceeded != 0, outOfMemory: usage.outOfMemory,
                processLimitHit: usage.processLimitHit, wallSeconds: result.wall_seconds,
                cpuSeconds: result.run_cpu_seconds >= 0 ? result.run_cpu_seconds : result.cpu_seconds,
                peakMemoryBytes: usage.peakMemoryBytes))
    }

    /// Why a run that failed before its program started failed by the program's doing, or `nil` when the failure
    /// is the host's (an `internal` error): its files overflowed the run's own tmpfs (ENOSPC, EDQUOT, EFBIG while
    /// writing them there), or the executable is a file of the run (a binary compiled from the program, such as
    /// `./main`, not an interpreter of the host) that the kernel refuses to execute — a program can make its binary
    /// unloadable (an interpreter path longer than the kernel reads, a missing loader), which must fail it, not turn
    /// its grade into an error a trainer skips.
    private static func programsFault(_ result: arb_run_result, job: Job) -> String? {
        let error = String(cString: strerror(result.failed_errno))
        if result.failed_stage == ARB_STAGE_WORKDIR_FILES, [ENOSPC, EDQUOT, EFBIG].contains(result.failed_errno) {
            return "the program's files do not fit its work directory (work_dir_mb, work_dir_files): \(error)"
        }
        let ownFile = job.executable.hasPrefix("./") || job.executable.hasPrefix(job.workDirectory + "/")
        if result.failed_stage == ARB_STAGE_EXEC, ownFile, job.forkServer == nil {
            return "the program's binary cannot be executed (\(job.executable)): \(error)"
        }
        return nil
    }

    private static let stageNames: [Int: String] = [
        Int(ARB_STAGE_PIPE): "create pipes", Int(ARB_STAGE_CLONE): "clone into new namespaces",
        Int(ARB_STAGE_MOUNT_PRIVATE): "make mounts private", Int(ARB_STAGE_MOUNT_READONLY): "mount the root read-only",
        Int(ARB_STAGE_MOUNT_WORKDIR): "mount the work directory", Int(ARB_STAGE_MOUNT_PROC): "mount /proc",
        Int(ARB_STAGE_MOUNT_SHM): "mount /dev/shm", Int(ARB_STAGE_CGROUP): "join the run's cgroups",
        Int(ARB_STAGE_FORK): "fork the program", Int(ARB_STAGE_RLIMIT): "set rlimits",
        Int(ARB_STAGE_USER): "switch to the sandbox user", Int(ARB_STAGE_CHDIR): "enter the work directory",
        Int(ARB_STAGE_EXEC): "execute", Int(ARB_STAGE_USERNS): "map the user namespace",
        Int(ARB_STAGE_SECCOMP): "install the seccomp filter", Int(ARB_STAGE_MOUNT_DEV): "make the minimal /dev",
        Int(ARB_STAGE_COMPANION): "start the program's process of the split harness",
        Int(ARB_STAGE_WORKDIR_FILES): "write the run's files into its work directory",
    ]

    private static func bytes(_ pointer: UnsafeMutablePointer<UInt8>?, _ length: Int) -> [UInt8] {
        guard let pointer, length > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: pointer, count: length))
    }

    private func launch(
        _ job: Job, slot: CgroupPool.Slot, joined: Bool, network: Int32, server: Int32?, template: Int32?,
        cancel: Int32, result: inout arb_run_result
    ) -> Int32 {
        let strings = CStringArena()
        defer { strings.free() }
        var spec = arb_run_spec()
        // The files of a work directory kept in memory: names and bytes that live until the run is over.
        let memoryFiles = job.memoryFiles ?? []
        let fileNames = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: max(memoryFiles.count, 1))
        let fileData = UnsafeMutablePointer<UnsafePointer<UInt8>?>.allocate(capacity: max(memoryFiles.count, 1))
        let fileLengths = UnsafeMutablePointer<Int>.allocate(capacity: max(memoryFiles.count, 1))
        var fileCopies: [UnsafeMutablePointer<UInt8>] = []
        defer {
            for copy in fileCopies { copy.deallocate() }
            fileNames.deallocate()
            fileData.deallocate()
            fileLengths.deallocate()
        }
        if job.memoryFiles != nil {
            for (index, file) in memoryFiles.enumerated() {
                let copy = UnsafeMutablePointer<UInt8>.allocate(capacity: max(file.bytes.count, 1))
                file.bytes.withUnsafeBufferPointer { bytes in
                    if let base = bytes.baseAddress { copy.initialize(from: base, count: bytes.count) }
                }
                fileCopies.append(copy)
                fileNames[index] = UnsafePointer(strings.add(file.name))
                fileData[index] = UnsafePointer(copy)
                fileLengths[index] = file.bytes.count
            }
            spec.workdir_in_memory = 1
            spec.memory_file_count = Int32(memoryFiles.count)
            spec.memory_file_names = UnsafePointer(fileNames)
            spec.memory_file_data = UnsafePointer(fileData)
            spec.memory_file_lengths = UnsafePointer(fileLengths)
        }
        spec.path = UnsafePointer(strings.add(job.executable))
        spec.workdir = UnsafePointer(strings.add(job.workDirectory))
        let argv = strings.array(job.arguments)
        let envp = strings.array(job.environment)
        let visible = strings.array(job.visible)
        let companion = job.companion.map { strings.array($0) }
        defer {
            argv.deallocate()
            envp.deallocate()
            visible.deallocate()
            companion?.deallocate()
        }
        if let companion, let path = job.companion?.first {
            spec.companion_path = UnsafePointer(strings.add(path))
            spec.companion_argv = UnsafePointer(companion)
        }
        spec.watch_cancel = 1
        spec.cancel_fd = cancel
        spec.extra_visible = UnsafePointer(visible)
        spec.argv = UnsafePointer(argv)
        spec.envp = UnsafePointer(envp)
        spec.uid = isolation.user?.uid ?? -1
        spec.gid = isolation.user?.gid ?? -1
        spec.namespaces = isolation.namespaceFlags
        spec.network_fd = network
        spec.readonly_root = isolation.readOnlyRoot ? 1 : 0
        spec.private_shm = isolation.readOnlyRoot ? 1 : 0
        spec.minimal_dev = isolation.readOnlyRoot ? 1 : 0
        spec.seccomp = isolation.seccomp ? 1 : 0
        if let server {
            spec.use_fork_server = 1
            spec.fork_server_fd = server
        }
        // An init sharing the daemon's memory must stay out of the slot's memory group (`init_cloner` in the C
        // launcher): it is cloned from a thread in the daemon's base group.
        if let base = isolation.memoryCgroup, slot.memory != nil {
            spec.shared_init_memory_tasks = UnsafePointer(strings.add(base + "/tasks"))
        }
        if let template {
            spec.use_mount_template = 1
            spec.mount_template_fd = template
            runsFromMountTemplates.add(1, ordering: .relaxed)
        }
        if isolation.readOnlyRoot {
            spec.workdir_tmpfs_bytes = Int64(job.limits.workDirectoryBytes)
            spec.workdir_tmpfs_files = Int32(job.limits.workDirectoryFiles)
            spec.export_files = job.exportFiles ? 1 : 0
        }
        if !joined {
            let procs = slot.groups.map { $0.map { UnsafePointer(strings.add($0 + "/cgroup.procs")) } }
            spec.cgroup_procs = (procs[0], procs[1], procs[2], procs[3])
        }
        if let cpuacct = slot.cpuacct {
            spec.cpu_usage_path = UnsafePointer(strings.add(cpuacct + "/cpuacct.usage"))
            spec.run_cpu_seconds = job.limits.cpuSeconds
        }
        let limits = job.limits
        spec.wall_seconds = limits.wallSeconds
        spec.cpu_seconds = limits.cpuSeconds
        // Without a memory cgroup, the address space is the only memory bound there is.
        spec.address_space_bytes = slot.memory == nil ? Int64(max(limits.memoryBytes, limits.minimumAddressSpace)) : 0
        spec.file_bytes = Int64(limits.fileBytes)
        spec.stack_bytes = Int64(limits.stackBytes)
        spec.open_files = Int32(limits.openFiles)
        // RLIMIT_NPROC counts every process of the user across runs: a generous belt when the pids cgroup holds.
        // Without one (an ordinary user's daemon, each run in a user namespace of its own) it is the limit, and it
        // counts the sandbox's own processes of that namespace too: init and, for a run forked from a fork server,
        // the server's helper that joined the namespace.
        let sandboxOwn = 1 + (server == nil ? 0 : 1)
        spec.processes = Int32(slot.pids == nil ? limits.processes + sandboxOwn : max(limits.processes * 16, 4096))
        spec.stdout_cap = limits.outputBytes
        spec.stderr_cap = limits.outputBytes
        spec.fd4_cap = max(limits.outputBytes, 1 << 20)
        return job.stdin.withUnsafeBufferPointer { stdin in
            job.harnessInput.withUnsafeBufferPointer { harness in
                spec.stdin_data = stdin.baseAddress
                spec.stdin_length = stdin.count
                spec.fd3_data = harness.baseAddress
                spec.fd3_length = harness.count
                return arb_run(&spec, &result)
            }
        }
    }
}

/// C strings that live until ``free()``.
private final class CStringArena {
    private var pointers: [UnsafeMutablePointer<CChar>] = []

    func add(_ string: String) -> UnsafeMutablePointer<CChar> {
        let pointer = strdup(string)!
        pointers.append(pointer)
        return pointer
    }

    /// A NULL-terminated array of C strings; deallocate the array (not the strings) when done.
    func array(_ strings: [String]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> {
        let array = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: strings.count + 1)
        for (index, string) in strings.enumerated() { array[index] = add(string) }
        array[strings.count] = nil
        return array
    }

    func free() {
        for pointer in pointers { Glibc.free(pointer) }
        pointers.removeAll()
    }
}

/// The cancellation of one run: an eventfd the supervisor polls beside the run's pipes. A task cancellation handler
/// signals it; the supervisor then kills the run as at its wall-clock limit (init, and with it the run's PID namespace:
/// the program, its children and a fork server's child) and reaps it before the slot is given back.
final class RunCancellation: Sendable {
    /// The eventfd, or -1 once closed; the lock keeps a late signal from writing to a descriptor number reused since.
    private let state = Mutex<Int32>(-1)
    let descriptor: Int32

    /// - Throws: ``ArbiterError`` `internal` when the system gives no eventfd.
    init() throws(ArbiterError) {
        let fd = arb_cancel_fd_create()
        guard fd >= 0 else {
            throw ArbiterError(
                .internal, "code: no eventfd for the run's cancellation: \(String(cString: strerror(-fd)))")
        }
        descriptor = fd
        state.withLock { $0 = fd }
    }

    /// Asks the supervisor to kill the run (any thread, any number of times, also after the run ended).
    func signal() {
        state.withLock { fd in
            guard fd >= 0 else { return }
            _ = arb_cancel_fd_signal(fd)
        }
    }

    /// Closes the eventfd once the run is over.
    func close() {
        state.withLock { fd in
            if fd >= 0 { Glibc.close(fd) }
            fd = -1
        }
    }
}

// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

#ifndef ARBITER_SANDBOX_H
#define ARBITER_SANDBOX_H

#include <stddef.h>
#include <stdint.h>

/// Namespaces a run gets (`arb_run_spec.namespaces`).
enum {
    ARB_NS_PID = 1,
    ARB_NS_NET = 2,
    ARB_NS_MOUNT = 4,
    ARB_NS_IPC = 8,
    ARB_NS_UTS = 16,
    ARB_NS_USER = 32, ///< A user namespace mapping only the caller's uid and gid (the unprivileged sandbox).
};

/// Where a launch failed (`arb_run_result.failed_stage`).
enum {
    ARB_STAGE_NONE = 0,
    ARB_STAGE_PIPE,
    ARB_STAGE_CLONE,
    ARB_STAGE_MOUNT_PRIVATE,
    ARB_STAGE_MOUNT_READONLY,
    ARB_STAGE_MOUNT_WORKDIR,
    ARB_STAGE_MOUNT_PROC,
    ARB_STAGE_MOUNT_SHM,
    ARB_STAGE_CGROUP,
    ARB_STAGE_FORK,
    ARB_STAGE_RLIMIT,
    ARB_STAGE_USER,
    ARB_STAGE_CHDIR,
    ARB_STAGE_EXEC,
    ARB_STAGE_USERNS,
    ARB_STAGE_SECCOMP,
    ARB_STAGE_MOUNT_DEV,
    ARB_STAGE_COMPANION,
    ARB_STAGE_WORKDIR_FILES,  ///< writing the run's files into its work directory's tmpfs (ENOSPC: they do not fit)
};

/// One program run: what to start, where, as whom and within which limits.
struct arb_run_spec {
    const char *path;            ///< Executable (absolute, or relative to `workdir`).
    char *const *argv;           ///< NULL-terminated.
    char *const *envp;           ///< NULL-terminated; the whole environment.
    const char *companion_path;  ///< A second program (NULL for none): the program's own process of a split harness,
    char *const *companion_argv; ///< in PID and mount namespaces of its own; it talks to the first over fds 3 and 4,
                                 ///< the first to it over fds 6 (requests) and 7 (answers). Same limits and identity.
    const char *workdir;         ///< The only writable directory.
    int uid, gid;                ///< The identity to run as; -1 keeps the caller's.
    int namespaces;              ///< ARB_NS_* flags.
    int network_fd;              ///< With ARB_NS_NET: an existing network namespace to join (-1: a new one per run).
    int readonly_root;           ///< Mount everything read-only except `workdir` (needs ARB_NS_MOUNT).
    int private_shm;             ///< A small fresh tmpfs on /dev/shm (needs ARB_NS_MOUNT).
    int minimal_dev;             ///< With `readonly_root`: a /dev of null, zero, full, random, urandom and tty only.
    int seccomp;                 ///< Install `arb_seccomp_filter`'s filter before the program executes.
    int64_t workdir_tmpfs_bytes; ///< With `readonly_root`: the program's work directory is a fresh tmpfs of this size
    int workdir_tmpfs_files;     ///< and inode count, holding copies of the host directory's files (0: the host's).
    int export_files;            ///< With the tmpfs: copy its top-level regular files back after the run (compilers).
    char *const *extra_visible;  ///< NULL-terminated absolute directories shown besides /usr, /etc and /dev (or NULL).
    const char *cgroup_procs[4]; ///< `cgroup.procs` files to join (NULL for none; see `arb_join_cgroups_thread`).
    const char *cpu_usage_path;  ///< The run's `cpuacct.usage` (NULL for none): the run is killed when it grows by
    double run_cpu_seconds;      ///< this many seconds (all its processes together); 0 for no such limit.
    double wall_seconds;         ///< Wall-clock limit: the whole run is killed after it.
    double cpu_seconds;          ///< RLIMIT_CPU (rounded up); 0 for none.
    int64_t address_space_bytes; ///< RLIMIT_AS; 0 for none.
    int64_t file_bytes;          ///< RLIMIT_FSIZE; 0 for none.
    int64_t stack_bytes;         ///< RLIMIT_STACK; 0 keeps the default.
    int open_files;              ///< RLIMIT_NOFILE; 0 keeps the default.
    int processes;               ///< RLIMIT_NPROC (per user!); 0 for none.
    const uint8_t *stdin_data;   ///< Fed to fd 0, then closed.
    size_t stdin_length;
    const uint8_t *fd3_data;     ///< Fed to fd 3 (the harness's private channel), then closed.
    size_t fd3_length;
    size_t stdout_cap, stderr_cap, fd4_cap; ///< Bytes kept per stream; more kills the run.
    int use_fork_server;         ///< Instead of executing `path`, init asks the fork server on `fork_server_fd` (see
    int fork_server_fd;          ///< `arb_start_fork_server`) for a process that joins the run's namespaces.
    int watch_cancel;            ///< With 1: when `cancel_fd` (an eventfd or a pipe's reading end) becomes readable,
    int cancel_fd;               ///< the run is killed as at its wall-clock limit and `cancelled` is set.
    int use_mount_template;      ///< With 1 (root, `readonly_root` and a tmpfs work directory): init takes a private
    int mount_template_fd;       ///< copy of this mount namespace (`arb_create_mount_template`) instead of building
                                 ///< the minimal root, and mounts only the run's own: work directory, /proc, /dev/shm.
    int workdir_in_memory;       ///< With 1 (`readonly_root`, a tmpfs work directory, no `export_files`): the host's
                                 ///< `workdir` does not exist; the tmpfs gets these files (mode 0644, the run's user's)
    int memory_file_count;       ///< instead of copies of the host directory's. `workdir` is still the path the run
    const char *const *memory_file_names;     ///< sees. Names are plain (no '/').
    const uint8_t *const *memory_file_data;
    const size_t *memory_file_lengths;
    const char *shared_init_memory_tasks; ///< The `tasks` file of the daemon's base memory group (NULL: none). With
                                          ///< it, a root run forked from a fork server may get an init sharing the
                                          ///< daemon's memory, cloned from a thread in that group (not the slot's).
};

/// What happened. Buffers are malloc'd: release them with `arb_run_result_free`.
struct arb_run_result {
    int failed_stage;        ///< ARB_STAGE_NONE when the program started.
    int failed_errno;
    int program_status;      ///< The program's wait status (valid when `program_reaped`).
    int program_reaped;
    int timed_out;           ///< Killed at the wall-clock limit.
    int cpu_exceeded;        ///< Killed when the run's CPU time (`cpu_usage_path`) reached `run_cpu_seconds`.
    double run_cpu_seconds;  ///< CPU time of all the run's processes (from `cpu_usage_path`), or -1.
    int output_exceeded;     ///< 1 stdout, 2 stderr, 4 fd 4: the stream that went over its cap.
    int cancelled;           ///< Killed because `cancel_fd` became readable (its caller gave up on the run).
    double wall_seconds;
    double cpu_seconds;      ///< User + system time of the program and its reaped children.
    long max_rss_kb;
    uint8_t *stdout_bytes; size_t stdout_length;
    uint8_t *stderr_bytes; size_t stderr_length;
    uint8_t *fd4_bytes; size_t fd4_length;
};

/// Runs a program to completion in a sandbox and returns what it did. Blocks the calling thread: call it from a
/// thread of its own, never from a thread of Swift's cooperative pool. Returns 0, or -1 when `failed_stage` is set.
int arb_run(const struct arb_run_spec *spec, struct arb_run_result *result);

/// A run's cancellation descriptor (`arb_run_spec.cancel_fd`): a non-blocking, close-on-exec eventfd, or -errno.
int arb_cancel_fd_create(void);

/// Makes a cancellation descriptor readable: the run watching it is killed. Returns 0 or an errno.
int arb_cancel_fd_signal(int fd);

/// Frees a result's buffers.
void arb_run_result_free(struct arb_run_result *result);

/// Removes a directory tree without following symbolic links. Returns 0 or -1 with errno.
int arb_remove_tree(const char *path);

/// Moves the calling thread (only it) into cgroup v1 groups by writing to their `tasks` files (`count` paths, NULL
/// or empty entries skipped), so that the processes it starts are born there: moving each run's process instead costs an RCU
/// grace period (8-25 ms here) per run. Returns 0 or an errno.
int arb_join_cgroups_thread(const char *const *tasks, int count);

/// Marks the writable data of the Swift runtime and Foundation libraries loaded in this process MADV_DONTFORK, so
/// that each run's init (a clone of the daemon, which runs only C code and system calls) does not get a copy of their
/// page tables, and the daemon takes no copy-on-write fault on those pages after each clone. Call once, before the
/// first run; it concerns only processes cloned without exec'ing Swift code (none is). Returns the mappings marked,
/// or -errno.
int arb_dont_fork_runtime_data(void);

/// Creates an empty network namespace (only a loopback, down) and returns a descriptor holding it, or -errno.
/// Joining it costs microseconds; creating and destroying one per run costs about 1.2 ms of latency and 2 ms of CPU.
int arb_create_network_namespace(void);

/// Creates a mount namespace holding the minimal root a run sees (as root): /usr, /etc and the top-level links, the
/// `extra_visible` directories, a minimal /dev, an empty /proc and the directories down to `work_parent` (where the
/// runs' work directories are), all read-only. Returns a descriptor holding it, or -errno. A run given it
/// (`arb_run_spec.mount_template_fd`) copies it and adds its own mounts to the copy, which costs a fraction of
/// building the root, pivoting into it and tearing the host's mounts down in every run.
int arb_create_mount_template(const char *work_parent, char *const *extra_visible);

/// Probes whether this process may create the given namespaces (a throwaway child tries). Returns 0 or an errno.
int arb_probe_namespaces(int namespaces);

/// Starts a fork server: a long-lived process (a warm interpreter) that, for each run, forks a child which joins
/// the run's namespaces (it gets them from the run's init over a Unix socket, with the run's pipes), drops to the
/// run's user, limits and seccomp filter, and runs the harness. Call it from the slot's thread, so that the server
/// and every process it forks are born in the slot's cgroups. The server gets the socket as fd 3, `input` on stdin
/// and /dev/null as stdout; it dies with the calling thread. It must send the datagram `ready` on fd 3 once it has
/// loaded (this call waits up to a minute for it, so that the server's start is never counted in a run's time).
/// Returns its pid and sets `*socket_fd`, or -errno (-ECHILD when it exited or did not say `ready`).
int arb_start_fork_server(const char *path, char *const *argv, char *const *envp, const uint8_t *input,
                          size_t input_length, int *socket_fd);

/// `arb_start_fork_server` from a new thread that first joins the cgroup v1 groups of `tasks` (`count` `tasks` files,
/// see `arb_join_cgroups_thread`), so that the server is born there rather than in the caller's groups (a v1 memory
/// group keeps the charges of a process that moves out); the thread then sleeps for as long as the process lives,
/// since the server dies with the thread that started it. Same result as `arb_start_fork_server`.
int arb_start_fork_server_in_groups(const char *const *tasks, int count, const char *path, char *const *argv,
                                    char *const *envp, const uint8_t *input, size_t input_length, int *socket_fd);

/// The sandbox's seccomp filter as an array of `struct sock_filter`, for a fork server to install in its children.
/// Returns the length in bytes, or -1 (a foreign architecture, or `capacity` too small; 4096 bytes is enough).
long arb_seccomp_filter_bytes(uint8_t *buffer, size_t capacity);

/// Makes the calling slot thread's init cloner now, when runs of this slot may share the daemon's memory
/// (`memory_tasks`: the daemon's base memory group's `tasks` file, as in `arb_run_spec.shared_init_memory_tasks`;
/// NULL does nothing). The cloner is a thread of the slot's pids group: made before a run's limits are set, it is
/// counted as present there rather than as one of that run's processes. Idempotent.
void arb_prepare_slot_thread(const char *memory_tasks);

/// Probes whether a throwaway child may install the sandbox's seccomp filter. Returns 0 or an errno.
int arb_probe_seccomp(void);

#endif

// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

// The sandbox launcher. The calling thread clones an "init" process into fresh PID, network, mount, IPC and UTS
// namespaces. Init (still root, running only system calls: it is a copy of a multithreaded process) makes the file
// system read-only except the work directory, mounts its own /proc, joins the run's cgroups and forks the program,
// which drops to an unprivileged user, sets its rlimits and executes. Init reaps until the program is gone, reports
// its status on a private pipe and exits; the kernel then kills every process left in the namespace, orphans
// included. The caller feeds stdin, reads output with hard caps and kills init at the wall-clock limit.

#define _GNU_SOURCE
#include "CArbiterSandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/mount.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

int arb_install_seccomp(void);

/// A record on the status pipe: an error from init or the program, or the program's final status.
struct status_record {
    int kind; // 1 = failure, 2 = program status
    int stage;
    int error;
    int status;
    double cpu_seconds;
    long max_rss_kb;
};

// Fixed descriptor numbers inside init and the program.
enum { FD_STATUS = 5, FD_CGROUP0 = 6, FD_CGROUP1 = 7, FD_SERVER = 8, FD_TEMPLATE = 9 };

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void write_all(int fd, const void *data, size_t length) {
    const char *bytes = data;
    while (length > 0) {
        ssize_t n = write(fd, bytes, length);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        bytes += n;
        length -= (size_t)n;
    }
}

static void report_failure_to(int fd, int stage) {
    struct status_record record = {.kind = 1, .stage = stage, .error = errno};
    write_all(fd, &record, sizeof record);
}

static void report_failure(int stage) {
    report_failure_to(FD_STATUS, stage);
}

static int set_limit(int resource, rlim_t value) {
    struct rlimit limit = {value, value};
    return setrlimit(resource, &limit);
}

static void reset_signals(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++) sigaction(sig, &action, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/// The program: limits, identity, then exec. Never returns.
static void program_main(const struct arb_run_spec *spec, const char *path, char *const *argv) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int failed = 0;
    if (spec->cpu_seconds > 0) {
        rlim_t seconds = (rlim_t)spec->cpu_seconds;
        if ((double)seconds < spec->cpu_seconds) seconds += 1;
        struct rlimit cpu = {seconds, seconds + 1};
        failed |= setrlimit(RLIMIT_CPU, &cpu);
    }
    if (spec->address_space_bytes > 0) failed |= set_limit(RLIMIT_AS, (rlim_t)spec->address_space_bytes);
    if (spec->file_bytes > 0) failed |= set_limit(RLIMIT_FSIZE, (rlim_t)spec->file_bytes);
    if (spec->stack_bytes > 0) failed |= set_limit(RLIMIT_STACK, (rlim_t)spec->stack_bytes);
    if (spec->open_files > 0) failed |= set_limit(RLIMIT_NOFILE, (rlim_t)spec->open_files);
    if (spec->processes > 0) failed |= set_limit(RLIMIT_NPROC, (rlim_t)spec->processes);
    failed |= set_limit(RLIMIT_CORE, 0);
    if (failed) { report_failure(ARB_STAGE_RLIMIT); _exit(127); }
    if (spec->gid >= 0) {
        // Raw system calls: glibc's wrappers would try to synchronise threads that do not exist in this copy.
        if (syscall(SYS_setgroups, 0, NULL) != 0 || syscall(SYS_setresgid, spec->gid, spec->gid, spec->gid) != 0) {
            report_failure(ARB_STAGE_USER);
            _exit(127);
        }
    }
    if (spec->uid >= 0 && syscall(SYS_setresuid, spec->uid, spec->uid, spec->uid) != 0) {
        report_failure(ARB_STAGE_USER);
        _exit(127);
    }
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    // Changing credentials clears the parent-death signal: set it again.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (chdir(spec->workdir) != 0) { report_failure(ARB_STAGE_CHDIR); _exit(127); }
    reset_signals();
    fcntl(FD_STATUS, F_SETFD, FD_CLOEXEC);
    // In a user namespace the program keeps the caller's uid, which is not 0 there: execve drops every capability.
    if (spec->seccomp && arb_install_seccomp() != 0) { report_failure(ARB_STAGE_SECCOMP); _exit(127); }
    execve(path, argv, spec->envp);
    report_failure(ARB_STAGE_EXEC);
    _exit(127);
}

static int mount_setattr_call(const char *path, unsigned flags, uint64_t set, uint64_t clear) {
    struct mount_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.attr_set = set;
    attr.attr_clr = clear;
    return (int)syscall(SYS_mount_setattr, AT_FDCWD, path, flags, &attr, sizeof attr);
}

/// The new root's contents, computed before the clone (the child only makes system calls).
struct root_plan {
    int entries;
    const char *kind[64];    // "bind", "link" or "mkdir"
    char *source[64];        // a directory to bind, or a symbolic link's target
    char *target[64];        // where, under the staging mount
    int directories;
    char *directory[64];     // the work directory's path, component by component, under the staging mount
    char *workdir_target;
    char *server_message;    // with a fork server: what init sends it (see `server_message`)
    size_t server_message_length;
};

#define STAGING "/tmp"

static char *joined(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    char *out = malloc(la + lb + 1);
    if (out == NULL) return NULL;
    memcpy(out, a, la);
    memcpy(out + la, b, lb + 1);
    return out;
}

/// What the new root shows: /usr, /etc and /dev (bound, read-only later), the usual top-level links into /usr
/// (or the directories themselves on systems without merged /usr), and the work directory.
static void plan_root(const struct arb_run_spec *spec, struct root_plan *plan) {
    memset(plan, 0, sizeof *plan);
    static const char *visible[] = {"/usr", "/etc", "/dev", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"};
    for (size_t i = 0; i < sizeof visible / sizeof *visible && plan->entries < 32; i++) {
        if (spec->minimal_dev && strcmp(visible[i], "/dev") == 0) continue;
        struct stat info;
        if (lstat(visible[i], &info) != 0) continue;
        if (S_ISLNK(info.st_mode)) {
            char link[4096];
            ssize_t n = readlink(visible[i], link, sizeof link - 1);
            if (n <= 0) continue;
            link[n] = 0;
            plan->kind[plan->entries] = "link";
            plan->source[plan->entries] = strdup(link);
        } else if (S_ISDIR(info.st_mode)) {
            plan->kind[plan->entries] = "bind";
            plan->source[plan->entries] = strdup(visible[i]);
        } else {
            continue;
        }
        plan->target[plan->entries] = joined(STAGING, visible[i]);
        plan->entries++;
    }
    // Extra directories (a toolchain outside /usr): their parents as empty directories, then the bind.
    for (char *const *extra = spec->extra_visible; extra != NULL && *extra != NULL; extra++) {
        const char *path = *extra;
        struct stat info;
        if (path[0] != '/' || stat(path, &info) != 0 || !S_ISDIR(info.st_mode)) continue;
        // Never inside a directory already shown: its parents would be made in the host's directory.
        int inside = 0;
        for (size_t j = 0; j < sizeof visible / sizeof *visible; j++) {
            size_t length = strlen(visible[j]);
            if (strncmp(path, visible[j], length) == 0 && (path[length] == '/' || path[length] == 0)) inside = 1;
        }
        if (inside) continue;
        for (size_t i = 1; path[i] != 0 && plan->entries < 63; i++) {
            if (path[i] != '/') continue;
            char *prefix = strndup(path, i);
            plan->kind[plan->entries] = "mkdir";
            plan->source[plan->entries] = NULL;
            plan->target[plan->entries++] = joined(STAGING, prefix);
            free(prefix);
        }
        if (plan->entries >= 64) break;
        plan->kind[plan->entries] = "bind";
        plan->source[plan->entries] = strdup(path);
        plan->target[plan->entries++] = joined(STAGING, path);
    }
    // mkdir -p of the work directory under the staging root.
    const char *path = spec->workdir;
    for (size_t i = 1; path[i] != 0 && plan->directories < 63; i++) {
        if (path[i] != '/') continue;
        char *prefix = strndup(path, i);
        plan->directory[plan->directories++] = joined(STAGING, prefix);
        free(prefix);
    }
    plan->directory[plan->directories++] = joined(STAGING, path);
    plan->workdir_target = plan->directory[plan->directories - 1];
}

static void free_plan(struct root_plan *plan) {
    for (int i = 0; i < plan->entries; i++) {
        free(plan->source[i]);
        free(plan->target[i]);
    }
    for (int i = 0; i < plan->directories; i++) free(plan->directory[i]);
    free(plan->server_message);
}

/// What init tells the fork server about the run's process, built before the clone: a line of numbers (uid, gid,
/// RLIMIT_CPU's soft limit in seconds, RLIMIT_AS, RLIMIT_FSIZE, RLIMIT_STACK, RLIMIT_NOFILE, RLIMIT_NPROC, 0 for
/// none, and whether to install the seccomp filter), the work directory on a line, then the environment, each
/// entry ended by a NUL byte.
static void plan_server_message(const struct arb_run_spec *spec, struct root_plan *plan) {
    rlim_t cpu = 0;
    if (spec->cpu_seconds > 0) {
        cpu = (rlim_t)spec->cpu_seconds;
        if ((double)cpu < spec->cpu_seconds) cpu += 1;
    }
    size_t length = 512 + strlen(spec->workdir);
    for (char *const *entry = spec->envp; entry != NULL && *entry != NULL; entry++) length += strlen(*entry) + 1;
    char *message = malloc(length);
    if (message == NULL) return;
    int used = snprintf(message, length, "%d %d %llu %lld %lld %lld %d %d %d\n%s\n", spec->uid, spec->gid,
                        (unsigned long long)cpu, (long long)spec->address_space_bytes, (long long)spec->file_bytes,
                        (long long)spec->stack_bytes, spec->open_files, spec->processes, spec->seccomp, spec->workdir);
    size_t offset = (size_t)used;
    for (char *const *entry = spec->envp; entry != NULL && *entry != NULL; entry++) {
        size_t size = strlen(*entry) + 1;
        memcpy(message + offset, *entry, size);
        offset += size;
    }
    plan->server_message = message;
    plan->server_message_length = offset;
}

/// A /dev of the harmless devices (bound from the host's), the usual links into /proc and an empty `shm`.
static int make_minimal_dev(void) {
    if (mkdir(STAGING "/dev", 0755) != 0 && errno != EEXIST) return -1;
    static const char *devices[] = {"null", "zero", "full", "random", "urandom", "tty"};
    for (size_t i = 0; i < sizeof devices / sizeof *devices; i++) {
        char source[64], target[64];
        snprintf(source, sizeof source, "/dev/%s", devices[i]);
        snprintf(target, sizeof target, STAGING "/dev/%s", devices[i]);
        struct stat info;
        if (stat(source, &info) != 0 || !S_ISCHR(info.st_mode)) continue;
        int fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0) return -1;
        close(fd);
        if (mount(source, target, NULL, MS_BIND, NULL) != 0) return -1;
    }
    static const char *links[][2] = {
        {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
        {"/proc/self/fd/2", "stderr"},
    };
    for (size_t i = 0; i < 4; i++) {
        char target[64];
        snprintf(target, sizeof target, STAGING "/dev/%s", links[i][1]);
        if (symlink(links[i][0], target) != 0) return -1;
    }
    if (mkdir(STAGING "/dev/shm", 01777) != 0) return -1;
    return 0;
}

/// The host's work directory while a run's tmpfs stands in for it (init only; never the program's).
static int host_directory = -1;

/// Copies one regular file between directories (no link followed, at most `limit` bytes); -1 when it is not a
/// regular file or cannot be copied. Raw calls and a stack buffer only: this runs in a copy of a multithreaded process.
static int copy_file(int from, int to, const char *name, int64_t limit, int uid, int gid) {
    int in = openat(from, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (in < 0) return -1;
    struct stat info;
    if (fstat(in, &info) != 0 || !S_ISREG(info.st_mode) || (limit > 0 && info.st_size > limit)) {
        close(in);
        return -1;
    }
    int out = openat(to, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, info.st_mode & 0755);
    if (out < 0) { close(in); return -1; }
    char buffer[65536];
    int failed = 0;
    for (;;) {
        ssize_t n = read(in, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) { failed = 1; break; }
        if (n == 0) break;
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(out, buffer + done, (size_t)(n - done));
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) { failed = w < 0 ? errno : ENOSPC; break; }
            done += w;
        }
        if (failed) break;
    }
    fchmod(out, info.st_mode & 0755);
    if (uid >= 0) fchown(out, (uid_t)uid, (gid_t)gid);
    close(in);
    close(out);
    if (failed) errno = failed;  // the write's error (ENOSPC: the file does not fit), not a later call's
    return failed ? -1 : 0;
}

/// Copies the regular files at the top of `from` into `to` (at most `files`; directories and links are skipped).
/// Returns 0, or -1 when a file could not be copied.
static int copy_directory(int from, int to, int files, int uid, int gid) {
    char buffer[16384];
    int copied = 0, failed = 0;
    lseek(from, 0, SEEK_SET);
    for (;;) {
        long n = syscall(SYS_getdents64, from, buffer, sizeof buffer);
        if (n <= 0) break;
        for (long offset = 0; offset < n;) {
            struct { uint64_t inode; int64_t next; unsigned short length; unsigned char type; char name[]; } *entry =
                (void *)(buffer + offset);
            offset += entry->length;
            if (entry->type != DT_REG && entry->type != DT_UNKNOWN) continue;
            if (files > 0 && copied >= files) return failed;
            if (copy_file(from, to, entry->name, 0, uid, gid) == 0) copied++;
            else if (entry->type == DT_REG) failed = -1;
        }
    }
    return failed;
}

/// The new root, staged at STAGING: a tmpfs holding the plan's binds, links and directories, /proc (mounted now when
/// `with_proc`), the minimal /dev, and the directories down to the work directory's mount point.
static int stage_minimal_root(const struct arb_run_spec *spec, const struct root_plan *plan, int with_proc) {
    if (mount("tmpfs", STAGING, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,nr_inodes=256,mode=0755") != 0)
        return ARB_STAGE_MOUNT_READONLY;
    for (int i = 0; i < plan->entries; i++) {
        if (plan->kind[i][0] == 'l') {
            if (symlink(plan->source[i], plan->target[i]) != 0) return ARB_STAGE_MOUNT_READONLY;
            continue;
        }
        if (mkdir(plan->target[i], 0755) != 0 && errno != EEXIST) return ARB_STAGE_MOUNT_READONLY;
        if (plan->kind[i][0] == 'b' && mount(plan->source[i], plan->target[i], NULL, MS_BIND | MS_REC, NULL) != 0)
            return ARB_STAGE_MOUNT_READONLY;
    }
    mkdir(STAGING "/proc", 0555);
    // Mounted before the pivot: in a user namespace the kernel allows a new proc mount only while a fully visible
    // one (the host's) is still in the mount namespace.
    if (with_proc && (spec->namespaces & ARB_NS_PID) &&
        mount("proc", STAGING "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL) != 0)
        return ARB_STAGE_MOUNT_PROC;
    if (spec->minimal_dev && make_minimal_dev() != 0) return ARB_STAGE_MOUNT_DEV;
    for (int i = 0; i < plan->directories; i++) {
        if (mkdir(plan->directory[i], 0755) != 0 && errno != EEXIST) return ARB_STAGE_MOUNT_WORKDIR;
    }
    return ARB_STAGE_NONE;
}

/// Creates the run's files from memory (`memory_file_*`) in the work directory's tmpfs, owned by the run's user, mode
/// 0644. Returns 0, or -1 when one cannot be written.
static int write_memory_files(const struct arb_run_spec *spec, int directory) {
    for (int i = 0; i < spec->memory_file_count; i++) {
        const char *name = spec->memory_file_names[i];
        if (name == NULL || name[0] == 0 || strchr(name, '/') != NULL) return -1;
        int out = openat(directory, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (out < 0) return -1;
        const uint8_t *data = spec->memory_file_data[i];
        size_t left = spec->memory_file_lengths[i];
        int failed = 0;
        while (left > 0) {
            ssize_t n = write(out, data, left);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) { failed = n < 0 ? errno : ENOSPC; break; }
            data += n;
            left -= (size_t)n;
        }
        fchmod(out, 0644);
        if (spec->uid >= 0 && fchown(out, (uid_t)spec->uid, (gid_t)spec->gid) != 0 && !failed) failed = errno;
        close(out);
        if (failed) {
            errno = failed;  // the write's error (ENOSPC: the file does not fit), not a later call's
            return -1;
        }
    }
    return 0;
}

/// Mounts the run's work directory at `target`: the host's directory as a mount to move (`work`), or a fresh tmpfs
/// holding copies of the files of `host_directory`.
static int mount_work_directory(const struct arb_run_spec *spec, int work, const char *target) {
    if (work >= 0) {
        if (syscall(SYS_move_mount, work, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) != 0)
            return ARB_STAGE_MOUNT_WORKDIR;
        close(work);
        return ARB_STAGE_NONE;
    }
    char options[160];
    snprintf(options, sizeof options, "size=%lld,nr_inodes=%d,mode=0700,uid=%d,gid=%d",
             (long long)spec->workdir_tmpfs_bytes, spec->workdir_tmpfs_files > 0 ? spec->workdir_tmpfs_files : 10000,
             spec->uid >= 0 ? spec->uid : (int)getuid(), spec->gid >= 0 ? spec->gid : (int)getgid());
    if (mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, options) != 0) return ARB_STAGE_MOUNT_WORKDIR;
    int directory = open(target, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (directory < 0) return ARB_STAGE_MOUNT_WORKDIR;
    int copied = spec->workdir_in_memory
                     ? write_memory_files(spec, directory)
                     : copy_directory(host_directory, directory, spec->workdir_tmpfs_files, spec->uid, spec->gid);
    int error = errno;
    close(directory);
    errno = error;
    return copied != 0 ? ARB_STAGE_WORKDIR_FILES : ARB_STAGE_NONE;
}

/// Pivots into the staged root and makes all of it read-only.
static int enter_staged_root(void) {
    if (chdir(STAGING) != 0 || syscall(SYS_pivot_root, ".", ".") != 0 || umount2(".", MNT_DETACH) != 0 ||
        chdir("/") != 0)
        return ARB_STAGE_MOUNT_READONLY;
    if (mount_setattr_call("/", AT_RECURSIVE, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, 0) != 0)
        return ARB_STAGE_MOUNT_READONLY;
    return ARB_STAGE_NONE;
}

/// A minimal root: a tmpfs holding binds of the system directories and of the work directory, pivoted into.
static int pivot_to_minimal_root(const struct arb_run_spec *spec, const struct root_plan *plan) {
    // Take the work directory before the staging mount hides it: as a mount to move, or (tmpfs) as the directory
    // whose files are copied in.
    int work = -1;
    if (spec->workdir_tmpfs_bytes > 0) {
        if (!spec->workdir_in_memory) {
            host_directory = open(spec->workdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (host_directory < 0) return ARB_STAGE_MOUNT_WORKDIR;
        }
    } else {
        work = (int)syscall(SYS_open_tree, AT_FDCWD, spec->workdir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        if (work < 0) return ARB_STAGE_MOUNT_WORKDIR;
    }
    int stage = stage_minimal_root(spec, plan, 1);
    if (stage == ARB_STAGE_NONE) stage = mount_work_directory(spec, work, plan->workdir_target);
    if (stage == ARB_STAGE_NONE) stage = enter_staged_root();
    if (stage != ARB_STAGE_NONE) return stage;
    if (mount_setattr_call(spec->workdir, 0, 0, MOUNT_ATTR_RDONLY) != 0) return ARB_STAGE_MOUNT_WORKDIR;
    return ARB_STAGE_NONE;
}

/// Whether a run enters its slot's mount template (`arb_create_mount_template`) instead of building its root.
static int uses_mount_template(const struct arb_run_spec *spec) {
    return spec->use_mount_template && (spec->namespaces & ARB_NS_MOUNT) && !(spec->namespaces & ARB_NS_USER) &&
           spec->readonly_root && spec->workdir_tmpfs_bytes > 0 && spec->workdir[0] == '/';
}

/// The run's root from its slot's template: init joins the template's mount namespace (descriptor FD_TEMPLATE) and
/// takes a private copy of it, so nothing it mounts reaches the template or another run. What is the run's own is
/// mounted fresh: a small read-only tmpfs on the work directory's parent (so the directory can be made), the work
/// directory's tmpfs with copies of the host directory's files, and /proc of the run's PID namespace.
static int enter_mount_template(const struct arb_run_spec *spec) {
    if (!spec->workdir_in_memory) {
        host_directory = open(spec->workdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (host_directory < 0) return ARB_STAGE_MOUNT_WORKDIR;
    }
    if (setns(FD_TEMPLATE, CLONE_NEWNS) != 0 || unshare(CLONE_NEWNS) != 0) return ARB_STAGE_MOUNT_PRIVATE;
    close(FD_TEMPLATE);
    char parent[4096];
    size_t length = strlen(spec->workdir);
    if (length >= sizeof parent) return ARB_STAGE_MOUNT_WORKDIR;
    memcpy(parent, spec->workdir, length + 1);
    char *slash = strrchr(parent, '/');
    if (slash == NULL || slash == parent) return ARB_STAGE_MOUNT_WORKDIR;
    *slash = 0;
    if (mount("tmpfs", parent, "tmpfs", MS_NOSUID | MS_NODEV, "size=16k,nr_inodes=16,mode=0755") != 0 ||
        mkdir(spec->workdir, 0755) != 0)
        return ARB_STAGE_MOUNT_WORKDIR;
    int stage = mount_work_directory(spec, -1, spec->workdir);
    if (stage != ARB_STAGE_NONE) return stage;
    if (mount_setattr_call(parent, 0, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, 0) != 0) return ARB_STAGE_MOUNT_WORKDIR;
    if ((spec->namespaces & ARB_NS_PID) &&
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL) != 0)
        return ARB_STAGE_MOUNT_PROC;
    return ARB_STAGE_NONE;
}

/// The view of the file system: private mounts, a minimal read-only root with the work directory writable, a
/// fresh /proc and /dev/shm.
static int prepare_mounts(const struct arb_run_spec *spec, const struct root_plan *plan) {
    if (uses_mount_template(spec)) {
        int stage = enter_mount_template(spec);
        if (stage != ARB_STAGE_NONE) return stage;
    } else if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
        return ARB_STAGE_MOUNT_PRIVATE;
    } else if (spec->readonly_root) {
        int stage = pivot_to_minimal_root(spec, plan);
        if (stage != ARB_STAGE_NONE) return stage;
    }
    if (spec->private_shm &&
        mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,nr_inodes=256,mode=1777") != 0)
        return ARB_STAGE_MOUNT_SHM;
    if ((spec->namespaces & ARB_NS_PID) && !spec->readonly_root &&
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL) != 0)
        return ARB_STAGE_MOUNT_PROC;
    return ARB_STAGE_NONE;
}

/// Writes a short text to a file (raw system calls only: this runs in a copy of a multithreaded process).
static int write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t length = (ssize_t)strlen(text);
    ssize_t written = write(fd, text, (size_t)length);
    close(fd);
    return written == length ? 0 : -1;
}

/// Maps the caller's uid and gid to themselves in the new user namespace (the only ids it has), after denying
/// setgroups as an unprivileged mapping requires.
static int map_user_namespace(uid_t uid, gid_t gid) {
    char text[64];
    if (write_file("/proc/self/setgroups", "deny") != 0 && errno != ENOENT) return -1;
    snprintf(text, sizeof text, "%u %u 1\n", (unsigned)uid, (unsigned)uid);
    if (write_file("/proc/self/uid_map", text) != 0) return -1;
    snprintf(text, sizeof text, "%u %u 1\n", (unsigned)gid, (unsigned)gid);
    return write_file("/proc/self/gid_map", text);
}

/// The daemon's command line and environment as this process sees them (its /proc/<pid>/cmdline reads that range).
static unsigned long arg_start, arg_end;
static pthread_once_t arg_once = PTHREAD_ONCE_INIT;

static void find_arg_area(void) {
    char buffer[4096];
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    ssize_t n = read(fd, buffer, sizeof buffer - 1);
    close(fd);
    if (n <= 0) return;
    buffer[n] = 0;
    char *field = strrchr(buffer, ')');
    if (field == NULL) return;
    // After the command's closing parenthesis: field 3 (state) onwards; arg_start and arg_end are fields 48 and 49.
    unsigned long values[2] = {0, 0};
    int index = 2;
    for (char *p = field + 1; *p != 0; p++) {
        if (*p != ' ') continue;
        index++;
        if (index == 48 || index == 49) values[index - 48] = strtoul(p + 1, NULL, 10);
    }
    if (values[0] != 0 && values[1] > values[0] && values[1] - values[0] < (1UL << 20)) {
        arg_start = values[0];
        arg_end = values[1];
    }
}

/// Overwrites init's copy of the daemon's command line, which its /proc/1/cmdline would show to the program.
static void hide_command_line(void) {
    if (arg_start == 0) return;
    char *area = (char *)arg_start;
    size_t length = arg_end - arg_start;
    memset(area, 0, length);
    static const char name[] = "arbiter-sandbox-init";
    if (length > sizeof name) memcpy(area, name, sizeof name);
}

static double cpu_of(const struct rusage *usage) {
    return (double)usage->ru_utime.tv_sec + (double)usage->ru_utime.tv_usec / 1e6 + (double)usage->ru_stime.tv_sec +
           (double)usage->ru_stime.tv_usec / 1e6;
}

/// Starts the companion (`spec->companion_path`): the program's own process in a split harness, in a PID namespace
/// and mount namespace of its own with its own /proc, so that it can neither see nor signal nor read the harness
/// (the program's parent in spirit, its sibling here). It reads requests on fd 3 and answers on fd 4; the harness
/// gets the other ends as fds 6 (requests) and 7 (answers). Returns its pid, or -1.
static pid_t start_companion(const struct arb_run_spec *spec) {
    int requests[2], answers[2];
    if (pipe2(requests, O_CLOEXEC) != 0 || pipe2(answers, O_CLOEXEC) != 0) return -1;
    // Above every fixed number, so that the moves below never overwrite an end still needed.
    int ends[4] = {requests[0], requests[1], answers[0], answers[1]};
    for (int i = 0; i < 4; i++) {
        int high = fcntl(ends[i], F_DUPFD_CLOEXEC, 120 + i);
        close(ends[i]);
        ends[i] = high;
    }
    int flags = SIGCHLD | CLONE_NEWPID | CLONE_NEWNS;
    pid_t companion = (pid_t)syscall(SYS_clone, flags, 0, 0, 0, 0);
    if (companion < 0) return -1;
    if (companion == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (dup2(ends[0], 3) != 3 || dup2(ends[3], 4) != 4) _exit(127);
        syscall(SYS_close_range, 6, ~0U, 0);
        if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL) != 0) {
            report_failure(ARB_STAGE_COMPANION);
            _exit(127);
        }
        char *const *argv = spec->companion_argv;
        program_main(spec, spec->companion_path, argv);
    }
    if (dup2(ends[1], 6) != 6 || dup2(ends[2], 7) != 7) return -1;
    for (int i = 0; i < 4; i++) close(ends[i]);
    return companion;
}

/// Asks the fork server for the program's process: sends it the run's five descriptors (stdin, stdout, stderr, the
/// harness's fds 3 and 4), init's namespaces and a pipe on which the process it forks writes its pid (in this PID
/// namespace), then, when the program ends, its wait status, CPU seconds and peak memory (the server, a subreaper,
/// reaps it: a process that joined this PID namespace is never init's child). Returns the program's pid and the
/// pipe's reading end in `*answer_fd`, or -1 with errno.
static pid_t program_from_server(const struct root_plan *plan, int in_user_namespace, int *answer_fd) {
    if (plan->server_message == NULL) { errno = ENOMEM; return -1; }
    // In a user namespace of the run's own, it goes too (after the five others): the server's child joins it first.
    static const char *spaces[] = {"/proc/self/ns/mnt", "/proc/self/ns/pid", "/proc/self/ns/net", "/proc/self/ns/ipc",
                                   "/proc/self/ns/uts", "/proc/self/ns/user"};
    int spaces_sent = in_user_namespace ? 6 : 5;
    int fds[12] = {0, 1, 2, 3, 4, -1, -1, -1, -1, -1, -1, -1};
    int count = 5 + spaces_sent + 1;
    int answer[2] = {-1, -1};
    pid_t program = -1;
    for (int i = 0; i < spaces_sent; i++) {
        fds[5 + i] = open(spaces[i], O_RDONLY | O_CLOEXEC);
        if (fds[5 + i] < 0) goto done;
    }
    if (pipe2(answer, O_CLOEXEC) != 0) goto done;
    fds[count - 1] = answer[1];
    union {
        char buffer[CMSG_SPACE(sizeof fds)];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof control);
    struct iovec part = {.iov_base = plan->server_message, .iov_len = plan->server_message_length};
    struct msghdr message = {.msg_iov = &part, .msg_iovlen = 1, .msg_control = control.buffer,
                             .msg_controllen = sizeof control.buffer};
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)count);
    message.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)count);
    memcpy(CMSG_DATA(header), fds, sizeof(int) * (size_t)count);
    ssize_t sent;
    do sent = sendmsg(FD_SERVER, &message, MSG_NOSIGNAL); while (sent < 0 && errno == EINTR);
    if (sent != (ssize_t)plan->server_message_length) goto done;
    close(answer[1]);
    answer[1] = fds[count - 1] = -1;
    // One byte at a time: the status line may follow at once (a program that ends before init reads), and it
    // must stay in the pipe for `server_outcome`.
    char text[32];
    size_t length = 0;
    while (length < sizeof text - 1) {
        ssize_t n = read(answer[0], text + length, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        length += (size_t)n;
        if (text[length - 1] == '\n') break;
    }
    text[length] = 0;
    long pid = length > 1 && text[length - 1] == '\n' ? strtol(text, NULL, 10) : 0;
    if (pid > 1) {
        program = (pid_t)pid;
        *answer_fd = answer[0];
        answer[0] = -1;
    } else {
        errno = ECHILD;
    }
done:;
    int saved = errno;
    for (int i = 5; i < count; i++) if (fds[i] >= 0) close(fds[i]);
    if (answer[0] >= 0) close(answer[0]);
    if (answer[1] >= 0 && fds[count - 1] != answer[1]) close(answer[1]);
    errno = saved;
    return program;
}

/// The program's end as the fork server reports it on the answer pipe (its wait status, CPU seconds and peak
/// memory). A server that died first reports nothing: the program counts as killed.
static void server_outcome(int answer, struct status_record *record) {
    char text[128];
    size_t length = 0;
    while (length < sizeof text - 1) {
        ssize_t n = read(answer, text + length, sizeof text - 1 - length);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        length += (size_t)n;
        if (text[length - 1] == '\n') break;
    }
    text[length] = 0;
    close(answer);
    int status;
    double cpu;
    long rss;
    if (length > 0 && text[length - 1] == '\n' && sscanf(text, "%d %lf %ld", &status, &cpu, &rss) == 3) {
        record->status = status;
        record->cpu_seconds = cpu;
        record->max_rss_kb = rss;
    } else {
        record->status = SIGKILL;
    }
}

/// While a fork server's program runs, init is not its parent but it is PID 1 of the run's namespace, and so the
/// parent of every orphan the program leaves (a double fork, a daemonised helper): they are reaped as they end,
/// else their zombies would hold the run's process limit until the run is over (a program making 200 short-lived
/// orphans failed with EAGAIN under the fork server and passed without it). Returns when the answer pipe is
/// readable or closed. The companion's end is kept, with its CPU time. Without a signalfd it only waits, as before.
static void reap_until_answer(int answer, pid_t *companion, double *companion_cpu) {
    sigset_t child;
    sigemptyset(&child);
    sigaddset(&child, SIGCHLD);
    sigprocmask(SIG_BLOCK, &child, NULL);
    int signals = signalfd(-1, &child, SFD_CLOEXEC | SFD_NONBLOCK);
    for (;;) {
        for (;;) {
            int status;
            struct rusage usage;
            pid_t reaped = wait4(-1, &status, WNOHANG, &usage);
            if (reaped < 0 && errno == EINTR) continue;
            if (reaped <= 0) break;
            if (reaped == *companion) {
                *companion_cpu = cpu_of(&usage);
                *companion = -1;
            }
        }
        struct pollfd ready[2] = {{.fd = answer, .events = POLLIN}, {.fd = signals, .events = POLLIN}};
        int n = poll(ready, signals >= 0 ? 2 : 1, -1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 || ready[0].revents != 0) break;
        struct signalfd_siginfo info;
        while (read(signals, &info, sizeof info) > 0) {}
    }
    if (signals >= 0) close(signals);
}

/// Init: everything between the clone and the program, then the reaping loop. Never returns.
static void init_main(const struct arb_run_spec *spec, const struct root_plan *plan, const int *fds, uid_t uid,
                      gid_t gid) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    // The mapping first: a non-dumpable process's /proc/self files belong to root, and it could not write them.
    if ((spec->namespaces & ARB_NS_USER) && map_user_namespace(uid, gid) != 0) {
        report_failure_to(fds[5], ARB_STAGE_USERNS);
        _exit(0);
    }
    prctl(PR_SET_DUMPABLE, 0);
    hide_command_line();
    // Move the six descriptors to 0…5 and the network namespace's to 6 (through high numbers, so that none
    // overwrites another), close the rest.
    // With a fork server, its socket goes to FD_SERVER.
    // With a mount template, its descriptor goes to FD_TEMPLATE.
    int joins_network = (spec->namespaces & ARB_NS_NET) && spec->network_fd >= 0;
    int template = uses_mount_template(spec);
    int high[9];
    for (int i = 0; i < 6; i++) high[i] = fcntl(fds[i], F_DUPFD, 100 + i);
    if (joins_network) high[6] = fcntl(spec->network_fd, F_DUPFD, 106);
    if (spec->use_fork_server) high[7] = fcntl(spec->fork_server_fd, F_DUPFD, 107);
    if (template) high[8] = fcntl(spec->mount_template_fd, F_DUPFD, 108);
    for (int i = 0; i < 6; i++) dup2(high[i], i);
    if (joins_network) dup2(high[6], 6);
    if (spec->use_fork_server) dup2(high[7], FD_SERVER);
    if (template) dup2(high[8], FD_TEMPLATE);
    // Everything from 6 up goes, except the descriptors just placed (in increasing order).
    int keep[3], kept = 0;
    if (joins_network) keep[kept++] = 6;
    if (spec->use_fork_server) keep[kept++] = FD_SERVER;
    if (template) keep[kept++] = FD_TEMPLATE;
    unsigned next = 6;
    for (int i = 0; i < kept; i++) {
        if ((unsigned)keep[i] > next) syscall(SYS_close_range, next, (unsigned)keep[i] - 1, 0);
        next = (unsigned)keep[i] + 1;
    }
    syscall(SYS_close_range, next, ~0U, 0);
    if (joins_network) {
        if (setns(6, CLONE_NEWNET) != 0) { report_failure(ARB_STAGE_CLONE); _exit(0); }
        close(6);
    }
    reset_signals();
    setsid();
    for (int i = 0; i < 4; i++) {
        if (spec->cgroup_procs[i] == NULL) continue;
        int fd = open(spec->cgroup_procs[i], O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, "0", 1) != 1) { report_failure(ARB_STAGE_CGROUP); _exit(0); }
        close(fd);
    }
    if (spec->namespaces & ARB_NS_MOUNT) {
        int stage = prepare_mounts(spec, plan);
        if (stage != ARB_STAGE_NONE) { report_failure(stage); _exit(0); }
    }
    pid_t companion = -1;
    if (spec->companion_path != NULL) {
        companion = start_companion(spec);
        if (companion < 0) { report_failure(ARB_STAGE_COMPANION); _exit(0); }
    }
    pid_t program;
    int answer = -1;
    if (spec->use_fork_server) {
        program = program_from_server(plan, (spec->namespaces & ARB_NS_USER) != 0, &answer);
        close(FD_SERVER);
    } else {
        program = (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
        if (program == 0) program_main(spec, spec->path, spec->argv);
    }
    if (program <= 0) { report_failure(ARB_STAGE_FORK); _exit(0); }
    for (int fd = 0; fd < 5; fd++) close(fd);
    if (companion > 0) {
        close(6);
        close(7);
    }
    struct status_record record = {.kind = 2};
    double companion_cpu = 0;
    if (answer >= 0) {
        reap_until_answer(answer, &companion, &companion_cpu);
        server_outcome(answer, &record);
    }
    for (; answer < 0;) {
        int status;
        struct rusage usage;
        pid_t reaped = wait4(-1, &status, 0, &usage);
        if (reaped < 0 && errno == EINTR) continue;
        if (reaped < 0) break;
        if (reaped == companion) {
            companion_cpu = cpu_of(&usage);
            companion = -1;
        }
        if (reaped == program) {
            record.status = status;
            record.cpu_seconds = cpu_of(&usage);
            record.max_rss_kb = usage.ru_maxrss;
            break;
        }
    }
    // The companion (the program's own process of a split harness) counts towards the run's CPU time.
    if (companion > 0) {
        kill(companion, SIGKILL);
        struct rusage usage;
        int status;
        while (wait4(companion, &status, 0, &usage) < 0 && errno == EINTR) {}
        companion_cpu = cpu_of(&usage);
    }
    record.cpu_seconds += companion_cpu;
    // A compiler's outputs go back to the host directory before the status says the run is over.
    if (spec->export_files && host_directory >= 0) {
        int work = open(spec->workdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (work >= 0) {
            copy_directory(work, host_directory, spec->workdir_tmpfs_files, -1, -1);
            close(work);
        }
    }
    write_all(FD_STATUS, &record, sizeof record);
    // Exiting kills whatever is left in the PID namespace.
    _exit(0);
}

// ---------------------------------------------------------------------------------------------------------------------
// Init sharing the daemon's memory (root, mount template, fork server, work directory in memory: every run of a
// warm interpreter as root). Cloning init with CLONE_VM copies no page table: the clone of the daemon and the
// copy-on-write faults it caused (in init, and in the daemon afterwards) were the largest cost of a run outside
// Python. Such an init may write no memory the daemon uses: it runs on a stack of its own (the slot thread's, made
// once), reads only what the slot thread keeps unchanged until init is reaped (the spec, the server message, its
// arguments on its own stack), and makes raw system calls only (glibc's wrappers would write `errno`, the slot
// thread's, while it watches the run). It never returns to glibc: its last call is exit_group.

#if defined(__x86_64__) || defined(__aarch64__)
#define ARB_SHARED_INIT 1

/// A system call without glibc: the result, or -errno.
static inline long kcall(long n, long a, long b, long c, long d, long e, long f) {
#if defined(__x86_64__)
    long result;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(result)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return result;
#else
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    register long x5 __asm__("x5") = f;
    __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
    return x0;
#endif
}

#define K0(n) kcall((n), 0, 0, 0, 0, 0, 0)
#define K1(n, a) kcall((n), (long)(a), 0, 0, 0, 0, 0)
#define K2(n, a, b) kcall((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define K3(n, a, b, c) kcall((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define K4(n, a, b, c, d) kcall((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define K5(n, a, b, c, d, e) kcall((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

/// What the slot thread hands a shared-memory init, written at the top of init's stack before the clone.
struct shared_init_arguments {
    const struct arb_run_spec *spec;
    const char *server_message;
    size_t server_message_length;
    int fds[6];
};

/// The slot thread's stack for its inits (one run at a time per slot thread), made on first use.
static __thread char *shared_init_stack;
enum { SHARED_INIT_STACK_BYTES = 256 << 10 };

static __attribute__((noreturn)) void kexit(void) {
    for (;;) K1(SYS_exit_group, 0);
}

/// Writes all of `data`: 0, or -errno (-EIO when the descriptor takes nothing).
static long kwrite_all(int fd, const void *data, size_t length) {
    const char *bytes = data;
    while (length > 0) {
        long n = K3(SYS_write, fd, bytes, length);
        if (n == -EINTR) continue;
        if (n <= 0) return n < 0 ? n : -EIO;
        bytes += n;
        length -= (size_t)n;
    }
    return 0;
}

static __attribute__((noreturn)) void kfail_to(int fd, int stage, long error) {
    struct status_record record = {.kind = 1, .stage = stage, .error = (int)-error};
    kwrite_all(fd, &record, sizeof record);
    kexit();
}

static __attribute__((noreturn)) void kfail(int stage, long error) {
    kfail_to(FD_STATUS, stage, error);
}

/// Appends text, then a decimal number, to `out` (of `size` bytes, kept NUL-terminated); glibc's formatting is left
/// out of this process.
static void kappend(char *out, size_t size, const char *text, long long number) {
    size_t used = strlen(out);
    for (; *text != 0 && used + 1 < size; text++) out[used++] = *text;
    char digits[24];
    int count = 0;
    unsigned long long value = number < 0 ? (unsigned long long)-number : (unsigned long long)number;
    do digits[count++] = (char)('0' + value % 10); while ((value /= 10) != 0);
    if (number < 0 && used + 1 < size) out[used++] = '-';
    while (count > 0 && used + 1 < size) out[used++] = digits[--count];
    out[used] = 0;
}

static long kmount(const char *source, const char *target, const char *type, unsigned long flags, const char *data) {
    return K5(SYS_mount, source, target, type, flags, data);
}

/// A decimal number from `*text` (an optional minus, digits), advancing past it and one following space.
static long kparse_long(const char **text) {
    const char *p = *text;
    int negative = *p == '-';
    if (negative) p++;
    long value = 0;
    while (*p >= '0' && *p <= '9') value = value * 10 + (*p++ - '0');
    if (*p == ' ') p++;
    *text = p;
    return negative ? -value : value;
}

/// `<integer>.<fraction>` as the fork server writes CPU seconds (`%.6f`).
static double kparse_seconds(const char **text) {
    double value = (double)kparse_long(text);
    const char *p = *text;
    if (*p == '.') {
        p++;
        double scale = 0.1;
        while (*p >= '0' && *p <= '9') {
            value += (*p++ - '0') * scale;
            scale /= 10;
        }
    }
    if (*p == ' ') p++;
    *text = p;
    return value;
}

/// The shared-memory init: `init_main`'s steps for this one case, in raw calls. Never returns.
static int shared_init_main(void *argument) {
    const struct shared_init_arguments *arguments = argument;
    const struct arb_run_spec *spec = arguments->spec;
    K2(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL);
    // Not made non-dumpable (that would make the daemon so): nothing in the run can trace or read this process, which
    // is root while the run's processes are the sandbox user without capabilities; its command line is masked below.
    // The descriptors to 0…5, the network namespace's to 6, the server's and the template's to theirs, through high
    // numbers; then everything else closed.
    long high[9];
    for (int i = 0; i < 6; i++) high[i] = K3(SYS_fcntl, arguments->fds[i], F_DUPFD, 100 + i);
    high[6] = K3(SYS_fcntl, spec->network_fd, F_DUPFD, 106);
    high[7] = K3(SYS_fcntl, spec->fork_server_fd, F_DUPFD, 107);
    high[8] = K3(SYS_fcntl, spec->mount_template_fd, F_DUPFD, 108);
    for (int i = 0; i < 9; i++)
        if (high[i] < 0) kfail_to(arguments->fds[5], ARB_STAGE_CLONE, high[i]);
    for (int i = 0; i < 6; i++) K3(SYS_dup3, high[i], i, 0);
    K3(SYS_dup3, high[6], 6, 0);
    K3(SYS_dup3, high[7], FD_SERVER, 0);
    K3(SYS_dup3, high[8], FD_TEMPLATE, 0);
    K3(SYS_close_range, 7, FD_SERVER - 1, 0);
    K3(SYS_close_range, FD_TEMPLATE + 1, ~0U, 0);
    long error = K2(SYS_setns, 6, CLONE_NEWNET);
    if (error != 0) kfail(ARB_STAGE_CLONE, error);
    K1(SYS_close, 6);
    // Default handlers (this process has its own table), then nothing blocked.
    struct { void *handler; unsigned long flags; void *restorer; unsigned long mask; } standard = {0};
    for (int sig = 1; sig <= 64; sig++)
        if (sig != SIGKILL && sig != SIGSTOP) K4(SYS_rt_sigaction, sig, &standard, 0, 8);
    unsigned long none = 0;
    K4(SYS_rt_sigprocmask, SIG_SETMASK, &none, 0, 8);
    K0(SYS_setsid);
    // The root: a private copy of the slot's template, then the run's own mounts (see `enter_mount_template`).
    if ((error = K2(SYS_setns, FD_TEMPLATE, CLONE_NEWNS)) != 0 || (error = K1(SYS_unshare, CLONE_NEWNS)) != 0)
        kfail(ARB_STAGE_MOUNT_PRIVATE, error);
    K1(SYS_close, FD_TEMPLATE);
    char parent[4096];
    size_t length = strlen(spec->workdir);
    if (length >= sizeof parent) kfail(ARB_STAGE_MOUNT_WORKDIR, -ENAMETOOLONG);
    memcpy(parent, spec->workdir, length + 1);
    char *slash = strrchr(parent, '/');
    if (slash == NULL || slash == parent) kfail(ARB_STAGE_MOUNT_WORKDIR, -EINVAL);
    *slash = 0;
    if ((error = kmount("tmpfs", parent, "tmpfs", MS_NOSUID | MS_NODEV, "size=16k,nr_inodes=16,mode=0755")) != 0 ||
        (error = K3(SYS_mkdirat, AT_FDCWD, spec->workdir, 0755)) != 0)
        kfail(ARB_STAGE_MOUNT_WORKDIR, error);
    char options[160] = "";
    kappend(options, sizeof options, "size=", spec->workdir_tmpfs_bytes);
    kappend(options, sizeof options, ",nr_inodes=", spec->workdir_tmpfs_files > 0 ? spec->workdir_tmpfs_files : 10000);
    kappend(options, sizeof options, ",mode=0700,uid=", spec->uid);
    kappend(options, sizeof options, ",gid=", spec->gid);
    if ((error = kmount("tmpfs", spec->workdir, "tmpfs", MS_NOSUID | MS_NODEV, options)) != 0)
        kfail(ARB_STAGE_MOUNT_WORKDIR, error);
    long directory = K4(SYS_openat, AT_FDCWD, spec->workdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
    if (directory < 0) kfail(ARB_STAGE_MOUNT_WORKDIR, directory);
    for (int i = 0; i < spec->memory_file_count; i++) {
        const char *name = spec->memory_file_names[i];
        if (name == NULL || name[0] == 0 || strchr(name, '/') != NULL) kfail(ARB_STAGE_MOUNT_WORKDIR, -EINVAL);
        long out = K4(SYS_openat, directory, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (out < 0) kfail(ARB_STAGE_WORKDIR_FILES, out);
        if ((error = kwrite_all(out, spec->memory_file_data[i], spec->memory_file_lengths[i])) != 0)
            kfail(ARB_STAGE_WORKDIR_FILES, error);
        K2(SYS_fchmod, out, 0644);
        if ((error = K3(SYS_fchown, out, spec->uid, spec->gid)) != 0) kfail(ARB_STAGE_MOUNT_WORKDIR, error);
        K1(SYS_close, out);
    }
    K1(SYS_close, directory);
    struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID};
    if ((error = K5(SYS_mount_setattr, AT_FDCWD, parent, 0, &attr, sizeof attr)) != 0)
        kfail(ARB_STAGE_MOUNT_WORKDIR, error);
    // The run's /proc, where what this process shows of the daemon's memory (it shares it) reads empty: /dev/null is
    // bound over its command line (the daemon's, which cannot be overwritten) and over the files that give the
    // memory's size to anyone (stat, statm, status: watched live, the daemon's size told the program the size and
    // timing of concurrent requests — a red-team finding). Everything else of this process that shows memory
    // (environ, mem, maps, smaps) needs ptrace access, which the run's processes (the sandbox user, without
    // capabilities) do not have over root.
    static const char *masked[] = {"/proc/1/cmdline", "/proc/1/task/1/cmdline", "/proc/1/stat", "/proc/1/task/1/stat",
                                   "/proc/1/statm", "/proc/1/task/1/statm", "/proc/1/status", "/proc/1/task/1/status"};
    if ((error = kmount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL)) != 0)
        kfail(ARB_STAGE_MOUNT_PROC, error);
    for (size_t i = 0; i < sizeof masked / sizeof masked[0]; i++)
        if ((error = kmount("/dev/null", masked[i], NULL, MS_BIND, NULL)) != 0) kfail(ARB_STAGE_MOUNT_PROC, error);
    if ((error = kmount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,nr_inodes=256,mode=1777")) != 0)
        kfail(ARB_STAGE_MOUNT_SHM, error);
    // The program's process from the fork server (see `program_from_server`).
    static const char *spaces[] = {"/proc/self/ns/mnt", "/proc/self/ns/pid", "/proc/self/ns/net", "/proc/self/ns/ipc",
                                   "/proc/self/ns/uts"};
    int fds[11] = {0, 1, 2, 3, 4};
    for (int i = 0; i < 5; i++) {
        long fd = K4(SYS_openat, AT_FDCWD, spaces[i], O_RDONLY | O_CLOEXEC, 0);
        if (fd < 0) kfail(ARB_STAGE_FORK, fd);
        fds[5 + i] = (int)fd;
    }
    int answer[2];
    if ((error = K2(SYS_pipe2, answer, O_CLOEXEC)) != 0) kfail(ARB_STAGE_FORK, error);
    fds[10] = answer[1];
    union {
        char buffer[CMSG_SPACE(sizeof fds)];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof control);
    struct iovec part = {.iov_base = (void *)arguments->server_message, .iov_len = arguments->server_message_length};
    struct msghdr message = {.msg_iov = &part, .msg_iovlen = 1, .msg_control = control.buffer,
                             .msg_controllen = CMSG_SPACE(sizeof fds)};
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof fds);
    memcpy(CMSG_DATA(header), fds, sizeof fds);
    long sent;
    do sent = K3(SYS_sendmsg, FD_SERVER, &message, MSG_NOSIGNAL); while (sent == -EINTR);
    if (sent != (long)arguments->server_message_length) kfail(ARB_STAGE_FORK, sent < 0 ? sent : -EPIPE);
    for (int i = 5; i < 11; i++) K1(SYS_close, fds[i]);
    K1(SYS_close, FD_SERVER);
    // The program's pid line, one byte at a time (its status line may follow at once).
    char text[128];
    size_t got = 0;
    while (got < 31) {
        long n = K3(SYS_read, answer[0], text + got, 1);
        if (n == -EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
        if (text[got - 1] == '\n') break;
    }
    text[got] = 0;
    const char *cursor = text;
    if (got < 2 || text[got - 1] != '\n' || kparse_long(&cursor) <= 1) kfail(ARB_STAGE_FORK, -ECHILD);
    for (int fd = 0; fd < 5; fd++) K1(SYS_close, fd);
    // Until the program's end is told, the run's orphans (whose parent this process is, PID 1 of the run) are reaped
    // as they end, as `reap_until_answer` does in the other init.
    unsigned long child_signal = 1UL << (SIGCHLD - 1);
    K4(SYS_rt_sigprocmask, SIG_BLOCK, &child_signal, 0, 8);
    long signals = K4(SYS_signalfd4, -1, &child_signal, 8, SFD_CLOEXEC | SFD_NONBLOCK);
    for (;;) {
        int reaped_status;
        long reaped;
        do reaped = K4(SYS_wait4, -1, &reaped_status, WNOHANG, 0); while (reaped > 0 || reaped == -EINTR);
        struct pollfd ready[2] = {{.fd = answer[0], .events = POLLIN}, {.fd = (int)signals, .events = POLLIN}};
        long n = K5(SYS_ppoll, ready, signals >= 0 ? 2 : 1, 0, 0, 8);
        if (n == -EINTR) continue;
        if (n < 0 || ready[0].revents != 0) break;
        struct signalfd_siginfo info;
        while (K3(SYS_read, signals, &info, sizeof info) > 0) {}
    }
    if (signals >= 0) K1(SYS_close, signals);
    // Its end: wait status, CPU seconds, peak memory (see `server_outcome`); nothing when the server died.
    struct status_record record = {.kind = 2, .status = SIGKILL};
    got = 0;
    while (got < sizeof text - 1) {
        long n = K3(SYS_read, answer[0], text + got, sizeof text - 1 - got);
        if (n == -EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
        if (text[got - 1] == '\n') break;
    }
    text[got] = 0;
    if (got > 0 && text[got - 1] == '\n') {
        cursor = text;
        record.status = (int)kparse_long(&cursor);
        record.cpu_seconds = kparse_seconds(&cursor);
        record.max_rss_kb = kparse_long(&cursor);
    }
    kwrite_all(FD_STATUS, &record, sizeof record);
    // Exiting kills whatever is left in the PID namespace.
    kexit();
}

/// Whether a run's init shares the daemon's memory (`shared_init_main`): the one case it handles.
static int shared_init_disabled;
static pthread_once_t shared_init_once = PTHREAD_ONCE_INIT;

static void read_shared_init_switch(void) {
    const char *value = getenv("ARBITER_CODE_NO_SHARED_INIT");
    shared_init_disabled = value != NULL && strcmp(value, "1") == 0;
}

static int uses_shared_init(const struct arb_run_spec *spec) {
    pthread_once(&shared_init_once, read_shared_init_switch);
    return !shared_init_disabled && spec->shared_init_memory_tasks != NULL && uses_mount_template(spec) && spec->use_fork_server && spec->workdir_in_memory &&
           spec->network_fd >= 0 && (spec->namespaces & ARB_NS_NET) && (spec->namespaces & ARB_NS_PID) &&
           spec->companion_path == NULL && !spec->export_files && spec->uid >= 0 && spec->gid >= 0 &&
           spec->private_shm && spec->cgroup_procs[0] == NULL && spec->cgroup_procs[1] == NULL &&
           spec->cgroup_procs[2] == NULL && spec->cgroup_procs[3] == NULL;
}

/// The thread that clones a slot thread's shared-memory inits. It sits outside the slot's memory cgroup (in the
/// daemon's base group), so its inits do too: a memory cgroup's OOM killer scores a process by its memory's size, and
/// an init's memory is the daemon's — chosen, it would take the daemon with it (the kernel kills every process
/// sharing a victim's memory). Inside the slot's memory group are only the fork server (never chosen, -1000) and the
/// run's processes. Its other groups (pids, cpu, cpuacct) are the slot's, like the slot thread's.
struct init_cloner {
    int request[2], reply[2];
    const char *memory_tasks;  // read by the thread before its first reply only
    const struct arb_run_spec *spec;
    const struct root_plan *plan;
    const int *fds;
    pid_t pid;
    int error;
    int moved; // 1 once out of the slot's memory group, -1 when that failed
};

static pid_t clone_shared_init(const struct arb_run_spec *spec, const struct root_plan *plan, const int *fds);

static void *init_cloner_main(void *argument) {
    struct init_cloner *cloner = argument;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, NULL); // inits start with every signal blocked, until they reset them
    const char *tasks[1] = {cloner->memory_tasks};
    cloner->moved = arb_join_cgroups_thread(tasks, 1) == 0 ? 1 : -1;
    char byte = 1;
    while (write(cloner->reply[1], &byte, 1) < 0 && errno == EINTR) {}
    for (;;) {
        ssize_t n = read(cloner->request[0], &byte, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return NULL;
        cloner->pid = clone_shared_init(cloner->spec, cloner->plan, cloner->fds);
        cloner->error = cloner->pid < 0 ? errno : 0;
        while (write(cloner->reply[1], &byte, 1) < 0 && errno == EINTR) {}
    }
}

/// The calling slot thread's cloner (made on first use; NULL when it cannot be: then inits are copies).
static __thread struct init_cloner *slot_cloner;
static __thread int slot_cloner_failed;

static struct init_cloner *cloner_for(const char *memory_tasks) {
    if (slot_cloner != NULL || slot_cloner_failed) return slot_cloner;
    slot_cloner_failed = 1;
    struct init_cloner *cloner = calloc(1, sizeof *cloner);
    if (cloner == NULL) return NULL;
    if (pipe2(cloner->request, O_CLOEXEC) != 0) { free(cloner); return NULL; }
    if (pipe2(cloner->reply, O_CLOEXEC) != 0) {
        close(cloner->request[0]);
        close(cloner->request[1]);
        free(cloner);
        return NULL;
    }
    cloner->memory_tasks = memory_tasks;
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setstacksize(&attributes, 128 << 10);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    pthread_t thread;
    int error = pthread_create(&thread, &attributes, init_cloner_main, cloner);
    pthread_attr_destroy(&attributes);
    char byte;
    if (error == 0) {
        while (read(cloner->reply[0], &byte, 1) < 0 && errno == EINTR) {}
    }
    if (error != 0 || cloner->moved != 1) {
        // The thread (if any) stays, asleep on its request pipe, never used: this slot's inits are copies.
        return NULL;
    }
    slot_cloner = cloner;
    slot_cloner_failed = 0;
    return cloner;
}

void arb_prepare_slot_thread(const char *memory_tasks) {
    if (memory_tasks != NULL) (void)cloner_for(memory_tasks);
}

/// Has the slot thread's cloner clone a shared-memory init; its pid, or -1 with errno (ENOSYS: no cloner).
static pid_t clone_shared_init_outside_memory_group(const struct arb_run_spec *spec, const struct root_plan *plan,
                                                    const int *fds) {
    struct init_cloner *cloner = cloner_for(spec->shared_init_memory_tasks);
    if (cloner == NULL) {
        errno = ENOSYS;
        return -1;
    }
    cloner->spec = spec;
    cloner->plan = plan;
    cloner->fds = fds;
    char byte = 1;
    while (write(cloner->request[1], &byte, 1) < 0 && errno == EINTR) {}
    while (read(cloner->reply[0], &byte, 1) < 0 && errno == EINTR) {}
    errno = cloner->error;
    return cloner->pid;
}

/// Clones a shared-memory init; its pid, or -1 with errno.
static pid_t clone_shared_init(const struct arb_run_spec *spec, const struct root_plan *plan, const int *fds) {
    if (shared_init_stack == NULL) {
        void *stack = mmap(NULL, SHARED_INIT_STACK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
                           MAP_STACK, -1, 0);
        if (stack == MAP_FAILED) return -1;
        shared_init_stack = stack;
    }
    // The libc functions init calls (through this executable's lazily bound entries) are bound here, in the daemon,
    // first: binding them in init would run the dynamic linker's resolver on the daemon's memory.
    static volatile size_t sink;
    char probe[8];
    memset(probe, 'a', sizeof probe - 1);
    probe[sizeof probe - 1] = 0;
    memcpy(probe, "/b", 2);
    sink = strlen(probe) + (size_t)(strchr(probe, 'a') != NULL) + (size_t)(strrchr(probe, '/') != NULL);
    char *top = shared_init_stack + SHARED_INIT_STACK_BYTES;
    struct shared_init_arguments *arguments =
        (struct shared_init_arguments *)(((uintptr_t)top - sizeof *arguments) & ~(uintptr_t)63);
    arguments->spec = spec;
    arguments->server_message = plan->server_message;
    arguments->server_message_length = plan->server_message_length;
    memcpy(arguments->fds, fds, sizeof arguments->fds);
    int flags = CLONE_VM | SIGCHLD | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS;
    return clone(shared_init_main, (char *)arguments - 64, flags, arguments);
}
#else
#define ARB_SHARED_INIT 0
static int uses_shared_init(const struct arb_run_spec *spec) { (void)spec; return 0; }
void arb_prepare_slot_thread(const char *memory_tasks) { (void)memory_tasks; }
static pid_t clone_shared_init_outside_memory_group(const struct arb_run_spec *spec, const struct root_plan *plan,
                                                    const int *fds) {
    (void)spec; (void)plan; (void)fds;
    errno = ENOSYS;
    return -1;
}
#endif

/// The nanoseconds in an open `cpuacct.usage` file, or -1. The file is opened once a run and read from its start each
/// time (the kernel writes the value anew for each read at offset 0): opening a cgroup file costs more than reading
/// it, and a run's usage is read before it, every 20 ms while it runs, and after it.
static long long read_usage(int fd) {
    if (fd < 0) return -1;
    char text[64];
    ssize_t n;
    do n = pread(fd, text, sizeof text - 1, 0); while (n < 0 && errno == EINTR);
    if (n <= 0) return -1;
    text[n] = 0;
    return strtoll(text, NULL, 10);
}

/// A growable buffer with a cap.
struct sink {
    uint8_t *bytes;
    size_t length, capacity, cap;
};

/// Reads what is available; returns 0 on EOF or error, 1 while open, 2 when the cap was passed.
static int drain(int fd, struct sink *sink) {
    uint8_t chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return 1;
        if (n <= 0) return 0;
        size_t room = sink->cap > sink->length ? sink->cap - sink->length : 0;
        size_t keep = (size_t)n < room ? (size_t)n : room;
        if (keep > 0) {
            if (sink->length + keep > sink->capacity) {
                size_t grown = sink->capacity ? sink->capacity * 2 : 4096;
                while (grown < sink->length + keep) grown *= 2;
                uint8_t *bigger = realloc(sink->bytes, grown);
                if (bigger == NULL) return 2;
                sink->bytes = bigger;
                sink->capacity = grown;
            }
            memcpy(sink->bytes + sink->length, chunk, keep);
            sink->length += keep;
        }
        if (keep < (size_t)n) return 2;
    }
}

/// Feeds a pipe; returns 0 when everything was written or the reader left.
static int feed(int fd, const uint8_t *data, size_t length, size_t *offset) {
    while (*offset < length) {
        ssize_t n = write(fd, data + *offset, length - *offset);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return 1;
        if (n <= 0) return 0;
        *offset += (size_t)n;
    }
    return 0;
}

static void close_pipes(int pipes[6][2]) {
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 2; j++)
            if (pipes[i][j] >= 0) close(pipes[i][j]);
}

/// Runs the supervision with SIGPIPE blocked on this thread (a program that exits without reading its input must not
/// kill the daemon), then discards the SIGPIPEs it caused.
static int run_supervised(const struct arb_run_spec *spec, struct arb_run_result *result);

int arb_run(const struct arb_run_spec *spec, struct arb_run_result *result) {
    sigset_t pipe_signal, saved;
    sigemptyset(&pipe_signal);
    sigaddset(&pipe_signal, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_signal, &saved);
    int status = run_supervised(spec, result);
    struct timespec none = {0, 0};
    while (sigtimedwait(&pipe_signal, NULL, &none) == SIGPIPE) {}
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    return status;
}

/// One run as the daemon's thread watches it: init, the pipes' ends on this side, what came out of them so far, and
/// why the run was killed, if it was.
struct supervision {
    const struct arb_run_spec *spec;
    struct arb_run_result *result;
    pid_t init;
    double started, deadline;
    int usage_fd;            // the run's cpuacct.usage, open for the run (-1 for none)
    long long usage_before;  // the run's cpuacct.usage at the start, or -1
    int watches_cpu;         // with a CPU limit on the whole run, its usage is sampled every 20 ms
    int in_fd, harness_fd;   // stdin and fd 3, while there is something left to feed
    size_t in_offset, harness_offset;
    int readers[4];          // stdout, stderr, fd 4, status
    int open_readers[4];
    struct sink sinks[4];
    int killed;
};

/// Creates the six pipes (0 stdin, 1 stdout, 2 stderr, 3 harness input, 4 harness report, 5 status); 0 or -1.
static int create_pipes(int pipes[6][2], struct arb_run_result *result) {
    for (int i = 0; i < 6; i++) pipes[i][0] = pipes[i][1] = -1;
    for (int i = 0; i < 6; i++) {
        if (pipe2(pipes[i], O_CLOEXEC) != 0) {
            result->failed_stage = ARB_STAGE_PIPE;
            result->failed_errno = errno;
            close_pipes(pipes);
            return -1;
        }
    }
    return 0;
}

/// The clone flags of the namespaces the run gets.
static int clone_flags(const struct arb_run_spec *spec) {
    int flags = SIGCHLD;
    if (spec->namespaces & ARB_NS_PID) flags |= CLONE_NEWPID;
    if ((spec->namespaces & ARB_NS_NET) && spec->network_fd < 0) flags |= CLONE_NEWNET;
    // With a mount template, init joins the template's namespace and copies it instead (`enter_mount_template`).
    if ((spec->namespaces & ARB_NS_MOUNT) && !uses_mount_template(spec)) flags |= CLONE_NEWNS;
    if (spec->namespaces & ARB_NS_IPC) flags |= CLONE_NEWIPC;
    if (spec->namespaces & ARB_NS_UTS) flags |= CLONE_NEWUTS;
    if (spec->namespaces & ARB_NS_USER) flags |= CLONE_NEWUSER;
    return flags;
}

/// Clones init with the child's ends of the pipes, then closes them here. Returns init's pid, or -1 (pipes closed).
static pid_t launch_init(const struct arb_run_spec *spec, int pipes[6][2], struct arb_run_result *result,
                         char **deferred) {
    // The child's ends: it reads 0 and 3, writes the others.
    int child_fds[6] = {pipes[0][0], pipes[1][1], pipes[2][1], pipes[3][0], pipes[4][1], pipes[5][1]};
    uid_t uid = getuid();
    gid_t gid = getgid();
    pthread_once(&arg_once, find_arg_area);
    struct root_plan plan;
    // A run from a mount template builds no root of its own.
    if (uses_mount_template(spec)) memset(&plan, 0, sizeof plan);
    else plan_root(spec, &plan);
    if (spec->use_fork_server) plan_server_message(spec, &plan);
    int shared = uses_shared_init(spec) && plan.server_message != NULL;
    // No signal handler of this process may run in the child before it resets them.
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    pid_t init = -1;
    if (shared) {
        init = clone_shared_init_outside_memory_group(spec, &plan, child_fds);
        // No cloner for this slot: init is a copy, as for every other run.
        if (init < 0 && errno == ENOSYS) shared = 0;
    }
    if (!shared) {
        init = (pid_t)syscall(SYS_clone, clone_flags(spec), 0, 0, 0, 0);
        if (init == 0) init_main(spec, &plan, child_fds, uid, gid);
    }
    int clone_errno = errno;
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    // A shared-memory init reads the server message until it ends: freed once it is reaped.
    if (shared && init > 0) {
        *deferred = plan.server_message;
        plan.server_message = NULL;
    }
    free_plan(&plan);
    for (int i = 0; i < 6; i++) close(child_fds[i]);
    pipes[0][0] = pipes[1][1] = pipes[2][1] = pipes[3][0] = pipes[4][1] = pipes[5][1] = -1;
    if (init < 0) {
        result->failed_stage = ARB_STAGE_CLONE;
        result->failed_errno = clone_errno;
        close_pipes(pipes);
        return -1;
    }
    return init;
}

/// This side's ends of the pipes, non-blocking, and the caps of what is kept.
static void start_watching(struct supervision *run, int pipes[6][2]) {
    const struct arb_run_spec *spec = run->spec;
    run->in_fd = pipes[0][1];
    run->harness_fd = pipes[3][1];
    int readers[4] = {pipes[1][0], pipes[2][0], pipes[4][0], pipes[5][0]};
    for (int i = 0; i < 4; i++) {
        run->readers[i] = readers[i];
        run->open_readers[i] = 1;
        fcntl(readers[i], F_SETFL, O_NONBLOCK);
    }
    fcntl(run->in_fd, F_SETFL, O_NONBLOCK);
    fcntl(run->harness_fd, F_SETFL, O_NONBLOCK);
    size_t caps[4] = {spec->stdout_cap, spec->stderr_cap, spec->fd4_cap, 16 * sizeof(struct status_record)};
    for (int i = 0; i < 4; i++) run->sinks[i] = (struct sink){.cap = caps[i]};
    if (spec->stdin_length == 0) { close(run->in_fd); run->in_fd = -1; }
    if (spec->fd3_length == 0) { close(run->harness_fd); run->harness_fd = -1; }
    run->deadline = run->started + spec->wall_seconds;
    run->watches_cpu = run->usage_before >= 0 && spec->run_cpu_seconds > 0;
}

/// Kills the run once (init: its namespace goes with it).
static void kill_run(struct supervision *run) {
    if (run->killed) return;
    kill(run->init, SIGKILL);
    run->killed = 1;
}

/// Kills the run at the wall-clock limit or at its CPU limit; returns poll's timeout in milliseconds.
static int enforce_limits(struct supervision *run) {
    double left = run->deadline - now_seconds();
    if (left <= 0 && !run->killed) {
        kill_run(run);
        run->result->timed_out = 1;
    }
    if (run->watches_cpu && !run->killed) {
        long long now = read_usage(run->usage_fd);
        if (now >= 0 && (double)(now - run->usage_before) / 1e9 >= run->spec->run_cpu_seconds) {
            kill_run(run);
            run->result->cpu_exceeded = 1;
        }
    }
    int timeout = run->killed ? 1000 : (int)(left * 1000) + 1;
    if (run->watches_cpu && !run->killed && timeout > 20) timeout = 20;
    return timeout;
}

/// Reads what the streams hold (killing the run when one goes over its cap) and feeds stdin and fd 3.
static void exchange(struct supervision *run) {
    for (int i = 0; i < 4; i++) {
        if (!run->open_readers[i]) continue;
        int state = drain(run->readers[i], &run->sinks[i]);
        if (state == 0) run->open_readers[i] = 0;
        if (state == 2 && i < 3) {
            run->result->output_exceeded |= (i == 0 ? 1 : i == 1 ? 2 : 4);
            run->open_readers[i] = 0;
            kill_run(run);
        }
    }
    const struct arb_run_spec *spec = run->spec;
    if (run->in_fd >= 0 && feed(run->in_fd, spec->stdin_data, spec->stdin_length, &run->in_offset) == 0) {
        close(run->in_fd);
        run->in_fd = -1;
    }
    if (run->harness_fd >= 0 && feed(run->harness_fd, spec->fd3_data, spec->fd3_length, &run->harness_offset) == 0) {
        close(run->harness_fd);
        run->harness_fd = -1;
    }
}

/// Watches the run until its status pipe closes (init is gone): limits, output, input.
static void watch(struct supervision *run) {
    while (run->open_readers[3]) {
        struct pollfd polls[7];
        int count = 0;
        for (int i = 0; i < 4; i++)
            if (run->open_readers[i]) polls[count++] = (struct pollfd){.fd = run->readers[i], .events = POLLIN};
        if (run->in_fd >= 0) polls[count++] = (struct pollfd){.fd = run->in_fd, .events = POLLOUT};
        if (run->harness_fd >= 0) polls[count++] = (struct pollfd){.fd = run->harness_fd, .events = POLLOUT};
        // The caller's cancellation, watched until the run is killed (then only init's end is awaited).
        int cancel_slot = -1;
        if (run->spec->watch_cancel && run->spec->cancel_fd >= 0 && !run->killed) {
            cancel_slot = count;
            polls[count++] = (struct pollfd){.fd = run->spec->cancel_fd, .events = POLLIN};
        }
        int timeout = enforce_limits(run);
        int ready = poll(polls, (nfds_t)count, timeout);
        if (ready < 0 && errno != EINTR && errno != EAGAIN) {
            // Cannot watch the run any more: end it rather than wait for it blindly.
            kill(run->init, SIGKILL);
            break;
        }
        if (ready > 0 && cancel_slot >= 0 && (polls[cancel_slot].revents & (POLLIN | POLLHUP | POLLERR))) {
            // Killed like at the wall-clock limit: init takes its PID namespace (a fork server's child included).
            kill_run(run);
            run->result->cancelled = 1;
        }
        exchange(run);
    }
}

/// Reaps init (after its process group, without a PID namespace) and reads what is left in the pipes.
static void reap(struct supervision *run) {
    if (run->in_fd >= 0) close(run->in_fd);
    if (run->harness_fd >= 0) close(run->harness_fd);
    int own_namespace = (run->spec->namespaces & ARB_NS_PID) != 0;
    // Without a PID namespace the process group is all there is to kill (descendants that left it survive).
    if (!own_namespace) kill(-run->init, SIGKILL);
    int init_status;
    while (waitpid(run->init, &init_status, 0) < 0 && errno == EINTR) {}
    // Every process of the namespace is gone now: what is left in the pipes is all there is.
    for (int i = 0; i < 3; i++) {
        if (!run->open_readers[i]) continue;
        if (own_namespace) fcntl(run->readers[i], F_SETFL, 0);
        if (drain(run->readers[i], &run->sinks[i]) == 2) run->result->output_exceeded |= (i == 0 ? 1 : i == 1 ? 2 : 4);
    }
    for (int i = 0; i < 4; i++) close(run->readers[i]);
}

/// Fills the result: times, the streams, and the status records of init and the program.
static int collect(struct supervision *run) {
    struct arb_run_result *result = run->result;
    result->wall_seconds = now_seconds() - run->started;
    if (run->usage_before >= 0) {
        long long after = read_usage(run->usage_fd);
        if (after >= run->usage_before) result->run_cpu_seconds = (double)(after - run->usage_before) / 1e9;
    }
    result->stdout_bytes = run->sinks[0].bytes;
    result->stdout_length = run->sinks[0].length;
    result->stderr_bytes = run->sinks[1].bytes;
    result->stderr_length = run->sinks[1].length;
    result->fd4_bytes = run->sinks[2].bytes;
    result->fd4_length = run->sinks[2].length;
    struct sink *status = &run->sinks[3];
    for (size_t offset = 0; offset + sizeof(struct status_record) <= status->length;
         offset += sizeof(struct status_record)) {
        struct status_record record;
        memcpy(&record, status->bytes + offset, sizeof record);
        if (record.kind == 1 && result->failed_stage == ARB_STAGE_NONE) {
            result->failed_stage = record.stage;
            result->failed_errno = record.error;
        } else if (record.kind == 2) {
            result->program_reaped = 1;
            result->program_status = record.status;
            result->cpu_seconds = record.cpu_seconds;
            result->max_rss_kb = record.max_rss_kb;
        }
    }
    free(status->bytes);
    return result->failed_stage == ARB_STAGE_NONE ? 0 : -1;
}

/// A run: pipes, init, the watch, the reaping, the result.
static int run_supervised(const struct arb_run_spec *spec, struct arb_run_result *result) {
    memset(result, 0, sizeof *result);
    struct supervision run = {.spec = spec, .result = result, .started = now_seconds()};
    // Close-on-exec, and every init closes what it does not pass on: no run's process ever holds it.
    run.usage_fd = spec->cpu_usage_path == NULL ? -1 : open(spec->cpu_usage_path, O_RDONLY | O_CLOEXEC);
    run.usage_before = read_usage(run.usage_fd);
    result->run_cpu_seconds = -1;
    int status = -1;
    int pipes[6][2];
    if (create_pipes(pipes, result) == 0) {
        char *deferred = NULL;
        run.init = launch_init(spec, pipes, result, &deferred);
        if (run.init >= 0) {
            start_watching(&run, pipes);
            watch(&run);
            reap(&run);
            free(deferred);
            status = collect(&run);
        }
    }
    if (run.usage_fd >= 0) close(run.usage_fd);
    return status;
}

int arb_cancel_fd_create(void) {
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    return fd >= 0 ? fd : -errno;
}

int arb_cancel_fd_signal(int fd) {
    uint64_t one = 1;
    // EAGAIN: the counter is full, so the descriptor is readable already.
    return write(fd, &one, sizeof one) == (ssize_t)sizeof one || errno == EAGAIN ? 0 : errno;
}

void arb_run_result_free(struct arb_run_result *result) {
    free(result->stdout_bytes);
    free(result->stderr_bytes);
    free(result->fd4_bytes);
    result->stdout_bytes = result->stderr_bytes = result->fd4_bytes = NULL;
}

/// Empties a directory one level down: files are unlinked, and each subdirectory's own subdirectories are moved up
/// into `root` (renamed), so that no walk ever goes deeper than one level and at most two descriptors are open.
/// Returns how many entries it removed or moved.
static long flatten_once(int root, unsigned long *serial) {
    long progress = 0;
    int scan = dup(root);
    if (scan < 0) return 0;
    DIR *top = fdopendir(scan);
    if (top == NULL) { close(scan); return 0; }
    rewinddir(top);
    struct dirent *entry;
    while ((entry = readdir(top)) != NULL) {
        const char *name = entry->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) continue;
        if (unlinkat(root, name, 0) == 0) { progress++; continue; }
        if (errno != EISDIR && errno != EPERM) continue;
        if (unlinkat(root, name, AT_REMOVEDIR) == 0) { progress++; continue; }
        fchmodat(root, name, 0700, 0);
        int inner_fd = openat(root, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (inner_fd < 0) continue;
        DIR *inner = fdopendir(inner_fd);
        if (inner == NULL) { close(inner_fd); continue; }
        struct dirent *child;
        while ((child = readdir(inner)) != NULL) {
            if (strcmp(child->d_name, ".") == 0 || strcmp(child->d_name, "..") == 0) continue;
            if (unlinkat(inner_fd, child->d_name, 0) == 0) { progress++; continue; }
            char moved[64];
            snprintf(moved, sizeof moved, ".arbiter-flat-%lu", (*serial)++);
            if (renameat(inner_fd, child->d_name, root, moved) == 0) progress++;
        }
        closedir(inner);
        if (unlinkat(root, name, AT_REMOVEDIR) == 0) progress++;
    }
    closedir(top);
    return progress;
}

int arb_remove_tree(const char *path) {
    int root = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (root < 0) {
        if (errno == ENOENT) return 0;
        return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
    }
    fchmod(root, 0700);
    unsigned long serial = 0;
    // Each pass removes or moves up at least one entry while any is left; a tree of N entries takes at most N passes
    // and usually a handful (every level moves up at once).
    while (flatten_once(root, &serial) > 0) {}
    close(root);
    return rmdir(path) == 0 || errno == ENOENT ? 0 : -1;
}

int arb_join_cgroups_thread(const char *const *tasks, int count) {
    for (int i = 0; i < count; i++) {
        if (tasks[i] == NULL || tasks[i][0] == 0) continue;
        int fd = open(tasks[i], O_WRONLY | O_CLOEXEC);
        if (fd < 0) return errno;
        ssize_t written = write(fd, "0", 1);
        int error = errno;
        close(fd);
        if (written != 1) return error;
    }
    return 0;
}

int arb_dont_fork_runtime_data(void) {
    int maps = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (maps < 0) return -errno;
    static const char *prefixes[] = {"libswift", "libFoundation", "lib_Foundation", "libdispatch", "libBlocksRuntime"};
    // The maps text, read whole (a few hundred lines), then each `rw-p` line whose file is one of the libraries.
    size_t capacity = 1 << 16, length = 0;
    char *text = malloc(capacity);
    for (;;) {
        if (text == NULL) { close(maps); return -ENOMEM; }
        ssize_t n = read(maps, text + length, capacity - length - 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        length += (size_t)n;
        if (length + 1 == capacity) {
            char *bigger = realloc(text, capacity * 2);
            if (bigger == NULL) free(text);
            text = bigger;
            capacity *= 2;
        }
    }
    close(maps);
    text[length] = 0;
    int marked = 0;
    for (char *line = text, *next; line != NULL && *line != 0; line = next) {
        next = strchr(line, '\n');
        if (next != NULL) *next++ = 0;
        unsigned long start, end;
        char permissions[8];
        int path_at = 0;
        if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &start, &end, permissions, &path_at) != 3 || path_at == 0 ||
            strcmp(permissions, "rw-p") != 0)
            continue;
        const char *name = strrchr(line + path_at, '/');
        if (name == NULL) continue;
        name++;
        for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++) {
            if (strncmp(name, prefixes[i], strlen(prefixes[i])) != 0) continue;
            if (madvise((void *)start, end - start, MADV_DONTFORK) == 0) marked++;
            break;
        }
    }
    free(text);
    return marked;
}

int arb_create_network_namespace(void) {
    int gate[2];
    if (pipe2(gate, O_CLOEXEC) != 0) return -errno;
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    pid_t child = (pid_t)syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0);
    if (child == 0) {
        // Hold the namespace until the parent has opened it (the read ends when the parent closes its end). Every
        // other descriptor goes first: this is a copy of a multithreaded process, and holding the write end of another
        // thread's gate (made for a concurrent slot) would keep that child, and so this one, waiting for ever.
        if (gate[0] > 0) syscall(SYS_close_range, 0, gate[0] - 1, 0);
        syscall(SYS_close_range, gate[0] + 1, ~0U, 0);
        char byte;
        while (read(gate[0], &byte, 1) < 0 && errno == EINTR) {}
        _exit(0);
    }
    int error = child < 0 ? errno : 0;
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    int fd = -1;
    if (child > 0) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/ns/net", (int)child);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) error = errno;
    }
    close(gate[1]);
    close(gate[0]);
    if (child > 0) {
        int status;
        while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
    }
    return fd >= 0 ? fd : -error;
}

int arb_create_mount_template(const char *work_parent, char *const *extra_visible) {
    if (work_parent == NULL || work_parent[0] != '/') return -EINVAL;
    struct arb_run_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.workdir = work_parent;
    spec.namespaces = ARB_NS_MOUNT;
    spec.minimal_dev = 1;
    spec.extra_visible = extra_visible;
    struct root_plan plan;
    plan_root(&spec, &plan);
    // `gate`: the child holds the namespace until the parent has opened it; `built`: the child's stage (one byte).
    int gate[2], built[2];
    if (pipe2(gate, O_CLOEXEC) != 0) { free_plan(&plan); return -errno; }
    if (pipe2(built, O_CLOEXEC) != 0) {
        int saved = errno;
        close(gate[0]);
        close(gate[1]);
        free_plan(&plan);
        return -saved;
    }
    sigset_t all, saved_mask;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved_mask);
    pid_t child = (pid_t)syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0);
    if (child == 0) {
        // Only the two ends it uses stay open (see `arb_create_network_namespace` on why).
        int low = gate[0] < built[1] ? gate[0] : built[1], high = gate[0] < built[1] ? built[1] : gate[0];
        if (low > 0) syscall(SYS_close_range, 0, low - 1, 0);
        if (high > low + 1) syscall(SYS_close_range, low + 1, high - 1, 0);
        syscall(SYS_close_range, high + 1, ~0U, 0);
        int stage = ARB_STAGE_NONE;
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) stage = ARB_STAGE_MOUNT_PRIVATE;
        if (stage == ARB_STAGE_NONE) stage = stage_minimal_root(&spec, &plan, 0);
        if (stage == ARB_STAGE_NONE) stage = enter_staged_root();
        unsigned char byte = (unsigned char)stage;
        if (write(built[1], &byte, 1) != 1 || stage != ARB_STAGE_NONE) _exit(1);
        char wait_byte;
        while (read(gate[0], &wait_byte, 1) < 0 && errno == EINTR) {}
        _exit(0);
    }
    int error = child < 0 ? errno : 0;
    pthread_sigmask(SIG_SETMASK, &saved_mask, NULL);
    free_plan(&plan);
    close(built[1]);
    int fd = -1;
    if (child > 0) {
        unsigned char stage = 255;
        ssize_t got;
        do got = read(built[0], &stage, 1); while (got < 0 && errno == EINTR);
        if (got == 1 && stage == ARB_STAGE_NONE) {
            char path[64];
            snprintf(path, sizeof path, "/proc/%d/ns/mnt", (int)child);
            fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0) error = errno;
        } else {
            error = EPERM;
        }
    }
    close(built[0]);
    close(gate[1]);
    close(gate[0]);
    if (child > 0) {
        int status;
        while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
    }
    return fd >= 0 ? fd : -error;
}

int arb_probe_namespaces(int namespaces) {
    int flags = SIGCHLD;
    if (namespaces & ARB_NS_PID) flags |= CLONE_NEWPID;
    if (namespaces & ARB_NS_NET) flags |= CLONE_NEWNET;
    if (namespaces & ARB_NS_MOUNT) flags |= CLONE_NEWNS;
    if (namespaces & ARB_NS_IPC) flags |= CLONE_NEWIPC;
    if (namespaces & ARB_NS_UTS) flags |= CLONE_NEWUTS;
    if (namespaces & ARB_NS_USER) flags |= CLONE_NEWUSER;
    uid_t uid = getuid();
    gid_t gid = getgid();
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    pid_t child = (pid_t)syscall(SYS_clone, flags, 0, 0, 0, 0);
    if (child == 0) {
        // A user namespace must also take the mapping and allow a mount, as a run's init will.
        if (namespaces & ARB_NS_USER) {
            if (map_user_namespace(uid, gid) != 0) _exit(1);
            if ((namespaces & ARB_NS_MOUNT) && mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=4k") != 0)
                _exit(2);
        }
        _exit(0);
    }
    int error = child < 0 ? errno : 0;
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    if (child > 0) {
        int status;
        while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
        if (error == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) error = EPERM;
    }
    return error;
}

int arb_probe_seccomp(void) {
    pid_t child = fork();
    if (child < 0) return errno;
    if (child == 0) _exit(arb_install_seccomp() == 0 ? 0 : 1);
    int status;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : ENOTSUP;
}

int arb_start_fork_server(const char *path, char *const *argv, char *const *envp, const uint8_t *input,
                          size_t input_length, int *socket_fd) {
    int pair[2], feed_pipe[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) return -errno;
    if (pipe2(feed_pipe, O_CLOEXEC) != 0) {
        int saved = errno;
        close(pair[0]);
        close(pair[1]);
        return -saved;
    }
    sigset_t all, saved_mask;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved_mask);
    pid_t pid = (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) {
        // Dies with the slot's thread (the daemon); never chosen by the OOM killer over a run's own processes.
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        setsid(); // out of the daemon's process group: a signal to that group must not reach the server
        write_file("/proc/self/oom_score_adj", "-1000");
        int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
        int high_socket = fcntl(pair[1], F_DUPFD, 100), high_feed = fcntl(feed_pipe[0], F_DUPFD, 101);
        if (null < 0 || high_socket < 0 || high_feed < 0 || dup2(high_feed, 0) != 0 || dup2(null, 1) != 1 ||
            dup2(high_socket, 3) != 3)
            _exit(127);
        syscall(SYS_close_range, 4, ~0U, 0);
        reset_signals();
        execve(path, argv, envp);
        _exit(127);
    }
    int clone_errno = errno;
    pthread_sigmask(SIG_SETMASK, &saved_mask, NULL);
    close(pair[1]);
    close(feed_pipe[0]);
    if (pid < 0) {
        close(pair[0]);
        close(feed_pipe[1]);
        return -clone_errno;
    }
    sigset_t pipe_signal, saved;
    sigemptyset(&pipe_signal);
    sigaddset(&pipe_signal, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_signal, &saved);
    write_all(feed_pipe[1], input, input_length);
    close(feed_pipe[1]);
    struct timespec none = {0, 0};
    while (sigtimedwait(&pipe_signal, NULL, &none) == SIGPIPE) {}
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    // The server says "ready" once it has loaded everything, so that its start (a second or more on a loaded machine)
    // is never counted in the first run's wall-clock time. A server that exits first, or takes over a minute, failed.
    char ready[8] = {0};
    ssize_t got = -1;
    struct pollfd wait_ready = {.fd = pair[0], .events = POLLIN};
    int polled;
    do polled = poll(&wait_ready, 1, 60000); while (polled < 0 && errno == EINTR);
    if (polled == 1) {
        do got = recv(pair[0], ready, sizeof ready - 1, 0); while (got < 0 && errno == EINTR);
    }
    if (got != 5 || memcmp(ready, "ready", 5) != 0) {
        kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
        close(pair[0]);
        return -ECHILD;
    }
    *socket_fd = pair[0];
    return pid;
}

/// What `arb_start_fork_server_in_groups` hands its thread.
struct server_start {
    const char *const *tasks;
    int count;
    const char *path;
    char *const *argv;
    char *const *envp;
    const uint8_t *input;
    size_t input_length;
    int socket_fd;
    int result;
    int done[2];
};

static void *server_start_main(void *argument) {
    struct server_start *start = argument;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, NULL); // never the thread that takes the process's signals
    int error = arb_join_cgroups_thread(start->tasks, start->count);
    start->result = error != 0 ? -error
                               : arb_start_fork_server(start->path, start->argv, start->envp, start->input,
                                                       start->input_length, &start->socket_fd);
    int started = start->result > 0;
    char byte = 1;
    int done = start->done[1];
    // After this write `start` belongs to the caller again.
    while (write(done, &byte, 1) < 0 && errno == EINTR) {}
    // The server dies with the thread that started it: this one stays, asleep, for as long as the process lives.
    if (started) for (;;) pause();
    return NULL;
}

int arb_start_fork_server_in_groups(const char *const *tasks, int count, const char *path, char *const *argv,
                                    char *const *envp, const uint8_t *input, size_t input_length, int *socket_fd) {
    struct server_start start = {.tasks = tasks, .count = count, .path = path, .argv = argv, .envp = envp,
                                 .input = input, .input_length = input_length, .socket_fd = -1, .result = -ECHILD};
    if (pipe2(start.done, O_CLOEXEC) != 0) return -errno;
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setstacksize(&attributes, 256 << 10);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    pthread_t thread;
    int error = pthread_create(&thread, &attributes, server_start_main, &start);
    pthread_attr_destroy(&attributes);
    if (error == 0) {
        char byte;
        while (read(start.done[0], &byte, 1) < 0 && errno == EINTR) {}
    }
    close(start.done[0]);
    close(start.done[1]);
    if (error != 0) return -error;
    if (start.result > 0) *socket_fd = start.socket_fd;
    return start.result;
}

// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

// The seccomp filter every sandboxed program starts under. It denies what a program has no use for and what could
// reach beyond its run: the kernel keyrings (shared by every process of a user, across runs and daemons), new
// namespaces, mounts, io_uring, bpf, perf events, ptrace and cross-process memory access, module and kexec calls,
// and every socket family except Unix. Denied calls fail with EPERM (ENOSYS for clone3 and io_uring, whose callers
// fall back to older calls; EAFNOSUPPORT for sockets); a foreign architecture or the x32 ABI kills the process.

#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define ARB_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARB_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

#define ARB_NEW_NAMESPACES                                                                                             \
    (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)

/// System calls that fail with EPERM.
static const int denied[] = {
    SYS_ptrace, SYS_process_vm_readv, SYS_process_vm_writev, SYS_add_key, SYS_request_key, SYS_keyctl, SYS_unshare,
    SYS_setns, SYS_mount, SYS_umount2, SYS_pivot_root, SYS_chroot, SYS_bpf, SYS_perf_event_open, SYS_userfaultfd,
    SYS_kexec_load, SYS_init_module, SYS_finit_module, SYS_delete_module, SYS_swapon, SYS_swapoff, SYS_reboot,
    SYS_acct, SYS_quotactl, SYS_syslog, SYS_kcmp, SYS_name_to_handle_at, SYS_open_by_handle_at, SYS_vhangup,
#ifdef SYS_kexec_file_load
    SYS_kexec_file_load,
#endif
#ifdef SYS_fsopen
    SYS_fsopen, SYS_fsconfig, SYS_fsmount, SYS_fspick, SYS_open_tree, SYS_move_mount,
#endif
#ifdef SYS_mount_setattr
    SYS_mount_setattr,
#endif
#ifdef SYS_iopl
    SYS_iopl, SYS_ioperm,
#endif
#ifdef SYS_uselib
    SYS_uselib,
#endif
#ifdef SYS_lookup_dcookie
    SYS_lookup_dcookie,
#endif
};

/// System calls that fail with ENOSYS, so that libraries fall back to what the filter can inspect or allow.
static const int unimplemented[] = {
#ifdef SYS_clone3
    SYS_clone3,
#endif
#ifdef SYS_io_uring_setup
    SYS_io_uring_setup, SYS_io_uring_enter, SYS_io_uring_register,
#endif
};

#define DENIED_COUNT (sizeof denied / sizeof *denied)
#define UNIMPLEMENTED_COUNT (sizeof unimplemented / sizeof *unimplemented)
#define ARG0 (offsetof(struct seccomp_data, args[0]))
#define RET(value) BPF_STMT(BPF_RET | BPF_K, (value))

/// What a listed system call leads to. Every call not listed is allowed.
enum verdict { V_ALLOW, V_EPERM, V_ENOSYS, V_EAFNOSUPPORT, V_CLONE, V_SOCKET, V_COUNT };

struct listed {
    unsigned nr;
    enum verdict verdict;
};

#define LISTED_CAPACITY (DENIED_COUNT + UNIMPLEMENTED_COUNT + 3)
#define ARB_FILTER_CAPACITY (3 * LISTED_CAPACITY + 16)

/// The program under construction: instructions, and the jumps to verdicts still to be pointed at their targets.
struct builder {
    struct sock_filter *program;
    unsigned n;
    unsigned fixups;
    struct { unsigned at; enum verdict verdict; int field; } fixup[2 * LISTED_CAPACITY];  // field: 0 jt, 1 k (JA)
};

static void jump_to(struct builder *b, enum verdict verdict, int field) {
    b->fixup[b->fixups].at = b->n - 1;
    b->fixup[b->fixups].verdict = verdict;
    b->fixup[b->fixups].field = field;
    b->fixups++;
}

/// A binary search over the listed calls `list[low..<high]` (sorted): a node compares the number with its middle
/// entry (JGE: the upper half is jumped to, the lower half follows), a leaf of up to four entries tests each (JEQ)
/// and ends with a jump to `allow`. Every path is at most about a dozen instructions, against the whole list when
/// it was one linear chain: the kernel runs it for every call it cannot answer from its cache, and emulates it once
/// per system call number when the filter is installed (a run's process installs it, so this is paid per run).
static int emit_search(struct builder *b, const struct listed *list, unsigned low, unsigned high) {
    if (high - low <= 4) {
        for (unsigned i = low; i < high; i++) {
            b->program[b->n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, list[i].nr, 0, 0);
            jump_to(b, list[i].verdict, 0);
        }
        b->program[b->n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA, 0, 0, 0);
        jump_to(b, V_ALLOW, 1);
        return 0;
    }
    unsigned middle = low + (high - low) / 2;
    unsigned node = b->n++;
    if (emit_search(b, list, low, middle) != 0) return -1;
    unsigned upper = b->n;
    if (upper - node - 1 > 255) return -1;
    b->program[node] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, list[middle].nr,
                                                    (unsigned char)(upper - node - 1), 0);
    return emit_search(b, list, middle, high);
}

/// Builds the filter into `program` (ARB_FILTER_CAPACITY entries); returns its length, or 0 on a foreign architecture
/// (or if a jump could not be encoded, which the filter tests would catch).
static unsigned build_filter(struct sock_filter *program) {
#ifndef ARB_AUDIT_ARCH
    (void)program;
    return 0;
#else
    struct listed list[LISTED_CAPACITY];
    unsigned count = 0;
    for (unsigned i = 0; i < DENIED_COUNT; i++) list[count++] = (struct listed){(unsigned)denied[i], V_EPERM};
    for (unsigned i = 0; i < UNIMPLEMENTED_COUNT; i++)
        list[count++] = (struct listed){(unsigned)unimplemented[i], V_ENOSYS};
    list[count++] = (struct listed){SYS_clone, V_CLONE};
    list[count++] = (struct listed){SYS_socket, V_SOCKET};
    list[count++] = (struct listed){SYS_socketpair, V_SOCKET};
    for (unsigned i = 1; i < count; i++) {  // insertion sort: a few dozen entries, once per build
        struct listed entry = list[i];
        unsigned j = i;
        while (j > 0 && list[j - 1].nr > entry.nr) {
            list[j] = list[j - 1];
            j--;
        }
        list[j] = entry;
    }
    struct builder b = {.program = program};
    // Layout: arch check, x32 check, the search, then the verdicts and the argument checks of clone and the sockets.
    program[b.n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    program[b.n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARB_AUDIT_ARCH, 1, 0);
    program[b.n++] = (struct sock_filter)RET(SECCOMP_RET_KILL_PROCESS);
    program[b.n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
#if defined(__x86_64__)
    // The x32 ABI numbers system calls with bit 30 set: none of the checks below would match them.
    program[b.n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1);
    program[b.n++] = (struct sock_filter)RET(SECCOMP_RET_KILL_PROCESS);
#endif
    if (emit_search(&b, list, 0, count) != 0) return 0;
    unsigned target[V_COUNT];
    // clone: a new namespace's flag -> EPERM, else allowed.
    target[V_CLONE] = b.n;
    program[b.n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0);
    unsigned clone_test = b.n++;
    // socket and socketpair: Unix -> allowed, any other family -> EAFNOSUPPORT.
    target[V_SOCKET] = b.n;
    program[b.n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0);
    unsigned socket_test = b.n++;
    target[V_ALLOW] = b.n;
    program[b.n++] = (struct sock_filter)RET(SECCOMP_RET_ALLOW);
    target[V_EPERM] = b.n;
    program[b.n++] = (struct sock_filter)RET(SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA));
    target[V_ENOSYS] = b.n;
    program[b.n++] = (struct sock_filter)RET(SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA));
    target[V_EAFNOSUPPORT] = b.n;
    program[b.n++] = (struct sock_filter)RET(SECCOMP_RET_ERRNO | (EAFNOSUPPORT & SECCOMP_RET_DATA));
    program[clone_test] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, ARB_NEW_NAMESPACES,
                                                       (unsigned char)(target[V_EPERM] - clone_test - 1),
                                                       (unsigned char)(target[V_ALLOW] - clone_test - 1));
    program[socket_test] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_UNIX,
                                                        (unsigned char)(target[V_ALLOW] - socket_test - 1),
                                                        (unsigned char)(target[V_EAFNOSUPPORT] - socket_test - 1));
    for (unsigned i = 0; i < b.fixups; i++) {
        unsigned at = b.fixup[i].at, to = target[b.fixup[i].verdict];
        if (to <= at || to - at - 1 > (b.fixup[i].field == 0 ? 255u : 0xffffu)) return 0;
        if (b.fixup[i].field == 0) program[at].jt = (unsigned char)(to - at - 1);
        else program[at].k = to - at - 1;
    }
    return b.n;
#endif
}

int arb_install_seccomp(void) {
    struct sock_filter program[ARB_FILTER_CAPACITY];
    unsigned n = build_filter(program);
    if (n == 0) {
        errno = ENOTSUP;
        return -1;
    }
    struct sock_fprog filter = {.len = (unsigned short)n, .filter = program};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
    return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &filter);
}

long arb_seccomp_filter_bytes(uint8_t *buffer, size_t capacity) {
    struct sock_filter program[ARB_FILTER_CAPACITY];
    unsigned n = build_filter(program);
    if (n == 0 || capacity < n * sizeof *program) return -1;
    memcpy(buffer, program, n * sizeof *program);
    return (long)(n * sizeof *program);
}

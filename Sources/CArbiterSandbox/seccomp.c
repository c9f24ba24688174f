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

#define ARB_FILTER_CAPACITY (8 + DENIED_COUNT + UNIMPLEMENTED_COUNT + 16)

/// Builds the filter into `program` (ARB_FILTER_CAPACITY entries); returns its length, or 0 on a foreign architecture.
static unsigned build_filter(struct sock_filter *program) {
#ifndef ARB_AUDIT_ARCH
    (void)program;
    return 0;
#else
    // Layout: arch check, x32 check, the lists, clone/socket/socketpair argument checks, allow, then the verdicts.
    unsigned n = 0;
    program[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    program[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARB_AUDIT_ARCH, 1, 0);
    program[n++] = (struct sock_filter)RET(SECCOMP_RET_KILL_PROCESS);
    program[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
#if defined(__x86_64__)
    // The x32 ABI numbers system calls with bit 30 set: none of the checks below would match them.
    program[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1);
    program[n++] = (struct sock_filter)RET(SECCOMP_RET_KILL_PROCESS);
#endif
    // Verdict slots at the end: [allow, eperm, enosys, eafnosupport]; jumps are computed once the length is known.
    unsigned list_start = n;
    unsigned total_lists = (unsigned)(DENIED_COUNT + UNIMPLEMENTED_COUNT);
    // Each list entry jumps forward to its verdict; fill offsets after placing the verdicts.
    for (unsigned i = 0; i < total_lists; i++) program[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 0);
    unsigned clone_check = n;
    program[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 3);
    program[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0);
    program[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, ARB_NEW_NAMESPACES, 0, 0); // -> eperm / allow
    program[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA, 0, 0, 0);                          // -> allow
    unsigned socket_check = n;
    program[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_socket, 1, 0);
    program[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_socketpair, 0, 3);
    program[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0);
    program[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_UNIX, 0, 0); // -> allow / eafnosupport
    program[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA, 0, 0, 0);              // -> eafnosupport
    unsigned allow = n;
    program[n++] = (struct sock_filter)RET(SECCOMP_RET_ALLOW);
    unsigned eperm = n;
    program[n++] = (struct sock_filter)RET(SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA));
    unsigned enosys = n;
    program[n++] = (struct sock_filter)RET(SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA));
    unsigned eafnosupport = n;
    program[n++] = (struct sock_filter)RET(SECCOMP_RET_ERRNO | (EAFNOSUPPORT & SECCOMP_RET_DATA));
    for (unsigned i = 0; i < total_lists; i++) {
        unsigned at = list_start + i;
        unsigned target = i < DENIED_COUNT ? eperm : enosys;
        program[at].k = (unsigned)(i < DENIED_COUNT ? denied[i] : unimplemented[i - DENIED_COUNT]);
        program[at].jt = (unsigned char)(target - at - 1);
        program[at].jf = 0;
    }
    // Clone: a namespace flag -> eperm, else allow.
    program[clone_check + 2].jt = (unsigned char)(eperm - (clone_check + 2) - 1);
    program[clone_check + 2].jf = (unsigned char)(allow - (clone_check + 2) - 1);
    program[clone_check + 3].k = allow - (clone_check + 3) - 1;
    // Socket: Unix -> allow, else eafnosupport. A call that is neither skips the three to reach `allow`.
    program[socket_check + 3].jt = (unsigned char)(allow - (socket_check + 3) - 1);
    program[socket_check + 3].jf = (unsigned char)(eafnosupport - (socket_check + 3) - 1);
    program[socket_check + 4].k = eafnosupport - (socket_check + 4) - 1;
    return n;
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

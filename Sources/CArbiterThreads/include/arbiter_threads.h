// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

#ifndef ARBITER_THREADS_H
#define ARBITER_THREADS_H

/// Sets the calling thread's kernel name (at most 15 bytes are kept). Returns 0 or an errno value.
int arbiter_set_thread_name(const char *name);

/// The calling thread's stack size in bytes, as the system reports it (0 if it cannot tell).
unsigned long arbiter_current_thread_stack_size(void);

/// Sets the calling thread's nice value (Linux: per thread). Lowering it below the current value needs privilege
/// (CAP_SYS_NICE, or RLIMIT_NICE): returns 0, or an errno value such as EACCES/EPERM when refused.
int arbiter_set_thread_nice(int nice);

/// Event bits of `arbiter_poll_*` (the values of Linux's EPOLLIN, EPOLLOUT, EPOLLERR and EPOLLHUP).
enum {
    ARBITER_POLL_IN = 0x001,
    ARBITER_POLL_OUT = 0x004,
    ARBITER_POLL_ERR = 0x008,
    ARBITER_POLL_HUP = 0x010,
};

/// A new epoll instance, close-on-exec; -1 with errno set on failure (or where epoll does not exist).
int arbiter_poll_create(void);

/// Adds (`op` 1), changes (2) or removes (3) the watch on `fd`, reported with `token`. Returns 0 or -1 with errno.
int arbiter_poll_control(int poll_fd, int op, int fd, unsigned events, unsigned long long token);

/// Waits up to `timeout_ms` (-1: no limit) for at most `capacity` (≤ 256) events, stored as tokens and event bits.
/// Returns how many, 0 on a time-out, -1 with errno on failure (EINTR included).
int arbiter_poll_wait(int poll_fd, unsigned long long *tokens, unsigned *events, int capacity, int timeout_ms);

/// A non-blocking, close-on-exec eventfd (a counter a thread writes to wake a poller); -1 with errno on failure.
int arbiter_wake_create(void);

/// Accepts a connection that is non-blocking and close-on-exec from the start (no window in which a spawned
/// process could inherit it); -1 with errno as `accept` sets it.
int arbiter_accept_nonblocking(int listener_fd);

#endif

// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

// pthread_setname_np is a GNU extension, which Swift's Glibc module does not declare.
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>

#include "arbiter_threads.h"

int arbiter_set_thread_name(const char *name) {
    char kept[16];
    strncpy(kept, name, sizeof kept - 1);
    kept[sizeof kept - 1] = 0;
#if defined(__APPLE__)
    return pthread_setname_np(kept);
#else
    return pthread_setname_np(pthread_self(), kept);
#endif
}

unsigned long arbiter_current_thread_stack_size(void) {
#if defined(__APPLE__)
    return (unsigned long)pthread_get_stacksize_np(pthread_self());
#else
    pthread_attr_t attributes;
    if (pthread_getattr_np(pthread_self(), &attributes) != 0) return 0;
    size_t size = 0;
    pthread_attr_getstacksize(&attributes, &size);
    pthread_attr_destroy(&attributes);
    return (unsigned long)size;
#endif
}

#if defined(__linux__)
#include <errno.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

int arbiter_set_thread_nice(int nice) {
    pid_t thread = (pid_t)syscall(SYS_gettid);
    return setpriority(PRIO_PROCESS, (id_t)thread, nice) == 0 ? 0 : errno;
}

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <errno.h>

int arbiter_poll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int arbiter_poll_control(int poll_fd, int op, int fd, unsigned events, unsigned long long token) {
    struct epoll_event event;
    event.events = events;
    event.data.u64 = token;
    int operation = op == 1 ? EPOLL_CTL_ADD : op == 2 ? EPOLL_CTL_MOD : EPOLL_CTL_DEL;
    return epoll_ctl(poll_fd, operation, fd, &event);
}

int arbiter_poll_wait(int poll_fd, unsigned long long *tokens, unsigned *events, int capacity, int timeout_ms) {
    struct epoll_event ready[256];
    if (capacity > 256) capacity = 256;
    if (capacity < 1) capacity = 1;
    int count = epoll_wait(poll_fd, ready, capacity, timeout_ms);
    for (int index = 0; index < count; index++) {
        tokens[index] = ready[index].data.u64;
        events[index] = ready[index].events;
    }
    return count;
}

int arbiter_wake_create(void) { return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); }

int arbiter_accept_nonblocking(int listener_fd) {
    return accept4(listener_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
}
#else
#include <errno.h>
int arbiter_set_thread_nice(int nice) { (void)nice; return ENOSYS; }
int arbiter_poll_create(void) { errno = ENOSYS; return -1; }
int arbiter_poll_control(int poll_fd, int op, int fd, unsigned events, unsigned long long token) {
    (void)poll_fd; (void)op; (void)fd; (void)events; (void)token;
    errno = ENOSYS;
    return -1;
}
int arbiter_poll_wait(int poll_fd, unsigned long long *tokens, unsigned *events, int capacity, int timeout_ms) {
    (void)poll_fd; (void)tokens; (void)events; (void)capacity; (void)timeout_ms;
    errno = ENOSYS;
    return -1;
}
int arbiter_wake_create(void) { errno = ENOSYS; return -1; }
int arbiter_accept_nonblocking(int listener_fd) { (void)listener_fd; errno = ENOSYS; return -1; }
#endif

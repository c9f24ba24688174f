// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

#define _GNU_SOURCE
#include <malloc.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sys/syscall.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "process_spawn.h"

int arbiter_cloexec_pipe(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

int arbiter_accept_cloexec(int fd) {
    return accept4(fd, NULL, NULL, SOCK_CLOEXEC);
}

void arbiter_malloc_trim(void) {
    malloc_trim(0);
}

int arbiter_spawn_plugin(const char *path, char *const argv[], char *const envp[], const char *cwd, int stdin_fd,
                         int stdout_fd, pid_t *pid) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) return errno;
    pid_t parent = getpid();
    pid_t child = fork();
    if (child < 0) {
        int error = errno;
        close(report[0]);
        close(report[1]);
        return error;
    }
    if (child == 0) {
        // Only async-signal-safe calls from here to exec.
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        struct sigaction standard = {0};
        standard.sa_handler = SIG_DFL;
        for (int signal = 1; signal < 32; signal++) {
            if (signal != SIGKILL && signal != SIGSTOP) sigaction(signal, &standard, NULL);
        }
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);
        setpgid(0, 0);
        int error = 0;
        if (chdir(cwd) != 0 || dup2(stdin_fd, 0) < 0 || dup2(stdout_fd, 1) < 0) {
            error = errno;
        } else {
            // Nothing but 0, 1 and 2 survives the exec: descriptors another thread opened without O_CLOEXEC
            // (a client's pipe, a socket) must not live on in a long-running plugin.
            if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
                for (int fd = 3; fd < 4096; fd++) fcntl(fd, F_SETFD, FD_CLOEXEC);
            }
            execve(path, argv, envp);
            error = errno;
        }
        ssize_t ignored = write(report[1], &error, sizeof error);
        (void)ignored;
        _exit(127);
    }
    close(report[1]);
    // The report pipe closes at exec. Another thread's child forked in the meantime holds a copy until it execs
    // or closes it, so wait at most ten seconds: a stuck copy must not stall this thread.
    int error = 0;
    ssize_t got = -1;
    struct pollfd waiting = {.fd = report[0], .events = POLLIN};
    for (;;) {
        int ready = poll(&waiting, 1, 10000);
        if (ready < 0 && errno == EINTR) continue;
        if (ready > 0) {
            do {
                got = read(report[0], &error, sizeof error);
            } while (got < 0 && errno == EINTR);
        }
        break;
    }
    close(report[0]);
    if (got == (ssize_t)sizeof error && error != 0) {
        int status;
        while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
        return error;
    }
    *pid = child;
    return 0;
}

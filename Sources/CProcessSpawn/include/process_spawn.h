// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0
//
// The few process calls that Swift's Glibc module does not expose, or that must run between fork and exec.

#ifndef ARBITER_PROCESS_SPAWN_H
#define ARBITER_PROCESS_SPAWN_H

#include <sys/types.h>

/// pipe2(fds, O_CLOEXEC): a pipe whose ends are closed in every child that does not dup them.
int arbiter_cloexec_pipe(int fds[2]);

/// accept4(fd, NULL, NULL, SOCK_CLOEXEC): a connection no child process inherits.
int arbiter_accept_cloexec(int fd);

/// Returns memory that malloc holds free (in every arena) to the system: `malloc_trim(0)`.
void arbiter_malloc_trim(void);

/// Starts `path` (absolute) with `argv` and `envp` in directory `cwd`, with `stdin_fd` and `stdout_fd` as its
/// standard input and output, in a new process group, with default signal dispositions and an empty signal mask,
/// killed (SIGKILL) when the thread that started it ends (so when the daemon dies). Returns 0 and sets `*pid`, or
/// an errno value saying why the child could not start (chdir or exec failed).
int arbiter_spawn_plugin(const char *path, char *const argv[], char *const envp[], const char *cwd, int stdin_fd,
                         int stdout_fd, pid_t *pid);

#endif

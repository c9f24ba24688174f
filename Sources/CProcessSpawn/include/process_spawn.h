// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0
//
// The few GNU process calls that Swift's Glibc module does not expose.

#ifndef ARBITER_PROCESS_SPAWN_H
#define ARBITER_PROCESS_SPAWN_H

#include <spawn.h>

/// pipe2(fds, O_CLOEXEC): a pipe whose ends are closed in every child that does not dup them.
int arbiter_cloexec_pipe(int fds[2]);

/// posix_spawn_file_actions_addchdir_np: the child starts in `path`.
int arbiter_spawn_actions_chdir(posix_spawn_file_actions_t *actions, const char *path);

#endif

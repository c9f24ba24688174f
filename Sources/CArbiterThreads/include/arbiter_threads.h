// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

#ifndef ARBITER_THREADS_H
#define ARBITER_THREADS_H

/// Sets the calling thread's kernel name (at most 15 bytes are kept). Returns 0 or an errno value.
int arbiter_set_thread_name(const char *name);

/// The calling thread's stack size in bytes, as the system reports it (0 if it cannot tell).
unsigned long arbiter_current_thread_stack_size(void);

#endif

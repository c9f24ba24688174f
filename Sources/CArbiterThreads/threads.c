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

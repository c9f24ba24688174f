// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

#ifndef ARBITER_CPCRE2_SHIM_H
#define ARBITER_CPCRE2_SHIM_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/// PCRE2_UNSET, which Swift cannot import because it is a cast expression.
static inline PCRE2_SIZE arbiter_pcre2_unset(void) { return PCRE2_UNSET; }

#endif

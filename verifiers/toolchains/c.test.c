/* Arbiter's test wrapper for C and C++ (the `test` form, MultiPL-E style: one test program whose `main` asserts).
   The program, then the test verbatim; the link wraps `main` (-Wl,--wrap=main), so this `__wrap_main` runs first:
   it reads the nonce from fd 3 before any test code runs, calls the test's `main`, and when that returns 0 reports
   "<nonce> [0, "passed", ms]" and "<nonce> ["end"]" on fd 4. A failed `assert` aborts (a wrong answer); a program
   that exits early leaves no record. Asserts are switched back on between the two (a program that defines NDEBUG
   or its own `assert` must not disable the test's). */
@ARBITER_PROGRAM@
#undef NDEBUG
#include <assert.h>
@ARBITER_TEST@
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef __cplusplus
extern "C" {
#endif
int __real_main(int argc, char **argv);
int __wrap_main(int argc, char **argv);
#ifdef __cplusplus
}
#endif

int __wrap_main(int argc, char **argv) {
    char nonce[160];
    ssize_t length = read(3, nonce, sizeof nonce - 1);
    close(3);
    if (length <= 0) return 99;
    nonce[length] = 0;
    char *end = strchr(nonce, '\n');
    if (end) *end = 0;
    struct timespec begun, done;
    clock_gettime(CLOCK_MONOTONIC, &begun);
    int code = __real_main(argc, argv);
    clock_gettime(CLOCK_MONOTONIC, &done);
    double ms = (double)(done.tv_sec - begun.tv_sec) * 1e3 + (double)(done.tv_nsec - begun.tv_nsec) / 1e6;
    fflush(stdout);
    dprintf(4, "%s [0, \"%s\", %.3f]\n%s [\"end\"]\n", nonce, code == 0 ? "passed" : "wrong_answer", ms, nonce);
    return code;
}

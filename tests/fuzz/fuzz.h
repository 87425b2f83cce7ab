/* fuzz: what the libFuzzer drivers and the replay runner share. Each driver defines the libFuzzer
 * entry point; it runs under libFuzzer (BUILD_FUZZERS, clang) or under replay_main.c (ctest). */
#ifndef ITFLOWD_TESTS_FUZZ_H
#define ITFLOWD_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Returns 0. In the libFuzzer executables (fuzz_<name>) FUZZ_LIBFUZZER is defined: a driver may
 * skip there what is too slow to fuzz (fuzz_credential: the PBKDF2 unwrap); the replay runner
 * (fuzz_replay_<name>) always runs everything. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant that must hold for every input. Not assert(): release builds define NDEBUG, and a
 * broken invariant has to abort (a crash for libFuzzer, a failure for the replay test). */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif

/* collate: utf8mb4_general_ci comparison, the semantics of every string filter (K12). */
#ifndef ITFLOWD_CORE_COLLATE_H
#define ITFLOWD_CORE_COLLATE_H

#include <stddef.h>

/* Compares like MariaDB's utf8mb4_general_ci: each code point is mapped to its general_ci weight
 * (ASCII and Latin case folded, Latin accented letters equal to their base letter: é = E, ß = s;
 * supplementary characters compare as U+FFFD), trailing spaces ignored (PAD SPACE).
 * Invalid UTF-8 bytes compare by byte value. Returns <0, 0, >0. */
int collate_ci_compare(const char *a, size_t alen, const char *b, size_t blen);

#endif

/* json_write: streaming JSON output in PHP json_encode's default byte format (COMPAT K4). */
#ifndef ITFLOWD_JSON_WRITE_H
#define ITFLOWD_JSON_WRITE_H

#include <stddef.h>

#include "core/buf.h"

/* Appends s[0..n) as a JSON string literal with quotes: `"` -> \", `\` -> \\, `/` -> \/,
 * \b \f \n \r \t, other control characters as \u00XX, every non-ASCII character as lowercase
 * \uXXXX (surrogate pairs above U+FFFF); < > & ' unescaped.
 * Returns 0, or -1 when s is not valid UTF-8 (out is then left as it was). */
int json_write_string(struct buf *out, const char *s, size_t n);
/* Appends "key": (key is trusted ASCII from a descriptor, written with the same escaping). */
void json_write_key(struct buf *out, const char *key);

#endif

/* php: the PHP 8.2 input conversions the v1 API applies to request values (reference 1.9). */
#ifndef ITFLOWD_CORE_PHP_H
#define ITFLOWD_CORE_PHP_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* intval() of a string: leading whitespace (space \t \n \r \v \f), optional sign, digits,
 * optional fraction/exponent ("1e3" -> 1000, "1.9" -> 1); saturates to INT64_MIN/INT64_MAX
 * (also for exponent forms: "1e30" -> INT64_MAX); no leading digit -> 0. */
int64_t php_intval_str(const char *s, size_t n);
/* intval() of a float: truncation toward zero; out-of-range values wrap modulo 2^64
 * (1e19 -> -8446744073709551616, 1e30 -> 5076964154930102272); NaN/Inf -> 0. */
int64_t php_intval_double(double d);
/* A whole number written only with digits (no sign, space or other byte), at most 18 of them:
 * 0 and *ret, or -1. (The strict form of the values itflowd adds: after_id, after, limit ...) */
int digits_value(const char *s, size_t n, int64_t *ret);
/* floatval() of a string: the same leading-numeric parse, as a double ("12.345abc" -> 12.345). */
double php_floatval_str(const char *s, size_t n);
/* PHP (string)$float with precision=14: "12.345", "0.1", "1.0E+20", "-1.5E-7", "100", "-0". */
void php_float_to_string(double d, struct buf *out);

/* strip_tags() in place (PHP 8.2 state machine: tags, comments, <?php ?>, quotes inside tags,
 * nested '<' depth, "<" followed by whitespace kept, NUL bytes removed); returns the new length. */
size_t php_strip_tags(char *s, size_t n);
/* trim() as a view: removes " \t\n\r\0\x0B" at both ends (not \f). */
void php_trim(const char **s, size_t *n);
/* sanitizeInput(): (invalid UTF-8 -> converted from Windows-1252), strip_tags, trim; appended
 * to out. */
void php_sanitize(struct buf *out, const char *s, size_t n);

/* 1 when s[0..n) is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF), else 0. */
int utf8_valid(const char *s, size_t n);
/* Number of characters (code points) in valid UTF-8. */
size_t utf8_length(const char *s, size_t n);
/* Byte length of the first max_chars characters of valid UTF-8 (a cut at a character boundary). */
size_t utf8_prefix(const char *s, size_t n, size_t max_chars);
/* Windows-1252 bytes to UTF-8, appended to out. */
void php_cp1252_to_utf8(struct buf *out, const char *s, size_t n);
/* Decodes the character at s[*pos] (*pos < n) with PHP's php_next_utf8_char rules, shared by
 * htmlentities and json_write: returns the code point and moves *pos past it, or returns -1 and
 * moves *pos past the invalid sequence (1-4 bytes, Unicode "maximal subpart" strategy). */
int32_t utf8_next(const char *s, size_t n, size_t *pos);
/* HTML 4.01 entity name for code point cp >= 0xA0 ("eacute"), or NULL (html_entities.c). */
const char *php_html401_entity(uint32_t cp);

/* htmlentities($s) with PHP defaults (ENT_QUOTES | ENT_SUBSTITUTE | ENT_HTML401, UTF-8):
 * & " ' < > and every character with an HTML 4.01 named entity (é -> &eacute;, € -> &euro;);
 * ' becomes &#039;; invalid UTF-8 sequences become U+FFFD. Appended to out. */
void php_htmlentities(struct buf *out, const char *s, size_t n);

/* Every byte that is not ASCII 0-9 removed (phone numbers); appended to out. */
void php_digits_only(struct buf *out, const char *s, size_t n);
/* ucfirst(): first byte a-z upper-cased; appended to out. */
void php_ucfirst(struct buf *out, const char *s, size_t n);

#endif

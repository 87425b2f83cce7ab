/* logsafe: request data made safe for a one-line log entry. */
#ifndef ITFLOWD_CORE_LOGSAFE_H
#define ITFLOWD_CORE_LOGSAFE_H

#include <stddef.h>

/* Copies s (NULL prints "-") into out (NUL-terminated, cut at outlen - 1 bytes, never inside an
 * escape), each control byte (0x00-0x1f, 0x7f), the backslash and, with LOG_ESC_SPACE, the space
 * written as \xHH: a logged value can neither start a line of its own nor (with LOG_ESC_SPACE)
 * add a field to its line. Bytes from 0x80 up are copied as they are. Returns out. */
#define LOG_ESC_SPACE 1
char *log_escape(char *out, size_t outlen, const char *s, int flags);

/* The time now in UTC with milliseconds: 2026-01-31T12:00:00.123Z. */
void log_time_iso(char *out, size_t outlen);
/* A JSON string's contents (without the quotes) from a log_escape()d value: its \xHH escapes
 * keep their backslash as "\\", '"' is escaped, and bytes of invalid UTF-8 become \u00XX so
 * that the line stays JSON. Cut at outlen - 1 bytes. */
void log_json_text(char *out, size_t outlen, const char *escaped);

#endif

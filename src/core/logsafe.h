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

#endif

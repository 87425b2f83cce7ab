/* logsafe: \xHH escapes for the access and error log. */
#include "core/logsafe.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/php.h"

char *log_escape(char *out, size_t outlen, const char *s, int flags)
{
    static const char hex[] = "0123456789abcdef";
    if (!outlen)
        return out;
    if (!s)
        s = "-";
    size_t n = 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        int esc = c < 0x20 || c == 0x7f || c == '\\' || (c == ' ' && (flags & LOG_ESC_SPACE));
        size_t need = esc ? 4 : 1;
        if (n + need >= outlen)
            break;
        if (esc) {
            out[n++] = '\\';
            out[n++] = 'x';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 15];
        } else {
            out[n++] = (char)c;
        }
    }
    out[n] = 0;
    return out;
}

/* 2026-01-31T12:00:00.123Z */
void log_time_iso(char *out, size_t outlen)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char base[24];
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, outlen, "%s.%03ldZ", base, ts.tv_nsec / 1000000L);
}

/* A JSON string's contents from an escaped log value: log_escape left no control byte; its own
 * escapes (\xHH) keep their backslash as "\\", '"' is escaped, and the bytes of invalid UTF-8
 * are written as \u00XX so that the line stays JSON. */
void log_json_text(char *out, size_t outlen, const char *s)
{
    int valid = utf8_valid(s, strlen(s));
    size_t k = 0;
    for (; *s && k + 7 < outlen; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\\') {
            out[k++] = '\\';
            out[k++] = '\\';
        } else if (c == '"' || (c >= 0x80 && !valid))
            k += (size_t)snprintf(out + k, outlen - k, "\\u%04x", c);
        else
            out[k++] = (char)c;
    }
    out[k] = 0;
}

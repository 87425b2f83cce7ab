/* accesslog: one line per answered request (text or JSON, --log-format) and the warning lines
 * that give the real reason behind a generic v1 failure text. Request data is escaped
 * (core/logsafe.c): a line can neither be split nor given extra fields; the query string and the
 * key's secret are never written (the path is logged without its query; a key by id and name). */
#ifndef ITFLOWD_HTTP_ACCESSLOG_H
#define ITFLOWD_HTTP_ACCESSLOG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct access_entry {
    const char *ip, *method, *path; /* path: decoded, without the query string */
    int status;
    const char *result;   /* the v1 answer's "success": "True", "False", or "-" */
    int64_t key_id;       /* 0: no key authenticated */
    const char *key_name; /* as stored (htmlentities), when key_id */
    size_t bytes;         /* of the body sent */
    double seconds;
    int aborted; /* the connection ended before the answer was complete */
};

/* "True" / "False" from the start of a v1 answer ({"success":"True"...), else "-". */
const char *access_v1_result(const char *body, size_t len);

/* Writes the entry as one line (one write) on f: format 0 text, 1 JSON (enum server_log_format).
 *   text: 2026-01-31T12:00:00.123Z 127.0.0.1 GET /api/v1/clients/read.php 200 True key=3:name
 *         1234 0.812ms
 *   json: {"time":"...","level":"info","client":"...","method":"GET","path":"...","status":200,
 *         "result":"True","key_id":3,"key_name":"name","bytes":1234,"duration_ms":0.812} */
void access_log_write(FILE *f, int format, const struct access_entry *e);

/* A warning about the request (the reason behind a generic failure answer), one line. */
void access_log_warning(FILE *f, int format, const struct access_entry *e, const char *msg);
/* The same at another level ("error": why a request failed in the server). */
void access_log_event(FILE *f, int format, const char *level, const struct access_entry *e,
                      const char *msg);

/* A line of the server's own (start, reload, stop, warnings), not about a request: text
 * "itflowd: MESSAGE" (level info) or "itflowd: LEVEL: MESSAGE"; JSON {"time":...,"level":...,
 * "message":...}. The message is escaped like request data. */
void access_log_note(FILE *f, int format, const char *level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif

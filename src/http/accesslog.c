/* accesslog: the access log's lines (see accesslog.h). */
#include "http/accesslog.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "core/logsafe.h"

const char *access_v1_result(const char *body, size_t len)
{
    static const char t[] = "{\"success\":\"True\"", f[] = "{\"success\":\"False\"";
    if (body && len >= sizeof(t) - 1 && !memcmp(body, t, sizeof(t) - 1))
        return "True";
    if (body && len >= sizeof(f) - 1 && !memcmp(body, f, sizeof(f) - 1))
        return "False";
    return "-";
}

struct fields {
    char method[64], path[1024], name[512], ip[160];
};

static void escape_fields(const struct access_entry *e, struct fields *x, int flags)
{
    log_escape(x->method, sizeof(x->method), e->method, flags);
    log_escape(x->path, sizeof(x->path), e->path, flags);
    log_escape(x->ip, sizeof(x->ip), e->ip, flags);
    log_escape(x->name, sizeof(x->name), e->key_id ? e->key_name : "", flags);
}

/* {"time":...,"level":...,"client":...,"method":...,"path":..., into line */
static int json_head(char *line, size_t len, const char *level, const struct access_entry *e)
{
    struct fields x;
    char ts[40], method[400], path[6200], ip[1000];
    log_time_iso(ts, sizeof(ts));
    escape_fields(e, &x, 0);
    log_json_text(method, sizeof(method), x.method);
    log_json_text(path, sizeof(path), x.path);
    log_json_text(ip, sizeof(ip), x.ip);
    return snprintf(line, len,
                    "{\"time\":\"%s\",\"level\":\"%s\",\"client\":\"%s\",\"method\":\"%s\","
                    "\"path\":\"%s\",",
                    ts, level, ip, method, path);
}

static void emit(FILE *f, char *line, size_t cap, int n)
{
    if (n < 0)
        return;
    size_t len = (size_t)n < cap ? (size_t)n : cap - 1;
    if (line[len - 1] != '\n') { /* cut short: the line still ends */
        line[len - 1] = '\n';
    }
    fwrite(line, 1, len, f);
}

void access_log_write(FILE *f, int format, const struct access_entry *e)
{
    char line[8192];
    int n;
    double ms = e->seconds * 1000.0;
    if (format == 1) {
        char name[3200];
        int h = json_head(line, sizeof(line), "info", e);
        if (h < 0 || (size_t)h >= sizeof(line))
            return;
        struct fields x;
        escape_fields(e, &x, 0);
        log_json_text(name, sizeof(name), x.name);
        char key[3300] = "\"key_id\":null,\"key_name\":null";
        if (e->key_id)
            snprintf(key, sizeof(key), "\"key_id\":%lld,\"key_name\":\"%s\"", (long long)e->key_id,
                     name);
        n = h + snprintf(line + h, sizeof(line) - (size_t)h,
                         "\"status\":%d,\"result\":%s%s%s,%s,\"bytes\":%zu,\"duration_ms\":%.3f%s}"
                         "\n",
                         e->status, e->result[0] == '-' ? "" : "\"",
                         e->result[0] == '-' ? "null" : e->result, e->result[0] == '-' ? "" : "\"",
                         key, e->bytes, ms, e->aborted ? ",\"aborted\":true" : "");
    } else {
        struct fields x;
        char ts[40], key[600] = "-";
        log_time_iso(ts, sizeof(ts));
        escape_fields(e, &x, LOG_ESC_SPACE);
        if (e->key_id)
            snprintf(key, sizeof(key), "key=%lld:%s", (long long)e->key_id, x.name);
        n = snprintf(line, sizeof(line), "%s %s %s %s %d %s %s %zu %.3fms%s\n", ts, x.ip, x.method,
                     x.path, e->status, e->result, key, e->bytes, ms,
                     e->aborted ? " (aborted)" : "");
    }
    emit(f, line, sizeof(line), n);
}

void access_log_warning(FILE *f, int format, const struct access_entry *e, const char *msg)
{
    access_log_event(f, format, "warning", e, msg);
}

void access_log_event(FILE *f, int format, const char *level, const struct access_entry *e,
                      const char *msg)
{
    char line[8192], m[1024];
    int n;
    if (format == 1) {
        char jm[6200];
        int h = json_head(line, sizeof(line), level, e);
        if (h < 0 || (size_t)h >= sizeof(line))
            return;
        log_escape(m, sizeof(m), msg, 0);
        log_json_text(jm, sizeof(jm), m);
        n = h + snprintf(line + h, sizeof(line) - (size_t)h,
                         "\"key_id\":%lld,\"message\":\"%s\"}\n", (long long)e->key_id, jm);
    } else {
        struct fields x;
        char ts[40];
        log_time_iso(ts, sizeof(ts));
        escape_fields(e, &x, LOG_ESC_SPACE);
        log_escape(m, sizeof(m), msg, 0);
        n = snprintf(line, sizeof(line), "%s itflowd: %s: %s %s (key %lld): %s\n", ts, level,
                     x.method, x.path, (long long)e->key_id, m);
    }
    emit(f, line, sizeof(line), n);
}

void access_log_note(FILE *f, int format, const char *level, const char *fmt, ...)
{
    char msg[2048], m[2048], line[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_escape(m, sizeof(m), msg, 0);
    int n;
    if (format == 1) {
        char ts[40], jm[6200];
        log_time_iso(ts, sizeof(ts));
        log_json_text(jm, sizeof(jm), m);
        n = snprintf(line, sizeof(line), "{\"time\":\"%s\",\"level\":\"%s\",\"message\":\"%s\"}\n",
                     ts, level, jm);
    } else if (strcmp(level, "info") == 0) {
        n = snprintf(line, sizeof(line), "itflowd: %s\n", m);
    } else {
        n = snprintf(line, sizeof(line), "itflowd: %s: %s\n", level, m);
    }
    emit(f, line, sizeof(line), n);
}

/* events: the transactional outbox. A write that changed a row takes the next sequence number
 * from the one-row counter itflowd_event_seq (UPDATE, then read back) and inserts its event in
 * the same transaction. The counter row stays locked until the transaction ends, so on MariaDB
 * and on a Galera cluster numbers are taken in commit order: a reader that has seen event N has
 * seen every committed event before it, and "after N" never skips one that commits later (an
 * AUTO_INCREMENT id would: ids are handed out at INSERT, commits land in any order). On SQLite
 * the writes are serialised anyway. A rolled-back write leaves no event and no gap. */
#include "engine/events.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine/engine.h"
#include "engine/engine_int.h"
#include "engine/sqlmemo.h"
#include "json/json_write.h"

/* ---- rendering and type patterns ---- */

void events_render_json(struct buf *out, const struct event_row *e)
{
    buf_printf(out, "{\"seq\":%lld,\"type\":", (long long)e->seq);
    json_write_string(out, e->type, e->type_len);
    buf_puts(out, ",\"module\":");
    json_write_string(out, e->module, e->module_len);
    buf_puts(out, ",\"action\":");
    json_write_string(out, e->action, e->action_len);
    buf_printf(out, ",\"id\":%lld,\"client_id\":", (long long)e->object_id);
    if (e->has_client)
        buf_printf(out, "%lld", (long long)e->client_id);
    else
        buf_puts(out, "null");
    time_t t = (time_t)e->created_at;
    struct tm tm;
    char when[32] = "1970-01-01T00:00:00Z";
    if (gmtime_r(&t, &tm))
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    buf_printf(out, ",\"time\":\"%s\"}", when);
}

#define PATTERN_MAX 64

static int pattern_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.';
}

static int is_sep(char c)
{
    return c == ',' || c == ' ';
}

static int one_match(const char *p, size_t n, const char *type, size_t tn)
{
    if (n == 1 && p[0] == '*')
        return 1;
    if (n && p[n - 1] == '*') /* a prefix */
        return tn >= n - 1 && memcmp(type, p, n - 1) == 0;
    if (n && p[0] == '*') /* a suffix */
        return tn >= n - 1 && memcmp(type + tn - (n - 1), p + 1, n - 1) == 0;
    return tn == n && memcmp(type, p, n) == 0;
}

/* The next pattern of a list from *s on: its start and length (0 at the end). */
static size_t next_pattern(const char **s, const char **start)
{
    while (is_sep(**s))
        (*s)++;
    *start = *s;
    while (**s && !is_sep(**s))
        (*s)++;
    return (size_t)(*s - *start);
}

int events_type_match(const char *patterns, const char *type, size_t type_len)
{
    if (!patterns || !*patterns)
        return 1;
    const char *s = patterns, *p;
    size_t n;
    while ((n = next_pattern(&s, &p)) > 0)
        if (one_match(p, n, type, type_len))
            return 1;
    return 0;
}

int events_patterns_valid(const char *patterns)
{
    int count = 0;
    const char *s = patterns ? patterns : "", *p;
    size_t n;
    while ((n = next_pattern(&s, &p)) > 0) {
        if (n > PATTERN_MAX)
            return 0;
        int both = n > 1 && p[0] == '*' && p[n - 1] == '*'; /* "*x*": not a pattern */
        for (size_t i = 0; i < n; i++)
            if (!(pattern_char(p[i]) || (p[i] == '*' && (i == 0 || i == n - 1) && !both)))
                return 0;
        count++;
    }
    return count > 0;
}

/* ---- appending (in the write's transaction) ---- */

#define MAX_LISTENERS 4
static void (*listeners[MAX_LISTENERS])(int64_t seq);
static atomic_int nlisteners;

int engine_events_on_commit(void (*fn)(int64_t seq))
{
    int i = atomic_load(&nlisteners);
    if (i >= MAX_LISTENERS)
        return -1;
    listeners[i] = fn;
    atomic_store(&nlisteners, i + 1);
    return 0;
}

void events_committed(struct op_ctx *ctx)
{
    engine_events_notify(ctx->event_seq);
}

/* Takes the next sequence number and inserts the event, in db's open write transaction. */
static enum eng_rc append_event(struct db *db, const char *module, const char *action,
                                int64_t object, int has_client, int64_t client, int64_t *ret_seq)
{
    struct db_stmt *st;
    if (db_stmt_static(db, "UPDATE itflowd_event_seq SET seq_last = seq_last + 1 WHERE seq_id = 1",
                       &st) != DB_OK ||
        engine_step_done(st) != ENG_OK)
        return ENG_DB;
    int64_t seq = 0;
    if (db_stmt_static(db, "SELECT seq_last FROM itflowd_event_seq WHERE seq_id = 1", &st) !=
            DB_OK ||
        db_query_int(st, &seq) != DB_ROW || seq <= 0)
        return ENG_DB;
    char type[160];
    int tn = snprintf(type, sizeof(type), "%s.%s", module, action);
    if (tn < 0 || (size_t)tn >= sizeof(type))
        return ENG_DB;
    if (db_stmt_static(db,
                       "INSERT INTO itflowd_events (event_seq, event_type, event_module, "
                       "event_action, event_object_id, event_client_id, event_created_at) VALUES "
                       "(?, ?, ?, ?, ?, ?, ?)",
                       &st) != DB_OK)
        return ENG_DB;
    db_bind_int(st, 1, seq);
    db_bind_text(st, 2, type, (size_t)tn);
    db_bind_text(st, 3, module, strlen(module));
    db_bind_text(st, 4, action, strlen(action));
    db_bind_int(st, 5, object);
    if (has_client)
        db_bind_int(st, 6, client);
    else
        db_bind_null(st, 6);
    db_bind_int(st, 7, (int64_t)time(NULL));
    if (engine_step_done(st) != ENG_OK)
        return ENG_DB;
    *ret_seq = seq;
    return ENG_OK;
}

enum eng_rc events_append(struct op_ctx *ctx, int has_client, int64_t client)
{
    int created = ctx->ep->op == OP_CREATE || ((ctx->ep->flags & EP_CREATES) && ctx->new_id > 0);
    return append_event(ctx->db, ctx->mod->name, ctx->ep->function, created ? ctx->new_id : ctx->id,
                        has_client, client, &ctx->event_seq);
}

int engine_event_action_ok(const char *action)
{
    size_t n = strlen(action);
    if (n == 0 || n > 40 || !(action[0] >= 'a' && action[0] <= 'z'))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((action[i] >= 'a' && action[i] <= 'z') || (action[i] >= '0' && action[i] <= '9') ||
              action[i] == '_'))
            return 0;
    return 1;
}

enum eng_rc engine_event_row(struct db *db, const struct module *m, const char *action, int64_t id,
                             int64_t *seq)
{
    if (!m->res || !m->res->pk || !engine_event_action_ok(action) || id <= 0)
        return ENG_NOT_DONE;
    /* the row's client as reads see it: its client column, or its scope join's (a payment's
     * invoice's client; none when the invoice is gone); identifiers from the descriptor. The
     * text is built once per module and dialect (sqlmemo). */
    const struct sql_key key = {m, NULL, SHAPE_ROW_CLIENT, 0, db_dialect(db)};
    const char *sql = sqlmemo_find(&key);
    struct buf text;
    buf_init(&text, 0);
    if (!sql) {
        if (m->client_col && m->scope_join)
            buf_printf(&text, "SELECT %s.%s FROM %s LEFT JOIN %s ON %s WHERE %s.%s = ?",
                       m->scope_join->table, m->client_col, m->table, m->scope_join->table,
                       m->scope_join->on, m->table, m->res->pk);
        else
            buf_printf(&text, "SELECT %s FROM %s WHERE %s = ?",
                       m->client_col ? m->client_col : "NULL", m->table, m->res->pk);
        if (!text.failed)
            sql = sqlmemo_add(&key, text.p);
    }
    struct db_stmt *st;
    enum db_rc rc = sql           ? db_stmt_static(db, sql, &st)
                    : text.failed ? DB_ERROR
                                  : db_stmt(db, text.p, &st);
    buf_free(&text);
    if (rc != DB_OK)
        return ENG_DB;
    db_bind_int(st, 1, id);
    rc = db_step(st);
    size_t n = 0;
    int has_client = rc == DB_ROW && db_column_text(st, 0, &n) != NULL;
    int64_t client = has_client ? db_column_int(st, 0) : 0;
    db_reset(st);
    if (rc == DB_DONE)
        return ENG_NOT_DONE;
    if (rc != DB_ROW)
        return ENG_DB;
    return append_event(db, m->name, action, id, has_client, client, seq);
}

void engine_events_notify(int64_t seq)
{
    if (seq <= 0)
        return;
    int n = atomic_load(&nlisteners);
    for (int i = 0; i < n; i++)
        listeners[i](seq);
}

/* ---- reading ---- */

#define COLS                                                                                       \
    "event_seq, event_type, event_module, event_action, event_object_id, event_client_id, "        \
    "event_created_at"

static void row_of(struct db_stmt *st, struct event_row *e)
{
    e->seq = db_column_int(st, 0);
    e->type = db_column_text(st, 1, &e->type_len);
    e->module = db_column_text(st, 2, &e->module_len);
    e->action = db_column_text(st, 3, &e->action_len);
    e->object_id = db_column_int(st, 4);
    size_t n = 0;
    e->has_client = db_column_text(st, 5, &n) != NULL;
    e->client_id = e->has_client ? db_column_int(st, 5) : 0;
    e->created_at = db_column_int(st, 6);
    if (!e->type)
        e->type = "", e->type_len = 0;
    if (!e->module)
        e->module = "", e->module_len = 0;
    if (!e->action)
        e->action = "", e->action_len = 0;
}

enum db_rc engine_events_last(struct db *db, int64_t *ret)
{
    struct db_stmt *st;
    *ret = 0;
    enum db_rc rc =
        db_stmt_static(db, "SELECT seq_last FROM itflowd_event_seq WHERE seq_id = 1", &st);
    if (rc != DB_OK)
        return rc;
    rc = db_query_int(st, ret);
    return rc == DB_ROW || rc == DB_DONE ? DB_OK : rc;
}

enum db_rc engine_events_walk(struct db *db, int64_t after, int limit,
                              int (*fn)(const struct event_row *e, void *arg), void *arg)
{
    struct db_stmt *st;
    enum db_rc rc = db_stmt_static(db,
                                   "SELECT " COLS " FROM itflowd_events WHERE event_seq > ? ORDER "
                                   "BY event_seq LIMIT ?",
                                   &st);
    if (rc != DB_OK)
        return rc;
    db_bind_int(st, 1, after);
    db_bind_int(st, 2, limit);
    while ((rc = db_step(st)) == DB_ROW) {
        struct event_row e;
        row_of(st, &e);
        if (fn(&e, arg))
            break;
    }
    db_reset(st);
    return rc == DB_ROW || rc == DB_DONE ? DB_OK : rc;
}

enum db_rc engine_events_prune(struct db *db, int64_t before, int64_t *deleted)
{
    struct db_stmt *st;
    *deleted = 0;
    enum db_rc rc = db_stmt_static(
        db,
        "DELETE FROM itflowd_events WHERE event_created_at < ? AND event_seq <= COALESCE((SELECT "
        "MIN(webhook_cursor) FROM itflowd_webhooks WHERE webhook_active = 1), event_seq)",
        &st);
    if (rc != DB_OK)
        return rc;
    db_bind_int(st, 1, before);
    rc = db_step(st);
    db_reset(st);
    if (rc != DB_DONE)
        return rc;
    *deleted = db_changes(db);
    return DB_OK;
}

/* The SQL of a read: the scope condition's shape is one of a few (enum access_scope bits, and
 * whether events of modules without a client column pass it); each text is built once. */
#define SHAPES 16
static const char *read_sql[2][SHAPES];
static pthread_mutex_t read_sql_mu = PTHREAD_MUTEX_INITIALIZER;

static const char *events_sql(enum db_dialect d, unsigned scope, int null_ok)
{
    unsigned shape = (scope & 7u) | (null_ok ? 8u : 0u);
    int di = d == DB_SQLITE ? 0 : 1;
    pthread_mutex_lock(&read_sql_mu);
    const char *sql = read_sql[di][shape];
    if (!sql) {
        struct buf b;
        buf_init(&b, 0);
        buf_puts(&b, "SELECT " COLS " FROM itflowd_events WHERE event_seq > ?");
        if (scope != SCOPE_NONE) {
            buf_puts(&b, null_ok ? " AND (event_client_id IS NULL OR " : " AND (");
            access_scope_sql(&b, scope, "event_client_id");
            buf_puts(&b, ")");
        }
        buf_puts(&b, " ORDER BY event_seq LIMIT ?");
        if (!b.failed)
            sql = read_sql[di][shape] = sql_intern(b.p);
        buf_free(&b);
    }
    pthread_mutex_unlock(&read_sql_mu);
    return sql;
}

/* Whether the key may read event e of module m: the same rules as a read of its list. An event
 * without a client passes a client scope only for a module whose rows have no client (products);
 * the SQL lets every such event through. */
static int event_visible(const struct req *r, const struct module *m, unsigned scope,
                         const struct event_row *e)
{
    if (!r->key.rbac)
        return !(r->key.client_id != 0 && (m->flags & MOD_ALL_CLIENTS_ONLY));
    if (!m->rbac_module || access_level(&r->key.access, m->rbac_module) < 1)
        return 0;
    return scope == SCOPE_NONE || e->has_client || !m->client_col;
}

static const struct module *module_named(const struct module *const *mods, size_t n,
                                         const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(mods[i]->name) == len && memcmp(mods[i]->name, name, len) == 0)
            return mods[i];
    return NULL;
}

static void render_sse(struct buf *out, const struct event_row *e)
{
    buf_printf(out, "id: %lld\nevent: ", (long long)e->seq);
    buf_append(out, e->type, e->type_len);
    buf_puts(out, "\ndata: ");
    events_render_json(out, e);
    buf_puts(out, "\n\n");
}

int engine_events_read(struct req *r, const struct module *const *mods, size_t nmods,
                       const struct events_query *q, struct buf *out, int *count, int64_t *next)
{
    *count = 0;
    *next = q->after;
    /* the networks the key may be used from (its read-only flag does not matter here) */
    int usable = engine_key_usable(r);
    if (usable <= 0)
        return usable == 0 ? 1 : -1;
    /* the client scope, as a list read's (engine.c derive_scope) */
    unsigned scope;
    int null_ok = 0;
    if (r->key.rbac) {
        scope = access_read_scope(r);
        r->scope = scope == SCOPE_CLIENT ? r->key.access.allow_one : 0;
        null_ok = 1; /* rows of modules without a client column: visible to their readers */
    } else if (r->key.client_id != 0 || q->client != 0) {
        scope = SCOPE_CLIENT;
        r->scope = r->key.client_id != 0 ? r->key.client_id : q->client;
    } else {
        scope = SCOPE_NONE;
    }
    r->scope_all = scope == SCOPE_NONE;
    const char *sql = events_sql(db_dialect(r->db), scope, null_ok);
    struct db_stmt *st;
    if (!sql || db_stmt_static(r->db, sql, &st) != DB_OK)
        return -1;
    /* a page of rows looked at; the invisible ones are passed over, so a few pages may be looked
     * at before limit visible ones are found (bounded: a read never walks without end) */
    int64_t after = q->after;
    int pages = 0, complete = 0;
    enum db_rc rc = DB_DONE;
    while (*count < q->limit && pages++ < 8) {
        int idx = 1;
        db_bind_int(st, idx++, after);
        idx = access_scope_bind(st, idx, r, scope);
        db_bind_int(st, idx, q->limit);
        int rows = 0;
        while (*count < q->limit && (rc = db_step(st)) == DB_ROW) {
            struct event_row e;
            row_of(st, &e);
            rows++;
            after = e.seq;
            const struct module *m = module_named(mods, nmods, e.module, e.module_len);
            if (!m || !event_visible(r, m, scope, &e) ||
                !events_type_match(q->types, e.type, e.type_len))
                continue;
            if (*count && !q->sse)
                buf_putc(out, ',');
            if (q->sse)
                render_sse(out, &e);
            else
                events_render_json(out, &e);
            (*count)++;
        }
        db_reset(st);
        if (rc != DB_ROW && rc != DB_DONE)
            return -1;
        if (rows < q->limit && rc == DB_DONE) {
            complete = 1; /* every event of the snapshot after q->after was looked at */
            break;
        }
    }
    *next = after;
    if (complete) {
        int64_t last = 0;
        if (engine_events_last(r->db, &last) != DB_OK)
            return -1;
        if (last > *next)
            *next = last;
    }
    return out->failed ? -1 : 0;
}

/* custom: the script set (loaded at start-up and on SIGHUP, compiled once), the pool of Lua states
 * that run it, and one request's call: req, db and key for the script, its answer in v1 form. */
#include "custom/custom.h"

#include <dirent.h>
#include <errno.h>
#include <lauxlib.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/logsafe.h"
#include "custom/sandbox.h"
#include "custom/scope.h"
#include "engine/engine.h"
#include "req/access.h"
#include "db/db.h"
#include "json/json_write.h"
#include "req/reply.h"
#include "req/req.h"

#define SCRIPT_MAX_BYTES (1u << 20)
#define JSON_MAX_DEPTH 32
#define OBJECT_MAX_KEYS 256 /* on the C stack: 4 KiB a nesting level */
#define WRITE_ATTEMPTS 4

struct script {
    char *name;        /* the file name without ".lua" */
    const char *label; /* interned name (metrics keep the pointer) */
    char *chunkname;   /* "@DIR/name.lua": errors name the file and line */
    char *code;        /* the compiled chunk */
    size_t len;
};

struct custom_set;

/* One Lua state with every script of its set loaded; used by one request at a time. */
struct lstate {
    struct sandbox *sb;
    struct custom_set *set;
    int *fn;     /* registry reference of each script's function (LUA_NOREF: failed to load) */
    int db_ref;  /* the db table */
    int ncached; /* entries in the registry's meta cache */
    struct call *call;
    struct lstate *next;
};

struct custom_set {
    struct script *s;
    size_t n;
    struct custom_limits lim;
    pthread_mutex_t mu; /* free */
    struct lstate *free;
    unsigned refs; /* requests using the set (under cur_mu) */
    int retired;   /* no longer served: freed when refs drops to 0 */
};

/* One request's run of a script. */
struct call {
    struct req *r;
    const struct script *sc;
    struct lstate *ls;
    size_t idx;
    struct db *db;          /* the connection the script's statements run on */
    int may_write;          /* POST: db.exec allowed */
    struct db_stmt *open;   /* a statement being stepped (reset if the script fails meanwhile) */
    enum db_rc db_rc;       /* the last store failure inside the script, or DB_OK */
    int refused;            /* db.exec in a GET */
    const char *denied;     /* db.exec the key may not run: the 403 message */
    int ok;                 /* the script ran and answered a non-error */
    int64_t event_seq;      /* the last event db.event appended (0: none) */
    enum sandbox_trip trip; /* the limit that stopped it, or SANDBOX_OK */
    char errmsg[512];       /* why it failed, for the log */
};

static const struct module *const *modules; /* what db.event may name */
static size_t nmodules;

void custom_set_modules(const struct module *const *mods, size_t n)
{
    modules = mods;
    nmodules = n;
}

static pthread_mutex_t cur_mu = PTHREAD_MUTEX_INITIALIZER;
static struct custom_set *current;
static char columns_key, set_key, slots_key; /* addresses: keys of a row metatable */
static char meta_cache_key;                  /* the registry's table: SQL text -> row metatable */
#define META_CACHE_MAX 128                   /* texts whose row metatable a state keeps */

/* ---------------------------------------------------------------------------------------------
 * Lua side: db, req, key
 * ------------------------------------------------------------------------------------------- */

static struct call *call_of(lua_State *L)
{
    return (*(struct lstate **)lua_getextraspace(L))->call;
}

/* Binds the arguments from index `from` on to the statement's '?'s. */
static void bind_args(lua_State *L, struct db_stmt *st, int from, const char *fn)
{
    int top = lua_gettop(L);
    for (int i = from; i <= top; i++) {
        int idx = i - from + 1;
        switch (lua_type(L, i)) {
        case LUA_TNIL:
            db_bind_null(st, idx);
            break;
        case LUA_TBOOLEAN:
            db_bind_int(st, idx, lua_toboolean(L, i));
            break;
        case LUA_TNUMBER:
            if (lua_isinteger(L, i)) {
                db_bind_int(st, idx, lua_tointeger(L, i));
            } else {
                char num[40];
                int n = snprintf(num, sizeof(num), "%.17g", lua_tonumber(L, i));
                db_bind_text(st, idx, num, (size_t)n);
            }
            break;
        case LUA_TSTRING: {
            size_t n;
            const char *s = lua_tolstring(L, i, &n);
            db_bind_text(st, idx, s, n);
            break;
        }
        default:
            db_reset(st);
            luaL_error(L,
                       "%s: argument %d is a %s; only strings, numbers, booleans and nil are "
                       "bound",
                       fn, i, luaL_typename(L, i));
        }
    }
}

/* The statement's first word (after blanks, comments and '('), upper-cased into out. */
static void first_word(const char *sql, char *out, size_t outlen)
{
    const char *p = sql;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '(')
            p++;
        if (p[0] == '-' && p[1] == '-') {
            p = strchr(p, '\n');
            if (!p)
                p = "";
        } else if (p[0] == '/' && p[1] == '*') {
            const char *end = strstr(p + 2, "*/");
            p = end ? end + 2 : "";
        } else {
            break;
        }
    }
    size_t n = 0;
    while (n + 1 < outlen && ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z'))) {
        out[n] = (char)(p[n] >= 'a' ? p[n] - 'a' + 'A' : p[n]);
        n++;
    }
    out[n] = 0;
}

/* Scripts run queries and data changes only: never transaction control (it would end the
 * request's transaction, or on SQLite the group commit's, early), DDL, PRAGMA or the like. */
static int statement_allowed(const char *sql)
{
    static const char *const words[] = {"SELECT", "WITH",   "VALUES",  "INSERT",
                                        "UPDATE", "DELETE", "REPLACE", NULL};
    char w[16];
    first_word(sql, w, sizeof(w));
    for (const char *const *k = words; *k; k++)
        if (strcmp(w, *k) == 0)
            return 1;
    return 0;
}

/* 1 when the word (upper case) is one of sql's keywords: outside quoted strings, quoted names
 * and comments, not part of a longer name. backslash: whether a backslash escapes the next
 * character inside quotes (MariaDB's strings; SQLite's never). */
static int has_keyword_as(const char *sql, const char *word, int backslash)
{
    size_t wn = strlen(word);
    for (const char *p = sql; *p;) {
        if (*p == '\'' || *p == '"' || *p == '`') { /* up to the closing quote ('' too) */
            char q = *p++;
            while (*p && *p != q) {
                if (backslash && *p == '\\' && p[1])
                    p++;
                p++;
            }
            if (*p)
                p++;
        } else if (p[0] == '-' && p[1] == '-') {
            while (*p && *p != '\n')
                p++;
        } else if (p[0] == '/' && p[1] == '*') {
            const char *end = strstr(p + 2, "*/");
            p = end ? end + 2 : p + strlen(p);
        } else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_') {
            const char *w = p;
            while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
                   (*p >= '0' && *p <= '9') || *p == '$')
                p++;
            if ((size_t)(p - w) == wn && strncasecmp(w, word, wn) == 0)
                return 1;
        } else {
            p++;
        }
    }
    return 0;
}

/* Either way of reading the quotes: a statement that hides the word from one reading is taken
 * as having it. */
static int has_keyword(const char *sql, const char *word)
{
    return has_keyword_as(sql, word, 0) || has_keyword_as(sql, word, 1);
}

/* What a db.exec statement does, for the key's permissions: "DELETE" (DELETE, REPLACE — which
 * deletes the row it replaces — or a WITH ... DELETE), else its first word. */
static void statement_kind(const char *sql, char *out, size_t outlen)
{
    first_word(sql, out, outlen);
    if (strcmp(out, "REPLACE") == 0 || (strcmp(out, "WITH") == 0 && has_keyword(sql, "DELETE")))
        snprintf(out, outlen, "DELETE");
}

/* The statement for sql on the call's connection, ready to bind. */
static struct db_stmt *prepare(lua_State *L, struct call *c, const char *fn)
{
    const char *sql = luaL_checkstring(L, 1);
    if (!statement_allowed(sql))
        luaL_error(L,
                   "%s: only SELECT, WITH, VALUES, INSERT, UPDATE, DELETE and REPLACE "
                   "statements run in a script",
                   fn);
    struct db_stmt *st = NULL;
    enum db_rc rc = db_stmt(c->db, sql, &st);
    if (rc != DB_OK) {
        c->db_rc = rc;
        luaL_error(L, "%s: %s", fn, db_errmsg(c->db));
    }
    return st;
}

static void step_failed(lua_State *L, struct call *c, struct db_stmt *st, enum db_rc rc,
                        const char *fn)
{
    c->db_rc = rc;
    c->open = NULL;
    lua_pushfstring(L, "%s: %s", fn, db_errmsg(c->db));
    db_reset(st);
    lua_error(L);
}

/* The row metatable of a result: [columns_key] = {names in order}, [set_key] = {name = true},
 * [slots_key] = an int per column: the position of its name in the list, or 0 for a repeated
 * name (the first column of a name gives the row its value, as PHP's fetch_assoc keeps one). */
static void push_row_meta(lua_State *L, struct db_stmt *st, int ncols)
{
    lua_createtable(L, 0, 3);
    int *slot = lua_newuserdatauv(L, (size_t)(ncols > 0 ? ncols : 1) * sizeof(int), 0);
    lua_rawsetp(L, -2, &slots_key);
    lua_createtable(L, ncols, 0);
    lua_createtable(L, 0, ncols);
    int n = 0;
    for (int i = 0; i < ncols; i++) {
        lua_pushstring(L, db_column_name(st, i));
        lua_pushvalue(L, -1);
        slot[i] = 0;
        if (lua_rawget(L, -3) == LUA_TNIL) {
            lua_pop(L, 1);
            lua_pushvalue(L, -1);
            lua_pushboolean(L, 1);
            lua_rawset(L, -4);
            lua_rawseti(L, -3, ++n);
            slot[i] = n;
        } else {
            lua_pop(L, 2);
        }
    }
    lua_rawsetp(L, -3, &set_key);
    lua_rawsetp(L, -2, &columns_key);
}

/* The row metatable of the statement at index 1's text: the state keeps one per text (the same
 * text has the same columns), so a call of a known query makes no names. */
static void row_meta(lua_State *L, struct call *c, struct db_stmt *st, int ncols)
{
    lua_rawgetp(L, LUA_REGISTRYINDEX, &meta_cache_key);
    lua_pushvalue(L, 1);
    if (lua_rawget(L, -2) == LUA_TTABLE) {
        lua_rawgetp(L, -1, &slots_key);
        int same = lua_rawlen(L, -1) == (size_t)(ncols > 0 ? ncols : 1) * sizeof(int);
        lua_pop(L, 1);
        if (same) {
            lua_remove(L, -2);
            return;
        }
    }
    lua_pop(L, 1);
    if (c->ls->ncached >= META_CACHE_MAX) { /* start over rather than grow */
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &meta_cache_key);
        c->ls->ncached = 0;
    }
    push_row_meta(L, st, ncols);
    lua_pushvalue(L, 1);
    lua_pushvalue(L, -2);
    lua_rawset(L, -4);
    c->ls->ncached++;
    lua_remove(L, -2);
}

/* db.rows(sql, ...) -> {row, ...}, each row {column = text} (SQL NULL: absent). The names are
 * made once per text and state; a row costs its table and its values. */
static int l_rows(lua_State *L)
{
    struct call *c = call_of(L);
    struct db_stmt *st = prepare(L, c, "db.rows");
    if (!c->may_write && !db_stmt_readonly(st)) {
        db_reset(st);
        c->refused = 1;
        return luaL_error(L, "db.rows: only statements that read may run in a GET request");
    }
    bind_args(L, st, 2, "db.rows");
    lua_settop(L, 1);
    lua_newtable(L); /* 2: the rows */
    c->open = st;
    int ncols = 0;
    const int *slot = NULL;
    lua_Integer n = 0;
    for (;;) {
        enum db_rc rc = db_step(st);
        if (rc == DB_DONE)
            break;
        if (rc != DB_ROW)
            step_failed(L, c, st, rc, "db.rows");
        if (n == 0) {
            ncols = db_column_count(st);
            row_meta(L, c, st, ncols);       /* 3 */
            lua_rawgetp(L, 3, &columns_key); /* 4: the names */
            lua_rawgetp(L, 3, &slots_key);   /* 5 */
            slot = lua_touserdata(L, 5);
        }
        lua_createtable(L, 0, ncols);
        for (int i = 0; i < ncols; i++) {
            size_t len;
            const char *v = db_column_text(st, i, &len);
            if (!v || !slot[i])
                continue;
            lua_rawgeti(L, 4, slot[i]);
            lua_pushlstring(L, v, len);
            lua_rawset(L, -3);
        }
        lua_pushvalue(L, 3);
        lua_setmetatable(L, -2);
        lua_rawseti(L, 2, ++n);
    }
    c->open = NULL;
    db_reset(st);
    lua_settop(L, 2);
    return 1;
}

/* db.exec(sql, ...) -> rows changed, last insert id. POST only. */
static int l_exec(lua_State *L)
{
    struct call *c = call_of(L);
    if (!c->may_write) {
        c->refused = 1;
        return luaL_error(L, "db.exec: only a POST request may write");
    }
    char kind[16];
    statement_kind(luaL_checkstring(L, 1), kind, sizeof(kind));
    const char *denied = engine_key_refuses_sql(c->r, kind);
    if (denied) { /* the request ends with a 403 even if the script catches this */
        c->denied = denied;
        return luaL_error(L, "db.exec: %s", denied);
    }
    struct db_stmt *st = prepare(L, c, "db.exec");
    bind_args(L, st, 2, "db.exec");
    c->open = st;
    enum db_rc rc;
    while ((rc = db_step(st)) == DB_ROW)
        ;
    if (rc != DB_DONE)
        step_failed(L, c, st, rc, "db.exec");
    c->open = NULL;
    db_reset(st);
    lua_pushinteger(L, (lua_Integer)db_changes(c->db));
    lua_pushinteger(L, (lua_Integer)db_last_insert_id(c->db));
    return 2;
}

/* db.event(module, action, id) -> the event's sequence number. POST only: the event
 * <module>.<action> for that row of the module, in the script's transaction (kept only with its
 * writes), its client read from the row: after a create or an update, before a delete. */
static int l_event(lua_State *L)
{
    struct call *c = call_of(L);
    if (!c->may_write) {
        c->refused = 1;
        return luaL_error(L, "db.event: only a POST request may write");
    }
    const char *denied = engine_key_refuses_sql(c->r, "INSERT");
    if (denied) {
        c->denied = denied;
        return luaL_error(L, "db.event: %s", denied);
    }
    size_t mn;
    const char *name = luaL_checklstring(L, 1, &mn);
    const char *action = luaL_checkstring(L, 2);
    lua_Integer id = luaL_checkinteger(L, 3);
    const struct module *m = NULL;
    for (size_t i = 0; i < nmodules && !m; i++)
        if (strlen(modules[i]->name) == mn && memcmp(modules[i]->name, name, mn) == 0)
            m = modules[i];
    if (!m)
        return luaL_error(L, "db.event: there is no module %s", name);
    if (!engine_event_action_ok(action))
        return luaL_error(L,
                          "db.event: the action must be a lower-case letter, then up to 39 "
                          "lower-case letters, digits or '_', not %s",
                          action);
    int64_t seq = 0;
    enum eng_rc rc = engine_event_row(c->db, m, action, (int64_t)id, &seq);
    if (rc == ENG_NOT_DONE)
        return luaL_error(L, "db.event: there is no %s row %I", m->name, id);
    if (rc != ENG_OK) {
        c->db_rc = db_last_error(c->db) == DB_OK ? DB_ERROR : db_last_error(c->db);
        return luaL_error(L, "db.event: %s", db_errmsg(c->db));
    }
    if (seq > c->event_seq)
        c->event_seq = seq;
    lua_pushinteger(L, (lua_Integer)seq);
    return 1;
}

/* A JSON value of the body as a Lua value (null: nil). */
static void push_json(lua_State *L, json_t *j)
{
    luaL_checkstack(L, 4, "the request body is nested too deeply");
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        lua_createtable(L, 0, (int)json_object_size(j));
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v)
        {
            push_json(L, v);
            lua_setfield(L, -2, k);
        }
        break;
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(j);
        lua_createtable(L, (int)n, 0);
        for (size_t i = 0; i < n; i++) {
            push_json(L, json_array_get(j, i));
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        break;
    }
    case JSON_STRING:
        lua_pushlstring(L, json_string_value(j), json_string_length(j));
        break;
    case JSON_INTEGER:
        lua_pushinteger(L, (lua_Integer)json_integer_value(j));
        break;
    case JSON_REAL:
        lua_pushnumber(L, json_real_value(j));
        break;
    case JSON_TRUE:
        lua_pushboolean(L, 1);
        break;
    case JSON_FALSE:
        lua_pushboolean(L, 0);
        break;
    default:
        lua_pushnil(L);
    }
}

/* req.param(name): the body's member when present (v1: the body wins), else the query's. */
static int l_param(lua_State *L)
{
    struct call *c = call_of(L);
    const char *name = luaL_checkstring(L, 1);
    json_t *j = c->r->body ? json_object_get(c->r->body, name) : NULL;
    if (j) {
        push_json(L, j);
        return 1;
    }
    const struct param *p = req_param(c->r, name);
    if (p)
        lua_pushlstring(L, p->val, p->len);
    else
        lua_pushnil(L);
    return 1;
}

/* key.scope(column) -> condition, {values} */
static int l_scope(lua_State *L)
{
    struct call *c = call_of(L);
    const char *column = luaL_checkstring(L, 1);
    char cond[160];
    int64_t binds[CUSTOM_SCOPE_MAX_BINDS];
    size_t nb = 0;
    if (custom_key_scope(&c->r->key, column, cond, sizeof(cond), binds, &nb) != 0)
        return luaL_error(L, "key.scope: %s is not a column of the schema", column);
    lua_pushstring(L, cond);
    lua_createtable(L, (int)nb, 0);
    for (size_t i = 0; i < nb; i++) {
        lua_pushinteger(L, (lua_Integer)binds[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 2;
}

/* key.can(module, level) -> boolean (v26.08): module as the role names it ("module_support" or
 * "support"), level 1-3 or "read", "write", "full" */
static int l_can(lua_State *L)
{
    struct call *c = call_of(L);
    const char *module = luaL_checkstring(L, 1);
    int level;
    if (lua_type(L, 2) == LUA_TNUMBER) {
        level = (int)luaL_checkinteger(L, 2);
    } else {
        static const char *const names[] = {"read", "write", "full", NULL};
        level = luaL_checkoption(L, 2, NULL, names) + 1;
    }
    char full[64];
    if (strncmp(module, "module_", 7) != 0) {
        snprintf(full, sizeof(full), "module_%s", module);
        module = full;
    }
    lua_pushboolean(L, access_level(&c->r->key.access, module) >= level);
    return 1;
}

static void push_req(lua_State *L, struct call *c)
{
    lua_createtable(L, 0, 3);
    lua_pushstring(L, c->r->method == METHOD_POST ? "POST" : "GET");
    lua_setfield(L, -2, "method");
    if (c->r->body) {
        push_json(L, c->r->body);
        lua_setfield(L, -2, "body");
    }
    lua_pushcfunction(L, l_param);
    lua_setfield(L, -2, "param");
}

static void push_key(lua_State *L, struct call *c)
{
    const struct api_key *k = &c->r->key;
    lua_createtable(L, 0, 4);
    lua_pushinteger(L, (lua_Integer)k->id);
    lua_setfield(L, -2, "id");
    lua_pushstring(L, k->name_html);
    lua_setfield(L, -2, "name");
    lua_pushinteger(L, (lua_Integer)k->client_id);
    lua_setfield(L, -2, "client_id");
    lua_pushcfunction(L, l_scope);
    lua_setfield(L, -2, "scope");
    if (k->rbac) { /* v26.08: the user the key runs as and its role's levels */
        lua_pushinteger(L, (lua_Integer)k->user_id);
        lua_setfield(L, -2, "user_id");
        lua_pushcfunction(L, l_can);
        lua_setfield(L, -2, "can");
    }
}

/* ---------------------------------------------------------------------------------------------
 * The answer: the script's return value as JSON
 * ------------------------------------------------------------------------------------------- */

static void enc_value(lua_State *L, int idx, struct buf *b, int depth);

static void enc_number(lua_State *L, int idx, struct buf *b)
{
    if (lua_isinteger(L, idx)) {
        buf_printf(b, "%lld", (long long)lua_tointeger(L, idx));
        return;
    }
    double v = lua_tonumber(L, idx);
    if (!isfinite(v))
        luaL_error(L, "the answer holds a number JSON cannot carry (%f)", v);
    char num[40];
    for (int prec = 1; prec <= 17; prec++) { /* the shortest text that reads back the same */
        snprintf(num, sizeof(num), "%.*g", prec, v);
        if (strtod(num, NULL) == v)
            break;
    }
    buf_puts(b, num);
}

static void enc_string(lua_State *L, const char *s, size_t n, struct buf *b)
{
    if (json_write_string(b, s, n) != 0)
        luaL_error(L, "the answer holds text that is not UTF-8");
}

struct key_ref {
    const char *s;
    size_t n;
};

static int key_cmp(const void *a, const void *b)
{
    const struct key_ref *x = a, *y = b;
    size_t n = x->n < y->n ? x->n : y->n;
    int c = memcmp(x->s, y->s, n);
    return c ? c : (x->n > y->n) - (x->n < y->n);
}

/* A table of a db.rows() result: its columns in the statement's order (NULL as null), then any
 * key the script added, in name order. Other tables: a list as an array, else an object in key
 * name order. */
static void enc_table(lua_State *L, int t, struct buf *b, int depth)
{
    if (depth > JSON_MAX_DEPTH)
        luaL_error(L, "the answer is nested more than %d levels deep", JSON_MAX_DEPTH);
    luaL_checkstack(L, 8, "the answer is nested too deeply");
    t = lua_absindex(L, t);
    int cols = 0;
    if (lua_getmetatable(L, t)) {
        if (lua_rawgetp(L, -1, &columns_key) == LUA_TTABLE) {
            lua_rawgetp(L, -2, &set_key);
            lua_remove(L, -3); /* names, set */
            cols = lua_absindex(L, -2);
        } else {
            lua_pop(L, 2);
        }
    }
    size_t len = lua_rawlen(L, t), count = 0;
    struct key_ref keys[OBJECT_MAX_KEYS];
    size_t nkeys = 0;
    lua_pushnil(L);
    while (lua_next(L, t)) {
        count++;
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            continue;
        if (cols) {
            lua_pushvalue(L, -1);
            int listed = lua_rawget(L, cols + 1) != LUA_TNIL;
            lua_pop(L, 1);
            if (listed)
                continue;
        }
        if (nkeys == OBJECT_MAX_KEYS)
            luaL_error(L, "a table of the answer has more than %d keys", OBJECT_MAX_KEYS);
        keys[nkeys].s = lua_tolstring(L, -1, &keys[nkeys].n);
        nkeys++;
    }
    if (!cols && count == len) { /* a list (an empty table too, as PHP's []) */
        buf_putc(b, '[');
        for (size_t i = 1; i <= len; i++) {
            if (i > 1)
                buf_putc(b, ',');
            lua_rawgeti(L, t, (lua_Integer)i);
            enc_value(L, -1, b, depth + 1);
            lua_pop(L, 1);
        }
        buf_putc(b, ']');
        return;
    }
    size_t named = 0;
    if (!cols) {
        lua_pushnil(L);
        while (lua_next(L, t)) {
            lua_pop(L, 1);
            named += lua_type(L, -1) == LUA_TSTRING;
        }
        if (named != count)
            luaL_error(L, "a table of the answer mixes list entries and named ones");
    }
    buf_putc(b, '{');
    int first = 1;
    if (cols) {
        size_t ncols = lua_rawlen(L, cols);
        for (size_t i = 1; i <= ncols; i++) {
            lua_rawgeti(L, cols, (lua_Integer)i);
            size_t n;
            const char *name = lua_tolstring(L, -1, &n);
            if (!first)
                buf_putc(b, ',');
            first = 0;
            enc_string(L, name, n, b);
            buf_putc(b, ':');
            lua_rawget(L, t);
            enc_value(L, -1, b, depth + 1);
            lua_pop(L, 1);
        }
    }
    qsort(keys, nkeys, sizeof(keys[0]), key_cmp);
    for (size_t i = 0; i < nkeys; i++) {
        if (!first)
            buf_putc(b, ',');
        first = 0;
        enc_string(L, keys[i].s, keys[i].n, b);
        buf_putc(b, ':');
        lua_pushlstring(L, keys[i].s, keys[i].n);
        lua_rawget(L, t);
        enc_value(L, -1, b, depth + 1);
        lua_pop(L, 1);
    }
    buf_putc(b, '}');
    if (cols)
        lua_pop(L, 2);
}

static void enc_value(lua_State *L, int idx, struct buf *b, int depth)
{
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        buf_puts(b, "null");
        break;
    case LUA_TBOOLEAN:
        buf_puts(b, lua_toboolean(L, idx) ? "true" : "false");
        break;
    case LUA_TNUMBER:
        enc_number(L, idx, b);
        break;
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        enc_string(L, s, n, b);
        break;
    }
    case LUA_TTABLE:
        enc_table(L, idx, b, depth);
        break;
    default:
        luaL_error(L, "the answer holds a %s, which JSON cannot carry", luaL_typename(L, idx));
    }
}

/* The field of the table at t, left on the stack; its type. */
static int field(lua_State *L, int t, const char *name)
{
    lua_pushstring(L, name);
    return lua_rawget(L, t);
}

static lua_Integer int_field(lua_State *L, const char *name)
{
    int isnum = 0;
    lua_Integer v = lua_tointegerx(L, -1, &isnum);
    if (!isnum)
        luaL_error(L, "the answer's %s is not an integer", name);
    return v;
}

/* The v1 answer of the value at the top. */
static void answer(lua_State *L, struct call *c)
{
    struct req *r = c->r;
    int t = lua_gettop(L);
    if (lua_isnoneornil(L, t)) {
        reply_message(r, 200, MSG_NO_RESOURCE);
        return;
    }
    if (!lua_istable(L, t))
        luaL_error(L, "the script answered a %s, not a table", luaL_typename(L, t));
    if (field(L, t, "error") != LUA_TNIL) {
        size_t n;
        const char *msg = lua_tolstring(L, -1, &n);
        if (!msg || lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "the answer's error is not a string");
        lua_Integer status = 400;
        if (field(L, t, "status") != LUA_TNIL) {
            status = int_field(L, "status");
            if (status < 400 || status > 599)
                luaL_error(L, "the answer's status %d is not an error status (400 to 599)",
                           (int)status);
        }
        reply_message(r, (int)status, msg);
        return;
    }
    lua_pop(L, 1);
    if (field(L, t, "insert_id") != LUA_TNIL) {
        reply_created(r, (int64_t)int_field(L, "insert_id"));
        return;
    }
    lua_pop(L, 1);
    if (field(L, t, "count") != LUA_TNIL) {
        lua_Integer n = int_field(L, "count");
        if (n > 0)
            reply_count(r, (int64_t)n);
        else
            reply_message(r, 200, MSG_UPDATE_FAILED);
        return;
    }
    lua_pop(L, 1);
    size_t n = lua_rawlen(L, t);
    if (n == 0) {
        lua_pushnil(L);
        if (lua_next(L, t))
            luaL_error(L, "the answer is a table without rows, insert_id, count or error");
        reply_message(r, 200, MSG_NO_RESOURCE);
        return;
    }
    r->status = 200;
    buf_reset(&r->out);
    buf_printf(&r->out, "{\"success\":\"True\",\"count\":%zu,\"data\":[", n);
    for (size_t i = 1; i <= n; i++) {
        if (lua_rawgeti(L, t, (lua_Integer)i) != LUA_TTABLE)
            luaL_error(L, "row %d of the answer is a %s, not a table", (int)i,
                       luaL_typename(L, -1));
        if (i > 1)
            buf_putc(&r->out, ',');
        enc_table(L, -1, &r->out, 1);
        lua_pop(L, 1);
    }
    buf_puts(&r->out, "]}");
}

/* Runs in lua_pcall: the script with (req, db, key), then its answer. */
static int call_script(lua_State *L)
{
    struct call *c = lua_touserdata(L, 1);
    lua_settop(L, 0);
    lua_rawgeti(L, LUA_REGISTRYINDEX, c->ls->fn[c->idx]);
    push_req(L, c);
    lua_rawgeti(L, LUA_REGISTRYINDEX, c->ls->db_ref);
    push_key(L, c);
    lua_call(L, 3, 1);
    answer(L, c);
    return 0;
}

/* One run of the script on db; the answer in c->r. c->ok when it answered a non-error. */
static void run_call(struct call *c, struct db *db)
{
    struct lstate *ls = c->ls;
    lua_State *L = sandbox_lua(ls->sb);
    struct req *r = c->r;
    c->db = db;
    c->open = NULL;
    c->db_rc = DB_OK;
    c->refused = 0;
    c->denied = NULL;
    c->ok = 0;
    c->event_seq = 0;
    c->errmsg[0] = 0;
    c->trip = SANDBOX_OK;
    ls->call = c;
    lua_settop(L, 0);
    lua_pushcfunction(L, call_script);
    lua_pushlightuserdata(L, c);
    sandbox_arm(ls->sb, ls->set->lim.instructions, ls->set->lim.memory);
    int rc = lua_pcall(L, 1, 0, 0);
    sandbox_disarm(ls->sb);
    if (c->open) { /* an error while stepping left it in use */
        db_reset(c->open);
        c->open = NULL;
    }
    if (rc == LUA_OK && !r->out.failed && !c->denied) {
        c->ok = r->status < 400;
        lua_settop(L, 0);
        return;
    }
    /* (a refused allocation that the collector then made room for is no trip) */
    enum sandbox_trip trip = c->trip = rc == LUA_OK ? SANDBOX_OK : sandbox_tripped(ls->sb);
    const char *msg = rc == LUA_OK                     ? "out of memory building the answer"
                      : lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1)
                                                       : "an error that is not a string";
    snprintf(c->errmsg, sizeof(c->errmsg), "%s%s",
             trip == SANDBOX_INSTRUCTIONS ? "the instruction limit was reached: "
             : trip == SANDBOX_MEMORY     ? "the memory limit was reached: "
                                          : "",
             msg);
    lua_settop(L, 0);
    r->total[0] = 0;
    if (c->denied) {      /* what the script answered (having caught the error) is replaced */
        c->errmsg[0] = 0; /* the key's permissions, not a failure of the script */
        r->out.failed = 0;
        reply_message(r, 403, c->denied);
    } else if (c->refused)
        reply_message(r, 405, "Can only send POST requests to this endpoint: it writes.");
    else if (c->db_rc == DB_BUSY || c->db_rc == DB_UNAVAILABLE || c->db_rc == DB_FULL)
        reply_server_error(r, c->db_rc);
    else
        reply_message(r, 500, "Internal server error.");
}

/* ---------------------------------------------------------------------------------------------
 * The pool of states and the set
 * ------------------------------------------------------------------------------------------- */

static void lstate_free(struct lstate *ls)
{
    if (!ls)
        return;
    sandbox_free(ls->sb);
    free(ls->fn);
    free(ls);
}

/* Runs in lua_pcall (every allocation of the set-up may fail): the db table, the row metatable
 * cache, then each script's chunk, run once under the limits, its function kept. */
static int fill_state(lua_State *L)
{
    struct lstate *ls = lua_touserdata(L, 1);
    static const luaL_Reg fns[] = {
        {"rows", l_rows}, {"exec", l_exec}, {"event", l_event}, {NULL, NULL}};
    luaL_newlib(L, fns);
    ls->db_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_newtable(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &meta_cache_key);
    const struct custom_set *set = ls->set;
    for (size_t i = 0; i < set->n; i++) {
        const struct script *sc = &set->s[i];
        lua_settop(L, 1);
        sandbox_arm(ls->sb, set->lim.instructions, set->lim.memory);
        int ok = luaL_loadbufferx(L, sc->code, sc->len, sc->chunkname, "b") == LUA_OK &&
                 lua_pcall(L, 0, 1, 0) == LUA_OK && lua_isfunction(L, -1);
        sandbox_disarm(ls->sb);
        if (ok)
            ls->fn[i] = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    return 0;
}

/* A state with every script of the set loaded. */
static struct lstate *lstate_new(struct custom_set *set)
{
    struct lstate *ls = calloc(1, sizeof(*ls));
    if (!ls)
        return NULL;
    ls->set = set;
    ls->fn = calloc(set->n ? set->n : 1, sizeof(*ls->fn));
    ls->sb = sandbox_new();
    if (!ls->fn || !ls->sb) {
        lstate_free(ls);
        return NULL;
    }
    for (size_t i = 0; i < set->n; i++)
        ls->fn[i] = LUA_NOREF;
    lua_State *L = sandbox_lua(ls->sb);
    *(struct lstate **)lua_getextraspace(L) = ls;
    lua_pushcfunction(L, fill_state);
    lua_pushlightuserdata(L, ls);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
        lstate_free(ls);
        return NULL;
    }
    lua_settop(L, 0);
    return ls;
}

static void set_free(struct custom_set *set)
{
    if (!set)
        return;
    while (set->free) {
        struct lstate *ls = set->free;
        set->free = ls->next;
        lstate_free(ls);
    }
    for (size_t i = 0; i < set->n; i++) {
        free(set->s[i].name);
        free(set->s[i].chunkname);
        free(set->s[i].code);
    }
    free(set->s);
    pthread_mutex_destroy(&set->mu);
    free(set);
}

int custom_name_ok(const char *name, size_t n)
{
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-'))
            return 0;
    }
    return 1;
}

static int writer(lua_State *L, const void *p, size_t n, void *ud)
{
    (void)L;
    buf_append(ud, p, n);
    return ((struct buf *)ud)->failed ? 1 : 0;
}

static char *read_file(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *p = malloc(SCRIPT_MAX_BYTES + 1);
    size_t n = p ? fread(p, 1, SCRIPT_MAX_BYTES + 1, f) : 0;
    int bad = ferror(f) || n > SCRIPT_MAX_BYTES;
    fclose(f);
    if (!p || bad) {
        free(p);
        return NULL;
    }
    *ret_len = n;
    return p;
}

static void report(const char *path, const char *why, const char *detail)
{
    char d[600];
    fprintf(stderr, "itflowd: custom script %s %s%s%s; not served\n", path, why, detail ? ": " : "",
            detail ? log_escape(d, sizeof(d), detail, 0) : "");
}

/* Compiles DIR/name.lua into sc (its chunk run once in scratch to see that it returns a
 * function). 0, or -1 after reporting why not. */
static int compile_script(struct sandbox *scratch, const struct custom_limits *lim, const char *dir,
                          const char *name, struct script *sc)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s.lua", dir, name);
    size_t len = 0;
    char *text = read_file(path, &len);
    if (!text) {
        report(path, "cannot be read (or is over 1 MiB)", NULL);
        return -1;
    }
    lua_State *L = sandbox_lua(scratch);
    size_t cn = strlen(path) + 2;
    char *chunkname = malloc(cn);
    if (!chunkname) {
        free(text);
        return -1;
    }
    snprintf(chunkname, cn, "@%s", path);
    struct buf code;
    buf_init(&code, 0);
    int rc = -1;
    if (luaL_loadbufferx(L, text, len, chunkname, "t") != LUA_OK) {
        report(path, "does not compile", lua_tostring(L, -1));
    } else if (lua_dump(L, writer, &code, 0) != 0 || code.failed) {
        report(path, "cannot be kept", "out of memory");
    } else {
        sandbox_arm(scratch, lim->instructions, lim->memory);
        int prc = lua_pcall(L, 0, 1, 0);
        sandbox_disarm(scratch);
        if (prc != LUA_OK)
            report(path, "fails when loaded", lua_tostring(L, -1));
        else if (!lua_isfunction(L, -1))
            report(path, "does not return a function", NULL);
        else
            rc = 0;
    }
    lua_settop(L, 0);
    free(text);
    if (rc != 0) {
        free(chunkname);
        buf_free(&code);
        return -1;
    }
    sc->name = strdup(name);
    sc->chunkname = chunkname;
    sc->code = buf_steal(&code, &sc->len);
    sc->label = sc->name ? sql_intern(sc->name) : NULL;
    if (!sc->name || !sc->code || !sc->label) {
        free(sc->name);
        free(sc->chunkname);
        free(sc->code);
        return -1;
    }
    return 0;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The script names of dir, sorted; NULL (and errno) when it cannot be read. */
static char **list_scripts(const char *dir, size_t *ret_n)
{
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    size_t n = 0, cap = 16;
    char **names = malloc(cap * sizeof(*names));
    struct dirent *e;
    while (names && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".lua") != 0)
            continue;
        if (!custom_name_ok(e->d_name, len - 4)) {
            fprintf(stderr,
                    "itflowd: custom script %s/%s: the name may hold only letters, "
                    "digits, '_' and '-'; not served\n",
                    dir, e->d_name);
            continue;
        }
        if (n == cap) {
            char **more = realloc(names, 2 * cap * sizeof(*names));
            if (!more)
                break;
            names = more;
            cap *= 2;
        }
        names[n] = strndup(e->d_name, len - 4);
        if (names[n])
            n++;
    }
    closedir(d);
    if (names)
        qsort(names, n, sizeof(*names), name_cmp);
    *ret_n = n;
    return names;
}

int custom_load(const char *dir, const struct custom_limits *lim, unsigned states)
{
    size_t nnames = 0;
    char **names = list_scripts(dir, &nnames);
    if (!names) {
        fprintf(stderr, "itflowd: cannot read the custom script directory %s: %s\n", dir,
                strerror(errno));
        return -1;
    }
    struct custom_set *set = calloc(1, sizeof(*set));
    struct sandbox *scratch = sandbox_new();
    if (set)
        set->s = calloc(nnames ? nnames : 1, sizeof(*set->s));
    if (!set || !set->s || !scratch) {
        fprintf(stderr, "itflowd: out of memory loading the custom scripts\n");
        for (size_t i = 0; i < nnames; i++)
            free(names[i]);
        free(names);
        if (set)
            free(set->s);
        free(set);
        sandbox_free(scratch);
        return -1;
    }
    pthread_mutex_init(&set->mu, NULL);
    set->lim = *lim;
    for (size_t i = 0; i < nnames; i++) {
        if (compile_script(scratch, lim, dir, names[i], &set->s[set->n]) == 0)
            set->n++;
        free(names[i]);
    }
    free(names);
    sandbox_free(scratch);
    for (unsigned i = 0; i < states && set->n; i++) {
        struct lstate *ls = lstate_new(set);
        if (!ls)
            break;
        ls->next = set->free;
        set->free = ls;
    }
    pthread_mutex_lock(&cur_mu);
    struct custom_set *old = current;
    current = set;
    int free_old = 0;
    if (old) {
        old->retired = 1;
        free_old = old->refs == 0;
    }
    pthread_mutex_unlock(&cur_mu);
    if (free_old)
        set_free(old);
    return (int)set->n;
}

void custom_unload(void)
{
    pthread_mutex_lock(&cur_mu);
    struct custom_set *old = current;
    current = NULL;
    pthread_mutex_unlock(&cur_mu);
    set_free(old);
}

/* Index of the script name in set, or -1 (the names are sorted). */
static long find(const struct custom_set *set, const char *name, size_t n)
{
    size_t lo = 0, hi = set->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const char *s = set->s[mid].name;
        int c = strncmp(s, name, n);
        if (c == 0)
            c = s[n] != 0; /* s is longer */
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

int custom_exists(const char *name, size_t n)
{
    pthread_mutex_lock(&cur_mu);
    int found = current && find(current, name, n) >= 0;
    pthread_mutex_unlock(&cur_mu);
    return found;
}

void custom_openapi_paths(struct buf *out)
{
    pthread_mutex_lock(&cur_mu);
    for (size_t i = 0; current && i < current->n; i++) {
        const char *name = current->s[i].name;
        buf_printf(out, ",\"/api/v1/custom/%s.php\":{", name);
        for (int m = 0; m < 2; m++)
            buf_printf(out,
                       "%s\"%s\":{\"operationId\":\"custom_%s_%s\",\"tags\":[\"custom\"],"
                       "\"summary\":\"Custom endpoint (%s.lua)\",\"responses\":{\"200\":{"
                       "\"description\":\"The script's answer\"},\"401\":{\"description\":"
                       "\"Authentication failed\"},\"500\":{\"description\":\"The script "
                       "failed\"}}}",
                       m ? "," : "", m ? "post" : "get", name, m ? "post" : "get", name);
        buf_putc(out, '}');
    }
    pthread_mutex_unlock(&cur_mu);
}

/* The script's write inside its transaction on db, under the request's Idempotency-Key (a
 * replayed answer or a 409 runs nothing): 0 keep, 1 undo. */
static int write_body(struct call *c, struct db *db)
{
    struct req *r = c->r;
    int claimed = engine_idem_claim(r, db);
    if (claimed > 0) {
        run_call(c, db);
        if (!c->ok || engine_idem_store(r, db) == 0)
            return c->ok ? 0 : 1;
    }
    c->ok = 0;
    if (claimed != 0) { /* the store failed claiming the key or storing the answer */
        c->db_rc = db_last_error(db) == DB_OK ? DB_ERROR : db_last_error(db);
        snprintf(r->error, sizeof(r->error), "Idempotency-Key: %s", db_errmsg(db));
        reply_server_error(r, c->db_rc);
    }
    return 1;
}

static int grouped_body(struct db *db, void *arg)
{
    return write_body(arg, db);
}

/* A POST: the script in one write transaction, kept only when it answered a non-error. */
static void run_write(struct call *c)
{
    struct req *r = c->r;
    if (r->pool && db_pool_single_writer(r->pool)) {
        int fn_rc = 1;
        struct db_fault fault = {DB_OK, ""};
        enum db_rc rc = db_pool_write(r->pool, grouped_body, c, &fn_rc, &fault);
        if (rc != DB_OK) {
            snprintf(r->error, sizeof(r->error), "%s", fault.msg[0] ? fault.msg : "write failed");
            reply_server_error(r, rc);
        } else if (fn_rc == 0 && c->ok) {
            engine_events_notify(c->event_seq);
        }
        return;
    }
    for (int attempt = 1;; attempt++) {
        enum db_rc rc = db_begin(r->db, 1);
        if (rc != DB_OK) {
            snprintf(r->error, sizeof(r->error), "%s", db_errmsg(r->db));
            reply_server_error(r, rc);
            return;
        }
        write_body(c, r->db);
        if (c->ok && (rc = db_commit(r->db)) != DB_OK) {
            c->ok = 0;
            c->db_rc = rc;
            snprintf(c->errmsg, sizeof(c->errmsg), "commit: %s", db_errmsg(r->db));
            reply_server_error(r, rc);
        }
        if (!c->ok)
            db_rollback(r->db);
        else
            engine_events_notify(c->event_seq);
        /* a deadlock or lock wait timeout: the whole script again */
        if (c->ok || c->db_rc != DB_BUSY || attempt == WRITE_ATTEMPTS)
            return;
    }
}

const char *custom_handle(struct req *r, const char *name, size_t n)
{
    pthread_mutex_lock(&cur_mu);
    struct custom_set *set = current;
    long idx = set ? find(set, name, n) : -1;
    if (idx >= 0)
        set->refs++;
    pthread_mutex_unlock(&cur_mu);
    if (idx < 0) {
        reply_message(r, 404, "Unknown endpoint.");
        return NULL;
    }
    const struct script *sc = &set->s[idx];
    pthread_mutex_lock(&set->mu);
    struct lstate *ls = set->free;
    if (ls)
        set->free = ls->next;
    pthread_mutex_unlock(&set->mu);
    if (!ls)
        ls = lstate_new(set);
    struct call c;
    memset(&c, 0, sizeof(c));
    c.r = r;
    c.sc = sc;
    c.ls = ls;
    c.idx = (size_t)idx;
    c.may_write = r->method == METHOD_POST;
    if (!ls) {
        reply_message(r, 500, "Internal server error.");
        snprintf(r->error, sizeof(r->error), "out of memory for a Lua state");
    } else if (ls->fn[idx] == LUA_NOREF) {
        reply_message(r, 500, "Internal server error.");
        snprintf(r->error, sizeof(r->error), "custom script %s did not load", sc->name);
    } else if (c.may_write) {
        if (engine_idem_header_ok(r)) /* else answered 400 */
            run_write(&c);
    } else {
        run_call(&c, r->db);
    }
    if (c.errmsg[0]) {
        char msg[600];
        fprintf(stderr, "itflowd: custom script %s failed: %s\n", sc->name,
                log_escape(msg, sizeof(msg), c.errmsg, 0));
    }
    const char *label = sc->label;
    /* a state a limit stopped is not reused: what the script left behind goes with it */
    int keep = ls && c.trip == SANDBOX_OK;
    if (ls) {
        ls->call = NULL;
        if (keep) {
            pthread_mutex_lock(&set->mu);
            ls->next = set->free;
            set->free = ls;
            pthread_mutex_unlock(&set->mu);
        } else {
            lstate_free(ls);
        }
    }
    pthread_mutex_lock(&cur_mu);
    int free_set = --set->refs == 0 && set->retired;
    pthread_mutex_unlock(&cur_mu);
    if (free_set)
        set_free(set);
    return label;
}

/* test_custom: the sandbox of custom scripts (src/custom/sandbox.c) — its libraries, its limits —
 * and key.scope()'s condition (src/custom/scope.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "custom/custom.h"
#include "custom/sandbox.h"
#include "custom/scope.h"
#include "db/db.h"
#include "req/req.h"
#include "testfiles.h"

/* Runs code (a chunk) armed with the limits; the status of the call. */
static int run(struct sandbox *sb, const char *code, uint64_t instructions, size_t memory)
{
    lua_State *L = sandbox_lua(sb);
    lua_settop(L, 0);
    if (luaL_loadbufferx(L, code, strlen(code), "=test", "t") != LUA_OK)
        return -1;
    sandbox_arm(sb, instructions, memory);
    int rc = lua_pcall(L, 0, 1, 0);
    sandbox_disarm(sb);
    return rc;
}

static const char *result(struct sandbox *sb)
{
    lua_State *L = sandbox_lua(sb);
    return lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
}

static void test_unsafe_libraries_are_absent(void **state)
{
    (void)state;
    struct sandbox *sb = sandbox_new();
    assert_non_null(sb);
    static const char *const absent[] = {"io",      "os",         "debug",    "package",
                                         "require", "dofile",     "loadfile", "collectgarbage",
                                         "print",   "string.dump"};
    for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
        char code[128];
        snprintf(code, sizeof(code), "return type(%s)", absent[i]);
        assert_int_equal(run(sb, code, 0, 0), LUA_OK);
        if (strcmp(result(sb), "nil") != 0)
            fail_msg("%s is a %s in the sandbox", absent[i], result(sb));
    }
    static const char *const present[] = {"string.format", "table.concat",   "math.floor",
                                          "utf8.char",     "coroutine.wrap", "pcall",
                                          "load"};
    for (size_t i = 0; i < sizeof(present) / sizeof(present[0]); i++) {
        char code[128];
        snprintf(code, sizeof(code), "return type(%s)", present[i]);
        assert_int_equal(run(sb, code, 0, 0), LUA_OK);
        assert_string_equal(result(sb), "function");
    }
    sandbox_free(sb);
}

static void test_load_takes_text_only(void **state)
{
    (void)state;
    struct sandbox *sb = sandbox_new();
    /* a precompiled chunk (it starts with ESC "Lua") is refused; text compiles */
    assert_int_equal(run(sb,
                         "local f, err = load(string.char(27) .. 'LuaT\\0') "
                         "return tostring(f) .. ' ' .. tostring(err)",
                         0, 0),
                     LUA_OK);
    assert_non_null(strstr(result(sb), "nil "));
    assert_non_null(strstr(result(sb), "attempt to load a binary chunk"));
    assert_int_equal(run(sb, "return load('return 6 * 7')()", 0, 0), LUA_OK);
    assert_int_equal(lua_tointeger(sandbox_lua(sb), -1), 42);
    /* an environment given to load is the chunk's */
    assert_int_equal(run(sb, "return load('return x', 'c', 't', {x = 'env'})()", 0, 0), LUA_OK);
    assert_string_equal(result(sb), "env");
    sandbox_free(sb);
}

static void test_instruction_limit(void **state)
{
    (void)state;
    struct sandbox *sb = sandbox_new();
    assert_int_equal(run(sb, "while true do end", 100000, 0), LUA_ERRRUN);
    assert_int_equal(sandbox_tripped(sb), SANDBOX_INSTRUCTIONS);
    assert_non_null(strstr(result(sb), "instruction limit reached"));
    /* caught by pcall, the limit still ends the chunk: every further instruction fails */
    assert_int_equal(run(sb,
                         "local n = 0 while true do n = n + 1 "
                         "pcall(function() while true do end end) end",
                         100000, 0),
                     LUA_ERRRUN);
    assert_int_equal(sandbox_tripped(sb), SANDBOX_INSTRUCTIONS);
    /* and in a coroutine */
    assert_int_equal(run(sb, "coroutine.wrap(function() while true do end end)()", 100000, 0),
                     LUA_ERRRUN);
    assert_int_equal(sandbox_tripped(sb), SANDBOX_INSTRUCTIONS);
    /* the next call starts with a fresh count: within the limit it runs */
    assert_int_equal(run(sb, "local s = 0 for i = 1, 1000 do s = s + i end return s", 100000, 0),
                     LUA_OK);
    assert_int_equal(sandbox_tripped(sb), SANDBOX_OK);
    assert_int_equal(lua_tointeger(sandbox_lua(sb), -1), 500500);
    /* unarmed (0): no limit */
    assert_int_equal(run(sb, "local s = 0 for i = 1, 300000 do s = s + 1 end return s", 0, 0),
                     LUA_OK);
    sandbox_free(sb);
}

static void test_memory_limit(void **state)
{
    (void)state;
    struct sandbox *sb = sandbox_new();
    size_t base = sandbox_memory(sb);
    assert_int_equal(
        run(sb, "local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(1000) .. i end", 0, 1 << 20),
        LUA_ERRMEM);
    assert_int_equal(sandbox_tripped(sb), SANDBOX_MEMORY);
    /* one big allocation */
    assert_int_equal(run(sb, "return ('x'):rep(1 << 30)", 0, 1 << 20), LUA_ERRMEM);
    assert_int_equal(sandbox_tripped(sb), SANDBOX_MEMORY);
    lua_settop(sandbox_lua(sb), 0);
    lua_gc(sandbox_lua(sb), LUA_GCCOLLECT);
    assert_true(sandbox_memory(sb) < base + (64 << 10)); /* given back */
    /* within the limit it runs */
    assert_int_equal(run(sb, "return #(('x'):rep(100000))", 0, 1 << 20), LUA_OK);
    assert_int_equal(sandbox_tripped(sb), SANDBOX_OK);
    sandbox_free(sb);
}

static void test_key_scope(void **state)
{
    (void)state;
    struct api_key all = {.id = 1, .client_id = 0}, one = {.id = 2, .client_id = 7};
    char cond[64];
    int64_t binds[CUSTOM_SCOPE_MAX_BINDS];
    size_t n = 99;
    assert_int_equal(custom_key_scope(&all, "ticket_client_id", cond, sizeof(cond), binds, &n), 0);
    assert_string_equal(cond, "1=1");
    assert_int_equal(n, 0);
    assert_int_equal(custom_key_scope(&one, "t.ticket_client_id", cond, sizeof(cond), binds, &n),
                     0);
    assert_string_equal(cond, "t.ticket_client_id = ?");
    assert_int_equal(n, 1);
    assert_int_equal(binds[0], 7);
    /* only a column of the schema, optionally qualified: nothing else reaches the SQL text */
    static const char *const bad[] = {"",
                                      "nosuch_column",
                                      "ticket_client_id; DROP TABLE clients",
                                      "ticket_client_id OR 1=1",
                                      "a.b.ticket_client_id",
                                      ".ticket_client_id",
                                      "t.",
                                      "1t.ticket_client_id",
                                      "ticket_client_id ",
                                      "`ticket_client_id`"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        n = 99;
        if (custom_key_scope(&one, bad[i], cond, sizeof(cond), binds, &n) != -1)
            fail_msg("key.scope accepted \"%s\"", bad[i]);
        assert_int_equal(n, 0);
    }
    /* a condition that does not fit */
    assert_int_equal(custom_key_scope(&one, "ticket_client_id", cond, 8, binds, &n), -1);
}

static void test_script_names(void **state)
{
    (void)state;
    assert_true(custom_name_ok("open_tickets", 12));
    assert_true(custom_name_ok("asset-lookup2", 13));
    assert_false(custom_name_ok("", 0));
    assert_false(custom_name_ok("a.b", 3));
    assert_false(custom_name_ok("a/b", 3));
    assert_false(custom_name_ok("a%2f", 4));
    assert_false(custom_name_ok("..", 2));
}

/* ---- the script set and a request's answer (custom.c), on a SQLite file ---- */

struct fixture {
    char dir[64];
    char path[96];
    struct db *db;
};

static void write_script(const struct fixture *fx, const char *name, const char *text)
{
    char p[160];
    snprintf(p, sizeof(p), "%s/%s.lua", fx->dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static const struct {
    const char *name, *text;
} scripts[] = {
    {"plain", "return function() return {{s = 'x', n = 1, f = 1.5, b = true, z = nil, "
              "list = {1, 'two'}, obj = {k = {}}}} end"},
    {"rows", "return function(req, db) return db.rows('SELECT b, a, b AS c FROM t ORDER BY b') "
             "end"},
    {"rows_extra", "return function(req, db) local r = db.rows('SELECT b, a FROM t WHERE b = ?', "
                   "'2') r[1].added = 'yes' return r end"},
    {"created", "return function() return {insert_id = 5} end"},
    {"updated", "return function() return {count = 3} end"},
    {"unchanged", "return function() return {count = 0} end"},
    {"err", "return function() return {error = 'teapot', status = 418} end"},
    {"err_status", "return function() return {error = 'x', status = 200} end"},
    {"nothing", "return function() end"},
    {"empty", "return function() return {} end"},
    {"mixed", "return function() return {{1, a = 2}} end"},
    {"not_utf8", "return function() return {{s = '\\xff'}} end"},
    {"fn", "return function() return {{f = print or type}} end"},
    {"write", "return function(req, db) local n, id = db.exec(\"INSERT INTO t (b, a) VALUES "
              "('9', 'w')\") if req.param('fail') then error('after insert') end "
              "return {insert_id = id} end"},
    {"broken", "return function( end"},
};

static int setup_set(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/itflowd_test_custom.XXXXXX");
    if (!fx || !mkdtemp(fx->dir))
        return -1;
    snprintf(fx->path, sizeof(fx->path), "%s/t.db", fx->dir);
    for (size_t i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++)
        write_script(fx, scripts[i].name, scripts[i].text);
    if (db_open_create(fx->path, &fx->db) != DB_OK ||
        db_exec(fx->db, "CREATE TABLE t (b TEXT, a TEXT)") != DB_OK ||
        db_exec(fx->db, "INSERT INTO t VALUES ('2', NULL), ('1', 'one')") != DB_OK)
        return -1;
    *state = fx;
    return 0;
}

static int teardown_set(void **state)
{
    struct fixture *fx = *state;
    custom_unload();
    db_close(fx->db);
    for (size_t i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
        char p[160];
        snprintf(p, sizeof(p), "%s/%s.lua", fx->dir, scripts[i].name);
        unlink(p);
    }
    char p[160];
    snprintf(p, sizeof(p), "%s/added.lua", fx->dir);
    unlink(p);
    test_remove_db_files(fx->path);
    rmdir(fx->dir);
    free(fx);
    return 0;
}

/* Runs script name as the method, on fx's database; the answer's status, body in out. */
static int call(struct fixture *fx, const char *name, enum method m, const char *query,
                struct buf *out)
{
    struct req r;
    memset(&r, 0, sizeof(r));
    r.method = m;
    r.method_name = m == METHOD_POST ? "POST" : "GET";
    buf_init(&r.out, 0);
    buf_init(&r.link, 0);
    arena_init(&r.arena, 1 << 20);
    if (query)
        req_parse_query(&r, query, strlen(query));
    r.db = fx->db;
    if (m == METHOD_GET)
        assert_int_equal(db_begin(fx->db, 0), DB_OK);
    custom_handle(&r, name, strlen(name));
    if (m == METHOD_GET)
        db_rollback(fx->db);
    buf_reset(out);
    buf_append(out, r.out.p ? r.out.p : "", r.out.len);
    buf_putc(out, 0);
    int status = r.status;
    req_free(&r);
    return status;
}

static void expect(struct fixture *fx, const char *name, int status, const char *body)
{
    struct buf out;
    buf_init(&out, 0);
    int got = call(fx, name, METHOD_GET, NULL, &out);
    if (got != status || strcmp(out.p, body) != 0)
        fail_msg("%s: %d %s, want %d %s", name, got, out.p, status, body);
    buf_free(&out);
}

static void test_answers(void **state)
{
    struct fixture *fx = *state;
    struct custom_limits lim = {1000000, 4 << 20};
    assert_int_equal(custom_load(fx->dir, &lim, 2),
                     (int)(sizeof(scripts) / sizeof(scripts[0])) - 1);
    assert_true(custom_exists("plain", 5));
    assert_false(custom_exists("broken", 6));
    assert_false(custom_exists("plai", 4));
    expect(fx, "plain", 200,
           "{\"success\":\"True\",\"count\":1,\"data\":[{\"b\":true,\"f\":1.5,\"list\":[1,"
           "\"two\"],\"n\":1,\"obj\":{\"k\":[]},\"s\":\"x\"}]}");
    /* the statement's column order, NULL as null, a repeated name once */
    expect(fx, "rows", 200,
           "{\"success\":\"True\",\"count\":2,\"data\":[{\"b\":\"1\",\"a\":\"one\",\"c\":\"1\"},"
           "{\"b\":\"2\",\"a\":null,\"c\":\"2\"}]}");
    expect(fx, "rows", 200, /* again: the state's cached row metatable */
           "{\"success\":\"True\",\"count\":2,\"data\":[{\"b\":\"1\",\"a\":\"one\",\"c\":\"1\"},"
           "{\"b\":\"2\",\"a\":null,\"c\":\"2\"}]}");
    expect(fx, "rows_extra", 200,
           "{\"success\":\"True\",\"count\":1,\"data\":[{\"b\":\"2\",\"a\":null,\"added\":"
           "\"yes\"}]}");
    expect(fx, "created", 200,
           "{\"success\":\"True\",\"count\":\"1\",\"data\":[{\"insert_id\":5}]}");
    expect(fx, "updated", 200, "{\"success\":\"True\",\"count\":3}");
    struct buf out;
    buf_init(&out, 0);
    assert_int_equal(call(fx, "unchanged", METHOD_GET, NULL, &out), 200);
    assert_non_null(strstr(out.p, "update query failed"));
    assert_int_equal(call(fx, "nothing", METHOD_GET, NULL, &out), 200);
    assert_non_null(strstr(out.p, "No resource"));
    assert_int_equal(call(fx, "empty", METHOD_GET, NULL, &out), 200);
    assert_non_null(strstr(out.p, "No resource"));
    expect(fx, "err", 418, "{\"success\":\"False\",\"message\":\"teapot\"}");
    static const char *const failing[] = {"err_status", "mixed", "not_utf8", "fn"};
    for (size_t i = 0; i < sizeof(failing) / sizeof(failing[0]); i++)
        expect(fx, failing[i], 500,
               "{\"success\":\"False\",\"message\":\"Internal server error.\"}");
    expect(fx, "broken", 404, "{\"success\":\"False\",\"message\":\"Unknown endpoint.\"}");
    buf_free(&out);
}

static int64_t rows_in_t(struct fixture *fx)
{
    struct db_stmt *st;
    int64_t n = -1;
    assert_int_equal(db_stmt(fx->db, "SELECT COUNT(*) FROM t", &st), DB_OK);
    assert_int_equal(db_query_int(st, &n), DB_ROW);
    db_reset(st);
    return n;
}

static void test_write_transaction(void **state)
{
    struct fixture *fx = *state;
    struct buf out;
    buf_init(&out, 0);
    int64_t before = rows_in_t(fx);
    /* a GET may not write */
    assert_int_equal(call(fx, "write", METHOD_GET, NULL, &out), 405);
    assert_int_equal(rows_in_t(fx), before);
    /* a POST that fails after its insert keeps nothing */
    assert_int_equal(call(fx, "write", METHOD_POST, "fail=1", &out), 500);
    assert_int_equal(rows_in_t(fx), before);
    assert_false(db_in_transaction(fx->db));
    /* one that succeeds keeps its row */
    assert_int_equal(call(fx, "write", METHOD_POST, NULL, &out), 200);
    assert_non_null(strstr(out.p, "\"insert_id\":"));
    assert_int_equal(rows_in_t(fx), before + 1);
    buf_free(&out);
}

static void test_reload_and_openapi(void **state)
{
    struct fixture *fx = *state;
    struct custom_limits lim = {1000000, 4 << 20};
    struct buf b;
    buf_init(&b, 0);
    custom_openapi_paths(&b);
    buf_putc(&b, 0);
    assert_non_null(strstr(b.p, ",\"/api/v1/custom/plain.php\":{\"get\":{"));
    assert_non_null(strstr(b.p, "\"operationId\":\"custom_plain_post\""));
    assert_null(strstr(b.p, "broken"));
    write_script(fx, "added", "return function() return {{v = 'new'}} end");
    assert_int_equal(custom_load(fx->dir, &lim, 1), (int)(sizeof(scripts) / sizeof(scripts[0])));
    assert_true(custom_exists("added", 5));
    expect(fx, "added", 200, "{\"success\":\"True\",\"count\":1,\"data\":[{\"v\":\"new\"}]}");
    /* an unreadable directory keeps the served set */
    assert_int_equal(custom_load("/nonexistent/dir", &lim, 1), -1);
    assert_true(custom_exists("added", 5));
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unsafe_libraries_are_absent),
        cmocka_unit_test(test_load_takes_text_only),
        cmocka_unit_test(test_instruction_limit),
        cmocka_unit_test(test_memory_limit),
        cmocka_unit_test(test_key_scope),
        cmocka_unit_test(test_script_names),
    };
    const struct CMUnitTest set_tests[] = {
        cmocka_unit_test(test_answers),
        cmocka_unit_test(test_write_transaction),
        cmocka_unit_test(test_reload_and_openapi),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    return failed + cmocka_run_group_tests_name("custom_set", set_tests, setup_set, teardown_set);
}

/* test_custom: the sandbox of custom scripts (src/custom/sandbox.c) — its libraries, its limits —
 * and key.scope()'s condition (src/custom/scope.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <lauxlib.h>

#include "custom/custom.h"
#include "custom/sandbox.h"
#include "custom/scope.h"

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
    return cmocka_run_group_tests(tests, NULL, NULL);
}

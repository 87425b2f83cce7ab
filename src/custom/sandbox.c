/* sandbox: the Lua state of custom scripts and the limits of one call. */
#include "custom/sandbox.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdlib.h>

#define HOOK_EVERY 1000 /* instructions between two count hooks */

struct sandbox {
    lua_State *L;
    size_t used;  /* bytes the state holds */
    size_t limit; /* armed: used may not grow beyond this (0: no limit) */
    uint64_t count, max_count;
    int armed;
    enum sandbox_trip trip;
};

static void *sb_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    struct sandbox *sb = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        sb->used -= old;
        return NULL;
    }
    if (sb->armed && sb->limit && nsize > old && sb->used + (nsize - old) > sb->limit) {
        sb->trip = SANDBOX_MEMORY;
        return NULL;
    }
    void *p = realloc(ptr, nsize);
    if (p)
        sb->used = sb->used - old + nsize;
    return p;
}

static void count_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    struct sandbox *sb = sandbox_of(L);
    if (!sb->armed || !sb->max_count)
        return;
    sb->count += sb->trip == SANDBOX_INSTRUCTIONS ? 1 : HOOK_EVERY;
    if (sb->count > sb->max_count) {
        if (sb->trip != SANDBOX_INSTRUCTIONS) {
            sb->trip = SANDBOX_INSTRUCTIONS;
            lua_sethook(L, count_hook, LUA_MASKCOUNT, 1); /* no instruction runs any more */
        }
        luaL_error(L, "instruction limit reached");
    }
}

/* load(chunk [, chunkname [, mode [, env]]]) for text chunks only: precompiled code could break
 * the sandbox, and a function as the chunk source is not needed. */
static int safe_load(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    const char *name = luaL_optstring(L, 2, "=(load)");
    int env = !lua_isnone(L, 4) ? 4 : 0;
    if (luaL_loadbufferx(L, s, n, name, "t") != LUA_OK) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2; /* nil, message */
    }
    if (env) {
        lua_pushvalue(L, env);
        if (!lua_setupvalue(L, -2, 1))
            lua_pop(L, 1);
    }
    return 1;
}

static void open_safe_libs(lua_State *L)
{
    static const luaL_Reg libs[] = {{LUA_GNAME, luaopen_base},
                                    {LUA_COLIBNAME, luaopen_coroutine},
                                    {LUA_TABLIBNAME, luaopen_table},
                                    {LUA_STRLIBNAME, luaopen_string},
                                    {LUA_MATHLIBNAME, luaopen_math},
                                    {LUA_UTF8LIBNAME, luaopen_utf8},
                                    {NULL, NULL}};
    for (const luaL_Reg *lib = libs; lib->func; lib++) {
        luaL_requiref(L, lib->name, lib->func, 1);
        lua_pop(L, 1);
    }
    static const char *const removed[] = {"dofile", "loadfile", "collectgarbage", "print", NULL};
    for (const char *const *g = removed; *g; g++) {
        lua_pushnil(L);
        lua_setglobal(L, *g);
    }
    lua_pushcfunction(L, safe_load);
    lua_setglobal(L, "load");
    lua_getglobal(L, LUA_STRLIBNAME);
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    lua_pop(L, 1);
}

static int open_protected(lua_State *L)
{
    open_safe_libs(L);
    return 0;
}

struct sandbox *sandbox_new(void)
{
    struct sandbox *sb = calloc(1, sizeof(*sb));
    if (!sb)
        return NULL;
    sb->L = lua_newstate(sb_alloc, sb);
    if (!sb->L) {
        free(sb);
        return NULL;
    }
    lua_pushcfunction(sb->L, open_protected);
    if (lua_pcall(sb->L, 0, 0, 0) != LUA_OK) {
        sandbox_free(sb);
        return NULL;
    }
    lua_sethook(sb->L, count_hook, LUA_MASKCOUNT, HOOK_EVERY);
    return sb;
}

void sandbox_free(struct sandbox *sb)
{
    if (!sb)
        return;
    lua_close(sb->L);
    free(sb);
}

lua_State *sandbox_lua(struct sandbox *sb)
{
    return sb->L;
}

struct sandbox *sandbox_of(lua_State *L)
{
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return ud;
}

void sandbox_arm(struct sandbox *sb, uint64_t instructions, size_t memory)
{
    sb->count = 0;
    sb->max_count = instructions;
    sb->limit = memory ? sb->used + memory : 0;
    sb->trip = SANDBOX_OK;
    sb->armed = 1;
    lua_sethook(sb->L, count_hook, LUA_MASKCOUNT, HOOK_EVERY);
}

void sandbox_disarm(struct sandbox *sb)
{
    sb->armed = 0;
}

enum sandbox_trip sandbox_tripped(const struct sandbox *sb)
{
    return sb->trip;
}

size_t sandbox_memory(const struct sandbox *sb)
{
    return sb->used;
}

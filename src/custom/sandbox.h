/* sandbox: one Lua 5.4 state for custom scripts — only the safe standard libraries, its memory
 * counted by its own allocator, and limits (instructions, bytes) armed around each call. */
#ifndef ITFLOWD_CUSTOM_SANDBOX_H
#define ITFLOWD_CUSTOM_SANDBOX_H

#include <lua.h>
#include <stddef.h>
#include <stdint.h>

/* Which limit stopped the last armed call. */
enum sandbox_trip { SANDBOX_OK = 0, SANDBOX_INSTRUCTIONS, SANDBOX_MEMORY };

struct sandbox;

/* A new state with base (without dofile, loadfile, collectgarbage, print; load only takes text),
 * coroutine, table, string (without dump), math and utf8. No io, os, debug or package. NULL when
 * out of memory. */
struct sandbox *sandbox_new(void);
void sandbox_free(struct sandbox *sb); /* accepts NULL */
lua_State *sandbox_lua(struct sandbox *sb);
struct sandbox *sandbox_of(lua_State *L);

/* From here until sandbox_disarm: at most `instructions` VM instructions (0: no limit), and at
 * most `memory` bytes more than the state holds now (0: no limit). A call beyond either fails
 * with a Lua error ("instruction limit reached" / not enough memory); once the instruction limit
 * is reached every further instruction fails too, so a script cannot catch it and go on. */
void sandbox_arm(struct sandbox *sb, uint64_t instructions, size_t memory);
void sandbox_disarm(struct sandbox *sb);
enum sandbox_trip sandbox_tripped(const struct sandbox *sb);
/* Bytes the state holds. */
size_t sandbox_memory(const struct sandbox *sb);

#endif

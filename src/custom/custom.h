/* custom: the endpoints a user adds under /api/v1/custom/ without rebuilding — Lua scripts of a
 * directory (serve --custom-dir), each run in a sandbox with the request, the store and the key —
 * and the pass-through of the others to an existing ITFlow install (upstream.c). */
#ifndef ITFLOWD_CUSTOM_CUSTOM_H
#define ITFLOWD_CUSTOM_CUSTOM_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

struct req;
struct module;

/* What one call of a script may use. */
struct custom_limits {
    uint64_t instructions; /* Lua VM instructions (0: no limit) */
    size_t memory;         /* bytes the state may grow by (0: no limit) */
};

/* Loads every DIR/<name>.lua (name: letters, digits, '_' and '-'), compiling each once; a script
 * that does not compile or does not return a function is reported on stderr and skipped. The new
 * set replaces the served one (requests running keep the old one until they end); `states` Lua
 * states are made ready at once so that requests do not load scripts. Returns the number of
 * scripts served, or -1 when DIR cannot be read (the served set is then kept). */
int custom_load(const char *dir, const struct custom_limits *lim, unsigned states);
/* The modules a script's db.event may name (the registry's; set before custom_load). */
void custom_set_modules(const struct module *const *mods, size_t n);
/* Stops serving scripts and frees them (at shutdown, with no request running). */
void custom_unload(void);
/* 1 when a script serves /api/v1/custom/<name>. */
int custom_exists(const char *name, size_t n);
/* Runs the script <name> for the authenticated request r (r->db set; a GET inside its read
 * transaction). A POST runs in one write transaction (the group commit on a single-writer store),
 * undone when the script fails or answers an error. Fills r->status and r->out. Returns the
 * endpoint's name for metrics (an immortal string), or NULL when no script has that name (then
 * the answer is the 404). */
const char *custom_handle(struct req *r, const char *name, size_t n);
/* Appends the OpenAPI path items of the served scripts, each preceded by ','. */
void custom_openapi_paths(struct buf *out);

/* The name part of a path under /api/v1/custom/ (without ".php"): 1 when it may name a script. */
int custom_name_ok(const char *name, size_t n);

#endif

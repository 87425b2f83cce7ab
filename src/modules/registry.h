/* registry: the list of API modules (the only place that names them all), its start-up check, and
 * what is derived from the whole list (the read indexes). */
#ifndef ITFLOWD_MODULES_REGISTRY_H
#define ITFLOWD_MODULES_REGISTRY_H

#include <stddef.h>

#include "core/buf.h"
#include "db/db.h"
#include "engine/module.h"

extern const struct module *const module_registry[];
extern const size_t module_count;

/* Resolves tables and checks every descriptor against the schema; 0, or -1 with a message. */
int module_registry_init(char *err, size_t errlen);
/* The same check of one descriptor (its res is filled); 0, or -1 with a message. */
int module_check(const struct module *m, char *err, size_t errlen);
const struct module *module_find(const char *name, size_t n);
/* CREATE INDEX IF NOT EXISTS statements for every registered module (engine_index_ddl_for). */
void engine_index_ddl(enum db_dialect d, struct buf *out);

#endif

/* keyperm: the least-privilege options of 'key create', 'key update' and what 'key list' shows
 * of them (keyperm.c). */
#ifndef ITFLOWD_CLI_KEYPERM_H
#define ITFLOWD_CLI_KEYPERM_H

#include <stdint.h>

#include "cli/opts.h"
#include "db/db.h"

struct keyperm_opts {
    int read_only, writable, no_delete, allow_delete, any_ip;
    struct text_list allow_ip;
};

/* The options as parsed (main.c, from struct cli_opts), before any other call here. */
void keyperm_set(const struct keyperm_opts *v);

/* key create: checks the options before anything is written (0, or the exit code). */
int keyperm_check_opts(void);
/* key create: stores the options for the new key and prints them (0, or the exit code). */
int keyperm_after_create(struct db *db, int64_t id);
/* key update ID. */
struct cli_opts;
int cmd_key_update(const struct cli_opts *o);
/* key list: load every key's row first (0 or -1), then one line under each key, then free. */
int keyperm_list_load(struct db *db);
void keyperm_list_line(int64_t id);
void keyperm_list_free(void);

#endif

/* keyperms: the permissions of a v26.07 key (read-only, no delete, allowed networks) and its
 * last use, in itflowd's own table itflowd_key_perms keyed by the key's id (the engine checks
 * them: engine/keyperm.c). All SQL with bound parameters. */
#ifndef ITFLOWD_KEYS_KEYPERMS_H
#define ITFLOWD_KEYS_KEYPERMS_H

#include <stdint.h>

#include "keys/keys.h"

struct key_perm {
    int64_t id;
    int read_only, no_delete;
    char allow_ips[2048]; /* space-separated CIDRs; "" = any address */
    int64_t last_used_at; /* unix time; 0 = never */
    char last_used_ip[64];
};

/* The key's permissions (all zero for a key without a row): KEYS_OK or KEYS_READ_ERROR. */
enum keys_rc keys_perm_get(struct db *db, int64_t id, struct key_perm *p);
/* Stores the permissions (its last use kept) in one write transaction, after checking that the
 * key exists: KEYS_OK, KEYS_NOT_FOUND, KEYS_WRITE_ERROR. */
enum keys_rc keys_perm_set(struct db *db, const struct key_perm *p);
/* Every row, in key id order, into a malloc'd array (*ret, *n; free() it). */
enum keys_rc keys_perm_all(struct db *db, struct key_perm **ret, size_t *n);

#endif

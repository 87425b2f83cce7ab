/* keys: the api_keys store — create (with the secret-in-use check), list, revoke — and the site
 * master key the admin password unlocks. All SQL with bound parameters. A key of an ITFlow v26.07
 * database is scoped by api_key_client_id; one of a v26.08 database runs as api_key_user_id. */
#ifndef ITFLOWD_KEYS_KEYS_H
#define ITFLOWD_KEYS_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "db/db.h"

enum keys_rc {
    KEYS_OK,
    KEYS_NOT_FOUND,   /* no such row (client, key id, a user the password unlocks) */
    KEYS_SECRET_USED, /* create: a key row (active, expired or revoked) already has this secret */
    KEYS_READ_ERROR,  /* a query failed (db_errmsg says why) */
    KEYS_WRITE_ERROR, /* a write failed (db_errmsg says why) */
    KEYS_USER_NOT_AGENT, /* the user is a client-portal user (user_type is not 1) */
    KEYS_USER_DISABLED,  /* user_status is not 1 */
    KEYS_USER_ARCHIVED,  /* user_archived_at is set */
};

/* The site master key, unwrapped from the first active admin's ciphertext that the password
 * opens: KEYS_OK, KEYS_NOT_FOUND (no user's) or KEYS_READ_ERROR. */
enum keys_rc keys_site_master(struct db *db, const char *password,
                              char master[CRYPTO_MASTER_LEN + 1]);

/* KEYS_OK when the client exists, KEYS_NOT_FOUND when not, KEYS_READ_ERROR. */
enum keys_rc keys_client_exists(struct db *db, int64_t client);

/* Whether a v26.08 key may run as user (an active agent that is not archived, as ITFlow's key form
 * offers): KEYS_OK, KEYS_NOT_FOUND, KEYS_USER_NOT_AGENT, KEYS_USER_DISABLED, KEYS_USER_ARCHIVED or
 * KEYS_READ_ERROR. name (may be NULL) receives the user's name. */
enum keys_rc keys_user_check(struct db *db, int64_t user, char *name, size_t namelen);

struct key_new {
    const char *name;
    const char *secret;  /* the plaintext key (only its hash is stored) */
    const char *wrapped; /* the master key wrapped with the decrypt password */
    size_t wrapped_len;
    const char *expires; /* YYYY-MM-DD */
    enum itflow_version dialect;
    int64_t owner; /* v26.07: the client (0: all clients); v26.08: the user the key runs as */
};

/* Inserts the key in one write transaction that first checks that no key row has the secret;
 * *id is the new key's id. On an error the transaction is rolled back. */
enum keys_rc keys_create(struct db *db, const struct key_new *k, int64_t *id);

struct key_row {
    int64_t id;
    int64_t owner;          /* v26.07: the client (0: all); v26.08: the user */
    const char *owner_name; /* v26.08: the user's name, NULL when there is no such user */
    const char *name, *expires;
    char last4[5]; /* the last 4 characters of the stored secret ("????" when shorter) */
};

/* Calls each() for every key of a database of release dialect in id order: KEYS_OK, or
 * KEYS_READ_ERROR when the read failed (the rows before the failure have been passed to each()). */
enum keys_rc keys_list(struct db *db, enum itflow_version dialect,
                       void (*each)(const struct key_row *, void *), void *arg);

/* Sets the key's expiry to today (YYYY-MM-DD): KEYS_OK, KEYS_NOT_FOUND, KEYS_WRITE_ERROR. */
enum keys_rc keys_revoke(struct db *db, int64_t id, const char *today);

#endif

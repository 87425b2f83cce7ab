/* mariadb_target: the MariaDB target URL and where its password comes from.
 *
 *   mariadb://USER[:PASSWORD]@HOST[:PORT]/DATABASE
 *   mariadb://USER[:PASSWORD]@[IPV6]:PORT/DATABASE
 *   mariadb://USER[:PASSWORD]@/DATABASE?socket=/path
 *   mariadb://USER[:PASSWORD]@HOST1[:PORT1],HOST2[:PORT2],.../DATABASE   (a cluster, in order of
 *                                                                          preference)
 *
 * Parameters after '?' ('&'-separated): socket=PATH (one server through its UNIX socket) and
 * sync_wait=N (0..15: the session's wsrep_sync_wait on a Galera node; see mariadb.c).
 *
 * USER, PASSWORD, HOST, DATABASE and the socket path are percent-decoded (%XX; %00 is refused).
 * The password is everything between the first ':' and the last '@' before any '?'. Without a
 * password in the URL it comes from $ITFLOWD_DB_PASSWORD, else from the first line of the file
 * $ITFLOWD_DB_PASSWORD_FILE names. db_target_display() (db.h) prints a target with that same span
 * of the URL as "***". No connection is made here. */
#ifndef ITFLOWD_DB_BACKENDS_MARIADB_TARGET_H
#define ITFLOWD_DB_BACKENDS_MARIADB_TARGET_H

#include <stddef.h>

#define MARIADB_TARGET_NAME_MAX 256      /* bytes of USER, HOST, DATABASE (decoded) */
#define MARIADB_TARGET_PASSWORD_MAX 1023 /* bytes of a password (URL, variable or file line) */
#define MARIADB_TARGET_SOCKET_MAX 107    /* bytes of a socket path (sun_path holds 108 with NUL) */
#define MARIADB_TARGET_HOSTS_MAX 16      /* servers in one target's host list */

/* One server of a host list. */
struct mariadb_host {
    char *host;    /* never empty */
    unsigned port; /* 1..65535, 0: the default (3306) */
};

/* A parsed target. Every string is a NUL-terminated heap copy owned by the struct; free it with
 * mariadb_target_free(), which also wipes the password. */
struct mariadb_target {
    char *user;     /* never empty */
    char *password; /* NULL: none in the URL (see mariadb_target_password_from_env) */
    char *host;     /* NULL: none (then socket is set); else the same string as hosts[0].host */
    char *database; /* never empty */
    char *socket;   /* NULL: TCP to host */
    unsigned port;  /* 1..65535, 0: the default (3306); = hosts[0].port */
    /* The host list, in the target's order (the order of preference); nhosts = 0 when the
     * target names no host (a socket). A socket names one server: never with a list of several. */
    struct mariadb_host *hosts;
    size_t nhosts;
    int sync_wait; /* ?sync_wait=N, 0..15; -1 when not given */
};

/* Parses target into *t (zeroed first). 0 on success; -1 with a message in err (never containing
 * the password) on bad input or out of memory, *t then freed. The environment is not read. */
int mariadb_target_parse(const char *target, struct mariadb_target *t, char *err, size_t errlen);

/* Sets t->password, when it is NULL, from $ITFLOWD_DB_PASSWORD (when set and not empty), else from
 * the first line of the file $ITFLOWD_DB_PASSWORD_FILE (when set and not empty; without its line
 * end). 0 on success, also when neither is set (the password stays NULL); -1 with a message in err
 * when the file cannot be read, its first line is too long, or out of memory. */
int mariadb_target_password_from_env(struct mariadb_target *t, char *err, size_t errlen);

/* The order in which a host list's n hosts are tried: those not in down (bit i = host i failed
 * recently) in the list's order, then the ones in down, in the list's order (so that with every
 * host down each is still tried). Writes n indexes to order. */
void mariadb_host_order(size_t n, unsigned down, unsigned char order[]);

/* Frees every part of *t (the password wiped first) and zeroes it; safe on a zeroed struct. */
void mariadb_target_free(struct mariadb_target *t);

#endif

/* req: one API request as every layer sees it (parsed input, the authenticated key, the answer).
 * Owned by the http layer; lives until the response has been sent. */
#ifndef ITFLOWD_REQ_REQ_H
#define ITFLOWD_REQ_REQ_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"

struct db;
struct db_pool;
struct module;
struct endpoint;

enum method { METHOD_GET, METHOD_POST, METHOD_OTHER };

/* One query-string parameter after PHP's parsing rules (names: '.' and ' ' -> '_';
 * "name[]" / "name[k]" make is_array). Strings are NUL-terminated, owned by the req. */
struct param {
    char *name;
    char *val;
    size_t len;
    int is_array;
};

#define REQ_MAX_PARAMS 64
#define REQ_MAX_JSON_DEPTH 512 /* PHP json_decode's default depth */
/* JSON values (array elements, object members, the top) a body may hold: a real body has a few
 * dozen; a 16 MiB body of "[{},{},...]" holds 5.6 million, each costing the parser ~250 bytes. */
#define REQ_MAX_JSON_VALUES 100000

/* What the user a v26.08 key runs as may do (delta 2.1-2.3), read by auth with the key. */
#define ACCESS_MAX_MODULES 8
#define ACCESS_MODULE_NAME 40

enum access_state {
    ACCESS_OK = 0,
    ACCESS_UNTIED,  /* api_key_user_id is 0 */
    ACCESS_INVALID, /* no such user, not an active agent, or archived */
};

struct key_access {
    enum access_state state;
    int is_admin;      /* the role has role_is_admin = 1: level 3 everywhere, no client limits */
    int64_t nallow;    /* rows of the user's allow list */
    int64_t ndeny;     /* rows of the user's deny list */
    int64_t allow_one; /* the allow list's client when it has exactly one (and no deny list) */
    int nperm;         /* the role's permission rows (module name, level) */
    char perm_name[ACCESS_MAX_MODULES][ACCESS_MODULE_NAME];
    int perm_level[ACCESS_MAX_MODULES];
};

/* The authenticated key (auth layer). */
struct api_key {
    int64_t id;
    int64_t client_id; /* v26.07: 0 = all clients */
    int64_t user_id;   /* v26.08: the user the key runs as (logs.log_user_id); else 0 */
    int rbac;          /* 1: a v26.08 key, its rights are access's */
    struct key_access access;
    char name_html[1024]; /* htmlentities(api_key_name), as the log texts show it */
    char decrypt_hash[201];
    /* itflowd_key_perms, read by the key lookup in the same statement (all zero without a row);
     * engine/keyperm.c decides from them */
    int perm_read_only, perm_no_delete;
    int perm_allow_long;   /* the allowed networks did not fit perm_allow_ips: keyperm reads them */
    size_t perm_allow_len; /* 0: any address */
    char perm_allow_ips[2048]; /* space-separated CIDRs (not NUL-terminated: perm_allow_len) */
};

struct req {
    /* input (http layer) */
    enum method method;
    const char *method_name;
    char *path; /* decoded path, no query string */
    struct param params[REQ_MAX_PARAMS];
    size_t nparams;
    int params_overflow;
    json_t *body;         /* the body as a JSON object, or NULL */
    int body_state;       /* BODY_NONE, BODY_OBJECT, BODY_INVALID, BODY_BUSY */
    size_t body_mem;      /* bytes of the parsed body charged to the global budget (membudget) */
    char body_error[256]; /* why the body is not a JSON object */
    char ip[64];
    const char *user_agent;
    size_t user_agent_len;
    const char *hdr_api_key; /* A1 headers, or NULL */
    const char *hdr_decrypt;
    const char *hdr_idem_key; /* Idempotency-Key (engine/idem.c), or NULL */
    const char *bad_header;   /* a header whose value holds a NUL byte, or NULL */

    /* routing and auth */
    const struct module *mod;
    const struct endpoint *ep;
    struct api_key key;
    int scope_all; /* reads: the '%' wildcard scope */
    int64_t scope; /* S, when not scope_all */
    int64_t limit, offset;
    const char *bad_paging; /* "limit" or "offset" when negative, else NULL */

    /* output */
    int status;
    struct buf out;       /* the body (or its first part when streaming) */
    char allow[32];       /* Allow header, or "" */
    char total[24];       /* X-Total-Count, or "" */
    char retry_after[16]; /* Retry-After, or "" */
    struct buf link;      /* Link header, or empty */
    int idem_replayed;    /* the answer is a write's stored answer (Idempotent-Replayed) */
    /* Streaming: when stream_next is set, the http layer keeps calling it to refill out until it
     * returns 0 (done) or -1 (abort), then calls stream_free. */
    int (*stream_next)(struct req *r);
    void (*stream_free)(struct req *r);
    void *stream_state;

    struct arena arena; /* per-request allocations, freed with the req */
    int oom;            /* an allocation failed: the answer is a 500, nothing is written */
    char error[200];    /* why the answer is a 5xx (the store's message), for the log; or "" */
    char why[160];      /* why the answer is the generic "not done" text, for the log; or "" */
    struct db_pool *pool;
    struct db *db; /* checked out for this request, or NULL */
};

/* BODY_BUSY: the parse needed memory beyond the global budget of bodies (answer 503);
 * BODY_NOMEM: the system refused memory (answer 500). */
enum { BODY_NONE = 0, BODY_OBJECT, BODY_INVALID, BODY_BUSY, BODY_NOMEM };

/* Parameter lookup: the last parameter with this name, or NULL. */
const struct param *req_param(const struct req *r, const char *name);
/* Parses a raw query string (not NUL-terminated, may be NULL) into r->params. */
void req_parse_query(struct req *r, const char *q, size_t n);
/* Reads body bytes: sets body/body_state/body_error. Bounded: more than REQ_MAX_JSON_VALUES
 * values, or more parser memory than req_parse_budget(), make the body BODY_INVALID; the
 * parser's memory is charged to the global budget (membudget) in r->body_mem until req_free. */
void req_parse_body(struct req *r, const char *data, size_t n);
/* The parser memory a body of n bytes holding this many JSON values may use. */
size_t req_parse_budget(size_t n, size_t values);
/* The JSON values in data (exact for valid JSON; a cheap scan, no allocation). */
size_t req_json_values(const char *data, size_t n);
void req_free(struct req *r);

#endif

/* master: the site master key unwrapped with a key's decrypt password (K16, F13), cached. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "engine/engine_int.h"

/* Unwrapped master keys, so that a client reading credentials pays the 100 000-round key
 * derivation once, not on every request. In memory only, bounded, entries expire; the lookup
 * key is a digest of (decrypt hash, password), never the password itself. */
#define MASTER_CACHE_SLOTS 64
#define MASTER_CACHE_TTL 300

struct master_entry {
    unsigned char id[32];
    char master[CRYPTO_MASTER_LEN + 1];
    time_t expires;
};

static struct master_entry master_cache[MASTER_CACHE_SLOTS];
static pthread_mutex_t master_mu = PTHREAD_MUTEX_INITIALIZER;

static void master_cache_id(const char *hash, const char *pw, size_t pwlen, unsigned char id[32])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned int n = 0;
    if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(md, hash, strlen(hash) + 1) != 1 || EVP_DigestUpdate(md, pw, pwlen) != 1 ||
        EVP_DigestFinal_ex(md, id, &n) != 1)
        memset(id, 0, 32);
    EVP_MD_CTX_free(md);
}

static int master_cache_get(const unsigned char id[32], char *master)
{
    time_t now = time(NULL);
    int found = 0;
    pthread_mutex_lock(&master_mu);
    struct master_entry *e = &master_cache[id[0] % MASTER_CACHE_SLOTS];
    if (e->expires > now && CRYPTO_memcmp(e->id, id, 32) == 0) {
        memcpy(master, e->master, sizeof(e->master));
        found = 1;
    }
    pthread_mutex_unlock(&master_mu);
    return found;
}

static void master_cache_put(const unsigned char id[32], const char *master)
{
    pthread_mutex_lock(&master_mu);
    struct master_entry *e = &master_cache[id[0] % MASTER_CACHE_SLOTS];
    memcpy(e->id, id, 32);
    memcpy(e->master, master, sizeof(e->master));
    e->expires = time(NULL) + MASTER_CACHE_TTL;
    pthread_mutex_unlock(&master_mu);
}

enum eng_rc engine_unwrap_master(struct op_ctx *ctx, const char *pw, size_t pwlen)
{
    struct req *r = ctx->r;
    if (!pw || pwlen == 0) {
        reply_why(r, "no api_key_decrypt_password (parameter or X-API-Key-Decrypt-Password)");
        reply_not_done(r, ctx->ep->op == OP_READ ? OP_READ : ctx->ep->op);
        return ENG_REPLIED;
    }
    /* compared by length: a password with a NUL byte anywhere is wrong, whatever precedes it */
    if (memchr(pw, 0, pwlen)) {
        reply_message(r, 403, "The api_key_decrypt_password is incorrect for this API key.");
        return ENG_REPLIED;
    }
    unsigned char id[32];
    master_cache_id(r->key.decrypt_hash, pw, pwlen, id);
    if (master_cache_get(id, ctx->master)) {
        ctx->have_master = 1;
        return ENG_OK;
    }
    if (crypto_unwrap_master(r->key.decrypt_hash, strlen(r->key.decrypt_hash), pw, pwlen,
                             ctx->master) != 0) {
        reply_message(r, 403, "The api_key_decrypt_password is incorrect for this API key.");
        return ENG_REPLIED;
    }
    master_cache_put(id, ctx->master);
    ctx->have_master = 1;
    return ENG_OK;
}

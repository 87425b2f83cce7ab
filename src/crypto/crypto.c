/* crypto: ITFlow-compatible AES-128-CBC fields, wrapped master keys, random strings, key hashes. */
#include "crypto/crypto.h"

#include <limits.h>
#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define AES_BLOCK 16
#define PBKDF2_ITERATIONS 100000
#define PBKDF2_BYTES 8
#define SHA256_BYTES 32
#define WRAPPED_MAX 256 /* the column is varchar(200); anything longer is not ours */
#define AES_MAX_INPUT ((size_t)INT_MAX - 2 * AES_BLOCK)

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static EVP_CIPHER *aes_cbc;
static EVP_MD *sha256_md;
static pthread_key_t ctx_key;
static int init_ok;

static void ctx_destroy(void *ctx)
{
    EVP_CIPHER_CTX_free(ctx);
}

/* Fetches the algorithms once (no implicit fetch per call) and creates the per-thread ctx key. */
static void init_algorithms(void)
{
    aes_cbc = EVP_CIPHER_fetch(NULL, "AES-128-CBC", NULL);
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    init_ok = aes_cbc && sha256_md && pthread_key_create(&ctx_key, ctx_destroy) == 0;
}

static int ensure_init(void)
{
    return pthread_once(&init_once, init_algorithms) == 0 && init_ok ? 0 : -1;
}

/* One cipher context per thread, freed at thread exit by the key destructor. */
static EVP_CIPHER_CTX *thread_ctx(void)
{
    if (ensure_init())
        return NULL;
    EVP_CIPHER_CTX *ctx = pthread_getspecific(ctx_key);
    if (ctx)
        return ctx;
    ctx = EVP_CIPHER_CTX_new();
    if (ctx && pthread_setspecific(ctx_key, ctx) != 0) {
        EVP_CIPHER_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* PHP openssl_* key/iv handling: NUL-padded or cut to 16 bytes. */
static void pad16(unsigned char dst[AES_BLOCK], const char *src, size_t n)
{
    memset(dst, 0, AES_BLOCK);
    if (src && n)
        memcpy(dst, src, n < AES_BLOCK ? n : AES_BLOCK);
}

/* One complete AES-128-CBC/PKCS#7 operation. out needs inl + 16 bytes; out == in is allowed.
 * Returns the output length or -1 (bad padding, bad length, no context). */
static long aes_run(int enc, const char *key, size_t keylen, const char *iv, size_t ivlen,
                    const unsigned char *in, size_t inl, unsigned char *out)
{
    static const unsigned char empty[1];
    EVP_CIPHER_CTX *ctx = thread_ctx();
    unsigned char k[AES_BLOCK], v[AES_BLOCK];
    int n1 = 0, n2 = 0;
    if (!ctx || inl > AES_MAX_INPUT)
        return -1;
    pad16(k, key, keylen);
    pad16(v, iv, ivlen);
    /* Re-keying with a NULL cipher keeps the provider context: no allocation per call. */
    const EVP_CIPHER *c = EVP_CIPHER_CTX_get0_cipher(ctx) == aes_cbc ? NULL : aes_cbc;
    int ok = EVP_CipherInit_ex2(ctx, c, k, v, enc, NULL) &&
             EVP_CipherUpdate(ctx, out, &n1, in ? in : empty, (int)inl) &&
             EVP_CipherFinal_ex(ctx, out + n1, &n2);
    OPENSSL_cleanse(k, sizeof(k));
    if (!ok)
        ERR_clear_error(); /* a bad padding is an answer, not an error to leave queued */
    return ok ? (long)n1 + n2 : -1;
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* PHP's non-strict base64_decode (what openssl_decrypt uses): characters outside the alphabet
 * and '=' are skipped anywhere; a trailing group of k sextets yields k-1 bytes. Never fails.
 * out needs n / 4 * 3 + 3 bytes. Returns the decoded length. */
static size_t b64_decode_php(const char *in, size_t n, unsigned char *out)
{
    unsigned long acc = 0;
    size_t groups = 0, j = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value((unsigned char)in[i]);
        if (v < 0)
            continue;
        acc = (acc << 6) | (unsigned long)v;
        if (++groups == 4) {
            out[j++] = (unsigned char)(acc >> 16);
            out[j++] = (unsigned char)(acc >> 8);
            out[j++] = (unsigned char)acc;
            acc = 0;
            groups = 0;
        }
    }
    if (groups >= 2)
        out[j++] = (unsigned char)(acc >> (6 * groups - 8));
    if (groups == 3)
        out[j++] = (unsigned char)(acc >> 2);
    return j;
}

static size_t b64_decoded_max(size_t n)
{
    return n / 4 * 3 + 3;
}

static void buf_truncate(struct buf *b, size_t len)
{
    b->len = len;
    if (b->p)
        b->p[len] = 0;
}

static int is_random_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

int crypto_random_string(char *out, size_t n)
{
    unsigned char raw[48], enc[65];
    size_t done = 0;
    int rc = 0;
    if (!out)
        return -1;
    while (done < n && rc == 0) {
        size_t want = n - done > 64 ? 64 : n - done;
        size_t nbytes = (want * 3 + 3) / 4; /* ceil(want * 3 / 4) */
        if (RAND_bytes(raw, (int)nbytes) != 1) {
            rc = -1;
            break;
        }
        EVP_EncodeBlock(enc, raw, (int)nbytes);
        for (size_t i = 0; i < want; i++)
            out[done + i] = enc[i] == '+' ? '-' : enc[i] == '/' ? '_' : (char)enc[i];
        done += want;
    }
    OPENSSL_cleanse(raw, sizeof(raw));
    OPENSSL_cleanse(enc, sizeof(enc));
    out[rc ? 0 : n] = 0;
    return rc;
}

int crypto_aes_encrypt_b64(const char *key, size_t keylen, const char *iv, size_t ivlen,
                           const char *pt, size_t ptlen, struct buf *out)
{
    if (ptlen > AES_MAX_INPUT)
        return -1;
    size_t ctlen = (ptlen / AES_BLOCK + 1) * AES_BLOCK;
    size_t b64len = (ctlen + 2) / 3 * 4;
    /* The ciphertext goes just past where its base64 will be written: no temporary buffer. */
    if (buf_reserve(out, b64len + ctlen))
        return -1;
    unsigned char *dst = (unsigned char *)out->p + out->len;
    unsigned char *ct = dst + b64len;
    long n = aes_run(1, key, keylen, iv, ivlen, (const unsigned char *)pt, ptlen, ct);
    if (n != (long)ctlen) {
        buf_truncate(out, out->len);
        return -1;
    }
    EVP_EncodeBlock(dst, ct, (int)ctlen);
    buf_truncate(out, out->len + b64len);
    return 0;
}

int crypto_aes_decrypt_b64(const char *key, size_t keylen, const char *iv, size_t ivlen,
                           const char *b64, size_t b64len, struct buf *out)
{
    size_t room = b64_decoded_max(b64len) + AES_BLOCK;
    if (!b64 || buf_reserve(out, room))
        return -1;
    /* Decode into the buffer's spare room and decrypt in place (EVP allows out == in). */
    unsigned char *dst = (unsigned char *)out->p + out->len;
    size_t ctlen = b64_decode_php(b64, b64len, dst);
    long n = aes_run(0, key, keylen, iv, ivlen, dst, ctlen, dst);
    if (n < 0) {
        OPENSSL_cleanse(dst, room);
        buf_truncate(out, out->len);
        return -1;
    }
    buf_truncate(out, out->len + (size_t)n);
    return 0;
}

int crypto_derive_key(const char *password, size_t plen, const char *salt16, char out[17])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char dk[PBKDF2_BYTES];
    if (!salt16 || plen > INT_MAX || ensure_init())
        return -1;
    if (PKCS5_PBKDF2_HMAC(password ? password : "", (int)plen, (const unsigned char *)salt16, 16,
                          PBKDF2_ITERATIONS, sha256_md, (int)sizeof(dk), dk) != 1)
        return -1;
    for (size_t i = 0; i < sizeof(dk); i++) {
        out[2 * i] = hex[dk[i] >> 4];
        out[2 * i + 1] = hex[dk[i] & 15];
    }
    out[2 * sizeof(dk)] = 0;
    OPENSSL_cleanse(dk, sizeof(dk));
    return 0;
}

int crypto_wrap_master(const char *master, size_t mlen, const char *password, size_t plen,
                       struct buf *out)
{
    char salt[17], iv[17], key[17];
    size_t mark = out->len;
    if (crypto_random_string(salt, 16) || crypto_random_string(iv, 16) ||
        crypto_derive_key(password, plen, salt, key))
        return -1;
    buf_append(out, salt, 16);
    buf_append(out, iv, 16);
    int rc = out->failed ? -1 : crypto_aes_encrypt_b64(key, 16, iv, 16, master, mlen, out);
    OPENSSL_cleanse(key, sizeof(key));
    if (rc)
        buf_truncate(out, mark);
    return rc;
}

int crypto_unwrap_master(const char *wrapped, size_t wlen, const char *password, size_t plen,
                         char master_out[CRYPTO_MASTER_LEN + 1])
{
    unsigned char ct[WRAPPED_MAX], pt[WRAPPED_MAX];
    char key[17];
    int rc = -1;
    if (!wrapped || wlen <= 32 || wlen > WRAPPED_MAX)
        return -1;
    /* A 16-byte master always encrypts to exactly 32 bytes: check before the costly PBKDF2. */
    if (b64_decode_php(wrapped + 32, wlen - 32, ct) != 2 * AES_BLOCK)
        return -1;
    if (crypto_derive_key(password, plen, wrapped, key))
        return -1;
    long n = aes_run(0, key, 16, wrapped + 16, 16, ct, 2 * AES_BLOCK, pt);
    if (n == CRYPTO_MASTER_LEN) {
        rc = 0;
        for (size_t i = 0; i < CRYPTO_MASTER_LEN; i++)
            rc |= is_random_char(pt[i]) ? 0 : -1;
    }
    if (rc == 0) {
        memcpy(master_out, pt, CRYPTO_MASTER_LEN);
        master_out[CRYPTO_MASTER_LEN] = 0;
    }
    OPENSSL_cleanse(key, sizeof(key));
    OPENSSL_cleanse(pt, sizeof(pt));
    return rc;
}

int crypto_field_encrypt(const char *master16, const char *pt, size_t n, struct buf *out)
{
    char iv[17];
    size_t mark = out->len;
    if (crypto_random_string(iv, 16))
        return -1;
    buf_append(out, iv, 16);
    if (out->failed || crypto_aes_encrypt_b64(master16, 16, iv, 16, pt, n, out)) {
        buf_truncate(out, mark);
        return -1;
    }
    return 0;
}

int crypto_field_decrypt(const char *master16, const char *ct, size_t n, struct buf *out)
{
    /* ITFlow: iv = substr(0, 16), ciphertext = the rest; an empty ciphertext never decrypts. */
    if (!ct || n <= 16)
        return -1;
    return crypto_aes_decrypt_b64(master16, 16, ct, 16, ct + 16, n - 16, out);
}

static int sha256(const char *data, size_t n, unsigned char md[SHA256_BYTES])
{
    unsigned int mdlen = 0;
    if (ensure_init())
        return -1;
    if (EVP_Digest(data ? data : "", n, md, &mdlen, sha256_md, NULL) != 1 || mdlen != SHA256_BYTES)
        return -1;
    return 0;
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

void crypto_key_hash(const char *secret, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    const size_t plen = sizeof(CRYPTO_KEY_HASH_PREFIX) - 1;
    unsigned char md[SHA256_BYTES];
    if (sha256(secret, n, md)) {
        out[0] = 0; /* never matches: crypto_key_matches rejects empty stored values */
        return;
    }
    memcpy(out, CRYPTO_KEY_HASH_PREFIX, plen);
    for (size_t i = 0; i < SHA256_BYTES; i++) {
        out[plen + 2 * i] = hex[md[i] >> 4];
        out[plen + 2 * i + 1] = hex[md[i] & 15];
    }
    char *tail = out + plen + 2 * SHA256_BYTES;
    tail[0] = '$';
    for (size_t i = 0; i < 4; i++)
        tail[1 + i] = n + i >= 4 ? secret[n + i - 4] : '*';
    out[CRYPTO_KEY_HASH_LEN] = 0;
}

int crypto_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

int crypto_key_is_hashed(const char *stored, size_t slen)
{
    const size_t plen = sizeof(CRYPTO_KEY_HASH_PREFIX) - 1;
    if (!stored || slen != CRYPTO_KEY_HASH_LEN || memcmp(stored, CRYPTO_KEY_HASH_PREFIX, plen))
        return 0;
    for (size_t i = plen; i < plen + 2 * SHA256_BYTES; i++)
        if (hex_value((unsigned char)stored[i]) < 0)
            return 0;
    return stored[plen + 2 * SHA256_BYTES] == '$';
}

/* The digest held in a hashed stored form (already validated by crypto_key_is_hashed). */
static void stored_digest(const char *stored, unsigned char md[SHA256_BYTES])
{
    const char *h = stored + sizeof(CRYPTO_KEY_HASH_PREFIX) - 1;
    for (size_t i = 0; i < SHA256_BYTES; i++)
        md[i] = (unsigned char)(hex_value((unsigned char)h[2 * i]) << 4 |
                                hex_value((unsigned char)h[2 * i + 1]));
}

int crypto_key_matches(const char *stored, size_t slen, const char *presented, size_t plen)
{
    if (!stored || !presented || slen == 0 || plen == 0)
        return 0;
    if (!crypto_key_is_hashed(stored, slen)) {
        /* a legacy plaintext key: exact, in time that depends only on the length */
        return slen == plen && CRYPTO_memcmp(stored, presented, plen) == 0;
    }
    unsigned char want[SHA256_BYTES], got[SHA256_BYTES];
    stored_digest(stored, want);
    if (sha256(presented, plen, got))
        return 0;
    int same = CRYPTO_memcmp(want, got, SHA256_BYTES) == 0;
    OPENSSL_cleanse(got, sizeof(got));
    OPENSSL_cleanse(want, sizeof(want));
    return same;
}

/* fuzz_credential: the stored credential field decoder (iv + non-strict base64 + AES-128-CBC),
 * the master-key unwrap, the raw AES decoder, and the JSON writer on what they produce. */
#include <string.h>

#include "core/php.h"
#include "crypto/crypto.h"
#include "fuzz.h"
#include "json/json_write.h"

/* The seed database's site master key (tests/unit/test_crypto.c SEED_MASTER), so the seeded
 * credential values in the corpus decrypt and the fuzzer starts past the padding check. */
#define MASTER "wu0UNx92_g_6gjeZ"
/* Key and iv material for the raw decoder: lengths 0..24 (PHP pads with NULs or cuts at 16). */
static const char KEY24[] = "wu0UNx92_g_6gjeZ01234567";
static const char IV24[] = "0123456789abcdefGHIJKLMN";

static int random_alphabet(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

/* crypto_unwrap_master runs 100 000 PBKDF2 rounds (0.2-0.4 s under ASan, the time of ~10 000
 * ordinary runs) when the part after salt and iv decodes to exactly 32 bytes, i.e. holds 43
 * base64 characters (non-strict decoding). Under libFuzzer (FUZZ_LIBFUZZER) such inputs are
 * skipped: gating on the first byte alone left the fuzzer at ~300 runs/s, and any sampling let
 * one PBKDF2 input into the corpus, whose unique coverage makes libFuzzer pick it again and again
 * (libFuzzer 14 has no "return -1" rejection). Past the PBKDF2 there are only the padding and
 * alphabet checks on 32 fixed-size bytes; the replay runner (ctest) runs them on the unwrap-*
 * seeds and on every regression input. */
static int unwrap_is_costly(const char *w, size_t wlen)
{
    size_t k = 0;
    for (size_t i = 32; i < wlen; i++) {
        char c = w[i];
        k += (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
             c == '+' || c == '/';
    }
    return wlen > 32 && k == 43;
}

#ifdef FUZZ_LIBFUZZER
static const int run_costly = 0;
#else
static const int run_costly = 1;
#endif

/* json_write_string writes valid UTF-8 as a quoted ASCII literal and refuses anything else,
 * leaving out as it was. */
static void json_write_checked(const char *s, size_t n)
{
    struct buf b;
    buf_init(&b, 0);
    buf_puts(&b, "{\"credential_password\":");
    size_t mark = b.len;
    int rc = json_write_string(&b, s, n);
    FUZZ_CHECK(rc == 0 || rc == -1);
    FUZZ_CHECK(rc == (utf8_valid(s, n) ? 0 : -1));
    if (rc == 0) {
        FUZZ_CHECK(!b.failed && b.len >= mark + 2);
        FUZZ_CHECK(b.p[mark] == '"' && b.p[b.len - 1] == '"');
        FUZZ_CHECK(utf8_valid(b.p, b.len));
        for (size_t i = mark; i < b.len; i++)
            FUZZ_CHECK((unsigned char)b.p[i] >= 0x20 && (unsigned char)b.p[i] < 0x80);
    } else {
        FUZZ_CHECK(b.len == mark);
    }
    buf_free(&b);
}

/* Re-encrypting a decrypted plaintext with the same key and iv decrypts to it again. */
static void round_trip(const char *key, size_t klen, const char *iv, size_t ivlen, const char *pt,
                       size_t n)
{
    struct buf enc, dec;
    buf_init(&enc, 0);
    buf_init(&dec, 0);
    FUZZ_CHECK(crypto_aes_encrypt_b64(key, klen, iv, ivlen, pt, n, &enc) == 0);
    size_t ctlen = (n / 16 + 1) * 16; /* PKCS#7 always pads */
    FUZZ_CHECK(enc.len == (ctlen + 2) / 3 * 4);
    FUZZ_CHECK(crypto_aes_decrypt_b64(key, klen, iv, ivlen, enc.p, enc.len, &dec) == 0);
    FUZZ_CHECK(dec.len == n && (n == 0 || memcmp(dec.p, pt, n) == 0));
    buf_free(&enc);
    buf_free(&dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    struct buf out;

    /* 1. the whole input as a stored credential field */
    buf_init(&out, 0);
    buf_puts(&out, "x"); /* decrypting appends: what is already there stays */
    int rc = crypto_field_decrypt(MASTER, s, size, &out);
    FUZZ_CHECK(rc == 0 || rc == -1);
    FUZZ_CHECK(out.len >= 1 && out.p[0] == 'x');
    if (rc == 0) {
        FUZZ_CHECK(size > 16);
        json_write_checked(out.p + 1, out.len - 1);
        round_trip(MASTER, 16, s, 16, out.p + 1, out.len - 1);
    } else {
        FUZZ_CHECK(out.len == 1 && out.p[1] == 0);
    }
    buf_free(&out);

    /* 2. the raw decoder: the first byte picks the key and iv lengths, the rest is the base64 */
    if (size >= 1) {
        size_t klen = (data[0] & 15) + (data[0] & 16 ? 8 : 0); /* 0..23 */
        size_t ivlen = (size_t)(data[0] >> 5) * 3;             /* 0..21 */
        buf_init(&out, 0);
        rc = crypto_aes_decrypt_b64(KEY24, klen, IV24, ivlen, s + 1, size - 1, &out);
        FUZZ_CHECK(rc == 0 || rc == -1);
        if (rc == 0) {
            FUZZ_CHECK(out.len <= (size - 1) / 4 * 3 + 2);
            json_write_checked(out.p ? out.p : "", out.len);
            round_trip(KEY24, klen, IV24, ivlen, out.p ? out.p : "", out.len);
        } else {
            FUZZ_CHECK(out.len == 0);
        }
        buf_free(&out);
    }

    /* 3. the master-key unwrap: 'W', the wrapped value (up to 76 bytes), the password; only
     * short 'W' inputs, and the PBKDF2 ones only in replays (see unwrap_is_costly()). */
    if (size >= 1 && size <= 120 && data[0] == 'W') {
        const char *w = s + 1;
        size_t wlen = size - 1 < CRYPTO_WRAPPED_LEN ? size - 1 : CRYPTO_WRAPPED_LEN;
        int costly = unwrap_is_costly(w, wlen);
        if (!costly || run_costly) {
            char master[CRYPTO_MASTER_LEN + 1];
            memset(master, '?', sizeof(master));
            rc = crypto_unwrap_master(w, wlen, w + wlen, size - 1 - wlen, master);
            FUZZ_CHECK(rc == 0 || rc == -1);
            FUZZ_CHECK(rc == -1 || costly); /* no 32-byte ciphertext, no master */
            if (rc == 0) {
                FUZZ_CHECK(master[CRYPTO_MASTER_LEN] == 0);
                FUZZ_CHECK(random_alphabet(master, CRYPTO_MASTER_LEN));
            }
        }
    }

    /* 4. the JSON writer on the raw bytes (a decrypted field is arbitrary bytes too) */
    json_write_checked(s, size);
    return 0;
}

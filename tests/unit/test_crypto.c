/* test_crypto: unit tests for src/crypto (reference section 3 vectors, seed data, round trips). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "crypto/crypto.h"

#define MASTER "MASTERKEY0123456"
#define REF_PASSWORD "DecryptPW_client_a_0123456789012"
#define REF_WRAPPED "pwqiNpKuZ4qP-LSSdtS3MHuNPEwbrZlpUEzaDhSOjepA1RE2SiFLhw9/qKEttDlNa8lcUfY0RdI="
#define SEED_PASSWORD "oracleDecryptPassword00000000001"
#define SEED_WRAPPED "z3Or1-HFcgXE6YeqDEtVYyAUGqcz8PxjWO1iApUz0boos9XJlkcfMnpb3XajOoX6j/BvLQl+nUs="
#define SEED_WRAPPED_KEY2                                                                          \
    "ztx2b0-NXJLjpKXzK1hNs0Z2TytQlieGdaGlJ1LxhnuJcSZG780/ZsQ4PHpMb7UvWsF9pDt85os="
#define SEED_MASTER "wu0UNx92_g_6gjeZ"
#define SEED_USER "VBuvn2t9t74Ez-yflRmMqOXyQn34CCw29bEKG6IAYEBTAqVpi82SK5cDrRA="
#define SEED_PASS "1GBCBi1r9kJoy3Q2ijlucfrU+PtAF5/INJqBpA=="
#define WRONG_PASSWORD "wrongDecryptPassword000000000000"

static int alphabet_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_';
        if (!ok)
            return 0;
    }
    return 1;
}

/* Decrypts a stored field and checks the plaintext. */
static void expect_field(const char *master16, const char *field, const char *want)
{
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(crypto_field_decrypt(master16, field, strlen(field), &b), 0);
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.p, want, b.len);
    buf_free(&b);
}

static void test_derive_key_vector(void **state)
{
    char key[17];
    assert_int_equal(crypto_derive_key(REF_PASSWORD, strlen(REF_PASSWORD), "pwqiNpKuZ4qP-LSS", key),
                     0);
    assert_string_equal(key, "2a9767d1508d0f95");
}

static void test_unwrap_vector(void **state)
{
    char master[CRYPTO_MASTER_LEN + 1];
    assert_int_equal(strlen(REF_WRAPPED), CRYPTO_WRAPPED_LEN);
    assert_int_equal(crypto_unwrap_master(REF_WRAPPED, strlen(REF_WRAPPED), REF_PASSWORD,
                                          strlen(REF_PASSWORD), master),
                     0);
    assert_string_equal(master, MASTER);
}

static void test_unwrap_manual_steps(void **state)
{
    /* The same vector through the primitives: salt, iv, derived key, AES step. */
    char key[17];
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(crypto_derive_key(REF_PASSWORD, strlen(REF_PASSWORD), REF_WRAPPED, key), 0);
    assert_string_equal(key, "2a9767d1508d0f95");
    const char *wrapped = REF_WRAPPED;
    assert_int_equal(
        crypto_aes_decrypt_b64(key, 16, wrapped + 16, 16, wrapped + 32, strlen(wrapped) - 32, &b),
        0);
    assert_string_equal(b.p, MASTER);
    buf_free(&b);
}

static void test_field_vector(void **state)
{
    expect_field(MASTER, "cMb_XV3erVwrzKzPglSI7hTyxiZ8hEA/xWMhoQ==", "admin");
}

static void test_empty_plaintext_vector(void **state)
{
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(crypto_aes_encrypt_b64(MASTER, 16, "cMb_XV3erVwrzKzP", 16, "", 0, &b), 0);
    assert_string_equal(b.p, "ohn16kz4OztC6U5AvwFCdg==");
    buf_reset(&b);
    assert_int_equal(crypto_aes_decrypt_b64(MASTER, 16, "cMb_XV3erVwrzKzP", 16,
                                            "ohn16kz4OztC6U5AvwFCdg==", 24, &b),
                     0);
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

static void test_zero_key_vector(void **state)
{
    const char *field = "OAvyLcoHon08dbvbpfLUv28q+Y/tKLAT+tEkdQ==";
    static const char zero[16];
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(crypto_aes_decrypt_b64("", 0, field, 16, field + 16, strlen(field) - 16, &b),
                     0);
    assert_string_equal(b.p, "u");
    buf_free(&b);
    expect_field(zero, field, "u");
}

static void test_seed_unwrap_and_decrypt(void **state)
{
    char master[CRYPTO_MASTER_LEN + 1];
    assert_int_equal(crypto_unwrap_master(SEED_WRAPPED, strlen(SEED_WRAPPED), SEED_PASSWORD,
                                          strlen(SEED_PASSWORD), master),
                     0);
    assert_string_equal(master, SEED_MASTER);
    expect_field(master, SEED_USER, "admin@acme.example");
    expect_field(master, SEED_PASS, "S3cret!Acme");
    assert_int_equal(crypto_unwrap_master(SEED_WRAPPED_KEY2, strlen(SEED_WRAPPED_KEY2),
                                          SEED_PASSWORD, strlen(SEED_PASSWORD), master),
                     0);
    assert_string_equal(master, SEED_MASTER);
}

static void test_unwrap_wrong_password(void **state)
{
    char master[CRYPTO_MASTER_LEN + 1];
    assert_int_equal(crypto_unwrap_master(SEED_WRAPPED, strlen(SEED_WRAPPED), WRONG_PASSWORD,
                                          strlen(WRONG_PASSWORD), master),
                     -1);
    assert_int_equal(crypto_unwrap_master(REF_WRAPPED, strlen(REF_WRAPPED), SEED_PASSWORD,
                                          strlen(SEED_PASSWORD), master),
                     -1);
}

static void test_unwrap_malformed(void **state)
{
    char master[CRYPTO_MASTER_LEN + 1];
    assert_int_equal(crypto_unwrap_master("", 0, SEED_PASSWORD, 5, master), -1);
    assert_int_equal(crypto_unwrap_master(SEED_WRAPPED, 32, SEED_PASSWORD, 5, master), -1);
    assert_int_equal(crypto_unwrap_master(SEED_WRAPPED, 60, SEED_PASSWORD, 5, master), -1);
}

static void test_wrong_key_field_fails(void **state)
{
    struct buf b;
    const char *field = "cMb_XV3erVwrzKzPglSI7hTyxiZ8hEA/xWMhoQ==";
    buf_init(&b, 0);
    buf_puts(&b, "keep");
    assert_int_equal(crypto_field_decrypt(SEED_MASTER, field, strlen(field), &b), -1);
    assert_int_equal(ERR_peek_error(), 0); /* no stale OpenSSL error left behind */
    assert_int_equal(b.len, 4);
    assert_string_equal(b.p, "keep");
    buf_free(&b);
}

static void test_field_decrypt_short(void **state)
{
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(crypto_field_decrypt(MASTER, "", 0, &b), -1);
    assert_int_equal(crypto_field_decrypt(MASTER, "cMb_XV3erVwrzKzP", 16, &b), -1);
    assert_int_equal(crypto_field_decrypt(MASTER, "cMb_XV3erVwrzKzPglSI", 20, &b), -1);
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

static void test_php_lenient_base64(void **state)
{
    /* PHP's openssl_decrypt skips non-alphabet characters (non-strict base64_decode). */
    expect_field(MASTER, "cMb_XV3erVwrzKzPglSI7hTy xiZ8hEA/\nxWMhoQ", "admin");
}

static void test_wrap_round_trip(void **state)
{
    struct buf b;
    char master[CRYPTO_MASTER_LEN + 1];
    buf_init(&b, 0);
    buf_puts(&b, "x");
    assert_int_equal(crypto_wrap_master(SEED_MASTER, 16, REF_PASSWORD, strlen(REF_PASSWORD), &b),
                     0);
    assert_int_equal(b.len, 1 + CRYPTO_WRAPPED_LEN);
    assert_true(alphabet_ok(b.p + 1, 32));
    assert_int_equal(
        crypto_unwrap_master(b.p + 1, b.len - 1, REF_PASSWORD, strlen(REF_PASSWORD), master), 0);
    assert_string_equal(master, SEED_MASTER);
    assert_int_equal(
        crypto_unwrap_master(b.p + 1, b.len - 1, WRONG_PASSWORD, strlen(WRONG_PASSWORD), master),
        -1);
    buf_free(&b);
}

static void field_round_trip(const char *pt, size_t n)
{
    struct buf b, p;
    buf_init(&b, 0);
    buf_init(&p, 0);
    assert_int_equal(crypto_field_encrypt(MASTER, pt, n, &b), 0);
    size_t ctlen = (n / 16 + 1) * 16;
    assert_int_equal(b.len, 16 + (ctlen + 2) / 3 * 4);
    assert_true(alphabet_ok(b.p, 16));
    assert_int_equal(crypto_field_decrypt(MASTER, b.p, b.len, &p), 0);
    assert_int_equal(p.len, n);
    if (n)
        assert_memory_equal(p.p, pt, n);
    buf_free(&b);
    buf_free(&p);
}

static void test_field_round_trips(void **state)
{
    char big[1000];
    char bytes[256];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)('a' + i % 26);
    for (size_t i = 0; i < sizeof(bytes); i++)
        bytes[i] = (char)i;
    field_round_trip("", 0);
    field_round_trip("admin", 5);
    field_round_trip("  spaces inside and around  ", 28);
    field_round_trip("exactly sixteen!", 16);
    field_round_trip(big, sizeof(big));
    field_round_trip(bytes, sizeof(bytes));
    field_round_trip("caf\xc3\xa9 \"quoted\" 'x'", 19);
}

static void test_field_encrypt_appends(void **state)
{
    struct buf b;
    buf_init(&b, 0);
    buf_puts(&b, "prefix:");
    assert_int_equal(crypto_field_encrypt(MASTER, "admin", 5, &b), 0);
    assert_int_equal(b.len, 7 + 16 + 24);
    assert_memory_equal(b.p, "prefix:", 7);
    assert_int_equal(b.p[b.len], 0);
    buf_free(&b);
}

/* Independent check: what we write is what plain OpenSSL (and therefore PHP) reads. */
static void test_independent_evp_decrypt(void **state)
{
    const char *pt = "independent check: S3cret!Acme with spaces";
    struct buf b;
    unsigned char raw[256], out[256 + 16];
    int n1 = 0, n2 = 0;
    buf_init(&b, 0);
    assert_int_equal(crypto_field_encrypt(MASTER, pt, strlen(pt), &b), 0);
    const char *b64 = b.p + 16;
    int b64len = (int)(b.len - 16);
    int rawlen = EVP_DecodeBlock(raw, (const unsigned char *)b64, b64len);
    assert_true(rawlen > 0);
    /* EVP_DecodeBlock counts padding characters as zero bytes: drop them. */
    for (int i = b64len - 1; i >= 0 && b64[i] == '='; i--)
        rawlen--;
    assert_int_equal(rawlen % 16, 0);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    assert_non_null(ctx);
    assert_int_equal(EVP_DecryptInit_ex(ctx, EVP_aes_128_cbc(), NULL, (const unsigned char *)MASTER,
                                        (const unsigned char *)b.p),
                     1);
    assert_int_equal(EVP_DecryptUpdate(ctx, out, &n1, raw, rawlen), 1);
    assert_int_equal(EVP_DecryptFinal_ex(ctx, out + n1, &n2), 1);
    EVP_CIPHER_CTX_free(ctx);
    assert_int_equal(n1 + n2, (int)strlen(pt));
    assert_memory_equal(out, pt, strlen(pt));
    buf_free(&b);
}

static void test_aes_key_iv_padding(void **state)
{
    /* Keys/ivs longer than 16 bytes are cut; shorter are NUL-padded. */
    struct buf a, b;
    buf_init(&a, 0);
    buf_init(&b, 0);
    assert_int_equal(
        crypto_aes_encrypt_b64(MASTER "extra", 21, "cMb_XV3erVwrzKzPzz", 18, "", 0, &a), 0);
    assert_string_equal(a.p, "ohn16kz4OztC6U5AvwFCdg==");
    assert_int_equal(crypto_aes_encrypt_b64("abc", 3, "iv", 2, "hello", 5, &a), 0);
    assert_int_equal(crypto_aes_encrypt_b64("abc\0\0\0\0\0\0\0\0\0\0\0\0\0", 16,
                                            "iv\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16, "hello", 5, &b),
                     0);
    assert_string_equal(a.p + 24, b.p);
    buf_free(&a);
    buf_free(&b);
}

static void test_random_string(void **state)
{
    char a[33], b[33], c[17], d[17], z[1], big[201];
    assert_int_equal(crypto_random_string(a, 32), 0);
    assert_int_equal(crypto_random_string(b, 32), 0);
    assert_int_equal(crypto_random_string(c, 16), 0);
    assert_int_equal(crypto_random_string(d, 16), 0);
    assert_int_equal(strlen(a), 32);
    assert_int_equal(strlen(c), 16);
    assert_true(alphabet_ok(a, 32) && alphabet_ok(b, 32));
    assert_true(alphabet_ok(c, 16) && alphabet_ok(d, 16));
    assert_string_not_equal(a, b);
    assert_string_not_equal(c, d);
    assert_int_equal(crypto_random_string(z, 0), 0);
    assert_int_equal(z[0], 0);
    assert_int_equal(crypto_random_string(big, 200), 0);
    assert_int_equal(strlen(big), 200);
    assert_true(alphabet_ok(big, 200));
}

static void test_key_hash(void **state)
{
    char h[CRYPTO_KEY_HASH_LEN + 1];
    crypto_key_hash("abc", 3, h);
    assert_string_equal(h, "$itfd-sha256$"
                           "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad$*abc");
    assert_int_equal(strlen(h), CRYPTO_KEY_HASH_LEN);
    assert_true(crypto_key_is_hashed(h, strlen(h)));
    assert_true(crypto_key_matches(h, strlen(h), "abc", 3));
    assert_false(crypto_key_matches(h, strlen(h), "abd", 3));
    assert_false(crypto_key_matches(h, strlen(h), "ABC", 3));
    assert_false(crypto_key_matches(h, strlen(h), "abc ", 4));
    assert_false(crypto_key_matches(h, strlen(h), h, strlen(h)));
}

static void test_key_hashed_form_detection(void **state)
{
    char h[CRYPTO_KEY_HASH_LEN + 1];
    crypto_key_hash("secret", 6, h);
    assert_false(crypto_key_is_hashed("oracleAllClients0000000000000001", 32));
    assert_false(crypto_key_is_hashed(h, strlen(h) - 1));
    assert_false(crypto_key_is_hashed("", 0));
    h[20] = 'G';
    assert_false(crypto_key_is_hashed(h, strlen(h)));
}

static void test_key_legacy_plaintext(void **state)
{
    const char *s = "oracleAllClients0000000000000001";
    assert_true(crypto_key_matches(s, 32, s, 32));
    assert_false(crypto_key_matches(s, 32, "ORACLEALLCLIENTS0000000000000001", 32));
    assert_false(crypto_key_matches(s, 32, "oracleAllClients000000000000000", 31));
    assert_false(crypto_key_matches(s, 32, "oracleAllClients00000000000000011", 33));
    assert_false(crypto_key_matches(s, 32, "oracleAllClients0000000000000002", 32));
    assert_false(crypto_key_matches("", 0, "", 0));
    assert_false(crypto_key_matches(s, 32, "", 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_derive_key_vector),
        cmocka_unit_test(test_unwrap_vector),
        cmocka_unit_test(test_unwrap_manual_steps),
        cmocka_unit_test(test_field_vector),
        cmocka_unit_test(test_empty_plaintext_vector),
        cmocka_unit_test(test_zero_key_vector),
        cmocka_unit_test(test_seed_unwrap_and_decrypt),
        cmocka_unit_test(test_unwrap_wrong_password),
        cmocka_unit_test(test_unwrap_malformed),
        cmocka_unit_test(test_wrong_key_field_fails),
        cmocka_unit_test(test_field_decrypt_short),
        cmocka_unit_test(test_php_lenient_base64),
        cmocka_unit_test(test_wrap_round_trip),
        cmocka_unit_test(test_field_round_trips),
        cmocka_unit_test(test_field_encrypt_appends),
        cmocka_unit_test(test_independent_evp_decrypt),
        cmocka_unit_test(test_aes_key_iv_padding),
        cmocka_unit_test(test_random_string),
        cmocka_unit_test(test_key_hash),
        cmocka_unit_test(test_key_hashed_form_detection),
        cmocka_unit_test(test_key_legacy_plaintext),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

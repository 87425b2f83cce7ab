/* crypto: ITFlow's credential encryption (reference section 3, COMPAT K16), API key hashing
 * (COMPAT F14) and random strings. Everything is byte-compatible with ITFlow v26.07. */
#ifndef ITFLOWD_CRYPTO_H
#define ITFLOWD_CRYPTO_H

#include <stddef.h>

#include "core/buf.h"

#define CRYPTO_MASTER_LEN 16  /* site master key: 16 base64url characters */
#define CRYPTO_WRAPPED_LEN 76 /* salt(16) + iv(16) + base64 of 32 bytes (44) */
#define CRYPTO_KEY_HASH_PREFIX "$itfd-sha256$"
#define CRYPTO_KEY_HASH_LEN (sizeof(CRYPTO_KEY_HASH_PREFIX) - 1 + 64 + 5)

/* randomString(n): ceil(n*3/4) random bytes (RAND_bytes), base64, + -> -, / -> _, no '=',
 * cut to n characters. out must hold n+1 bytes; NUL-terminated. 0 or -1. */
int crypto_random_string(char *out, size_t n);

/* openssl_encrypt($pt, 'aes-128-cbc', $key, 0, $iv): key/iv NUL-padded or cut to 16 bytes,
 * PKCS#7, output standard base64 with padding appended to out. 0 or -1. */
int crypto_aes_encrypt_b64(const char *key, size_t keylen, const char *iv, size_t ivlen,
                           const char *pt, size_t ptlen, struct buf *out);
/* Base64 is read like PHP's non-strict base64_decode (which openssl_decrypt uses): bytes outside
 * the alphabet and '=' are skipped, so in practice only the length/padding check fails. */
/* The inverse: -1 on base64 or padding failure (out untouched), else plaintext appended. */
int crypto_aes_decrypt_b64(const char *key, size_t keylen, const char *iv, size_t ivlen,
                           const char *b64, size_t b64len, struct buf *out);

/* hash_pbkdf2('sha256', password, salt16, 100000, 16): 8 derived bytes as 16 lowercase hex
 * characters + NUL in out. 0 or -1. */
int crypto_derive_key(const char *password, size_t plen, const char *salt16, char out[17]);

/* Wraps master (16 chars) with password into the 76-character api_key_decrypt_hash /
 * user_specific_encryption_ciphertext format (fresh salt and iv); appended to out. 0 or -1. */
int crypto_wrap_master(const char *master, size_t mlen, const char *password, size_t plen,
                       struct buf *out);
/* Unwraps: 0 and master_out (16 chars + NUL) when the password is right, -1 otherwise.
 * "Right" = decryption and padding succeed and the result is exactly 16 characters of
 * [A-Za-z0-9_-] (ITFlow's randomString alphabet), so a wrong password is detected (F13). */
int crypto_unwrap_master(const char *wrapped, size_t wlen, const char *password, size_t plen,
                         char master_out[CRYPTO_MASTER_LEN + 1]);

/* A credential field: iv(16, randomString) + base64(AES-128-CBC(pt, master, iv)), appended. */
int crypto_field_encrypt(const char *master16, const char *pt, size_t n, struct buf *out);
/* Decrypts a stored field; -1 (out untouched) when empty, too short or undecryptable. */
int crypto_field_decrypt(const char *master16, const char *ct, size_t n, struct buf *out);

/* The stored form of an API key secret we create: CRYPTO_KEY_HASH_PREFIX + hex(SHA-256(secret))
 * + '$' + the secret's last 4 characters ('*'-padded), so key lists can show them (ITFlow does).
 * out must hold CRYPTO_KEY_HASH_LEN + 1 bytes. */
void crypto_key_hash(const char *secret, size_t n, char *out);
/* An empty stored or presented value never matches. */
/* 1 when presented matches stored, in constant time with respect to the secret: stored in the
 * hashed form -> SHA-256 of presented compared with CRYPTO_memcmp; otherwise a legacy plaintext
 * secret -> exact (case-sensitive) CRYPTO_memcmp, whose time depends only on the length. */
int crypto_key_matches(const char *stored, size_t slen, const char *presented, size_t plen);
/* 1 when a and b hold the same n bytes, in time that depends only on n. */
int crypto_equal(const void *a, const void *b, size_t n);
/* 1 when stored is in our hashed form. */
int crypto_key_is_hashed(const char *stored, size_t slen);

#endif

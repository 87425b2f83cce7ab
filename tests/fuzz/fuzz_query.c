/* fuzz_query: the query-string parser (PHP's $_GET rules: urldecode, name mangling, arrays, last
 * duplicate wins, REQ_MAX_PARAMS) and the parameter lookup. */
#include <stdlib.h>
#include <string.h>

#include "req/req.h"
#include "fuzz.h"

/* Names the engine looks up on every request, and a few edge cases. */
static const char *const lookups[] = {"api_key",
                                      "api_key_decrypt_password",
                                      "limit",
                                      "offset",
                                      "client_id",
                                      "contact_id",
                                      "contact_email",
                                      "asset_name",
                                      "_",
                                      "",
                                      "a_b",
                                      "a"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, not NUL-terminated: a read past the end is an ASan report. */
    char *q = malloc(size ? size : 1);
    if (!q)
        return 0;
    if (size)
        memcpy(q, data, size);

    struct req r;
    memset(&r, 0, sizeof(r));
    req_parse_query(&r, q, size);

    FUZZ_CHECK(r.nparams <= REQ_MAX_PARAMS);
    FUZZ_CHECK(!r.params_overflow || r.nparams == REQ_MAX_PARAMS);
    for (size_t i = 0; i < r.nparams; i++) {
        const struct param *p = &r.params[i];
        FUZZ_CHECK(p->name && p->val);
        FUZZ_CHECK(p->name[0] != 0); /* PHP drops an empty name */
        /* mangled: ' ' and '.' become '_'; "[...]" is cut off (is_array), an unclosed '[' is '_' */
        FUZZ_CHECK(strpbrk(p->name, " .[") == NULL);
        FUZZ_CHECK(strlen(p->name) <= size);
        FUZZ_CHECK(p->len <= size); /* decoding never makes a value longer */
        FUZZ_CHECK(p->val[p->len] == 0);
        FUZZ_CHECK(p->is_array == 0 || p->is_array == 1);
        /* the last duplicate replaced the earlier ones, so every name is unique and found here */
        FUZZ_CHECK(req_param(&r, p->name) == p);
    }
    for (size_t k = 0; k < sizeof(lookups) / sizeof(lookups[0]); k++) {
        const struct param *p = req_param(&r, lookups[k]);
        FUZZ_CHECK(p == NULL || strcmp(p->name, lookups[k]) == 0);
        if (lookups[k][0] == 0)
            FUZZ_CHECK(p == NULL);
    }

    /* Parsing the same bytes again gives the same parameters (no hidden state). */
    struct req r2;
    memset(&r2, 0, sizeof(r2));
    req_parse_query(&r2, q, size);
    FUZZ_CHECK(r2.nparams == r.nparams && r2.params_overflow == r.params_overflow);
    for (size_t i = 0; i < r.nparams; i++) {
        FUZZ_CHECK(strcmp(r2.params[i].name, r.params[i].name) == 0);
        FUZZ_CHECK(r2.params[i].len == r.params[i].len);
        FUZZ_CHECK(memcmp(r2.params[i].val, r.params[i].val, r.params[i].len) == 0);
        FUZZ_CHECK(r2.params[i].is_array == r.params[i].is_array);
    }
    req_free(&r2);

    req_free(&r);
    FUZZ_CHECK(r.nparams == 0);
    free(q);
    return 0;
}

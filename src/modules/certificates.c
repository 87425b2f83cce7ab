/* certificates: reference 2.2. A PEM certificate sent without expiry and issuer gives both. */
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#include "core/php.h"
#include "engine/hook.h"
#include "modules/crud.h"

static const struct filter filters[] = {
    {"certificate_id", FK_ID, "certificate_id", NULL, FS_ONE, 0, NULL},
    {"certificate_name", FK_TEXT, "certificate_name", NULL, FS_LIST, 0, NULL},
};

static const struct field fields[] = {
    {"certificate_name", "certificate_name", CV_TEXT, FF_REQUIRED | FF_NAME, NULL},
    {"certificate_description", "certificate_description", CV_TEXT, 0, NULL},
    {"certificate_domain", "certificate_domain", CV_TEXT, FF_REQUIRED, NULL},
    {"certificate_issued_by", "certificate_issued_by", CV_TEXT, 0, NULL},
    {"certificate_expire", "certificate_expire", CV_DATE, 0, NULL},
    {"certificate_public_key", "certificate_public_key", CV_TEXT, 0, NULL},
    {"certificate_notes", "certificate_notes", CV_TEXT, 0, NULL},
    {"certificate_domain_id", "certificate_domain_id", CV_INT, 0, NULL},
};

/* notAfter (UTC date) and the issuer's O of a PEM certificate; -1 if it does not parse. */
static int pem_facts(const char *pem, size_t n, char expire[11], struct buf *issuer)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)n);
    X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (!x)
        return -1;
    struct tm tm;
    int rc = -1;
    if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1 && tm.tm_year + 1900 >= 1000 &&
        tm.tm_year + 1900 <= 9999) {
        strftime(expire, 11, "%Y-%m-%d", &tm);
        rc = 0;
    }
    X509_NAME *name = X509_get_issuer_name(x);
    int idx = name ? X509_NAME_get_index_by_NID(name, NID_organizationName, -1) : -1;
    if (rc == 0 && idx >= 0) {
        unsigned char *utf8 = NULL;
        int len =
            ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx)));
        if (len >= 0)
            php_sanitize(issuer, (const char *)utf8, (size_t)len);
        OPENSSL_free(utf8);
    }
    X509_free(x);
    return rc;
}

static enum eng_rc fill_from_pem(struct op_ctx *ctx)
{
    struct value *key = ctx_val(ctx, "certificate_public_key");
    struct value *expire = ctx_val(ctx, "certificate_expire");
    struct value *issuer = ctx_val(ctx, "certificate_issued_by");
    if (value_empty(key) || !expire->is_null || issuer->n)
        return ENG_OK;
    const char *raw;
    size_t n;
    enum eng_rc rc = body_string(ctx, "certificate_public_key", &raw, &n);
    if (rc != ENG_OK || !raw)
        return rc;
    char date[11];
    struct buf o;
    buf_init(&o, 0);
    if (pem_facts(raw, n, date, &o) == 0) {
        value_from_text(expire, ctx_strdup(ctx, date, 10), 10);
        size_t on = o.p ? utf8_prefix(o.p, o.len, 200) : 0;
        value_from_text(issuer, ctx_strdup(ctx, o.p ? o.p : "", on), on);
        if (!expire->p || !issuer->p || o.failed) /* out of memory, not SQL NULL */
            rc = ENG_DB;
    }
    buf_free(&o);
    return rc;
}

static const struct endpoint endpoints[] = {
    {.function = "read", .op = OP_READ},
    {.function = "create",
     .op = OP_CREATE,
     .scope_rule = SR_NONZERO,
     .before = fill_from_pem,
     .logs = {{"Certificate", "Create", "{name} via API ({key})", LR_SCOPE, LR_NEW_ID},
              {"API", "Success", "Created certificate {name} via API ({key})", LR_SCOPE,
               LR_NEW_ID}}},
    CRUD_UPDATE("Certificate", "certificate", "certificate_id", NULL, NULL),
    CRUD_DELETE("Certificate", "certificate", "certificate_id", NULL),
    CRUD_ARCHIVE("Certificate", "certificate", "certificate_id"),
};

static struct module_resolved resolved;

const struct module module_certificates = {
    .res = &resolved,
    .name = "certificates",
    .rbac_module = "module_support",
    .table = "certificates",
    .client_col = "certificate_client_id",
    .archived_col = "certificate_archived_at",
    .filters = filters,
    .nfilters = COUNT_OF(filters),
    .fields = fields,
    .nfields = COUNT_OF(fields),
    .endpoints = endpoints,
    .nendpoints = COUNT_OF(endpoints),
};

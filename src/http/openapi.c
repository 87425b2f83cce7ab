/* openapi: walks the registry: one path per endpoint, its parameters and body from the filters
 * and fields, types and lengths from the schema, the v1 envelopes and error answers. */
#include "http/openapi.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "modules/registry.h"
#include "json/json_write.h"

static char *document;

static void str(struct buf *b, const char *s)
{
    json_write_string(b, s, strlen(s));
}

static const char *json_type(enum conv c)
{
    switch (c) {
    case CV_INT:
        return "integer";
    case CV_DECIMAL:
        return "number";
    default:
        return "string";
    }
}

static void query_param(struct buf *b, int *first, const char *name, const char *type,
                        const char *desc)
{
    buf_puts(b, *first ? "" : ",");
    *first = 0;
    buf_puts(b, "{\"name\":");
    str(b, name);
    buf_puts(b, ",\"in\":\"query\",\"required\":false,\"schema\":{\"type\":");
    str(b, type);
    buf_puts(b, "},\"description\":");
    str(b, desc);
    buf_putc(b, '}');
}

static void read_params(struct buf *b, const struct module *m, const struct endpoint *ep)
{
    int first = 1;
    buf_puts(b, "\"parameters\":[");
    query_param(b, &first, "api_key", "string", "The API key (or the X-API-Key header).");
    query_param(b, &first, "limit", "integer", "Rows per page (default 50).");
    query_param(b, &first, "offset", "integer", "Rows to skip (default 0).");
    if (!ep->aggregate) {
        query_param(b, &first, "after_id", "integer",
                    "Lists: keyset paging, rows with a greater id in id order (not with offset); "
                    "Link: rel=next carries the page's last id. X-Total-Count stays the list's "
                    "size.");
        query_param(b, &first, "updated_since", "string",
                    "Lists: rows created or updated at or after this time (YYYY-MM-DD "
                    "HH:MM:SS, YYYY-MM-DDTHH:MM:SS[Z] or a date).");
        query_param(b, &first, "sort", "string",
                    "Lists: id, created_at or updated_at (or the full column name), a leading - "
                    "for descending; ties in id order.");
    }
    if (module_client_scoped(m) && !(m->flags & MOD_ALL_CLIENTS_ONLY))
        query_param(b, &first, "client_id", "integer", "All-clients keys: read only this client.");
    if (ep->flags & EP_DECRYPT)
        query_param(b, &first, "api_key_decrypt_password", "string",
                    "The key's decrypt password (or the X-API-Key-Decrypt-Password header).");
    for (size_t i = 0; i < m->nfilters; i++) {
        const struct filter *f = &m->filters[i];
        query_param(b, &first, f->param,
                    f->kind == FK_ID || f->kind == FK_INT_TEXT ? "integer" : "string",
                    "Filter; the first filter present in this list's order wins.");
    }
    buf_puts(b, "],");
}

static void body_schema(struct buf *b, const struct module *m, const struct endpoint *ep)
{
    buf_puts(b, "\"requestBody\":{\"required\":true,\"content\":{\"application/json\":{"
                "\"schema\":{\"type\":\"object\",\"properties\":{"
                "\"api_key\":{\"type\":\"string\"},\"client_id\":{\"type\":\"integer\"}");
    if (ep->flags & EP_DECRYPT)
        buf_puts(b, ",\"api_key_decrypt_password\":{\"type\":\"string\"}");
    if (ep->id_param) {
        buf_putc(b, ',');
        str(b, ep->id_param);
        buf_puts(b, ":{\"type\":\"integer\"}");
    }
    int with_fields = ep->op == OP_CREATE || ep->op == OP_UPDATE || ep->op == OP_CUSTOM;
    for (size_t i = 0; with_fields && i < m->nfields; i++) {
        const struct field *f = &m->fields[i];
        if (f->flags & FF_CONST)
            continue;
        buf_putc(b, ',');
        str(b, f->name);
        buf_puts(b, ":{\"type\":");
        str(b, json_type(f->conv));
        const struct schema_column *c = f->column ? schema_column(m->res->t, f->column) : NULL;
        if (f->conv == CV_DATE)
            buf_puts(b, ",\"format\":\"date\"");
        if (c && (c->type == COL_VARCHAR) && f->conv != CV_SECRET)
            buf_printf(b, ",\"maxLength\":%u", (unsigned)c->max_len);
        buf_putc(b, '}');
    }
    buf_puts(b, "}");
    if (ep->op == OP_CREATE) {
        int first = 1;
        buf_puts(b, ",\"required\":[");
        for (size_t i = 0; i < m->nfields; i++)
            if (m->fields[i].flags & FF_REQUIRED) {
                buf_puts(b, first ? "" : ",");
                str(b, m->fields[i].name);
                first = 0;
            }
        buf_putc(b, ']');
    }
    buf_puts(b, "}}}},");
}

static void responses(struct buf *b, const struct endpoint *ep)
{
    const char *ok = ep->op == OP_READ     ? "#/components/schemas/ReadResult"
                     : ep->op == OP_CREATE ? "#/components/schemas/CreateResult"
                                           : "#/components/schemas/CountResult";
    buf_printf(b,
               "\"responses\":{\"200\":{\"description\":\"Success, or the ordinary "
               "\\\"False\\\" answer\",\"content\":{\"application/json\":{\"schema\":{\"oneOf\":"
               "[{\"$ref\":\"%s\"},{\"$ref\":\"#/components/schemas/Message\"}]}}}}",
               ok);
    static const char *const errors[][2] = {
        {"400", "Bad input (the message names the field)"},
        {"401", "No key (empty body), or an invalid or expired key"},
        {"403", "Wrong decrypt password, the key's scope does not allow this endpoint, or the "
                "key lacks a permission (read-only, no delete, allowed networks)"},
        {"409", "Writes: the Idempotency-Key was used with another request"},
        {"405", "Wrong method"},
        {"500", "Server fault"},
        {"503", "The database is busy or unavailable"},
    };
    for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
        buf_printf(b,
                   ",\"%s\":{\"description\":\"%s\",\"content\":{\"application/json\":{"
                   "\"schema\":{\"$ref\":\"#/components/schemas/Message\"}}}}",
                   errors[i][0], errors[i][1]);
    buf_putc(b, '}');
}

static void components(struct buf *b)
{
    buf_puts(b,
             "\"components\":{\"securitySchemes\":{"
             "\"queryKey\":{\"type\":\"apiKey\",\"in\":\"query\",\"name\":\"api_key\"},"
             "\"headerKey\":{\"type\":\"apiKey\",\"in\":\"header\",\"name\":\"X-API-Key\"},"
             "\"bearer\":{\"type\":\"http\",\"scheme\":\"bearer\"}},\"schemas\":{"
             "\"Message\":{\"type\":\"object\",\"required\":[\"success\",\"message\"],"
             "\"properties\":{\"success\":{\"type\":\"string\",\"enum\":[\"True\",\"False\"]},"
             "\"message\":{\"type\":\"string\"}}},"
             "\"ReadResult\":{\"type\":\"object\",\"required\":[\"success\",\"count\",\"data\"],"
             "\"properties\":{\"success\":{\"const\":\"True\"},\"count\":{\"type\":\"integer\"},"
             "\"data\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"additionalProperties\":"
             "{\"type\":[\"string\",\"null\"]}}}}},"
             "\"CreateResult\":{\"type\":\"object\",\"required\":[\"success\",\"count\",\"data\"],"
             "\"properties\":{\"success\":{\"const\":\"True\"},\"count\":{\"const\":\"1\"},"
             "\"data\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{"
             "\"insert_id\":{\"type\":\"integer\"}}}}}},"
             "\"CountResult\":{\"type\":\"object\",\"required\":[\"success\",\"count\"],"
             "\"properties\":{\"success\":{\"const\":\"True\"},\"count\":{\"type\":\"integer\"}}}"
             "}}");
}

static void plain_path(struct buf *b, const char *path, const char *summary, const char *ctype)
{
    buf_puts(b, ",");
    str(b, path);
    buf_puts(b, ":{\"get\":{\"summary\":");
    str(b, summary);
    buf_printf(b,
               ",\"security\":[],\"responses\":{\"200\":{\"description\":\"OK\",\"content\":{"
               "\"%s\":{}}}}}}",
               ctype);
}

int openapi_build(void)
{
    struct buf b;
    buf_init(&b, 0);
    buf_puts(&b, "{\"openapi\":\"3.1.0\",\"info\":{\"title\":\"itflowd: ITFlow API v1\","
                 "\"version\":\"1\",\"description\":\"Every endpoint also answers without the "
                 ".php suffix. Success flags are the strings True/False.\"},"
                 "\"servers\":[{\"url\":\"/\"}],"
                 "\"security\":[{\"queryKey\":[]},{\"headerKey\":[]},{\"bearer\":[]}],"
                 "\"paths\":{");
    int first = 1;
    for (size_t i = 0; i < module_count; i++) {
        const struct module *m = module_registry[i];
        for (size_t k = 0; k < m->nendpoints; k++) {
            const struct endpoint *ep = &m->endpoints[k];
            buf_printf(&b,
                       "%s\"/api/v1/%s/%s.php\":{\"%s\":{\"operationId\":\"%s_%s\","
                       "\"tags\":[\"%s\"],",
                       first ? "" : ",", m->name, ep->function, ep->op == OP_READ ? "get" : "post",
                       m->name, ep->function, m->name);
            first = 0;
            if (ep->op == OP_READ)
                read_params(&b, m, ep);
            else {
                buf_puts(&b, "\"parameters\":[{\"name\":\"Idempotency-Key\",\"in\":"
                             "\"header\",\"required\":false,\"schema\":{\"type\":"
                             "\"string\",\"maxLength\":255},\"description\":\"A retry with "
                             "the same key and body within 24 h gets the first answer again "
                             "(Idempotent-Replayed: true) and writes nothing; another body: "
                             "409.\"}],");
                body_schema(&b, m, ep);
            }
            responses(&b, ep);
            buf_puts(&b, "}}");
        }
    }
    if (first)
        buf_puts(&b, "\"/healthz\":{\"get\":{\"responses\":{\"200\":{\"description\":\"OK\"}}}}");
    else
        plain_path(&b, "/healthz", "Store reachable", "application/json");
    plain_path(&b, "/metrics", "Prometheus metrics", "text/plain");
    plain_path(&b, "/api/v1/openapi.json", "This document", "application/json");
    buf_puts(&b, "},");
    components(&b);
    buf_putc(&b, '}');
    if (b.failed) {
        buf_free(&b);
        return -1;
    }
    free(document);
    document = buf_steal(&b, NULL);
    return 0;
}

const char *openapi_document(void)
{
    return document ? document : "";
}

void openapi_free(void)
{
    free(document);
    document = NULL;
}

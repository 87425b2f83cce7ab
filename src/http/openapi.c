/* openapi: walks the registry: one path per endpoint with a summary and a description, its
 * parameters and body from the filters and fields (the filters marked as alternatives), the
 * decrypt-password header where it applies, each module's row typed from the schema tables as the
 * wire has it (every value a string or null: integers and decimals as text, dates, times), the v1
 * envelopes and error answers. */
#include "http/openapi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "custom/custom.h"
#include "modules/registry.h"
#include "json/json_write.h"

static char *document;
static size_t split; /* where the custom scripts' paths are inserted */

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
    case CV_MONEY:
        return "number";
    default:
        return "string";
    }
}

static void param_in(struct buf *b, int *first, const char *in, const char *name, const char *type,
                     const char *desc)
{
    buf_puts(b, *first ? "" : ",");
    *first = 0;
    buf_puts(b, "{\"name\":");
    str(b, name);
    buf_printf(b, ",\"in\":\"%s\",\"required\":false,\"schema\":{\"type\":", in);
    str(b, type);
    buf_puts(b, "},\"description\":");
    str(b, desc);
    buf_putc(b, '}');
}

static void query_param(struct buf *b, int *first, const char *name, const char *type,
                        const char *desc)
{
    param_in(b, first, "query", name, type, desc);
}

static void decrypt_header(struct buf *b, int *first)
{
    param_in(b, first, "header", "X-API-Key-Decrypt-Password", "string",
             "The key's decrypt password: credentials are decrypted with the site master key it "
             "unwraps (the same as the api_key_decrypt_password parameter; never logged).");
}

/* How many filters are alternatives (the others apply beside them: FLT_ALSO). */
static size_t alternatives(const struct module *m)
{
    size_t n = 0;
    for (size_t i = 0; i < m->nfilters; i++)
        n += !(m->filters[i].flags & FLT_ALSO);
    return n;
}

/* "a, b or c" of the alternative filters' parameters, in their order */
static void filter_list(struct buf *b, const struct module *m)
{
    size_t n = alternatives(m), k = 0;
    for (size_t i = 0; i < m->nfilters; i++) {
        if (m->filters[i].flags & FLT_ALSO)
            continue;
        buf_printf(b, "%s%s", k == 0 ? "" : k + 1 == n ? " or " : ", ", m->filters[i].param);
        k++;
    }
}

/* "a, b or c" of an FK_ONE_OF filter's values */
static void value_list(struct buf *b, const struct filter *f)
{
    size_t n = 0;
    while (f->values[n])
        n++;
    for (size_t i = 0; i < n; i++)
        buf_printf(b, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ", f->values[i]);
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
    if (ep->flags & EP_DECRYPT) {
        query_param(b, &first, "api_key_decrypt_password", "string",
                    "The key's decrypt password (or the X-API-Key-Decrypt-Password header).");
        decrypt_header(b, &first);
    }
    struct buf desc;
    buf_init(&desc, 0);
    for (size_t i = 0; i < m->nfilters && !ep->aggregate; i++) {
        const struct filter *f = &m->filters[i];
        buf_reset(&desc);
        if (f->kind == FK_ONE_OF) {
            buf_puts(&desc, "Filter (");
            value_list(&desc, f);
            buf_puts(&desc, ", any case; another value is ignored). ");
        } else {
            buf_printf(&desc, "Filter (%s). ",
                       f->kind == FK_ID || f->kind == FK_INT_TEXT ? "an id, as a number"
                       : f->kind == FK_TEXT                       ? "exact text, any case"
                                            : "text, first letter capitalised");
        }
        if (f->flags & FLT_ALSO) {
            buf_puts(&desc, "Applies beside the other filters.");
        } else {
            buf_puts(&desc, "Alternatives: only the first present of ");
            filter_list(&desc, m);
            buf_puts(&desc, " applies.");
        }
        query_param(b, &first, f->param,
                    f->kind == FK_ID || f->kind == FK_INT_TEXT ? "integer" : "string",
                    desc.failed ? "Filter." : desc.p);
    }
    buf_free(&desc);
    if (m->archived_param && !ep->aggregate)
        query_param(b, &first, m->archived_param, "string",
                    "Archived rows too, when given and not 0, false, no, off or empty.");
    buf_puts(b, "],");
}

static void body_schema(struct buf *b, const struct module *m, const struct endpoint *ep)
{
    if (ep->flags & EP_DECRYPT) {
        int first = 1;
        buf_puts(b, "\"parameters\":[");
        decrypt_header(b, &first);
        buf_puts(b, "],");
    }
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
    if (ep->array) {
        buf_putc(b, ',');
        str(b, ep->array->name);
        buf_puts(b, ":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{");
        for (size_t i = 0; i < ep->array->nfields; i++) {
            const struct field *f = &ep->array->fields[i];
            buf_puts(b, i ? "," : "");
            str(b, f->name);
            buf_puts(b, ":{\"type\":");
            str(b, json_type(f->conv));
            buf_putc(b, '}');
        }
        buf_puts(b, "}}}");
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

static int typed_rows(const struct module *m, const struct endpoint *ep)
{
    return ep->op == OP_READ && !ep->aggregate && m->res && m->res->t;
}

static void responses(struct buf *b, const struct module *m, const struct endpoint *ep)
{
    char ok[160];
    if (typed_rows(m, ep))
        snprintf(ok, sizeof(ok), "#/components/schemas/%s_read_result", m->name);
    else
        snprintf(ok, sizeof(ok), "#/components/schemas/%s",
                 ep->op == OP_READ                                 ? "ReadResult"
                 : ep->op == OP_CREATE || (ep->flags & EP_CREATES) ? "CreateResult"
                                                                   : "CountResult");
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

/* One column's value as a read answers it: a string (numbers as text), or null. */
static void col_schema(struct buf *b, const struct schema_column *c)
{
    int null = !(c->flags & COL_NOT_NULL);
    buf_puts(b, null ? "{\"type\":[\"string\",\"null\"]" : "{\"type\":\"string\"");
    switch (c->type) {
    case COL_INT:
        buf_puts(b, ",\"pattern\":\"^-?[0-9]+$\",\"description\":\"An integer, as text.\"");
        break;
    case COL_DECIMAL:
        if (c->scale)
            buf_printf(b,
                       ",\"pattern\":\"^-?[0-9]+\\\\.[0-9]{%u}$\",\"description\":\"A decimal "
                       "with %u places, as text.\"",
                       (unsigned)c->scale, (unsigned)c->scale);
        else
            buf_puts(b, ",\"pattern\":\"^-?[0-9]+$\",\"description\":\"A decimal, as text.\"");
        break;
    case COL_DATE:
        buf_puts(b, ",\"format\":\"date\",\"description\":\"YYYY-MM-DD\"");
        break;
    case COL_DATETIME:
        buf_puts(b, ",\"pattern\":\"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$\","
                    "\"description\":\"YYYY-MM-DD HH:MM:SS\"");
        break;
    case COL_TIME:
        buf_puts(b,
                 ",\"pattern\":\"^-?[0-9]{2,3}:[0-9]{2}:[0-9]{2}$\",\"description\":\"HH:MM:SS\"");
        break;
    case COL_VARCHAR:
        buf_printf(b, ",\"maxLength\":%u", (unsigned)c->max_len);
        break;
    default:
        break;
    }
    buf_putc(b, '}');
}

static int has_row_read(const struct module *m)
{
    for (size_t k = 0; k < m->nendpoints; k++)
        if (typed_rows(m, &m->endpoints[k]))
            return 1;
    return 0;
}

/* 1 when "table.column" names the module's table or its scope join's (an INNER JOIN) */
static int inner_column(const struct module *m, const char *col)
{
    const char *t[2] = {m->table, m->scope_join ? m->scope_join->table : NULL};
    for (size_t i = 0; i < 2; i++)
        if (t[i] && !strncmp(col, t[i], strlen(t[i])) && col[strlen(t[i])] == '.')
            return 1;
    return 0;
}

/* <module>_row and <module>_read_result of every module with a table read */
static void row_schemas(struct buf *b)
{
    for (size_t i = 0; i < module_count; i++) {
        const struct module *m = module_registry[i];
        if (!has_row_read(m))
            continue;
        const struct schema_table *t = m->res->t, *jt = m->res->jt;
        buf_printf(b,
                   ",\"%s_row\":{\"type\":\"object\",\"description\":\"A row of table %s as "
                   "a read answers it, column for column%s.\",\"properties\":{",
                   m->name, t->name, jt ? " (the joined table's columns follow with a join)" : "");
        for (size_t c = 0; c < t->ncols; c++) {
            buf_puts(b, c ? "," : "");
            str(b, t->cols[c].name);
            buf_putc(b, ':');
            col_schema(b, &t->cols[c]);
        }
        for (size_t c = 0; jt && c < jt->ncols; c++) {
            if (schema_column(t, jt->cols[c].name))
                continue;
            buf_putc(b, ',');
            str(b, jt->cols[c].name);
            buf_putc(b, ':');
            col_schema(b, &jt->cols[c]);
        }
        for (size_t c = 0; c < m->nread_cols; c++) {
            buf_putc(b, ',');
            str(b, m->read_cols[c].key);
            buf_putc(b, ':');
            if (m->res->read_col_types[c]) {
                /* a column of a LEFT JOIN's table may be null whatever its own definition */
                struct schema_column col = *m->res->read_col_types[c];
                if (!inner_column(m, m->read_cols[c].column))
                    col.flags &= ~(unsigned)COL_NOT_NULL;
                col_schema(b, &col);
            } else
                buf_puts(b, "{\"type\":[\"string\",\"null\"]}");
        }
        buf_puts(b, "},\"required\":[");
        for (size_t c = 0; c < t->ncols; c++) {
            buf_puts(b, c ? "," : "");
            str(b, t->cols[c].name);
        }
        buf_printf(b,
                   "]},\"%s_read_result\":{\"type\":\"object\",\"required\":[\"success\","
                   "\"count\",\"data\"],\"properties\":{\"success\":{\"const\":\"True\"},"
                   "\"count\":{\"type\":\"integer\"},\"data\":{\"type\":\"array\",\"items\":{"
                   "\"$ref\":\"#/components/schemas/%s_row\"}}}}",
                   m->name, m->name);
    }
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
             "\"Event\":{\"type\":\"object\",\"required\":[\"seq\",\"type\",\"module\","
             "\"action\",\"id\",\"client_id\",\"time\"],\"properties\":{\"seq\":{\"type\":"
             "\"integer\"},\"type\":{\"type\":\"string\"},\"module\":{\"type\":\"string\"},"
             "\"action\":{\"type\":\"string\"},\"id\":{\"type\":\"integer\"},"
             "\"client_id\":{\"type\":[\"integer\",\"null\"]},\"time\":{\"type\":"
             "\"string\",\"format\":\"date-time\"}}},"
             "\"CountResult\":{\"type\":\"object\",\"required\":[\"success\",\"count\"],"
             "\"properties\":{\"success\":{\"const\":\"True\"},\"count\":{\"type\":\"integer\"}}}");
    row_schemas(b);
    buf_puts(b, "}}");
}

/* "Archive" from "archive" */
static void capitalised(struct buf *b, const char *s)
{
    char first[2] = {s[0] >= 'a' && s[0] <= 'z' ? (char)(s[0] - 'a' + 'A') : s[0], 0};
    buf_puts(b, first);
    buf_puts(b, s[0] ? s + 1 : "");
}

/* "summary":...,"description":..., of an operation */
static void describe(struct buf *b, const struct module *m, const struct endpoint *ep)
{
    struct buf t;
    buf_init(&t, 0);
    int scoped = module_client_scoped(m) && !(m->flags & MOD_ALL_CLIENTS_ONLY);
    if (ep->aggregate)
        buf_printf(&t, "Report %s/%s", m->name, ep->function);
    else if (ep->op == OP_READ)
        buf_printf(&t, "List or find %s", m->name);
    else if (ep->op == OP_CREATE)
        buf_printf(&t, "Create a row of %s", m->name);
    else {
        capitalised(&t, ep->function);
        buf_printf(&t, " a row of %s", m->name);
    }
    buf_puts(b, "\"summary\":");
    str(b, t.failed ? "" : t.p);
    buf_reset(&t);
    if (ep->op == OP_READ) {
        buf_puts(&t, "GET. ");
        if (ep->aggregate)
            buf_puts(&t, "Rows of a report over joined tables (every value a string).");
        else {
            buf_puts(&t, "Without a filter: the list, paged with limit and offset (X-Total-Count "
                         "and a Link header give the total and the next page). ");
            if (alternatives(m) > 1) {
                buf_puts(&t, "The filters ");
                filter_list(&t, m);
                buf_puts(&t, " are alternatives: only the first one present applies. ");
            } else if (alternatives(m)) {
                buf_puts(&t, "Filter: ");
                filter_list(&t, m);
                buf_puts(&t, ". ");
            }
            for (size_t i = 0; i < m->nfilters; i++)
                if (m->filters[i].flags & FLT_ALSO)
                    buf_printf(&t, "The filter %s applies beside them. ", m->filters[i].param);
            if (m->archived_param)
                buf_printf(&t, "Archived rows only with %s. ", m->archived_param);
            if (m->filter_required)
                buf_puts(&t, "A filter is required. ");
            buf_puts(&t, "No row matches: the ordinary \"False\" answer.");
        }
    } else {
        buf_puts(&t, "POST with a JSON object body. ");
        if (ep->id_param)
            buf_printf(&t, "The row is named by %s. ", ep->id_param);
        buf_puts(&t, "Nothing done (a required field missing, a duplicate, no such row): the "
                     "reference's generic \"False\" text, and its real reason in the server's "
                     "log at warning level.");
    }
    if (ep->flags & EP_DECRYPT)
        buf_puts(&t, " Credentials need the key's decrypt password (api_key_decrypt_password or "
                     "the X-API-Key-Decrypt-Password header).");
    if (m->flags & MOD_ALL_CLIENTS_ONLY)
        buf_puts(&t, " Only keys for all clients (others: 403).");
    else if (scoped)
        buf_puts(&t, " A key for one client sees and writes only that client's rows.");
    buf_puts(b, ",\"description\":");
    str(b, t.failed ? "" : t.p);
    buf_putc(b, ',');
    buf_free(&t);
}

static void plain_path(struct buf *b, const char *path, const char *summary, const char *ctype)
{
    buf_puts(b, ",");
    str(b, path);
    buf_puts(b, ":{\"get\":{\"summary\":");
    str(b, summary);
    buf_puts(b, ",\"description\":");
    str(b, "No key needed. HEAD answers the same without a body.");
    buf_printf(b,
               ",\"security\":[],\"responses\":{\"200\":{\"description\":\"OK\",\"content\":{"
               "\"%s\":{}}}}}}",
               ctype);
}

/* GET /api/v1/events (http/events.c, engine/events.c) */
static void events_path(struct buf *b)
{
    buf_puts(b, ",\"/api/v1/events\":{\"get\":{\"operationId\":\"events_read\",\"tags\":["
                "\"events\"],\"summary\":\"The writes' events after a sequence number\","
                "\"description\":");
    str(b, "Every write that changed a row appended one event in its transaction: type "
           "module.function (tickets.create, clients.archive, ...), the row's id, its client "
           "(null for modules without one), the time (UTC), and seq, which grows in commit "
           "order. Scoped by the key exactly like reads: a key for one client sees only that "
           "client's events and none of modules it may not read. Ask again with "
           "after=next_after: events the key may not see are passed over. With wait=N the "
           "request waits up to N seconds for an event (long-poll). With Accept: "
           "text/event-stream the answer is a stream of frames (id: seq, event: type, data: "
           "the event's JSON), kept open with comment lines; an EventSource reconnecting "
           "sends Last-Event-ID.");
    buf_puts(b, ",\"parameters\":[");
    int first = 1;
    query_param(b, &first, "after", "integer",
                "Events with a greater sequence number (default 0: every event kept).");
    query_param(b, &first, "limit", "integer",
                "At most this many events, 1 to 1000 (default 100).");
    query_param(b, &first, "wait", "integer",
                "Seconds (0 to 300) to wait for an event when there is none yet (default 0).");
    query_param(b, &first, "types", "string",
                "Comma-separated event types or patterns: tickets.create, tickets.*, *.delete.");
    query_param(b, &first, "client_id", "integer",
                "Keys for all clients: only this client's events.");
    param_in(b, &first, "header", "Last-Event-ID", "integer",
             "Event streams: the last sequence number received (instead of after).");
    buf_puts(b, "],\"responses\":{\"200\":{\"description\":\"The events\",\"content\":{"
                "\"application/json\":{\"schema\":{\"type\":\"object\",\"required\":["
                "\"success\",\"count\",\"data\",\"next_after\"],\"properties\":{"
                "\"success\":{\"const\":\"True\"},\"count\":{\"type\":\"integer\"},"
                "\"data\":{\"type\":\"array\",\"items\":{\"$ref\":"
                "\"#/components/schemas/Event\"}},\"next_after\":{\"type\":\"integer\"}}}},"
                "\"text/event-stream\":{}}},"
                "\"400\":{\"description\":\"A bad parameter, named\"},"
                "\"401\":{\"description\":\"No key, or not a valid one\"},"
                "\"403\":{\"description\":\"The key may not be used from this address, or "
                "its user is not active\"},\"405\":{\"description\":\"Not GET\"}}}}");
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
            describe(&b, m, ep);
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
            responses(&b, m, ep);
            buf_puts(&b, "}}");
        }
    }
    if (first)
        buf_puts(&b, "\"/healthz\":{\"get\":{\"responses\":{\"200\":{\"description\":\"OK\"}}}}");
    else
        plain_path(&b, "/healthz", "Store reachable", "application/json");
    events_path(&b);
    size_t at = b.len; /* the custom scripts' paths go here when the document is served */
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
    split = at;
    return 0;
}

void openapi_write(struct buf *out)
{
    if (!document)
        return;
    buf_append(out, document, split);
    custom_openapi_paths(out);
    buf_puts(out, document + split);
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

/* req: request input parsing with PHP's rules: the query string ($_GET) and the JSON body. */
#include "req/req.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hex.h"
#include "core/membudget.h"

/* urldecode(): '+' -> ' ', %XX -> byte; a malformed % sequence is kept as is. */
static char *url_decode(const char *s, size_t n, size_t *ret_len)
{
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';
        } else if (s[i] == '%' && i + 2 < n && hex_digit((unsigned char)s[i + 1]) >= 0 &&
                   hex_digit((unsigned char)s[i + 2]) >= 0) {
            out[o++] = (char)(hex_digit((unsigned char)s[i + 1]) * 16 +
                              hex_digit((unsigned char)s[i + 2]));
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = 0;
    *ret_len = o;
    return out;
}

/* PHP's variable-name mangling: leading spaces dropped; a "[...]" suffix makes an array named
 * by what precedes it; ' ' and '.' become '_', and so does a '[' that is never closed (with every
 * ' ', '.' or '[' after it). Returns -1 for a name PHP drops (empty, or starting with '['). */
static int mangle_name(char *name, int *ret_is_array)
{
    char *src = name;
    while (*src == ' ')
        src++;
    memmove(name, src, strlen(src) + 1);
    *ret_is_array = 0;
    if (name[0] == 0 || name[0] == '[')
        return -1;
    char *br = strchr(name, '[');
    if (br && strchr(br, ']')) {
        *br = 0;
        *ret_is_array = 1;
        br = NULL;
    }
    for (char *p = name; *p; p++)
        if (*p == ' ' || *p == '.' || (br && p >= br && *p == '['))
            *p = '_';
    return 0;
}

static void add_param(struct req *r, const char *s, size_t n)
{
    const char *eq = memchr(s, '=', n);
    size_t nlen = eq ? (size_t)(eq - s) : n;
    size_t dn, dv;
    char *name = url_decode(s, nlen, &dn);
    char *val = eq ? url_decode(eq + 1, n - nlen - 1, &dv) : url_decode("", 0, &dv);
    if (!name || !val) {
        r->oom = 1; /* a parameter lost: the request must not run without it */
        goto drop;
    }
    int is_array;
    if (mangle_name(name, &is_array) != 0)
        goto drop;
    /* the last duplicate wins: replace an earlier one in place */
    for (size_t i = 0; i < r->nparams; i++) {
        if (strcmp(r->params[i].name, name) == 0) {
            free(r->params[i].name);
            free(r->params[i].val);
            r->params[i] = (struct param){name, val, dv, is_array};
            return;
        }
    }
    if (r->nparams == REQ_MAX_PARAMS) {
        r->params_overflow = 1;
        goto drop;
    }
    r->params[r->nparams++] = (struct param){name, val, dv, is_array};
    return;
drop:
    free(name);
    free(val);
}

void req_parse_query(struct req *r, const char *q, size_t n)
{
    size_t start = 0;
    if (!q)
        return;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || q[i] == '&') {
            if (i > start)
                add_param(r, q + start, i - start);
            start = i + 1;
        }
    }
}

const struct param *req_param(const struct req *r, const char *name)
{
    for (size_t i = 0; i < r->nparams; i++)
        if (strcmp(r->params[i].name, name) == 0)
            return &r->params[i];
    return NULL;
}

static int all_space(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return 0;
    return 1;
}

/* Nesting depth of v (a scalar is 0), stopping once it reaches REQ_MAX_JSON_DEPTH. */
static int json_depth(json_t *v, int level)
{
    if (level >= REQ_MAX_JSON_DEPTH || (!json_is_object(v) && !json_is_array(v)))
        return level;
    int max = level + 1;
    if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
        {
            int d = json_depth(x, level + 1);
            if (d > max)
                max = d;
            if (max >= REQ_MAX_JSON_DEPTH)
                break;
        }
    } else {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x)
        {
            int d = json_depth(x, level + 1);
            if (d > max)
                max = d;
            if (max >= REQ_MAX_JSON_DEPTH)
                break;
        }
    }
    return max;
}

size_t req_json_values(const char *data, size_t n)
{
    /* values = containers + strings + scalars - object keys (one ':' each) */
    size_t starts = 0, colons = 0;
    char prev = 0; /* the last structural character outside strings */
    for (size_t i = 0; i < n; i++) {
        char c = data[i];
        switch (c) {
        case '"':
            starts++;
            for (i++; i < n && data[i] != '"'; i++)
                if (data[i] == '\\')
                    i++;
            prev = '"';
            break;
        case '{':
        case '[':
        case ',':
            starts += c != ',';
            prev = c;
            break;
        case ':':
            colons++;
            prev = c;
            break;
        case '}':
        case ']':
            prev = c;
            break;
        case ' ':
        case '\t':
        case '\r':
        case '\n':
            break;
        default: /* a number or literal starts after '[', ',', ':' or at the top */
            if (prev == 0 || prev == '[' || prev == ',' || prev == ':')
                starts++;
            prev = 'x';
            break;
        }
    }
    return starts > colons ? starts - colons : 0;
}

size_t req_parse_budget(size_t n, size_t values)
{
    /* The parser keeps the longest token in a growing buffer (up to twice its size) besides the
     * decoded strings and keys (at most the body's size), and its value nodes: 66 to 380 bytes
     * each measured (an empty object as an object member costs the most), 512 allowed. */
    return 3 * n + values * 512 + (1u << 20);
}

void req_parse_body(struct req *r, const char *data, size_t n)
{
    r->body = NULL;
    if (!data || all_space(data, n)) {
        r->body_state = BODY_NONE;
        return;
    }
    size_t values = req_json_values(data, n);
    if (values > REQ_MAX_JSON_VALUES) {
        r->body_state = BODY_INVALID;
        snprintf(r->body_error, sizeof(r->body_error), "too many JSON values (more than %d)",
                 REQ_MAX_JSON_VALUES);
        return;
    }
    json_error_t err;
    struct mem_scope scope;
    size_t budget = req_parse_budget(n, values);
    mem_scope_open(&scope, budget, &r->body_mem);
    json_t *v = json_loadb(data, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    mem_scope_close(&scope);
    /* jansson reports some allocation failures as syntax errors (or with no message): the scope
     * says whether the system refused one (not our budget) */
    if (scope.out_of_memory || (!v && json_error_code(&err) == json_error_out_of_memory &&
                                !scope.over_limit && !scope.over_global)) {
        if (v)
            json_decref(v);
        membudget_release(&r->body_mem);
        r->body_state = BODY_NOMEM;
        r->oom = 1;
        snprintf(r->error, sizeof(r->error), "out of memory while parsing the body");
        return;
    }
    if (!v) {
        r->body_state = scope.over_global ? BODY_BUSY : BODY_INVALID;
        if (scope.over_limit)
            snprintf(r->body_error, sizeof(r->body_error),
                     "too large to parse (more than %zu MiB of memory)", budget >> 20);
        else if (scope.over_global)
            snprintf(r->body_error, sizeof(r->body_error),
                     "the server is parsing too many bodies at once");
        else
            snprintf(r->body_error, sizeof(r->body_error), "%.160s (at byte %d)", err.text,
                     err.position);
        membudget_release(&r->body_mem);
        return;
    }
    if (json_depth(v, 0) >= REQ_MAX_JSON_DEPTH) {
        r->body_state = BODY_INVALID;
        snprintf(r->body_error, sizeof(r->body_error), "nested deeper than %d levels",
                 REQ_MAX_JSON_DEPTH - 1);
        json_decref(v);
        membudget_release(&r->body_mem);
        return;
    }
    if (!json_is_object(v)) {
        r->body_state = BODY_INVALID;
        snprintf(r->body_error, sizeof(r->body_error), "the top-level value is %s, not an object",
                 json_is_array(v) ? "an array" : "a scalar");
        json_decref(v);
        membudget_release(&r->body_mem);
        return;
    }
    r->body = v;
    r->body_state = BODY_OBJECT;
}

void req_free(struct req *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nparams; i++) {
        free(r->params[i].name);
        free(r->params[i].val);
    }
    r->nparams = 0;
    if (r->body)
        json_decref(r->body);
    r->body = NULL;
    membudget_release(&r->body_mem);
    free(r->path);
    r->path = NULL;
    buf_free(&r->out);
    arena_free(&r->arena);
    buf_free(&r->link);
}

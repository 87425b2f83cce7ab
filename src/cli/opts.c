/* opts: the table-driven command-line parser, checker and help printer. */
#include "cli/opts.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const char *opts_hint = "itflowd --help";

int cli_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("itflowd: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

static void *field(void *base, const struct opt *o)
{
    return (char *)base + o->off;
}

static int takes_value(const struct opt *o)
{
    return o->kind != OPT_FLAG;
}

/* A repeatable address or network (with "none" where allowed: no address at all). */
static int add_cidr(struct cidr_opt *c, const struct opt *o, const char *v)
{
    if (!v)
        return cli_fail("%s needs a value.", o->flag);
    if (o->flags & OPT_ALLOW_NONE) {
        c->given = 1;
        if (strcmp(v, "none") == 0) {
            c->none = 1;
            return c->list.n ? cli_fail("%s none excludes every other value.", o->flag) : 0;
        }
        if (c->none)
            return cli_fail("%s none excludes every other value.", o->flag);
    }
    c->given = 1;
    if (c->list.n >= CIDR_LIST_MAX)
        return cli_fail("%s may be given at most %d times.", o->flag, CIDR_LIST_MAX);
    if (cidr_list_add(&c->list, v) != 0)
        return cli_fail("%s needs an IP address or network (e.g. 10.0.0.0/8 or 2001:db8::/32) "
                        "with no host bits set, not %s.",
                        o->flag, v);
    return 0;
}

int opts_parse(struct opt_set *sets, size_t nsets, int argc, char **argv, const char **positional)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int matched = 0, valued = 0;
        for (size_t s = 0; s < nsets; s++) {
            for (size_t k = 0; k < sets[s].n; k++) {
                const struct opt *o = &sets[s].opts[k];
                if (strcmp(a, o->flag) != 0)
                    continue;
                matched = 1;
                if (!takes_value(o)) {
                    *(int *)field(sets[s].base, o) = 1;
                    continue;
                }
                valued = 1;
                const char *v = i + 1 < argc ? argv[i + 1] : NULL;
                if (o->kind == OPT_CIDR) {
                    if (add_cidr(field(sets[s].base, o), o, v))
                        return 2;
                    continue;
                }
                if (!v)
                    return cli_fail("%s needs a value.", a), 2;
                if (o->kind == OPT_LIST) {
                    struct text_list *l = field(sets[s].base, o);
                    if (l->n == TEXT_LIST_MAX)
                        return cli_fail("%s may be given at most %d times.", a, TEXT_LIST_MAX), 2;
                    l->v[l->n++] = v;
                    continue;
                }
                if (o->kind == OPT_STRING)
                    *(const char **)field(sets[s].base, o) = v;
                else
                    sets[s].given[k] = v;
            }
        }
        if (matched) {
            i += valued;
            continue;
        }
        if (a[0] == '-' || *positional)
            return cli_fail("unknown argument %s (see %s).", a, opts_hint), 2;
        *positional = a;
    }
    return 0;
}

static int is_number(const struct opt *o)
{
    return o->kind == OPT_NUMBER || o->kind == OPT_BYTES || o->kind == OPT_SECONDS;
}

long opts_default(const struct opt *o, long ncpu)
{
    if (!(o->flags & OPT_DFLT_CPUS))
        return o->dflt;
    return ncpu < o->lo ? o->lo : ncpu > o->hi ? o->hi : ncpu;
}

int opts_number(const struct opt *o, const char *text, long *out)
{
    char *end = NULL;
    long v = strtol(text, &end, 10);
    if (*end || !text[0] || v < o->lo || v > o->hi)
        return -1;
    *out = v;
    return 0;
}

static void store_number(void *p, size_t size, long v)
{
    if (size == sizeof(size_t))
        *(size_t *)p = (size_t)v;
    else
        *(unsigned *)p = (unsigned)v;
}

/* "a, b or c" */
static void choices_text(const struct opt *o, char *out, size_t outlen)
{
    size_t n = 0, len = 0;
    while (o->choices[n])
        n++;
    out[0] = 0;
    for (size_t i = 0; i < n && len < outlen; i++) {
        const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
        int w = snprintf(out + len, outlen - len, "%s%s", sep, o->choices[i]);
        if (w < 0)
            break;
        len += (size_t)w;
    }
}

int opts_apply(const struct opt_set *set, long ncpu)
{
    for (size_t k = 0; k < set->n; k++) {
        const struct opt *o = &set->opts[k];
        const char *given = set->given[k];
        if (is_number(o)) {
            long v = 0;
            if (given ? opts_number(o, given, &v) != 0 : 0)
                return cli_fail("%s must be a number from %ld to %ld.", o->flag, o->lo, o->hi), 2;
            if (!given && !(o->flags & OPT_DFLT_DERIVED))
                v = opts_default(o, ncpu);
            store_number(field(set->base, o), o->size, v);
        } else if (o->kind == OPT_ENUM) {
            int idx = 0;
            if (given) {
                while (o->choices[idx] && strcmp(o->choices[idx], given) != 0)
                    idx++;
                if (!o->choices[idx]) {
                    char list[256];
                    choices_text(o, list, sizeof(list));
                    return cli_fail("%s must be %s, not %s.", o->flag, list, given), 2;
                }
            }
            *(int *)field(set->base, o) = idx;
        }
    }
    return 0;
}

/* 16777216 -> "16 MiB" (whole units only); empty when not a whole unit. */
static void bytes_text(long v, char *out, size_t outlen)
{
    static const char *const unit[] = {"TiB", "GiB", "MiB", "KiB"};
    out[0] = 0;
    for (int i = 0; i < 4; i++) {
        long u = 1L << (10 * (4 - i));
        if (v >= u && v % u == 0) {
            snprintf(out, outlen, " (%ld %s)", v / u, unit[i]);
            return;
        }
    }
}

static void value_text(const struct opt *o, long v, char *out, size_t outlen)
{
    char human[32] = "";
    if (o->kind == OPT_BYTES)
        bytes_text(v, human, sizeof(human));
    snprintf(out, outlen, "%ld%s", v, human);
}

void opts_help(FILE *f, const struct opt *opts, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        const struct opt *o = &opts[k];
        char head[64], dflt[128], range[128] = "";
        snprintf(head, sizeof(head), "%s%s%s", o->flag, o->arg ? " " : "", o->arg ? o->arg : "");
        if (is_number(o)) {
            char lo[48], hi[48], dv[48];
            value_text(o, o->lo, lo, sizeof(lo));
            value_text(o, o->hi, hi, sizeof(hi));
            value_text(o, o->dflt, dv, sizeof(dv));
            snprintf(range, sizeof(range), "; %s to %s", lo, hi);
            if (o->flags & OPT_DFLT_CPUS)
                snprintf(dflt, sizeof(dflt), "default: the number of CPUs");
            else if (o->dflt_text)
                snprintf(dflt, sizeof(dflt), "default: %s", o->dflt_text);
            else
                snprintf(dflt, sizeof(dflt), "default: %s", dv);
        } else if (o->kind == OPT_ENUM) {
            char list[96];
            choices_text(o, list, sizeof(list));
            snprintf(dflt, sizeof(dflt), "default: %s", o->choices[0]);
            snprintf(range, sizeof(range), "; %s", list);
        } else if (o->kind == OPT_FLAG) {
            snprintf(dflt, sizeof(dflt), "default: off");
        } else if (o->flags & OPT_REQUIRED) {
            snprintf(dflt, sizeof(dflt), "required");
        } else {
            snprintf(dflt, sizeof(dflt), "default: %s", o->dflt_text ? o->dflt_text : "none");
        }
        fprintf(f, "  %-30s %s\n  %-30s (%s%s)\n", head, o->help, "", dflt, range);
    }
}

void opts_synopsis(FILE *f, const struct opt *opts, size_t n, int start, int indent, int width)
{
    int col = start;
    for (size_t k = 0; k < n; k++) {
        const struct opt *o = &opts[k];
        char item[96];
        const char *rep = o->kind == OPT_CIDR || o->kind == OPT_LIST ? "..." : "";
        int req = (o->flags & OPT_REQUIRED) != 0;
        snprintf(item, sizeof(item), "%s%s%s%s%s%s", req ? "" : "[", o->flag, o->arg ? " " : "",
                 o->arg ? o->arg : "", req ? "" : "]", rep);
        int len = (int)strlen(item);
        if (k > 0 && col + 1 + len > width) {
            fprintf(f, "\n%*s", indent, "");
            col = indent;
        } else if (k > 0) {
            fputc(' ', f);
            col++;
        }
        fputs(item, f);
        col += len;
    }
    fputc('\n', f);
}

/* opts: command-line options described by a table (flag, kind, where it is stored, default, range,
 * help). One table per command parses, checks, prints the help and documents the defaults. */
#ifndef ITFLOWD_CLI_OPTS_H
#define ITFLOWD_CLI_OPTS_H

#include <stddef.h>
#include <stdio.h>

#include "core/textlist.h"
#include "http/netaddr.h"

enum opt_kind {
    OPT_NUMBER,  /* a count; unsigned or size_t field (see size) */
    OPT_BYTES,   /* a number of bytes */
    OPT_SECONDS, /* a number of seconds */
    OPT_FLAG,    /* no value; int field set to 1 */
    OPT_STRING,  /* const char * field, the argument as given (NULL when absent) */
    OPT_CIDR,    /* repeatable address or network; struct cidr_opt field */
    OPT_ENUM,    /* one of choices[]; int field, the choice's index */
    OPT_LIST,    /* repeatable text; struct text_list field (core/textlist.h) */
};

/* A repeatable CIDR option's value. */
struct cidr_opt {
    struct cidr_list list;
    int given; /* the flag appeared */
    int none;  /* "none" was given (only where allowed) */
};

#define OPT_DFLT_CPUS 1    /* the default is the number of CPUs, clamped into the range */
#define OPT_DFLT_DERIVED 2 /* the default is computed from other options (dflt_text says how) */
#define OPT_ALLOW_NONE 4   /* OPT_CIDR: "none" (excluding any address) is accepted */
#define OPT_REQUIRED 8     /* the command needs it (checked by the command) */

struct opt {
    const char *flag;
    enum opt_kind kind;
    size_t off;  /* offsetof the field in the command's options struct */
    size_t size; /* sizeof the field (numbers: unsigned or size_t) */
    long dflt, lo, hi;
    unsigned flags;             /* OPT_DFLT_* / OPT_ALLOW_NONE */
    const char *arg;            /* the value's name in the help (N, BYTES, SEC, FILE...) */
    const char *dflt_text;      /* a default written out (strings, derived numbers) */
    const char *const *choices; /* OPT_ENUM: NULL-terminated, the first is the default */
    const char *help;
};

/* A command's table and where its values go. given[] (one per option) holds the raw number and
 * enum values until opts_apply converts them. */
struct opt_set {
    const struct opt *opts;
    size_t n;
    void *base;
    const char **given;
};

/* Parses argv (after the command) against the sets: a flag known to several sets is stored in
 * each; one positional argument is allowed (stored in *positional). Strings, flags and CIDR
 * lists are stored now; numbers and enums in opts_apply. Prints the error and returns 2 on a
 * bad argument, 0 when all were understood. An unknown argument's message points at opts_hint
 * (default "itflowd --help"; main sets the command's). */
int opts_parse(struct opt_set *sets, size_t nsets, int argc, char **argv, const char **positional);

/* Stores every number and enum option of the set: the given value, or the default (the CPU count
 * ncpu clamped into the range for OPT_DFLT_CPUS; derived defaults are left 0 for the command).
 * Prints the error and returns 2 for a number out of range or not a number, or an enum value
 * that is not a choice; 0 when all are valid. */
int opts_apply(const struct opt_set *set, long ncpu);

/* The default of a number option (OPT_DFLT_CPUS: ncpu clamped into the range). */
long opts_default(const struct opt *o, long ncpu);

/* Checks one number option's text: 0 and *out set, or -1 (not a number, or out of range). */
int opts_number(const struct opt *o, const char *text, long *out);

/* One line per option: flag, value name, default and range, help text. */
void opts_help(FILE *f, const struct opt *opts, size_t n);

/* The synopsis of the options ("[--flag ARG]" each) from column start, wrapped at width onto lines
 * of indent spaces. */
void opts_synopsis(FILE *f, const struct opt *opts, size_t n, int start, int indent, int width);

/* Where an unknown argument's message sends the reader ("itflowd --help" unless main sets it). */
extern const char *opts_hint;

/* Prints "itflowd: " and the message on stderr; returns 1. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

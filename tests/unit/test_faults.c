/* test_faults: allocation failures during a write. malloc/calloc/realloc are interposed; the Nth
 * call counted from the start of the request's engine work (conversions, the arena, statements,
 * the group commit, SQLite and OpenSSL inside them) fails, for N = 1, 2, ...
 * until a run no longer reaches N. Every run must end either in the normal success with the
 * database exactly as after a successful write, or in a 5xx JSON error with the database exactly
 * unchanged: never a crash, a 4xx, or a "success" with something missing. (The body is parsed
 * before the count starts: see run().)
 * Sanitizer builds bring their own allocator, which this interposition would replace: there the
 * sweep is skipped (the plain build runs it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <sqlite3.h>

#include "modules/registry.h"
#include "db/db.h"
#include "engine/engine.h"
#include "engine/engine_int.h"
#include "engine/module.h"
#include "req/req.h"
#include "router/router.h"
#include "testfiles.h"

#define SEED_PATH SOURCE_DIR "/../shared/conformance/seed.sql"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define NO_INJECTION 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) ||                         \
    __has_feature(memory_sanitizer)
#define NO_INJECTION 1
#endif
#endif

/* ---- the failing allocator ---- */

static int armed;             /* count calls only while a request runs */
static unsigned long calls;   /* allocation calls since arming */
static unsigned long fail_at; /* the call that fails (0: none) */
static int hit;               /* the failing call was reached */

#ifndef NO_INJECTION
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);

static int fail_now(void)
{
    if (!armed)
        return 0;
    if (++calls == fail_at) {
        hit = 1;
        return 1;
    }
    return 0;
}

void *malloc(size_t n)
{
    return fail_now() ? NULL : __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
    return fail_now() ? NULL : __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
    return fail_now() ? NULL : __libc_realloc(p, n);
}

void free(void *p)
{
    __libc_free(p);
}
#endif

/* ---- databases ---- */

struct fixture {
    char dir[64];
    char base[96]; /* schema + seed, never written by a request */
    char work[96]; /* a fresh copy for every run */
};

static void copy_file(const char *from, const char *to)
{
    size_t n = 0;
    char *data = test_read_file(from, &n);
    assert_non_null(data);
    test_remove_db_files(to);
    FILE *f = fopen(to, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
    free(data);
}

static int setup(void **state)
{
    static struct fixture fx;
    char err[256];
    if (module_registry_init(err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    snprintf(fx.dir, sizeof(fx.dir), "/tmp/itflowd_test_faults.XXXXXX");
    if (!mkdtemp(fx.dir))
        return -1;
    snprintf(fx.base, sizeof(fx.base), "%s/base.db", fx.dir);
    snprintf(fx.work, sizeof(fx.work), "%s/work.db", fx.dir);
    char *seed = test_read_file(SEED_PATH, NULL);
    if (!seed) {
        *state = NULL; /* the tests skip */
        return 0;
    }
    struct db *db = NULL;
    int ok = db_open_create(fx.base, &db) == DB_OK && db_create_schema(db) == DB_OK &&
             engine_own_tables(db) == DB_OK && db_exec(db, seed) == DB_OK &&
             db_exec(db, "PRAGMA journal_mode=DELETE") == DB_OK;
    if (!ok)
        fprintf(stderr, "base database: %s\n", db ? db_errmsg(db) : "cannot open");
    db_close(db);
    free(seed);
    *state = &fx;
    return ok ? 0 : -1;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    if (fx) {
        test_remove_db_files(fx->base);
        test_remove_db_files(fx->work);
        rmdir(fx->dir);
    }
    return 0;
}

/* Every row of the tables a write may touch, as text; timestamps (columns named *_at) and the
 * random ticket URL key left out, so that two successful runs give the same text. */
static char *dump(const char *path)
{
    static const char *const tables[] = {"clients", "contacts", "tickets", "logs", "settings"};
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    struct buf out;
    buf_init(&out, 0);
    for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
        char sql[256];
        snprintf(sql, sizeof(sql), "SELECT * FROM %s ORDER BY rowid", tables[t]);
        sqlite3_stmt *st = NULL;
        assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
        buf_printf(&out, "[%s]\n", tables[t]);
        while (sqlite3_step(st) == SQLITE_ROW) {
            for (int i = 0; i < sqlite3_column_count(st); i++) {
                const char *name = sqlite3_column_name(st, i);
                size_t nl = strlen(name);
                if ((nl > 3 && strcmp(name + nl - 3, "_at") == 0) ||
                    strcmp(name, "ticket_url_key") == 0)
                    continue;
                const unsigned char *v = sqlite3_column_text(st, i);
                buf_printf(&out, "%s=%s|", name, v ? (const char *)v : "NULL");
            }
            buf_putc(&out, '\n');
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(h);
    assert_false(out.failed);
    return buf_steal(&out, NULL);
}

/* ---- one request ---- */

struct scenario {
    const char *path;
    const char *body;
};

struct outcome {
    int status;
    char *answer; /* the body text */
    char error[200];
};

/* Runs one request on a fresh copy of the database, the allocator failing call fail_at (0: none).
 * grouped = 1: through the group commit (SQLite's path in the server); 0: on the request's own
 * connection (write_once). */
static void run(const struct fixture *fx, const struct scenario *sc, int grouped, unsigned long nth,
                struct outcome *o)
{
    copy_file(fx->base, fx->work);
    struct db_pool *pool = NULL;
    assert_int_equal(db_pool_new(fx->work, 4, &pool), DB_OK);
    struct req *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    /* as the server sets a request up */
    buf_init(&r->out, 0);
    buf_reserve(&r->out, 4096);
    buf_init(&r->link, 0);
    arena_init(&r->arena, 64u << 20);
    r->method = METHOD_POST;
    r->method_name = "POST";
    snprintf(r->ip, sizeof(r->ip), "127.0.0.1");
    struct route route;
    route_match(sc->path, &route);
    assert_int_equal(route.kind, ROUTE_API);
    assert_non_null(route.ep);
    r->mod = route.mod;
    r->ep = route.ep;
    r->pool = grouped ? pool : NULL;
    assert_int_equal(db_pool_get(pool, &r->db), DB_OK);
    /* the key auth_request() would find: seed key 2, client 1 */
    r->key.id = 2;
    r->key.client_id = 1;
    snprintf(r->key.name_html, sizeof(r->key.name_html), "oracle-client-1-acme");

    /* The body is parsed before the count starts: jansson 2.14's lexer ignores a failed
     * allocation of its token buffer and then stops at an assert(0) (load.c, lex_scan_string).
     * The allocation failures it does report reach req_parse_body as BODY_NOMEM (a 500). */
    req_parse_body(r, sc->body, strlen(sc->body));
    calls = 0;
    hit = 0;
    fail_at = nth;
    armed = 1;
    if (r->oom) { /* what the server answers (server.c handle()) */
        reply_server_error(r, DB_ERROR);
    } else {
        if (r->body_state != BODY_OBJECT)
            fail_msg("N=%lu: body: %s", nth, r->body_error);
        engine_handle(r);
    }
    armed = 0;

    if (r->out.failed) /* the server answers 500 for an output it could not build */
        reply_server_error(r, DB_ERROR);
    o->status = r->status;
    o->answer = strdup(r->out.p ? r->out.p : "");
    snprintf(o->error, sizeof(o->error), "%s", r->error);
    assert_non_null(o->answer);
    db_pool_put(pool, r->db, 0);
    r->db = NULL;
    req_free(r);
    free(r);
    db_pool_free(pool);
}

static void sweep(void **state, const struct scenario *sc, int grouped)
{
    const struct fixture *fx = *state;
    if (!fx) {
        print_message("skipped: conformance seed %s not found\n", SEED_PATH);
        skip();
    }
#ifdef NO_INJECTION
    print_message("skipped: a sanitizer replaces malloc, the fault injection needs it (the "
                  "build without sanitizers runs this test)\n");
    skip();
#endif
    char *before = dump(fx->base);
    struct outcome ok;
    run(fx, sc, grouped, 0, &ok);
    assert_int_equal(ok.status, 200);
    assert_non_null(strstr(ok.answer, "\"success\":\"True\""));
    char *after = dump(fx->work);
    assert_string_not_equal(before, after);

    unsigned long n;
    int failures = 0, successes = 0;
    for (n = 1; n < 100000; n++) {
        struct outcome o;
        if (getenv("FAULTS_VERBOSE"))
            fprintf(stderr, "N=%lu\n", n);
        run(fx, sc, grouped, n, &o);
        char *now = dump(fx->work);
        if (o.status == 200) {
            if (strcmp(o.answer, ok.answer) != 0 || strcmp(now, after) != 0)
                fail_msg("N=%lu: a success that differs: %s", n, o.answer);
            successes++;
        } else {
            if (o.status < 500 || o.status > 503)
                fail_msg("N=%lu: status %d: %s", n, o.status, o.answer);
            if (strncmp(o.answer, "{\"success\":\"False\",\"message\":", 29) != 0)
                fail_msg("N=%lu: not a JSON error: %s", n, o.answer);
            if (strcmp(now, before) != 0)
                fail_msg("N=%lu: status %d (%s) but the database changed:\n%s", n, o.status,
                         o.error, now);
            if (!o.error[0])
                fail_msg("N=%lu: a 5xx with no reason", n);
            failures++;
        }
        free(now);
        free(o.answer);
        if (!hit) /* the request needs fewer than n allocations: every one has failed once */
            break;
    }
    print_message("%s %s: %lu allocation calls, %d failures answered 5xx, %d still succeeded\n",
                  sc->path, grouped ? "(group commit)" : "(own connection)", n - 1, failures,
                  successes);
    assert_true(n > 10);
    assert_true(failures > 0);
    free(ok.answer);
    free(before);
    free(after);
}

static const struct scenario create_ticket = {
    "/api/v1/tickets/create.php",
    "{\"ticket_subject\": \"Printer <b>down</b> again\", \"ticket_details\": \"<p>Help</p>\", "
    "\"ticket_vendor_ticket_id\": \"ABC-123\", \"ticket_billable\": true, \"ticket_priority\": "
    "\"High\"}",
};

static const struct scenario update_contact = {
    "/api/v1/contacts/update.php",
    "{\"contact_id\": 2, \"contact_title\": \"Billing lead\", \"contact_phone\": \"(555) "
    "010-0099\", "
    "\"contact_primary\": 1}",
};

static void test_create_grouped(void **state)
{
    sweep(state, &create_ticket, 1);
}

static void test_create_own_connection(void **state)
{
    sweep(state, &create_ticket, 0);
}

static void test_update_grouped(void **state)
{
    sweep(state, &update_contact, 1);
}

static void test_update_own_connection(void **state)
{
    sweep(state, &update_contact, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_grouped),
        cmocka_unit_test(test_create_own_connection),
        cmocka_unit_test(test_update_grouped),
        cmocka_unit_test(test_update_own_connection),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

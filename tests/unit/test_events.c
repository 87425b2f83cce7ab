/* test_events: the event's JSON, the type patterns of ?types= and of webhooks, the webhook URL
 * check, the signature (a vector computed independently: Python's hmac module) and the pruning
 * of old events (never one an active webhook has still to deliver). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "db/db.h"
#include "engine/engine.h"
#include "engine/events.h"
#include "testfiles.h"
#include "webhook/webhook.h"

static void test_render(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    struct event_row e = {.seq = 42,
                          .type = "tickets.create",
                          .type_len = 14,
                          .module = "tickets",
                          .module_len = 7,
                          .action = "create",
                          .action_len = 6,
                          .object_id = 7,
                          .client_id = 3,
                          .has_client = 1,
                          .created_at = 1764928800}; /* 2025-12-05 10:00:00 UTC */
    events_render_json(&b, &e);
    assert_string_equal(b.p, "{\"seq\":42,\"type\":\"tickets.create\",\"module\":\"tickets\","
                             "\"action\":\"create\",\"id\":7,\"client_id\":3,"
                             "\"time\":\"2025-12-05T10:00:00Z\"}");
    buf_reset(&b);
    e.has_client = 0;
    events_render_json(&b, &e);
    assert_non_null(strstr(b.p, "\"client_id\":null,"));
    buf_free(&b);
}

static int m(const char *patterns, const char *type)
{
    return events_type_match(patterns, type, strlen(type));
}

static void test_match(void **state)
{
    (void)state;
    assert_true(m(NULL, "tickets.create"));
    assert_true(m("", "tickets.create"));
    assert_true(m("*", "clients.delete"));
    assert_true(m("tickets.create", "tickets.create"));
    assert_false(m("tickets.create", "tickets.created"));
    assert_false(m("tickets.create", "tickets.creat"));
    assert_true(m("tickets.*", "tickets.close"));
    assert_false(m("tickets.*", "ticket_replies.create"));
    assert_true(m("ticket*", "ticket_replies.create"));
    assert_true(m("*.delete", "contacts.delete"));
    assert_false(m("*.delete", "contacts.update"));
    assert_true(m("clients.create, tickets.*", "tickets.reopen"));
    assert_true(m("clients.create,tickets.*", "clients.create"));
    assert_false(m("clients.create,tickets.*", "clients.update"));
}

static void test_patterns_valid(void **state)
{
    (void)state;
    assert_true(events_patterns_valid("tickets.*"));
    assert_true(events_patterns_valid("*"));
    assert_true(events_patterns_valid("*.delete,clients.create"));
    assert_true(events_patterns_valid(" tickets.create "));
    assert_false(events_patterns_valid(NULL));
    assert_false(events_patterns_valid(""));
    assert_false(events_patterns_valid(" , "));
    assert_false(events_patterns_valid("tick*ets"));
    assert_false(events_patterns_valid("*tickets*"));
    assert_false(events_patterns_valid("**"));
    assert_false(events_patterns_valid("tickets;drop"));
    assert_false(events_patterns_valid("tickets.%"));
    char longp[80];
    memset(longp, 'a', sizeof(longp) - 1);
    longp[sizeof(longp) - 1] = 0;
    assert_false(events_patterns_valid(longp)); /* over 64 bytes */
}

static void test_url(void **state)
{
    (void)state;
    assert_true(webhook_url_valid("http://127.0.0.1:8080/hook"));
    assert_true(webhook_url_valid("https://hooks.example.com/itflow?x=1"));
    assert_false(webhook_url_valid("ftp://example.com/"));
    assert_false(webhook_url_valid("file:///etc/passwd"));
    assert_false(webhook_url_valid("http://"));
    assert_false(webhook_url_valid("http://exa mple.com/"));
    assert_false(webhook_url_valid("http://example.com/\n"));
    assert_false(webhook_url_valid(""));
}

static void test_signature(void **state)
{
    (void)state;
    char sig[160];
    const char body[] = "{\"a\":1}";
    assert_int_equal(
        webhook_signature("topsecret", 1700000000, body, strlen(body), sig, sizeof(sig)), 0);
    assert_string_equal(sig, "t=1700000000,v1=6a939b0c71853d606167625a15168ee9188c6a511c773ef4f42d3"
                             "07f3849e50f");
    assert_int_equal(webhook_signature("topsecret", 1700000000, body, strlen(body), sig, 20), -1);
    char a[65], b[65];
    assert_int_equal(webhook_new_secret(a, sizeof(a)), 0);
    assert_int_equal(webhook_new_secret(b, sizeof(b)), 0);
    assert_int_equal(strlen(a), 64);
    assert_string_not_equal(a, b);
}

static int64_t count_events(struct db *db)
{
    struct db_stmt *st;
    assert_int_equal(
        db_stmt(db, "SELECT COUNT(*), COALESCE(MIN(event_seq), 0) FROM itflowd_events", &st),
        DB_OK);
    assert_int_equal(db_step(st), DB_ROW);
    int64_t n = db_column_int(st, 0) * 1000 + db_column_int(st, 1);
    db_reset(st);
    return n; /* the count, and the lowest sequence left, in one number */
}

/* Events older than the cutoff go, unless an active webhook has not passed them yet; removed
 * (inactive) webhooks hold nothing back. */
static void test_prune(void **state)
{
    (void)state;
    char dir[] = "/tmp/itflowd_test_events.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[96];
    snprintf(path, sizeof(path), "%s/t.db", dir);
    struct db *db;
    assert_int_equal(db_open_create(path, &db), DB_OK);
    assert_int_equal(engine_own_tables(db), DB_OK);
    /* ten events: 1..6 created at t=1000, 7..10 at t=5000 */
    for (int seq = 1; seq <= 10; seq++) {
        char sql[256];
        snprintf(
            sql, sizeof(sql),
            "INSERT INTO itflowd_events (event_seq, event_type, event_module, event_action, "
            "event_object_id, event_client_id, event_created_at) VALUES (%d, 'tickets.create', "
            "'tickets', 'create', %d, 1, %d)",
            seq, seq, seq <= 6 ? 1000 : 5000);
        assert_int_equal(db_exec(db, sql), DB_OK);
    }
    /* a webhook at 3 (behind), a removed one at 0 */
    assert_int_equal(db_exec(db, "INSERT INTO itflowd_webhooks (webhook_url, webhook_events, "
                                 "webhook_secret, webhook_active, webhook_created_at, "
                                 "webhook_cursor) VALUES ('http://127.0.0.1:1/a', '*', 's', 1, 0, "
                                 "3), ('http://127.0.0.1:1/b', '*', 's', 0, 0, 0)"),
                     DB_OK);
    int64_t deleted = -1;
    /* nothing older than the cutoff: nothing goes */
    assert_int_equal(engine_events_prune(db, 1000, &deleted), DB_OK);
    assert_int_equal(deleted, 0);
    assert_int_equal(count_events(db), 10 * 1000 + 1);
    /* old enough, but the webhook has delivered only up to 3 */
    assert_int_equal(engine_events_prune(db, 2000, &deleted), DB_OK);
    assert_int_equal(deleted, 3);
    assert_int_equal(count_events(db), 7 * 1000 + 4);
    /* the webhook catches up (cursor 8): the rest of the old ones go, the new ones stay */
    assert_int_equal(db_exec(db, "UPDATE itflowd_webhooks SET webhook_cursor = 8 WHERE "
                                 "webhook_active = 1"),
                     DB_OK);
    assert_int_equal(engine_events_prune(db, 2000, &deleted), DB_OK);
    assert_int_equal(deleted, 3);
    assert_int_equal(count_events(db), 4 * 1000 + 7);
    /* no active webhook: everything older than the cutoff */
    assert_int_equal(db_exec(db, "UPDATE itflowd_webhooks SET webhook_active = 0"), DB_OK);
    assert_int_equal(engine_events_prune(db, 6000, &deleted), DB_OK);
    assert_int_equal(deleted, 4);
    assert_int_equal(count_events(db), 0);
    db_close(db);
    test_remove_db_files(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render),         cmocka_unit_test(test_match),
        cmocka_unit_test(test_patterns_valid), cmocka_unit_test(test_url),
        cmocka_unit_test(test_signature),      cmocka_unit_test(test_prune),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

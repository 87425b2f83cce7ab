/* serve: 'itflowd serve' — the options (serve_opts.c) checked, the database identified (its
 * ITFlow release picks the schema set) and its tables' columns learned (schema drift: the
 * modules are resolved against what the database has), the read indexes ensured, the server
 * run with the webhook deliveries beside it. */
#include <string.h>
#include <unistd.h>

#include "auth/throttle.h"
#include "cli/cli.h"
#include "cli/serve_opts.h"
#include "core/membudget.h"
#include "modules/registry.h"
#include "engine/engine.h"
#include "webhook/webhook.h"

int cli_open_identified(const struct cli_opts *o, struct db **db, struct db_identity *id)
{
    *db = NULL;
    if (db_open(o->db, db) != DB_OK)
        return cli_fail("cannot open the database %s.", o->db_shown);
    enum db_rc rc = db_identify(*db, id);
    /* a connection lost or a statement timed out on a busy server: the next try reconnects */
    for (int attempt = 1; attempt < 3 && (rc == DB_UNAVAILABLE || rc == DB_BUSY); attempt++) {
        usleep(200 * 1000);
        rc = db_identify(*db, id);
    }
    if (rc != DB_OK) {
        if (rc == DB_DONE)
            cli_fail("%s is not an ITFlow database: it has no api_keys table with either "
                     "api_key_client_id (26.07) or api_key_user_id (26.08).",
                     o->db_shown);
        else
            cli_fail("cannot read what %s is: %s", o->db_shown, db_errmsg(*db));
        db_close(*db);
        *db = NULL;
        return 1;
    }
    schema_select(id->dialect);
    return 0;
}

#ifdef ITFLOWD_SYSTEMD
#include <systemd/sd-daemon.h>

/* readiness, reload and stop for systemd's Type=notify (nothing when NOTIFY_SOCKET is unset) */
static void notify_systemd(const char *state)
{
    sd_notify(0, state);
}
#endif

int cmd_serve(struct serve_opts *so, const struct opt_set *set)
{
    const char *target = so->cfg.db_target;
    char shown[512];
    db_target_display(target, shown, sizeof(shown));
    int rc = serve_opts_finish(so, set, sysconf(_SC_NPROCESSORS_ONLN));
    if (rc)
        return rc;
    if (access(target, R_OK | W_OK) != 0 && !strstr(target, "://"))
        return cli_fail("cannot open %s; create it with 'itflowd init --db PATH'.", shown);
    db_set_sync((enum db_sync)so->sync);
    struct db *db = NULL;
    struct cli_opts o = {.db = target};
    snprintf(o.db_shown, sizeof(o.db_shown), "%s", shown);
    struct db_identity id;
    if (cli_open_identified(&o, &db, &id))
        return 1;
    db_set_identity(&id);
    struct db_drift drift;
    if (db_learn_schema(db, &drift) != DB_OK) {
        cli_fail("cannot read the columns of %s's tables: %s", shown, db_errmsg(db));
        db_close(db);
        return 1;
    }
    if (drift.tables)
        fprintf(stderr,
                "itflowd: %zu %s from ITFlow %s's (%zu columns more, %zu fewer); "
                "reads answer the columns the database has\n",
                drift.tables, drift.tables == 1 ? "table differs" : "tables differ",
                schema_active()->itflow, drift.added, drift.missing);
    char err[256];
    if (module_registry_init(err, sizeof(err)) != 0) {
        db_close(db);
        return cli_fail("%s", err);
    }
    enum db_rc drc = db_dialect(db) == DB_SQLITE ? cli_ensure_indexes(db) : DB_OK;
    if (drc != DB_OK)
        cli_fail("cannot create the read indexes: %s", db_errmsg(db));
    else if ((drc = engine_own_tables(db)) != DB_OK)
        cli_fail("cannot create itflowd's own tables: %s", db_errmsg(db));
    db_close(db);
    if (drc != DB_OK)
        return 1;
    throttle_configure(so->auth_fail_limit, so->auth_fail_window);
    membudget_configure(so->max_body_memory);
#ifdef ITFLOWD_SYSTEMD
    so->cfg.notify = notify_systemd;
#endif
    /* the deliveries run beside the server, on their own thread and store connection */
    struct webhook_runner *wh = webhook_start(so->cfg.db_target, &so->wh);
    rc = server_run(&so->cfg);
    webhook_stop(wh);
    return rc;
}

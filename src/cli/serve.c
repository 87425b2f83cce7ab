/* serve: 'itflowd serve' — the options (serve_opts.c) checked, the read indexes ensured, the
 * server run. */
#include <string.h>
#include <unistd.h>

#include "auth/throttle.h"
#include "cli/cli.h"
#include "cli/serve_opts.h"
#include "core/membudget.h"

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
    if (db_open(target, &db) != DB_OK)
        return cli_fail("cannot open the database %s.", shown);
    enum db_rc drc = db_dialect(db) == DB_SQLITE ? cli_ensure_indexes(db) : DB_OK;
    if (drc != DB_OK)
        cli_fail("cannot create the read indexes: %s", db_errmsg(db));
    db_close(db);
    if (drc != DB_OK)
        return 1;
    throttle_configure(so->auth_fail_limit, so->auth_fail_window);
    membudget_configure(so->max_body_memory);
#ifdef ITFLOWD_SYSTEMD
    so->cfg.notify = notify_systemd;
#endif
    return server_run(&so->cfg);
}

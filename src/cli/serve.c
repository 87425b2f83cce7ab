/* serve: 'itflowd serve' — the options (serve_opts.c) checked, the read indexes ensured, the
 * server run. */
#include <string.h>
#include <unistd.h>

#include "auth/throttle.h"
#include "cli/cli.h"
#include "cli/serve_opts.h"
#include "core/membudget.h"
#include "engine/engine.h"

int cmd_serve(const struct cli_opts *o, struct serve_opts *so, const struct opt_set *set)
{
    if (!o->db)
        return cli_fail("serve needs --db PATH.");
    if (access(o->db, R_OK | W_OK) != 0 && !strstr(o->db, "://"))
        return cli_fail("cannot open %s; create it with 'itflowd init --db PATH'.", o->db_shown);
    int rc = serve_opts_finish(so, set, sysconf(_SC_NPROCESSORS_ONLN));
    if (rc)
        return rc;
    db_set_sync((enum db_sync)so->sync);
    struct db *db = NULL;
    if (db_open(o->db, &db) != DB_OK)
        return cli_fail("cannot open the database %s.", o->db_shown);
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
    return server_run(&so->cfg);
}

#!/usr/bin/env python3
"""Which ITFlow a database is, and serving it as it is: v26.07 and v26.08 databases, schema drift.

usage: python3 tests/api/test_dialect.py PATH/TO/itflowd [-v] [TestClass[.test_name] ...]
       ITFLOWD_TEST_DB=mariadb python3 tests/api/test_dialect.py PATH/TO/itflowd ...

Python 3 standard library only; servers are started here on 127.0.0.1 (free ports; a private
database each, see test_api.py) and stopped at the end. ITFLOWD_KEEP=1 keeps logs and databases.

  InitKeyTests    init --itflow-version 26.08 (roles, admin in the Administrator role, version
                  2.6.6), key create --user (the stored owner, the decrypt hash unlocking the
                  site master key), its refusals, key list's owner, and a read with the new key
  DriftTests      a database with columns the release does not have in `assets` answers them in
                  reads, in the database's order, while writes still work
  IdentityTests   /healthz and the start-up line name the release and version; a version we do
                  not know gets one warning line and is served; a v26.07 and a v26.08 database
                  served by two instances at once
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_api as base  # noqa: E402  (helpers: Server, make_seeded_db, cli, keys)

SEED_2608 = os.path.join(base.SHARED, "conformance", "seed-2608.sql")
ADMIN_PASSWORD = "Adm1n-Password-For-The-Dialect-Tests"
base.SECRETS.add(ADMIN_PASSWORD)
ADMIN_2608 = "o26Admin000000000000000000000001"  # seed-2608.sql: user 1, Administrator
base.SECRETS.add(ADMIN_2608)


def seeded_2608(name):
    """A v26.08 schema (init --itflow-version 26.08 --schema-only) loaded with seed-2608.sql."""
    db = base.DB.new_db(name)
    r = base.cli("init", "--db", db, "--itflow-version", "26.08", "--schema-only")
    if r.returncode != 0:
        raise RuntimeError("init --itflow-version 26.08 --schema-only failed: " + r.stderr)
    with open(SEED_2608, encoding="utf-8") as f:
        base.db_script(db, f.read())
    return db


def healthz(srv):
    r = srv.request("GET", "/healthz")
    return r.status, r.json()


class InitKeyTests(base.ApiTestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = base.workdir("dialect-init")
        cls.db = base.DB.new_db("dialect-init")
        cls.pwfile = base.write_file(os.path.join(cls.dir, "admin.pw"), ADMIN_PASSWORD + "\n")
        cls.init = base.cli("init", "--db", cls.db, "--itflow-version", "26.08",
                            "--admin-email", "admin@test.local", "--admin-password-file",
                            cls.pwfile)
        if cls.init.returncode != 0:
            raise RuntimeError("init --itflow-version 26.08 failed: " + cls.init.stderr)

    def key_create(self, *extra, name="k"):
        return base.cli("key", "create", "--db", self.db, "--name", name, "--expires",
                        base.future_date(), "--admin-password-file", self.pwfile, *extra)

    def test_init_writes_the_2608_defaults(self):
        self.assertIn("ITFlow 26.08", self.init.stdout)
        self.assertEqual(base.db_rows(self.db, "SELECT config_current_database_version FROM "
                                               "settings"), [("2.6.6",)])
        self.assertEqual(base.db_rows(self.db, "SELECT module_id, module_name FROM modules "
                                               "ORDER BY 1"),
                         [(1, "module_client"), (2, "module_support"), (3, "module_credential"),
                          (4, "module_sales"), (5, "module_financial"), (6, "module_reporting")])
        self.assertEqual(base.db_rows(self.db, "SELECT role_id, role_is_admin FROM user_roles "
                                               "ORDER BY 1"), [(1, 0), (2, 0), (3, 1)])
        self.assertEqual(base.db_rows(self.db, "SELECT user_id, user_email, user_type, "
                                               "user_status, user_role_id FROM users"),
                         [(1, "admin@test.local", 1, 1, 3)])
        # the v26.08 columns are there, the v26.07 key scope is not
        base.db_rows(self.db, "SELECT api_key_user_id, api_key_id FROM api_keys")
        base.db_rows(self.db, "SELECT ticket_sla_id, ticket_response_due_at FROM tickets")
        base.db_rows(self.db, "SELECT permission_type FROM user_client_permissions")
        with self.assertRaises(Exception):
            base.db_rows(self.db, "SELECT api_key_client_id FROM api_keys")

    def test_schema_only_both_releases(self):
        for version, col in (("26.07", "api_key_client_id"), ("26.08", "api_key_user_id")):
            db = base.DB.new_db("dialect-schema-" + version)
            r = base.cli("init", "--db", db, "--itflow-version", version, "--schema-only")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("ITFlow %s schema" % version, r.stdout)
            self.assertEqual(base.db_rows(db, "SELECT COUNT(*) FROM users"), [(0,)])
            base.db_rows(db, "SELECT %s FROM api_keys" % col)
        r = base.cli("init", "--db", base.DB.new_db("dialect-bad"), "--itflow-version", "26.9")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--itflow-version must be 26.07 or 26.08, not 26.9", r.stderr)

    def test_key_create_user_and_list(self):
        r = self.key_create("--user", "1", name="owned by the admin")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("running as user 1 (Administrator)", r.stdout)
        key, decrypt = base.parse_key_output(r.stdout)
        rows = base.db_rows(self.db, "SELECT api_key_id, api_key_user_id, api_key_secret, "
                                     "api_key_decrypt_hash FROM api_keys WHERE api_key_name = "
                                     "'owned by the admin'")
        self.assertEqual(len(rows), 1)
        kid, user, stored, wrapped = rows[0]
        self.assertEqual(user, 1)
        self.assertNotIn(key, stored)  # hashed, as for v26.07 keys
        self.assertTrue(wrapped)  # unwrapped by test_key_reads_and_decrypts' round trip
        listing = base.cli("key", "list", "--db", self.db)
        self.assertEqual(listing.returncode, 0, listing.stderr)
        self.assertIn("OWNER", listing.stdout)
        self.assertRegex(listing.stdout, r"(?m)^%d\s+owned by the admin\s+user 1 Administrator\s"
                         % kid)

    def test_key_create_refusals(self):
        base.db_script(self.db, (
            "INSERT INTO users (user_id, user_name, user_email, user_password, user_type) "
            "VALUES (20, 'Portal', 'p@test.local', 'x', 2);\n"
            "INSERT INTO users (user_id, user_name, user_email, user_password, user_status) "
            "VALUES (21, 'Off', 'o@test.local', 'x', 0);\n"
            "INSERT INTO users (user_id, user_name, user_email, user_password, user_archived_at) "
            "VALUES (22, 'Gone', 'g@test.local', 'x', '2026-01-01 00:00:00');\n"))
        before = base.db_rows(self.db, "SELECT COUNT(*) FROM api_keys")
        cases = [
            (["--user", "20"], "user 20 is a client-portal user"),
            (["--user", "21"], "user 21 is not active"),
            (["--user", "22"], "user 22 is archived"),
            (["--user", "99"], "there is no user 99"),
            (["--user", "0"], "--user must be a user id, not 0"),
            (["--user", "1x"], "--user must be a user id, not 1x"),
            (["--client", "1"], "--client is for ITFlow 26.07 databases"),
            ([], "where a key runs as a user: give --user ID"),
        ]
        for extra, message in cases:
            with self.subTest(extra=extra):
                r = self.key_create(*extra)
                self.assertNotEqual(r.returncode, 0, r.stdout)
                self.assertIn(message, r.stderr)
                self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertEqual(base.db_rows(self.db, "SELECT COUNT(*) FROM api_keys"), before)
        # and --user on a v26.07 database
        db = base.make_seeded_db("dialect-2607-user")
        pwfile = os.path.join(self.dir, "admin.pw")
        r = base.cli("key", "create", "--db", db, "--name", "x", "--expires", base.future_date(),
                     "--admin-password-file", pwfile, "--user", "1")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--user is for ITFlow 26.08 databases", r.stderr)

    def test_key_reads_and_decrypts(self):
        """The key made by key create --user works: a read as its user, and a credential written
        and read back with its decrypt password (the hash wraps the site master key)."""
        r = self.key_create("--user", "1", name="reader")
        self.assertEqual(r.returncode, 0, r.stderr)
        key, decrypt = base.parse_key_output(r.stdout)
        srv = base.Server(self.db, "dialect-init").start()
        try:
            c = srv.post("clients/create", {"client_name": "Dialect Co", "client_currency_code":
                                            "USD"}, key=key)
            self.assertEqual(c.status, 200, c)
            self.assertEqual(c.json()["success"], "True", c)
            client = c.json()["data"][0]["insert_id"]
            r = srv.get("clients/read", key=key, client_id=client)
            self.assertEqual(r.status, 200, r)
            self.assertEqual([row["client_name"] for row in r.json()["data"]], ["Dialect Co"])
            w = srv.post("credentials/create", {
                "api_key_decrypt_password": decrypt, "client_id": client,
                "credential_name": "router", "credential_username": "admin",
                "credential_password": "S3cret!"}, key=key)
            self.assertEqual(w.json()["success"], "True", w)
            cred = w.json()["data"][0]["insert_id"]
            stored = base.db_value(self.db, "SELECT credential_password FROM credentials WHERE "
                                            "credential_id = ?", (cred,))
            self.assertNotIn("S3cret!", stored)
            rd = srv.request("GET", "/api/v1/credentials/read.php",
                             query={"api_key": key, "credential_id": cred},
                             body={"api_key_decrypt_password": decrypt})
            self.assertEqual(rd.json()["data"][0]["credential_password"], "S3cret!", rd)
        finally:
            srv.stop()


class DriftTests(base.ApiTestCase):
    """Columns ITFlow v26.07 does not have, added to `assets`: reads answer them (SELECT * as
    ITFlow does) in the database's order, rendered as the database gives them; writes touch only
    the descriptors' columns, so they keep working and the new columns keep their defaults."""

    @classmethod
    def setUpClass(cls):
        def add_columns(db):
            if base.on_mariadb():
                base.db_script(db, (
                    "ALTER TABLE assets ADD COLUMN asset_rack_unit int(11) DEFAULT NULL "
                    "AFTER asset_name;\n"
                    "ALTER TABLE assets ADD COLUMN asset_power_watts decimal(7,2) NOT NULL "
                    "DEFAULT 12.5;\n"
                    "ALTER TABLE assets ADD COLUMN asset_label varchar(40) DEFAULT 'none';\n"))
            else:
                base.db_script(db, (
                    "ALTER TABLE assets ADD COLUMN asset_power_watts decimal(7,2) NOT NULL "
                    "DEFAULT 12.5;\n"
                    "ALTER TABLE assets ADD COLUMN asset_label varchar(40) DEFAULT 'none';\n"))
        cls.db = base.make_seeded_db("dialect-drift", add_columns)
        cls.srv = base.Server(cls.db, "dialect-drift").start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def columns(self):
        """The assets columns in the database's order."""
        if base.on_mariadb():
            return [r[0] for r in base.db_rows(
                self.db, "SELECT column_name FROM information_schema.columns WHERE "
                         "table_schema = DATABASE() AND table_name = 'assets' "
                         "ORDER BY ordinal_position")]
        return [r[1] for r in base.db_rows(self.db, "PRAGMA table_info(assets)")]

    def test_reads_answer_the_database_columns(self):
        cols = self.columns()
        r = self.srv.get("assets/read", key=base.ALL_KEY, asset_id=1)
        self.assertEqual(r.status, 200, r)
        row = r.json()["data"][0]
        self.assertEqual(list(row.keys()), cols)  # by id: the asset's row alone
        self.assertEqual(row["asset_power_watts"], "12.50")
        self.assertEqual(row["asset_label"], "none")
        if base.on_mariadb():
            self.assertEqual(cols.index("asset_rack_unit"), cols.index("asset_name") + 1)
            self.assertIsNone(row["asset_rack_unit"])
        # a list: the asset's columns as the database has them, then the joined interface's
        r = self.srv.get("assets/read", key=base.ALL_KEY)
        for row in r.json()["data"]:
            keys = list(row.keys())
            self.assertEqual(keys[:len(cols)], cols)
            self.assertEqual(keys[len(cols)], "interface_id")
        log = self.srv.log_text()
        self.assertRegex(log, r"1 table differs from ITFlow 26\.07's \((2|3) columns more, 0 "
                              r"fewer\)")

    def test_zz_clean_stop(self):
        """The learned tables are freed or kept reachable: a clean stop (under sanitizers, no
        leak report)."""
        self.srv.stop()
        self.assertEqual(self.srv.exit_code, 0, self.srv.log_text()[-2000:])

    def test_writes_keep_working(self):
        c = self.srv.post("assets/create", {"asset_name": "Drifted", "asset_type": "Server",
                                            "client_id": 1}, key=base.ALL_KEY)
        self.assertEqual(c.json()["success"], "True", c)
        aid = c.json()["data"][0]["insert_id"]
        self.assertEqual(base.db_rows(self.db, "SELECT asset_label, asset_power_watts FROM "
                                               "assets WHERE asset_id = ?", (aid,))[0][0], "none")
        u = self.srv.post("assets/update", {"asset_id": aid, "asset_name": "Drifted 2",
                                            "client_id": 1}, key=base.ALL_KEY)
        self.assertEqual(u.json()["success"], "True", u)
        r = self.srv.get("assets/read", key=base.ALL_KEY, asset_id=aid)
        row = r.json()["data"][0]
        self.assertEqual((row["asset_name"], row["asset_label"]), ("Drifted 2", "none"))


class IdentityTests(base.ApiTestCase):
    def test_healthz_and_startup_line_name_the_release(self):
        db = base.make_seeded_db("dialect-2607")
        srv = base.Server(db, "dialect-2607").start()
        try:
            self.assertEqual(healthz(srv), (200, {"status": "ok", "itflow": "26.07",
                                                  "database_version": "2.4.4",
                                                  "version_known": True}))
        finally:
            srv.stop()
        self.assertEqual(srv.exit_code, 0)
        log = srv.log_text()
        self.assertIn("ITFlow 26.07, database version 2.4.4)", log)
        self.assertNotIn("warning", log)

    def test_unknown_version_warns_once_and_is_served(self):
        db = base.make_seeded_db("dialect-unknown")
        base.db_script(db, "UPDATE settings SET config_current_database_version = '2.5.3';")
        srv = base.Server(db, "dialect-unknown").start()
        try:
            self.assertEqual(healthz(srv)[1]["database_version"], "2.5.3")
            self.assertIs(healthz(srv)[1]["version_known"], False)
            r = srv.get("clients/read", key=base.ALL_KEY, client_id=1)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["data"][0]["client_id"], "1")
        finally:
            srv.stop()
        warnings = [l for l in srv.log_text().splitlines() if "warning" in l]
        self.assertEqual(len(warnings), 1, warnings)
        self.assertIn("database version '2.5.3' is not ITFlow 26.07's (2.4.4)", warnings[0])

    def test_not_an_itflow_database(self):
        db = base.DB.new_db("dialect-none")
        if not base.on_mariadb():
            base.db_script(db, "CREATE TABLE api_keys (api_key_id INTEGER);")
        else:
            base.db_script(db, "CREATE TABLE api_keys (api_key_id int);")
        r = base.cli("serve", "--db", db, "--listen", "127.0.0.1:%d" % base.free_port(),
                     timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("is not an ITFlow database", r.stderr)

    def test_2607_and_2608_served_at_once(self):
        old = base.make_seeded_db("dialect-pair-2607")
        new = seeded_2608("dialect-pair-2608")
        s7 = base.Server(old, "dialect-pair-2607").start()
        s8 = base.Server(new, "dialect-pair-2608").start()
        try:
            self.assertEqual(healthz(s7)[1]["itflow"], "26.07")
            self.assertEqual(healthz(s8), (200, {"status": "ok", "itflow": "26.08",
                                                 "database_version": "2.6.6",
                                                 "version_known": True}))
            for _ in range(3):  # interleaved: each keeps its own key model and columns
                r7 = s7.get("tickets/read", key=base.ALL_KEY, ticket_id=1)
                r8 = s8.get("tickets/read", key=ADMIN_2608, ticket_id=1)
                self.assertEqual(r7.status, 200, r7)
                self.assertEqual(r8.status, 200, r8)
                k7 = list(r7.json()["data"][0].keys())
                k8 = list(r8.json()["data"][0].keys())
                self.assertNotIn("ticket_sla_id", k7)
                self.assertEqual(k8.index("ticket_sla_id"), k8.index("ticket_status") + 1)
                self.assertIn("ticket_status_pauses_sla", k8)
                # a v26.07 key means nothing to the v26.08 database and the other way round
                self.assertEqual(s8.get("clients/read", key=base.ALL_KEY).status, 401)
                self.assertEqual(s7.get("clients/read", key=ADMIN_2608).status, 401)
            # the answers are the recorded v26.08 ones (cases-2608/reads.jsonl)
            rec = recorded("v8-read-tickets-ticket-id")
            if rec is not None:
                r8 = s8.request("GET", rec["request"]["path"], query=rec["request"]["query"])
                self.assertEqual(list(r8.json()["data"][0].keys()),
                                 list(json.loads(rec["recorded"]["body"])["data"][0].keys()))
        finally:
            s7.stop()
            s8.stop()


def recorded(case_id):
    path = os.path.join(base.SHARED, "conformance", "cases-2608", "reads.jsonl")
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                c = json.loads(line)
                if c.get("id") == case_id:
                    return c
    except OSError:
        pass
    return None


ORDER = [IdentityTests, DriftTests, InitKeyTests]


def main(argv):
    return base.run_test_module(argv, sys.modules[__name__], ORDER, "dialect",
                                backends=("sqlite", "mariadb"))


if __name__ == "__main__":
    sys.exit(main(sys.argv))

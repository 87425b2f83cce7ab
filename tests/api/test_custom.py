#!/usr/bin/env python3
"""Custom endpoints under /api/v1/custom/ (issue 18): Lua scripts and the upstream pass-through.

usage: python3 tests/api/test_custom.py PATH/TO/itflowd [-v] [TestClass[.test_name] ...]
       ITFLOWD_TEST_DB=mariadb python3 tests/api/test_custom.py PATH/TO/itflowd ...

Python 3 standard library only; servers are started here on 127.0.0.1 (free ports; a private
seeded database each, see test_api.py) and stopped at the end, and so is the small HTTP server
that stands for an ITFlow install behind the pass-through.

  ExampleTests   the three scripts of examples/custom/ with an all-clients key, client-scoped keys
                 (never another client's rows) and an expired key (401)
  SandboxTests   a script that loops forever, one that allocates without bound, one that raises an
                 error, one that does not compile: the server answers and goes on; no io/os/
                 debug/package, no bytecode; db.exec in a GET refused; a failing write rolled back
  EventTests     db.event: a script's write as an event (its client from the row, scoped like
                 reads, kept only with the write, long-polls woken); refusals
  KeyPermTests   read-only, no-delete and network-limited keys: db.exec refused with 403 (also
                 when the script catches it), nothing written; the networks for every script
  IdempotencyTests  Idempotency-Key on a script's POST: replayed, 409, concurrent duplicates
  ReloadTests    SIGHUP loads added, changed and removed scripts, also while requests run
  UpstreamTests  the pass-through to a local HTTP server: success, timeout, upstream down; only
                 paths under /api/v1/custom/ that no script serves; scripts and forwarding both
                 throttled after failed authentications
"""
import http.server
import json
import os
import re
import shutil
import signal
import socketserver
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_api as base  # noqa: E402  (helpers: Server, make_seeded_db, keys)

ALL_KEY, C1_KEY, C2_KEY = base.ALL_KEY, base.C1_KEY, base.C2_KEY
EXPIRED_KEY = "oracleExpired0000000000000000003"
EXAMPLES = os.path.join(base.REPO, "examples", "custom")

# scripts of the sandbox tests, beside the examples
TEST_SCRIPTS = {
    "loop": "return function() while true do end end\n",
    "loop_caught": ("return function()\n"
                    "  while true do pcall(function() while true do end end) end\n"
                    "end\n"),
    "alloc": ("return function()\n"
              "  local t, i = {}, 0\n"
              "  while true do i = i + 1; t[i] = string.rep('x', 4096) .. i end\n"
              "end\n"),
    "alloc_once": "return function() return {{s = string.rep('x', 1 << 30)}} end\n",
    "raise": "return function(req, db, key)\n  error('deliberate failure')\nend\n",
    "broken": "return function(req, db, key\n  return {}\nend\n",
    "not_a_function": "return 42\n",
    "get_exec": ("return function(req, db, key)\n"
                 "  db.exec('DELETE FROM ticket_replies')\n"
                 "  return {count = 1}\nend\n"),
    "get_rows_write": ("return function(req, db, key)\n"
                       "  return db.rows('DELETE FROM ticket_replies')\nend\n"),
    "fail_write": ("return function(req, db, key)\n"
                   "  db.exec(\"INSERT INTO ticket_replies (ticket_reply, ticket_reply_type, \"..\n"
                   "    \"ticket_reply_by, ticket_reply_ticket_id) VALUES ('lost', 'Internal', 0, 1)\")\n"
                   "  if req.param('mode') == 'error' then error('after the insert') end\n"
                   "  return {error = 'refused after the insert', status = 409}\nend\n"),
    "tx_control": ("return function(req, db, key)\n"
                   "  db.exec(\"INSERT INTO ticket_replies (ticket_reply, ticket_reply_type, \"..\n"
                   "    \"ticket_reply_by, ticket_reply_ticket_id) VALUES ('tx', 'Internal', 0, 1)\")\n"
                   "  db.exec(req.param('sql'))\n"
                   "  return {count = 1}\nend\n"),
    "libs": ("return function()\n"
             "  local ok = load(string.char(27) .. 'Lua')\n"
             "  return {{io = type(io), os = type(os), debug = type(debug),\n"
             "    package = type(package), require = type(require), dofile = type(dofile),\n"
             "    loadfile = type(loadfile), dump = type(string.dump),\n"
             "    collectgarbage = type(collectgarbage), bytecode = type(ok),\n"
             "    text = load('return 1 + 1')()}}\nend\n"),
    "echo": ("return function(req, db, key)\n"
             "  return {{method = req.method, a = req.param('a'), b = req.param('b'),\n"
             "    body_a = req.body and req.body.a, key_id = key.id, key_name = key.name,\n"
             "    client_id = key.client_id, user_id = key.user_id, nested = {1, 2, {x = true}}}}\n"
             "end\n"),
    "perm_write": ("local sql = {\n"
                   "  insert = \"INSERT INTO ticket_replies (ticket_reply, ticket_reply_type, \"..\n"
                   "    \"ticket_reply_by, ticket_reply_ticket_id) VALUES ('perm', 'Internal', 0, 1)\",\n"
                   "  update = \"UPDATE ticket_replies SET ticket_reply = REPLACE(ticket_reply, \"..\n"
                   "    \"'perm', 'perm2') WHERE ticket_reply = 'perm'\",\n"
                   "  delete = \"/* gone */ DELETE FROM ticket_replies WHERE ticket_reply = 'perm2'\",\n"
                   "  replace = \"REPLACE INTO ticket_replies (ticket_reply_id, ticket_reply, \"..\n"
                   "    \"ticket_reply_type, ticket_reply_by, ticket_reply_ticket_id) \"..\n"
                   "    \"VALUES (1, 'x', 'Internal', 0, 1)\",\n"
                   "  with_delete = \"WITH gone AS (SELECT 1) delete FROM ticket_replies\",\n"
                   "  with_delete_bs = \"WITH gone AS (SELECT 'a\\\\') DELETE FROM ticket_replies \"..\n"
                   "    \"WHERE ticket_reply = 'x'\",\n"
                   "  quoted = \"INSERT INTO ticket_replies (ticket_reply, ticket_reply_type, \"..\n"
                   "    \"ticket_reply_by, ticket_reply_ticket_id) VALUES ('DELETE', 'Internal', 0, 1)\",\n"
                   "}\n"
                   "return function(req, db, key)\n"
                   "  local q = sql[req.param('mode')]\n"
                   "  if req.param('catch') then\n"
                   "    local ok = pcall(db.exec, q)\n"
                   "    return {{caught = not ok}}\n"
                   "  end\n"
                   "  local n = db.exec(q)\n"
                   "  return {{changed = n}}\nend\n"),
    "bad_scope": "return function(req, db, key) return {{c = key.scope('x; DROP TABLE clients')}} end\n",
    # a ticket note and its event; mode "fail": an error after both
    "note_event": ("return function(req, db, key)\n"
                   "  local b = req.body\n"
                   "  db.exec(\"INSERT INTO ticket_replies (ticket_reply, ticket_reply_type, \"..\n"
                   "    \"ticket_reply_by, ticket_reply_ticket_id) VALUES (?, 'Internal', 0, ?)\",\n"
                   "    b.note, b.ticket_id)\n"
                   "  local seq = db.event(b.module or 'tickets', b.action or 'note',\n"
                   "    b.id or b.ticket_id)\n"
                   "  if b.mode == 'fail' then error('after the event') end\n"
                   "  return {{seq = seq}}\nend\n"),
    "get_event": ("return function(req, db, key)\n"
                  "  return {{seq = db.event('tickets', 'note', 10)}}\nend\n"),
    # MariaDB sends the first row, then an error (the subquery of the second row has two rows)
    "row_error": ("return function(req, db, key)\n"
                  "  return db.rows('SELECT (SELECT s.n FROM (SELECT 1 AS n UNION ALL SELECT 2) s '..\n"
                  "    'WHERE s.n <= t.n) AS v FROM (SELECT 1 AS n UNION ALL SELECT 2 '..\n"
                  "    'UNION ALL SELECT 3) t')\nend\n"),
}


def add_fixtures(db):
    """An open ticket and an asset (its serial only in the notes) for client 2."""
    base.db_script(db, (
        "INSERT INTO tickets (ticket_id, ticket_prefix, ticket_number, ticket_source, "
        "ticket_subject, ticket_details, ticket_priority, ticket_status, ticket_billable, "
        "ticket_onsite, ticket_vendor_ticket_number, ticket_url_key, ticket_created_at, "
        "ticket_created_by, ticket_assigned_to, ticket_closed_by, ticket_vendor_id, "
        "ticket_client_id, ticket_contact_id, ticket_location_id, ticket_asset_id, "
        "ticket_quote_id, ticket_invoice_id, ticket_project_id, ticket_recurring_ticket_id, "
        "ticket_order) VALUES (10, 'TCK-', 10, 'API', 'Globex server down', 'x', 'High', 2, 0, "
        "0, '0', 'k10', '2026-11-28 12:51:43', 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0);\n"
        "INSERT INTO assets (asset_id, asset_type, asset_name, asset_description, asset_make, "
        "asset_model, asset_serial, asset_os, asset_uri, asset_status, asset_notes, "
        "asset_favorite, asset_created_at, asset_vendor_id, asset_location_id, asset_contact_id, "
        "asset_client_id) VALUES (20, 'Switch', 'GLOBEX-SW-01', '', 'Cisco', '', NULL, '', '', "
        "'', 'Old label: serial XG-7781-Q', 0, '2026-11-28 12:51:43', 0, 0, 0, 2);\n"))


def make_custom_dir(name):
    d = os.path.join(base.TMP, "custom-" + name)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(EXAMPLES):
        if f.endswith(".lua"):
            shutil.copy(os.path.join(EXAMPLES, f), d)
    for script, text in TEST_SCRIPTS.items():
        base.write_file(os.path.join(d, script + ".lua"), text)
    return d


def custom_server(name, extra=()):
    db = base.make_seeded_db(name, add_fixtures)
    d = make_custom_dir(name)
    args = ["--custom-dir", d, "--custom-instructions", "2000000", "--custom-memory",
            str(8 << 20)] + list(extra)
    return base.Server(db, name, extra_args=args).start(), d


def get(srv, name, key=None, **params):
    return srv.get("custom/" + name, key=key, **params)


def post(srv, name, body, key=None):
    return srv.post("custom/" + name, body, key=key)


def replies(db):
    return int(base.db_value(db, "SELECT COUNT(*) FROM ticket_replies"))


class CustomCase(base.ApiTestCase):
    srv = None

    @classmethod
    def setUpClass(cls):
        cls.srv, cls.dir = custom_server(cls.__name__.lower())

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def assertRows(self, r, rows):
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("Content-Type"), "application/json", r)
        obj = r.json()
        self.assertEqual(obj["success"], "True", r)
        self.assertEqual(obj["count"], len(rows), r)
        self.assertEqual(obj["data"], rows, r)

    def assertNoResource(self, r):
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"success": "False", "message": base.json.loads(
            '"No resource (for this client and company) with the specified parameter(s)."')}, r)

    def assertServes(self):
        """The server goes on: an example still answers."""
        r = get(self.srv, "open_tickets", ALL_KEY)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(self.srv.alive())


class ExampleTests(CustomCase):
    def test_open_tickets_all_clients(self):
        for path in ("custom/open_tickets", "custom/open_tickets"):
            r = self.srv.request("GET", "/api/v1/%s.php" % path, query={"api_key": ALL_KEY})
            self.assertRows(r, [
                {"client_id": "1", "client_name": "Acme Corp", "open_tickets": "2"},
                {"client_id": "2", "client_name": base.db_value(
                    self.srv.db, "SELECT client_name FROM clients WHERE client_id = 2"),
                 "open_tickets": "1"}])
        # without .php too, and with the key in a header
        r = self.srv.request("GET", "/api/v1/custom/open_tickets",
                             headers={"X-API-Key": ALL_KEY})
        self.assertEqual(r.json()["count"], 2, r)

    def test_open_tickets_scoped_keys(self):
        r = get(self.srv, "open_tickets", C1_KEY)
        self.assertEqual([row["client_id"] for row in r.json()["data"]], ["1"], r)
        r = get(self.srv, "open_tickets", C2_KEY, client_id="1")  # a parameter cannot widen it
        self.assertEqual([row["client_id"] for row in r.json()["data"]], ["2"], r)

    def test_expired_and_missing_key(self):
        for name in ("open_tickets", "asset_lookup"):
            r = get(self.srv, name, EXPIRED_KEY, serial="SN-ACME-001")
            self.assertEqual(r.status, 401, r)
            self.assertEqual(r.body, base.MSG_AUTH_FAILED)
        r = post(self.srv, "add_ticket_note", {"ticket_id": 1, "note": "x"}, EXPIRED_KEY)
        self.assertEqual(r.status, 401, r)
        self.assertEqual(get(self.srv, "open_tickets").status, 401)

    def test_asset_lookup(self):
        r = get(self.srv, "asset_lookup", ALL_KEY, serial="sn-acme-001")
        self.assertRows(r, [{"asset_id": "1", "asset_name": "ACME-LT-001",
                             "asset_serial": "SN-ACME-001", "asset_type": "Laptop",
                             "asset_client_id": "1", "matched_field": "asset_serial"}])
        r = get(self.srv, "asset_lookup", ALL_KEY, serial="XG-7781-Q")
        self.assertRows(r, [{"asset_id": "20", "asset_name": "GLOBEX-SW-01",
                             "asset_serial": None, "asset_type": "Switch",
                             "asset_client_id": "2", "matched_field": "asset_notes"}])
        # a LIKE wildcard in the value is a character, not "anything"
        self.assertNoResource(get(self.srv, "asset_lookup", ALL_KEY, serial="%"))
        self.assertJsonError(get(self.srv, "asset_lookup", ALL_KEY), 400, "serial is required")

    def test_asset_lookup_scoped(self):
        self.assertNoResource(get(self.srv, "asset_lookup", C1_KEY, serial="XG-7781-Q"))
        self.assertNoResource(get(self.srv, "asset_lookup", C2_KEY, serial="SN-ACME-001"))
        r = get(self.srv, "asset_lookup", C2_KEY, serial="xg-7781-q")
        self.assertEqual([row["asset_id"] for row in r.json()["data"]], ["20"], r)

    def test_add_ticket_note(self):
        db = self.srv.db
        before = replies(db)
        r = post(self.srv, "add_ticket_note", {"ticket_id": 10, "note": "Rebooted",
                                               "time_worked": "00:15:00"}, ALL_KEY)
        self.assertEqual(r.status, 200, r)
        obj = r.json()
        self.assertEqual(obj["success"], "True", r)
        new_id = obj["data"][0]["insert_id"]
        self.assertEqual(base.db_rows(db, "SELECT ticket_reply, ticket_reply_type, "
                                          "ticket_reply_ticket_id FROM ticket_replies WHERE "
                                          "ticket_reply_id = ?", (new_id,)),
                         [("Rebooted", "Internal", 10)])
        self.assertEqual(replies(db), before + 1)
        # the client's own key, parameters in the query string
        r = self.srv.request("POST", "/api/v1/custom/add_ticket_note.php",
                             query={"api_key": C2_KEY, "ticket_id": "10", "note": "q"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(replies(db), before + 2)

    def test_add_ticket_note_scoped(self):
        db = self.srv.db
        before = replies(db)
        r = post(self.srv, "add_ticket_note", {"ticket_id": 10, "note": "x"}, C1_KEY)
        self.assertJsonError(r, 404, "No ticket")
        r = post(self.srv, "add_ticket_note", {"ticket_id": 1, "note": "x"}, C2_KEY)
        self.assertJsonError(r, 404, "No ticket")
        self.assertJsonError(post(self.srv, "add_ticket_note", {"ticket_id": 1}, ALL_KEY), 400,
                             "note is required")
        self.assertEqual(replies(db), before)

    def test_request_and_key_as_the_script_sees_them(self):
        r = self.srv.request("POST", "/api/v1/custom/echo", query={"api_key": C2_KEY, "a": "q",
                                                                    "b": "qb"},
                             body={"a": "body wins"})
        self.assertRows(r, [{"a": "body wins", "b": "qb", "body_a": "body wins",
                             "client_id": 2, "key_id": 4,
                             "key_name": "Globex R&amp;D &quot;ops&quot; &eacute;",
                             "method": "POST", "nested": [1, 2, {"x": True}]}])
        r = get(self.srv, "echo", ALL_KEY)
        self.assertEqual(r.json()["data"][0]["client_id"], 0, r)
        self.assertNotIn("user_id", r.json()["data"][0])

    def test_openapi_and_metrics(self):
        doc = self.srv.request("GET", "/api/v1/openapi.json").json()
        for name in ("open_tickets", "asset_lookup", "add_ticket_note"):
            item = doc["paths"]["/api/v1/custom/%s.php" % name]
            self.assertEqual(sorted(item), ["get", "post"])
        self.assertNotIn("/api/v1/custom/broken.php", doc["paths"])
        get(self.srv, "open_tickets", ALL_KEY)
        m = self.srv.request("GET", "/metrics").body.decode()
        self.assertIn('itflowd_requests_total{endpoint="custom/open_tickets",status="200",result="True"}', m)


class SandboxTests(CustomCase):
    def test_endless_loop(self):
        for name in ("loop", "loop_caught"):
            t0 = time.time()
            r = get(self.srv, name, ALL_KEY)
            self.assertJsonError(r, 500, "Internal server error.")
            self.assertLess(time.time() - t0, 10)
            self.assertServes()
        self.assertIn("custom script loop failed: the instruction limit was reached",
                      self.srv.log_text())
        self.assertIn("custom script loop_caught failed: the instruction limit was reached",
                      self.srv.log_text())

    def test_unbounded_allocation(self):
        for name in ("alloc", "alloc_once"):
            r = get(self.srv, name, ALL_KEY)
            self.assertJsonError(r, 500, "Internal server error.")
            self.assertServes()
            self.assertIn("custom script %s failed: the memory limit was reached" % name,
                          self.srv.log_text())

    def test_error_is_logged_with_file_and_line(self):
        r = get(self.srv, "raise", ALL_KEY)
        self.assertJsonError(r, 500, "Internal server error.")
        self.assertNotIn(b"deliberate", r.body)
        # the script's path, or its end after "..." where it is longer than Lua's LUA_IDSIZE
        where = "%s/raise.lua:2: deliberate failure" % self.dir
        m = re.search(r"custom script raise failed: (\.\.\.)?(\S+:2: deliberate failure)",
                      self.srv.log_text())
        self.assertIsNotNone(m, self.srv.log_text()[-2000:])
        self.assertTrue(where.endswith(m.group(2)) if m.group(1) else where == m.group(2),
                        m.group(0))
        self.assertServes()

    def test_error_in_the_middle_of_the_rows_is_named(self):
        """An error the database sends after some rows fails the request (500) and is logged
        with the database's own words; the connection serves the next request."""
        if base.DB.name != "mariadb":
            self.skipTest("SQLite takes the first row of a scalar subquery")
        r = get(self.srv, "row_error", ALL_KEY)
        self.assertJsonError(r, 500, "Internal server error.")
        self.assertRegex(self.srv.log_text(), r"custom script row_error failed: .*db\.rows: "
                                              r"Subquery returns more than 1 row")
        for _ in range(4):  # every worker's connection still answers
            self.assertServes()

    def test_scripts_that_do_not_load_are_reported_and_skipped(self):
        log = self.srv.log_text()
        self.assertIn("custom script %s/broken.lua does not compile" % self.dir, log)
        self.assertIn("custom script %s/not_a_function.lua does not return a function" % self.dir,
                      log)
        for name in ("broken", "not_a_function"):
            self.assertJsonError(get(self.srv, name, ALL_KEY), 404, "Unknown endpoint.")
        self.assertServes()

    def test_only_safe_libraries(self):
        r = get(self.srv, "libs", ALL_KEY)
        self.assertRows(r, [{"bytecode": "nil", "collectgarbage": "nil", "debug": "nil",
                             "dofile": "nil", "dump": "nil", "io": "nil", "loadfile": "nil",
                             "os": "nil", "package": "nil", "require": "nil", "text": 2}])

    def test_get_cannot_write(self):
        db = self.srv.db
        before = replies(db)
        self.assertGreater(before, 0)
        self.assertJsonError(get(self.srv, "get_exec", ALL_KEY), 405, "POST")
        # a writing statement through db.rows: refused before it runs (SQLite), or by the READ
        # ONLY transaction at prepare (MariaDB, a store error: 500)
        r = get(self.srv, "get_rows_write", ALL_KEY)
        if base.on_mariadb():
            self.assertJsonError(r, 500, "Internal server error.")
            self.assertIn("READ ONLY transaction", self.srv.log_text())
        else:
            self.assertJsonError(r, 405, "POST")
        self.assertEqual(replies(db), before)

    def test_failing_write_is_rolled_back(self):
        db = self.srv.db
        before = replies(db)
        r = self.srv.request("POST", "/api/v1/custom/fail_write.php",
                             query={"api_key": ALL_KEY, "mode": "error"}, body={})
        self.assertJsonError(r, 500, "Internal server error.")
        r = post(self.srv, "fail_write", {}, ALL_KEY)
        self.assertJsonError(r, 409, "refused after the insert")
        self.assertEqual(replies(db), before)
        self.assertEqual(base.db_value(db, "SELECT COUNT(*) FROM ticket_replies WHERE "
                                           "ticket_reply = 'lost'"), 0)

    def test_no_transaction_control_or_ddl(self):
        db = self.srv.db
        before = replies(db)
        for sql in ("COMMIT", "  commit", "ROLLBACK", "/* x */ BEGIN", "SAVEPOINT a",
                    "RELEASE a", "-- c\nEND", "DROP TABLE clients", "PRAGMA foreign_keys=0",
                    "CREATE TABLE t (a int)", "SET autocommit=1", "START TRANSACTION"):
            r = post(self.srv, "tx_control", {"sql": sql}, ALL_KEY)
            self.assertJsonError(r, 500, "Internal server error.")
        self.assertIn("db.exec: only SELECT, WITH, VALUES, INSERT, UPDATE, DELETE and REPLACE "
                      "statements run in a script", self.srv.log_text())
        self.assertEqual(replies(db), before)
        self.assertGreater(int(base.db_value(db, "SELECT COUNT(*) FROM clients")), 0)

    def test_scope_takes_only_schema_columns(self):
        self.assertJsonError(get(self.srv, "bad_scope", ALL_KEY), 500, "Internal server error.")
        self.assertIn("key.scope: x; DROP TABLE clients is not a column", self.srv.log_text())

    def test_concurrent_runs(self):
        out = []

        def worker():
            for _ in range(20):
                out.append(get(self.srv, "open_tickets", C1_KEY).status)
        threads = [threading.Thread(target=worker) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(out, [200] * 160)


class KeyPermTests(CustomCase):
    """A key's least-privilege flags (key update --read-only, --no-delete, --allow-ip) hold for
    custom scripts too: the networks for every script, read-only and no-delete for db.exec."""

    def key_update(self, key_id, *args):
        r = base.cli("key", "update", "--db", self.srv.db, str(key_id), *args)
        self.assertEqual(r.returncode, 0, r.stderr)

    def perm(self, mode, key=ALL_KEY, catch=False):
        body = {"mode": mode}
        if catch:
            body["catch"] = True
        return post(self.srv, "perm_write", body, key)

    def count(self, text):
        return base.db_value(self.srv.db, "SELECT COUNT(*) FROM ticket_replies WHERE "
                                          "ticket_reply = ?", (text,))

    def test_read_only_key_changes_nothing(self):
        before = replies(self.srv.db)
        self.key_update(1, "--read-only")
        try:
            self.assertEqual(get(self.srv, "open_tickets", ALL_KEY).status, 200)  # reads do
            for mode in ("insert", "update", "delete", "quoted"):
                with self.subTest(mode=mode):
                    self.assertJsonError(self.perm(mode), 403, "read-only", "db.exec")
            # caught by the script: the request still ends with the 403, nothing written
            self.assertJsonError(self.perm("insert", catch=True), 403, "read-only")
            r = post(self.srv, "add_ticket_note", {"ticket_id": 10, "note": "x"}, ALL_KEY)
            self.assertJsonError(r, 403, "read-only")
            self.assertEqual(replies(self.srv.db), before)
            self.assertNotIn("custom script perm_write failed", self.srv.log_text())
        finally:
            self.key_update(1, "--writable")
        self.assertEqual(self.perm("insert").json()["data"], [{"changed": 1}])
        self.assertEqual(self.count("perm"), 1)

    def test_no_delete_key_deletes_nothing(self):
        self.key_update(1, "--no-delete")
        try:
            self.assertEqual(self.perm("insert").status, 200)
            self.assertEqual(self.perm("update").json()["data"], [{"changed": 1}])
            self.assertEqual(self.count("perm2"), 1)
            # the word in a string is data, not a statement
            self.assertEqual(self.perm("quoted").json()["data"], [{"changed": 1}])
            # (with_delete_bs: 'a\\' ends the string in SQLite, not in MariaDB: both readings)
            for mode in ("delete", "replace", "with_delete", "with_delete_bs"):
                with self.subTest(mode=mode):
                    self.assertJsonError(self.perm(mode), 403, "delete permission")
            self.assertJsonError(self.perm("delete", catch=True), 403, "delete permission")
            self.assertEqual(self.count("perm2"), 1)
            self.assertEqual(self.count("x"), 0)
        finally:
            self.key_update(1, "--allow-delete")
        self.assertEqual(self.perm("delete").json()["data"], [{"changed": 1}])
        self.assertEqual(self.count("perm2"), 0)

    def test_allowed_networks(self):
        self.key_update(2, "--allow-ip", "10.0.0.0/8")
        try:
            self.assertJsonError(get(self.srv, "open_tickets", C1_KEY), 403, "address")
            self.assertJsonError(post(self.srv, "add_ticket_note", {"ticket_id": 10, "note": "x"},
                                      C1_KEY), 403, "address")
            self.key_update(2, "--allow-ip", "127.0.0.0/8")
            self.assertEqual(get(self.srv, "open_tickets", C1_KEY).status, 200)
        finally:
            self.key_update(2, "--any-ip")


def events_after(srv, after, key=ALL_KEY, **params):
    r = srv.request("GET", "/api/v1/events", query=dict(after=after, **params),
                    headers={"X-API-Key": key}, timeout=30)
    assert r.status == 200, r
    return r.json()


def last_event(db):
    return int(base.db_value(db, "SELECT COALESCE(MAX(event_seq), 0) FROM itflowd_events"))


class EventTests(CustomCase):
    """db.event(module, action, id): a script's write reported like the API's own, in the
    script's transaction, its client read from the row, seen only by keys that see the row."""

    def note(self, key=ALL_KEY, **body):
        body.setdefault("ticket_id", 10)
        body.setdefault("note", "event note")
        return post(self.srv, "note_event", body, key)

    def test_event_with_the_write(self):
        last = last_event(self.srv.db)
        r = self.note(note="seen")
        self.assertEqual(r.status, 200, r)
        seq = r.json()["data"][0]["seq"]
        self.assertEqual(seq, last + 1)
        got = events_after(self.srv, last)
        self.assertEqual(got["count"], 1, got)
        e = got["data"][0]
        self.assertEqual((e["seq"], e["type"], e["module"], e["action"], e["id"], e["client_id"]),
                         (seq, "tickets.note", "tickets", "note", 10, 2))
        # ticket 10 is client 2's: its key sees the event, client 1's does not
        self.assertEqual(events_after(self.srv, last, C2_KEY)["count"], 1)
        c1 = events_after(self.srv, last, C1_KEY)
        self.assertEqual(c1["count"], 0, c1)
        self.assertEqual(c1["next_after"], seq)

    def test_client_from_the_row(self):
        """a payment's client is its invoice's; a product has none"""
        last = last_event(self.srv.db)
        self.assertEqual(self.note(module="payments", action="reconciled", id=1).status, 200)
        self.assertEqual(self.note(module="products", action="repriced", id=1).status, 200)
        got = events_after(self.srv, last)["data"]
        self.assertEqual([(e["type"], e["id"], e["client_id"]) for e in got],
                         [("payments.reconciled", 1, 1), ("products.repriced", 1, None)])

    def test_failed_script_leaves_no_event_and_no_gap(self):
        last = last_event(self.srv.db)
        before = replies(self.srv.db)
        r = self.note(mode="fail")
        self.assertJsonError(r, 500, "Internal server error.")
        self.assertEqual(replies(self.srv.db), before)
        self.assertEqual(last_event(self.srv.db), last)
        r = self.note()
        self.assertEqual(r.json()["data"][0]["seq"], last + 1)

    def test_refused(self):
        last = last_event(self.srv.db)
        before = replies(self.srv.db)
        cases = [({"module": "nope"}, "db.event: there is no module nope"),
                 ({"action": "Not-A-Name"}, "db.event: the action must be a lower-case letter"),
                 ({"id": 999999}, "db.event: there is no tickets row 999999")]
        for body, logged in cases:
            with self.subTest(body=body):
                self.assertJsonError(self.note(**body), 500, "Internal server error.")
                self.assertIn(logged, self.srv.log_text())
        self.assertJsonError(get(self.srv, "get_event", ALL_KEY), 405, "POST")
        self.assertEqual(replies(self.srv.db), before)
        self.assertEqual(last_event(self.srv.db), last)

    def test_read_only_key(self):
        r = base.cli("key", "update", "--db", self.srv.db, "1", "--read-only")
        self.assertEqual(r.returncode, 0, r.stderr)
        try:
            self.assertJsonError(post(self.srv, "get_event", {}, ALL_KEY), 403, "read-only")
        finally:
            r = base.cli("key", "update", "--db", self.srv.db, "1", "--writable")
            self.assertEqual(r.returncode, 0, r.stderr)

    def test_long_poll_woken(self):
        last = last_event(self.srv.db)
        out = {}

        def wait():
            t0 = time.time()
            out["events"] = events_after(self.srv, last, wait=20)
            out["took"] = time.time() - t0

        t = threading.Thread(target=wait)
        t.start()
        time.sleep(0.5)
        self.assertEqual(self.note(note="wakes").status, 200)
        t.join(30)
        self.assertEqual(out["events"]["count"], 1, out)
        self.assertLess(out["took"], 10, out)


class IdempotencyTests(CustomCase):
    """Idempotency-Key on a script's POST, as on every write: the same request again replays the
    first answer without running the script; another request with the key gets 409."""

    def note(self, key_header, note="Retried", ticket_id=10):
        return self.srv.post("custom/add_ticket_note", {"ticket_id": ticket_id, "note": note},
                             key=ALL_KEY, headers={"Idempotency-Key": key_header})

    def test_retry_writes_once(self):
        db = self.srv.db
        before = replies(db)
        first = self.note("note-1")
        self.assertEqual(first.status, 200, first)
        self.assertIsNone(first.header("Idempotent-Replayed"))
        again = self.note("note-1")
        self.assertEqual((again.status, again.body), (first.status, first.body))
        self.assertEqual(again.header("Idempotent-Replayed"), "true")
        self.assertEqual(replies(db), before + 1)
        self.assertJsonError(self.note("note-1", note="Other text"), 409, "Idempotency-Key")
        self.assertJsonError(self.note("bad key"), 400, "Idempotency-Key")
        self.assertEqual(replies(db), before + 1)
        # an error answer is not kept with the key: the script runs again
        r = self.note("note-2", ticket_id=999)
        self.assertJsonError(r, 404, "No ticket")
        self.assertCreatedNote(self.note("note-2"))
        self.assertEqual(replies(db), before + 2)

    def assertCreatedNote(self, r):
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["success"], "True", r)

    def test_concurrent_duplicates_write_once(self):
        db = self.srv.db
        before = replies(db)
        answers = []
        barrier = base.threading.Barrier(6)

        def one():
            barrier.wait(timeout=30)
            answers.append(self.note("note-race"))

        threads = [base.threading.Thread(target=one) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        self.assertEqual([a.status for a in answers], [200] * 6, answers)
        self.assertEqual(len({a.body for a in answers}), 1, answers)
        self.assertEqual(replies(db), before + 1)


class ReloadTests(CustomCase):
    def reload(self):
        n = self.srv.log_text().count("custom scripts reloaded")
        self.srv.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while self.srv.log_text().count("custom scripts reloaded") == n:
            self.assertLess(time.time(), deadline, "no reload in the log")
            time.sleep(0.05)

    def test_sighup_reloads(self):
        path = os.path.join(self.dir, "hello.lua")
        self.assertJsonError(get(self.srv, "hello", ALL_KEY), 404, "Unknown endpoint.")
        base.write_file(path, "return function() return {{v = 'one'}} end\n")
        self.reload()
        self.assertRows(get(self.srv, "hello", ALL_KEY), [{"v": "one"}])
        base.write_file(path, "return function() return {{v = 'two'}} end\n")
        self.reload()
        self.assertRows(get(self.srv, "hello", ALL_KEY), [{"v": "two"}])
        # a change that does not compile: reported, not served; the rest goes on
        base.write_file(path, "return function( end\n")
        self.reload()
        self.assertJsonError(get(self.srv, "hello", ALL_KEY), 404, "Unknown endpoint.")
        os.remove(path)
        self.reload()
        self.assertJsonError(get(self.srv, "hello", ALL_KEY), 404, "Unknown endpoint.")
        self.assertServes()


    def test_reload_under_load(self):
        """Requests running while the scripts are replaced finish with the set they started
        with; the retired sets are freed by their last request (ASan builds check that)."""
        out, stop = [], threading.Event()

        def worker():
            while not stop.is_set():
                out.append(get(self.srv, "open_tickets", C1_KEY).status)
                out.append(post(self.srv, "echo", {"a": 1}, ALL_KEY).status)
        threads = [threading.Thread(target=worker) for _ in range(6)]
        for t in threads:
            t.start()
        try:
            for _ in range(8):
                self.reload()
        finally:
            stop.set()
            for t in threads:
                t.join()
        self.assertGreater(len(out), 16)
        self.assertEqual(set(out), {200})
        self.assertServes()


class Upstream:
    """A small HTTP server on 127.0.0.1 standing for an ITFlow install: /api/v1/custom/legacy.php
    echoes what it got, slow.php answers after 3 s, status.php answers 403 as text."""

    def __init__(self):
        seen = self.seen = []

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def answer(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                seen.append((self.command, self.path))
                if self.path.startswith("/api/v1/custom/slow.php"):
                    time.sleep(3)
                if self.path.startswith("/api/v1/custom/status.php"):
                    out, status, ctype = b"forbidden here", 403, "text/plain; charset=utf-8"
                else:
                    out = json.dumps({"method": self.command, "path": self.path,
                                      "body": body.decode(),
                                      "x_api_key": self.headers.get("X-API-Key"),
                                      "ctype": self.headers.get("Content-Type"),
                                      "xff": self.headers.get("X-Forwarded-For")}).encode()
                    status, ctype = 201, "application/json; charset=utf-8"
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(out)))
                    self.end_headers()
                    self.wfile.write(out)
                except OSError:  # itflowd gave up waiting (the timeout test)
                    pass

            do_GET = do_POST = answer

            def log_message(self, *args):
                pass

        class Threaded(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True

        self.httpd = Threaded(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class UpstreamTests(base.ApiTestCase):
    @classmethod
    def setUpClass(cls):
        cls.up = Upstream()
        cls.srv, cls.dir = custom_server("upstream", [
            "--custom-upstream", "http://127.0.0.1:%d" % cls.up.port,
            "--custom-upstream-timeout", "1", "--custom-connect-timeout", "1"])

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        cls.up.stop()

    def test_forwarded_and_relayed(self):
        r = self.srv.request("GET", "/api/v1/custom/legacy.php?api_key=abc&x=1%202")
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.header("Content-Type"), "application/json; charset=utf-8")
        obj = r.json()
        self.assertEqual(obj["method"], "GET")
        self.assertEqual(obj["path"], "/api/v1/custom/legacy.php?api_key=abc&x=1%202")
        self.assertEqual(obj["xff"], "127.0.0.1")
        r = self.srv.request("POST", "/api/v1/custom/sub/legacy.php", body='{"a": 1}',
                             headers={"X-API-Key": "k1", "Content-Type": "application/json"})
        obj = r.json()
        self.assertEqual((obj["method"], obj["path"], obj["body"], obj["x_api_key"], obj["ctype"]),
                         ("POST", "/api/v1/custom/sub/legacy.php", '{"a": 1}', "k1",
                          "application/json"))
        r = self.srv.request("POST", "/api/v1/custom/legacy", body='{"a": 2}')
        self.assertEqual((r.json()["body"], r.json()["ctype"]), ('{"a": 2}', None))
        r = self.srv.request("GET", "/api/v1/custom/legacy", body='{"api_key": "b"}')
        self.assertEqual((r.json()["method"], r.json()["body"]), ("GET", '{"api_key": "b"}'))
        r = self.srv.request("GET", "/api/v1/custom/status.php")
        self.assertEqual((r.status, r.body, r.header("Content-Type")),
                         (403, b"forbidden here", "text/plain; charset=utf-8"))

    def test_scripts_win_and_nothing_else_is_forwarded(self):
        n = len(self.up.seen)
        r = self.srv.get("custom/open_tickets", key=ALL_KEY)
        self.assertEqual(r.json()["count"], 2, r)
        for path in ("/api/v1/nosuch/read.php", "/api/v1/custom/../clients/read.php",
                     "/api/v1/custom/a/../../clients/read.php", "/api/v1/customx/a.php",
                     "/api/v2/custom/a.php", "/custom/a.php"):
            r = self.srv.request("GET", path, query={"api_key": ALL_KEY})
            self.assertJsonError(r, 404, "Unknown endpoint.")
        r = self.srv.request("GET", "/api/v1/clients/read.php", query={"api_key": ALL_KEY})
        self.assertEqual(r.status, 200)
        self.assertEqual(self.up.seen[n:], [])

    def test_slow_upstream_is_504(self):
        t0 = time.time()
        r = self.srv.request("GET", "/api/v1/custom/slow.php")
        self.assertJsonError(r, 504, "did not answer in time")
        self.assertLess(time.time() - t0, 2.9)
        self.assertEqual(self.srv.request("GET", "/api/v1/custom/legacy.php").status, 201)

    def test_throttled_like_every_endpoint(self):
        srv = base.Server(self.srv.db, "upstream_throttle", extra_args=[
            "--custom-dir", self.dir, "--auth-fail-limit", "3",
            "--custom-upstream", "http://127.0.0.1:%d" % self.up.port]).start()
        try:
            for _ in range(3):
                self.assertEqual(srv.get("custom/open_tickets", key="wrong-key-0000000000").status,
                                 401)
            n = len(self.up.seen)
            r = srv.get("custom/open_tickets", key=ALL_KEY)
            self.assertJsonError(r, 429, "Too many failed authentication attempts")
            r = srv.request("GET", "/api/v1/custom/legacy.php")
            self.assertJsonError(r, 429, "Too many failed authentication attempts")
            self.assertEqual(self.up.seen[n:], [])
        finally:
            srv.stop()

    def test_upstream_down_is_504(self):
        closed = base.free_port()
        srv = base.Server(self.srv.db, "upstream_down", extra_args=[
            "--custom-upstream", "http://127.0.0.1:%d" % closed]).start()
        try:
            r = srv.request("POST", "/api/v1/custom/legacy.php", body="{}")
            self.assertJsonError(r, 504, "cannot be reached")
            self.assertEqual(srv.request("GET", "/healthz").status, 200)
        finally:
            srv.stop()


ORDER = [ExampleTests, SandboxTests, KeyPermTests, IdempotencyTests, ReloadTests,
         UpstreamTests]


def main(argv):
    return base.run_test_module(argv, sys.modules[__name__], ORDER, "custom",
                                backends=("sqlite", "mariadb"))


if __name__ == "__main__":
    sys.exit(main(sys.argv))

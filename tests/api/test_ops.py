#!/usr/bin/env python3
"""What an administrator reads from a running server: the access log (text and JSON), the
warnings behind the generic failure texts, /metrics by v1 result, HEAD.

usage: python3 tests/api/test_ops.py PATH/TO/itflowd [-v] [TestClass[.test_name] ...]

Python 3 standard library only; servers are started here on 127.0.0.1 (free ports; a private
seeded database each, see test_api.py) and stopped at the end.

  AccessLogTests  a line per request with an ISO-8601 UTC time, the client, method, path (never
                  the query), status, v1 result, key id and name (never a secret), bytes and
                  duration; --log-format json: one JSON object per line with the same fields.
  WarningTests    a duplicate e-mail and a credential without a decrypt password: the generic
                  failure text in the answer, the real reason logged at warning level.
  ErrorLineTests  with --log-format json a request the server fails on is a JSON "error" line.
  MetricsTests    itflowd_requests_total by endpoint, status and v1 result.
  HeadTests       HEAD answers like GET without a body on /healthz, /metrics and the OpenAPI
                  document; v1 endpoints keep their method rules.
  OpenApiTests    /api/v1/openapi.json is valid OpenAPI 3.1 (the published schema, vendored in
                  tests/api/schemas, with python3-jsonschema), every Schema Object valid JSON
                  Schema 2020-12, every operation summarised and described, the decrypt header
                  declared, and every read's real answer valid against its documented row schema.
"""
import json
import os
import re
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_api as base  # noqa: E402  (helpers: Server, make_seeded_db, keys)

ALL_KEY, C1_KEY, C2_KEY = base.ALL_KEY, base.C1_KEY, base.C2_KEY
SECRETS = [ALL_KEY, C1_KEY, C2_KEY, base.DECRYPT_PW]
TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
TEXT_LINE = re.compile(r"^(%s) (\S+) (\S+) (\S+) (\d{3}) (True|False|-) (key=(\d+):(\S*)|-) "
                       r"(\d+) (\d+\.\d{3})ms$" % TIME)


def requests(srv):
    """The same mix for both formats: (method, path, status, result, key id, body length)."""
    done = []

    def note(r, method, path, key_id):
        done.append((method, path, r.status, base.Response.json(r)["success"]
                     if r.body.startswith(b'{"success"') else "-", key_id, len(r.body)))

    note(srv.get("clients/read", key=ALL_KEY, limit=1), "GET", "/api/v1/clients/read.php", 1)
    note(srv.request("GET", "/api/v1/clients/read.php", headers={"X-API-Key": C1_KEY}),
         "GET", "/api/v1/clients/read.php", 2)
    note(srv.request("GET", "/api/v1/clients/read.php",
                     headers={"Authorization": "Bearer " + C2_KEY}),
         "GET", "/api/v1/clients/read.php", 4)
    note(srv.get("clients/read", key=ALL_KEY + "x"), "GET", "/api/v1/clients/read.php", 0)
    note(srv.post("clients/update", {"client_id": 999999, "client_name": "x"}, key=ALL_KEY),
         "POST", "/api/v1/clients/update.php", 1)
    note(srv.get("credentials/read", key=C1_KEY, api_key_decrypt_password=base.DECRYPT_PW),
         "GET", "/api/v1/credentials/read.php", 2)
    note(srv.request("GET", "/openapi-nope"), "GET", "/openapi-nope", 0)
    time.sleep(0.3)
    return done


class AccessLogTests(base.ApiTestCase):
    def test_text_lines(self):
        srv = base.Server(base.make_seeded_db("ops_text"), "ops_text").start()
        try:
            t0 = time.gmtime(time.time() - 2)
            done = requests(srv)
            log = srv.log_text()
        finally:
            srv.stop()
        lines = [ln for ln in log.splitlines() if not ln.startswith("itflowd: ")
                 and " itflowd: warning: " not in ln]
        # a line is written once its answer is sent: the next request's may come first
        got = []
        for line in lines:
            if " /healthz " in line:  # the readiness checks
                continue
            m = TEXT_LINE.match(line)
            self.assertIsNotNone(m, line)
            self.assertGreaterEqual(m.group(1), time.strftime("%Y-%m-%dT%H:%M:%S", t0))
            self.assertEqual(m.group(2), "127.0.0.1")
            got.append((m.group(3), m.group(4), int(m.group(5)), m.group(6), int(m.group(8) or 0),
                        int(m.group(10))))
        self.assertEqual(sorted(got), sorted(done))
        self.assertIn(" key=4:Globex\\x20R&amp;D\\x20&quot;ops&quot;\\x20&eacute; ", log)
        for s in SECRETS:
            self.assertNotIn(s, log)
        self.assertNotIn("?", "\n".join(lines))
        self.assertNotIn("limit=", log)

    def test_json_lines(self):
        srv = base.Server(base.make_seeded_db("ops_json"), "ops_json",
                          extra_args=["--log-format", "json"]).start()
        try:
            done = requests(srv)
            odd = srv.request("GET", "/api/v1/x\"y%0a%ff")  # a path to escape, not UTF-8
        finally:
            srv.stop()
        log = srv.log_text()
        # every line is JSON: the requests and the server's own start and stop lines
        self.assertEqual([ln for ln in log.splitlines() if not ln.startswith("{")], [])
        entries = [json.loads(ln) for ln in log.splitlines()]
        notes = [e["message"] for e in entries if "path" not in e]
        self.assertTrue(any(m.startswith("listening on http://127.0.0.1:") for m in notes), notes)
        self.assertTrue(any(m.startswith("shutting down (") for m in notes), notes)
        for e in entries:
            self.assertRegex(e["time"], "^%s$" % TIME)
        access = [e for e in entries if e["level"] == "info" and "path" in e]
        access = [e for e in access if e["path"] != "/healthz"]  # the readiness checks
        got = []
        for e in access:
            self.assertRegex(e["time"], "^%s$" % TIME)
            self.assertEqual(e["client"], "127.0.0.1")
            self.assertIsInstance(e["duration_ms"], float)
            got.append((e["method"], e["path"], e["status"], e["result"] or "-", e["key_id"] or 0,
                        e["bytes"]))
        odd = ("GET", "/api/v1/x\"y\\x0a\u00ff", 404, "False", 0, len(odd.body))
        self.assertEqual(sorted(got), sorted(done + [odd]))
        named = [e for e in access if e["key_id"] == 4]
        self.assertEqual(len(named), 1)
        self.assertEqual(named[0]["key_name"], "Globex R&amp;D &quot;ops&quot; &eacute;")
        for s in SECRETS:
            self.assertNotIn(s, log)


class WarningTests(base.ApiTestCase):
    def test_generic_failures_log_their_reason(self):
        srv = base.Server(base.make_seeded_db("ops_warn"), "ops_warn").start()
        try:
            r = srv.post("contacts/create", {"contact_name": "Again",
                                             "contact_email": "alice@acme.example"}, key=C1_KEY)
            self.assertIn("insert query failed", r.json()["message"])
            r = srv.post("credentials/create", {"credential_name": "no password",
                                                "credential_password": "x"}, key=C1_KEY)
            self.assertIn("insert query failed", r.json()["message"])
            r = srv.post("contacts/create", {"contact_email": "new@acme.example"}, key=C1_KEY)
            self.assertIn("insert query failed", r.json()["message"])
            r = srv.post("clients/update", {"client_id": 999999, "client_name": "x"},
                         key=ALL_KEY)
            self.assertIn("update query failed", r.json()["message"])
            time.sleep(0.3)
            log = srv.log_text()
        finally:
            srv.stop()
        warnings = [ln for ln in log.splitlines() if " itflowd: warning: " in ln]
        want = [
            "POST /api/v1/contacts/create.php (key 2): contact_email is already used by another "
            "row (unique)",
            "POST /api/v1/credentials/create.php (key 2): no api_key_decrypt_password "
            "(parameter or X-API-Key-Decrypt-Password)",
            "POST /api/v1/contacts/create.php (key 2): the required field contact_name is "
            "missing or empty",
            "POST /api/v1/clients/update.php (key 1): row 999999 does not exist or is out of the "
            "key's scope",
        ]
        self.assertEqual([w.split(" itflowd: warning: ", 1)[1] for w in warnings], want)
        for w in warnings:
            self.assertRegex(w, "^%s " % TIME)


class ErrorLineTests(base.ApiTestCase):
    def test_a_server_fault_is_a_json_error_line(self):
        if base.on_mariadb():
            self.skipTest("the table is dropped through SQLite")
        db = base.make_seeded_db("ops_fault")
        srv = base.Server(db, "ops_fault", extra_args=["--log-format", "json"]).start()
        try:
            con = base.db_connect(db)
            con.execute("DROP TABLE vendors")
            con.commit()
            con.close()
            r = srv.get("vendors/read", key=ALL_KEY)
            self.assertEqual(r.status, 500)
            time.sleep(0.3)
            log = srv.log_text()
        finally:
            srv.stop()
        errors = [json.loads(ln) for ln in log.splitlines()
                  if ln.startswith("{") and '"level":"error"' in ln]
        self.assertEqual(len(errors), 1, log)
        self.assertEqual((errors[0]["method"], errors[0]["path"], errors[0]["key_id"]),
                         ("GET", "/api/v1/vendors/read.php", 1))
        self.assertIn("vendors", errors[0]["message"])
        self.assertNotIn("itflowd: GET", log)


class MetricsTests(base.ApiTestCase):
    def test_requests_by_endpoint_status_and_result(self):
        srv = base.Server(base.make_seeded_db("ops_metrics"), "ops_metrics").start()
        try:
            for _ in range(3):
                srv.get("clients/read", key=ALL_KEY, limit=1)
            srv.post("clients/update", {"client_id": 999999, "client_name": "x"}, key=ALL_KEY)
            srv.get("clients/read", key="nope" * 8)
            want = ['itflowd_requests_total{endpoint="clients/read",status="200",'
                    'result="True"} 3\n',
                    'itflowd_requests_total{endpoint="clients/update",status="200",'
                    'result="False"} 1\n',
                    'itflowd_requests_total{endpoint="clients/read",status="401",'
                    'result="False"} 1\n']
            deadline = time.time() + 5  # a request is counted once its answer is sent
            while True:
                text = srv.request("GET", "/metrics").body.decode()
                if all(w in text for w in want) or time.time() > deadline:
                    break
                time.sleep(0.05)
        finally:
            srv.stop()
        for w in want:
            self.assertIn(w, text)
        self.assertRegex(text, r'itflowd_requests_total\{endpoint="healthz",status="200"\} \d+\n')


class HeadTests(base.ApiTestCase):
    def test_head_is_get_without_a_body(self):
        srv = base.Server(base.make_seeded_db("ops_head"), "ops_head").start()
        try:
            for path in ("/healthz", "/metrics", "/api/v1/openapi.json"):
                with self.subTest(path=path):
                    g = srv.request("GET", path)
                    h = srv.request("HEAD", path)
                    self.assertEqual(h.status, 200)
                    self.assertEqual(h.body, b"")
                    self.assertEqual(h.header("Content-Type"), g.header("Content-Type"))
                    if path != "/metrics":  # its counters move between the two requests
                        self.assertEqual(int(h.header("Content-Length")), len(g.body))
            r = srv.request("HEAD", "/api/v1/clients/read.php", query={"api_key": ALL_KEY})
            self.assertEqual(r.status, 405)
            self.assertEqual(r.header("Allow"), "GET, POST")
            r = srv.request("POST", "/healthz", body=b"{}")
            self.assertEqual(r.status, 405)
            self.assertEqual(r.header("Allow"), "GET, HEAD")
            r = srv.request("HEAD", "/nope")
            self.assertEqual(r.status, 405)
        finally:
            srv.stop()


SCHEMA_DIR = os.path.join(HERE, "schemas")


class OpenApiTests(base.ApiTestCase):
    @classmethod
    def setUpClass(cls):
        try:
            import jsonschema  # noqa: F401  (python3-jsonschema, scripts/deps.sh test)
        except ImportError:
            raise unittest.SkipTest("python3-jsonschema is not installed")
        cls.srv = base.Server(base.make_seeded_db("ops_openapi"), "ops_openapi").start()
        cls.doc = cls.srv.request("GET", "/api/v1/openapi.json").json()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def test_valid_openapi_3_1(self):
        import jsonschema
        with open(os.path.join(SCHEMA_DIR, "openapi-3.1.json"), encoding="utf-8") as f:
            meta = json.load(f)
        jsonschema.Draft202012Validator.check_schema(meta)
        errors = sorted(jsonschema.Draft202012Validator(meta).iter_errors(self.doc),
                        key=lambda e: list(e.absolute_path))
        self.assertEqual(["%s: %s" % ("/".join(map(str, e.absolute_path)), e.message)
                          for e in errors[:10]], [])
        # the published schema leaves Schema Objects open: each is checked as JSON Schema
        schemas = list(self.doc["components"]["schemas"].items())
        for path, item in self.doc["paths"].items():
            for method, op in item.items():
                for p in op.get("parameters", []):
                    schemas.append(("%s %s %s" % (method, path, p["name"]), p["schema"]))
                body = op.get("requestBody", {}).get("content", {}).get("application/json")
                if body:
                    schemas.append(("%s %s body" % (method, path), body["schema"]))
        for name, schema in schemas:
            with self.subTest(schema=name):
                jsonschema.Draft202012Validator.check_schema(schema)
        # a broken document is caught (the check is not vacuous)
        broken = json.loads(json.dumps(self.doc))
        broken["paths"]["/healthz"]["get"]["responses"] = {"200": {"content": {}}}
        self.assertFalse(jsonschema.Draft202012Validator(meta).is_valid(broken))

    def test_every_operation_described(self):
        for path, item in self.doc["paths"].items():
            for method, op in item.items():
                with self.subTest(op="%s %s" % (method, path)):
                    self.assertTrue(op.get("summary"))
                    self.assertTrue(op.get("description"))
                    for p in op.get("parameters", []):
                        self.assertTrue(p.get("description"), p)
                        self.assertIn(p["schema"]["type"], ("string", "integer"), p)
        creds = self.doc["paths"]["/api/v1/credentials/read.php"]["get"]
        self.assertIn(("header", "X-API-Key-Decrypt-Password"),
                      [(p["in"], p["name"]) for p in creds["parameters"]])
        create = self.doc["paths"]["/api/v1/credentials/create.php"]["post"]
        self.assertIn(("header", "X-API-Key-Decrypt-Password"),
                      [(p["in"], p["name"]) for p in create["parameters"]])
        contacts = self.doc["paths"]["/api/v1/contacts/read.php"]["get"]
        filters = [p["name"] for p in contacts["parameters"] if "Alternatives" in p["description"]]
        self.assertGreater(len(filters), 1)
        self.assertIn("The filters %s" % ", ".join(filters[:-1]), contacts["description"])
        row = self.doc["components"]["schemas"]["invoices_row"]["properties"]
        self.assertEqual(row["invoice_id"]["pattern"], "^-?[0-9]+$")
        self.assertEqual(row["invoice_amount"]["pattern"], "^-?[0-9]+\\.[0-9]{2}$")
        self.assertEqual(row["invoice_date"]["format"], "date")
        self.assertEqual(row["invoice_note"]["type"], ["string", "null"])

    def test_real_answers_match_their_schemas(self):
        import jsonschema
        comps = {"components": self.doc["components"]}
        checked = 0
        for path, item in sorted(self.doc["paths"].items()):
            op = item.get("get")
            if not op or not path.startswith("/api/v1/") or path.endswith("openapi.json"):
                continue
            schema = dict(comps, **op["responses"]["200"]["content"]["application/json"]["schema"])
            for key in (ALL_KEY, C1_KEY):
                with self.subTest(path=path, key=key[:6]):
                    q = {"api_key": key}
                    if "credentials" in path:
                        q["api_key_decrypt_password"] = base.DECRYPT_PW
                    if "invoice_items" in path:
                        q["invoice_id"] = 1
                    r = self.srv.request("GET", path, query=q)
                    want = schema
                    if r.status != 200:  # a client key on an all-clients endpoint: 403
                        self.assertIn(str(r.status), op["responses"], r)
                        want = dict(comps, **op["responses"][str(r.status)]["content"][
                            "application/json"]["schema"])
                    errors = list(jsonschema.Draft202012Validator(want).iter_errors(r.json()))
                    self.assertEqual([e.message for e in errors][:5], [])
                    checked += r.json()["success"] == "True"
        self.assertGreater(checked, 20)
        # a value of the wrong shape is caught
        schema = dict(comps, **{"$ref": "#/components/schemas/invoices_read_result"})
        r = self.srv.get("invoices/read", key=ALL_KEY).json()
        r["data"][0]["invoice_amount"] = 270
        self.assertFalse(jsonschema.Draft202012Validator(schema).is_valid(r))


ORDER = [AccessLogTests, WarningTests, ErrorLineTests, MetricsTests, HeadTests, OpenApiTests]


def main(argv):
    return base.run_test_module(argv, sys.modules[__name__], ORDER, "ops",
                                backends=("sqlite", "mariadb"))


if __name__ == "__main__":
    sys.exit(main(sys.argv))

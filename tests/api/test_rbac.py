#!/usr/bin/env python3
"""RBAC of v26.08 databases: a key runs as its user, with that user's role and client lists.

usage: python3 tests/api/test_rbac.py PATH/TO/itflowd [-v] [TestClass[.test_name] ...]
       ITFLOWD_TEST_DB=mariadb python3 tests/api/test_rbac.py PATH/TO/itflowd ...

Each server is started here on 127.0.0.1 on a free port, on a private v26.08 database
(`itflowd init --itflow-version 26.08 --schema-only` loaded with the shared seed-2608.sql), and
stopped at the end (helpers from test_api.py). Every change to roles, permissions, client lists
and users is made by another process (the sqlite3 module of this test, or the mariadb client),
never through the server, after the server has answered (and so remembered) the key.

  ChangeTests   a role's level, an allow/deny list entry, a user archived or disabled, a key's
                owner changed: each takes effect on the very next request
  KeyModelTests the 403 answers in the reference's order (before the endpoint's 405), the
                target client of writes (body, then query string), log rows carrying the key's
                user, the decrypt password from the body or X-API-Key-Decrypt-Password only
  ClientListTests payments read by the invoice's client for users with client lists (F23);
                writes naming no client refused on another client's invoice, payment or ticket
  QuoteItemTests a quote with items is created and deleted on a v26.08 database (its quote_items
                table, which ITFlow v26.08 still has)
"""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_api as base  # noqa: E402  (helpers: Server, backends, run_test_module)

SEED_2608 = os.path.join(base.SHARED, "conformance", "seed-2608.sql")

ADMIN = "o26Admin000000000000000000000001"  # user 1, admin role
TECH = "o26Tech0000000000000000000000002"  # user 3, role 2 (support 2, client 1)
READONLY = "o26Readonly000000000000000000003"  # user 4, role 1 (level 1 everywhere)
FULL = "o26Full0000000000000000000000004"  # user 5, role 4 (level 3 everywhere)
ALLOW1 = "o26AllowClient100000000000000005"  # user 6, role 4, allow {1}
DENY2 = "o26DenyClient2000000000000000006"  # user 7, role 4, deny {2}
UNTIED = "o26Untied00000000000000000000015"  # api_key_user_id 0
PW = "oracleDecryptPassword00000000001"

MSG_UNTIED = "This API key is not tied to a user and is no longer valid. Please recreate it."
MSG_INVALID = "The user linked to this API key is inactive, archived, or invalid."
MSG_LEVEL = "The user linked to this API key does not have permission for this action."
MSG_CLIENT = ("The user linked to this API key does not have access to the target client for "
              "this write.")


def make_2608_db(name):
    db = base.DB.new_db(name)
    r = base.cli("init", "--db", db, "--itflow-version", "26.08", "--schema-only")
    if r.returncode != 0:
        raise RuntimeError("init --itflow-version 26.08 --schema-only failed: " + r.stderr)
    with open(SEED_2608, encoding="utf-8") as f:
        base.db_script(db, f.read())
    return db


class RbacCase(base.ApiTestCase):
    server = None

    @classmethod
    def setUpClass(cls):
        cls.db = make_2608_db(cls.__name__.lower())
        cls.server = base.Server(cls.db, cls.__name__.lower()).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def change(self, sql):
        """Another process changes the database."""
        base.db_script(self.db, sql)

    def client_ids(self, key):
        r = self.server.get("clients/read", key=key)
        self.assertEqual(r.status, 200, r)
        obj = r.json()
        return [row["client_id"] for row in obj.get("data", [])]

    def assertDenied(self, r, message):
        self.assertJsonError(r, 403)
        self.assertEqual(r.json()["message"], message, r)

    def warm(self, key, n=3):
        """Requests the key answers now, so that the server remembers it."""
        for _ in range(n):
            self.assertEqual(self.server.get("clients/read", key=key, limit=1).status, 200)


class ChangeTests(RbacCase):
    def test_role_level(self):
        self.warm(READONLY)
        # role 1 loses module_client (id 1): the next read is refused
        self.change("DELETE FROM user_role_permissions WHERE user_role_id = 1 AND module_id = 1;")
        self.assertDenied(self.server.get("clients/read", key=READONLY), MSG_LEVEL)
        self.change("INSERT INTO user_role_permissions (user_role_id, module_id, "
                    "user_role_permission_level) VALUES (1, 1, 1);")
        self.assertEqual(self.server.get("clients/read", key=READONLY).status, 200)
        # the Tech role may read contacts but not create them, until its level is raised
        body = {"contact_name": "Rbac Level", "contact_email": "rbac@acme.example",
                "client_id": 1}
        self.assertDenied(self.server.post("contacts/create", body, key=TECH), MSG_LEVEL)
        self.change("UPDATE user_role_permissions SET user_role_permission_level = 2 "
                    "WHERE user_role_id = 2 AND module_id = 1;")
        self.assertCreated(self.server.post("contacts/create", body, key=TECH))
        self.change("UPDATE user_role_permissions SET user_role_permission_level = 1 "
                    "WHERE user_role_id = 2 AND module_id = 1;")
        self.assertDenied(self.server.post("contacts/create", body, key=TECH), MSG_LEVEL)
        # a role made admin has every level, whatever its rows say
        self.assertDenied(self.server.get("invoices/read", key=TECH), MSG_LEVEL)
        self.change("UPDATE user_roles SET role_is_admin = 1 WHERE role_id = 2;")
        self.assertEqual(self.server.get("invoices/read", key=TECH).status, 200)
        self.change("UPDATE user_roles SET role_is_admin = 0 WHERE role_id = 2;")
        self.assertDenied(self.server.get("invoices/read", key=TECH), MSG_LEVEL)

    def test_client_lists(self):
        self.warm(FULL)
        self.assertEqual(self.client_ids(FULL), ["1", "2", "3"])
        self.change("INSERT INTO user_client_permissions (user_id, client_id, permission_type) "
                    "VALUES (5, 2, 'deny');")
        self.assertEqual(self.client_ids(FULL), ["1", "3"])
        self.assertDenied(self.server.post("locations/create",
                                           {"location_name": "Rbac deny", "client_id": 2},
                                           key=FULL), MSG_CLIENT)
        self.change("UPDATE user_client_permissions SET permission_type = 'allow' "
                    "WHERE user_id = 5 AND client_id = 2;")
        self.assertEqual(self.client_ids(FULL), ["2"])
        self.assertCreated(self.server.post("locations/create",
                                            {"location_name": "Rbac allow", "client_id": 2},
                                            key=FULL))
        # an allow list shuts out client 0 (global records) too
        self.assertDenied(self.server.post("clients/create", {"client_name": "Rbac Co"},
                                           key=FULL), MSG_CLIENT)
        self.change("DELETE FROM user_client_permissions WHERE user_id = 5;")
        self.assertEqual(self.client_ids(FULL), ["1", "2", "3"])
        # the allow-listed user's list grows
        self.assertEqual(self.client_ids(ALLOW1), ["1"])
        self.change("INSERT INTO user_client_permissions (user_id, client_id, permission_type) "
                    "VALUES (6, 3, 'allow');")
        self.assertEqual(self.client_ids(ALLOW1), ["1", "3"])
        self.change("DELETE FROM user_client_permissions WHERE user_id = 6 AND client_id = 3;")
        self.assertEqual(self.client_ids(ALLOW1), ["1"])

    def test_user_archived_and_disabled(self):
        self.warm(DENY2)
        self.assertEqual(self.client_ids(DENY2), ["1", "3"])
        self.change("UPDATE users SET user_archived_at = '2026-12-01 00:00:00' WHERE user_id = 7;")
        self.assertDenied(self.server.get("clients/read", key=DENY2), MSG_INVALID)
        self.assertDenied(self.server.post("locations/create",
                                           {"location_name": "x", "client_id": 3}, key=DENY2),
                          MSG_INVALID)
        self.change("UPDATE users SET user_archived_at = NULL WHERE user_id = 7;")
        self.assertEqual(self.client_ids(DENY2), ["1", "3"])
        self.change("UPDATE users SET user_status = 0 WHERE user_id = 7;")
        self.assertDenied(self.server.get("clients/read", key=DENY2), MSG_INVALID)
        self.change("UPDATE users SET user_status = 1, user_type = 2 WHERE user_id = 7;")
        self.assertDenied(self.server.get("clients/read", key=DENY2), MSG_INVALID)
        self.change("UPDATE users SET user_type = 1 WHERE user_id = 7;")
        self.assertEqual(self.client_ids(DENY2), ["1", "3"])

    def test_key_owner(self):
        self.warm(ADMIN)
        self.change("UPDATE api_keys SET api_key_user_id = 0 WHERE api_key_id = 1;")
        self.assertDenied(self.server.get("clients/read", key=ADMIN), MSG_UNTIED)
        self.change("UPDATE api_keys SET api_key_user_id = 6 WHERE api_key_id = 1;")
        self.assertEqual(self.client_ids(ADMIN), ["1"])
        self.change("UPDATE api_keys SET api_key_user_id = 1 WHERE api_key_id = 1;")
        self.assertEqual(self.client_ids(ADMIN), ["1", "2", "3"])


class KeyModelTests(RbacCase):
    def test_order_of_checks(self):
        # a refused user wins over the endpoint's method check; an allowed one gets the 405
        self.assertDenied(self.server.get("tickets/create", key=READONLY), MSG_LEVEL)
        self.assertJsonError(self.server.get("tickets/create", key=ADMIN), 405)
        self.assertDenied(self.server.get("tickets/create", key=UNTIED), MSG_UNTIED)
        logs = base.db_value(self.db, "SELECT COUNT(*) FROM logs")
        # a write's client is checked on every write, also archive/resolve (F21)
        self.assertDenied(self.server.post("clients/archive", {"client_id": 2}, key=DENY2),
                          MSG_CLIENT)
        self.assertDenied(self.server.post("tickets/resolve", {"ticket_id": 3, "client_id": 2},
                                           key=DENY2), MSG_CLIENT)
        # nothing was logged for the refusals
        self.assertEqual(base.db_value(self.db, "SELECT COUNT(*) FROM logs"), logs)

    def test_target_client_from_query(self):
        r = self.server.post("locations/create", {"location_name": "Rbac query"}, key=DENY2,
                             query={"client_id": "2"})
        self.assertDenied(r, MSG_CLIENT)
        r = self.server.post("locations/create", {"location_name": "Rbac query"}, key=DENY2,
                             query={"client_id": "3"})
        new_id = self.assertCreated(r)
        self.assertEqual(base.db_value(self.db, "SELECT location_client_id FROM locations "
                                       "WHERE location_id = ?", (new_id,)), 3)
        # the body wins over the query string
        r = self.server.post("locations/create", {"location_name": "Rbac body", "client_id": 2},
                             key=DENY2, query={"client_id": "3"})
        self.assertDenied(r, MSG_CLIENT)
        # reads ignore client_id
        self.assertEqual(len(self.server.get("clients/read", key=ADMIN, client_id=2)
                             .json()["data"]), 3)

    def test_log_user_id(self):
        last = base.db_value(self.db, "SELECT COALESCE(MAX(log_id), 0) FROM logs")
        r = self.server.post("tickets/create", {"ticket_subject": "Rbac log", "client_id": 1},
                             key=TECH)
        self.assertCreated(r)
        rows = base.db_rows(self.db, "SELECT log_type, log_user_id FROM logs WHERE log_id > ? "
                            "ORDER BY log_id", (last,))
        self.assertEqual([tuple(map(str, row)) for row in rows],
                         [("Ticket", "3"), ("API", "3")])
        # a failed key still logs user 0
        self.assertEqual(self.server.get("clients/read", key="noSuchKey").status, 401)
        self.assertEqual(base.db_value(self.db, "SELECT log_user_id FROM logs WHERE "
                                       "log_action = 'Failed' ORDER BY log_id DESC"), 0)

    def test_decrypt_password_sources(self):
        q = {"credential_id": 1}
        r = self.server.request("GET", "/api/v1/credentials/read.php",
                                query=dict(q, api_key=ADMIN, api_key_decrypt_password=PW))
        self.assertEqual(r.json()["success"], "False", r)  # the query string is ignored
        r = self.server.request("GET", "/api/v1/credentials/read.php",
                                query=dict(q, api_key=ADMIN),
                                headers={"X-API-Key-Decrypt-Password": PW})
        self.assertEqual(r.json()["data"][0]["credential_password"], "S3cret!Acme", r)
        r = self.server.request("GET", "/api/v1/credentials/read.php",
                                query=dict(q, api_key=ADMIN),
                                body={"api_key_decrypt_password": PW})
        self.assertEqual(r.json()["data"][0]["credential_password"], "S3cret!Acme", r)

    def test_length_guard(self):
        body = {"api_key_decrypt_password": PW, "credential_name": "x",
                "credential_password": "p", "credential_uri": "\u00e9" * 500, "client_id": 1}
        self.assertCreated(self.server.post("credentials/create", body, key=ADMIN))
        body["credential_uri"] = "\u00e9" * 501
        r = self.server.post("credentials/create", body, key=ADMIN)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, b'{"success":"False","message":"credential_uri is too long '
                                 b'to store."}')


class ClientListTests(RbacCase):
    """F23 and the row a write touches: a user limited by client lists reads only the payments of
    invoices of allowed clients, and writes that name no client_id (payments, invoice items,
    ticket replies) are refused on a row of a client the user may not act on."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # invoice 2 (Globex, client 2) payable with a payment; invoice 1 (Acme) with a balance
        base.db_script(cls.db, (
            "UPDATE invoices SET invoice_status = 'Sent' WHERE invoice_id = 2;\n"
            "UPDATE invoices SET invoice_amount = 300.00 WHERE invoice_id = 1;\n"
            "INSERT INTO payments (payment_id, payment_date, payment_amount, "
            "payment_currency_code, payment_method, payment_reference, payment_created_at, "
            "payment_account_id, payment_invoice_id) VALUES (7, '2026-03-10', 20.00, 'USD', "
            "'Cash', 'GLBX-PAY-7', '2026-12-01 10:00:00', 1, 2);\n"))

    def payment_ids(self, key, **params):
        r = self.server.get("payments/read", key=key, **params)
        self.assertEqual(r.status, 200, r)
        return sorted(int(p["payment_id"]) for p in r.json().get("data", []))

    def count(self, sql, args=()):
        return int(base.db_value(self.db, sql, args))

    def test_payments_read_by_the_invoices_client(self):
        for key in (ADMIN, FULL):
            self.assertTrue({1, 7} <= set(self.payment_ids(key)), key)
        for key in (ALLOW1, DENY2):
            with self.subTest(key=key):
                seen = self.payment_ids(key)
                self.assertIn(1, seen)
                self.assertNotIn(7, seen)
                clients = {self.count("SELECT invoice_client_id FROM payments JOIN invoices ON "
                                      "invoice_id = payment_invoice_id WHERE payment_id = ?",
                                      (p,)) for p in seen}
                self.assertEqual(clients, {1})
                r = self.server.get("payments/read", key=key, limit=1)
                self.assertEqual(r.header("X-Total-Count"), str(len(seen)), r)
        self.assertEqual(self.payment_ids(ALLOW1, payment_id=7), [])
        self.assertEqual(self.payment_ids(DENY2, payment_invoice_id=2), [])
        self.assertIn(7, self.payment_ids(FULL, payment_invoice_id=2))

    def test_payment_writes_on_another_clients_invoice(self):
        before = self.count("SELECT COUNT(*) FROM payments")
        # a deny list lets writes that name no client through: the invoice's client decides;
        # an allow list needs the client named, and then it must be the invoice's
        for key, named in ((DENY2, {}), (ALLOW1, {"client_id": 1})):
            with self.subTest(key=key):
                r = self.server.post("payments/create", dict(named, payment_invoice_id=2,
                                                             payment_amount="5.00"), key=key)
                self.assertEqual(r.json()["success"], "False", r)
                r = self.server.post("payments/delete", dict(named, payment_id=7), key=key)
                self.assertEqual(r.json()["success"], "False", r)
        self.assertEqual(self.count("SELECT COUNT(*) FROM payments"), before)
        self.assertEqual(self.count("SELECT COUNT(*) FROM payments WHERE payment_id = 7"), 1)
        # the user's own client: allowed
        for key, named in ((DENY2, {}), (ALLOW1, {"client_id": 1})):
            with self.subTest(key=key):
                pid = self.assertCreated(self.server.post("payments/create", dict(
                    named, payment_invoice_id=1, payment_amount="10.00"), key=key))
                self.assertEqual(self.payment_ids(key, payment_id=pid), [int(pid)])
                r = self.server.post("payments/delete", dict(named, payment_id=pid), key=key)
                self.assertEqual(r.json()["success"], "True", r)

    def test_item_and_reply_on_another_clients_row(self):
        items = self.count("SELECT COUNT(*) FROM invoice_items")
        replies = self.count("SELECT COUNT(*) FROM ticket_replies")
        for key, named in ((DENY2, {}), (ALLOW1, {"client_id": 1})):
            with self.subTest(key=key):
                r = self.server.post("invoice_items/create", dict(
                    named, invoice_id=2, name="Sneaked", qty=1, price="1.00"), key=key)
                self.assertEqual(r.json()["success"], "False", r)
                r = self.server.post("ticket_replies/create", dict(
                    named, ticket_id=3, ticket_reply="Sneaked"), key=key)
                self.assertEqual(r.json()["success"], "False", r)
        self.assertEqual(self.count("SELECT COUNT(*) FROM invoice_items"), items)
        self.assertEqual(self.count("SELECT COUNT(*) FROM ticket_replies"), replies)
        # their own client's rows, and an unrestricted user on client 2's
        self.assertCreated(self.server.post("ticket_replies/create", {
            "ticket_id": 1, "ticket_reply": "Own client"}, key=DENY2))
        self.assertCreated(self.server.post("ticket_replies/create", {
            "ticket_id": 1, "client_id": 1, "ticket_reply": "Own client"}, key=ALLOW1))
        self.assertCreated(self.server.post("ticket_replies/create", {
            "ticket_id": 3, "ticket_reply": "Any client"}, key=FULL))
        self.assertEqual(self.count("SELECT COUNT(*) FROM ticket_replies"), replies + 3)

    def test_payment_events_carry_the_invoices_client(self):
        pid = int(self.assertCreated(self.server.post("payments/create", {
            "payment_invoice_id": 2, "payment_amount": "1.00"}, key=ADMIN)))

        def seen(key):
            r = self.server.request("GET", "/api/v1/events", query={
                "api_key": key, "types": "payments.*", "limit": "1000"})
            self.assertEqual(r.status, 200, r)
            return [(e["id"], e["client_id"]) for e in r.json()["data"]]

        self.assertIn((pid, 2), seen(ADMIN))
        for key in (ALLOW1, DENY2):
            self.assertNotIn(pid, [i for i, _ in seen(key)])


class QuoteItemTests(RbacCase):
    def test_quote_with_items(self):
        r = self.server.post("quotes/create", {
            "client_id": 1, "quote_scope": "Docks", "quote_expire": "2027-01-31",
            "items": [{"name": "Dock", "qty": 2, "price": "120.50"}]}, key=ADMIN)
        qid = self.assertCreated(r)
        rows = base.db_rows(self.db, "SELECT item_name, item_quote_id FROM quote_items "
                                     "WHERE item_quote_id = ?", (qid,))
        self.assertEqual([(a, int(b)) for a, b in rows], [("Dock", int(qid))])
        r = self.server.post("quotes/delete", {"quote_id": qid, "client_id": 1}, key=ADMIN)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["success"], "True", r)
        self.assertEqual(base.db_rows(self.db, "SELECT COUNT(*) FROM quote_items WHERE "
                                               "item_quote_id = ?", (qid,)), [(0,)])


ORDER = [ChangeTests, KeyModelTests, ClientListTests, QuoteItemTests]


def run_2608(argv, module, order, label):
    """main() of a v26.08 test file: its classes on both backends, once the seed is found."""
    if not os.path.isfile(SEED_2608):
        sys.stderr.write("v26.08 seed not found: %s (set ITFLOWD_SHARED)\n" % SEED_2608)
        return 2
    return base.run_test_module(argv, module, order, label, backends=("sqlite", "mariadb"))


def main(argv):
    return run_2608(argv, sys.modules[__name__], ORDER, "rbac")


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""The write endpoints beyond ITFlow's v1 (issue 13): ticket replies, the ticket workflow and the
billing writes, each checked in the database, with a scoped key on another client's row, bad input
(400, nothing written) and the log rows; and exact money (10,000 random line items).

usage: python3 tests/api/test_endpoints.py PATH/TO/itflowd [-v] [TestClass[.test_name] ...]
       ITFLOWD_TEST_DB=mariadb python3 tests/api/test_endpoints.py PATH/TO/itflowd

Python 3 standard library only; servers are started here on 127.0.0.1 (free ports, a private
seeded database each: test_api.py's helpers) and stopped at the end.

  TicketReplyTests     ticket_replies/read and /create (ITFlow v26.08's names and answers)
  TicketWorkflowTests  tickets/update (status by id or name), tickets/close, tickets/reopen
  InvoiceItemTests     invoice_items/create: amounts, tax, stock, the Paid and scope refusals
  BillingTests         invoices/create with items, status moves, payments to Partial and Paid
  GenericWriteTests    create/update/delete/archive/unarchive of the modules written from their
                       descriptors: rows, another client's row refused, bad input, log rows
  ReplayTests          the calls of the integrations of issue 13 (mobile app, ITSM migration,
                       Home Assistant, time tracker, Python wrapper), each one answered True
  MoneyTests           10,000 random line items: one invoice with all of them and 50 invoices
                       filled item by item both total exactly what Python's Decimal computes
  OpenApiTests         every new endpoint is in openapi.json
"""
import concurrent.futures
import datetime
import json
import os
import random
import re
import sys
from decimal import ROUND_HALF_UP, Decimal

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_api as base  # noqa: E402  (helpers: Server, make_seeded_db, db_rows, keys)

ALL_KEY, C1_KEY, C2_KEY = base.ALL_KEY, base.C1_KEY, base.C2_KEY
KEY_NAME = {ALL_KEY: "oracle-all-clients", C1_KEY: "oracle-client-1-acme"}
CENT = Decimal("0.01")
INSERT_FAILED = (
    b'{"success":"False","message":"Auth success but insert query failed, ensure ALL required '
    b"variables are provided (and aren't duplicates where applicable) and database schema is "
    b"up-to-date. Turn on error logging and look for 'undefined index'.\"}")
UPDATE_FAILED = base.MSG_UPDATE_FAILED
DELETE_FAILED = (
    b'{"success":"False","message":"Auth success but delete query failed. Ensure ALL required '
    b'variables are provided and database schema is up-to-date. Most likely cause: '
    b'asset\\/client\\/company ID mismatch."}')
OK_COUNT = b'{"success":"True","count":1}'

NEW_ENDPOINTS = [
    "ticket_replies/read", "ticket_replies/create", "invoice_items/create",
    "tickets/update", "tickets/close", "tickets/reopen",
    "invoices/create", "invoices/update", "invoices/delete", "invoices/archive",
    "invoices/unarchive", "payments/create",
    "domains/create", "domains/update", "domains/delete", "domains/archive", "domains/unarchive",
    "networks/create", "networks/update", "software/create", "software/update",
    "vendors/create", "vendors/update", "locations/update", "locations/delete",
    "certificates/update", "certificates/delete", "credentials/delete", "credentials/archive",
    "documents/delete", "documents/archive", "assets/archive", "assets/unarchive",
    "tickets/delete", "tickets/archive", "expenses/create", "expenses/update",
    "products/create", "products/update", "products/delete", "clients/delete",
    "document_folders/read", "document_folders/create",
    "quotes/create", "quotes/update", "quotes/delete", "quotes/archive", "payments/delete",
]


def money(v):
    """A stored decimal (SQLite: int/float, MariaDB: text) or an answer's string, as cents."""
    return Decimal(str(v)).quantize(CENT, rounding=ROUND_HALF_UP)


def extra_billing_rows(db):
    """A 7.25 % and a 10 % tax, a tangible product with 5 in stock, invoice counter INV-100."""
    base.db_script(db, (
        "INSERT INTO taxes (tax_id, tax_name, tax_percent) VALUES (1, 'Sales', 7.25);\n"
        "INSERT INTO taxes (tax_id, tax_name, tax_percent) VALUES (2, 'VAT', 10);\n"
        "INSERT INTO products (product_id, product_name, product_type, product_price, "
        "product_currency_code, product_category_id) VALUES (2, 'Dock', 'product', 120, 'USD', 0);\n"
        "INSERT INTO product_stock (stock_qty, stock_note, stock_product_id) VALUES (5, 'Initial', 2);\n"
        "UPDATE settings SET config_invoice_prefix = 'INV-', config_invoice_next_number = 100;\n"))


class EndpointCase(base.ApiTestCase):
    seed_extra = staticmethod(extra_billing_rows)

    @classmethod
    def setUpClass(cls):
        name = cls.__name__.lower()
        cls.server = base.Server(base.make_seeded_db(name, cls.seed_extra), name).start()

    def rows(self, sql, args=()):
        return base.db_rows(self.server.db, sql, args)

    def count(self, table):
        return base.db_value(self.server.db, "SELECT COUNT(*) FROM %s" % table)

    def logs_after(self, log_id):
        return self.rows("SELECT log_type, log_action, log_description, log_client_id, "
                         "log_entity_id FROM logs WHERE log_id > ? ORDER BY log_id", (log_id,))

    def last_log(self):
        return base.db_value(self.server.db, "SELECT COALESCE(MAX(log_id), 0) FROM logs")

    def snapshot(self, *tables):
        return {t: self.rows("SELECT * FROM %s ORDER BY 1" % t) for t in tables}

    def assertNothingWritten(self, before, *tables):
        self.assertEqual(self.snapshot(*tables), before)

    def post(self, endpoint, body, key=ALL_KEY):
        return self.server.post(endpoint, body, key=key)


# ---------------------------------------------------------------------------------------------

class TicketReplyTests(EndpointCase):
    def test_read_rows_have_the_ticket_and_writer(self):
        rows = self.assertRead(self.server.get("ticket_replies/read", key=ALL_KEY, ticket_id=1))
        self.assertEqual(list(rows[0].keys()), [
            "ticket_reply_id", "ticket_reply", "ticket_reply_type", "ticket_reply_time_worked",
            "ticket_reply_created_at", "ticket_reply_updated_at", "ticket_reply_archived_at",
            "ticket_reply_by", "ticket_reply_ticket_id", "ticket_prefix", "ticket_number",
            "ticket_subject", "ticket_client_id", "ticket_reply_by_name"])
        self.assertEqual((rows[0]["ticket_reply_id"], rows[0]["ticket_reply_time_worked"],
                          rows[0]["ticket_prefix"], rows[0]["ticket_reply_by_name"]),
                         ("1", "01:30:00", "TCK-", "Oracle Admin"))

    def test_read_scope_type_and_archived(self):
        s = self.server
        base.db_script(s.db, (
            "INSERT INTO ticket_replies (ticket_reply_id, ticket_reply, ticket_reply_type, "
            "ticket_reply_time_worked, ticket_reply_archived_at, ticket_reply_by, "
            "ticket_reply_ticket_id) VALUES (50, 'old note', 'Internal', '00:05:00', "
            "'2026-12-01 08:00:00', 1, 1);\n"
            "INSERT INTO ticket_replies (ticket_reply_id, ticket_reply, ticket_reply_type, "
            "ticket_reply_time_worked, ticket_reply_by, ticket_reply_ticket_id) VALUES "
            "(51, 'from the client', 'Client', NULL, 3, 3);\n"))
        ids = lambda r: [x["ticket_reply_id"] for x in self.assertRead(r)]  # noqa: E731
        # a client 1 key sees no reply of client 2's ticket; by id neither
        self.assertNotIn("51", ids(s.get("ticket_replies/read", key=C1_KEY)))
        self.assertEqual(s.get("ticket_replies/read", key=C1_KEY, ticket_reply_id=51).json()["success"],
                         "False")
        # a Client reply is named after its contact
        row = self.assertRead(s.get("ticket_replies/read", key=C2_KEY, type="client"))[0]
        self.assertEqual((row["ticket_reply_id"], row["ticket_reply_by_name"]), ("51", "Gina Globex"))
        # archived: hidden, also with include_archived=false (F24); shown with 1
        self.assertNotIn("50", ids(s.get("ticket_replies/read", key=ALL_KEY, ticket_id=1)))
        self.assertNotIn("50", ids(s.get("ticket_replies/read", key=ALL_KEY, ticket_id=1,
                                         include_archived="false")))
        self.assertIn("50", ids(s.get("ticket_replies/read", key=ALL_KEY, ticket_id=1,
                                      include_archived="1")))
        r = s.get("ticket_replies/read", key=ALL_KEY, limit=-1)
        self.assertJsonError(r, 400, "limit")

    def test_read_pages_and_sync_parameters(self):
        """The engine's list read: X-Total-Count and Link, after_id, updated_since and sort, with
        type applied beside ticket_id."""
        s = self.server
        base.db_script(s.db, "".join(
            "INSERT INTO ticket_replies (ticket_reply_id, ticket_reply, ticket_reply_type, "
            "ticket_reply_created_at, ticket_reply_by, ticket_reply_ticket_id) VALUES "
            "(%d, 'page %d', '%s', '2030-01-01 00:00:%02d', 1, 2);\n"
            % (60 + i, i, "Public" if i % 2 else "Internal", i) for i in range(7)))
        ids = lambda r: [x["ticket_reply_id"] for x in self.assertRead(r)]  # noqa: E731
        live = [str(x[0]) for x in self.rows(
            "SELECT r.ticket_reply_id FROM ticket_replies r JOIN tickets t ON t.ticket_id = "
            "r.ticket_reply_ticket_id WHERE r.ticket_reply_archived_at IS NULL "
            "ORDER BY r.ticket_reply_id")]
        on2 = [str(x[0]) for x in self.rows(
            "SELECT ticket_reply_id FROM ticket_replies WHERE ticket_reply_ticket_id = 2 AND "
            "ticket_reply_archived_at IS NULL ORDER BY ticket_reply_id")]
        read = lambda **q: s.get("ticket_replies/read", key=ALL_KEY, **q)  # noqa: E731
        # offset paging: the list's size and the next page
        r = read(limit=2, offset=1)
        self.assertEqual(ids(r), live[1:3])
        self.assertEqual(r.header("X-Total-Count"), str(len(live)))
        self.assertIn("offset=3", r.header("Link"))
        self.assertIsNone(read(limit=2, offset=len(live) - 1).header("Link"))
        # type beside ticket_id: the filtered size
        r = read(ticket_id=2, type="PUBLIC", limit=1)
        self.assertEqual((ids(r), r.header("X-Total-Count")), (["61"], "3"))
        self.assertIn("offset=1", r.header("Link"))
        # by id: one row, no paging headers
        r = read(ticket_reply_id=61)
        self.assertEqual((ids(r), r.header("X-Total-Count")), (["61"], None))
        # after_id: keyset pages in id order, the Link carrying the page's last id
        got, after = [], 0
        while True:
            r = read(ticket_id=2, limit=3, after_id=after)
            got += ids(r)
            self.assertEqual(r.header("X-Total-Count"), str(len(on2)))
            link = re.search(r'<([^>]*)>; rel="next"', r.header("Link") or "")
            if not link:
                break
            after = link.group(1).rsplit("after_id=", 1)[1]
        self.assertEqual(got, on2)
        # updated_since and sort
        r = read(ticket_id=2, updated_since="2030-01-01 00:00:03")
        self.assertEqual((ids(r), r.header("X-Total-Count")), (["63", "64", "65", "66"], "4"))
        r = read(updated_since="2030-01-01", sort="-created_at", type="internal")
        self.assertEqual(ids(r), ["66", "64", "62", "60"])
        self.assertJsonError(read(sort="ticket_reply"), 400, "sort")
        self.assertJsonError(read(after_id=1, offset=2), 400, "after_id")

    def test_create_internal_reply_with_time_worked(self):
        s = self.server
        mark = self.last_log()
        r = self.post("ticket_replies/create", {"ticket_id": 2, "ticket_reply": " <b>as sent</b>\n",
                                                "ticket_reply_time_worked": "100:30:00",
                                                "ticket_reply_type": "Client"}, key=C1_KEY)
        rid = self.assertCreated(r)
        self.assertEqual(self.rows(
            "SELECT ticket_reply, ticket_reply_type, ticket_reply_time_worked, ticket_reply_by, "
            "ticket_reply_ticket_id FROM ticket_replies WHERE ticket_reply_id = ?", (rid,)),
            [(" <b>as sent</b>\n", "Internal", "100:30:00", 0, 2)])
        self.assertEqual(self.logs_after(mark), [
            ("Ticket", "Reply", "Added a Internal reply to ticket TCK-2 - VPN access request via "
             "API (oracle-client-1-acme)", 1, 2),
            ("API", "Success", "Added a Internal reply to ticket TCK-2 via API "
             "(oracle-client-1-acme)", 1, 0)])
        # an Internal reply is no first response
        self.assertEqual(self.rows("SELECT ticket_first_response_at FROM tickets WHERE ticket_id = 2"),
                         [(None,)])

    def test_public_reply_resolving_by_status_name(self):
        mark = self.last_log()
        rid = self.assertCreated(self.post("ticket_replies/create", {
            "ticket_id": 1, "client_id": 1, "ticket_reply": "Fixed", "ticket_reply_type": "PUBLIC",
            "ticket_reply_time_worked": "1:2:3", "ticket_status": "resolved"}))
        row = self.rows("SELECT ticket_status, ticket_first_response_at IS NOT NULL, "
                        "ticket_resolved_at IS NOT NULL FROM tickets WHERE ticket_id = 1")[0]
        self.assertEqual(tuple(int(x) for x in row), (4, 1, 1))
        self.assertEqual(self.rows("SELECT ticket_reply_type, ticket_reply_time_worked FROM "
                                   "ticket_replies WHERE ticket_reply_id = ?", (rid,)),
                         [("Public", "00:00:00")])
        self.assertEqual(self.rows("SELECT ticket_history_status, ticket_history_description FROM "
                                   "ticket_history WHERE ticket_history_ticket_id = 1 ORDER BY 1, 2"),
                         [("Resolved", "Resolved via the API (oracle-all-clients)"),
                          ("Resolved", "Status set to Resolved via the API (oracle-all-clients)")])
        self.assertEqual([x[:2] for x in self.logs_after(mark)],
                         [("Ticket", "Resolved"), ("Ticket", "Reply"), ("API", "Success")])

    def test_refusals_write_nothing(self):
        before = self.snapshot("ticket_replies", "tickets", "ticket_history", "logs")
        cases = [
            (C2_KEY, {"ticket_id": 1, "ticket_reply": "x"}, 200, INSERT_FAILED),  # client 1's
            (ALL_KEY, {"ticket_id": 1, "ticket_reply": "x", "client_id": 2}, 200, INSERT_FAILED),
            (ALL_KEY, {"ticket_id": 999, "ticket_reply": "x"}, 200, INSERT_FAILED),
            (ALL_KEY, {"ticket_id": 1, "ticket_reply": "0"}, 200, INSERT_FAILED),
            (ALL_KEY, {"ticket_reply": "x"}, 200, INSERT_FAILED),
        ]
        for key, body, status, answer in cases:
            with self.subTest(body=body):
                r = self.post("ticket_replies/create", body, key=key)
                self.assertEqual((r.status, r.body), (status, answer))
        r = self.post("ticket_replies/create", {"ticket_id": 1, "ticket_reply": "x",
                                                "ticket_status": 77})
        self.assertJsonError(r, 400, "ticket_status")
        r = self.post("ticket_replies/create", {"ticket_id": [1], "ticket_reply": "x"})
        self.assertJsonError(r, 400, "ticket_id")
        self.assertNothingWritten(before, "ticket_replies", "tickets", "ticket_history", "logs")


# ---------------------------------------------------------------------------------------------

class TicketWorkflowTests(EndpointCase):
    def test_update_fields_status_and_history(self):
        mark = self.last_log()
        r = self.post("tickets/update", {"ticket_id": 2, "ticket_status": "on hold",
                                         "ticket_priority": "High", "ticket_subject": "VPN <i>now</i>",
                                         "ticket_details": "<p>raw</p>", "ticket_billable": 1,
                                         "ticket_category": "7",
                                         "ticket_schedule": "2026-12-24 10:00:00"}, key=C1_KEY)
        self.assertEqual((r.status, r.body), (200, b'{"success":"True","count":1}'))
        self.assertEqual(self.rows(
            "SELECT ticket_status, ticket_priority, ticket_subject, ticket_details, ticket_billable, "
            "CONCAT('#', ticket_category), ticket_schedule FROM tickets WHERE ticket_id = 2"
            .replace("CONCAT('#', ticket_category)", "'#' || ticket_category"
                     if not base.on_mariadb() else "CONCAT('#', ticket_category)")),
            [(3, "High", "VPN now", "<p>raw</p>", 1, "#7", "2026-12-24 10:00:00")])
        hist = self.rows("SELECT ticket_history_status, ticket_history_description FROM "
                         "ticket_history WHERE ticket_history_ticket_id = 2 ORDER BY ticket_history_id")
        self.assertEqual(hist, [
            ("On Hold", "Status set to On Hold via API (oracle-client-1-acme)"),
            ("On Hold", "API (oracle-client-1-acme) changed priority from Low to High")])
        self.assertEqual(self.logs_after(mark), [
            ("Ticket", "Edit", "Edited ticket TCK-2 via API (oracle-client-1-acme)", 1, 2),
            ("API", "Success", "Edited ticket TCK-2 via API (oracle-client-1-acme)", 1, 0)])
        # by id, case of the name does not matter; Resolved sets resolved_at
        r = self.post("tickets/update", {"ticket_id": 2, "client_id": 1, "ticket_status": 4})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.rows("SELECT ticket_status, ticket_resolved_at IS NOT NULL FROM "
                                   "tickets WHERE ticket_id = 2"), [(4, 1)])

    def test_close_and_reopen(self):
        s = self.server
        mark = self.last_log()
        # ticket 3 (client 2) is resolved: reopen, then close
        r = self.post("tickets/reopen", {"ticket_id": 3}, key=C2_KEY)
        self.assertEqual((r.status, r.body), (200, b'{"success":"True","count":1}'))
        self.assertEqual(self.rows("SELECT ticket_status, ticket_resolved_at FROM tickets WHERE "
                                   "ticket_id = 3"), [(2, None)])
        r = self.post("tickets/reopen", {"ticket_id": 3}, key=C2_KEY)  # not resolved any more
        self.assertEqual((r.status, r.body), (200, UPDATE_FAILED))
        r = self.post("tickets/close", {"ticket_id": 3}, key=C2_KEY)
        self.assertEqual((r.status, r.body), (200, b'{"success":"True","count":1}'))
        self.assertEqual(self.rows("SELECT ticket_status, ticket_closed_at IS NOT NULL FROM tickets "
                                   "WHERE ticket_id = 3"), [(5, 1)])
        self.assertEqual(self.rows("SELECT ticket_reply, ticket_reply_type, ticket_reply_time_worked "
                                   "FROM ticket_replies WHERE ticket_reply_ticket_id = 3"),
                         [("Ticket closed.", "Internal", "00:01:00")])
        self.assertEqual([x[:2] for x in self.logs_after(mark)],
                         [("Ticket", "Reopened"), ("API", "Success"), ("Ticket", "Closed"),
                          ("API", "Success")])
        # a closed ticket stays closed: no second close, no update
        for ep, body in (("tickets/close", {"ticket_id": 3}),
                         ("tickets/update", {"ticket_id": 3, "ticket_subject": "again"})):
            r = self.post(ep, body, key=C2_KEY)
            self.assertEqual((r.status, r.body), (200, UPDATE_FAILED))
        self.assertEqual(s.get("tickets/read", key=C2_KEY, ticket_id=3).json()["data"][0]
                         ["ticket_subject"], "Email bounce")

    def test_other_clients_ticket_and_bad_input(self):
        before = self.snapshot("tickets", "ticket_history", "ticket_replies", "logs")
        for ep in ("tickets/update", "tickets/close", "tickets/reopen"):
            with self.subTest(ep=ep):
                r = self.post(ep, {"ticket_id": 1, "ticket_subject": "hijack"}, key=C2_KEY)
                self.assertEqual((r.status, r.body), (200, UPDATE_FAILED))
        self.assertJsonError(self.post("tickets/update", {"ticket_id": 1, "ticket_status": "Bogus"},
                                       key=C1_KEY), 400, "ticket_status")
        self.assertJsonError(self.post("tickets/update", {"ticket_id": 1,
                                                          "ticket_schedule": "tomorrow"},
                                       key=C1_KEY), 400, "ticket_schedule")
        self.assertJsonError(self.post("tickets/update", {"ticket_id": 1,
                                                          "ticket_subject": "x" * 501},
                                       key=C1_KEY), 400, "ticket_subject")
        self.assertNothingWritten(before, "tickets", "ticket_history", "ticket_replies", "logs")


# ---------------------------------------------------------------------------------------------

class InvoiceItemTests(EndpointCase):
    def items(self, invoice_id):
        return [(r[0], money(r[1]), money(r[2]), money(r[3]), money(r[4]), money(r[5]))
                for r in self.rows("SELECT item_name, item_quantity, item_price, item_subtotal, "
                                   "item_tax, item_total FROM invoice_items WHERE item_invoice_id "
                                   "= ? ORDER BY item_id", (invoice_id,))]

    def amount(self, invoice_id):
        return money(self.rows("SELECT invoice_amount FROM invoices WHERE invoice_id = ?",
                               (invoice_id,))[0][0])

    def test_create_amounts_tax_and_total(self):
        mark = self.last_log()
        i1 = self.assertCreated(self.post("invoice_items/create", {
            "invoice_id": 1, "name": "Extra seat", "description": "Seat 7", "qty": 2, "price": 45}))
        i2 = self.assertCreated(self.post("invoice_items/create", {
            "invoice_id": 1, "name": "Taxed", "qty": "1.5", "price": "19.99", "tax_id": 1,
            "item_order": 5}))
        self.assertGreater(i2, i1)
        self.assertEqual(self.items(1)[-2:], [
            ("Extra seat", Decimal("2.00"), Decimal("45.00"), Decimal("90.00"), Decimal("0.00"),
             Decimal("90.00")),
            # 29.985 -> 29.99; 29.985 x 7.25 % = 2.1739125 -> 2.17; total 32.1589125 -> 32.16
            ("Taxed", Decimal("1.50"), Decimal("19.99"), Decimal("29.99"), Decimal("2.17"),
             Decimal("32.16"))])
        self.assertEqual(self.amount(1), Decimal("270.00") + Decimal("90.00") + Decimal("32.16"))
        self.assertEqual(self.logs_after(mark), [
            ("Invoice", "Edit", "Added item Extra seat to invoice INV-1 via API (oracle-all-clients)",
             1, 1),
            ("API", "Success", "Added item Extra seat to invoice INV-1 via API (oracle-all-clients)",
             1, 0),
            ("Invoice", "Edit", "Added item Taxed to invoice INV-1 via API (oracle-all-clients)",
             1, 1),
            ("API", "Success", "Added item Taxed to invoice INV-1 via API (oracle-all-clients)",
             1, 0)])

    def test_stock_of_a_tangible_product(self):
        s = self.server
        self.assertCreated(self.post("invoice_items/create", {
            "invoice_id": 1, "name": "Dock", "qty": 2, "price": 120, "product_id": 2}))
        self.assertEqual(self.rows("SELECT stock_qty, stock_note FROM product_stock WHERE "
                                   "stock_product_id = 2 ORDER BY stock_id"),
                         [(5, "Initial"), (-2, "QTY 2 - Invoice 1")])
        before = self.snapshot("invoice_items", "invoices", "product_stock")
        mark = self.last_log()
        r = self.post("invoice_items/create", {"invoice_id": 1, "name": "Dock", "qty": 10,
                                               "price": 120, "product_id": 2})
        self.assertEqual((r.status, r.body), (200, INSERT_FAILED))
        self.assertNothingWritten(before, "invoice_items", "invoices", "product_stock")
        # the refusal is logged on purpose (v26.08)
        self.assertEqual(self.logs_after(mark), [
            ("API", "Failure", "Failed adding item Dock to invoice INV-1 via API "
             "(oracle-all-clients) due to insufficient stock", 1, 0)])
        s.get("invoice_items/read", key=ALL_KEY, invoice_id=1)

    def test_refusals(self):
        base.db_script(self.server.db, (
            "INSERT INTO invoices (invoice_id, invoice_prefix, invoice_number, invoice_status, "
            "invoice_date, invoice_due, invoice_amount, invoice_currency_code, invoice_category_id, "
            "invoice_client_id) VALUES (40, 'INV-', 40, 'Paid', '2026-01-01', '2026-01-31', 10, "
            "'USD', 0, 2);\n"
            "INSERT INTO invoices (invoice_id, invoice_prefix, invoice_number, invoice_status, "
            "invoice_date, invoice_due, invoice_amount, invoice_currency_code, invoice_category_id, "
            "invoice_client_id) VALUES (41, 'INV-', 41, 'Sent', '2026-01-01', '2026-01-31', 0, "
            "'USD', 0, 2);\n"))
        before = self.snapshot("invoice_items", "invoices", "product_stock", "logs")
        for key, body in (
                (ALL_KEY, {"invoice_id": 40, "name": "Late", "qty": 1, "price": 1}),   # Paid
                (C1_KEY, {"invoice_id": 41, "name": "x", "qty": 1, "price": 1}),      # client 2's
                (ALL_KEY, {"invoice_id": 41, "client_id": 1, "name": "x", "qty": 1}),
                (ALL_KEY, {"invoice_id": 41, "name": "x", "qty": 0, "price": 1}),
                (ALL_KEY, {"invoice_id": 41, "name": "", "qty": 1, "price": 1}),
                (ALL_KEY, {"invoice_id": 999, "name": "x", "qty": 1, "price": 1})):
            with self.subTest(body=body):
                r = self.post("invoice_items/create", body, key=key)
                self.assertEqual((r.status, r.body), (200, INSERT_FAILED))
        for body, word in (({"invoice_id": 41, "name": "x", "qty": "two", "price": 1}, "qty"),
                           ({"invoice_id": 41, "name": "x", "qty": 1, "price": [1]}, "price"),
                           ({"invoice_id": 41, "name": "x", "qty": 1, "price": "1e20"}, "price")):
            with self.subTest(body=body):
                self.assertJsonError(self.post("invoice_items/create", body), 400, word)
        self.assertNothingWritten(before, "invoice_items", "invoices", "product_stock", "logs")

    def test_name_cut_at_200_characters(self):
        name = "é" * 250
        iid = self.assertCreated(self.post("invoice_items/create", {
            "invoice_id": 1, "name": name, "qty": 1, "price": 1}))
        self.assertEqual(self.rows("SELECT item_name FROM invoice_items WHERE item_id = ?", (iid,)),
                         [("é" * 200,)])


# ---------------------------------------------------------------------------------------------

class BillingTests(EndpointCase):
    def invoice(self, invoice_id):
        row = self.assertRead(self.server.get("invoices/read", key=ALL_KEY,
                                              invoice_id=invoice_id))[0]
        return row["invoice_status"], Decimal(row["invoice_amount"])

    def test_invoice_with_items_payments_partial_then_paid(self):
        mark = self.last_log()
        n = base.db_value(self.server.db, "SELECT config_invoice_next_number FROM settings")
        iid = self.assertCreated(self.post("invoices/create", {
            "client_id": 2, "invoice_scope": "December hours", "invoice_discount_amount": "5.50",
            "invoice_date": "2026-12-01",
            "items": [{"name": "Support", "qty": 2.5, "price": "80.00", "tax_id": 2},
                      {"name": "Cable", "description": "Cat6", "qty": 3, "price": "0.10"},
                      {"name": "Fee", "qty": 1, "price": "-1.25"}]}))
        row = self.rows("SELECT invoice_prefix, invoice_number, invoice_status, invoice_date, "
                        "invoice_due, invoice_currency_code, invoice_client_id, invoice_url_key "
                        "FROM invoices WHERE invoice_id = ?", (iid,))[0]
        self.assertEqual(row[:7], ("INV-", n, "Draft", "2026-12-01", "2026-12-16", "USD", 2))
        self.assertEqual(len(row[7]), 32)
        # 200.00 + 20.00 tax, 0.30, -1.25; less the 5.50 discount
        self.assertEqual(self.invoice(iid), ("Draft", Decimal("213.55")))
        self.assertEqual(self.rows("SELECT config_invoice_next_number FROM settings"), [(n + 1,)])
        self.assertEqual(self.rows("SELECT history_status, history_description FROM history WHERE "
                                   "history_invoice_id = ?", (iid,)),
                         [("Draft", "Invoice created via API (oracle-all-clients)")])
        self.assertEqual(self.logs_after(mark), [
            ("Invoice", "Create", "Created invoice INV-%d - December hours via API "
             "(oracle-all-clients)" % n, 2, iid),
            ("API", "Success", "Created invoice INV-%d via API (oracle-all-clients)" % n, 2, 0)])
        # a Draft takes no payment; Paid is no status one may set
        self.assertJsonError(self.post("payments/create", {"payment_invoice_id": iid,
                                                           "payment_amount": 10}), 400, "Draft")
        self.assertJsonError(self.post("invoices/update", {"invoice_id": iid, "client_id": 2,
                                                           "invoice_status": "Paid"}), 400,
                             "invoice_status")
        r = self.post("invoices/update", {"invoice_id": iid, "client_id": 2,
                                          "invoice_status": "Sent"})
        self.assertEqual((r.status, r.body), (200, b'{"success":"True","count":1}'))
        # 100.00 then 113.55: Partial, then Paid; more than the balance is refused
        pid = self.assertCreated(self.post("payments/create", {
            "payment_invoice_id": iid, "payment_amount": "100", "payment_method": "Card"}))
        self.assertEqual(self.invoice(iid), ("Partial", Decimal("213.55")))
        self.assertJsonError(self.post("payments/create", {"payment_invoice_id": iid,
                                                           "payment_amount": "113.56"}),
                             400, "balance", "113.55")
        self.assertCreated(self.post("payments/create", {"payment_invoice_id": iid,
                                                         "payment_amount": 113.55}))
        self.assertEqual(self.invoice(iid), ("Paid", Decimal("213.55")))
        self.assertEqual(self.rows("SELECT payment_amount, payment_currency_code, payment_method, "
                                   "payment_invoice_id FROM payments WHERE payment_id = ?", (pid,))
                         [0][1:], ("USD", "Card", iid))
        self.assertEqual([r[:2] for r in self.rows(
            "SELECT history_status, history_description FROM history WHERE history_invoice_id = ? "
            "ORDER BY history_id", (iid,))], [
            ("Draft", "Invoice created via API (oracle-all-clients)"),
            ("Sent", "Invoice marked Sent via API (oracle-all-clients)"),
            ("Partial", "Payment added"), ("Paid", "Payment added")])
        self.assertIn(("Invoice", "Payment", "Payment amount of 113.55 USD added to invoice INV-%d "
                       "via API (oracle-all-clients)" % n, 2, iid), self.logs_after(mark))
        # deleting a payment moves the invoice back (Paid -> Partial), as the UI does
        self.assertEqual(self.post("payments/delete", {"payment_id": pid}, key=C1_KEY).status, 403)
        r = self.post("payments/delete", {"payment_id": pid, "client_id": 1})  # not client 1's
        self.assertEqual(r.body, DELETE_FAILED)
        self.assertEqual(self.post("payments/delete", {"payment_id": pid}).body, OK_COUNT)
        self.assertEqual(self.invoice(iid), ("Partial", Decimal("213.55")))
        self.assertEqual(self.logs_after(mark)[-2:], [
            ("Invoice", "Edit", "Deleted payment of 100.00 on invoice INV-%d via API "
             "(oracle-all-clients)" % n, 2, iid),
            ("API", "Success", "Deleted payment of 100.00 on invoice INV-%d (Partial) via API "
             "(oracle-all-clients)" % n, 2, 0)])

    def test_quote_with_items(self):
        mark = self.last_log()
        qid = self.assertCreated(self.post("quotes/create", {
            "client_id": 1, "quote_scope": "New laptops", "quote_expire": "2027-01-31",
            "items": [{"name": "Laptop", "qty": 3, "price": "1299.99", "tax_id": 1,
                       "product_id": 2},
                      {"name": "Setup", "qty": "1.5", "price": 80}]}))
        # 3899.97 + 282.747825 tax -> 4182.72; 120.00; a quote takes no stock
        row = self.rows("SELECT quote_status, quote_number, quote_client_id FROM quotes WHERE "
                        "quote_id = ?", (qid,))[0]
        self.assertEqual((row[0], row[2]), ("Draft", 1))
        self.assertEqual(money(self.rows("SELECT quote_amount FROM quotes WHERE quote_id = ?",
                                         (qid,))[0][0]), Decimal("4302.72"))
        self.assertEqual([(a, money(b), money(c)) for a, b, c in self.rows(
            "SELECT item_name, item_tax, item_total FROM quote_items WHERE item_quote_id = ? "
            "ORDER BY item_id", (qid,))],
            [("Laptop", Decimal("282.75"), Decimal("4182.72")),
             ("Setup", Decimal("0.00"), Decimal("120.00"))])
        self.assertEqual(self.rows("SELECT COUNT(*) FROM product_stock WHERE stock_note LIKE "
                                   "'%Quote%'"), [(0,)])
        self.assertEqual([x[:2] for x in self.logs_after(mark)],
                         [("Quote", "Create"), ("API", "Success")])
        before = self.snapshot("quotes", "quote_items", "history", "logs")
        self.assertEqual(self.post("quotes/update", {"quote_id": qid, "quote_note": "x"},
                                   key=C2_KEY).body, UPDATE_FAILED)
        self.assertJsonError(self.post("quotes/create", {
            "client_id": 1, "items": [{"name": "x", "qty": 1, "price": "1.2.3"}]}), 400, "price")
        self.assertNothingWritten(before, "quotes", "quote_items", "history", "logs")
        r = self.post("quotes/update", {"quote_id": qid, "client_id": 1,
                                        "quote_discount_amount": "2.72"})
        self.assertEqual(r.body, OK_COUNT)
        self.assertEqual(money(self.rows("SELECT quote_amount FROM quotes WHERE quote_id = ?",
                                         (qid,))[0][0]), Decimal("4300.00"))
        self.assertEqual(self.post("quotes/delete", {"quote_id": qid, "client_id": 1}).body,
                         OK_COUNT)
        self.assertEqual(self.rows("SELECT COUNT(*) FROM quote_items WHERE item_quote_id = ?",
                                   (qid,)), [(0,)])

    def test_create_defaults_history_and_delete_of_quotes_and_invoices(self):
        s = self.server
        currency = base.db_value(s.db, "SELECT company_currency FROM companies WHERE company_id = 1")
        self.addCleanup(base.db_script, s.db, "UPDATE companies SET company_currency = %s;\n" % (
            "NULL" if currency is None else "'%s'" % currency))
        base.db_script(s.db, (
            "UPDATE companies SET company_currency = 'EUR';\n"
            "UPDATE settings SET config_quote_prefix = 'QT-', config_quote_next_number = 7;\n"))
        terms = base.db_value(s.db, "SELECT client_net_terms FROM clients WHERE client_id = 1")
        today = datetime.datetime.now(datetime.timezone.utc).date()
        inv_n = base.db_value(s.db, "SELECT config_invoice_next_number FROM settings")
        # a client that does not exist: nothing written, no number taken
        before = self.snapshot("quotes", "invoices", "history", "logs", "settings")
        for endpoint in ("quotes/create", "invoices/create"):
            with self.subTest(endpoint=endpoint):
                self.assertJsonError(self.post(endpoint, {"client_id": 77}), 400,
                                     "client_id names no client")
        self.assertNothingWritten(before, "quotes", "invoices", "history", "logs", "settings")
        # a quote without items: today, the company's currency, a Draft worth 0 less the discount
        mark = self.last_log()
        qid = self.assertCreated(self.post("quotes/create", {
            "client_id": 1, "quote_scope": "Spare parts", "quote_discount_amount": "4.25",
            "quote_status": "Accepted"}))
        row = self.rows("SELECT quote_prefix, quote_number, quote_status, quote_date, "
                        "quote_expire, quote_currency_code, quote_url_key, quote_amount FROM "
                        "quotes WHERE quote_id = ?", (qid,))[0]
        self.assertEqual(row[:6], ("QT-", 7, "Draft", today.isoformat(), None, "EUR"))
        self.assertEqual((len(row[6]), money(row[7])), (32, Decimal("-4.25")))
        self.assertEqual(self.rows("SELECT config_quote_next_number FROM settings"), [(8,)])
        self.assertEqual(self.rows("SELECT history_status, history_description, "
                                   "history_invoice_id FROM history WHERE history_quote_id = ?",
                                   (qid,)),
                         [("Draft", "Quote created via API (oracle-all-clients)", 0)])
        self.assertEqual(self.logs_after(mark), [
            ("Quote", "Create", "Created quote QT-7 - Spare parts via API (oracle-all-clients)",
             1, qid),
            ("API", "Success", "Created quote QT-7 via API (oracle-all-clients)", 1, 0)])
        q2 = self.assertCreated(self.post("quotes/create", {
            "client_id": 1, "quote_currency_code": "GBP", "quote_date": "2026-03-01"}))
        self.assertEqual(self.rows("SELECT quote_number, quote_date, quote_currency_code, "
                                   "quote_amount FROM quotes WHERE quote_id = ?", (q2,))[0][:3],
                         (8, "2026-03-01", "GBP"))
        # an invoice: the same defaults, a status sent at create is Draft all the same, due after
        # the client's net terms
        iid = self.assertCreated(self.post("invoices/create", {
            "client_id": 1, "invoice_discount_amount": "1.10", "invoice_status": "Paid"}))
        row = self.rows("SELECT invoice_number, invoice_status, invoice_date, invoice_due, "
                        "invoice_currency_code, invoice_amount FROM invoices WHERE invoice_id = ?",
                        (iid,))[0]
        self.assertEqual(row[:5], (inv_n, "Draft", today.isoformat(),
                                   (today + datetime.timedelta(days=terms or 0)).isoformat(),
                                   "EUR"))
        self.assertEqual(money(row[5]), Decimal("-1.10"))
        self.assertEqual(self.rows("SELECT history_status, history_description, history_quote_id "
                                   "FROM history WHERE history_invoice_id = ?", (iid,)),
                         [("Draft", "Invoice created via API (oracle-all-clients)", 0)])
        # deleting takes the rows that belong to it: items and history (and an invoice's payments)
        self.assertCreated(self.post("invoice_items/create", {
            "invoice_id": iid, "name": "Part", "qty": 1, "price": 3}))
        base.db_script(s.db, (
            "INSERT INTO quote_items (item_name, item_quantity, item_price, item_subtotal, "
            "item_tax, item_total, item_order, item_quote_id) VALUES ('Part', 1, 3, 3, 0, 3, 0, "
            "%d);\n"
            "INSERT INTO payments (payment_date, payment_amount, payment_currency_code, "
            "payment_account_id, payment_invoice_id) VALUES ('2026-03-01', 1, 'EUR', 0, %d);\n"
            % (qid, iid)))
        self.assertEqual(self.post("quotes/delete", {"quote_id": qid, "client_id": 1}).body,
                         OK_COUNT)
        self.assertEqual(self.post("invoices/delete", {"invoice_id": iid, "client_id": 1}).body,
                         OK_COUNT)
        for sql, x in (("SELECT COUNT(*) FROM quote_items WHERE item_quote_id = ?", qid),
                       ("SELECT COUNT(*) FROM history WHERE history_quote_id = ?", qid),
                       ("SELECT COUNT(*) FROM invoice_items WHERE item_invoice_id = ?", iid),
                       ("SELECT COUNT(*) FROM payments WHERE payment_invoice_id = ?", iid),
                       ("SELECT COUNT(*) FROM history WHERE history_invoice_id = ?", iid)):
            with self.subTest(sql=sql):
                self.assertEqual(self.rows(sql, (x,)), [(0,)])
        self.assertEqual(len(self.rows("SELECT quote_id FROM quotes WHERE quote_id = ?", (q2,))),
                         1)

    def test_discount_update_moves_the_amount(self):
        iid = self.assertCreated(self.post("invoices/create", {
            "client_id": 1, "items": [{"name": "A", "qty": 1, "price": 10}]}))
        self.assertEqual(self.invoice(iid)[1], Decimal("10.00"))
        r = self.post("invoices/update", {"invoice_id": iid, "client_id": 1,
                                          "invoice_discount_amount": 2.5})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.invoice(iid)[1], Decimal("7.50"))

    def test_scoped_keys_and_bad_input_write_nothing(self):
        before = self.snapshot("invoices", "invoice_items", "payments", "history", "logs",
                               "settings")
        # a client 2 key cannot update client 1's invoice; payments need an all-clients key
        self.assertEqual(self.post("invoices/update", {"invoice_id": 1, "invoice_scope": "x"},
                                   key=C2_KEY).body, UPDATE_FAILED)
        self.assertJsonError(self.post("payments/create", {"payment_invoice_id": 1,
                                                           "payment_amount": 1}, key=C1_KEY),
                             403, "all clients")
        for body, word in (
                ({"client_id": 1, "items": {"name": "x"}}, "items"),
                ({"client_id": 1, "items": [{"name": "x", "qty": 1, "price": "abc"}]}, "price"),
                ({"client_id": 1, "items": [{"name": "ok", "qty": 1}, {"qty": 1}]}, "items[1]"),
                ({"client_id": 1, "items": [{"name": "x", "qty": 99, "product_id": 2}]}, "stock"),
                ({"client_id": 1, "invoice_discount_amount": "ten"}, "invoice_discount_amount"),
                ({"client_id": 1, "invoice_date": "31/12/2026"}, "invoice_date"),
                ({"client_id": 77}, "client")):
            with self.subTest(body=body):
                self.assertJsonError(self.post("invoices/create", body), 400, word)
        for body, word in (({"payment_invoice_id": 1, "payment_amount": "1,00"}, "payment_amount"),
                           ({"payment_invoice_id": 1, "payment_amount": -5}, "payment_amount")):
            with self.subTest(body=body):
                self.assertJsonError(self.post("payments/create", body), 400, word)
        r = self.post("payments/create", {"payment_invoice_id": 999, "payment_amount": 1})
        self.assertEqual(r.body, INSERT_FAILED)
        self.assertNothingWritten(before, "invoices", "invoice_items", "payments", "history",
                                  "logs", "settings")


# ---------------------------------------------------------------------------------------------

# module, table, id column, log type, noun, create body (client 1), update body, the column the
# update changes and its new value
GENERIC = [
    ("domains", "domains", "domain_id", "Domain", "domain",
     {"domain_name": "example.org", "domain_expire": "2027-05-01", "domain_registrar": 0},
     {"domain_notes": "renewed"}, "domain_notes", "renewed"),
    ("networks", "networks", "network_id", "Network", "network",
     {"network_name": "LAN", "network": "10.0.0.0/24", "network_gateway": "10.0.0.1",
      "network_vlan": 10}, {"network_gateway": "10.0.0.254"}, "network_gateway", "10.0.0.254"),
    ("software", "software", "software_id", "Software", "software",
     {"software_name": "Office", "software_seats": 5, "software_expire": "2027-01-31"},
     {"software_seats": 7}, "software_seats", 7),
    ("vendors", "vendors", "vendor_id", "Vendor", "vendor",
     {"vendor_name": "Dell", "vendor_website": "https://dell.example"},
     {"vendor_phone": "+1 (555) 010-2000"}, "vendor_phone", "15550102000"),
    ("locations", "locations", "location_id", "Location", "location",
     {"location_name": "Branch", "location_city": "Springfield"},
     {"location_city": "Shelbyville"}, "location_city", "Shelbyville"),
    ("certificates", "certificates", "certificate_id", "Certificate", "certificate",
     {"certificate_name": "Web", "certificate_domain": "www.example.org"},
     {"certificate_issued_by": "Example CA"}, "certificate_issued_by", "Example CA"),
]


class GenericWriteTests(EndpointCase):
    def test_create_update_archive_unarchive_delete(self):
        for module, table, idc, typ, noun, create, update, col, val in GENERIC:
            with self.subTest(module=module):
                name = create[module.rstrip("s") + "_name" if module != "software"
                              else "software_name"]
                mark = self.last_log()
                rid = self.assertCreated(self.post(module + "/create", create, key=C1_KEY))
                row = self.rows("SELECT %s_client_id FROM %s WHERE %s = ?"
                                % (idc[:-3], table, idc), (rid,))
                self.assertEqual(row, [(1,)])
                r = self.post(module + "/update", dict(update, **{idc: rid}), key=C1_KEY)
                self.assertEqual((r.status, r.body), (200, OK_COUNT))
                got = self.rows("SELECT %s FROM %s WHERE %s = ?" % (col, table, idc), (rid,))
                self.assertEqual([str(x[0]) for x in got], [str(val)])
                for fn in ("archive", "unarchive"):
                    r = self.post(module + "/" + fn, {idc: rid}, key=C1_KEY)
                    self.assertEqual((r.status, r.body), (200, OK_COUNT), fn)
                r = self.post(module + "/delete", {idc: rid}, key=C1_KEY)
                self.assertEqual((r.status, r.body), (200, OK_COUNT))
                self.assertEqual(self.rows("SELECT * FROM %s WHERE %s = ?" % (table, idc),
                                           (rid,)), [])
                key = "oracle-client-1-acme"
                self.assertEqual(self.logs_after(mark), [
                    (typ, "Create", "%s via API (%s)" % (name, key), 1, rid),
                    # (v1's certificates/create names the certificate in its API row too)
                    ("API", "Success", "Created %s %s via API (%s)" % (noun, name, key), 1,
                     rid if module == "certificates" else 0),
                    (typ, "Edit", "%s via API (%s)" % (name, key), 1, rid),
                    ("API", "Success", "Edited %s %s via API (%s)" % (noun, name, key), 1, 0),
                    (typ, "Archive", "%s archived via API (%s)" % (name, key), 1, rid),
                    ("API", "Success", "Archived %s %s via API (%s)" % (noun, name, key), 1, 0),
                    (typ, "Unarchive", "%s unarchived via API (%s)" % (name, key), 1, rid),
                    ("API", "Success", "Unarchived %s %s via API (%s)" % (noun, name, key), 1, 0),
                    (typ, "Delete", "%s deleted via API (%s)" % (name, key), 1, rid),
                    ("API", "Success", "Deleted %s %s via API (%s)" % (noun, name, key), 1, 0)])

    def test_other_clients_rows_and_bad_input(self):
        for module, table, idc, typ, noun, create, update, col, val in GENERIC:
            with self.subTest(module=module):
                rid = self.assertCreated(self.post(module + "/create", create, key=C1_KEY))
                before = self.snapshot(table, "logs")
                for fn, answer in (("update", UPDATE_FAILED), ("archive", UPDATE_FAILED),
                                   ("delete", DELETE_FAILED)):
                    r = self.post(module + "/" + fn, dict(update, **{idc: rid}), key=C2_KEY)
                    self.assertEqual((r.status, r.body), (200, answer), fn)
                    # an all-clients key naming another client neither
                    r = self.post(module + "/" + fn, dict(update, **{idc: rid, "client_id": 2}))
                    self.assertEqual((r.status, r.body), (200, answer), fn)
                # no client named by an all-clients key: the reference's failure
                r = self.post(module + "/create", create)
                self.assertEqual((r.status, r.body), (200, INSERT_FAILED))
                name_field = [k for k in create if k.endswith("_name")][0]
                r = self.post(module + "/create", dict(create, **{name_field: "x" * 300}),
                              key=C1_KEY)
                self.assertJsonError(r, 400, name_field)
                r = self.post(module + "/create", dict(create, **{name_field: ["x"]}), key=C1_KEY)
                self.assertJsonError(r, 400, name_field)
                self.assertNothingWritten(before, table, "logs")

    def test_all_clients_modules(self):
        pid = self.assertCreated(self.post("products/create", {
            "product_name": "Dock", "product_type": "product", "product_price": "99.995"}))
        self.assertEqual([(a, money(b)) for a, b in self.rows(
            "SELECT product_type, product_price FROM products WHERE product_id = ?", (pid,))],
            [("product", Decimal("100.00"))])
        self.assertEqual(self.post("products/update", {"product_id": pid,
                                                       "product_price": 12.345}).body, OK_COUNT)
        self.assertEqual(money(self.rows("SELECT product_price FROM products WHERE product_id = ?",
                                         (pid,))[0][0]), Decimal("12.35"))
        eid = self.assertCreated(self.post("expenses/create", {
            "expense_description": "Taxi", "expense_amount": "23.5", "expense_date": "2026-12-01",
            "expense_client_id": 2}))
        self.assertEqual([(money(a), b, c) for a, b, c in self.rows(
            "SELECT expense_amount, expense_date, expense_client_id FROM expenses WHERE "
            "expense_id = ?", (eid,))], [(Decimal("23.50"), "2026-12-01", 2)])
        before = self.snapshot("products", "expenses", "logs")
        self.assertJsonError(self.post("products/create", {"product_name": "x"}, key=C1_KEY),
                             403, "all clients")
        self.assertJsonError(self.post("expenses/delete", {"expense_id": eid}, key=C2_KEY),
                             403, "all clients")
        self.assertJsonError(self.post("products/create", {"product_name": "x",
                                                           "product_type": "gadget"}), 400,
                             "product_type")
        self.assertJsonError(self.post("expenses/create", {"expense_amount": "12,50",
                                                           "expense_date": "2026-12-01"}), 400,
                             "expense_amount")
        self.assertEqual(self.post("expenses/create", {"expense_amount": "5"}).body,
                         INSERT_FAILED)  # no date
        self.assertNothingWritten(before, "products", "expenses", "logs")

    def test_client_delete_only_when_archived_with_its_rows(self):
        base.db_script(self.server.db, (
            "INSERT INTO clients (client_id, client_name, client_currency_code, client_net_terms) "
            "VALUES (20, 'Doomed', 'USD', 0);\n"
            "INSERT INTO contacts (contact_name, contact_client_id) VALUES ('Dora', 20);\n"
            "INSERT INTO tickets (ticket_prefix, ticket_number, ticket_subject, ticket_details, "
            "ticket_status, ticket_created_by, ticket_client_id) VALUES ('TCK-', 900, 'x', 'y', 1, "
            "0, 20);\n"
            "INSERT INTO logs (log_type, log_action, log_description, log_client_id) VALUES "
            "('Client', 'Create', 'Doomed', 20);\n"))
        tid = base.db_value(self.server.db, "SELECT ticket_id FROM tickets WHERE ticket_client_id = 20")
        self.assertCreated(self.post("ticket_replies/create", {"ticket_id": tid,
                                                               "ticket_reply": "x"}))
        r = self.post("clients/delete", {"client_id": 20})
        self.assertEqual((r.status, r.body), (200, DELETE_FAILED))  # not archived
        self.assertEqual(self.post("clients/archive", {"client_id": 20}).body, OK_COUNT)
        r = self.post("clients/delete", {"client_id": 20}, key=C1_KEY)  # not its client
        self.assertEqual((r.status, r.body), (200, DELETE_FAILED))
        mark = self.last_log()
        self.assertEqual(self.post("clients/delete", {"client_id": 20}).body, OK_COUNT)
        for table, col in (("clients", "client_id"), ("contacts", "contact_client_id"),
                           ("tickets", "ticket_client_id"), ("logs", "log_client_id")):
            self.assertEqual(self.rows("SELECT COUNT(*) FROM %s WHERE %s = 20" % (table, col)),
                             [(0,)], table)
        self.assertEqual(self.rows("SELECT COUNT(*) FROM ticket_replies WHERE "
                                   "ticket_reply_ticket_id = ?", (tid,)), [(0,)])
        self.assertEqual(self.logs_after(mark), [
            ("Client", "Deleted", "Deleted client Doomed and all associated data via API "
             "(oracle-all-clients)", 0, 0),
            ("API", "Success", "Deleted client Doomed via API (oracle-all-clients)", 0, 0)])


# Calls of the integrations issue 13 names, written from their public descriptions: the endpoint
# names and bodies they send (some with a form Content-Type: the body is JSON all the same).
REPLAY = [
    # Home Assistant integration
    ("domains/create.php", {"client_id": 1, "domain_name": "ha.example.net"}),
    ("domains/update.php", {"client_id": 1, "domain_id": "{domains/create.php}",
                            "domain_expire": "2027-03-01"}),
    ("networks/create.php", {"client_id": 1, "network_name": "IoT", "network": "10.9.0.0/24",
                             "network_gateway": "10.9.0.1"}),
    ("software/create.php", {"client_id": 1, "software_name": "Home Assistant OS",
                             "software_version": "16.3"}),
    ("document_folders/create.php", {"client_id": 1, "folder_name": "Automations"}),
    ("document_folders/read.php", None),
    ("tickets/update.php", {"client_id": 1, "ticket_id": 2, "ticket_priority": "High",
                            "ticket_status": "Open"}),
    ("tickets/close.php", {"client_id": 1, "ticket_id": 2}),
    # ITSM migration tool: replies with time worked, statuses by name, categories
    ("ticket_replies/create.php", {"client_id": 1, "ticket_id": 1, "ticket_reply": "Imported",
                                   "ticket_reply_type": "Public",
                                   "ticket_reply_time_worked": "00:45:00"}),
    ("tickets/update.php", {"client_id": 1, "ticket_id": 1, "ticket_status": "Resolved",
                            "ticket_category": "4"}),
    ("ticket_replies/read", None),
    # time-tracker bridge
    ("invoices/create.php", {"client_id": 1, "invoice_scope": "Week 49",
                             "items": [{"name": "Consulting", "description": "12.5 h",
                                        "qty": 12.5, "price": 95, "tax_id": 0}]}),
    ("invoices/update.php", {"client_id": 1, "invoice_id": "{invoices/create.php}",
                             "invoice_status": "Sent"}),
    # mobile app
    ("invoices/read.php", None),
    ("payments/create.php", {"payment_invoice_id": "{invoices/create.php}",
                             "payment_amount": "1187.50", "payment_method": "Card"}),
    # Python wrapper
    ("clients/archive.php", {"client_id": 3}),
    ("clients/delete.php", {"client_id": 3}),
]


class ReplayTests(EndpointCase):
    def test_integration_calls_succeed(self):
        s = self.server
        made = {}
        for path, body in REPLAY:
            with self.subTest(path=path):
                if body is None:
                    r = s.request("GET", "/api/v1/" + path, query={"api_key": ALL_KEY})
                    self.assertRead(r)
                    continue
                body = {k: (made[v[1:-1]] if isinstance(v, str) and v.startswith("{") else v)
                        for k, v in body.items()}
                body["api_key"] = ALL_KEY
                r = s.request("POST", "/api/v1/" + path, body=json.dumps(body),
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json()["success"], "True", r)
                if path.endswith("create.php"):
                    made[path] = r.json()["data"][0]["insert_id"]
        inv = made["invoices/create.php"]
        self.assertEqual(self.rows("SELECT invoice_status FROM invoices WHERE invoice_id = ?",
                                   (inv,)), [("Paid",)])
        self.assertEqual(self.rows("SELECT ticket_status FROM tickets WHERE ticket_id IN (1, 2) "
                                   "ORDER BY ticket_id"), [(4,), (5,)])


# ---------------------------------------------------------------------------------------------

ITEMS = int(os.environ.get("ITFLOWD_MONEY_ITEMS", "10000"))  # a multiple of PER_INVOICE
PER_INVOICE = 200
RATES = {0: Decimal(0), 1: Decimal("7.25"), 2: Decimal("10")}


def random_items(seed):
    rnd = random.Random(seed)
    items = []
    for _ in range(ITEMS):
        qty = Decimal(rnd.randint(1, 2000)) / Decimal(rnd.choice((1, 10, 100)))
        price = Decimal(rnd.randint(-500, 250000)) / 100
        items.append({"name": "Item", "qty": str(qty), "price": str(price),
                      "tax_id": rnd.choice((0, 1, 2))})
    return items


def expected_total(item):
    """The UI's amounts, exactly, each rounded to the cent half away from zero."""
    sub = Decimal(item["qty"]) * Decimal(item["price"])
    tax = sub * RATES[item["tax_id"]] / 100
    return (sub + tax).quantize(CENT, rounding=ROUND_HALF_UP)


class MoneyTests(EndpointCase):
    def test_ten_thousand_items_total_to_the_cent_both_ways(self):
        s = self.server
        items = random_items(13)
        want = sum((expected_total(i) for i in items), Decimal(0))
        # way 1: one invoices/create with every item
        iid = self.assertCreated(self.post("invoices/create", {"client_id": 3, "items": items}))
        amount = Decimal(self.assertRead(s.get("invoices/read", key=ALL_KEY, invoice_id=iid))[0]
                         ["invoice_amount"])
        self.assertEqual(amount, want)
        stored = self.rows("SELECT item_total FROM invoice_items WHERE item_invoice_id = ?", (iid,))
        self.assertEqual(len(stored), ITEMS)
        self.assertEqual(sum((money(r[0]) for r in stored), Decimal(0)), want)
        # way 2: 50 invoices filled item by item through invoice_items/create
        ids = [self.assertCreated(self.post("invoices/create", {"client_id": 3}))
               for _ in range(ITEMS // PER_INVOICE)]

        def add(k):
            body = dict(items[k], invoice_id=ids[k // PER_INVOICE])
            return s.post("invoice_items/create", body, key=ALL_KEY).status

        # four invoices at a time, item by item in turn: the 8 threads add to four invoices at
        # once, two to each (concurrent writes of one invoice must not lose an item's amount)
        order = [j * PER_INVOICE + i for b in range(0, len(ids), 4) for i in range(PER_INVOICE)
                 for j in range(b, min(b + 4, len(ids)))]
        self.assertEqual(sorted(order), list(range(ITEMS)))
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            self.assertEqual(set(pool.map(add, order)), {200})
        total = Decimal(0)
        for k, inv in enumerate(ids):
            got = Decimal(self.assertRead(s.get("invoices/read", key=ALL_KEY, invoice_id=inv))[0]
                          ["invoice_amount"])
            part = sum((expected_total(i) for i in items[k * PER_INVOICE:(k + 1) * PER_INVOICE]),
                       Decimal(0))
            self.assertEqual(got, part, "invoice %d" % inv)
            total += got
        self.assertEqual(total, want)


class OpenApiTests(EndpointCase):
    def test_new_endpoints_are_documented(self):
        r = self.server.request("GET", "/api/v1/openapi.json")
        doc = json.loads(r.body)
        for ep in NEW_ENDPOINTS:
            with self.subTest(ep=ep):
                self.assertIn("/api/v1/%s.php" % ep, doc["paths"])
        create = doc["paths"]["/api/v1/ticket_replies/create.php"]["post"]
        self.assertIn("CreateResult", json.dumps(create["responses"]["200"]))
        body = doc["paths"]["/api/v1/invoices/create.php"]["post"]["requestBody"]
        items = body["content"]["application/json"]["schema"]["properties"]["items"]
        self.assertEqual(items["type"], "array")
        self.assertEqual(items["items"]["properties"]["qty"], {"type": "number"})


ORDER = [TicketReplyTests, TicketWorkflowTests, InvoiceItemTests, BillingTests,
         GenericWriteTests, ReplayTests, MoneyTests, OpenApiTests]


def main(argv):
    return base.run_test_module(argv, sys.modules[__name__], ORDER, "endpoints",
                                backends=("sqlite", "mariadb"))


if __name__ == "__main__":
    sys.exit(main(sys.argv))

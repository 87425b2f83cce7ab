#!/usr/bin/env python3
"""Ticket SLAs of v26.08 databases (modules/sla.c, after ITFlow v26.08's functions/sla.php).

usage: python3 tests/api/test_sla.py PATH/TO/itflowd [-v] [TestClass[.test_name] ...]
       ITFLOWD_TEST_DB=mariadb python3 tests/api/test_sla.py PATH/TO/itflowd ...

The server is started here on 127.0.0.1 on a free port, on a private v26.08 database
(`itflowd init --itflow-version 26.08 --schema-only` loaded with the shared seed-2608.sql); the
test's own SQL adds SLAs, their assignments, a status that pauses the clock and the business
calendar, and moves tickets' times where a due date must be exact.

  AssignmentTests  which SLA a new ticket gets: the client's assignment before the global one, an
                   assignment to SLA 0 (explicit none), an archived SLA (none), no assignment;
                   due dates from the creation time (24x7), the clock's first interval
  CalendarTests    due dates in business hours (Monday to Friday, 09:00 to 17:00) re-stamped by an
                   update after the creation time was moved to a Friday afternoon
  VerdictTests     resolve and a reply with status 4: response and resolution verdicts met or
                   missed, the interval closed; close judges too; reopen clears a verdict but not a
                   miss whose budget is spent
  ClockTests       a status that pauses closes the interval with its business minutes, the
                   resume opens a new one and moves the resolution deadline to now plus the budget
                   left (through tickets/update and through ticket_replies/create)
"""
import datetime
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_api as base  # noqa: E402  (helpers: Server, backends, run_test_module)
from test_rbac import ADMIN, make_2608_db, run_2608  # noqa: E402

FMT = "%Y-%m-%d %H:%M:%S"
WAITING = 6  # a status that pauses the SLA clock (added below)

# SLA 1 Gold 60/240, 2 Silver 120/600, 3 archived, 4 response only
SETUP = """
INSERT INTO slas (sla_id, sla_name, sla_response_minutes, sla_resolution_minutes, sla_created_at,
                  sla_archived_at) VALUES
  (1, 'Gold', 60, 240, '2026-01-01 00:00:00', NULL),
  (2, 'Silver', 120, 600, '2026-01-01 00:00:00', NULL),
  (3, 'Retired', 30, 60, '2026-01-01 00:00:00', '2026-02-01 00:00:00'),
  (4, 'Response only', 45, NULL, '2026-01-01 00:00:00', NULL);
INSERT INTO sla_assignments (sla_assignment_client_id, sla_assignment_priority,
                             sla_assignment_sla_id) VALUES
  (0, 'High', 2), (1, 'High', 1), (2, 'High', 0), (0, 'Low', 3), (0, 'Medium', 1),
  (0, 'Urgent', 4);
INSERT INTO ticket_statuses (ticket_status_id, ticket_status_name, ticket_status_color,
                             ticket_status_active, ticket_status_pauses_sla, ticket_status_order)
  VALUES (6, 'Waiting on client', '#ffc107', 1, 1, 0);
UPDATE settings SET config_business_days = '' WHERE company_id = 1;
"""


def now():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None, microsecond=0)


def ts(text):
    return datetime.datetime.strptime(str(text), FMT)


def minutes(n):
    return datetime.timedelta(minutes=n)


class SlaCase(base.ApiTestCase):
    server = None

    @classmethod
    def setUpClass(cls):
        cls.db = make_2608_db(cls.__name__.lower())
        base.db_script(cls.db, SETUP)
        cls.server = base.Server(cls.db, cls.__name__.lower()).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def sql(self, text):
        base.db_script(self.db, text)

    def create(self, client, priority, subject="SLA ticket"):
        body = {"ticket_subject": subject, "ticket_priority": priority, "client_id": client}
        return self.assertCreated(self.server.post("tickets/create", body, key=ADMIN))

    def ok(self, endpoint, body):
        r = self.server.post(endpoint, body, key=ADMIN)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["success"], "True", r)
        return r

    def ticket(self, tid):
        cols = ("ticket_sla_id", "ticket_created_at", "ticket_response_due_at",
                "ticket_resolution_due_at", "ticket_response_sla_met",
                "ticket_resolution_sla_met", "ticket_first_response_at", "ticket_resolved_at",
                "ticket_resolution_sla_alert_stage", "ticket_status")
        row = base.db_rows(self.db, "SELECT %s FROM tickets WHERE ticket_id = ?" % ", ".join(cols),
                           (tid,))[0]
        return dict(zip(cols, row))

    def history(self, tid):
        return base.db_rows(self.db, "SELECT sla_history_started_at, sla_history_ended_at, "
                                     "sla_history_minutes FROM sla_history WHERE "
                                     "sla_history_ticket_id = ? ORDER BY sla_history_id", (tid,))

    def backdate(self, tid, by):
        """Moves the ticket's creation and the start of its clock back by `by`."""
        created = ts(self.ticket(tid)["ticket_created_at"]) - by
        self.sql("UPDATE tickets SET ticket_created_at = '%s' WHERE ticket_id = %d;"
                 "UPDATE sla_history SET sla_history_started_at = '%s' WHERE "
                 "sla_history_ticket_id = %d;" % (created.strftime(FMT), tid,
                                                   created.strftime(FMT), tid))
        return created

    def restamp(self, tid, client):
        """An update (as the web UI's edit) stamps the SLA again."""
        self.ok("tickets/update", {"ticket_id": tid, "client_id": client,
                                   "ticket_subject": "SLA ticket (edited)"})

    def assertNear(self, when, lo, hi):
        self.assertTrue(lo <= ts(when) <= hi + datetime.timedelta(seconds=1),
                        "%s not in [%s, %s]" % (when, lo, hi))


class AssignmentTests(SlaCase):
    def assertStamped(self, tid, sla, response, resolution):
        t = self.ticket(tid)
        self.assertEqual(t["ticket_sla_id"], sla, t)
        created = ts(t["ticket_created_at"])
        self.assertEqual(ts(t["ticket_response_due_at"]), created + minutes(response), t)
        if resolution is None:
            self.assertIsNone(t["ticket_resolution_due_at"], t)
            self.assertEqual(self.history(tid), [], "a response-only SLA has no clock")
        else:
            self.assertEqual(ts(t["ticket_resolution_due_at"]), created + minutes(resolution), t)
            # the clock's first interval starts at the creation
            h = self.history(tid)
            self.assertEqual(len(h), 1, h)
            self.assertEqual(ts(h[0][0]), created, h)
            self.assertIsNone(h[0][1], h)
        self.assertIsNone(t["ticket_response_sla_met"], t)
        self.assertIsNone(t["ticket_resolution_sla_met"], t)

    def assertNone(self, tid):
        t = self.ticket(tid)
        self.assertEqual(t["ticket_sla_id"], 0, t)
        self.assertIsNone(t["ticket_response_due_at"], t)
        self.assertIsNone(t["ticket_resolution_due_at"], t)
        self.assertEqual(self.history(tid), [])

    def test_client_assignment_wins(self):
        self.assertStamped(self.create(1, "High"), 1, 60, 240)

    def test_global_assignment(self):
        self.assertStamped(self.create(3, "High"), 2, 120, 600)
        self.assertStamped(self.create(2, "Medium"), 1, 60, 240)

    def test_response_only_sla(self):
        self.assertStamped(self.create(1, "Urgent"), 4, 45, None)

    def test_explicit_no_sla_overrides_the_global_one(self):
        self.assertNone(self.create(2, "High"))

    def test_archived_sla_is_ignored(self):
        self.assertNone(self.create(1, "Low"))

    def test_no_assignment(self):
        self.assertNone(self.create(1, "Whenever"))

    def test_read_shows_the_sla(self):
        tid = self.create(1, "High")
        r = self.server.get("tickets/read", key=ADMIN, ticket_id=tid)
        self.assertEqual(r.status, 200, r)
        row = r.json()["data"][0]
        self.assertEqual(str(row["ticket_sla_id"]), "1", row)
        self.assertEqual(row["ticket_resolution_due_at"],
                         self.ticket(tid)["ticket_resolution_due_at"], row)

    def test_priority_change_restamps(self):
        tid = self.create(3, "Low")
        self.assertNone(tid)
        self.ok("tickets/update", {"ticket_id": tid, "client_id": 3, "ticket_priority": "High"})
        self.assertStamped(tid, 2, 120, 600)
        # and back to no SLA: targets cleared, the clock stopped
        self.ok("tickets/update", {"ticket_id": tid, "client_id": 3, "ticket_priority": "Low"})
        t = self.ticket(tid)
        self.assertEqual(t["ticket_sla_id"], 0, t)
        self.assertIsNone(t["ticket_resolution_due_at"], t)
        h = self.history(tid)
        self.assertEqual(len(h), 1, h)
        self.assertIsNotNone(h[0][1], "the interval is closed")


class CalendarTests(SlaCase):
    def test_business_hours(self):
        self.sql("UPDATE settings SET config_business_days = '1,2,3,4,5', "
                 "config_business_hours_start = '09:00:00', config_business_hours_end = "
                 "'17:00:00' WHERE company_id = 1;")
        try:
            silver = self.create(3, "High")  # 120 / 600
            gold = self.create(3, "Medium")  # 60 / 240
            for tid in (silver, gold):
                # Friday 2026-11-27 16:00 (UTC)
                self.sql("UPDATE tickets SET ticket_created_at = '2026-11-27 16:00:00' "
                         "WHERE ticket_id = %d;" % tid)
                self.restamp(tid, 3)
            t = self.ticket(silver)
            # 60 minutes on Friday, 60 on Monday morning
            self.assertEqual(str(t["ticket_response_due_at"]), "2026-11-30 10:00:00", t)
            # 60 on Friday, 480 on Monday, 60 on Tuesday
            self.assertEqual(str(t["ticket_resolution_due_at"]), "2026-12-01 10:00:00", t)
            t = self.ticket(gold)
            # the window's end is still in business time
            self.assertEqual(str(t["ticket_response_due_at"]), "2026-11-27 17:00:00", t)
            self.assertEqual(str(t["ticket_resolution_due_at"]), "2026-11-30 12:00:00", t)
        finally:
            self.sql("UPDATE settings SET config_business_days = '' WHERE company_id = 1;")

    def test_unusable_calendar_is_24x7(self):
        self.sql("UPDATE settings SET config_business_days = '1,2,3,4,5', "
                 "config_business_hours_start = '17:00:00', config_business_hours_end = "
                 "'09:00:00' WHERE company_id = 1;")
        try:
            tid = self.create(3, "High")
            self.sql("UPDATE tickets SET ticket_created_at = '2026-11-28 23:30:00' "
                     "WHERE ticket_id = %d;" % tid)
            self.restamp(tid, 3)
            t = self.ticket(tid)
            self.assertEqual(str(t["ticket_response_due_at"]), "2026-11-29 01:30:00", t)
            self.assertEqual(str(t["ticket_resolution_due_at"]), "2026-11-29 09:30:00", t)
        finally:
            self.sql("UPDATE settings SET config_business_days = '', "
                     "config_business_hours_start = '09:00:00', config_business_hours_end = "
                     "'17:00:00' WHERE company_id = 1;")


class VerdictTests(SlaCase):
    def assertClosedInterval(self, tid, at_least=0):
        h = self.history(tid)
        self.assertTrue(h, "no interval")
        self.assertIsNotNone(h[-1][1], h)
        self.assertGreaterEqual(h[-1][2], at_least, h)
        self.assertTrue(all(row[1] is not None for row in h), h)

    def test_resolve_in_time(self):
        tid = self.create(1, "High")
        self.ok("tickets/resolve", {"ticket_id": tid, "client_id": 1})
        t = self.ticket(tid)
        self.assertEqual(t["ticket_status"], 4, t)
        self.assertEqual(t["ticket_response_sla_met"], 1, t)
        self.assertEqual(t["ticket_resolution_sla_met"], 1, t)
        self.assertClosedInterval(tid)

    def test_resolve_late(self):
        tid = self.create(1, "High")
        self.backdate(tid, minutes(600))
        self.restamp(tid, 1)  # due dates from the earlier creation: both already past
        self.ok("tickets/resolve", {"ticket_id": tid, "client_id": 1})
        t = self.ticket(tid)
        self.assertEqual(t["ticket_response_sla_met"], 0, t)
        self.assertEqual(t["ticket_resolution_sla_met"], 0, t)
        self.assertClosedInterval(tid, at_least=600)

    def test_reply_first_response_and_resolution(self):
        tid = self.create(1, "High")
        # an internal note is no response
        self.assertCreated(self.server.post("ticket_replies/create", {
            "ticket_id": tid, "ticket_reply": "note", "client_id": 1}, key=ADMIN))
        self.assertIsNone(self.ticket(tid)["ticket_response_sla_met"])
        self.assertCreated(self.server.post("ticket_replies/create", {
            "ticket_id": tid, "ticket_reply": "hello", "ticket_reply_type": "Public",
            "client_id": 1}, key=ADMIN))
        t = self.ticket(tid)
        self.assertIsNotNone(t["ticket_first_response_at"], t)
        self.assertEqual(t["ticket_response_sla_met"], 1, t)
        self.assertEqual(len(self.history(tid)), 1)
        self.assertIsNone(self.history(tid)[0][1], "the clock still runs")
        # late resolution through a reply with status 4; the re-stamp judges the response again,
        # against the earlier due date
        self.backdate(tid, minutes(300))
        self.restamp(tid, 1)
        self.assertEqual(self.ticket(tid)["ticket_response_sla_met"], 0)
        self.assertCreated(self.server.post("ticket_replies/create", {
            "ticket_id": tid, "ticket_reply": "done", "ticket_status": 4, "client_id": 1},
            key=ADMIN))
        t = self.ticket(tid)
        self.assertEqual(t["ticket_resolution_sla_met"], 0, t)
        self.assertClosedInterval(tid, at_least=300)

    def test_close_judges_the_resolution(self):
        tid = self.create(1, "High")
        self.ok("tickets/close", {"ticket_id": tid, "client_id": 1})
        t = self.ticket(tid)
        self.assertEqual(t["ticket_resolution_sla_met"], 1, t)
        self.assertClosedInterval(tid)

    def test_update_to_resolved(self):
        tid = self.create(1, "High")
        self.ok("tickets/update", {"ticket_id": tid, "client_id": 1, "ticket_status": "Resolved"})
        t = self.ticket(tid)
        self.assertEqual(t["ticket_response_sla_met"], 1, t)
        self.assertEqual(t["ticket_resolution_sla_met"], 1, t)
        self.assertClosedInterval(tid)

    def test_reopen_clears_a_met_verdict(self):
        tid = self.create(1, "High")
        self.ok("tickets/resolve", {"ticket_id": tid, "client_id": 1})
        self.assertEqual(self.ticket(tid)["ticket_resolution_sla_met"], 1)
        before = now()
        self.ok("tickets/reopen", {"ticket_id": tid, "client_id": 1})
        after = now()
        t = self.ticket(tid)
        self.assertIsNone(t["ticket_resolution_sla_met"], t)
        h = self.history(tid)
        self.assertEqual(len(h), 2, h)
        self.assertIsNone(h[1][1], "a new interval runs")
        # the budget left (240 minus the minutes used, here none) from now
        self.assertNear(t["ticket_resolution_due_at"], before + minutes(240),
                        after + minutes(240))

    def test_reopen_keeps_a_spent_miss(self):
        tid = self.create(1, "High")
        self.backdate(tid, minutes(300))
        self.restamp(tid, 1)
        self.ok("tickets/resolve", {"ticket_id": tid, "client_id": 1})
        self.assertEqual(self.ticket(tid)["ticket_resolution_sla_met"], 0)
        self.ok("tickets/reopen", {"ticket_id": tid, "client_id": 1})
        t = self.ticket(tid)
        self.assertEqual(t["ticket_resolution_sla_met"], 0, "reopening does not undo a breach")
        h = self.history(tid)
        self.assertEqual(len(h), 2, h)
        self.assertIsNone(h[1][1], "the clock runs again")
        # resolved again at once: still a miss
        self.ok("tickets/resolve", {"ticket_id": tid, "client_id": 1})
        self.assertEqual(self.ticket(tid)["ticket_resolution_sla_met"], 0)


class ClockTests(SlaCase):
    def pause_and_resume(self, tid, pause, resume):
        # the clock has run for 100 minutes
        started = (now() - minutes(100)).strftime(FMT)
        self.sql("UPDATE sla_history SET sla_history_started_at = '%s' WHERE "
                 "sla_history_ticket_id = %d;" % (started, tid))
        pause()
        h = self.history(tid)
        self.assertEqual(len(h), 1, h)
        self.assertIsNotNone(h[0][1], "the pause closes the interval")
        self.assertEqual(h[0][2], 100, h)
        self.assertEqual(self.ticket(tid)["ticket_status"], WAITING)
        # paused: another write does not restart it
        self.restamp(tid, 1)
        self.assertEqual(len(self.history(tid)), 1)
        before = now()
        resume()
        after = now()
        h = self.history(tid)
        self.assertEqual(len(h), 2, h)
        self.assertIsNone(h[1][1], "the resume opens an interval")
        self.assertNear(h[1][0], before, after)
        # 240 minutes, 100 used: due 140 minutes after the resume
        self.assertNear(self.ticket(tid)["ticket_resolution_due_at"], before + minutes(140),
                        after + minutes(140))

    def test_pause_through_update(self):
        tid = self.create(1, "High")
        self.pause_and_resume(
            tid,
            lambda: self.ok("tickets/update", {"ticket_id": tid, "client_id": 1,
                                               "ticket_status": WAITING}),
            lambda: self.ok("tickets/update", {"ticket_id": tid, "client_id": 1,
                                               "ticket_status": "Open"}))

    def test_pause_through_a_reply(self):
        tid = self.create(1, "High")

        def reply(status):
            self.assertCreated(self.server.post("ticket_replies/create", {
                "ticket_id": tid, "ticket_reply": "status %d" % status, "ticket_status": status,
                "client_id": 1}, key=ADMIN))
        self.pause_and_resume(tid, lambda: reply(WAITING), lambda: reply(2))


ORDER = [AssignmentTests, CalendarTests, VerdictTests, ClockTests]


def main(argv):
    return run_2608(argv, sys.modules[__name__], ORDER, "sla")


if __name__ == "__main__":
    sys.exit(main(sys.argv))

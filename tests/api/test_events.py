#!/usr/bin/env python3
"""The writes' events (issue 16): GET /api/v1/events, both backends.

usage: python3 tests/api/test_events.py PATH/TO/itflowd [-v] [TestClass[.test_name] ...]
       ITFLOWD_TEST_DB=mariadb python3 tests/api/test_events.py PATH/TO/itflowd

Python 3 standard library only; servers are started here on 127.0.0.1 (free ports; a private
seeded database each, see test_api.py) and stopped at the end.

  EventLogTests   every write that changes a row appends one event (type module.function, the
                  row's id, its client, the time) with sequence numbers 1, 2, 3 ... in order; a
                  refused, failed or no-op write and an idempotent replay append none; paging
                  with limit and next_after; types filter; bad parameters are 400; POST is 405;
                  no key is 401.
  ScopeTests      a client-scoped key never sees another client's event nor those of modules it
                  may not read (products, payments), and its next_after passes over them; an
                  all-clients key may filter by client_id.
  WaitTests       long-poll: answered as soon as an event is committed, empty at the deadline;
                  a text/event-stream delivers frames (id, event, data) as writes commit,
                  resumes after Last-Event-ID, and ends when the server stops; /metrics shows
                  the waiting requests.
  RbacTests       v26.08: the key's user's role (module levels) and client lists scope the
                  events; a key not tied to a user gets the reference's 403.
  ConcurrencyTests  under concurrent writers (several threads; on MariaDB two servers on one
                  database) the sequence has no gap and a follower that keeps next_after sees
                  every event exactly once; a long-poll on one instance is woken by a write on
                  another.
"""
import json
import os
import socket
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_api as base  # noqa: E402  (helpers: Server, make_seeded_db, keys)

ALL_KEY, C1_KEY, C2_KEY = base.ALL_KEY, base.C1_KEY, base.C2_KEY


def events(server, key=ALL_KEY, headers=None, timeout=30, **params):
    h = {"X-API-Key": key} if key else {}
    h.update(headers or {})
    return server.request("GET", "/api/v1/events", query=params or None, headers=h,
                          timeout=timeout)


def last_seq(db):
    return int(base.db_value(db, "SELECT seq_last FROM itflowd_event_seq WHERE seq_id = 1"))


def create_contact(server, client, name, key=ALL_KEY):
    r = server.post("contacts/create", {"client_id": client, "contact_name": name,
                                        "contact_email": name.lower() + "@example.com"}, key=key)
    assert r.status == 200 and r.json()["success"] == "True", r.body
    return int(r.json()["data"][0]["insert_id"])


class EventTestCase(base.ApiTestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = base.make_seeded_db(cls.__name__.lower())
        cls.server = base.Server(cls.db, cls.__name__.lower()).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def page(self, key=ALL_KEY, **params):
        r = events(self.server, key=key, **params)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.header("Content-Type"), "application/json")
        doc = r.json()
        self.assertEqual(doc["success"], "True")
        self.assertEqual(doc["count"], len(doc["data"]))
        return doc

    def all_after(self, after, key=ALL_KEY, **params):
        """Every event after `after`, following next_after; and the last next_after."""
        out = []
        for _ in range(1000):
            doc = self.page(key=key, after=after, **params)
            out += doc["data"]
            if doc["next_after"] == after:
                return out, after
            self.assertGreater(doc["next_after"], after)
            after = doc["next_after"]
        self.fail("next_after never settled")


class EventLogTests(EventTestCase):
    def test_writes_append_events_in_order(self):
        start = last_seq(self.db)
        cid = create_contact(self.server, 1, "Eve")
        r = self.server.post("contacts/update", {"client_id": 1, "contact_id": cid,
                                                 "contact_title": "Boss"}, key=ALL_KEY)
        self.assertEqual(r.json()["success"], "True", r.body)
        r = self.server.post("contacts/archive", {"client_id": 1, "contact_id": cid}, key=ALL_KEY)
        self.assertEqual(r.json()["success"], "True", r.body)
        r = self.server.post("contacts/delete", {"client_id": 1, "contact_id": cid}, key=ALL_KEY)
        self.assertEqual(r.json()["success"], "True", r.body)
        got, nxt = self.all_after(start)
        self.assertEqual([(e["type"], e["module"], e["action"], e["id"], e["client_id"])
                          for e in got],
                         [("contacts.create", "contacts", "create", cid, 1),
                          ("contacts.update", "contacts", "update", cid, 1),
                          ("contacts.archive", "contacts", "archive", cid, 1),
                          ("contacts.delete", "contacts", "delete", cid, 1)])
        self.assertEqual([e["seq"] for e in got], list(range(start + 1, start + 5)))
        self.assertEqual(nxt, start + 4)
        for e in got:
            self.assertRegex(e["time"], r"^20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
            self.assertEqual(list(e), ["seq", "type", "module", "action", "id", "client_id",
                                       "time"])
        # the rows in the table are what the endpoint shows
        self.assertEqual(base.db_value(self.db, "SELECT COUNT(*) FROM itflowd_events WHERE "
                                       "event_seq > %d" % start), 4)

    def test_client_and_global_rows(self):
        start = last_seq(self.db)
        r = self.server.post("clients/create", {"client_name": "Events Inc"}, key=ALL_KEY)
        self.assertEqual(r.json()["success"], "True", r.body)
        new_client = int(r.json()["data"][0]["insert_id"])
        r = self.server.post("products/create", {"product_name": "Widget", "product_price": 3},
                             key=ALL_KEY)
        got, _ = self.all_after(start)
        self.assertEqual(got[0]["type"], "clients.create")
        self.assertEqual((got[0]["id"], got[0]["client_id"]), (new_client, new_client))
        if r.json()["success"] == "True":
            self.assertEqual(got[1]["type"], "products.create")
            self.assertIsNone(got[1]["client_id"])  # products have no client

    def test_ticket_workflow_events(self):
        start = last_seq(self.db)
        # ticket 3 (client 2) is resolved in the seed: reopen, a refused second reopen, close
        for ep, ok in (("tickets/reopen", True), ("tickets/reopen", False),
                       ("tickets/close", True)):
            r = self.server.post(ep, {"ticket_id": 3}, key=C2_KEY)
            self.assertEqual(r.json()["success"], "True" if ok else "False", (ep, r.body))
        got, _ = self.all_after(start, key=C2_KEY)
        self.assertEqual([(e["type"], e["id"], e["client_id"]) for e in got],
                         [("tickets.reopen", 3, 2), ("tickets.close", 3, 2)])
        self.assertEqual(self.all_after(start, key=C1_KEY)[0], [])

    def test_no_event_without_a_change(self):
        start = last_seq(self.db)
        # refused (F2), not found, wrong client, no-op: no event, no sequence number used
        self.assertEqual(self.server.post("contacts/create", {"client_id": 1}, key=ALL_KEY)
                         .json()["success"], "False")
        self.assertEqual(self.server.post("contacts/update", {"client_id": 1, "contact_id": 999999,
                                                              "contact_name": "x"},
                                          key=ALL_KEY).json()["success"], "False")
        self.assertEqual(self.server.post("contacts/delete", {"client_id": 1, "contact_id": 999999},
                                          key=ALL_KEY).json()["success"], "False")
        self.assertEqual(last_seq(self.db), start)  # no number taken, none skipped
        self.assertEqual(self.page(after=start)["data"], [])

    def test_idempotent_replay_appends_no_event(self):
        start = last_seq(self.db)
        body = {"client_id": 2, "contact_name": "Once", "contact_email": "once@example.com"}
        h = {"Idempotency-Key": "events-once-1"}
        first = self.server.post("contacts/create", body, key=ALL_KEY, headers=h)
        again = self.server.post("contacts/create", body, key=ALL_KEY, headers=h)
        self.assertEqual(first.body, again.body)
        self.assertEqual(again.header("Idempotent-Replayed"), "true")
        got, _ = self.all_after(start)
        self.assertEqual([e["type"] for e in got], ["contacts.create"])

    def test_paging_and_types(self):
        start = last_seq(self.db)
        for i in range(5):
            create_contact(self.server, 1 + i % 2, "Pager%d" % i)
        doc = self.page(after=start, limit=2)
        self.assertEqual(doc["count"], 2)
        self.assertEqual(doc["next_after"], start + 2)
        doc = self.page(after=start + 2, limit=10)
        self.assertEqual([e["seq"] for e in doc["data"]], [start + 3, start + 4, start + 5])
        self.assertEqual(doc["next_after"], last_seq(self.db))
        self.assertEqual(self.page(after=start, types="clients.*")["data"], [])
        self.assertEqual(len(self.page(after=start, types="tickets.*,contacts.create")["data"]), 5)
        self.assertEqual(len(self.page(after=start, types="*.create")["data"]), 5)
        self.assertEqual(len(self.page(after=start, types="*")["data"]), 5)

    def test_bad_requests(self):
        for params, word in (({"after": "-1"}, "after"), ({"after": "x"}, "after"),
                             ({"limit": "0"}, "limit"), ({"limit": "1001"}, "limit"),
                             ({"wait": "301"}, "wait"), ({"types": "tickets.*x*"}, "types"),
                             ({"types": ""}, "types"), ({"types": "a;b"}, "types"),
                             ({"client_id": "abc"}, "client_id")):
            r = events(self.server, **params)
            self.assertEqual(r.status, 400, (params, r.body))
            self.assertEqual(r.json()["success"], "False")
            self.assertIn(word, r.json()["message"])
        r = self.server.request("POST", "/api/v1/events", body={}, headers={"X-API-Key": ALL_KEY})
        self.assertEqual(r.status, 405)
        self.assertEqual(r.body, base.MSG_GET_ONLY)
        r = events(self.server, key=None)
        self.assertEqual((r.status, r.body), (401, b""))
        r = events(self.server, key="not-a-key-at-all-0000000000000000")
        self.assertEqual(r.status, 401)
        r = events(self.server, headers={"Last-Event-ID": "zz", "Accept": "text/event-stream"})
        self.assertEqual(r.status, 400)

    def test_openapi_documents_events(self):
        r = self.server.request("GET", "/api/v1/openapi.json")
        doc = json.loads(r.body)
        op = doc["paths"]["/api/v1/events"]["get"]
        names = {p["name"] for p in op["parameters"] if "name" in p}
        self.assertTrue({"after", "limit", "wait", "types", "client_id"} <= names, names)


class ScopeTests(EventTestCase):
    def test_client_key_sees_only_its_client(self):
        start = last_seq(self.db)
        create_contact(self.server, 1, "Mine")
        create_contact(self.server, 2, "Theirs")
        r = self.server.post("products/create", {"product_name": "Gadget", "product_price": 1},
                             key=ALL_KEY)
        self.assertEqual(r.json()["success"], "True", r.body)
        self.server.post("clients/update", {"client_id": 2, "client_name": "Renamed"},
                         key=ALL_KEY)
        total = last_seq(self.db)
        mine, nxt = self.all_after(start, key=C1_KEY)
        self.assertEqual([(e["type"], e["client_id"]) for e in mine], [("contacts.create", 1)])
        self.assertEqual(nxt, total)  # passed over what it may not see
        theirs, _ = self.all_after(start, key=C2_KEY)
        self.assertEqual([(e["type"], e["client_id"]) for e in theirs],
                         [("contacts.create", 2), ("clients.update", 2)])
        every, _ = self.all_after(start, key=ALL_KEY)
        self.assertEqual(len(every), total - start)
        # an all-clients key may ask for one client's events
        one, _ = self.all_after(start, key=ALL_KEY, client_id=2)
        self.assertEqual([e["client_id"] for e in one], [2, 2])
        # a client key cannot widen its scope with client_id
        again, _ = self.all_after(start, key=C1_KEY, client_id=2)
        self.assertEqual([e["client_id"] for e in again], [1])

    def test_client_key_never_sees_other_clients_in_streams(self):
        start = last_seq(self.db)
        s = SseReader(self.server, C1_KEY, after=start)
        try:
            create_contact(self.server, 2, "Hidden")
            create_contact(self.server, 1, "Shown")
            frames = s.frames(1, timeout=10)
            self.assertEqual([(f["event"], json.loads(f["data"])["client_id"]) for f in frames],
                             [("contacts.create", 1)])
            time.sleep(0.5)
            self.assertEqual(s.frames(0, timeout=0.1), [])
        finally:
            s.close()


class SseReader:
    """A text/event-stream reader on a raw socket (the frames as they arrive)."""

    def __init__(self, server, key, after=None, last_event_id=None, extra=""):
        self.sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        q = "" if after is None else "?after=%d" % after
        req = ("GET /api/v1/events%s HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: %s\r\n"
               "Accept: text/event-stream\r\n%s%s\r\n"
               % (q, key, "Last-Event-ID: %s\r\n" % last_event_id if last_event_id else "",
                  extra))
        self.sock.sendall(req.encode())
        self.buf = b""
        self.got = []
        self.closed = False
        self.status = None
        self.headers = {}
        self._read_until(lambda: b"\r\n\r\n" in self.buf, 10)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        self.status = int(lines[0].split()[1])
        for ln in lines[1:]:
            k, v = ln.split(":", 1)
            self.headers[k.strip().lower()] = v.strip()
        self.chunked = self.headers.get("transfer-encoding") == "chunked"
        self.raw = b""

    def _read_until(self, cond, timeout):
        end = time.time() + timeout
        while not cond() and time.time() < end and not self.closed:
            self.sock.settimeout(max(0.01, end - time.time()))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                break
            if not data:
                self.closed = True
                break
            self.buf += data

    def _dechunk(self):
        while True:
            if not self.chunked:
                self.raw += self.buf
                self.buf = b""
                return
            i = self.buf.find(b"\r\n")
            if i < 0:
                return
            size = int(self.buf[:i].split(b";")[0], 16)
            if len(self.buf) < i + 2 + size + 2:
                return
            if size == 0:
                self.closed = True
            self.raw += self.buf[i + 2:i + 2 + size]
            self.buf = self.buf[i + 2 + size + 2:]

    def _parse(self):
        self._dechunk()
        while b"\n\n" in self.raw:
            block, self.raw = self.raw.split(b"\n\n", 1)
            f = {}
            for ln in block.decode().split("\n"):
                if ln.startswith(":"):
                    f.setdefault("comment", []).append(ln[1:].strip())
                elif ":" in ln:
                    k, v = ln.split(":", 1)
                    f[k] = v[1:] if v.startswith(" ") else v
            self.got.append(f)

    def all_frames(self):
        return [f for f in self.got]

    def frames(self, n, timeout=10):
        """The next n event frames (with data), waiting up to timeout."""
        end = time.time() + timeout
        while True:
            self._parse()
            events_ = [f for f in self.got if "data" in f]
            if len(events_) >= n or time.time() >= end or self.closed:
                break
            self._read_until(lambda: False, min(0.2, max(0.01, end - time.time())))
        out = [f for f in self.got if "data" in f][:n] if n else \
            [f for f in self.got if "data" in f]
        taken = 0
        rest = []
        for f in self.got:
            if "data" in f and taken < len(out):
                taken += 1
                continue
            rest.append(f)
        self.got = rest
        return out

    def wait_closed(self, timeout):
        self._read_until(lambda: False, timeout)
        self._parse()
        return self.closed

    def close(self):
        self.sock.close()


class WaitTests(EventTestCase):
    def test_long_poll_answers_on_commit(self):
        start = last_seq(self.db)
        result = {}

        def poll():
            t0 = time.time()
            result["doc"] = events(self.server, after=start, wait=20).json()
            result["took"] = time.time() - t0

        t = threading.Thread(target=poll)
        t.start()
        time.sleep(0.5)
        self.assertTrue(t.is_alive())  # still waiting: nothing committed yet
        t1 = time.time()
        create_contact(self.server, 1, "Waker")
        t.join(10)
        self.assertFalse(t.is_alive())
        self.assertLess(time.time() - t1, 2.0)
        self.assertEqual([e["type"] for e in result["doc"]["data"]], ["contacts.create"])
        self.assertEqual(result["doc"]["next_after"], start + 1)

    def test_long_poll_deadline(self):
        start = last_seq(self.db)
        t0 = time.time()
        doc = self.page(after=start, wait=1)
        took = time.time() - t0
        self.assertEqual((doc["count"], doc["next_after"]), (0, start))
        self.assertGreaterEqual(took, 0.9)
        self.assertLess(took, 3.0)
        # wait=0 (the default) answers at once
        t0 = time.time()
        self.page(after=start)
        self.assertLess(time.time() - t0, 0.5)

    def test_long_poll_ignores_events_it_may_not_see(self):
        start = last_seq(self.db)
        result = {}
        t = threading.Thread(target=lambda: result.update(
            doc=events(self.server, key=C1_KEY, after=start, wait=3).json()))
        t0 = time.time()
        t.start()
        time.sleep(0.3)
        create_contact(self.server, 2, "NotYours")
        t.join(10)
        self.assertGreaterEqual(time.time() - t0, 2.5)  # woken, found nothing, waited on
        self.assertEqual(result["doc"]["data"], [])
        self.assertEqual(result["doc"]["next_after"], start + 1)

    def test_stream(self):
        start = last_seq(self.db)
        s = SseReader(self.server, ALL_KEY, after=start)
        try:
            self.assertEqual(s.status, 200)
            self.assertTrue(s.headers["content-type"].startswith("text/event-stream"))
            self.assertEqual(s.headers.get("cache-control"), "no-cache")
            a = create_contact(self.server, 1, "Streamed1")
            b = create_contact(self.server, 2, "Streamed2")
            frames = s.frames(2, timeout=10)
            self.assertEqual([f["id"] for f in frames], [str(start + 1), str(start + 2)])
            self.assertEqual([f["event"] for f in frames], ["contacts.create"] * 2)
            self.assertEqual([json.loads(f["data"])["id"] for f in frames], [a, b])
            m = self.server.request("GET", "/metrics").body.decode()
            self.assertIn("itflowd_events_streams 1", m)
            self.assertIn("itflowd_events_waiting 1", m)
        finally:
            s.close()
        # an EventSource reconnecting with Last-Event-ID gets what came after it
        create_contact(self.server, 1, "WhileAway")
        s = SseReader(self.server, ALL_KEY, last_event_id=str(start + 2))
        try:
            frames = s.frames(1, timeout=10)
            self.assertEqual([f["id"] for f in frames], [str(start + 3)])
        finally:
            s.close()

    def test_stream_ends_when_the_key_is_revoked_or_server_stops(self):
        db = base.make_seeded_db("stream_stop")
        srv = base.Server(db, "stream_stop").start()
        s = SseReader(srv, ALL_KEY, after=last_seq(db))
        p = SseReader(srv, ALL_KEY, after=last_seq(db), extra="")
        try:
            create_contact(srv, 1, "Before")
            self.assertEqual(len(s.frames(1, timeout=10)), 1)
            t0 = time.time()
            srv.stop()
            self.assertEqual(srv.exit_code, 0)
            self.assertLess(time.time() - t0, 5)
            self.assertTrue(s.wait_closed(5))
        finally:
            s.close()
            p.close()


class ConcurrencyTests(EventTestCase):
    WRITERS = 6
    EACH = 15

    def test_follower_sees_every_event_once(self):
        servers = [self.server]
        if base.on_mariadb():  # a second instance on the same database
            servers.append(base.Server(self.db, "second").start())
        start = last_seq(self.db)
        seen = []
        stop = threading.Event()

        def follow():
            after = start
            while True:
                doc = events(self.server, after=after, wait=1).json()
                seen.extend(e["seq"] for e in doc["data"])
                after = doc["next_after"]
                if stop.is_set() and not doc["data"] and after >= last_seq(self.db):
                    return

        def write(i):
            srv = servers[i % len(servers)]
            for k in range(self.EACH):
                create_contact(srv, 1 + (i + k) % 2, "W%d_%d" % (i, k))

        f = threading.Thread(target=follow)
        f.start()
        ws = [threading.Thread(target=write, args=(i,)) for i in range(self.WRITERS)]
        for w in ws:
            w.start()
        for w in ws:
            w.join(120)
        stop.set()
        f.join(60)
        n = self.WRITERS * self.EACH
        self.assertEqual(last_seq(self.db), start + n)
        self.assertEqual(sorted(seen), list(range(start + 1, start + n + 1)))
        self.assertEqual(seen, sorted(seen))  # in order, each once
        rows = base.db_rows(self.db, "SELECT event_seq FROM itflowd_events WHERE event_seq > %d "
                            "ORDER BY event_seq" % start)
        self.assertEqual([int(r[0]) for r in rows], list(range(start + 1, start + n + 1)))

    def test_wait_on_one_instance_woken_by_another(self):
        other = base.Server(self.db, "other").start()
        try:
            start = last_seq(self.db)
            result = {}
            t = threading.Thread(target=lambda: result.update(
                doc=events(self.server, after=start, wait=20).json()))
            t.start()
            time.sleep(0.3)
            t1 = time.time()
            create_contact(other, 1, "FromOther")
            t.join(10)
            self.assertFalse(t.is_alive())
            self.assertLess(time.time() - t1, 2.0)  # the hub polls the store
            self.assertEqual([e["type"] for e in result["doc"]["data"]], ["contacts.create"])
        finally:
            other.stop()


class RbacTests(base.ApiTestCase):
    """A v26.08 database: a key runs as its user, whose role and client lists scope the events."""

    @classmethod
    def setUpClass(cls):
        import test_rbac as rbac
        cls.rbac = rbac
        cls.db = rbac.make_2608_db("events_rbac")
        cls.server = base.Server(cls.db, "events_rbac").start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def seen(self, key, after):
        r = events(self.server, key=key, after=after, limit=1000)
        self.assertEqual(r.status, 200, r.body)
        return [(e["type"], e["client_id"]) for e in r.json()["data"]]

    def test_role_and_client_lists_scope_events(self):
        rb = self.rbac
        start = last_seq(self.db)
        for client in (1, 2):
            create_contact(self.server, client, "Rbac%d" % client, key=rb.ADMIN)
        r = self.server.post("products/create", {"product_name": "RbacWidget",
                                                 "product_price": 2}, key=rb.ADMIN)
        self.assertEqual(r.json()["success"], "True", r.body)
        every = [("contacts.create", 1), ("contacts.create", 2), ("products.create", None)]
        self.assertEqual(self.seen(rb.ADMIN, start), every)
        self.assertEqual(self.seen(rb.READONLY, start), every)
        # Tech: client read, support write, no sales module: no product events
        self.assertEqual(self.seen(rb.TECH, start), every[:2])
        # an allow list {1}: only client 1 (rows without a client stay visible, as in reads)
        self.assertEqual(self.seen(rb.ALLOW1, start), [every[0], every[2]])
        self.assertEqual(self.seen(rb.DENY2, start), [every[0], every[2]])
        r = events(self.server, key=rb.UNTIED, after=start)
        self.assertEqual(r.status, 403)
        self.assertEqual(r.json()["message"], rb.MSG_UNTIED)


ORDER = [EventLogTests, ScopeTests, WaitTests, ConcurrencyTests, RbacTests]


def main(argv):
    return base.run_test_module(argv, sys.modules[__name__], ORDER, "events",
                                backends=("sqlite", "mariadb"))


if __name__ == "__main__":
    sys.exit(main(sys.argv))

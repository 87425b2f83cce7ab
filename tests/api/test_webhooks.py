#!/usr/bin/env python3
"""Webhooks: the events outbox delivered to subscribed URLs, both backends.

usage: python3 tests/api/test_webhooks.py PATH/TO/itflowd [-v] [TestClass[.test_name] ...]
       ITFLOWD_TEST_DB=mariadb python3 tests/api/test_webhooks.py PATH/TO/itflowd

Python 3 standard library only; servers and the receivers (ThreadingHTTPServer) listen on
127.0.0.1 (free ports).

  DeliveryTests  a receiver that fails the first deliveries with 500 then accepts: every matching
                 event arrives exactly once (by X-Itflowd-Delivery), in sequence order, signed with
                 the secret; other types never arrive; /metrics shows delivered and failures;
                 one log line when failing starts and one when it ends; the secret is never logged
                 nor listed; SIGTERM while deliveries fail and events wait, then a restart: all
                 delivered, in order, none twice; two servers on one database: each event
                 delivered once.
  CliTests       webhook add (checks of URL, patterns, secret, --from), list, remove.
"""
import hashlib
import hmac
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_api as base  # noqa: E402  (helpers: Server, make_seeded_db, keys)

ALL_KEY = base.ALL_KEY
FAST = ["--webhook-max-backoff", "1", "--webhook-timeout", "3", "--webhook-connect-timeout", "1"]


class Receiver:
    """A local webhook receiver: answers 500 to the first `fail_first` deliveries (or to every
    one while `failing` is set), then 200. Records every request."""

    def __init__(self, secret, fail_first=0, delay=0.0):
        self.secret = secret.encode()
        self.delay = delay  # seconds before each answer (deliveries of two instances overlap)
        self.fail_first = fail_first
        self.failing = False
        self.lock = threading.Lock()
        self.attempts = []  # every request: (delivery id, type, accepted)
        self.accepted = []  # (delivery id, seq, type, body dict, headers) in arrival order
        self.bad = []  # requests that broke a rule (signature, headers)
        recv = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                recv.handle(self, body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/hook" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def handle(self, h, body):
        hd = h.headers
        ts, sig = hd.get("X-Itflowd-Timestamp", ""), hd.get("X-Itflowd-Signature", "")
        want = "t=%s,v1=%s" % (ts, hmac.new(self.secret, ts.encode() + b"." + body,
                                            hashlib.sha256).hexdigest())
        problems = []
        if not hmac.compare_digest(sig, want):
            problems.append("signature %r" % sig)
        if hd.get("Content-Type") != "application/json":
            problems.append("content type %r" % hd.get("Content-Type"))
        if not (hd.get("User-Agent") or "").startswith("itflowd/"):
            problems.append("user agent %r" % hd.get("User-Agent"))
        if not ts.isdigit() or abs(int(ts) - time.time()) > 60:
            problems.append("timestamp %r" % ts)
        try:
            ev = json.loads(body)
        except ValueError:
            ev, problems = {}, problems + ["body %r" % body]
        delivery = hd.get("X-Itflowd-Delivery", "")
        if ev and (hd.get("X-Itflowd-Event") != ev.get("type") or
                   not delivery.endswith("-%s" % ev.get("seq"))):
            problems.append("headers %r %r for %r" % (hd.get("X-Itflowd-Event"), delivery, ev))
        with self.lock:
            fail = self.failing or len([a for a in self.attempts if not a[2]]) < self.fail_first
            self.attempts.append((delivery, ev.get("type"), not fail))
            if problems:
                self.bad.append(problems)
            if not fail:
                self.accepted.append((delivery, ev.get("seq"), ev.get("type"), ev, dict(hd)))
        if self.delay:
            time.sleep(self.delay)
        h.send_response(500 if fail else 200)
        h.send_header("Content-Length", "2")
        h.end_headers()
        h.wfile.write(b"ok")

    def wait_accepted(self, n, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                if len(self.accepted) >= n:
                    return list(self.accepted)
            time.sleep(0.05)
        with self.lock:
            return list(self.accepted)

    def failed_attempts(self):
        with self.lock:
            return len([a for a in self.attempts if not a[2]])

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def add_webhook(db, url, *args):
    r = base.cli("webhook", "add", url, "--db", db, *args)
    if r.returncode != 0:
        raise RuntimeError("webhook add failed: " + r.stderr)
    m = re.search(r"Added webhook (\d+)", r.stdout)
    return int(m.group(1)), r


class WebhookCase(base.ApiTestCase):
    def create_ticket(self, server, subject):
        return self.assertCreated(server.post("tickets/create", {
            "ticket_subject": subject, "ticket_details": "<p>hook</p>", "client_id": 1},
            key=ALL_KEY))

    def update_ticket(self, server, tid):
        r = server.post("tickets/update", {"ticket_id": tid, "client_id": 1, "ticket_subject": "changed"},
                        key=ALL_KEY)
        self.assertEqual(r.json().get("success"), "True", r)

    def assertExactlyOnceInOrder(self, recv, accepted, hook_id, n):
        ids = [a[0] for a in accepted]
        seqs = [a[1] for a in accepted]
        self.assertEqual(len(accepted), n, accepted)
        self.assertEqual(len(set(ids)), n, "a delivery arrived twice: %r" % ids)
        self.assertEqual(seqs, sorted(seqs), "out of order: %r" % seqs)
        self.assertEqual(ids, ["%d-%d" % (hook_id, s) for s in seqs])
        self.assertEqual(recv.bad, [])
        # retried attempts carry the same delivery id as the one accepted later
        with recv.lock:
            attempted = [a[0] for a in recv.attempts]
        for i, d in enumerate(attempted):
            later = attempted[i + 1:]
            if d in later:
                self.assertTrue(all(x == d for x in later[:later.index(d)]),
                                "an event was passed while an earlier one failed: %r" % attempted)

    def metric(self, server, name, hook_id):
        text = server.request("GET", "/metrics").body.decode()
        m = re.search(r'^%s\{webhook="%d"\} (\d+)$' % (name, hook_id), text, re.M)
        return int(m.group(1)) if m else None


class DeliveryTests(WebhookCase):
    def test_delivery_retry_order_signature_metrics(self):
        db = base.make_seeded_db("wh_delivery")
        secret = "receiverSecret-0123456789abcdef"
        recv = Receiver(secret, fail_first=3)
        self.addCleanup(recv.close)
        hook_id, added = add_webhook(db, recv.url, "--events", "tickets.create", "--secret", secret)
        self.assertNotIn(secret, added.stdout)
        srv = base.Server(db, "wh_delivery", extra_args=FAST).start()
        tickets = []
        for i in range(5):
            tickets.append(self.create_ticket(srv, "Hook %d" % i))
            self.update_ticket(srv, tickets[-1])  # tickets.update: never sent
        accepted = recv.wait_accepted(5)
        self.assertExactlyOnceInOrder(recv, accepted, hook_id, 5)
        self.assertEqual([a[3]["id"] for a in accepted], tickets)
        self.assertEqual({a[2] for a in accepted}, {"tickets.create"})
        with recv.lock:
            self.assertEqual({a[1] for a in recv.attempts}, {"tickets.create"})
        ev = accepted[0][3]
        self.assertEqual(sorted(ev), ["action", "client_id", "id", "module", "seq", "time", "type"])
        self.assertEqual((ev["module"], ev["action"], ev["client_id"]), ("tickets", "create", 1))
        self.assertGreaterEqual(recv.failed_attempts(), 3)
        time.sleep(0.6)  # the thread's view after the last delivery
        self.assertEqual(self.metric(srv, "itflowd_webhook_delivered_total", hook_id), 5)
        self.assertEqual(self.metric(srv, "itflowd_webhook_failures_total", hook_id), 3)
        self.assertEqual(self.metric(srv, "itflowd_webhook_pending_events", hook_id), 0)
        self.assertEqual(self.metric(srv, "itflowd_webhook_consecutive_failures", hook_id), 0)
        self.assertGreater(self.metric(srv, "itflowd_webhook_last_success_timestamp_seconds",
                                       hook_id), time.time() - 120)
        listed = base.cli("webhook", "list", "--db", db)
        self.assertEqual(listed.returncode, 0, listed.stderr)
        row = [ln for ln in listed.stdout.splitlines() if ln.startswith("%d " % hook_id)]
        self.assertEqual(len(row), 1, listed.stdout)
        cols = row[0].split()
        # ID URL EVENTS CURSOR PENDING FAILS LAST(HTTP 200) DELIVERED LAST-SUCCESS
        self.assertEqual((cols[1], cols[2], cols[4], cols[5], cols[6], cols[7], cols[8]),
                         (recv.url, "tickets.create", "0", "0", "HTTP", "200", "5"))
        self.assertNotIn(secret, listed.stdout)
        srv.stop()
        self.assertEqual(srv.exit_code, 0)
        log = srv.log_text()
        self.assertNotIn(secret, log)
        self.assertEqual(len(re.findall(r"webhook %d: failing" % hook_id, log)), 1, log)
        self.assertEqual(len(re.findall(r"webhook %d: recovered" % hook_id, log)), 1, log)

    def test_restart_while_failing(self):
        db = base.make_seeded_db("wh_restart")
        hook_id, added = add_webhook(db, "http://127.0.0.1:9/placeholder", "--events", "tickets.*")
        secret = re.search(r"^secret: ([0-9a-f]{64})$", added.stdout, re.M).group(1)
        base.cli("webhook", "remove", str(hook_id), "--db", db)
        recv = Receiver(secret)
        self.addCleanup(recv.close)
        recv.failing = True
        hook_id, _ = add_webhook(db, recv.url, "--events", "tickets.*", "--secret", secret)
        srv = base.Server(db, "wh_restart1", extra_args=FAST).start()
        tickets = [self.create_ticket(srv, "Restart %d" % i) for i in range(4)]
        deadline = time.time() + 20
        while recv.failed_attempts() < 2 and time.time() < deadline:
            time.sleep(0.05)
        self.assertGreaterEqual(recv.failed_attempts(), 2)
        srv.stop()  # SIGTERM with four events pending
        self.assertEqual(srv.exit_code, 0)
        self.assertEqual(recv.accepted, [])
        recv.failing = False
        srv2 = base.Server(db, "wh_restart2", extra_args=FAST).start()
        tickets += [self.create_ticket(srv2, "Restart %d" % i) for i in range(4, 6)]
        accepted = recv.wait_accepted(6)
        time.sleep(1)  # nothing more may arrive
        self.assertExactlyOnceInOrder(recv, recv.accepted, hook_id, 6)
        self.assertEqual([a[3]["id"] for a in accepted], tickets)
        srv2.stop()
        self.assertEqual(srv2.exit_code, 0)

    def test_two_instances_one_database(self):
        db = base.make_seeded_db("wh_two")
        secret = "twoInstancesSecret0123456789"
        # slow answers: without the lease both instances would send the same events meanwhile
        recv = Receiver(secret, fail_first=2, delay=0.3)
        self.addCleanup(recv.close)
        hook_id, _ = add_webhook(db, recv.url, "--events", "tickets.create,clients.*",
                                 "--secret", secret)
        a = base.Server(db, "wh_two_a", extra_args=FAST).start()
        b = base.Server(db, "wh_two_b", extra_args=FAST).start()
        created, lock = [], threading.Lock()

        def writer(srv, tag):
            for i in range(6):
                tid = self.create_ticket(srv, "%s %d" % (tag, i))
                with lock:
                    created.append(tid)

        threads = [threading.Thread(target=writer, args=(s, t)) for s, t in ((a, "A"), (b, "B"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        accepted = recv.wait_accepted(12)
        time.sleep(1.5)
        self.assertExactlyOnceInOrder(recv, recv.accepted, hook_id, 12)
        self.assertEqual(sorted(x[3]["id"] for x in accepted), sorted(created))
        a.stop()
        b.stop()
        self.assertEqual((a.exit_code, b.exit_code), (0, 0))


class CliTests(WebhookCase):
    def test_add_list_remove(self):
        db = base.make_seeded_db("wh_cli")
        for args, why in (
                (["ftp://example.test/x", "--events", "*"], "URL"),
                (["http://", "--events", "*"], "URL"),
                (["http://127.0.0.1/a b", "--events", "*"], "URL"),
                (["http://127.0.0.1/h", "--events", "tickets.**"], "--events"),
                (["http://127.0.0.1/h", "--events", "tick ets;x"], "--events"),
                (["http://127.0.0.1/h", "--events", "*", "--secret", "short"], "secret"),
                (["http://127.0.0.1/h", "--events", "*", "--from", "yesterday"], "--from")):
            r = base.cli("webhook", "add", *args, "--db", db)
            self.assertEqual(r.returncode, 2, (args, r.stdout, r.stderr))
            self.assertIn(why, r.stderr)
        r = base.cli("webhook", "add", "http://127.0.0.1/h", "--db", db)
        self.assertEqual(r.returncode, 2, r.stderr)
        srv = base.Server(db, "wh_cli").start()
        self.create_ticket(srv, "Before")
        srv.stop()
        sf = os.path.join(base.TMP, "wh_secret.txt")
        base.write_file(sf, "fileSecret0123456789abcdef\n")
        id1, _ = add_webhook(db, "http://127.0.0.1:9/one", "--events", "tickets.*",
                             "--events", "clients.create", "--secret-file", sf)
        id2, _ = add_webhook(db, "https://127.0.0.1:9/two", "--events", "*", "--from", "start")
        listed = base.cli("webhook", "list", "--db", db)
        self.assertEqual(listed.returncode, 0, listed.stderr)
        lines = {ln.split()[0]: ln.split() for ln in listed.stdout.splitlines()[1:]}
        self.assertEqual(lines[str(id1)][1:3], ["http://127.0.0.1:9/one", "tickets.*,clients.create"])
        self.assertEqual(lines[str(id1)][3:5], ["1", "0"])  # cursor: the newest event (1) at add
        self.assertEqual(lines[str(id2)][3:5], ["0", "1"])  # --from start: one pending
        self.assertNotIn("fileSecret", listed.stdout)
        r = base.cli("webhook", "remove", str(id1), "--db", db)
        self.assertEqual(r.returncode, 0, r.stderr)
        listed = base.cli("webhook", "list", "--db", db)
        self.assertNotIn("/one", listed.stdout)
        self.assertIn("/two", listed.stdout)
        r = base.cli("webhook", "remove", str(id1), "--db", db)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no webhook", r.stderr)
        r = base.cli("webhook", "remove", "x1", "--db", db)
        self.assertEqual(r.returncode, 2)


ORDER = [CliTests, DeliveryTests]


def main(argv):
    return base.run_test_module(argv, sys.modules[__name__], ORDER, "webhooks",
                                backends=("sqlite", "mariadb"))


if __name__ == "__main__":
    sys.exit(main(sys.argv))

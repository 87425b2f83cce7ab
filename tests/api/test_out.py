#!/usr/bin/env python3
"""What leaves the server, and to whom: slow readers, the access log, /metrics, trusted proxies.

usage: python3 tests/api/test_out.py PATH/TO/itflowd [-v] [TestClass[.test_name] ...]

Python 3 standard library only; servers are started here on 127.0.0.1 (free ports; a private
seeded database each, see test_api.py) and stopped at the end. ITFLOWD_KEEP=1 keeps logs and
databases.

  SlowReaderTests    clients that do not read their answers hold no store connection: while 24 of
                     them hang on a 6 MB answer, other reads and /healthz answer 200 and (SQLite)
                     a passive checkpoint copies the whole WAL; beyond --buffer-answer only
                     --max-streams-per-ip answers stream to one address (the others get 503 JSON
                     with Retry-After) and a stalled stream is cut after --send-timeout.
  LogInjectionTests  request data in the access log cannot start a line of its own.
  MetricsTests       /metrics only for loopback by default, or the --metrics-from networks.
  TrustedProxyTests  X-Forwarded-For / Forwarded believed only from --trusted-proxy addresses;
                     the client address then feeds the throttle, the access log and log rows.
"""
import json
import os
import re
import socket
import sqlite3
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_api as base  # noqa: E402  (helpers: Server, make_seeded_db, keys)

ALL_KEY, C1_KEY = base.ALL_KEY, base.C1_KEY
BULK_ROWS = 8000       # extra clients, each with a 1000-character note (~1.2 KB a row)
SLOW_CLIENTS = 24      # more than the read pool of a 2-thread server (4 x 2 + 8 = 16)


def add_bulk_clients(db):
    base.db_script(db, (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d) "
        "INSERT INTO clients (client_name, client_currency_code, client_net_terms, client_notes) "
        "SELECT 'Bulk client ' || i, 'USD', 30, substr(replace(hex(zeroblob(500)), '0', 'n'), 1, "
        "1000) FROM n;") % BULK_ROWS)


# ~6 MB: more than the socket buffers of a client that reads nothing can hold (the kernel lets a
# loopback send buffer grow to 4 MB, so a smaller answer is all sent at once), under the
# --buffer-answer of the slow reader test (16 MiB)
BIG_READ = "/api/v1/clients/read.php?api_key=%s&limit=5000" % ALL_KEY
# ~9.6 MB, the whole table: over any --buffer-answer used here, streamed
HUGE_READ = "/api/v1/clients/read.php?api_key=%s&limit=%d" % (ALL_KEY, BULK_ROWS + 100)


def slow_request(port, target, rcvbuf=4096):
    """A raw client that sends one GET and then reads nothing (a tiny receive window)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(30)
    s.connect(("127.0.0.1", port))
    s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % target).encode())
    return s


def status_of(sock):
    """The status code of a raw answer (reads only its first bytes)."""
    head = b""
    while len(head) < 12:
        part = sock.recv(12 - len(head))
        if not part:
            break
        head += part
    return int(head[9:12]) if head.startswith(b"HTTP/1.1 ") else None


def read_rest(sock, limit=64 << 20):
    """Everything the server still sends until it closes (or resets) the connection."""
    data = b""
    try:
        while len(data) < limit:
            part = sock.recv(65536)
            if not part:
                break
            data += part
    except (ConnectionResetError, socket.timeout):
        pass
    return data


def read_answer(sock):
    """The rest of one answer with a Content-Length (the connection may stay open after it)."""
    data = b""
    while True:
        head, sep, body = data.partition(b"\r\n\r\n")
        if sep:
            m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            if m and len(body) >= int(m.group(1)):
                return data
        part = sock.recv(65536)
        if not part:
            return data
        data += part


def full_big_read(srv, target=BIG_READ):
    r = srv.request("GET", target, timeout=60)
    return r.status, (r.json() if r.status == 200 else None)


class SlowReaderTests(base.ApiTestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = base.make_seeded_db("out_slow", extra=add_bulk_clients)

    def test_slow_readers_hold_no_store_connection(self):
        srv = base.Server(self.db, "out_slow", threads=2, extra_args=[
            "--auth-fail-limit", "0", "--buffer-answer", str(16 << 20)]).start()
        try:
            status, whole = full_big_read(srv)
            self.assertEqual(status, 200)
            self.assertGreater(len(json.dumps(whole)), 5 << 20)
            socks = [slow_request(srv.port, BIG_READ) for _ in range(SLOW_CLIENTS)]
            try:
                time.sleep(1.0)
                for s in socks[:3]:
                    self.assertEqual(status_of(s), 200)
                # while they hang: reads, /healthz and a write, all promptly
                t0 = time.time()
                for _ in range(5):
                    r = srv.get("clients/read", key=C1_KEY)
                    self.assertEqual(r.status, 200, r)
                    r = srv.request("GET", "/healthz", timeout=20)
                    self.assertEqual(r.status, 200, r)
                r = srv.post("clients/create", {"client_name": "Written while they hang",
                                                "client_currency_code": "USD"}, key=ALL_KEY)
                self.assertCreated(r)
                self.assertLess(time.time() - t0, 20)
                if not base.on_mariadb():
                    # no reader keeps an old snapshot: a checkpoint copies every WAL frame back
                    # (tried a few times: the keys' last-use writer may append frames while a
                    # checkpoint runs; a reader holding a snapshot would fail every attempt)
                    for attempt in range(10):
                        time.sleep(0.5)
                        con = sqlite3.connect(self.db, timeout=10)
                        try:
                            busy, log, done = con.execute(
                                "PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                        finally:
                            con.close()
                        if busy == 0 and log == done:
                            break
                    self.assertEqual(busy, 0)
                    self.assertEqual(log, done, "WAL frames left behind by a reader")
            finally:
                for s in socks:
                    s.close()
            self.assertTrue(srv.alive())
        finally:
            srv.stop()

    def test_streams_beyond_the_bound_are_capped_per_address_and_cut_when_stalled(self):
        srv = base.Server(self.db, "out_stream", threads=2, extra_args=[
            "--auth-fail-limit", "0", "--buffer-answer", "65536", "--max-streams-per-ip", "2",
            "--send-timeout", "2"]).start()
        try:
            status, whole = full_big_read(srv, HUGE_READ)  # streamed, read at once: complete
            self.assertEqual(status, 200)
            self.assertEqual(len(whole["data"]), whole["count"])
            self.assertGreater(whole["count"], BULK_ROWS)
            socks = [slow_request(srv.port, HUGE_READ) for _ in range(4)]
            try:
                statuses = [status_of(s) for s in socks]
                self.assertEqual(sorted(statuses), [200, 200, 503, 503], statuses)
                for s, st in zip(socks, statuses):
                    if st == 503:
                        rest = read_answer(s)
                        self.assertIn(b"Retry-After: 1", rest)
                        self.assertIn(b'{"success":"False","message":"Too many large answers', rest)
                # the two streams stall; the store still serves everybody else
                r = srv.get("clients/read", key=C1_KEY)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(srv.request("GET", "/healthz").status, 200)
                # --send-timeout 2: both are cut (logged "(aborted)") well before MHD's own 30 s
                deadline = time.time() + 15
                while srv.log_text().count("(aborted)") < 2 and time.time() < deadline:
                    time.sleep(0.1)
                self.assertEqual(srv.log_text().count("(aborted)"), 2, srv.log_text()[-2000:])
                for s, st in zip(socks, statuses):
                    if st == 200:
                        rest = read_rest(s)
                        self.assertLess(len(rest), 8 << 20, "a stalled stream was not cut")
                        self.assertFalse(rest.endswith(b"\r\n0\r\n\r\n"))
            finally:
                for s in socks:
                    s.close()
            # their slots are free again
            for _ in range(3):
                status, again = full_big_read(srv, HUGE_READ)
                self.assertEqual(status, 200)
                self.assertEqual(again, whole)
        finally:
            srv.stop()

    def test_new_flags_are_range_checked(self):
        for args, words in (
                (["--buffer-answer", "1000"], "--buffer-answer must be a number from 65536"),
                (["--max-streams-per-ip", "0"], "--max-streams-per-ip must be a number from 1"),
                (["--send-timeout", "x"], "--send-timeout must be a number from 1"),
                (["--metrics-from", "10.0.0.1/8"], "--metrics-from needs an IP address"),
                (["--metrics-from", "none", "--metrics-from", "::1"], "none excludes"),
                (["--trusted-proxy", "proxy.example"], "--trusted-proxy needs an IP address"),
                (["--trusted-proxy"], "--trusted-proxy needs a value")):
            r = base.cli("serve", "--db", self.db, "--listen", "127.0.0.1:1", *args)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertIn(words, r.stderr)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)


class LogInjectionTests(base.ApiTestCase):
    def test_a_forged_line_stays_inside_its_own(self):
        srv = base.Server(base.make_seeded_db("out_log"), "out_log").start()
        try:
            forged = "/api/v1/x%0a10.9.9.9%20POST%20/api/v1/clients/archive.php%20200"
            self.assertEqual(srv.request("GET", forged).status, 404)
            self.assertEqual(srv.request("GET", "/api/v1/y%0d%1b[2J%7f\\z").status, 404)
            srv.request("GET", "/healthz")  # a line after them: theirs are complete
            time.sleep(0.3)
            lines = srv.log_text().splitlines()
            hits = [ln for ln in lines if "10.9.9.9" in ln]
            self.assertEqual(len(hits), 1, hits)
            self.assertRegex(hits[0], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z 127\.0\.0\.1 GET "
                             r"/api/v1/x\\x0a10\.9\.9\.9\\x20POST")
            self.assertTrue(hits[0].endswith("ms"), hits)
            self.assertFalse([ln for ln in lines if ln.startswith("10.9.9.9")])
            # every line is an entry of its own: a time first, or the server's own message
            self.assertEqual([ln for ln in lines if not re.match(r"^(\d{4}-\d\d-\d\dT|itflowd: )",
                                                                  ln)], [])
            other = [ln for ln in lines if "/api/v1/y" in ln]
            self.assertEqual(other, [other[0]] if other else ["missing"])
            self.assertIn("/api/v1/y\\x0d\\x1b[2J\\x7f\\x5cz 404", other[0])
            self.assertFalse(any(c in srv.log_text() for c in "\r\x1b\x7f"))
        finally:
            srv.stop()


class MetricsTests(base.ApiTestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = base.make_seeded_db("out_metrics")

    def check(self, args, allowed, refused):
        srv = base.Server(self.db, "out_metrics", extra_args=args).start()
        try:
            for src in allowed:
                r = srv.request("GET", "/metrics", source=src)
                self.assertEqual(r.status, 200, (args, src, r))
                self.assertIn(b"itflowd_requests_total", r.body)
            for src in refused:
                r = srv.request("GET", "/metrics", source=src)
                self.assertJsonError(r, 403, "not served to this address")
                self.assertNotIn(b"itflowd_", r.body)
            self.assertEqual(srv.request("GET", "/healthz", source=refused[0] if refused else
                                         None).status, 200)
        finally:
            srv.stop()

    def test_loopback_only_by_default(self):
        self.check([], ["127.0.0.1", "127.0.0.2"], [])

    def test_metrics_from_replaces_the_default(self):
        self.check(["--metrics-from", "127.0.0.2/32"], ["127.0.0.2"], ["127.0.0.1", "127.0.0.3"])
        self.check(["--metrics-from", "127.0.0.0/30", "--metrics-from", "10.0.0.0/8"],
                   ["127.0.0.1", "127.0.0.3"], ["127.0.0.4"])

    def test_metrics_from_none(self):
        self.check(["--metrics-from", "none"], [], ["127.0.0.1"])

    def test_behind_a_trusted_proxy_the_client_is_checked(self):
        srv = base.Server(self.db, "out_metrics", extra_args=["--trusted-proxy", "127.0.0.1"])
        srv.start()
        try:
            r = srv.request("GET", "/metrics", headers={"X-Forwarded-For": "198.51.100.7"})
            self.assertJsonError(r, 403, "not served to this address")
            self.assertEqual(srv.request("GET", "/metrics").status, 200)
        finally:
            srv.stop()


class TrustedProxyTests(base.ApiTestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = base.make_seeded_db("out_proxy")

    def bad(self, srv, source=None, **headers):
        return srv.request("GET", "/api/v1/clients/read.php", query={"api_key": "x" * 32},
                           headers=headers, source=source)

    def good(self, srv, source=None, **headers):
        return srv.request("GET", "/api/v1/clients/read.php", query={"api_key": C1_KEY},
                           headers=headers, source=source)

    def failed_rows(self, ip):
        return base.db_value(self.db, "SELECT COUNT(*) FROM logs WHERE log_type = 'API' AND "
                             "log_action = 'Failed' AND log_ip = ?", (ip,))

    def test_clients_behind_one_proxy_are_throttled_separately(self):
        srv = base.Server(self.db, "out_proxy", extra_args=[
            "--trusted-proxy", "127.0.0.1", "--auth-fail-limit", "3"]).start()
        try:
            xff = {"X-Forwarded-For": "203.0.113.1"}
            for _ in range(3):
                self.assertEqual(self.bad(srv, **xff).status, 401)
            self.assertEqual(self.good(srv, **xff).status, 429)
            # another client of the same proxy, one in a chain, and the proxy itself: unaffected
            self.assertEqual(self.good(srv, **{"X-Forwarded-For": "203.0.113.2"}).status, 200)
            self.assertEqual(self.good(srv, **{"X-Forwarded-For": "203.0.113.1, 203.0.113.3"})
                             .status, 200)
            self.assertEqual(self.good(srv, **{"Forwarded": 'for="[2001:db8::5]:4711"'}).status,
                             200)
            self.assertEqual(self.good(srv).status, 200)
            # the forged part of a chain left of the client changes nothing
            self.assertEqual(self.good(srv, **{"X-Forwarded-For": "9.9.9.9, 203.0.113.1"}).status,
                             429)
            self.assertEqual(self.failed_rows("203.0.113.1"), 3)
            self.assertEqual(self.failed_rows("127.0.0.1"), 0)
            time.sleep(0.3)
            log = srv.log_text()
            self.assertIn("Z 203.0.113.1 GET /api/v1/clients/read.php 401", log)
            self.assertIn("Z 203.0.113.2 GET /api/v1/clients/read.php 200", log)
            self.assertIn("Z 2001:db8::5 GET /api/v1/clients/read.php 200", log)
        finally:
            srv.stop()

    def test_forwarded_headers_from_untrusted_addresses_change_nothing(self):
        srv = base.Server(self.db, "out_proxy2", extra_args=[
            "--trusted-proxy", "127.0.0.2", "--auth-fail-limit", "3"]).start()
        try:
            before = self.failed_rows("127.0.0.1")
            for i in range(3):  # a new forged address every time: still one client
                r = self.bad(srv, **{"X-Forwarded-For": "198.51.100.%d" % i,
                                     "Forwarded": "for=198.51.100.%d" % i})
                self.assertEqual(r.status, 401)
            self.assertEqual(self.good(srv, **{"X-Forwarded-For": "198.51.100.9"}).status, 429)
            self.assertEqual(self.failed_rows("127.0.0.1"), before + 3)
            self.assertEqual(self.failed_rows("198.51.100.0"), 0)
            # the trusted proxy's client is believed; garbage from it leaves the proxy's address
            self.assertEqual(self.good(srv, "127.0.0.2", **{"X-Forwarded-For": "198.51.100.50"})
                             .status, 200)
            self.assertEqual(self.good(srv, "127.0.0.2", **{"X-Forwarded-For": "not-an-ip"})
                             .status, 200)
            time.sleep(0.3)
            log = srv.log_text()
            self.assertNotIn("Z 198.51.100.1 ", log)
            self.assertIn("Z 198.51.100.50 GET /api/v1/clients/read.php 200", log)
            self.assertIn("Z 127.0.0.2 GET /api/v1/clients/read.php 200", log)
            self.assertNotIn("not-an-ip", log)
        finally:
            srv.stop()


ORDER = [LogInjectionTests, MetricsTests, TrustedProxyTests, SlowReaderTests]


def main(argv):
    return base.run_test_module(argv, sys.modules[__name__], ORDER, "out")


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Connection handling of itflowd serve: what reaches (or fails to reach) the request handler.

usage: python3 tests/api/test_conn.py PATH/TO/itflowd [-v] [TestClass[.test_name] ...]

Every server is started here on 127.0.0.1 (free ports, a private SQLite database each with the
shared conformance seed, helpers from test_api.py) and stopped at the end. Python 3 standard
library only; raw sockets where http.client cannot send the request. Sources 127.0.0.x other than
127.0.0.1 stand for a second client address (all of 127/8 is loopback on Linux).

  LeakTests     requests libmicrohttpd fails on while parsing (too many query arguments, too many
                cookies): answered or closed, nothing kept, nothing left "in flight"
  FramingTests  RFC 9112 framing: conflicting Content-Length, Transfer-Encoding with
                Content-Length, whitespace before the colon, obs-folded Transfer-Encoding: 400
                JSON and the connection closed
  SlowTests     slowloris: the per-address connection limit, the header deadline, the body's
                minimum rate
  PortTests     a second serve on a port in use is refused (one line, non-zero exit) unless both
                share it with --reuse-port
"""
import os
import re
import signal
import socket
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_api as base  # noqa: E402  (helpers: Server, make_seeded_db, keys)

ALL_KEY = base.ALL_KEY
READ = "/api/v1/clients/read.php?api_key=" + ALL_KEY
CREATE = "/api/v1/locations/create.php?api_key=" + base.C1_KEY


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def exchange(port, data, timeout=5.0, source=None):
    """Sends data on a fresh connection; returns (answer bytes, closed: the server closed it)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                 source_address=(source, 0) if source else None)
    out = b""
    closed = False
    try:
        s.sendall(data)
        while True:
            d = s.recv(65536)
            if not d:
                closed = True
                break
            out += d
    except ConnectionResetError:
        closed = True
    except socket.timeout:
        pass
    finally:
        s.close()
    return out, closed


def status_of(answer):
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", answer)
    return int(m.group(1)) if m else None


def body_of(answer):
    return answer.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in answer else b""


def stop_and_read_in_flight(server, within=5.0):
    """SIGTERM; asserts a prompt exit 0 and returns N of its 'N requests in flight' line.
    A client can read the last answer a moment before the server has finished that request
    (libmicrohttpd reports it complete after the send): a short pause first, so that only a
    request that is never finished counts."""
    time.sleep(0.5)
    t0 = time.time()
    server.proc.send_signal(signal.SIGTERM)
    code = server.proc.wait(timeout=30)
    took = time.time() - t0
    server.stop()
    m = re.findall(r"shutting down \((\d+) requests in flight\)", server.log_text())
    return code, took, int(m[-1]) if m else None


class ConnCase(unittest.TestCase):
    def assertJson4xx(self, answer, status, words, ctx=None):
        self.assertEqual(status_of(answer), status, ctx or answer[:300])
        self.assertIn(b"Content-Type: application/json", answer, answer[:300])
        body = body_of(answer)
        self.assertTrue(body.startswith(b'{"success":"False","message":"'), answer[:300])
        self.assertIn(words.encode(), body, answer[:300])


class LeakTests(ConnCase):
    N = 10000  # of each form: 20,000 requests in all

    def test_unparseable_requests_leave_nothing_behind(self):
        """10,000 requests with 600 query arguments and 10,000 with 400 cookies (more than
        libmicrohttpd's per-connection memory holds): each is answered 414 JSON (arguments: the
        library loses the request after the URI callback, itflowd answers on the socket) or
        closed (cookies: the library closes it); RSS grows by less than 16 MiB (it grew by
        about 185 MiB before, none of the requests' state was freed) and SIGTERM finds 0 requests
        in flight (it waited for all 20,000)."""
        s = base.Server(base.make_seeded_db("leak"), "leak", extra_args=["--quiet"]).start()
        query = (b"GET /healthz?" + b"&".join(b"a%d=b" % i for i in range(600))
                 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        cookie = (b"GET /healthz HTTP/1.1\r\nHost: x\r\nCookie: "
                  + b"; ".join(b"c%d=v" % i for i in range(400)) + b"\r\nConnection: close\r\n\r\n")
        try:
            ans, closed = exchange(s.port, query)
            self.assertJson4xx(ans, 414, "too many query parameters")
            self.assertTrue(closed)
            ans, closed = exchange(s.port, cookie)
            self.assertTrue(closed, ans[:200])
            self.assertTrue(ans == b"" or 400 <= (status_of(ans) or 0) < 500, ans[:200])
            for _ in range(200):  # warm up: the allocator's arenas, the thread stacks
                exchange(s.port, query)
                exchange(s.port, cookie)
            r0 = rss_kib(s.proc.pid)
            t0 = time.time()
            for i in range(self.N):
                for data in (query, cookie):
                    ans, closed = exchange(s.port, data, timeout=10)
                    self.assertTrue(closed, "request %d: the connection stayed open: %r"
                                    % (i, ans[:200]))
                self.assertLess(time.time() - t0, 300, "too slow: %d of %d" % (i, self.N))
            time.sleep(0.5)
            growth = rss_kib(s.proc.pid) - r0
            sys.stderr.write("[%d requests in %.1fs, RSS %d -> %d KiB] " % (
                2 * self.N, time.time() - t0, r0, r0 + growth))
            if not base.sanitized(base.BIN):
                self.assertLess(growth, 16 * 1024, "RSS grew by %d KiB" % growth)
            r = s.request("GET", READ)
            self.assertEqual(r.status, 200, r)
            self.assertTrue(s.alive())
        finally:
            code, took, in_flight = stop_and_read_in_flight(s)
        self.assertEqual(code, 0)
        self.assertEqual(in_flight, 0, s.log_text()[-500:])
        self.assertLess(took, 5.0)


class FramingTests(ConnCase):
    @classmethod
    def setUpClass(cls):
        cls.server = base.Server(base.make_seeded_db("framing"), "framing").start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def refused(self, headers, body, words):
        data = (b"POST " + CREATE.encode() + b" HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n"
                + body)
        ans, closed = exchange(self.server.port, data)
        self.assertJson4xx(ans, 400, words)
        self.assertIn(b"Connection: close", ans)
        self.assertTrue(closed, "the connection stayed open after the 400")
        self.assertEqual(base.db_value(self.server.db, "SELECT COUNT(*) FROM locations "
                                                       "WHERE location_name = 'Smuggled'"), 0)

    # every header is looked at (MHD_get_connection_values), not only the first of a name:
    # itflowd answers each of these itself

    def test_two_different_content_lengths(self):
        self.refused(b"Content-Length: 2\r\nContent-Length: 29\r\n",
                     b'{"location_name":"Smuggled"}', "two different Content-Length")

    def test_transfer_encoding_with_content_length(self):
        self.refused(b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n",
                     b'1c\r\n{"location_name":"Smuggled"}\r\n0\r\n\r\n',
                     "both Transfer-Encoding and Content-Length")

    def test_whitespace_before_the_colon(self):
        # libmicrohttpd 0.9.75 keeps the space in the name ("Transfer-Encoding ")
        self.refused(b"Transfer-Encoding : chunked\r\n",
                     b'1c\r\n{"location_name":"Smuggled"}\r\n0\r\n\r\n', "header name is malformed")

    def test_obs_folded_transfer_encoding(self):
        # libmicrohttpd 0.9.75 appends the folded line to the name ("Transfer-Encodingchunked")
        self.refused(b"Transfer-Encoding:\r\n chunked\r\n",
                     b'1c\r\n{"location_name":"Smuggled"}\r\n0\r\n\r\n', "header name is malformed")

    def test_obs_folded_transfer_encoding_after_content_length(self):
        self.refused(b"Content-Length: 28\r\nTransfer-Encoding: identity\r\n , chunked\r\n",
                     b'{"location_name":"Smuggled"}', "header name is malformed")

    def test_unknown_transfer_coding(self):
        self.refused(b"Transfer-Encoding: gzip, chunked\r\n",
                     b'1c\r\n{"location_name":"Smuggled"}\r\n0\r\n\r\n', "Transfer-Encoding")

    def test_identical_content_lengths_and_plain_requests_still_work(self):
        data = (b"GET " + READ.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                b"Content-Length: 0\r\nConnection: close\r\n\r\n")
        ans, _ = exchange(self.server.port, data)
        self.assertEqual(status_of(ans), 200, ans[:300])
        data = (b"POST /api/v1/clients/read.php?api_key=" + ALL_KEY.encode()
                + b" HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                b"2\r\n{}\r\n0\r\n\r\n")
        ans, _ = exchange(self.server.port, data)
        self.assertEqual(status_of(ans), 405, ans[:300])  # read: GET only (the body was read)


class SlowTests(ConnCase):
    def test_per_address_limit_keeps_other_clients_served(self):
        """Slow connections from 127.0.0.1 with --max-connections-per-ip 8: a request on the 13th
        gets 429 JSON and is closed; of 60, all but 8 are closed within seconds (those over the
        limit after a second, past twice the limit at once); a client at 127.0.0.2 gets 200
        meanwhile; the 8 are closed at the header deadline (8 s)."""
        s = base.Server(base.make_seeded_db("perip"), "perip",
                        extra_args=["--max-connections-per-ip", "8", "--header-timeout", "8"]
                        ).start()
        socks = []

        def slow():
            sk = socket.create_connection(("127.0.0.1", s.port), timeout=10)
            try:
                sk.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: a")
            except OSError:
                pass  # refused at once: past twice the limit
            socks.append(sk)

        try:
            time.sleep(0.3)  # the readiness probe's connection is gone
            t0 = time.time()
            for _ in range(12):
                slow()
            ans, closed = exchange(s.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertJson4xx(ans, 429, "Too many connections from this address")
            self.assertIn(b"Retry-After: 1", ans)
            self.assertTrue(closed)
            for _ in range(48):
                slow()
            r = s.request("GET", READ, source="127.0.0.2", timeout=5)
            self.assertEqual(r.status, 200, r)
            open_ = list(socks)
            while time.time() - t0 < 6 and len(open_) > 8:
                open_ = [sk for sk in open_ if not self._closed(sk)]
                time.sleep(0.2)
            self.assertLessEqual(len(open_), 8, "%d slow connections still open after %.1fs"
                                 % (len(open_), time.time() - t0))
            r = s.request("GET", READ, source="127.0.0.2", timeout=5)
            self.assertEqual(r.status, 200, r)
            deadline = t0 + 8 + 10  # the header deadline, and a generous margin
            while time.time() < deadline and open_:
                open_ = [sk for sk in open_ if not self._closed(sk)]
                time.sleep(0.2)
            self.assertEqual(open_, [], "the header deadline did not close the slow connections")
            self.assertGreater(time.time() - t0, 7.5, "closed before the header deadline")
            r = s.request("GET", READ, timeout=5)  # 127.0.0.1 itself is served again
            self.assertEqual(r.status, 200, r)
        finally:
            for sk in socks:
                sk.close()
            s.stop()

    def test_trusted_proxy_peer_is_not_limited_per_address(self):
        """Behind a --trusted-proxy every client arrives from the proxy's address: with
        --max-connections-per-ip 4, 20 kept-alive connections from the proxy (127.0.0.1) are all
        served (neither our 429 nor the library's refusal at twice the limit); a peer that is not
        a trusted proxy (127.0.0.2) is still limited."""
        s = base.Server(base.make_seeded_db("perip_proxy"), "perip_proxy",
                        extra_args=["--max-connections-per-ip", "4",
                                    "--trusted-proxy", "127.0.0.1"]).start()
        socks = []
        try:
            time.sleep(0.3)
            for i in range(20):
                sk = socket.create_connection(("127.0.0.1", s.port), timeout=10)
                socks.append(sk)
                sk.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 198.51.100.%d\r\n\r\n"
                            % (READ, i + 1)).encode())
            for i, sk in enumerate(socks):
                ans = b""
                while b"\r\n\r\n" not in ans:
                    d = sk.recv(65536)
                    if not d:
                        break
                    ans += d
                self.assertEqual(status_of(ans), 200, "connection %d: %r" % (i, ans[:300]))
            others = []
            for _ in range(4):
                sk = socket.create_connection(("127.0.0.1", s.port), timeout=10,
                                              source_address=("127.0.0.2", 0))
                sk.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: a")
                others.append(sk)
            socks.extend(others)
            time.sleep(0.2)
            ans, closed = exchange(s.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
                                   source="127.0.0.2")
            self.assertJson4xx(ans, 429, "Too many connections from this address")
        finally:
            for sk in socks:
                sk.close()
            s.stop()

    @staticmethod
    def _closed(sk):
        sk.setblocking(False)
        try:
            return sk.recv(65536) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True
        finally:
            sk.setblocking(True)

    def test_trickled_headers_are_cut_at_the_deadline(self):
        """A header line every second, with --header-timeout 2: closed after about 2 s (the
        idle timeout alone, 30 s, would never close it)."""
        s = base.Server(base.make_seeded_db("hdrdeadline"), "hdrdeadline",
                        extra_args=["--header-timeout", "2"]).start()
        try:
            sk = socket.create_connection(("127.0.0.1", s.port), timeout=10)
            t0 = time.time()
            sk.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            closed_at = None
            for i in range(15):
                try:
                    sk.sendall(b"X-Slow-%d: a\r\n" % i)
                except OSError:
                    closed_at = time.time()
                    break
                if self._closed(sk):
                    closed_at = time.time()
                    break
                time.sleep(1.0)
            sk.close()
            self.assertIsNotNone(closed_at, "still open after 15 s")
            self.assertLess(closed_at - t0, 2 + 4)
            self.assertGreater(closed_at - t0, 1.5)
            r = s.request("GET", READ)
            self.assertEqual(r.status, 200, r)
        finally:
            s.stop()

    def test_body_below_the_minimum_rate_is_cut(self):
        """A 100 kB body sent at 20 bytes/s with --body-min-rate 1000 (after --header-timeout 2):
        the connection is closed within a few seconds, nothing is written; a normal write
        works."""
        s = base.Server(base.make_seeded_db("bodyrate"), "bodyrate",
                        extra_args=["--header-timeout", "2", "--body-min-rate", "1000"]).start()
        try:
            sk = socket.create_connection(("127.0.0.1", s.port), timeout=10)
            t0 = time.time()
            sk.sendall(b"POST " + CREATE.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                       b"Content-Length: 100000\r\n\r\n{\"location_name\":\"Slow\",\"x\":\"")
            closed_at, answer = None, b""
            for _ in range(30):
                try:
                    sk.sendall(b"a" * 10)
                except OSError:
                    closed_at = time.time()
                    break
                sk.setblocking(False)
                try:
                    d = sk.recv(65536)
                    answer += d
                    if not d:
                        closed_at = time.time()
                        break
                except BlockingIOError:
                    pass
                except OSError:
                    closed_at = time.time()
                    break
                finally:
                    sk.setblocking(True)
                time.sleep(0.5)
            sk.close()
            self.assertIsNotNone(closed_at, "a body at 20 bytes/s still open after 15 s")
            self.assertLess(closed_at - t0, 2 + 6)
            self.assertTrue(answer == b"" or status_of(answer) == 408, answer[:300])
            self.assertEqual(base.db_value(s.db, "SELECT COUNT(*) FROM locations "
                                                 "WHERE location_name = 'Slow'"), 0)
            r = s.post("locations/create", {"location_name": "Fast"}, key=base.C1_KEY)
            self.assertEqual(r.status, 200, r)
        finally:
            s.stop()


class PortTests(ConnCase):
    def test_second_serve_on_a_port_in_use_is_refused(self):
        db = base.make_seeded_db("port")
        first = base.Server(db, "port-a").start()
        try:
            r = subprocess.run([base.BIN, "serve", "--db", db, "--listen",
                                "127.0.0.1:%d" % first.port, "--quiet"],
                               capture_output=True, text=True, env=base.ENV, timeout=20)
            self.assertNotEqual(r.returncode, 0, r.stderr)
            lines = r.stderr.strip().splitlines()
            self.assertEqual(len(lines), 1, r.stderr)
            self.assertIn("127.0.0.1:%d" % first.port, lines[0])
            self.assertIn("in use", lines[0])
        finally:
            first.stop()

    def test_reuse_port_shares_it_on_purpose(self):
        db = base.make_seeded_db("reuse")
        first = base.Server(db, "reuse-a", extra_args=["--reuse-port"]).start()
        second = None
        try:
            log = open(os.path.join(base.TMP, "reuse-b.log"), "wb")
            second = subprocess.Popen([base.BIN, "serve", "--db", db, "--listen",
                                       "127.0.0.1:%d" % first.port, "--reuse-port"],
                                      stdout=subprocess.DEVNULL, stderr=log, env=base.ENV)
            deadline = time.time() + 10
            text = ""
            while time.time() < deadline and "listening on" not in text:
                self.assertIsNone(second.poll(), "the second server exited")
                time.sleep(0.1)
                with open(log.name) as f:
                    text = f.read()
            self.assertIn("listening on http://127.0.0.1:%d" % first.port, text)
            for _ in range(10):
                self.assertEqual(first.request("GET", "/healthz").status, 200)
        finally:
            if second is not None:
                second.terminate()
                second.wait(timeout=20)
            first.stop()


ORDER = [FramingTests, SlowTests, PortTests, LeakTests]


def main(argv):
    return base.run_test_module(argv, sys.modules[__name__], ORDER, "connection")


if __name__ == "__main__":
    sys.exit(main(sys.argv))

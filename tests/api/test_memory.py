#!/usr/bin/env python3
"""Memory taken by request bodies before authentication (issue 11: body parsing amplified a 15 MB
body of `[{},{},...]` to 1.2 GB, and kept most of it after the 400).

usage: python3 tests/api/test_memory.py PATH/TO/itflowd [-v] [TestClass[.test_name] ...]

Servers are started here on 127.0.0.1 (free ports, a seeded SQLite database each) and stopped at
the end. The server's memory is read from /proc/PID/status: VmHWM (the peak resident set, kept by
the kernel) and VmRSS (now).

  BurstTests   16 bodies of 15 MB `[{},{},...]` (and `{"a":[{},...]}`) sent at once from 16
               threads with the default limits: every answer is a 400 or 503 JSON (a GET read
               ignores the body it cannot use and answers as without it), the peak resident set
               stays under PEAK_BOUND, and after the answers it falls back under SETTLE_BOUND
               above the baseline. A sampler kills the server past KILL_AT, so that a server
               without the bounds fails the test instead of exhausting the machine.
  BudgetTests  --max-body-memory: a body that would go beyond it gets 503 JSON with Retry-After
               while it arrives (declared Content-Length or chunked); a declared length only
               reserves a small first part, so idle connections declaring large bodies hold
               nothing much; once the other body is done the same request succeeds.
  ValueCapTests  more than 100000 JSON values: 400 naming it on a write, ignored on a read (as an
               unparseable body is); a body just under the cap is parsed and used.

Under a sanitizer (the binary references __asan_init, __tsan_init or __msan_init) the resident
set figures mean nothing (the sanitizer's allocator and shadow memory): the RSS assertions are
skipped there, everything else is checked.
"""
import os
import socket
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_api as base  # noqa: E402  (helpers: Server, make_seeded_db, keys)

MiB = 1 << 20
MAX_BODY = 16 * MiB  # the default --max-body
BODY_MEMORY = 8 * MAX_BODY  # the default --max-body-memory
PEAK_BOUND = BODY_MEMORY + 96 * MiB  # above the resident set before the burst
SETTLE_BOUND = 48 * MiB  # above the resident set before the burst, once all is answered
KILL_AT = 1536 * MiB  # the sampler ends a server past this (an unbounded one reaches gigabytes)
CLIENTS = 16
SANITIZED = False

CREATE = "/api/v1/clients/create.php?api_key=" + base.ALL_KEY
READ = "/api/v1/clients/read.php?api_key=" + base.C1_KEY


def proc_status(pid):
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM"):
                    out[k] = int(v.split()[0]) * 1024
    except OSError:
        pass
    return out


def empty_objects(size, prefix=b"[", suffix=b"]"):
    """`[{},{},...]` of exactly size bytes (with prefix/suffix around the list)."""
    n = (size - len(prefix) - len(suffix) + 1) // 3
    body = prefix + b",".join([b"{}"] * n) + suffix
    return body + b" " * (size - len(body))


def exchange(port, method, target, body, headers=(), timeout=60.0, chunked=False):
    """Sends one request (a reset while sending is noted, not raised) and reads the answer while
    sending, so that an early answer is seen. Returns (status or None, headers, body, error)."""
    head = "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" % (method, target)
    for k, v in headers:
        head += "%s: %s\r\n" % (k, v)
    if chunked:
        head += "Transfer-Encoding: chunked\r\n\r\n"
    else:
        head += "Content-Length: %d\r\n\r\n" % len(body)
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    got = []
    err = []

    def reader():
        while True:
            try:
                chunk = sock.recv(65536)
            except OSError as e:
                err.append("recv: " + e.__class__.__name__)
                return
            if not chunk:
                return
            got.append(chunk)

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        sock.sendall(head.encode())
        view = memoryview(body)
        step = 1 << 20
        for i in range(0, len(body), step):
            part = view[i:i + step]
            if chunked:
                sock.sendall(b"%x\r\n" % len(part) + part + b"\r\n")
            else:
                sock.sendall(part)
            if got:
                break  # answered early: the rest is never read
        if chunked and not got:
            sock.sendall(b"0\r\n\r\n")
    except OSError as e:
        err.append("send: " + e.__class__.__name__)
    t.join(timeout)
    sock.close()
    data = b"".join(got)
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return None, {}, b"", "; ".join(err)
    lines = data[:end].decode("latin-1").split("\r\n")
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    return int(lines[0].split()[1]), hdrs, data[end + 4:], "; ".join(err)


class Sampler(threading.Thread):
    """Reads the server's VmRSS every 5 ms; kills the server past KILL_AT."""

    def __init__(self, proc):
        super().__init__(daemon=True)
        self.proc = proc
        self.stop = threading.Event()
        self.max_rss = 0
        self.killed = False

    def run(self):
        while not self.stop.is_set():
            rss = proc_status(self.proc.pid).get("VmRSS", 0)
            self.max_rss = max(self.max_rss, rss)
            if rss > KILL_AT and not SANITIZED:
                self.killed = True
                self.proc.kill()
                return
            time.sleep(0.005)


class MemoryCase(base.ApiTestCase):
    def assertJson(self, status, hdrs, body, statuses, *words):
        self.assertIn(status, statuses, body[:300])
        self.assertEqual(hdrs.get("content-type"), "application/json", body[:300])
        obj = base.json.loads(body)
        self.assertEqual(list(obj.keys()), ["success", "message"])
        self.assertEqual(obj["success"], "False")
        for w in words:
            self.assertIn(w, obj["message"])
        return obj["message"]

    def assertServes(self, server):
        self.assertTrue(server.alive(), "the server died")
        r = server.request("GET", READ)
        self.assertEqual(r.status, 200, r)
        return r.body


class BurstTests(MemoryCase):
    def test_16_bodies_at_once(self):
        server = base.Server(base.make_seeded_db("burst"), "burst",
                             extra_args=["--auth-fail-limit", "0", "--quiet"]).start()
        try:
            normal = self.assertServes(server)
            before = proc_status(server.proc.pid)
            size = 15 * 1000 * 1000
            arrays = empty_objects(size)
            objects = empty_objects(size, b'{"a":[', b"]}")
            jobs = ([("POST", CREATE, arrays)] * 11 + [("POST", CREATE, objects)] * 3 +
                    [("GET", READ, arrays)] * 2)
            assert len(jobs) == CLIENTS
            results = [None] * CLIENTS
            sampler = Sampler(server.proc)
            sampler.start()
            gate = threading.Barrier(CLIENTS)

            def client(i):
                gate.wait()
                method, target, body = jobs[i]
                results[i] = exchange(server.port, method, target, body)

            threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
            t0 = time.time()
            for t in threads:
                t.start()
            for t in threads:
                t.join(180)
            took = time.time() - t0
            peak = proc_status(server.proc.pid).get("VmHWM", sampler.max_rss)
            # after the answers: memory goes back (bounded wait)
            after = None
            deadline = time.time() + 10
            while time.time() < deadline and not sampler.killed:
                after = proc_status(server.proc.pid).get("VmRSS")
                if after is not None and after - before["VmRSS"] < SETTLE_BOUND:
                    break
                time.sleep(0.1)
            sampler.stop.set()
            sampler.join()
            sys.stderr.write(
                "\n  %d bodies of %d bytes in %.1fs: resident set %.0f MiB before, peak %.0f MiB"
                " (VmHWM), %s MiB after%s\n" % (
                    CLIENTS, size, took, before["VmRSS"] / MiB, max(peak, sampler.max_rss) / MiB,
                    "%.0f" % (after / MiB) if after else "?",
                    " (killed past %d MiB)" % (KILL_AT // MiB) if sampler.killed else ""))
            if not SANITIZED:
                self.assertFalse(sampler.killed,
                                 "the server went past %d MiB resident" % (KILL_AT // MiB))
                self.assertLess(peak - before["VmRSS"], PEAK_BOUND,
                                "peak resident set %.0f MiB over %.0f MiB before" % (
                                    peak / MiB, before["VmRSS"] / MiB))
                self.assertLess(after - before["VmRSS"], SETTLE_BOUND,
                                "resident set %.0f MiB after, %.0f MiB before" % (
                                    after / MiB, before["VmRSS"] / MiB))
            counts = {}
            for (method, target, _), (status, hdrs, body, err) in zip(jobs, results):
                counts[status] = counts.get(status, 0) + 1
                self.assertIsNotNone(status, "no answer to %s %s (%s)" % (method, target, err))
                if method == "GET" and status == 200:
                    self.assertEqual(body, normal)  # the unusable body is ignored, as before
                    continue
                msg = self.assertJson(status, hdrs, body, (400, 503))
                if status == 503:
                    self.assertEqual(hdrs.get("retry-after"), "1")
                else:
                    self.assertIn("too many JSON values", msg)
            sys.stderr.write("  answers: %s\n" % ", ".join(
                "%s x%d" % kv for kv in sorted(counts.items(), key=str)))
            self.assertServes(server)
        finally:
            server.stop()
        self.assertEqual(server.exit_code, 0)


class BudgetTests(MemoryCase):
    server = None

    @classmethod
    def setUpClass(cls):
        cls.server = base.Server(
            base.make_seeded_db("budget"), "budget",
            extra_args=["--auth-fail-limit", "0", "--max-body", str(MiB),
                        "--max-body-memory", str(MiB)]).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def hold(self, declared, sent=0):
        """A request that declared `declared` bytes and sent `sent` of them (at least a few): it
        holds what it sent (and a small first part), not what it declared."""
        sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=30)
        sock.sendall(("POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n{\"client_name\""
                      % (CREATE, declared)).encode())
        if sent:
            sock.sendall(b" " * sent)
        time.sleep(0.3)  # read by the server
        return sock

    def test_declared_lengths_alone_hold_nothing_much(self):
        """Connections that declare large bodies and send nothing more do not hold the budget:
        with 1 MiB in all, ten of them declaring 900 KB each leave room for a 300 KB body."""
        held = [self.hold(900000) for _ in range(10)]
        try:
            for h in held[1:]:  # none of them was refused either
                h.settimeout(0.2)
                try:
                    self.assertEqual(h.recv(100), b"", "a declared body was refused at once")
                except socket.timeout:
                    pass
            status, hdrs, body, err = exchange(self.server.port, "POST", CREATE,
                                               b'{"client_name":"Budget C"}' + b" " * 300000)
            self.assertEqual(status, 200, body)
            self.assertIn(b'"success":"True"', body)
        finally:
            for h in held:
                h.close()
        self.assertServes(self.server)

    def test_over_global_budget_declared(self):
        held = self.hold(800000, 700000)
        try:
            status, hdrs, body, err = exchange(self.server.port, "POST", CREATE,
                                               b'{"client_name":"Budget A"}' + b" " * 300000)
            self.assertJson(status, hdrs, body, (503,), "Try again later")
            self.assertEqual(hdrs.get("retry-after"), "1")
            # reads need their body too: also refused while the budget is used up
            status, hdrs, body, err = exchange(self.server.port, "GET", READ, b" " * 300000)
            self.assertJson(status, hdrs, body, (503,))
        finally:
            held.close()
        time.sleep(0.3)  # the held request ends: its share goes back
        status, hdrs, body, err = exchange(self.server.port, "POST", CREATE,
                                           b'{"client_name":"Budget A"}' + b" " * 300000)
        self.assertEqual(status, 200, body)
        self.assertIn(b'"success":"True"', body)
        self.assertServes(self.server)

    def test_over_global_budget_chunked(self):
        held = self.hold(900000, 800000)
        try:
            status, hdrs, body, err = exchange(self.server.port, "POST", CREATE,
                                               b'{"client_name":"Budget B"}' + b" " * 400000,
                                               chunked=True)
            self.assertJson(status, hdrs, body, (503,), "Try again later")
            self.assertEqual(hdrs.get("retry-after"), "1")
        finally:
            held.close()
        time.sleep(0.3)
        status, hdrs, body, err = exchange(self.server.port, "POST", CREATE,
                                           b'{"client_name":"Budget B"}' + b" " * 400000,
                                           chunked=True)
        self.assertEqual(status, 200, body)
        self.assertServes(self.server)


class ValueCapTests(MemoryCase):
    """The JSON value cap with the default limits."""

    server = None

    @classmethod
    def setUpClass(cls):
        cls.server = base.Server(base.make_seeded_db("cap"), "cap",
                                 extra_args=["--auth-fail-limit", "0"]).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_value_cap(self):
        over = b'{"client_name":"Cap","a":[' + b",".join([b"1"] * 100000) + b"]}"
        status, hdrs, body, err = exchange(self.server.port, "POST", CREATE, over)
        self.assertJson(status, hdrs, body, (400,),
                        "The request body is not a valid JSON object: too many JSON values")
        # a read ignores a body it cannot use, as it does an unparseable one
        normal = self.assertServes(self.server)
        status, hdrs, body, err = exchange(self.server.port, "GET", READ, over)
        self.assertEqual((status, body), (200, normal))
        # just under the cap: parsed and used
        under = b'{"client_name":"Cap","a":[' + b",".join([b"1"] * 99997) + b"]}"
        status, hdrs, body, err = exchange(self.server.port, "POST", CREATE, under)
        self.assertEqual(status, 200, body)
        self.assertIn(b'"success":"True"', body)


ORDER = [BudgetTests, ValueCapTests, BurstTests]


def main(argv):
    def setup(binary):
        global SANITIZED
        SANITIZED = base.sanitized(binary)
        if SANITIZED:
            sys.stderr.write("sanitized binary: the resident set bounds are not checked\n")

    return base.run_test_module(argv, sys.modules[__name__], ORDER, "memory", setup)


if __name__ == "__main__":
    sys.exit(main(sys.argv))

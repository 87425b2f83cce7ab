#!/usr/bin/env python3
"""Scale-out on MariaDB: two itflowd processes share one private MariaDB instance; clients split
across both create tickets, contacts and assets concurrently, while the database is killed
(SIGKILL) and restarted in the middle of the run. Checks: every acknowledged write is present
exactly once, ticket numbers are unique and the counter agrees, failures while the database was
down were 503 JSON (never a 500 or a hang), both instances recover by themselves, and reads from
either instance agree byte for byte.

usage: tests/api/test_scaleout.py PATH/TO/itflowd   (exit 77 — skipped — without MariaDB)
Python 3 standard library only; the MariaDB checks use the `mariadb` command-line client."""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MARIADB_SH = os.path.join(REPO, "scripts", "mariadb.sh")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Instance:
    def __init__(self, binary, target, env, log):
        self.port = free_port()
        self.log = open(log, "wb")
        self.proc = subprocess.Popen([binary, "serve", "--db", target, "--listen",
                                      "127.0.0.1:%d" % self.port, "--threads", "2"],
                                     stdout=subprocess.DEVNULL, stderr=self.log, env=env)
        deadline = time.time() + 15
        while time.time() < deadline:
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("itflowd did not start")

    def request(self, method, path, body=None, key=None, timeout=15):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            headers = {"X-API-Key": key} if key else {}
            data = json.dumps(body).encode() if body is not None else None
            if data:
                headers["Content-Type"] = "application/json"
            conn.request(method, path, body=data, headers=headers)
            r = conn.getresponse()
            return r.status, r.getheader("Content-Type"), r.read()
        finally:
            conn.close()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=30)
        self.log.close()
        return rc


def sql(mdir, query):
    out = subprocess.run(["mariadb", "--defaults-file=%s/client.cnf" % mdir, "-N", "-B", "-e",
                          query, "itflowd"], capture_output=True, text=True, check=True)
    return [line.split("\t") for line in out.stdout.splitlines()]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: test_scaleout.py PATH/TO/itflowd")
    binary = os.path.abspath(sys.argv[1])
    if subprocess.run([MARIADB_SH, "available"]).returncode != 0:
        print("SKIP: MariaDB is not installed")
        return 77
    work = tempfile.mkdtemp(prefix="itflowd-scaleout-")
    mdir = os.path.join(work, "mariadb")
    env = dict(os.environ, TZ="UTC", ITFLOWD_DB_PASSWORD_FILE=os.path.join(mdir, "password"))
    target = subprocess.run([MARIADB_SH, "start", mdir], capture_output=True, text=True,
                            check=True).stdout.strip()
    failures = []
    instances = []
    try:
        admin = os.path.join(work, "admin")
        with open(admin, "w") as f:
            f.write("scale-out admin password\n")
        subprocess.run([binary, "init", "--db", target, "--admin-password-file", admin],
                       env=env, check=True, capture_output=True)
        out = subprocess.run([binary, "key", "create", "--db", target, "--name", "scaleout",
                              "--expires", "2099-01-01", "--admin-password-file", admin],
                             env=env, check=True, capture_output=True, text=True).stdout
        key = [l.split(": ", 1)[1] for l in out.splitlines() if l.startswith("api_key: ")][0]
        instances = [Instance(binary, target, env, os.path.join(work, "a.log")),
                     Instance(binary, target, env, os.path.join(work, "b.log"))]
        st, _, body = instances[0].request("POST", "/api/v1/clients/create.php",
                                           {"client_name": "Scale Co"}, key)
        assert st == 200, body
        client = json.loads(body)["data"][0]["insert_id"]
        start_number = int(sql(mdir, "SELECT config_ticket_next_number FROM settings")[0][0])

        acked = {"tickets": [], "contacts": [], "assets": []}
        statuses, lock, stop = {}, threading.Lock(), threading.Event()

        def worker(n):
            inst = instances[n % 2]
            i = 0
            while not stop.is_set():
                i += 1
                tag = "w%d-%d" % (n, i)
                kind = ("tickets", "contacts", "assets")[i % 3]
                body = {"client_id": client}
                if kind == "tickets":
                    body["ticket_subject"] = tag
                elif kind == "contacts":
                    body.update(contact_name=tag, contact_email=tag + "@scale.example")
                else:
                    body["asset_name"] = tag
                try:
                    st, ctype, data = inst.request("POST", "/api/v1/%s/create.php" % kind, body,
                                                   key, timeout=30)
                except OSError as e:
                    st, ctype, data = "conn", None, str(e).encode()
                with lock:
                    statuses[st] = statuses.get(st, 0) + 1
                    if st == 200 and json.loads(data).get("success") == "True":
                        acked[kind].append(tag)
                    elif st != 503 or ctype != "application/json":
                        failures.append("%s: %s %s %r" % (kind, st, ctype, data[:200]))

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        pid = int(open(os.path.join(mdir, "mariadbd.pid")).read())
        os.kill(pid, signal.SIGKILL)  # the database dies in the middle of the load
        time.sleep(1.5)
        subprocess.run([MARIADB_SH, "start", mdir], check=True, capture_output=True)
        time.sleep(2.5)
        stop.set()
        for t in threads:
            t.join(60)
        print("answers:", statuses, "acknowledged:", {k: len(v) for k, v in acked.items()})
        if statuses.get(503, 0) == 0:
            failures.append("no request met the outage (503): the kill did not land mid-run")
        if not all(acked.values()):
            failures.append("some kind of write was never acknowledged")
        # every acknowledged write exactly once, nothing unacknowledged beyond the in-flight few
        cols = {"tickets": "ticket_subject", "contacts": "contact_name", "assets": "asset_name"}
        for kind, tags in acked.items():
            rows = sql(mdir, "SELECT %s, COUNT(*) FROM %s GROUP BY %s" % (cols[kind], kind,
                                                                       cols[kind]))
            counts = {r[0]: int(r[1]) for r in rows}
            lost = [t for t in tags if counts.get(t) != 1]
            if lost:
                failures.append("%s acknowledged but not present once: %s" % (kind, lost[:5]))
        nums = sql(mdir, "SELECT COUNT(*), COUNT(DISTINCT ticket_number), MAX(ticket_number) "
                         "FROM tickets")[0]
        if nums[0] != nums[1]:
            failures.append("duplicate ticket numbers: %s" % nums)
        counter = int(sql(mdir, "SELECT config_ticket_next_number FROM settings")[0][0])
        if counter != start_number + int(nums[0]):
            failures.append("counter %d, expected %d" % (counter, start_number + int(nums[0])))
        # both instances recovered by themselves and agree
        for path in ("/api/v1/tickets/read.php?limit=1000", "/api/v1/contacts/read.php?limit=1000",
                     "/api/v1/assets/read.php?limit=1000", "/api/v1/clients/read.php"):
            a = instances[0].request("GET", path, key=key)
            b = instances[1].request("GET", path, key=key)
            if a[0] != 200 or a != b:
                failures.append("the instances disagree on %s: %s / %s" % (path, a[:2], b[:2]))
        for inst in instances:
            if inst.stop() != 0:
                failures.append("an instance did not stop cleanly")
        instances = []
    finally:
        for inst in instances:
            inst.proc.kill()
        subprocess.run([MARIADB_SH, "stop", mdir], capture_output=True)
    for f in failures:
        print("FAIL:", f)
    print("%d passed, %d failed" % (0 if failures else 1, 1 if failures else 0))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

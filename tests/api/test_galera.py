#!/usr/bin/env python3
"""Scale-out on a Galera cluster: a private 3-node MariaDB Galera cluster (scripts/galera.sh) and
three itflowd instances, each preferring another node (its --db lists the three hosts, its own
node first). A mixed load (ticket, contact and asset creates, contact updates, reads of what was
just written through another instance) runs through all three while one node is killed with
SIGKILL and later started again (it rejoins by IST). Then:

  1. every acknowledged write is present exactly once on every node, ticket numbers are unique
     and contiguous and the counter agrees, every table has the same checksum on every node;
  2. during the failover every answer was a success or a JSON 503 (never a 500, a hang or a
     wrong answer), reads through another instance saw every acknowledged write, and the
     instance whose node died went back to it after the rejoin;
  3. throughput with 1, 2 and 3 instances, and the cost of wsrep_sync_wait on reads (printed).

Ends with `galera: N passed, N failed`.
usage: tests/api/test_galera.py PATH/TO/itflowd   (exit 77 — skipped — without MariaDB/Galera)
Python 3 standard library only (wrk, when installed, for the throughput figures)."""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GALERA_SH = os.path.join(REPO, "scripts", "galera.sh")
KILLED = 2  # the node killed mid-load (1..3)


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
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("itflowd did not start")

    def request(self, method, path, body=None, key=None, timeout=30):
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


class Cluster:
    def __init__(self, work):
        self.dir = os.path.join(work, "galera")

    def run(self, *args, check=True):
        return subprocess.run([GALERA_SH] + list(args), capture_output=True, text=True,
                              check=check)

    def start(self):
        return self.run("start", self.dir).stdout.strip()

    def sql(self, node, query):
        out = self.run("sql", self.dir, str(node), query).stdout
        return [line.split("\t") for line in out.splitlines()]

    def status(self, node, name):
        rows = self.sql(node, "SHOW GLOBAL STATUS LIKE '%s'" % name)
        return rows[0][1] if rows else None

    def ports(self):
        return [int(open(os.path.join(self.dir, "n%d" % n, "port")).read().split()[0])
                for n in (1, 2, 3)]


def target_preferring(ports, first, extra=""):
    order = [ports[first]] + [p for i, p in enumerate(ports) if i != first]
    return "mariadb://itflowd@%s/itflowd%s" % (",".join("127.0.0.1:%d" % p for p in order),
                                               extra)


class Load:
    """Client threads spread over the instances; each write acknowledged is recorded, and each
    acknowledged create is read back at once through the next instance."""

    def __init__(self, instances, key, client, nthreads):
        self.instances, self.key, self.client = instances, key, client
        self.acked = {"tickets": [], "contacts": [], "assets": []}
        self.statuses, self.failures, self.stale_reads = {}, [], []
        self.lock, self.stop = threading.Lock(), threading.Event()
        self.threads = [threading.Thread(target=self.worker, args=(n,)) for n in range(nthreads)]
        self.phase = "before"
        self.by_phase = {}

    def count(self, st):
        with self.lock:
            self.statuses[st] = self.statuses.get(st, 0) + 1
            ph = self.by_phase.setdefault(self.phase, {})
            ph[st] = ph.get(st, 0) + 1

    def call(self, inst, method, path, body=None):
        try:
            return inst.request(method, path, body, self.key, timeout=60)
        except OSError as e:
            return "conn", None, str(e).encode()

    def judge(self, what, st, ctype, data):
        """1 for a success, 0 for a JSON 503; anything else is a failure."""
        self.count(st)
        if st == 200:
            try:
                doc = json.loads(data)
            except ValueError:
                doc = {}
            if doc.get("success") == "True":
                return 1
        elif st == 503 and ctype == "application/json":
            try:
                json.loads(data)
                return 0
            except ValueError:
                pass
        with self.lock:
            self.failures.append("%s: %s %s %r" % (what, st, ctype, data[:200]))
        return 0

    def worker(self, n):
        i = 0
        cols = {"tickets": "ticket_id", "contacts": "contact_id", "assets": "asset_id"}
        while not self.stop.is_set():
            i += 1
            k = (n + i) % len(self.instances)
            inst, other = self.instances[k], self.instances[(k + 1) % len(self.instances)]
            tag = "g%d-%d" % (n, i)
            kind = ("tickets", "contacts", "assets", "tickets", "update")[i % 5]
            if kind == "update":
                with self.lock:
                    contacts = list(self.acked["contacts"][-20:])
                if not contacts:
                    continue
                cid = contacts[i % len(contacts)][1]
                r = self.call(inst, "POST", "/api/v1/contacts/update.php",
                              {"contact_id": cid, "client_id": self.client,
                               "contact_title": tag})
                self.judge("contacts/update %d" % cid, *r)
                continue
            body = {"client_id": self.client}
            if kind == "tickets":
                body["ticket_subject"] = tag
            elif kind == "contacts":
                body.update(contact_name=tag, contact_email="%s-%d@galera.example" % (tag, self.client))
            else:
                body["asset_name"] = tag
            r = self.call(inst, "POST", "/api/v1/%s/create.php" % kind, body)
            if not self.judge(kind + "/create", *r):
                continue
            new_id = json.loads(r[2])["data"][0]["insert_id"]
            with self.lock:
                self.acked[kind].append((tag, new_id))
            # read-your-writes through another instance (another node)
            r = self.call(other, "GET", "/api/v1/%s/read.php?%s=%d" % (kind, cols[kind], new_id))
            if self.judge(kind + "/read", *r) and tag.encode() not in r[2]:
                with self.lock:
                    self.stale_reads.append("%s %d" % (kind, new_id))

    def start(self):
        for t in self.threads:
            t.start()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(120)
        return not any(t.is_alive() for t in self.threads)


def wrk_rate(instances, key, seconds, path):
    """Requests/s of GETs of path through every instance at once (one wrk per instance)."""
    if not shutil.which("wrk"):
        return None
    procs = []
    for inst in instances:
        procs.append(subprocess.Popen(
            ["wrk", "-t1", "-c4", "-d%ds" % seconds, "--timeout", "10s", "-H", "X-API-Key: " + key,
             "http://127.0.0.1:%d%s" % (inst.port, path)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    total = 0.0
    for p in procs:
        out = p.communicate(timeout=seconds + 30)[0]
        for line in out.splitlines():
            if line.startswith("Requests/sec:"):
                total += float(line.split()[1])
            if "Non-2xx" in line:
                return -1.0
    return total


def write_rate(instances, key, client, seconds):
    """Ticket creates/s through the given instances: 2 client threads per instance."""
    done, stop, lock = [0], threading.Event(), threading.Lock()

    def worker(inst, n):
        i = 0
        while not stop.is_set():
            i += 1
            st, _, _ = inst.request("POST", "/api/v1/tickets/create.php",
                                    {"client_id": client, "ticket_subject": "tp%d-%d" % (n, i)},
                                    key)
            if st == 200:
                with lock:
                    done[0] += 1

    threads = [threading.Thread(target=worker, args=(inst, n))
               for n, inst in enumerate(instances * 2)]
    t0 = time.time()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(60)
    return done[0] / (time.time() - t0)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: test_galera.py PATH/TO/itflowd")
    binary = os.path.abspath(sys.argv[1])
    if subprocess.run([GALERA_SH, "available"]).returncode != 0:
        print("SKIP: MariaDB, galera-4 or rsync is not installed")
        print("galera: 0 passed, 0 failed")
        return 77
    t_start = time.time()
    work = tempfile.mkdtemp(prefix="itflowd-galera-")
    os.chmod(work, 0o755)
    cluster = Cluster(work)
    passed, failed = [], []

    def check(name, ok, detail=""):
        (passed if ok else failed).append(name)
        print("%s: %s%s" % ("ok" if ok else "FAIL", name, (" — " + detail) if detail else ""))

    instances = []
    try:
        target = cluster.start()
        print("cluster up in %.1f s: %s" % (time.time() - t_start, target))
        env = dict(os.environ, TZ="UTC",
                   ITFLOWD_DB_PASSWORD_FILE=os.path.join(cluster.dir, "password"))
        admin = os.path.join(work, "admin")
        with open(admin, "w") as f:
            f.write("galera admin password\n")
        subprocess.run([binary, "init", "--db", target, "--admin-password-file", admin],
                       env=env, check=True, capture_output=True)
        out = subprocess.run([binary, "key", "create", "--db", target, "--name", "galera",
                              "--expires", "2099-01-01", "--admin-password-file", admin],
                             env=env, check=True, capture_output=True, text=True).stdout
        key = [l.split(": ", 1)[1] for l in out.splitlines() if l.startswith("api_key: ")][0]
        ports = cluster.ports()
        instances = [Instance(binary, target_preferring(ports, i), env,
                              os.path.join(work, "itflowd%d.log" % (i + 1))) for i in range(3)]
        st, _, body = instances[0].request("POST", "/api/v1/clients/create.php",
                                           {"client_name": "Galera Co"}, key)
        assert st == 200, body
        client = json.loads(body)["data"][0]["insert_id"]
        start_number = int(cluster.sql(1, "SELECT config_ticket_next_number FROM settings")[0][0])

        def cert_conflicts():
            return sum(int(cluster.status(n, "wsrep_local_cert_failures") or 0) +
                       int(cluster.status(n, "wsrep_local_bf_aborts") or 0) for n in (1, 2, 3))

        conflicts0 = cert_conflicts()

        # -- the mixed load; node KILLED dies with SIGKILL in the middle and comes back
        load = Load(instances, key, client, 6)
        load.start()
        time.sleep(3)
        load.phase = "failover"
        cluster.run("kill", cluster.dir, str(KILLED))
        t_kill = time.time()
        time.sleep(4)
        load.phase = "rejoin"
        errlog = os.path.join(cluster.dir, "n%d" % KILLED, "error.log")
        log_from = os.path.getsize(errlog)
        rj = cluster.run("restart", cluster.dir, str(KILLED), check=False)
        t_rejoined = time.time()
        check("the killed node rejoined and is Synced", rj.returncode == 0,
              "%.1f s after the kill" % (t_rejoined - t_kill) if rj.returncode == 0 else
              rj.stderr[-500:])
        with open(errlog, errors="replace") as f:
            f.seek(log_from)
            log = f.read()
        how = "IST" if "IST received" in log else "SST" if "SST received" in log else "?"
        load.phase = "after"
        time.sleep(3)
        finished = load.finish()
        check("every client thread finished (no hang)", finished)
        conflicts = cert_conflicts() - conflicts0
        acked = {k: len(v) for k, v in load.acked.items()}
        print("answers:", load.statuses)
        print("answers by phase:", load.by_phase)
        print("acknowledged writes:", acked, "(%d in all)" % sum(acked.values()))
        print("certification conflicts (wsrep_local_cert_failures + wsrep_local_bf_aborts, all "
              "nodes):", conflicts)
        print("rejoin by", how)
        n503 = sum(ph.get(503, 0) for ph in load.by_phase.values())
        check("every answer was a success or a JSON 503", not load.failures,
              "; ".join(load.failures[:5]))
        print("requests answered 503: %d (during the failover: %d)" %
              (n503, load.by_phase.get("failover", {}).get(503, 0)))
        check("writes acknowledged of every kind, also while the node was gone and rejoining",
              all(acked.values()) and load.by_phase.get("failover", {}).get(200, 0) > 0 and
              load.by_phase.get("rejoin", {}).get(200, 0) > 0)
        check("reads through another instance saw every acknowledged write", not load.stale_reads,
              "; ".join(load.stale_reads[:5]))

        # -- every node holds the same, complete data
        cols = {"tickets": "ticket_subject", "contacts": "contact_name", "assets": "asset_name"}
        for node in (1, 2, 3):
            found = 0
            missing = []
            for kind, rows in load.acked.items():
                res = cluster.sql(node, "SELECT %s, COUNT(*) FROM %s GROUP BY %s" %
                                  (cols[kind], kind, cols[kind]))
                counts = {r[0]: int(r[1]) for r in res}
                for tag, _ in rows:
                    if counts.get(tag) == 1:
                        found += 1
                    else:
                        missing.append("%s %s x%s" % (kind, tag, counts.get(tag, 0)))
            print("node %d: %d of %d acknowledged writes found once" %
                  (node, found, sum(acked.values())))
            check("node %d holds every acknowledged write exactly once" % node, not missing,
                  "; ".join(missing[:5]))
        nums = [int(r[0]) for r in cluster.sql(1, "SELECT ticket_number FROM tickets "
                                                  "ORDER BY ticket_number")]
        counter = int(cluster.sql(1, "SELECT config_ticket_next_number FROM settings")[0][0])
        check("ticket numbers unique and contiguous, the counter agrees",
              len(nums) == len(set(nums)) and nums == list(range(start_number, counter)),
              "%d tickets, numbers %s..%s, counter %d" % (len(nums), nums[:1], nums[-1:], counter))
        tables = [r[0] for r in cluster.sql(1, "SELECT table_name FROM information_schema.tables "
                                               "WHERE table_schema = 'itflowd' ORDER BY 1")]
        sums = {}
        for node in (1, 2, 3):
            rows = cluster.sql(node, "CHECKSUM TABLE " + ", ".join("`%s`" % t for t in tables))
            sums[node] = [r[1] for r in rows]
        counts = {}
        for node in (1, 2, 3):
            counts[node] = cluster.sql(node, " UNION ALL ".join(
                "SELECT '%s', COUNT(*) FROM `%s`" % (t, t) for t in tables))
        check("every table has the same rows on every node",
              sums[1] == sums[2] == sums[3] and counts[1] == counts[2] == counts[3],
              "" if sums[1] == sums[2] == sums[3] else "checksums differ")
        print("rows on each node:", {r[0]: int(r[1]) for r in counts[1] if int(r[1])})
        half = cluster.sql(1, "SELECT COUNT(*) FROM tickets WHERE ticket_number IS NULL OR "
                              "ticket_url_key IS NULL OR ticket_prefix IS NULL")[0][0]
        check("nothing half-written (every ticket has its number, prefix and URL key)",
              half == "0")

        # -- the instance whose node died went back to it: its pool's connections are on that
        # node again (the others prefer other nodes that stayed up; a probe is one short-lived
        # connection)
        deadline = time.time() + 10
        back = 0
        while time.time() < deadline and back < 2:
            ts = [threading.Thread(target=instances[KILLED - 1].request,
                                   args=("GET", "/api/v1/clients/read.php"), kwargs={"key": key})
                  for _ in range(4)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            back = int(cluster.sql(KILLED, "SELECT COUNT(*) FROM information_schema.PROCESSLIST "
                                           "WHERE USER = 'itflowd'")[0][0])
            time.sleep(0.3)
        check("the instance preferring node %d uses it again after the rejoin" % KILLED, back >= 2,
              "%d connections on it" % back)

        # -- a host list with dead hosts first: the live one is found
        dead = [free_port(), free_port()]
        t = "mariadb://itflowd@127.0.0.1:%d,127.0.0.1:%d,127.0.0.1:%d/itflowd" % (
            dead[0], dead[1], ports[2])
        r = subprocess.run([binary, "key", "list", "--db", t], env=env, capture_output=True,
                           text=True)
        check("a host list whose first hosts are down connects to the next", r.returncode == 0,
              r.stderr[-300:])

        # -- throughput with 1, 2, 3 instances (a figure), and what wsrep_sync_wait costs
        print("throughput (this machine, cluster and clients on the same 2 cores):")
        rates = {}
        for k in (1, 2, 3):
            w = write_rate(instances[:k], key, client, 3)
            r = wrk_rate(instances[:k], key, 3, "/api/v1/clients/read.php?limit=10")
            rates[k] = (w, r)
            print("  %d instance%s: %.0f ticket creates/s (2 clients each), %s reads/s" %
                  (k, "s" if k > 1 else "", w, "%.0f" % r if r is not None else "n/a (no wrk)"))
        nowait = Instance(binary, target_preferring(ports, 0, "?sync_wait=0"), env,
                          os.path.join(work, "itflowd-nowait.log"))
        try:
            r0 = wrk_rate([nowait], key, 3, "/api/v1/clients/read.php?limit=10")
            r1 = wrk_rate(instances[:1], key, 3, "/api/v1/clients/read.php?limit=10")
        finally:
            nowait.stop()
        if r0 and r1:
            print("  reads on one instance: %.0f/s with wsrep_sync_wait=3 (the default), %.0f/s "
                  "with 0 (%.0f%% of it)" % (r1, r0, 100.0 * r1 / r0))
        check("throughput measured", all(v[0] > 0 for v in rates.values()))

        for inst in instances:
            if inst.stop() != 0:
                failed.append("an instance did not stop cleanly")
        instances = []
    except Exception as e:  # a broken harness is a failure, never a pass
        check("harness", False, repr(e))
    finally:
        for inst in instances:
            inst.proc.kill()
        subprocess.run([GALERA_SH, "stop", cluster.dir], capture_output=True)
        if not failed:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("logs kept in", work)
    print("took %.0f s" % (time.time() - t_start))
    print("galera: %d passed, %d failed" % (len(passed), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

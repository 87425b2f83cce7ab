#!/usr/bin/env python3
"""Black-box API tests for itflowd (ITFlow API v1 server).

usage: python3 tests/api/test_api.py PATH/TO/itflowd [-v] [TestClass[.test_name] ...]
       ITFLOWD_TEST_DB=mariadb python3 tests/api/test_api.py PATH/TO/itflowd ...

With ITFLOWD_TEST_DB=mariadb every test database is a fresh database in one private MariaDB
instance (scripts/mariadb.sh) started for the run and stopped at its end; state is checked with
the `mariadb` command-line client. Exit status 77 (skipped) when MariaDB is not installed. Tests
that only make sense on SQLite skip themselves there.

Every server this file needs is started here, on 127.0.0.1 on a free port, with TZ=UTC, each on a
private database in a temporary directory, and stopped at the end. The shared conformance seed is
read from $ITFLOWD_SHARED/conformance/seed.sql (default: <repo>/../shared). Python 3 standard
library only. Exit status 0 only when every test passed (an "unexpected success" of a test marked
as a known bug also fails the run, so the marker gets removed with the fix).

Areas (one TestCase class each, run in this order):
  CliTests          init, key create/list/revoke, hashed secrets, master-key wrap chain
  BadInputTests     the F2/F19 table: 400 + JSON naming the problem, nothing written
  UpdateTests       K13: an update that changes nothing answers the update-failed message
  ConcurrencyTests  200 concurrent tickets/create: distinct numbers, exact counter
  PagingTests       3000+ rows in one answer, X-Total-Count and Link: rel="next"
  RoutingTests      F1, F15, A2, A4, A7 and the K6 status basics
  WriteRuleTests    zero dates, the credential plaintext limit, F20 (refused writes leave no
                    log/history rows), F27 (references to another client's rows)
  FinalChecks       OpenAPI covers every endpoint exercised; no secret in any server log
"""
import atexit
import datetime
import http.client
import json
import signal
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from urllib.parse import urlencode

# ---------------------------------------------------------------------------------------------
# Configuration and constants
# ---------------------------------------------------------------------------------------------

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SHARED = os.environ.get("ITFLOWD_SHARED") or os.path.join(REPO, "..", "shared")
SEED_SQL = os.path.join(SHARED, "conformance", "seed.sql")
MARIADB_SH = os.path.join(REPO, "scripts", "mariadb.sh")

BIN = None  # path of the itflowd binary, set by main()
TMP = None  # temporary directory of this run, set by main()

os.environ["TZ"] = "UTC"
time.tzset()
ENV = dict(os.environ, TZ="UTC")
ENV.pop("ITFLOWD_ADMIN_PASSWORD", None)

# keys of the shared conformance seed
ALL_KEY = "oracleAllClients0000000000000001"  # all clients
C1_KEY = "oracleClientScoped00000000000002"  # client 1
C2_KEY = "clientTwoScoped00000000000000004"  # client 2
DECRYPT_PW = "oracleDecryptPassword00000000001"
KEYS = {"all": ALL_KEY, "c1": C1_KEY, "c2": C2_KEY}

# exact v1 texts (reference 1.4, 1.5, 1.10; COMPAT K5, F1, F15); bytes as on the wire
MSG_AUTH_FAILED = b'{"success":"False","message":"Authentication failed. API key is invalid or has expired."}'
MSG_UPDATE_FAILED = (
    b'{"success":"False","message":"Auth success but update query failed\\/returned no results. '
    b"Ensure ALL required variables are provided and database schema is up-to-date. Most likely "
    b'cause: non-existent module ID (i.e. bad contact ID\\/ticket ID\\/etc) or no rows changed."}'
)
MSG_GET_ONLY = b'{"success":"False","message":"Can only send GET requests to this endpoint."}'
MSG_POST_ONLY = b'{"success":"False","message":"Can only send POST requests to this endpoint."}'
MSG_METHOD_NOT_ALLOWED = b'{"success":"False","message":"Method not allowed. Only GET and POST are supported."}'
MSG_UNKNOWN_ENDPOINT = b'{"success":"False","message":"Unknown endpoint."}'
MSG_BAD_DECRYPT = b'{"success":"False","message":"The api_key_decrypt_password is incorrect for this API key."}'

# Every v1 endpoint (reference 1.1) plus payments/read (F16): the OpenAPI document lists them all.
V1_ENDPOINTS = [
    "assets/read", "assets/create", "assets/update", "assets/delete",
    "certificates/read", "certificates/create",
    "clients/read", "clients/create", "clients/update", "clients/archive", "clients/unarchive",
    "contacts/read", "contacts/create", "contacts/update", "contacts/archive",
    "contacts/unarchive", "contacts/delete",
    "credentials/read", "credentials/create", "credentials/update",
    "documents/read", "documents/create", "documents/update",
    "domains/read", "expenses/read", "invoices/read", "invoice_items/read",
    "locations/read", "locations/create", "networks/read", "payments/read", "products/read",
    "quotes/read", "software/read", "technicians/time",
    "tickets/read", "tickets/create", "tickets/resolve", "vendors/read",
]

SECRETS = {ALL_KEY, C1_KEY, C2_KEY, DECRYPT_PW}  # every secret this run uses; none may be logged
EXERCISED = set()  # "/api/v1/<module>/<function>.php" paths requested (answered other than 404)
SERVERS = []  # every Server started, for the log scan and the final stop
_SHARED_SERVER = None
_ENDPOINT_RE = re.compile(r"^/api/v1/([a-z_]+)/([a-z_]+?)(?:\.php)?$")


# ---------------------------------------------------------------------------------------------
# Helpers: CLI, databases, HTTP, servers
# ---------------------------------------------------------------------------------------------

def cli(*args, timeout=60):
    """Runs itflowd with the arguments; returns the CompletedProcess (text mode)."""
    return subprocess.run([BIN] + [str(a) for a in args], capture_output=True, text=True,
                          env=ENV, timeout=timeout)


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def today_utc():
    return datetime.datetime.now(datetime.timezone.utc).date()


def future_date(days=365):
    return (today_utc() + datetime.timedelta(days=days)).isoformat()


def workdir(name):
    d = os.path.join(TMP, name)
    os.makedirs(d, exist_ok=True)
    return d


def write_file(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def read_text(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace")


def db_connect(path):
    con = sqlite3.connect(path, timeout=15)
    con.execute("PRAGMA busy_timeout=15000")
    return con


def sql_literal(v):
    """A portable SQL literal ('' quoting, no backslash escapes: MariaDB sessions here set
    NO_BACKSLASH_ESCAPES)."""
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, (int, float)):
        return repr(v)
    return "'" + str(v).replace("'", "''") + "'"


class SqliteBackend:
    """Every test database a SQLite file in the run's temporary directory (the default)."""
    name = "sqlite"

    def start(self):
        pass

    def stop(self):
        pass

    def new_db(self, name):
        """The --db argument for a database that does not exist yet."""
        return os.path.join(workdir(name), "itflow.db")

    def log_dir(self, db, name):
        return os.path.dirname(db)

    def rows(self, db, sql, args=()):
        con = db_connect(db)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()

    def dump(self, db):
        """Every table, row by row, as SQL text (schema + data + sqlite_sequence)."""
        con = db_connect(db)
        try:
            return "\n".join(con.iterdump())
        finally:
            con.close()

    def script(self, db, sql):
        con = db_connect(db)
        try:
            con.executescript(sql)
            con.commit()
        finally:
            con.close()


_MARIADB_ESC = {"0": "\0", "\\": "\\", "t": "\t", "n": "\n"}
_INT_RE = re.compile(r"-?(?:0|[1-9][0-9]{0,17})")


def _mariadb_value(text):
    """One field of `mariadb -B` output: NULL → None, integers → int, else the unescaped text."""
    if text == "NULL":
        return None
    if _INT_RE.fullmatch(text):
        return int(text)
    return re.sub(r"\\(.)", lambda m: _MARIADB_ESC.get(m.group(1), m.group(0)), text)


class MariaDbBackend:
    """ITFLOWD_TEST_DB=mariadb: one private instance (scripts/mariadb.sh) for the run, a fresh
    database itfd_<name>_<n> in it per test database; SQL through the `mariadb` client."""
    name = "mariadb"
    SESSION = "SET sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES'), time_zone = '+00:00'"

    def __init__(self, mdir):
        self.mdir = mdir
        self.client = shutil.which("mariadb") or shutil.which("mysql") or "mariadb"
        self.base = None  # mariadb://itflowd@127.0.0.1:PORT
        self.count = 0
        self.running = False
        self._tables = {}

    def start(self):
        self.running = True  # stop() is tried even when start fails half-way
        r = subprocess.run([MARIADB_SH, "start", self.mdir], capture_output=True, text=True,
                           timeout=180)
        if r.returncode != 0:
            raise RuntimeError("scripts/mariadb.sh start failed: " + r.stderr)
        self.base = r.stdout.strip().rsplit("/", 1)[0]
        ENV["ITFLOWD_DB_PASSWORD_FILE"] = os.path.join(self.mdir, "password")
        # the instance's user may create (and own) every itfd* database of this run
        grant = "".join("GRANT ALL PRIVILEGES ON `itfd%%`.* TO 'itflowd'@'%s';\n" % h
                        for h in ("127.0.0.1", "localhost"))
        r = subprocess.run([self.client, "--no-defaults", "--protocol=socket",
                            "--socket=" + os.path.join(self.mdir, "sock"), "-uroot", "-N", "-B"],
                           input=grant, capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("GRANT failed: " + r.stderr)

    def stop(self):
        if self.running:
            self.running = False
            subprocess.run([MARIADB_SH, "stop", self.mdir], capture_output=True, timeout=90)

    def sql(self, sql, dbname=None):
        cmd = [self.client, "--defaults-file=" + os.path.join(self.mdir, "client.cnf"), "-N",
               "-B", "--default-character-set=utf8mb4", "--init-command=" + self.SESSION]
        if dbname:
            cmd.append(dbname)
        r = subprocess.run(cmd, input=sql.encode("utf-8"), capture_output=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError("mariadb client failed: %s\nSQL: %s"
                               % (r.stderr.decode("utf-8", "replace"), sql[:500]))
        return r.stdout.decode("utf-8")

    @staticmethod
    def dbname(db):
        return db.rsplit("/", 1)[1]

    def new_db(self, name):
        self.count += 1
        dbn = "itfd_%s_%d" % (re.sub(r"[^a-z0-9]+", "_", name.lower())[:40], self.count)
        self.sql("CREATE DATABASE `%s` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;" % dbn)
        return "%s/%s" % (self.base, dbn)

    def log_dir(self, db, name):
        return workdir(name)

    def rows(self, db, sql, args=()):
        parts = sql.split("?")
        if len(parts) != len(args) + 1:
            raise ValueError("%d arguments for %d placeholders" % (len(args), len(parts) - 1))
        bound = parts[0] + "".join(sql_literal(a) + p for a, p in zip(args, parts[1:]))
        out = self.sql(bound + ";\n", self.dbname(db))
        if out == "":
            return []
        return [tuple(_mariadb_value(f) for f in line.split("\t"))
                for line in out[:-1].split("\n")]

    def dump(self, db):
        """Every table, all rows in a fixed order, as the client prints them."""
        if db not in self._tables:
            self._tables[db] = self.rows(
                db, "SELECT table_name, COUNT(*) FROM information_schema.columns WHERE "
                    "table_schema = DATABASE() GROUP BY table_name ORDER BY table_name")
        sql = "".join("SELECT '-- %s'; SELECT * FROM `%s` ORDER BY %s;\n"
                      % (t, t, ",".join(str(i + 1) for i in range(n)))
                      for t, n in self._tables[db] if t not in BOOKKEEPING_TABLES)
        return self.sql(sql, self.dbname(db))

    def script(self, db, sql):
        self.sql("SET FOREIGN_KEY_CHECKS = 0;\nSTART TRANSACTION;\n" + sql +
                 "\nCOMMIT;\nSET FOREIGN_KEY_CHECKS = 1;\n", self.dbname(db))


DB = SqliteBackend()  # main() switches to MariaDbBackend for ITFLOWD_TEST_DB=mariadb


def on_mariadb():
    return DB.name == "mariadb"


# The keys' last use (itflowd_key_perms) is written by the server's background thread after
# requests that wrote nothing: not part of what "the database is unchanged" checks.
BOOKKEEPING_TABLES = ("itflowd_key_perms",)


def db_dump(db):
    return "\n".join(ln for ln in DB.dump(db).split("\n")
                     if not any(ln.startswith('INSERT INTO "%s"' % t) for t in BOOKKEEPING_TABLES))


def db_rows(db, sql, args=()):
    return DB.rows(db, sql, args)


def db_value(db, sql, args=()):
    rows = db_rows(db, sql, args)
    return rows[0][0] if rows else None


def db_script(db, sql):
    """Runs SQL statements (portable SQL: '' quoting, no backslash escapes) in one transaction."""
    DB.script(db, sql)


def make_seeded_db(name, extra=None):
    """A fresh schema (itflowd init --schema-only) loaded with the conformance seed."""
    db = DB.new_db(name)
    r = cli("init", "--db", db, "--schema-only")
    if r.returncode != 0:
        raise RuntimeError("init --schema-only failed: " + r.stderr)
    with open(SEED_SQL, encoding="utf-8") as f:
        seed = f.read()
    db_script(db, seed)
    if extra:
        extra(db)
    return db


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # http.client.HTTPMessage: case-insensitive get()
        self.body = body

    def header(self, name):
        return self.headers.get(name)

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "<%d %r>" % (self.status, self.body[:300])


def _record(path, status):
    m = _ENDPOINT_RE.match(path.split("?", 1)[0])
    if m and status != 404:
        EXERCISED.add("/api/v1/%s/%s.php" % (m.group(1), m.group(2)))


def encode_body(body):
    if body is None or isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body).encode("utf-8")


class Server:
    """One itflowd serve process on 127.0.0.1:<free port>, stderr captured to a log file."""

    def __init__(self, db, name, threads=4, extra_args=()):
        self.db = db
        self.name = name
        self.threads = threads
        self.extra_args = list(extra_args)
        self.log_path = os.path.join(DB.log_dir(db, name), name + ".stderr.log")
        self.proc = None
        self.port = None
        self._log = None
        self.exit_code = None  # of the last stop(): 0 for a clean SIGTERM shutdown

    def start(self):
        for _ in range(3):
            self.port = free_port()
            self._log = open(self.log_path, "ab")
            # no --quiet: the access log is part of what FinalChecks inspects
            self.proc = subprocess.Popen(
                [BIN, "serve", "--db", self.db, "--listen", "127.0.0.1:%d" % self.port,
                 "--threads", str(self.threads)] + self.extra_args,
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._log, env=ENV)
            if self._wait_ready():
                SERVERS.append(self)
                return self
            self.stop()
        raise RuntimeError("itflowd serve did not start; log:\n" + read_text(self.log_path))

    def _wait_ready(self):
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                if self.request("GET", "/healthz", timeout=2).status == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.exit_code = self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.exit_code = "killed after SIGTERM timed out"
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_text(self):
        return read_text(self.log_path)

    def request(self, method, path, query=None, body=None, headers=None, timeout=30,
                source=None):
        if query:
            path += "?" + (query if isinstance(query, str) else urlencode(query))
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout,
                                          source_address=(source, 0) if source else None)
        try:
            conn.request(method, path, body=encode_body(body), headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            _record(path, resp.status)
            return Response(resp.status, resp.headers, data)
        finally:
            conn.close()

    def get(self, endpoint, key=None, headers=None, **params):
        """GET /api/v1/<endpoint>.php with the key in the query string (if given)."""
        q = dict(params)
        if key is not None:
            q["api_key"] = key
        return self.request("GET", "/api/v1/%s.php" % endpoint, query=q or None, headers=headers)

    def post(self, endpoint, body, key=None, headers=None, query=None):
        """POST /api/v1/<endpoint>.php with a JSON body and the key in the query string."""
        q = dict(query or {})
        if key is not None:
            q["api_key"] = key
        return self.request("POST", "/api/v1/%s.php" % endpoint, query=q or None, body=body,
                            headers=headers)


def shared_server():
    """The seeded server most tests share (started on first use)."""
    global _SHARED_SERVER
    if _SHARED_SERVER is None:
        _SHARED_SERVER = Server(make_seeded_db("shared"), "shared").start()
    elif not _SHARED_SERVER.alive():  # stopped by FinalChecks when tests run in another order
        _SHARED_SERVER.start()
    return _SHARED_SERVER


def sanitized(binary):
    """The binary was built with ASan/TSan/MSan: their allocators keep freed memory, so resident
    set bounds say nothing there; each start and request costs several times more, so tests
    that only repeat one code path many times sample it there."""
    with open(binary, "rb") as f:
        data = f.read()
    return any(s in data for s in (b"__asan_init", b"__tsan_init", b"__msan_init"))


def run_test_module(argv, module, order, label, setup=None, backends=("sqlite",)):
    """main() of this file and of the test files beside it: usage PATH/TO/itflowd [-v]
    [TestClass[.test_name] ...]. Runs the classes of `order` (or the named tests) against servers
    it starts on 127.0.0.1, with a private temporary directory (kept when a test failed or
    ITFLOWD_KEEP is set); setup(binary) runs first. With "mariadb" in backends, ITFLOWD_TEST_DB=
    mariadb puts every test database on a private MariaDB (exit 77 where it is not installed).
    Exit status 0 only when every test passed."""
    global BIN, TMP, DB
    args = [a for a in argv[1:] if not a.startswith("-")]
    verbose = any(a in ("-v", "--verbose") for a in argv[1:])
    if not args:
        sys.stderr.write("usage: %s PATH/TO/itflowd [-v] [TestClass[.test_name] ...]\n" % argv[0])
        return 2
    BIN = os.path.abspath(args[0])
    if not os.access(BIN, os.X_OK):
        sys.stderr.write("%s is not an executable\n" % BIN)
        return 2
    if not os.path.isfile(SEED_SQL):
        sys.stderr.write("conformance seed not found: %s (set ITFLOWD_SHARED)\n" % SEED_SQL)
        return 2
    backend = "sqlite"
    if "mariadb" in backends:
        backend = os.environ.get("ITFLOWD_TEST_DB", "").strip().lower() or "sqlite"
        if backend not in ("sqlite", "mariadb"):
            sys.stderr.write("ITFLOWD_TEST_DB must be sqlite or mariadb, not %r\n" % backend)
            return 2
        if backend == "mariadb" and subprocess.run([MARIADB_SH, "available"]).returncode != 0:
            print("SKIP: MariaDB (mariadbd, mariadb-install-db, mariadb) is not installed")
            return 77
    if setup:
        setup(BIN)
    TMP = tempfile.mkdtemp(prefix="itflowd-%s-" % label)
    if backend == "mariadb":
        DB = MariaDbBackend(os.path.join(TMP, "mariadb"))
        atexit.register(DB.stop)  # also when the run dies on its way out
    loader = unittest.TestLoader()
    if args[1:]:
        suite = loader.loadTestsFromNames(args[1:], module)
    else:
        suite = unittest.TestSuite(loader.loadTestsFromTestCase(c) for c in order)
    t0 = time.time()
    result = None
    try:
        DB.start()
        result = unittest.TextTestRunner(verbosity=2 if verbose else 1,
                                         resultclass=TimedResult).run(suite)
        slow = sorted(result.durations, key=lambda d: -d[1])[:5]
        sys.stderr.write("slowest: %s\n" % ", ".join("%s %.1fs" % d for d in slow))
    finally:
        stop_all_servers()
        DB.stop()
        ok = result is not None and result.wasSuccessful()
        if ok and not os.environ.get("ITFLOWD_KEEP"):
            shutil.rmtree(TMP, ignore_errors=True)
        else:
            sys.stderr.write("server logs and databases kept in %s\n" % TMP)
    sys.stderr.write("%s tests (%s) took %.1fs\n" % (label, DB.name, time.time() - t0))
    return 0 if ok else 1


class TimedResult(unittest.TextTestResult):
    """Also keeps each test's wall time (printed as the five slowest: where CI time goes)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.durations = []
        self._t0 = 0.0

    def startTest(self, test):
        self._t0 = time.time()
        super().startTest(test)

    def stopTest(self, test):
        super().stopTest(test)
        self.durations.append((test.id().split(".", 1)[-1], time.time() - self._t0))


def stop_all_servers():
    for s in SERVERS:
        s.stop()


class ApiTestCase(unittest.TestCase):
    maxDiff = 4000

    def assertJsonError(self, r, status, *must_contain):
        """status, Content-Type JSON, body exactly {"success":"False","message":<text>}."""
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.header("Content-Type"), "application/json", r)
        obj = r.json()
        self.assertEqual(list(obj.keys()), ["success", "message"], r)
        self.assertEqual(obj["success"], "False", r)
        self.assertIsInstance(obj["message"], str)
        for text in must_contain:
            self.assertIn(text.lower(), obj["message"].lower(), r)
        return obj["message"]

    def assertCreated(self, r):
        """The v1 create answer; returns the insert id."""
        self.assertEqual(r.status, 200, r)
        obj = r.json()
        self.assertEqual(obj["success"], "True", r)
        self.assertEqual(obj["count"], "1", r)
        self.assertIsInstance(obj["data"][0]["insert_id"], int, r)
        return obj["data"][0]["insert_id"]

    def assertRead(self, r):
        """A successful v1 read; returns the rows."""
        self.assertEqual(r.status, 200, r)
        obj = r.json()
        self.assertEqual(obj["success"], "True", r)
        self.assertEqual(obj["count"], len(obj["data"]), r)
        return obj["data"]


# ---------------------------------------------------------------------------------------------
# 1. CLI: init, key create / list / revoke
# ---------------------------------------------------------------------------------------------

ADMIN_PASSWORD = "Adm1n-Password-For-The-API-Tests"
SECRETS.add(ADMIN_PASSWORD)


def parse_key_output(stdout):
    key = re.search(r"^api_key: (\S+)$", stdout, re.M)
    pw = re.search(r"^api_key_decrypt_password: (\S+)$", stdout, re.M)
    if not key or not pw:
        raise AssertionError("key create printed no key:\n" + stdout)
    SECRETS.add(key.group(1))
    SECRETS.add(pw.group(1))
    return key.group(1), pw.group(1)


class CliTests(ApiTestCase):
    """init (full) → key create → the key works → list/revoke; every misuse fails cleanly."""

    @classmethod
    def setUpClass(cls):
        cls.dir = workdir("cli")
        cls.db = DB.new_db("cli")
        cls.pwfile = write_file(os.path.join(cls.dir, "admin.pw"), ADMIN_PASSWORD + "\n")
        cls.init = cli("init", "--db", cls.db, "--admin-email", "admin@test.local",
                       "--admin-password-file", cls.pwfile)
        if cls.init.returncode != 0:
            raise RuntimeError("itflowd init failed: " + cls.init.stderr)
        cls.create = cli("key", "create", "--db", cls.db, "--name", "cli-all-clients",
                         "--expires", future_date(), "--admin-password-file", cls.pwfile)
        if cls.create.returncode != 0:
            raise RuntimeError("itflowd key create failed: " + cls.create.stderr)
        cls.key, cls.decrypt = parse_key_output(cls.create.stdout)
        cls.server = Server(cls.db, "cli").start()

    def test_init_writes_company_settings_statuses_and_admin(self):
        self.assertEqual(db_rows(self.db, "SELECT company_id FROM companies"), [(1,)])
        self.assertEqual(
            db_rows(self.db, "SELECT company_id, config_ticket_prefix, config_ticket_next_number "
                             "FROM settings"), [(1, "TCK-", 1)])
        self.assertEqual(
            db_rows(self.db, "SELECT ticket_status_id, ticket_status_name FROM ticket_statuses "
                             "ORDER BY 1"),
            [(1, "New"), (2, "Open"), (3, "On Hold"), (4, "Resolved"), (5, "Closed")])
        users = db_rows(self.db, "SELECT user_email, user_specific_encryption_ciphertext, "
                                 "user_password FROM users")
        self.assertEqual(len(users), 1)
        self.assertEqual(users[0][0], "admin@test.local")
        self.assertTrue(users[0][1], "the admin has no wrapped master key")
        self.assertNotIn(ADMIN_PASSWORD, users[0][2] or "")
        # the password came from the file: it is not printed
        self.assertNotIn(ADMIN_PASSWORD, self.init.stdout + self.init.stderr)
        self.assertNotIn("Admin password", self.init.stdout)

    def test_init_without_password_file_prints_a_working_password(self):
        db = DB.new_db("cli-generated")
        r = cli("init", "--db", db)
        self.assertEqual(r.returncode, 0, r.stderr)
        m = re.search(r"^Admin password.*: (\S+)$", r.stdout, re.M)
        self.assertTrue(m, r.stdout)
        SECRETS.add(m.group(1))
        pwfile = write_file(os.path.join(workdir("cli-generated"), "pw"), m.group(1))
        k = cli("key", "create", "--db", db, "--name", "g", "--expires", future_date(),
                "--admin-password-file", pwfile)
        self.assertEqual(k.returncode, 0, k.stderr)
        parse_key_output(k.stdout)

    def test_init_refuses_an_existing_database(self):
        before = db_dump(self.db)
        for extra in ([], ["--schema-only"], ["--admin-password-file", self.pwfile]):
            r = cli("init", "--db", self.db, *extra)
            self.assertNotEqual(r.returncode, 0, extra)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
            self.assertTrue(r.stderr.startswith("itflowd: "), r.stderr)
        self.assertEqual(db_dump(self.db), before)

    # a failed init leaves nothing behind: a retry with a good password file works
    def test_failed_init_can_be_retried(self):
        d = workdir("cli-failed-init")
        db = DB.new_db("cli-failed-init")
        empty = write_file(os.path.join(d, "empty.pw"), "")
        for bad in (os.path.join(d, "no-such-file"), empty):
            r = cli("init", "--db", db, "--admin-password-file", bad)
            self.assertNotEqual(r.returncode, 0)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        r = cli("init", "--db", db, "--admin-password-file", self.pwfile)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(db_rows(db, "SELECT config_ticket_prefix FROM settings"), [("TCK-",)])

    def test_key_create_prints_key_and_decrypt_password(self):
        self.assertGreaterEqual(len(self.key), 16)
        self.assertGreaterEqual(len(self.decrypt), 1)
        self.assertNotEqual(self.key, self.decrypt)
        self.assertEqual(self.create.stderr, "")

    def test_key_is_stored_only_as_a_hash(self):
        rows = db_rows(self.db, "SELECT api_key_secret, api_key_decrypt_hash, api_key_client_id, "
                                "api_key_expire, api_key_name FROM api_keys "
                                "WHERE api_key_name = 'cli-all-clients'")
        self.assertEqual(len(rows), 1)
        secret, wrapped, client, expire, _ = rows[0]
        self.assertTrue(secret)
        self.assertNotEqual(secret, self.key)
        self.assertNotIn(self.key, secret)
        self.assertNotIn(self.key.lower(), secret.lower())
        self.assertEqual(client, 0)
        self.assertEqual(expire, future_date())
        self.assertEqual(len(wrapped), 76, "api_key_decrypt_hash is the 76-character wrap (K16)")
        # neither the key nor the decrypt password appears anywhere in the database
        dump = db_dump(self.db)
        self.assertNotIn(self.key, dump)
        self.assertNotIn(self.decrypt, dump)

    def test_created_key_works_in_header_query_and_bearer(self):
        s = self.server
        cid = self.assertCreated(s.post("clients/create", {"client_name": "CLI Client"},
                                        headers={"X-API-Key": self.key}))
        by_header = s.request("GET", "/api/v1/clients/read.php",
                              headers={"X-API-Key": self.key})
        rows = self.assertRead(by_header)
        self.assertEqual([(r["client_id"], r["client_name"]) for r in rows],
                         [(str(cid), "CLI Client")])
        by_query = s.get("clients/read", key=self.key)
        self.assertEqual(by_query.status, 200)
        self.assertEqual(by_query.body, by_header.body)
        by_bearer = s.request("GET", "/api/v1/clients/read.php",
                              headers={"Authorization": "Bearer " + self.key})
        self.assertEqual(by_bearer.body, by_header.body)
        # matched exactly (F14): the same key with its letter case swapped is refused
        r = s.get("clients/read", key=self.key.swapcase())
        self.assertEqual((r.status, r.body), (401, MSG_AUTH_FAILED))

    def test_key_list_shows_last_four_never_the_secret(self):
        r = cli("key", "list", "--db", self.db)
        self.assertEqual(r.returncode, 0, r.stderr)
        line = [ln for ln in r.stdout.splitlines() if "cli-all-clients" in ln]
        self.assertEqual(len(line), 1, r.stdout)
        self.assertTrue(line[0].rstrip().endswith(self.key[-4:]), line[0])
        self.assertIn("all clients", line[0])
        self.assertNotIn(self.key, r.stdout)
        self.assertNotIn(self.key[:8], r.stdout)
        self.assertNotIn(self.decrypt, r.stdout)

    def test_credential_round_trip_through_the_site_master_key(self):
        """A credential written with the CLI key + its decrypt password reads back decrypted:
        the decrypt password unwraps the site master key the admin password wrapped at init."""
        s = self.server
        cred_id = self.assertCreated(s.post("credentials/create", {
            "api_key": self.key, "api_key_decrypt_password": self.decrypt,
            "credential_name": "Router", "credential_username": "netadmin",
            "credential_password": "S3cret-Router-Pw"}))
        SECRETS.add("S3cret-Router-Pw")
        stored = db_rows(self.db, "SELECT credential_username, credential_password FROM "
                                  "credentials WHERE credential_id = ?", (cred_id,))[0]
        self.assertNotIn("netadmin", stored[0])
        self.assertNotIn("S3cret-Router-Pw", stored[1])
        rows = self.assertRead(s.get("credentials/read", key=self.key, credential_id=cred_id,
                                     api_key_decrypt_password=self.decrypt))
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0]["credential_username"], "netadmin")
        self.assertEqual(rows[0]["credential_password"], "S3cret-Router-Pw")
        # the decrypt password in a header (A1) works as well
        rows = self.assertRead(s.request(
            "GET", "/api/v1/credentials/read.php", query={"credential_id": cred_id},
            headers={"X-API-Key": self.key, "X-API-Key-Decrypt-Password": self.decrypt}))
        self.assertEqual(rows[0]["credential_password"], "S3cret-Router-Pw")
        # a wrong decrypt password is detected (F13)
        r = s.get("credentials/read", key=self.key, credential_id=cred_id,
                  api_key_decrypt_password=self.decrypt + "x")
        self.assertEqual((r.status, r.body), (403, MSG_BAD_DECRYPT))

    def test_nul_in_key_or_decrypt_password_is_invalid(self):
        """Keys and decrypt passwords are compared by length: a NUL byte anywhere makes them
        invalid, never cut short to the valid part before it."""
        s = self.server
        cred_id = self.assertCreated(s.post("credentials/create", {
            "api_key": self.key, "api_key_decrypt_password": self.decrypt,
            "credential_name": "NUL test", "credential_password": "NulTestPw"}))
        SECRETS.add("NulTestPw")
        path = "/api/v1/credentials/read.php?credential_id=%d&api_key=%s" % (cred_id, self.key)
        self.assertEqual(len(self.assertRead(s.request(
            "GET", path + "&api_key_decrypt_password=" + self.decrypt))), 1)
        for suffix in ("%00", "%00junk"):
            r = s.request("GET", path + "&api_key_decrypt_password=" + self.decrypt + suffix)
            self.assertEqual((r.status, r.body), (403, MSG_BAD_DECRYPT))
        r = s.post("credentials/create", {"api_key": self.key, "credential_name": "NUL test 2",
                                          "api_key_decrypt_password": self.decrypt + "\u0000"})
        self.assertEqual((r.status, r.body), (403, MSG_BAD_DECRYPT))
        failed = "SELECT COUNT(*) FROM logs WHERE log_type = 'API' AND log_action = 'Failed'"
        before = db_value(self.db, failed)
        for key in (self.key + "%00", "%00" + self.key, self.key + "%00junk"):
            r = s.request("GET", "/api/v1/clients/read.php?api_key=" + key, source="127.0.0.42")
            self.assertEqual((r.status, r.body), (401, MSG_AUTH_FAILED))
        r = s.post("clients/read", {"api_key": self.key + "\u0000x"})
        self.assertEqual((r.status, r.body), (401, MSG_AUTH_FAILED))
        self.assertEqual(db_value(self.db, failed), before + 4)

    def create_named_key(self, name, secret, decrypt):
        """`key create` with a chosen secret, valid 30 days; returns the key's id."""
        SECRETS.update((secret, decrypt))
        r = cli("key", "create", "--db", self.db, "--name", name, "--expires",
                future_date(30), "--secret", secret, "--decrypt-password", decrypt,
                "--admin-password-file", self.pwfile)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(parse_key_output(r.stdout), (secret, decrypt))
        return db_value(self.db, "SELECT api_key_id FROM api_keys WHERE api_key_name = ?",
                        (name,))

    def test_key_create_refuses_a_secret_already_used(self):
        """One secret, one key: a second key with the same secret (of any scope) is refused, also
        after the first was revoked, and a legacy plaintext key's secret is taken as well."""
        secret = "OnlyOnceSecret-0123456789abcdef"
        key_id = self.create_named_key("only-once", secret, "OnlyOnceDecrypt-0123456789")
        legacy = "LegacyPlaintextSecret-0123456789"
        SECRETS.add(legacy)
        db_script(self.db, "INSERT INTO api_keys (api_key_name, api_key_secret, "
                           "api_key_decrypt_hash, api_key_expire, api_key_client_id) VALUES "
                           "('legacy', '%s', '', '%s', 0);" % (legacy, future_date(30)))

        def refused(taken):
            before = db_dump(self.db)
            r = cli("key", "create", "--db", self.db, "--name", "second", "--expires",
                    future_date(30), "--secret", taken,
                    "--decrypt-password", "SecondDecrypt-0123456789", "--admin-password-file",
                    self.pwfile)
            self.assertNotEqual(r.returncode, 0, r.stdout)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
            self.assertIn("already used", r.stderr)
            self.assertNotIn(taken, r.stderr + r.stdout)
            self.assertEqual(db_dump(self.db), before)

        refused(secret)
        refused(legacy)
        self.assertEqual(cli("key", "revoke", "--db", self.db, key_id).returncode, 0)
        refused(secret)

    def test_key_create_refuses_a_short_decrypt_password(self):
        before = db_dump(self.db)
        for pw in ("x", "fifteen-chars15", "\u00e9" * 15):
            r = cli("key", "create", "--db", self.db, "--name", "short-pw", "--expires",
                    future_date(30), "--decrypt-password", pw, "--admin-password-file",
                    self.pwfile)
            self.assertNotEqual(r.returncode, 0, r.stdout)
            self.assertEqual(r.stderr.strip(),
                             "itflowd: --decrypt-password must be 16 to 200 characters.")
        self.assertEqual(db_dump(self.db), before)
        # 16 characters (two bytes each here) are enough
        self.create_named_key("pw-16-chars", "SixteenCharsSecret-0123456789", "\u00e9" * 16)

    def test_key_revoke_makes_the_key_401(self):
        secret = "RevokeMeSecret-0123456789abcdef"
        key_id = self.create_named_key("to-revoke", secret, "RevokeMeDecrypt-0123456789")
        self.assertEqual(self.server.get("clients/read", key=secret).status, 200)
        r = cli("key", "revoke", "--db", self.db, key_id)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.server.get("clients/read", key=secret)
        self.assertEqual((r.status, r.body), (401, MSG_AUTH_FAILED))
        r = self.server.request("GET", "/api/v1/clients/read.php", headers={"X-API-Key": secret})
        self.assertEqual((r.status, r.body), (401, MSG_AUTH_FAILED))
        listing = cli("key", "list", "--db", self.db).stdout
        line = [ln for ln in listing.splitlines() if "to-revoke" in ln][0]
        self.assertIn("expired", line)
        # the other key is untouched
        self.assertEqual(self.server.get("clients/read", key=self.key).status, 200)

    def test_key_changes_by_another_process_apply_at_once(self):
        """A key found once is remembered per connection only while nothing was committed since:
        a change made by another process (scope, expiry, revocation) applies to the very next
        request, however often the key was used before."""
        secret = "ChangeMeSecret-0123456789abcdef"
        key_id = self.create_named_key("to-change", secret, "ChangeMeDecrypt-0123456789")
        s = self.server
        a = self.assertCreated(s.post("clients/create", {"client_name": "Scope A"}, key=secret))
        b = self.assertCreated(s.post("clients/create", {"client_name": "Scope B"}, key=secret))

        def client_ids():
            return sorted(int(row["client_id"]) for row in
                          self.assertRead(s.get("clients/read", key=secret, limit=500)))

        def refused():  # from an address of its own: 10 failures stay under the throttle's 30
            for _ in range(10):
                r = s.request("GET", "/api/v1/clients/read.php", query={"api_key": secret},
                              source="127.0.0.41")
                self.assertEqual((r.status, r.body), (401, MSG_AUTH_FAILED))

        for _ in range(25):  # every connection that served these now remembers the key
            self.assertIn(a, client_ids())
        db_script(self.db, "UPDATE api_keys SET api_key_client_id = %d WHERE api_key_id = %s;"
                  % (b, key_id))
        for _ in range(25):
            self.assertEqual(client_ids(), [b])
        db_script(self.db, "UPDATE api_keys SET api_key_expire = '2001-01-01' WHERE "
                           "api_key_id = %s;" % key_id)
        refused()
        db_script(self.db, "UPDATE api_keys SET api_key_expire = '%s' WHERE api_key_id = %s;"
                  % (future_date(30), key_id))
        self.assertEqual(client_ids(), [b])
        for _ in range(10):
            self.assertEqual(client_ids(), [b])
        r = cli("key", "revoke", "--db", self.db, key_id)
        self.assertEqual(r.returncode, 0, r.stderr)
        refused()

    def test_wrong_admin_password_fails_with_one_line(self):
        before = db_dump(self.db)
        wrong = write_file(os.path.join(self.dir, "wrong.pw"), "not-the-admin-password\n")
        r = cli("key", "create", "--db", self.db, "--name", "nope", "--expires", future_date(),
                "--admin-password-file", wrong)
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertTrue(r.stderr.startswith("itflowd: "), r.stderr)
        self.assertNotIn("api_key:", r.stdout)
        self.assertEqual(db_dump(self.db), before)

    def test_bad_arguments_exit_non_zero(self):
        db, pw = self.db, self.pwfile
        fresh = os.path.join(self.dir, "never-created.db")
        port = str(free_port())
        kc = ["key", "create", "--db", db, "--admin-password-file", pw]
        cases = [
            [],
            ["frobnicate"],
            ["init"],
            ["init", "--db"],
            ["init", "--db", fresh, "--bogus-flag"],
            ["init", "--db", fresh, "extra", "positional"],
            ["key"],
            ["key", "explode", "--db", db],
            kc + ["--name", "x"],
            kc + ["--expires", future_date()],
            kc + ["--name", "x", "--expires", "notadate"],
            kc + ["--name", "x", "--expires", "2026-02-30"],
            kc + ["--name", "x", "--expires", "2000-01-01"],
            kc + ["--name", "x", "--expires", today_utc().isoformat()],
            kc + ["--name", "x", "--expires", future_date(), "--client", "abc"],
            kc + ["--name", "x", "--expires", future_date(), "--client", "999"],
            kc + ["--name", "x", "--expires", future_date(), "--secret", "short"],
            kc + ["--name", "", "--expires", future_date()],
            ["key", "create", "--db", os.path.join(self.dir, "missing.db"), "--name", "x",
             "--expires", future_date(), "--admin-password-file", pw],
            ["key", "create", "--db", db, "--name", "x", "--expires", future_date(),
             "--admin-password-file", os.path.join(self.dir, "no-such-file")],
            ["key", "list"],
            ["key", "revoke", "--db", db],
            ["key", "revoke", "--db", db, "abc"],
            ["key", "revoke", "--db", db, "0"],
            ["key", "revoke", "--db", db, "9999"],
            ["serve"],
            ["serve", "--db", db, "--listen", "127.0.0.1:99999"],
            ["serve", "--db", db, "--listen", "no-port-here"],
            ["serve", "--db", db, "--listen", "127.0.0.1:" + port, "--threads", "0"],
            ["serve", "--db", db, "--listen", "127.0.0.1:" + port, "--sync", "off"],
            ["serve", "--db", os.path.join(self.dir, "missing.db"), "--listen",
             "127.0.0.1:" + port],
        ]
        before = db_dump(db)
        for args in cases:
            with self.subTest(args=args):
                try:
                    r = cli(*args, timeout=10)
                except subprocess.TimeoutExpired:
                    self.fail("itflowd %s did not exit" % " ".join(args))
                self.assertNotEqual(r.returncode, 0, r.stdout)
                self.assertTrue(r.stderr.strip(), "no error message")
                self.assertNotIn("api_key:", r.stdout)
        self.assertFalse(os.path.exists(fresh), "a rejected init created the database")
        self.assertFalse(os.path.exists(os.path.join(self.dir, "missing.db")))
        self.assertEqual(db_dump(db), before)


# ---------------------------------------------------------------------------------------------
# 2. Bad input (F2, F19): 400 + JSON naming the problem, the server stays up, nothing written
# ---------------------------------------------------------------------------------------------

LONG = "x" * 10000
LONG_UA = "Mozilla/5.0 " + "U" * 288  # 300 characters


def J(obj):
    return json.dumps(obj).encode("utf-8")


# (name, method, endpoint, key, query, body, headers, words the message must contain[, bug])
BAD_INPUT = [
    ("invalid_json_clients_create", "POST", "clients/create", "all", None,
     b'{"client_name": "x",', None, ["JSON"]),
    ("invalid_json_tickets_create", "POST", "tickets/create", "c1", None,
     b"{bad", None, ["JSON"]),
    ("top_level_array_body", "POST", "locations/create", "c1", None,
     J([{"location_name": "Array HQ"}]), None, ["JSON"]),
    ("top_level_scalar_body", "POST", "contacts/create", "c1", None,
     b"42", None, ["JSON"]),
    ("form_encoded_body", "POST", "locations/create", "c1", None,
     b"location_name=Form+HQ", {"Content-Type": "application/x-www-form-urlencoded"}, ["JSON"]),
    ("invalid_utf8_in_body", "POST", "locations/create", "c1", None,
     b'{"location_name":"bad \xff byte"}', None, ["JSON"]),
    ("lone_surrogate_escape_in_body", "POST", "locations/create", "c1", None,
     b'{"location_name":"bad \\ud800 escape"}', None, ["JSON"]),
    ("json_nested_100000_deep", "POST", "locations/create", "c1", None,
     b"[" * 100000, None, ["JSON"]),
    ("long_client_name_create", "POST", "clients/create", "all", None,
     J({"client_name": LONG}), None, ["client_name"]),
    ("long_client_name_update", "POST", "clients/update", "c1", None,
     J({"client_name": LONG}), None, ["client_name"]),
    ("long_contact_name_create", "POST", "contacts/create", "c1", None,
     J({"contact_name": LONG, "contact_email": "long@acme.example"}), None, ["contact_name"]),
    ("long_contact_name_update", "POST", "contacts/update", "c1", None,
     J({"contact_id": 2, "contact_name": LONG}), None, ["contact_name"]),
    ("long_location_name", "POST", "locations/create", "c1", None,
     J({"location_name": LONG}), None, ["location_name"]),
    ("long_contact_email_update", "POST", "contacts/update", "c1", None,
     J({"contact_id": 2, "contact_email": "e" * 300 + "@acme.example"}), None,
     ["contact_email"]),
    ("long_document_name", "POST", "documents/create", "c1", None,
     J({"document_name": "d" * 300, "document_content": "<p>x</p>"}), None,
     ["document_name"]),
    ("long_credential_name", "POST", "credentials/create", "c1", None,
     J({"api_key_decrypt_password": DECRYPT_PW, "credential_name": "c" * 300,
        "credential_password": "pw"}), None, ["credential_name"]),
    ("long_ticket_subject", "POST", "tickets/create", "c1", None,
     J({"ticket_subject": "s" * 600}), None, ["ticket_subject"]),
    ("location_name_201_characters", "POST", "locations/create", "c1", None,
     J({"location_name": "\u00e9" * 201}), None, ["location_name"]),
    ("negative_limit", "GET", "clients/read", "all", {"limit": "-1"}, None, None, ["limit"]),
    ("negative_offset", "GET", "contacts/read", "all", {"offset": "-1"}, None, None, ["offset"]),
    ("negative_limit_in_get_body", "GET", "tickets/read", "c1", None,
     J({"limit": -1}), None, ["limit"]),
    ("limit_1e19_in_get_body_wraps_negative", "GET", "clients/read", "all", None,
     b'{"limit": 1e19}', None, ["limit"]),
    ("certificate_expire_notadate", "POST", "certificates/create", "c1", None,
     J({"certificate_name": "Bad cert", "certificate_domain": "bad.example",
        "certificate_expire": "notadate"}), None, ["certificate_expire"]),
    ("asset_purchase_date_notadate", "POST", "assets/create", "c1", None,
     J({"asset_name": "Bad asset", "asset_purchase_date": "notadate"}), None,
     ["asset_purchase_date"]),
    ("asset_warranty_expire_feb_30", "POST", "assets/create", "c1", None,
     J({"asset_name": "Bad asset", "asset_warranty_expire": "2026-02-30"}), None,
     ["asset_warranty_expire"]),
    ("asset_install_date_feb_29_non_leap", "POST", "assets/create", "c1", None,
     J({"asset_name": "Bad asset", "asset_install_date": "2025-02-29"}), None,
     ["asset_install_date"]),
    ("array_for_location_name", "POST", "locations/create", "c1", None,
     J({"location_name": ["Array", "HQ"]}), None, ["location_name"]),
    ("object_for_contact_name", "POST", "contacts/create", "c1", None,
     J({"contact_name": {"a": 1}, "contact_email": "obj@acme.example"}), None,
     ["contact_name"]),
    ("array_for_ticket_subject", "POST", "tickets/create", "c1", None,
     J({"ticket_subject": ["a"]}), None, ["ticket_subject"]),
    ("contact_location_id_out_of_range", "POST", "contacts/create", "c1", None,
     J({"contact_name": "Range", "contact_email": "range@acme.example",
        "contact_location_id": 99999999999}), None, ["contact_location_id"]),
    ("ticket_contact_id_below_range", "POST", "tickets/create", "c1", None,
     J({"ticket_subject": "Range", "ticket_contact_id": -99999999999}), None,
     ["ticket_contact_id"]),
    ("contact_primary_out_of_tinyint", "POST", "contacts/create", "c1", None,
     J({"contact_name": "Tiny", "contact_email": "tiny@acme.example", "contact_primary": 300}),
     None, ["contact_primary"]),
    ("client_rate_out_of_range", "POST", "clients/create", "all", None,
     J({"client_name": "Rate", "client_rate": 1e20}), None, ["client_rate"]),
    # an all-clients key's body client_id is range-checked like every int(11) column
    ("body_client_id_out_of_range_ticket", "POST", "tickets/create", "all", None,
     J({"ticket_subject": "Range", "client_id": 99999999999}), None, ["client_id"]),
    ("body_client_id_out_of_range_contact", "POST", "contacts/create", "all", None,
     J({"contact_name": "Range", "contact_email": "cid@acme.example",
        "client_id": 99999999999}), None, ["client_id"]),
    ("invalid_utf8_client_name_filter", "GET", "clients/read", "all",
     "client_name=%FF", None, None, ["client_name"]),
    ("invalid_utf8_contact_email_filter", "GET", "contacts/read", "all",
     "contact_email=%C3%28", None, None, ["contact_email"]),
    ("array_valued_filter", "GET", "clients/read", "all",
     "client_name%5B%5D=Acme", None, None, ["client_name"]),
    ("long_user_agent_location_create", "POST", "locations/create", "c1", None,
     J({"location_name": "UA HQ"}), {"User-Agent": LONG_UA}, ["User-Agent"]),
    ("long_user_agent_ticket_create", "POST", "tickets/create", "c1", None,
     J({"ticket_subject": "UA ticket"}), {"User-Agent": LONG_UA}, ["User-Agent"]),
]


class BadInputTests(ApiTestCase):
    """One generated test per BAD_INPUT row (see the loop below the class)."""

    @classmethod
    def setUpClass(cls):
        cls.server = shared_server()

    def run_case(self, method, endpoint, key, query, body, headers, words):
        s = self.server
        before = db_dump(s.db)
        q = query
        if isinstance(q, dict):
            q = urlencode(dict(q, api_key=KEYS[key]))
        elif isinstance(q, str):
            q = q + "&" + urlencode({"api_key": KEYS[key]})
        else:
            q = urlencode({"api_key": KEYS[key]})
        r = s.request(method, "/api/v1/%s.php" % endpoint, query=q, body=body, headers=headers)
        self.assertJsonError(r, 400, *words)
        # the server is still up and still answers a normal read
        self.assertTrue(s.alive(), "itflowd exited")
        self.assertEqual(s.request("GET", "/healthz").status, 200)
        self.assertEqual(len(self.assertRead(s.get("clients/read", key=C1_KEY))), 1)
        # and nothing at all was written (no row, no log, no consumed ticket number)
        self.assertEqual(db_dump(s.db), before, "the database changed")

    def test_long_user_agent_on_an_auth_failure(self):
        """The failed-auth log row never holds more than the 250-character column."""
        s = self.server
        last = db_value(s.db, "SELECT COALESCE(MAX(log_id), 0) FROM logs")
        r = s.request("GET", "/api/v1/clients/read.php", query={"api_key": "wrong-key-0000000000"},
                      headers={"User-Agent": LONG_UA})
        self.assertEqual((r.status, r.body), (401, MSG_AUTH_FAILED))
        self.assertTrue(s.alive())
        rows = db_rows(s.db, "SELECT log_type, log_action, log_user_agent FROM logs "
                             "WHERE log_id > ?", (last,))
        self.assertEqual(rows, [("API", "Failed", LONG_UA[:250])])


def _make_bad_input_test(case):
    name, method, endpoint, key, query, body, headers, words = case[:8]

    def test(self):
        self.run_case(method, endpoint, key, query, body, headers, words)

    test.__doc__ = "%s %s: %s" % (method, endpoint, name)
    if len(case) > 8:  # a known server bug: see the comment at the row
        test = unittest.expectedFailure(test)
    return test


for _i, _case in enumerate(BAD_INPUT):
    setattr(BadInputTests, "test_%02d_%s" % (_i, _case[0]), _make_bad_input_test(_case))


# ---------------------------------------------------------------------------------------------
# 3. K13: an update that changes nothing
# ---------------------------------------------------------------------------------------------

class UpdateTests(ApiTestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = shared_server()

    def test_same_update_twice(self):
        s = self.server
        body = {"contact_id": 2, "contact_title": "Head of Billing"}
        first = s.post("contacts/update", body, key=C1_KEY)
        self.assertEqual((first.status, first.body), (200, b'{"success":"True","count":1}'))
        self.assertEqual(first.header("Content-Type"), "application/json")
        second = s.post("contacts/update", body, key=C1_KEY)
        self.assertEqual((second.status, second.body), (200, MSG_UPDATE_FAILED))
        row = db_rows(s.db, "SELECT contact_title, contact_name, contact_email, contact_client_id "
                            "FROM contacts WHERE contact_id = 2")
        # the sent field changed, absent fields kept their values
        self.assertEqual(row, [("Head of Billing", "Bob Billing", "bob@acme.example", 1)])

    def test_other_clients_contact_is_not_updated(self):
        """F9: a client-1 key cannot update client 2's contact (id 3)."""
        s = self.server
        before = db_rows(s.db, "SELECT * FROM contacts WHERE contact_id = 3")
        r = s.post("contacts/update", {"contact_id": 3, "contact_name": "Hijacked"}, key=C1_KEY)
        self.assertEqual((r.status, r.body), (200, MSG_UPDATE_FAILED))
        self.assertEqual(db_rows(s.db, "SELECT * FROM contacts WHERE contact_id = 3"), before)


# ---------------------------------------------------------------------------------------------
# 4. Concurrency: ticket numbers under 4 × 50 simultaneous creates
# ---------------------------------------------------------------------------------------------

class ConcurrencyTests(ApiTestCase):
    THREADS = 4
    PER_THREAD = 50

    @classmethod
    def setUpClass(cls):
        cls.server = shared_server()

    def test_concurrent_ticket_creates_get_distinct_numbers(self):
        s = self.server
        start = db_value(s.db, "SELECT config_ticket_next_number FROM settings "
                               "WHERE company_id = 1")
        total = self.THREADS * self.PER_THREAD
        barrier = threading.Barrier(self.THREADS)
        results = [[] for _ in range(self.THREADS)]

        def worker(t):
            # threads 0 and 1 use the all-clients key with client_id 1, 2 and 3 the client-1 key
            key = ALL_KEY if t < 2 else C1_KEY
            conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
            try:
                barrier.wait(timeout=10)
                for i in range(self.PER_THREAD):
                    subject = "Concurrent t%d #%02d" % (t, i)
                    body = {"ticket_subject": subject, "client_id": 1}
                    try:
                        conn.request("POST", "/api/v1/tickets/create.php?api_key=" + key,
                                     body=J(body))
                        resp = conn.getresponse()
                        results[t].append((subject, resp.status, resp.read()))
                    except (OSError, http.client.HTTPException) as e:
                        results[t].append((subject, None, repr(e).encode()))
                        conn.close()
            finally:
                conn.close()

        threads = [threading.Thread(target=worker, args=(t,)) for t in range(self.THREADS)]
        t0 = time.time()
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=60)
        self.assertFalse(any(th.is_alive() for th in threads), "workers hung")
        elapsed = time.time() - t0
        answers = [a for r in results for a in r]
        self.assertEqual(len(answers), total)
        ids = []
        for subject, status, body in answers:
            self.assertEqual(status, 200, (subject, body))
            obj = json.loads(body)
            self.assertEqual((obj["success"], obj["count"]), ("True", "1"), (subject, body))
            ids.append(obj["data"][0]["insert_id"])
        self.assertEqual(len(set(ids)), total, "duplicate insert_id")
        marks = ",".join("?" * total)
        rows = db_rows(s.db, "SELECT ticket_number, ticket_prefix, ticket_subject, "
                             "ticket_client_id FROM tickets WHERE ticket_id IN (%s)" % marks, ids)
        self.assertEqual(len(rows), total)
        numbers = sorted(r[0] for r in rows)
        self.assertEqual(len(set(numbers)), total, "duplicate ticket_number")
        self.assertEqual(numbers, list(range(start, start + total)))
        self.assertEqual({r[1] for r in rows}, {"TCK-"})
        self.assertEqual({r[3] for r in rows}, {1})
        self.assertEqual(sorted(r[2] for r in rows), sorted(a[0] for a in answers))
        self.assertEqual(db_value(s.db, "SELECT config_ticket_next_number FROM settings "
                                        "WHERE company_id = 1"), start + total)
        self.assertEqual(db_rows(s.db, "SELECT ticket_number FROM tickets GROUP BY ticket_number "
                                       "HAVING COUNT(*) > 1"), [])
        self.assertLess(elapsed, 30, "200 creates took %.1fs" % elapsed)

    def test_two_instances_on_one_sqlite_file(self):
        """Two servers on one SQLite file, each under writes and reads: every acknowledged write is
        seen by both, and the WAL keeps being copied back into the database (each server's
        maintenance holds WAL read lock 0 only while the WAL is fully copied, so neither keeps the
        other's checkpoint waiting)."""
        if on_mariadb():
            self.skipTest("SQLite's WAL (the MariaDB scale-out test covers two instances there)")
        db = make_seeded_db("two-instances")
        servers = [Server(db, "two-a").start(), Server(db, "two-b").start()]
        acked, lock, stop, wal_sizes = [], threading.Lock(), threading.Event(), []

        def writer(srv, n):
            i = 0
            while not stop.is_set():
                i += 1
                subject = "Two instances %d-%d" % (n, i)
                r = srv.post("tickets/create", {"ticket_subject": subject}, key=C1_KEY)
                self.assertEqual(r.status, 200, r)
                with lock:
                    acked.append((r.json()["data"][0]["insert_id"], subject))

        def reader(srv):
            while not stop.is_set():
                with lock:
                    last = acked[-1] if acked else None
                if last:
                    rows = self.assertRead(srv.get("tickets/read", key=ALL_KEY,
                                                   ticket_id=last[0]))
                    self.assertEqual(rows[0]["ticket_subject"], last[1])

        threads = [threading.Thread(target=writer, args=(servers[n % 2], n)) for n in range(4)]
        threads += [threading.Thread(target=reader, args=(srv,)) for srv in servers]
        for t in threads:
            t.start()
        salts = set()  # the WAL header's salt-1 changes each time the WAL starts over
        # it starts over about every 4,000 frames (the writers' own checkpoints): the load runs
        # until it did twice (at least 2 s, at most 15 s), or on a slow or busy machine (a
        # sanitizer build beside other tests) at least once (at most 45 s)
        t0 = time.time()

        def going():
            t = time.time() - t0
            return t < 2 or (len(salts) < 3 and t < 15) or (len(salts) < 2 and t < 45)

        while going():
            time.sleep(0.1)
            try:
                with open(db + "-wal", "rb") as f:
                    salts.add(f.read(32)[16:20])
                wal_sizes.append(os.path.getsize(db + "-wal"))
            except OSError:
                pass
        stop.set()
        for t in threads:
            t.join(30)
        self.assertGreater(len(acked), 20, "the load did not get going")
        for srv in servers:
            self.assertTrue(srv.alive(), srv.log_text()[-2000:])
        # a checkpoint from a third process: within a second or two nothing is left to copy
        deadline, left = time.time() + 5, None
        while time.time() < deadline:
            con = sqlite3.connect(db, timeout=10)
            try:
                busy, log, done = con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            finally:
                con.close()
            left = log - done
            if left == 0:
                break
            time.sleep(0.1)
        self.assertEqual(left, 0, "the WAL is not being copied back")
        # the WAL starts over instead of growing with every write
        self.assertGreater(len(salts), 1, "the WAL never started over: %r" % wal_sizes)
        ids = [a[0] for a in acked]
        rows = db_rows(db, "SELECT ticket_id, ticket_subject FROM tickets WHERE ticket_id IN (%s)"
                       % ",".join("?" * len(ids)), ids)
        self.assertEqual(sorted(rows), sorted(acked))
        for srv in servers:
            srv.stop()
            self.assertEqual(srv.exit_code, 0, srv.log_text()[-2000:])
        print("  two instances: %d writes, WAL at most %.1f MiB, started over %d times"
              % (len(acked), max(wal_sizes) / 1048576.0, len(salts) - 1), file=sys.stderr)


# ---------------------------------------------------------------------------------------------
# 5. Streaming and paging: a large read, X-Total-Count, Link: rel="next"
# ---------------------------------------------------------------------------------------------

BULK_CLIENTS = 3000
BULK_NOTES = 'Bulk "notes" with / slash, \u00e9t\u00e9 and \U0001F600 ' + "n" * 150


def _insert_bulk_clients(db):
    """One multi-row INSERT of BULK_CLIENTS clients (portable SQL for both backends)."""
    db_script(db, "INSERT INTO clients (client_lead, client_name, client_type, client_website, "
              "client_referral, client_rate, client_currency_code, client_net_terms, "
              "client_tax_id_number, client_abbreviation, client_notes, client_favorite, "
              "client_created_at, client_accessed_at) VALUES\n" + ",\n".join(
                  "(0, %s, 'Bulk', '', '', 10.5, 'USD', 30, '', 'BULK', %s, 0, "
                  "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                  % (sql_literal("Bulk client %04d" % i), sql_literal(BULK_NOTES))
                  for i in range(BULK_CLIENTS)) + ";\n")


LINK_RE = re.compile(r'<([^>]*)>\s*;\s*rel="next"')


class PagingTests(ApiTestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = make_seeded_db("paging", extra=_insert_bulk_clients)
        cls.server = Server(cls.db, "paging").start()
        cls.ids = [r[0] for r in db_rows(cls.db, "SELECT client_id FROM clients ORDER BY 1")]
        cls.total = len(cls.ids)

    def read(self, **params):
        return self.server.request("GET", "/api/v1/clients/read.php", query=params,
                                   headers={"X-API-Key": ALL_KEY})

    def test_one_large_page(self):
        self.assertEqual(self.total, BULK_CLIENTS + 3)
        r = self.read(limit=100000)
        rows = self.assertRead(r)  # parses as JSON, count == len(data)
        self.assertEqual(r.json()["count"], self.total)
        self.assertEqual([int(x["client_id"]) for x in rows], self.ids)  # ORDER BY client_id
        self.assertEqual(r.header("X-Total-Count"), str(self.total))
        self.assertIsNone(r.header("Link"), "Link on the last page")
        bulk = rows[-1]
        self.assertEqual(bulk["client_name"], "Bulk client %04d" % (BULK_CLIENTS - 1))
        self.assertEqual(bulk["client_notes"], BULK_NOTES)
        self.assertEqual(bulk["client_rate"], "10.50")
        # K4 escaping survives the large body
        self.assertIn(b"\\/ slash", r.body)
        self.assertIn(b"\\ud83d\\ude00", r.body)

    def test_negative_limit_ignored_where_no_paging_applies(self):
        # a single-id read takes no LIMIT: the reference answers it, so do we (COMPAT rule 2)
        r = self.read(client_name="Acme Corp", limit=-1)
        rows = self.assertRead(r)
        self.assertEqual([x["client_id"] for x in rows], ["1"])
        r = self.server.request("GET", "/api/v1/contacts/read.php",
                                query={"contact_id": 1, "offset": -5},
                                headers={"X-API-Key": ALL_KEY})
        self.assertEqual(r.status, 200)
        # the same parameter on a list is bad input (F2)
        r = self.read(limit=-1)
        self.assertEqual(r.status, 400)
        self.assertIn("limit", r.json()["message"])

    def test_partial_page_has_total_and_next_link_without_secrets(self):
        r = self.server.get("clients/read", key=ALL_KEY, limit=1000, offset=0,
                            api_key_decrypt_password=DECRYPT_PW)
        rows = self.assertRead(r)
        self.assertEqual(len(rows), 1000)
        self.assertEqual(r.header("X-Total-Count"), str(self.total))
        link = r.header("Link")
        self.assertIsNotNone(link, "no Link while rows remain")
        m = LINK_RE.search(link)
        self.assertTrue(m, link)
        self.assertIn("limit=1000", m.group(1))
        self.assertIn("offset=1000", m.group(1))
        self.assertNotIn("api_key", link)
        self.assertNotIn(ALL_KEY, link)
        self.assertNotIn(DECRYPT_PW, link)

    def test_following_links_reads_every_row_once(self):
        r = self.read(limit=700)
        seen, pages = [], 0
        while True:
            pages += 1
            rows = self.assertRead(r)
            self.assertEqual(r.header("X-Total-Count"), str(self.total))
            seen.extend(int(x["client_id"]) for x in rows)
            link = r.header("Link")
            if link is None:
                break
            self.assertLess(pages, 10, "Link never ends")
            target = LINK_RE.search(link).group(1)
            self.assertTrue(target.startswith("/api/v1/clients/read.php?"), target)
            r = self.server.request("GET", target, headers={"X-API-Key": ALL_KEY})
        self.assertEqual(pages, -(-self.total // 700))
        self.assertEqual(seen, self.ids)

    def test_page_ending_exactly_at_the_last_row_has_no_link(self):
        r = self.read(limit=1000, offset=self.total - 1000)
        self.assertEqual(len(self.assertRead(r)), 1000)
        self.assertEqual(r.header("X-Total-Count"), str(self.total))
        self.assertIsNone(r.header("Link"))
        r = self.read(limit=1000, offset=self.total - 1001)
        self.assertEqual(len(self.assertRead(r)), 1000)
        self.assertIn("offset=%d" % (self.total - 1), LINK_RE.search(r.header("Link")).group(1))

    def test_deep_pages_hold_the_same_rows_as_one_read(self):
        # pages from offset 1000 on are read ids first through an index (SQLite): the rows,
        # their order and their bytes must be those of the one-query form
        full = self.assertRead(self.read(limit=100000))
        for offset, limit in ((998, 5), (999, 2), (1000, 50), (1777, 300), (self.total - 3, 50),
                              (self.total, 50)):
            r = self.read(limit=limit, offset=offset)
            if offset >= self.total:
                self.assertEqual(r.json()["success"], "False")
                continue
            self.assertEqual(self.assertRead(r), full[offset:offset + limit], offset)

    def test_total_respects_the_client_scope(self):
        r = self.server.get("clients/read", key=C1_KEY, limit=1)
        self.assertEqual([x["client_id"] for x in self.assertRead(r)], ["1"])
        self.assertEqual(r.header("X-Total-Count"), "1")
        self.assertIsNone(r.header("Link"))


# ---------------------------------------------------------------------------------------------
# 6. Routing and additions: F1, F15, A2, A4, A7, K6
# ---------------------------------------------------------------------------------------------

def metric_value(text, endpoint, status):
    """The requests to endpoint answered with status, whatever their v1 result."""
    return sum(int(n) for n in re.findall(
        r'^itflowd_requests_total\{endpoint="%s",status="%s"(?:,result="[A-Za-z]+")?\} (\d+)$'
        % (re.escape(endpoint), status), text, re.M))


class RoutingTests(ApiTestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = shared_server()

    def test_unsupported_methods_answer_405_json_with_allow(self):
        for method in ("PUT", "DELETE", "PATCH"):
            for path in ("/api/v1/clients/read.php", "/api/v1/tickets/create.php"):
                with self.subTest(method=method, path=path):
                    r = self.server.request(method, path, query={"api_key": ALL_KEY}, body=b"{}")
                    self.assertEqual((r.status, r.body), (405, MSG_METHOD_NOT_ALLOWED))
                    self.assertEqual(r.header("Allow"), "GET, POST")
                    self.assertEqual(r.header("Content-Type"), "application/json")

    def test_unknown_paths_answer_404_json(self):
        for path in ("/api/v1/nope/read.php", "/api/v1/clients/nope.php",
                     "/api/v1/clients/read_output.php", "/api/v1/clients/clients_model.php",
                     "/api/v1/validate_api_key.php", "/api/v2/clients/read.php", "/nope"):
            with self.subTest(path=path):
                r = self.server.request("GET", path, query={"api_key": ALL_KEY})
                self.assertEqual((r.status, r.body), (404, MSG_UNKNOWN_ENDPOINT))
                self.assertEqual(r.header("Content-Type"), "application/json")

    def test_endpoints_answer_without_php_suffix(self):
        with_php = self.server.get("clients/read", key=ALL_KEY)
        without = self.server.request("GET", "/api/v1/clients/read", query={"api_key": ALL_KEY})
        self.assertEqual(with_php.status, 200)
        self.assertEqual((without.status, without.body), (200, with_php.body))
        self.assertEqual(len(self.assertRead(without)), 3)

    def test_wrong_method_on_an_endpoint(self):
        r = self.server.request("POST", "/api/v1/clients/read.php", query={"api_key": ALL_KEY},
                                body=b"{}")
        self.assertEqual((r.status, r.body), (405, MSG_GET_ONLY))
        r = self.server.get("tickets/create", key=ALL_KEY)
        self.assertEqual((r.status, r.body), (405, MSG_POST_ONLY))

    def test_missing_and_invalid_keys(self):
        r = self.server.get("clients/read")
        self.assertEqual((r.status, r.body), (401, b""))
        self.assertEqual(r.header("Content-Type"), "application/json")
        r = self.server.get("clients/read", key="oracleExpired0000000000000000003")
        self.assertEqual((r.status, r.body), (401, MSG_AUTH_FAILED))
        r = self.server.get("clients/read", key="no-such-key-0000000000000000000")
        self.assertEqual((r.status, r.body), (401, MSG_AUTH_FAILED))

    def test_openapi_document(self):
        r = self.server.request("GET", "/api/v1/openapi.json")
        self.assertEqual(r.status, 200)
        self.assertIn("json", r.header("Content-Type"))
        doc = r.json()
        self.assertTrue(str(doc.get("openapi", "")).startswith("3.1"), doc.get("openapi"))
        self.assertIsInstance(doc.get("paths"), dict)
        for ep in V1_ENDPOINTS:
            path = "/api/v1/%s.php" % ep
            self.assertIn(path, doc["paths"])
            method = "get" if ep.endswith(("/read", "/time")) else "post"
            self.assertIn(method, doc["paths"][path], path)

    def test_healthz(self):
        r = self.server.request("GET", "/healthz")
        self.assertEqual(r.status, 200)

    def test_metrics_count_requests(self):
        # requests of earlier tests are counted when they end, which may be just after their
        # client had the answer: none is left in flight before the count is taken
        wait_in_flight(self.server, 0)
        before = self.server.request("GET", "/metrics")
        self.assertEqual(before.status, 200)
        self.assertTrue(before.header("Content-Type").startswith("text/plain"))
        text = before.body.decode()
        self.assertIn("itflowd_requests_total", text)
        n = metric_value(text, "clients/read", 200)
        self.assertEqual(self.server.get("clients/read", key=C1_KEY).status, 200)
        # counted when the request completes, which may be just after the client has the answer
        deadline = time.time() + 3
        while True:
            after = self.server.request("GET", "/metrics").body.decode()
            if metric_value(after, "clients/read", 200) > n or time.time() > deadline:
                break
            time.sleep(0.02)
        self.assertEqual(metric_value(after, "clients/read", 200), n + 1)


# ---------------------------------------------------------------------------------------------
# 7. Final checks (run last): OpenAPI coverage, no secrets in any server log
# ---------------------------------------------------------------------------------------------

class HardeningTests(ApiTestCase):
    """A6 throttling, graceful shutdown on SIGTERM, log reopening on SIGHUP."""

    def test_failed_auth_throttled_per_address(self):
        db = make_seeded_db("throttle")
        s = Server(db, "throttle", extra_args=["--auth-fail-limit", "3",
                                               "--auth-fail-window", "60"]).start()
        try:
            for _ in range(3):
                self.assertJsonError(s.get("clients/read", key="wrong-key-000"), 401)
            r = s.get("clients/read", key="wrong-key-000")
            self.assertJsonError(r, 429, "Try again later")
            self.assertTrue(1 <= int(r.header("Retry-After")) <= 60, r.header("Retry-After"))
            # the blocked address is refused even with a good key (no more guessing) ...
            self.assertEqual(s.get("clients/read", key=ALL_KEY).status, 429)
            # ... but another client address is not slowed
            r = s.request("GET", "/api/v1/clients/read.php", query={"api_key": ALL_KEY},
                          source="127.0.0.2")
            self.assertEqual(r.status, 200, r)
            # wrong decrypt passwords count as failures too (each costs a key derivation)
            for _ in range(3):
                r = s.request("GET", "/api/v1/credentials/read.php", source="127.0.0.3",
                              query={"api_key": ALL_KEY, "api_key_decrypt_password": "nope"})
                self.assertEqual(r.status, 403, r)
            r = s.request("GET", "/api/v1/credentials/read.php", source="127.0.0.3",
                          query={"api_key": ALL_KEY, "api_key_decrypt_password": DECRYPT_PW})
            self.assertEqual(r.status, 429, r)
            self.assertIn("blocked after repeated failed authentications", s.log_text())
        finally:
            s.stop()

    def test_url_and_header_limits_answer_json(self):
        s = Server(make_seeded_db("limits"), "limits",
                   extra_args=["--max-url", "2048", "--max-header", "4096",
                               "--max-body", "4096"]).start()
        try:
            r = s.request("GET", "/api/v1/clients/read.php", query={"x": "a" * 3000})
            self.assertJsonError(r, 414, "URL")
            r = s.request("GET", "/api/v1/clients/read.php", headers={"X-Big": "b" * 5000})
            self.assertJsonError(r, 431, "headers")
            r = s.post("clients/create", {"client_name": "c" * 5000}, key=ALL_KEY)
            self.assertJsonError(r, 413, "too large")
            # just under the limits works
            r = s.request("GET", "/api/v1/clients/read.php",
                          query={"api_key": ALL_KEY, "x": "a" * 1500},
                          headers={"X-Big": "b" * 2000})
            self.assertRead(r)
            self.assertTrue(s.alive())
        finally:
            s.stop()

    def test_connection_limit_answers_json(self):
        s = Server(make_seeded_db("connlimit"), "connlimit",
                   extra_args=["--max-connections", "3"]).start()
        idle = []
        try:
            for _ in range(3):  # hold every allowed connection without sending anything
                idle.append(socket.create_connection(("127.0.0.1", s.port)))
            # the server counts them once it has accepted them (at once, or a moment later on a
            # busy machine); a request before that is served
            deadline = time.time() + 10
            while True:
                r = s.get("clients/read", key=ALL_KEY, limit=1)
                if r.status != 200 or time.time() > deadline:
                    break
                time.sleep(0.05)
            self.assertJsonError(r, 503, "Too many connections")
            self.assertEqual(r.header("Retry-After"), "1")
            for c in idle:
                c.close()
            idle = []
            deadline = time.time() + 5
            while time.time() < deadline:
                r = s.get("clients/read", key=ALL_KEY, limit=1)
                if r.status == 200:
                    break
                time.sleep(0.1)
            self.assertRead(r)
        finally:
            for c in idle:
                c.close()
            s.stop()

    def test_sync_normal_is_accepted(self):
        """serve --sync normal (SQLite synchronous=NORMAL; FULL is the default, see test_db_sync)
        serves writes as usual."""
        s = Server(make_seeded_db("syncnormal"), "syncnormal",
                   extra_args=["--sync", "normal"]).start()
        try:
            self.assertCreated(s.post("tickets/create", {"ticket_subject": "sync normal"},
                                      key=C1_KEY))
        finally:
            s.stop()

    def test_throttling_can_be_disabled(self):
        s = Server(make_seeded_db("nothrottle"), "nothrottle",
                   extra_args=["--auth-fail-limit", "0"]).start()
        try:
            for _ in range(40):
                self.assertEqual(s.get("clients/read", key="wrong").status, 401)
        finally:
            s.stop()

    def test_sigterm_finishes_in_flight_requests_and_exits_0(self):
        db = make_seeded_db("shutdown", extra=_insert_bulk_clients)
        s = Server(db, "shutdown").start()
        results = []

        def slow_reader():
            # a large streamed read, consumed slowly so that it is still in flight at SIGTERM
            conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
            conn.request("GET", "/api/v1/clients/read.php?limit=100000&api_key=" + ALL_KEY)
            resp = conn.getresponse()
            answering.set()
            chunks = []
            while True:
                c = resp.read(4096)
                if not c:
                    break
                chunks.append(c)
                time.sleep(0.002)
            results.append((resp.status, b"".join(chunks)))
            conn.close()

        answering = threading.Event()
        t = threading.Thread(target=slow_reader)
        t.start()
        self.assertTrue(answering.wait(30), "no answer began")
        time.sleep(0.1)
        s.proc.send_signal(signal.SIGTERM)
        t.join(30)
        self.assertEqual(s.proc.wait(timeout=20), 0)
        self.assertEqual(len(results), 1)
        status, body = results[0]
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["count"], BULK_CLIENTS + 3)  # complete, not cut
        with self.assertRaises(OSError):
            s.request("GET", "/healthz", timeout=2)
        self.assertIn("shutting down", s.log_text())
        s.stop()

    def test_shutdown_timeout_0_does_not_wait(self):
        # --shutdown-timeout 0: SIGTERM stops at once, not waiting for a request still in flight
        # (here one whose body never comes; without the option the stop would wait 10 s for it)
        s = Server(make_seeded_db("shutdown-now"), "shutdown-now",
                   extra_args=["--shutdown-timeout", "0"]).start()
        sock = socket.create_connection(("127.0.0.1", s.port), timeout=30)
        try:
            sock.sendall(b"POST /api/v1/clients/create.php HTTP/1.1\r\nHost: x\r\n"
                         b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
            wait_in_flight(s, 1)  # the request line and headers are read: it is in flight
            t0 = time.time()
            s.proc.send_signal(signal.SIGTERM)
            self.assertEqual(s.proc.wait(timeout=20), 0)
            self.assertLess(time.time() - t0, 5)
            self.assertIn("shutting down (1 requests in flight)", s.log_text())
        finally:
            sock.close()
            s.stop()

    def test_sigterm_refuses_new_connections_while_requests_finish(self):
        # during the grace period the listening socket is shut (new connections are refused at
        # once) but stays open until the daemon has stopped: closing it early made libmicrohttpd
        # abort ("Failed to remove listen FD from epoll set") now and then
        for round_ in range(5):
            name = "shutdown-refuse-%d" % round_
            s = Server(make_seeded_db(name), name).start()
            sock = socket.create_connection(("127.0.0.1", s.port), timeout=30)
            try:
                sock.sendall(b"POST /api/v1/clients/create.php HTTP/1.1\r\nHost: x\r\n"
                             b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
                wait_in_flight(s, 1)  # in flight: its body never comes
                s.proc.send_signal(signal.SIGTERM)
                # refused once the signal is handled (at once, or a moment later when busy)
                deadline = time.time() + 10
                refused = False
                while not refused and time.time() < deadline:
                    try:
                        socket.create_connection(("127.0.0.1", s.port), timeout=2).close()
                        time.sleep(0.05)
                    except (ConnectionRefusedError, ConnectionResetError):
                        refused = True  # reset: queued on the listening socket as it was shut
                self.assertTrue(refused, "new connections are still accepted")
                time.sleep(0.2)
                self.assertIsNone(s.proc.poll(), "the server did not wait for its request")
            finally:
                sock.close()  # the request ends: the server stops
            self.assertEqual(s.proc.wait(timeout=20), 0, s.log_text()[-1000:])
            self.assertNotIn("Fatal error", s.log_text())
            s.stop()

    def test_sigterm_under_write_load(self):
        # writes wait on worker threads with their connections suspended; a stop must finish
        # them (MHD cannot stop with a suspended connection) and exit 0, losing no acked write
        db = make_seeded_db("shutdown-writes")
        s = Server(db, "shutdown-writes", extra_args=["--shutdown-timeout", "0"]).start()
        acked, code = ticket_load_then_signal(self, s, signal.SIGTERM, "stop", writers=8,
                                              seconds=0.7)
        self.assertEqual(code, 0)
        rows = dict(db_rows(db, "SELECT ticket_id, ticket_subject FROM tickets"))
        for tid, subject in acked:
            self.assertEqual(rows.get(tid), subject)
        s.stop()

    def test_sighup_reopens_the_log_file(self):
        d = workdir("sighup")
        log = os.path.join(d, "itflowd.log")
        s = Server(make_seeded_db("sighup"), "sighup", extra_args=["--log", log]).start()
        try:
            s.get("clients/read", key=ALL_KEY, limit=1)
            # the access line is written when the request completes, just after the answer
            deadline = time.time() + 5
            while "/api/v1/clients/read.php" not in read_text(log) and time.time() < deadline:
                time.sleep(0.02)
            os.rename(log, log + ".1")
            s.proc.send_signal(signal.SIGHUP)
            deadline = time.time() + 5
            while not os.path.exists(log) and time.time() < deadline:
                time.sleep(0.05)
            s.get("contacts/read", key=ALL_KEY, limit=1)
            deadline = time.time() + 5
            while "/api/v1/contacts/read.php" not in read_text(log) and time.time() < deadline:
                time.sleep(0.02)
            self.assertIn("/api/v1/clients/read.php", read_text(log + ".1"))
            new = read_text(log)
            self.assertIn("log reopened", new)
            self.assertIn("/api/v1/contacts/read.php", new)
            self.assertNotIn(ALL_KEY, new + read_text(log + ".1"))
        finally:
            s.stop()
            self.assertEqual(s.exit_code, 0)
            SERVERS.remove(s)  # its log is the --log file, checked here, not its stderr


def wait_in_flight(server, n, timeout=15):
    """Waits until exactly `n` requests are in flight (read, not yet answered whole) besides the
    /metrics request that asks, then until those /metrics requests have ended too (their access
    lines are written; the server logs to its stderr)."""
    deadline = time.time() + timeout
    asked = server.log_text().count(" /metrics ")
    while True:
        text = server.request("GET", "/metrics").body.decode()
        asked += 1
        m = re.search(r"^itflowd_requests_in_flight (\d+)$", text, re.M)
        if m is None:
            raise AssertionError("no itflowd_requests_in_flight in /metrics")
        if int(m.group(1)) - 1 == n:  # more: earlier requests (a /healthz) not yet ended
            break
        if time.time() > deadline:
            raise AssertionError("%d requests in flight, not %d" % (int(m.group(1)) - 1, n))
        time.sleep(0.02)
    while server.log_text().count(" /metrics ") < asked and time.time() < deadline:
        time.sleep(0.02)


def ticket_load_then_signal(test, server, sig, prefix, writers, seconds, details=None):
    """`writers` threads create tickets with the client-1 key until the server stops answering;
    after `seconds` the server gets `sig`. Returns the acknowledged (ticket_id, subject) pairs and
    the server's exit status."""
    acked, lock, stop = [], threading.Lock(), threading.Event()

    def writer(n):
        i = 0
        while not stop.is_set():
            i += 1
            subject = "%s %d-%d" % (prefix, n, i)
            body = {"ticket_subject": subject}
            if details is not None:
                body["ticket_details"] = details
            try:
                r = server.post("tickets/create", body, key=C1_KEY)
            except OSError:
                return
            if r.status == 200 and r.json().get("success") == "True":
                with lock:
                    acked.append((r.json()["data"][0]["insert_id"], subject))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    time.sleep(seconds)
    # a busy machine (sanitizers, other tests running beside) may need longer to get going: the
    # signal comes once more than 10 writes are acknowledged (at most 30 s more)
    deadline = time.time() + 30
    while time.time() < deadline:
        with lock:
            if len(acked) > 10:
                break
        time.sleep(0.05)
    server.proc.send_signal(sig)
    code = server.proc.wait(timeout=20)
    stop.set()
    for t in threads:
        t.join(15)
    test.assertGreater(len(acked), 10, "the load did not get going")
    return acked, code


class CrashSafetyTests(ApiTestCase):
    """SIGKILL in the middle of a concurrent write load loses no acknowledged write and leaves
    nothing half-written (F3): every request is one transaction."""

    def test_sigkill_mid_write_load(self):
        db = make_seeded_db("crash")
        s = Server(db, "crash").start()
        start_number = db_value(db, "SELECT config_ticket_next_number FROM settings")
        acked, _ = ticket_load_then_signal(self, s, signal.SIGKILL, "crash", writers=4,
                                           seconds=1.0, details="x" * 2000)
        if not on_mariadb():  # SQLite only; on MariaDB InnoDB's crash recovery is not ours
            self.assertEqual(db_value(db, "PRAGMA integrity_check"), "ok")
        rows = dict(db_rows(db, "SELECT ticket_id, ticket_subject FROM tickets"))
        for tid, subject in acked:  # every acknowledged write is there, intact
            self.assertEqual(rows.get(tid), subject)
        created = db_rows(db, "SELECT ticket_id, ticket_number FROM tickets WHERE ticket_id > 3")
        numbers = [n for _, n in created]
        self.assertEqual(len(numbers), len(set(numbers)))
        # nothing half-written: the counter, the tickets and their two log rows agree
        self.assertEqual(db_value(db, "SELECT config_ticket_next_number FROM settings"),
                         start_number + len(created))
        for tid, _ in created:
            self.assertEqual(db_value(db, "SELECT COUNT(*) FROM logs WHERE log_entity_id = ? "
                                          "AND log_type = 'Ticket'", (tid,)), 1)
        self.assertEqual(db_value(db, "SELECT COUNT(*) FROM logs WHERE log_type = 'API' AND "
                                      "log_action = 'Success'"), len(created))
        # and the server comes back on the same database
        s2 = Server(db, "crash-restart").start()
        try:
            tid = acked[-1][0]
            r = s2.get("tickets/read", key=C1_KEY, ticket_id=tid)
            self.assertEqual(self.assertRead(r)[0]["ticket_subject"], acked[-1][1])
        finally:
            s2.stop()


# ---------------------------------------------------------------------------------------------
# 9. Write rules of issue 11: zero dates, refused writes leave no rows (F20), references to
#    another client's rows (F27), the credential password limit
# ---------------------------------------------------------------------------------------------

# The official PowerShell example assets/create.ps1 (itflow-api-powershell), byte for byte but
# for the key: Invoke-RestMethod sends it form-encoded, with zero dates and empty ids.
PS_ASSET_CREATE = (
    '{\n'
    '    "api_key" : "%s",\n'
    '    "asset_name" : "My Laptop 2",\n'
    '    "asset_type" : "Laptop",\n'
    '    "asset_make" : "Dell",\n'
    '    "asset_model" : "Optiplex",\n'
    '    "asset_serial" : "XYZ",\n'
    '    "asset_os" : "Windows 10",\n'
    '    "asset_ip" : "192.168.10.10",\n'
    '    "asset_mac" : "",\n'
    '    "asset_status" : "Deployed",\n'
    '    "asset_purchase_date" : "0000-00-00",\n'
    '    "asset_warranty_expire" : "0000-00-00",\n'
    '    "asset_install_date" : "0000-00-00",\n'
    '    "asset_notes" : "This is a cool laptop!",\n'
    '    "asset_vendor_id" : "",\n'
    '    "asset_location_id" : "",\n'
    '    "asset_contact_id" : "",\n'
    '    "asset_network_id" : "16",\n'
    '    "client_id" : "10"\n'
    '}\n' % ALL_KEY)

# what a write leaves besides its own row: none of these may change on a refused write (F20)
TRAIL_TABLES = ["logs", "asset_history", "history", "document_versions"]


class WriteRuleTests(ApiTestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(make_seeded_db("write_rules"), "write_rules").start()

    def trail(self):
        return {t: db_rows(self.server.db, "SELECT * FROM %s ORDER BY 1" % t) for t in TRAIL_TABLES}

    def data(self):
        return {t: db_rows(self.server.db, "SELECT * FROM %s ORDER BY 1" % t)
                for t in ("clients", "contacts", "assets", "asset_interfaces", "tickets",
                          "credentials", "documents", "users", "recurring_invoices")}

    def interface(self, asset_id):
        return db_rows(self.server.db, "SELECT interface_network_id, interface_ip FROM "
                       "asset_interfaces WHERE interface_asset_id = ?", (asset_id,))

    # -- zero dates (issue 11 item 9) --

    def test_powershell_asset_example_with_zero_dates(self):
        s = self.server
        r = s.request("POST", "/api/v1/assets/create.php", body=PS_ASSET_CREATE,
                      headers={"Content-Type": "application/x-www-form-urlencoded",
                               "User-Agent": "WindowsPowerShell/5.1"})
        asset_id = self.assertCreated(r)
        row = self.assertRead(s.get("assets/read", key=ALL_KEY, asset_id=asset_id))[0]
        self.assertEqual((row["asset_purchase_date"], row["asset_warranty_expire"],
                          row["asset_install_date"]), ("0000-00-00",) * 3)
        # the empty ids are 0, the network that does not exist is stored as sent (F27)
        self.assertEqual((row["asset_vendor_id"], row["asset_location_id"],
                          row["asset_contact_id"], row["asset_client_id"]),
                         ("0", "0", "0", "10"))
        self.assertEqual(self.interface(asset_id), [(16, "192.168.10.10")])
        # an update with a zero date and a real one reads back as sent
        r = s.post("assets/update", {"asset_id": asset_id, "client_id": 10,
                                     "asset_install_date": "0000-00-00 00:00:00",
                                     "asset_warranty_expire": "2027-02-28"}, key=ALL_KEY)
        self.assertEqual((r.status, r.body), (200, b'{"success":"True","count":1}'))
        row = self.assertRead(s.get("assets/read", key=ALL_KEY, asset_id=asset_id))[0]
        self.assertEqual((row["asset_purchase_date"], row["asset_warranty_expire"],
                          row["asset_install_date"]), ("0000-00-00", "2027-02-28", "0000-00-00"))

    def test_zero_date_on_a_certificate(self):
        s = self.server
        cid = self.assertCreated(s.post("certificates/create", {
            "certificate_name": "zero", "certificate_domain": "zero.example",
            "certificate_expire": "0000-00-00"}, key=C1_KEY))
        row = self.assertRead(s.get("certificates/read", key=C1_KEY, certificate_id=cid))[0]
        self.assertEqual(row["certificate_expire"], "0000-00-00")

    def test_dates_that_are_not_zero_nor_real_stay_refused(self):
        s = self.server
        before = self.data()
        for bad in ("0000-00-01", "0000-01-00", "2024-00-00", "2024-02-30", "0000-00-00 24:00"):
            r = s.post("assets/create", {"asset_name": "bad date", "asset_purchase_date": bad},
                       key=C1_KEY)
            self.assertJsonError(r, 400, "asset_purchase_date", "valid date")
        self.assertEqual(self.data(), before)

    # -- the credential password limit (item 15a) --

    def test_credential_password_limit_is_the_plaintext_limit(self):
        s = self.server
        # iv(16) + base64(AES-CBC) must fit varbinary(200): 127 plaintext bytes do, 128 do not
        for pw in ("p" * 127, "\u00e9" * 63 + "p"):
            self.assertEqual(len(pw.encode()), 127)
            cid = self.assertCreated(s.post("credentials/create", {
                "api_key_decrypt_password": DECRYPT_PW, "credential_name": "limit",
                "credential_password": pw}, key=C1_KEY))
            rows = self.assertRead(s.get("credentials/read", key=C1_KEY, credential_id=cid,
                                         api_key_decrypt_password=DECRYPT_PW))
            self.assertEqual(rows[0]["credential_password"], pw)
        before = self.data()
        for pw in ("p" * 128, "\u00e9" * 64, "p" * 130):
            r = s.post("credentials/create", {"api_key_decrypt_password": DECRYPT_PW,
                                              "credential_name": "limit",
                                              "credential_password": pw}, key=C1_KEY)
            msg = self.assertJsonError(r, 400, "credential_password", "longer than 127 bytes")
            self.assertNotIn("200", msg)
            r = s.post("credentials/update", {"api_key_decrypt_password": DECRYPT_PW,
                                              "credential_id": 1, "credential_password": pw},
                       key=C1_KEY)
            self.assertJsonError(r, 400, "credential_password", "longer than 127 bytes")
        # the username's column (varchar(500)) holds 351 plaintext bytes
        r = s.post("credentials/update", {"api_key_decrypt_password": DECRYPT_PW,
                                          "credential_id": 1, "credential_username": "u" * 352},
                   key=C1_KEY)
        self.assertJsonError(r, 400, "credential_username", "longer than 351 bytes")
        self.assertEqual(self.data(), before)
        r = s.post("credentials/update", {"api_key_decrypt_password": DECRYPT_PW,
                                          "credential_id": 1, "credential_username": "u" * 351},
                   key=C1_KEY)
        self.assertEqual((r.status, r.body), (200, b'{"success":"True","count":1}'))

    # -- F20: a refused write writes no rows that say it happened --

    def assertRefusedQuietly(self, endpoint, body, key, expect_status=200):
        s = self.server
        trail, data = self.trail(), self.data()
        r = s.post(endpoint, body, key=key)
        self.assertEqual(r.status, expect_status, (endpoint, body, r))
        self.assertEqual(r.json()["success"], "False", (endpoint, body, r))
        self.assertEqual(self.trail(), trail, (endpoint, body, r))
        self.assertEqual(self.data(), data, (endpoint, body, r))
        return r

    def test_refused_writes_leave_no_log_or_history_rows(self):
        cases = [
            # another client's row (client-1 key on client 2's rows)
            ("tickets/resolve", {"ticket_id": 3}, C1_KEY),
            ("assets/update", {"asset_id": 2, "asset_name": "x", "asset_ip": "1.2.3.4"}, C1_KEY),
            ("assets/delete", {"asset_id": 2}, C1_KEY),
            ("contacts/update", {"contact_id": 3, "contact_name": "x"}, C1_KEY),
            ("contacts/archive", {"contact_id": 3}, C1_KEY),
            ("contacts/delete", {"contact_id": 3}, C1_KEY),
            ("credentials/update", {"credential_id": 1, "credential_name": "x",
                                    "api_key_decrypt_password": DECRYPT_PW}, C2_KEY),
            # rows that do not exist
            ("tickets/resolve", {"ticket_id": 999}, ALL_KEY),
            ("assets/update", {"asset_id": 999, "asset_name": "x", "client_id": 1}, ALL_KEY),
            ("assets/delete", {"asset_id": 999, "client_id": 1}, ALL_KEY),
            ("contacts/update", {"contact_id": 999, "contact_name": "x"}, C1_KEY),
            ("contacts/unarchive", {"contact_id": 999}, C1_KEY),
            ("clients/update", {"client_id": 99, "client_name": "x", "client_is_lead": 0},
             ALL_KEY),
            ("clients/archive", {"client_id": 99}, ALL_KEY),
            ("credentials/update", {"credential_id": 999, "credential_name": "x",
                                    "api_key_decrypt_password": DECRYPT_PW}, C1_KEY),
            # rows not in the state the operation needs
            ("tickets/resolve", {"ticket_id": 3}, C2_KEY),  # already resolved
            ("contacts/unarchive", {"contact_id": 1}, C1_KEY),  # not archived
            ("clients/unarchive", {}, C1_KEY),  # not archived
            # refused before anything ran: duplicates, missing fields, wrong client scope
            ("contacts/create", {"contact_name": "Dup", "contact_email": "BOB@acme.example"},
             C1_KEY),
            ("tickets/create", {"ticket_details": "no subject"}, C1_KEY),
            ("assets/create", {"asset_name": "no client"}, ALL_KEY),
        ]
        for endpoint, body, key in cases:
            with self.subTest(endpoint=endpoint, body=body):
                self.assertRefusedQuietly(endpoint, body, key)

    def test_refused_400_writes_leave_no_rows(self):
        for endpoint, body, key in [
            ("tickets/create", {"ticket_subject": "x", "ticket_contact_id": 3}, C1_KEY),
            ("assets/update", {"asset_id": 1, "asset_name": "x", "asset_location_id": 2},
             C1_KEY),
            ("assets/update", {"asset_id": 1, "asset_install_date": "2024-13-01"}, C1_KEY),
        ]:
            with self.subTest(endpoint=endpoint, body=body):
                self.assertRefusedQuietly(endpoint, body, key, expect_status=400)

    def test_concurrent_row_operations_take_effect_once(self):
        """Resolving one ticket or archiving one contact from many connections at once: one
        answer True with its log rows, every other one the "not done" answer and no rows
        (on MariaDB the requests' transactions really overlap)."""
        s = self.server
        tid = self.assertCreated(s.post("tickets/create", {"ticket_subject": "race"},
                                        key=C1_KEY))
        cid = self.assertCreated(s.post("contacts/create", {
            "contact_name": "Race", "contact_email": "race@acme.example"}, key=C1_KEY))
        for endpoint, body, logs in [
                ("tickets/resolve", {"ticket_id": tid}, [("Ticket", "Resolved"),
                                                         ("API", "Success")]),
                ("contacts/archive", {"contact_id": cid}, [("Contact", "Archive")])]:
            self.assertEqual(self.race(endpoint, body, None), logs)

    def race(self, endpoint, body, other_session):
        """12 requests at once; other_session (MariaDB): SQL another session runs first and
        holds (4 s, uncommitted) while the requests read the row and wait for it.
        Returns the (type, action) of the new log rows."""
        s = self.server
        before = len(db_rows(s.db, "SELECT log_id FROM logs"))
        answers = []
        barrier = threading.Barrier(12)
        holder = None
        if other_session:
            holder = threading.Thread(target=DB.sql, args=(
                "START TRANSACTION; %s; SELECT SLEEP(4); COMMIT;" % other_session,
                DB.dbname(s.db)))
            holder.start()
            time.sleep(1.0)  # the client has started and run its UPDATE

        def one():
            try:
                barrier.wait(timeout=30)
                answers.append(s.post(endpoint, body, key=C1_KEY))
            except Exception as e:  # reported below as a missing answer
                answers.append(e)
        threads = [threading.Thread(target=one) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        if holder:
            holder.join(timeout=60)
        ok = [a for a in answers if isinstance(a, Response) and a.status == 200 and
              a.body == b'{"success":"True","count":1}']
        self.assertEqual(len(answers), 12, answers)
        self.assertEqual(len(ok), 0 if other_session else 1, answers)
        for a in answers:
            if a not in ok:
                self.assertEqual((a.status, a.json()["success"]), (200, "False"), a)
        new = db_rows(s.db, "SELECT log_type, log_action FROM logs ORDER BY log_id")[before:]
        return [tuple(row) for row in new]

    def test_row_changed_by_another_session_meanwhile(self):
        """MariaDB, a database shared with ITFlow's web interface: the ticket is resolved (the
        contact archived) by another session while the API requests are in flight, after they
        read it: none of them answers True or logs, and the other session's values stay."""
        if not on_mariadb():
            self.skipTest("concurrent sessions: MariaDB")
        s = self.server
        tid = self.assertCreated(s.post("tickets/create", {"ticket_subject": "web"},
                                        key=C1_KEY))
        cid = self.assertCreated(s.post("contacts/create", {
            "contact_name": "Web", "contact_email": "web@acme.example"}, key=C1_KEY))
        self.assertEqual(self.race("tickets/resolve", {"ticket_id": tid},
                                   "UPDATE tickets SET ticket_status = 4, ticket_resolved_at = "
                                   "'2020-01-02 03:04:05' WHERE ticket_id = %d" % tid), [])
        self.assertEqual(db_rows(s.db, "SELECT ticket_resolved_at FROM tickets WHERE "
                                       "ticket_id = ?", (tid,)), [("2020-01-02 03:04:05",)])
        self.assertEqual(self.race("contacts/archive", {"contact_id": cid},
                                   "UPDATE contacts SET contact_archived_at = "
                                   "'2020-01-02 03:04:05' WHERE contact_id = %d" % cid), [])
        self.assertEqual(db_rows(s.db, "SELECT contact_archived_at FROM contacts WHERE "
                                       "contact_id = ?", (cid,)), [("2020-01-02 03:04:05",)])

    def test_document_update_refused_logs_only_its_failure_row(self):
        """The reference logs a refused document update on purpose as an API Error: that row
        and nothing else (no Edit/Success rows, no version kept)."""
        s = self.server
        trail, data = self.trail(), self.data()
        r = s.post("documents/update", {"document_id": 1, "document_name": "x"}, key=C2_KEY)
        self.assertEqual((r.status, r.body), (200, MSG_UPDATE_FAILED))
        self.assertEqual(self.data(), data)
        after = self.trail()
        self.assertEqual({t: after[t] for t in TRAIL_TABLES if t != "logs"},
                         {t: trail[t] for t in TRAIL_TABLES if t != "logs"})
        new = after["logs"][len(trail["logs"]):]
        self.assertEqual([(row[1], row[2]) for row in new], [("API", "Error")])

    # -- F27: references to another client's rows --

    def test_references_to_another_clients_rows_are_refused(self):
        s = self.server
        cases = [
            # create, client-scoped key (client 1) naming client 2's rows
            ("tickets/create", {"ticket_subject": "x", "ticket_contact_id": 3}, C1_KEY,
             "ticket_contact_id names a contact of another client."),
            ("tickets/create", {"ticket_subject": "x", "ticket_asset_id": 2}, C1_KEY,
             "ticket_asset_id names an asset of another client."),
            ("assets/create", {"asset_name": "x", "asset_location_id": 2}, C1_KEY,
             "asset_location_id names a location of another client."),
            ("contacts/create", {"contact_name": "x", "contact_email": "x@acme.example",
                                 "contact_location_id": 2}, C1_KEY,
             "contact_location_id names a location of another client."),
            # create, all-clients key writing to client 2 (client 1's vendor, network, contact)
            ("tickets/create", {"ticket_subject": "x", "client_id": 2, "ticket_vendor_id": 1},
             ALL_KEY, "ticket_vendor_id names a vendor of another client."),
            ("assets/create", {"asset_name": "x", "client_id": 2, "asset_network_id": 1},
             ALL_KEY, "asset_network_id names a network of another client."),
            ("credentials/create", {"credential_name": "x", "credential_password": "p",
                                    "client_id": 2, "credential_contact_id": 1,
                                    "api_key_decrypt_password": DECRYPT_PW}, ALL_KEY,
             "credential_contact_id names a contact of another client."),
            # update: the row's client decides (asset 1, contact 1, credential 2 are client 1's)
            ("assets/update", {"asset_id": 1, "asset_contact_id": 3}, C1_KEY,
             "asset_contact_id names a contact of another client."),
            ("assets/update", {"asset_id": 2, "client_id": 2, "asset_vendor_id": 1}, ALL_KEY,
             "asset_vendor_id names a vendor of another client."),
            ("contacts/update", {"contact_id": 1, "contact_location_id": 2}, C1_KEY,
             "contact_location_id names a location of another client."),
            ("credentials/update", {"credential_id": 2, "credential_asset_id": 2,
                                    "api_key_decrypt_password": DECRYPT_PW}, C1_KEY,
             "credential_asset_id names an asset of another client."),
            # a ticket for client 0 may not point at a client's contact either
            ("tickets/create", {"ticket_subject": "x", "ticket_contact_id": 1}, ALL_KEY,
             "ticket_contact_id names a contact of another client."),
        ]
        for endpoint, body, key, message in cases:
            with self.subTest(endpoint=endpoint, body=body):
                r = self.assertRefusedQuietly(endpoint, body, key, expect_status=400)
                self.assertEqual(r.json()["message"], message)

    def test_own_global_missing_and_zero_references_are_stored(self):
        s = self.server
        # own rows, the global vendor (client 0), ids that do not exist, and 0
        tid = self.assertCreated(s.post("tickets/create", {
            "ticket_subject": "refs", "ticket_contact_id": 2, "ticket_asset_id": 999,
            "ticket_vendor_id": 2}, key=C1_KEY))
        row = self.assertRead(s.get("tickets/read", key=C1_KEY, ticket_id=tid))[0]
        self.assertEqual((row["ticket_contact_id"], row["ticket_asset_id"],
                          row["ticket_vendor_id"]), ("2", "999", "2"))
        aid = self.assertCreated(s.post("assets/create", {
            "asset_name": "refs", "client_id": 2, "asset_location_id": 2, "asset_contact_id": 3,
            "asset_vendor_id": 0, "asset_network_id": 4242}, key=ALL_KEY))
        row = self.assertRead(s.get("assets/read", key=ALL_KEY, asset_id=aid))[0]
        self.assertEqual((row["asset_location_id"], row["asset_contact_id"],
                          row["asset_vendor_id"]), ("2", "3", "0"))
        self.assertEqual(self.interface(aid), [(4242, "")])
        r = s.post("assets/update", {"asset_id": aid, "client_id": 2, "asset_location_id": 0,
                                     "asset_contact_id": 777, "asset_vendor_id": 2}, key=ALL_KEY)
        self.assertEqual((r.status, r.body), (200, b'{"success":"True","count":1}'))
        row = self.assertRead(s.get("assets/read", key=ALL_KEY, asset_id=aid))[0]
        self.assertEqual((row["asset_location_id"], row["asset_contact_id"],
                          row["asset_vendor_id"]), ("0", "777", "2"))
        r = s.post("contacts/update", {"contact_id": 2, "contact_location_id": 3}, key=C1_KEY)
        self.assertEqual((r.status, r.body), (200, b'{"success":"True","count":1}'))
        # a stored cross-client value the write does not send does not block it
        db_script(s.db, "UPDATE contacts SET contact_location_id = 2 WHERE contact_id = 2;")
        r = s.post("contacts/update", {"contact_id": 2, "contact_title": "Refs"}, key=C1_KEY)
        self.assertEqual((r.status, r.body), (200, b'{"success":"True","count":1}'))


class DiskFullTests(ApiTestCase):
    """A full disk under a SQLite database: the write answers 503 JSON with Retry-After, the log
    names the store's real error, nothing is written, and writes work again once there is room.
    Needs root and tmpfs (a filesystem small enough to fill); skipped otherwise."""

    def test_full_disk_answers_503_and_writes_nothing(self):
        if on_mariadb():
            self.skipTest("SQLite only")
        if os.geteuid() != 0:
            self.skipTest("needs root to mount a small tmpfs")
        seeded = make_seeded_db("diskfull")
        mnt = tempfile.mkdtemp(prefix="itflowd-full-")
        size = os.path.getsize(seeded) + (512 << 10)
        if subprocess.call(["mount", "-t", "tmpfs", "-o", "size=%d" % size, "tmpfs", mnt],
                           stderr=subprocess.DEVNULL) != 0:
            os.rmdir(mnt)
            self.skipTest("cannot mount a tmpfs here")
        s = None
        try:
            db = os.path.join(mnt, "itflow.db")
            shutil.copy(seeded, db)
            s = Server(db, "diskfull").start()
            self.assertRead(s.get("tickets/read", key=C1_KEY))  # the -shm file is in place
            filler = os.path.join(mnt, "filler")
            fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
            try:  # every free block of the filesystem
                for _ in range(4096):
                    os.write(fd, b"\0" * 4096)
            except OSError:
                pass
            finally:
                os.close(fd)
            before = db_dump(db)
            body = {"ticket_subject": "disk full", "ticket_details": "x" * 200000}
            r = s.post("tickets/create", body, key=C1_KEY)
            self.assertJsonError(r, 503, "disk")
            self.assertEqual(r.header("Retry-After"), "60", r)
            self.assertEqual(db_dump(db), before)
            log = s.log_text()
            self.assertIn("database or disk is full", log)
            self.assertNotIn("not an error", log)
            self.assertTrue(s.alive())
            os.unlink(filler)
            self.assertCreated(s.post("tickets/create", body, key=C1_KEY))
        finally:
            if s is not None:
                s.stop()
            subprocess.call(["umount", mnt])
            os.rmdir(mnt)


class FinalChecks(ApiTestCase):
    def test_1_openapi_lists_every_endpoint_exercised(self):
        doc = shared_server().request("GET", "/api/v1/openapi.json").json()
        if not EXERCISED:
            self.skipTest("no endpoint exercised yet; run the whole file")
        missing = sorted(p for p in EXERCISED if p not in doc["paths"])
        self.assertEqual(missing, [])

    def test_2_server_logs_hold_no_secrets(self):
        s = shared_server()
        # send every secret in every place the server accepts it, good and bad
        s.get("clients/read", key=ALL_KEY, limit=1)
        s.get("clients/read", key=ALL_KEY + "-wrong")
        s.get("credentials/read", key=C1_KEY, api_key_decrypt_password=DECRYPT_PW)
        s.request("GET", "/api/v1/credentials/read.php",
                  headers={"X-API-Key": C1_KEY, "X-API-Key-Decrypt-Password": DECRYPT_PW})
        s.request("GET", "/api/v1/clients/read.php",
                  headers={"Authorization": "Bearer " + C2_KEY})
        s.post("credentials/create", {"api_key": C1_KEY, "api_key_decrypt_password": DECRYPT_PW,
                                      "credential_name": "log check", "credential_password": "x"})
        s.post("locations/create", b"{broken", key=C1_KEY)
        s.request("PUT", "/api/v1/clients/read.php", query={"api_key": ALL_KEY})
        s.request("GET", "/nope", query={"api_key": ALL_KEY})
        stop_all_servers()  # flushes and closes every log
        self.assertTrue(SERVERS)
        shared_log = s.log_text()
        self.assertIn("/api/v1/credentials/read.php", shared_log, "no access log line")
        for srv in SERVERS:
            log = srv.log_text()
            with self.subTest(server=srv.name):
                # SIGTERM is a clean stop (under sanitizers, leaks would make this non-zero)
                self.assertIn(srv.exit_code, (0, None), log[-2000:])
                self.assertTrue(log.strip(), "empty log")
                self.assertNotIn("api_key=", log)
                self.assertNotIn("decrypt_password=", log)
                leaked = sorted(x for x in SECRETS if x in log)
                self.assertEqual(leaked, [], "secrets in the %s server log" % srv.name)


# ---------------------------------------------------------------------------------------------
# Runner
# ---------------------------------------------------------------------------------------------

ORDER = [CliTests, BadInputTests, UpdateTests, ConcurrencyTests, PagingTests, RoutingTests,
         HardeningTests, CrashSafetyTests, WriteRuleTests, FinalChecks]


def main(argv):
    return run_test_module(argv, sys.modules[__name__], ORDER, "api",
                           backends=("sqlite", "mariadb"))


if __name__ == "__main__":
    sys.exit(main(sys.argv))

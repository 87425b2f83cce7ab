#!/usr/bin/env python3
"""The command line as an administrator meets it: help, exit codes, version, manual page, file
modes, passwords, backup and copy.

usage: python3 tests/api/test_cli.py PATH/TO/itflowd [-v] [TestClass[.test_name] ...]

Python 3 standard library only (servers, when a test needs one, are started here on 127.0.0.1
on free ports and stopped at the end; see test_api.py).

  HelpTests      itflowd help, COMMAND --help for every command (every flag, its default, the
                 environment, the mariadb:// forms), each command refusing the others' flags,
                 unknown commands (one line, exit 2), usage errors 2 and run-time failures 1,
                 --version, and docs/itflowd.1 being exactly what the tables print.
  PasswordTests  admin passwords longer than 254 bytes are used whole (not cut short), too long
                 ones refused from a file and from ITFLOWD_ADMIN_PASSWORD.
  FileModeTests  the database, its -wal and -shm are created 0600 whatever the umask.
  DemoTests      scripts/demo.sh run twice (with the built binary, not serving): one demo key,
                 reused; its files 0600 and ignored by git.
  NotifyTests    serve tells systemd (NOTIFY_SOCKET) READY=1 once listening, RELOADING=1 and
                 READY=1 around a SIGHUP, STOPPING=1 on SIGTERM.
  BackupTests    itflowd backup while writers keep writing: the copy passes PRAGMA
                 integrity_check, is 0600 and holds every write acknowledged before it started.
"""
import concurrent.futures
import os
import re
import shutil
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import test_api as base  # noqa: E402  (helpers: cli, Server, make_seeded_db, keys)

MAN = os.path.join(REPO, "docs", "itflowd.1")
COMMANDS = ["init", "key create", "key list", "key revoke", "key update", "webhook add",
            "webhook list", "webhook remove", "serve", "backup", "copy"]


def commands():
    """The commands `itflowd help` lists."""
    out = base.cli("help").stdout
    block = out.split("\ncommands:\n", 1)[1].split("\n\n", 1)[0]
    return [re.split(r"\s{2,}", ln.strip())[0] for ln in block.splitlines()]


def flags_of(help_text):
    """The flags of a command's help, from its options section."""
    opts = help_text.split("\noptions", 1)[1].split("\n\n", 1)[0]
    return re.findall(r"^  (--[a-z-]+)", opts, re.M)


class HelpTests(base.ApiTestCase):
    def test_general_help_lists_every_command(self):
        for args in (["help"], ["--help"], ["-h"]):
            r = base.cli(*args)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertTrue(r.stdout.startswith("usage: itflowd COMMAND"), r.stdout)
            for word in ("ITFLOWD_ADMIN_PASSWORD", "ITFLOWD_DB_PASSWORD", "_FILE",
                         "mariadb://USER[:PASSWORD]@HOST[:PORT]/DATABASE", "?socket=",
                         "exit status"):
                self.assertIn(word, r.stdout)
        listed = commands()
        self.assertEqual(sorted(listed), sorted(c for c in COMMANDS if c in listed))
        self.assertTrue({"init", "key create", "key list", "key revoke", "serve",
                         "backup"} <= set(listed), listed)
        r = base.cli()
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage: itflowd COMMAND", r.stderr)

    def test_each_command_has_its_own_help(self):
        for cmd in commands():
            with self.subTest(cmd=cmd):
                r = base.cli(*cmd.split(), "--help")
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertTrue(r.stdout.startswith("usage: itflowd %s " % cmd), r.stdout)
                self.assertEqual(base.cli("help", *cmd.split()).stdout, r.stdout)
                self.assertEqual(base.cli(*cmd.split(), "-h").stdout, r.stdout)
                flags = flags_of(r.stdout)
                self.assertIn("--help", flags)
                # every flag with its default (or "required") on the line after it
                for m in re.finditer(r"^  (--[a-z-]+).*\n\s+\((.*)\)$", r.stdout, re.M):
                    self.assertRegex(m.group(2), r"^(default: |required)", m.group(0))
                self.assertEqual(len(re.findall(r"^  --[a-z]", r.stdout, re.M)) - 1,
                                 len(re.findall(r"^\s+\((default: |required)", r.stdout, re.M)))
                self.assertIn("mariadb://USER[:PASSWORD]@HOST[:PORT]/DATABASE", r.stdout)
                self.assertIn("exit status:", r.stdout)
                if cmd in ("init", "key create"):
                    self.assertIn("ITFLOWD_ADMIN_PASSWORD_FILE", r.stdout)
                if cmd != "backup":
                    self.assertIn("ITFLOWD_DB_PASSWORD_FILE", r.stdout)

    def test_each_command_accepts_only_its_own_flags(self):
        d = base.workdir("cli_own_flags")
        db = os.path.join(d, "x.db")
        helps = {c: set(flags_of(base.cli(*c.split(), "--help").stdout)) for c in commands()}
        every = set().union(*helps.values()) - {"--help"}
        cases = []
        for cmd, own in helps.items():
            foreign = sorted(every - own)
            if base.sanitized(base.BIN) and len(foreign) > 6:
                # the same table lookup for every flag: under a sanitizer (each start costs
                # ~0.1 s) six spread over the list; the plain build tries them all
                foreign = [foreign[i * (len(foreign) - 1) // 5] for i in range(6)]
            cases += [(cmd, flag) for flag in foreign]

        def run(case):
            cmd, flag = case
            args = cmd.split() + ([flag] if flag in ("--schema-only", "--quiet",
                                                     "--reuse-port") else [flag, "1"])
            return args, base.cli(*args)

        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(run, cases))
        for (cmd, flag), (args, r) in zip(cases, results):
            with self.subTest(cmd=cmd, flag=flag):
                self.assertEqual(r.returncode, 2, (args, r.stderr))
                self.assertEqual(r.stderr, "itflowd: unknown argument %s (see itflowd %s "
                                 "--help).\n" % (flag, cmd))
        self.assertFalse(os.path.exists(db))

    def test_unknown_command_is_one_line_and_exit_2(self):
        for args, shown in ((["frobnicate"], "frobnicate"), (["key", "explode"], "key explode"),
                            (["key"], "key"), (["help", "nope"], "nope"),
                            (["--bogus"], "--bogus")):
            with self.subTest(args=args):
                r = base.cli(*args)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertEqual(r.stderr, "itflowd: unknown command '%s' (see itflowd help).\n"
                                 % shown)
                self.assertEqual(r.stdout, "")

    def test_usage_errors_exit_2_and_run_time_failures_1(self):
        d = base.workdir("cli_exit_codes")
        db = os.path.join(d, "x.db")
        pw = base.write_file(os.path.join(d, "pw"), "correct horse battery staple\n")
        self.assertEqual(base.cli("init", "--db", db, "--admin-password-file", pw).returncode, 0)
        kc = ["key", "create", "--db", db, "--admin-password-file", pw]
        port = str(base.free_port())
        usage = [
            ["init"], ["init", "--db"], ["init", "--db", db, "extra"],
            ["init", "--db", os.path.join(d, "n.db"), "--admin-email", ""],
            kc + ["--name", "x"], kc + ["--name", "x", "--expires", "notadate"],
            kc + ["--name", "x", "--expires", "2000-01-01"],
            kc + ["--name", "x", "--expires", base.future_date(), "--client", "abc"],
            kc + ["--name", "x", "--expires", base.future_date(), "--secret", "short"],
            ["key", "list"], ["key", "revoke", "--db", db], ["key", "revoke", "--db", db, "abc"],
            ["serve"], ["serve", "--db", db, "--listen", "no-port-here"],
            ["serve", "--db", db, "--listen", "127.0.0.1:99999"],
            ["serve", "--db", db, "--listen", "localhost:" + port],
            ["serve", "--db", db, "--threads", "0"], ["serve", "--db", db, "--sync", "off"],
            ["serve", "--db", db, "--bogus"], ["backup", "--db", db],
            ["backup", "--db", "mariadb://u@h/d", "--to", os.path.join(d, "b.db")],
        ]
        for args in usage:
            with self.subTest(args=args):
                r = base.cli(*args, timeout=10)
                self.assertEqual(r.returncode, 2, (args, r.stderr))
                self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
                self.assertTrue(r.stderr.startswith("itflowd: "), r.stderr)
        failures = [
            ["key", "list", "--db", os.path.join(d, "missing.db")],
            ["key", "revoke", "--db", db, "9999"],
            ["init", "--db", db],  # exists already
            kc[:-1] + [os.path.join(d, "no-such-file"), "--name", "x", "--expires",
                       base.future_date()],
            ["serve", "--db", os.path.join(d, "missing.db"), "--listen", "127.0.0.1:" + port],
            ["backup", "--db", os.path.join(d, "missing.db"), "--to", os.path.join(d, "b.db")],
            ["backup", "--db", db, "--to", pw],  # exists: not overwritten
        ]
        for args in failures:
            with self.subTest(args=args):
                r = base.cli(*args, timeout=10)
                self.assertEqual(r.returncode, 1, (args, r.stderr))
                self.assertTrue(r.stderr.startswith("itflowd: "), r.stderr)
        self.assertEqual(base.read_text(pw), "correct horse battery staple\n")

    def test_version(self):
        for args in (["--version"], ["version"]):
            r = base.cli(*args)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertRegex(r.stdout, r"^itflowd \d+\.\d+\.\d+ ")
            for lib in (r"\nbackends: sqlite, mariadb\n", r"\nlibmicrohttpd \d", r"\njansson \d",
                        r"\nSQLite 3\.", r"\nMariaDB Connector/C \d", r"\nOpenSSL 3\."):
                self.assertRegex(r.stdout, lib)

    def test_man_page_is_the_help(self):
        """docs/itflowd.1 is exactly what the tables print, and it names every flag of every
        command's --help in that command's section, with the same default."""
        r = base.cli("help", "--man")
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(MAN, encoding="utf-8") as f:
            page = f.read()
        self.assertEqual(r.stdout, page, "docs/itflowd.1 differs from 'itflowd help --man': "
                         "regenerate it (itflowd help --man > docs/itflowd.1)")
        plain = page.replace("\\-", "-")
        for cmd in commands():
            section = plain.split("\n.SS %s\n" % cmd, 1)[1].split("\n.SS ", 1)[0]
            text = base.cli(*cmd.split(), "--help").stdout
            for m in re.finditer(r"^  (--[a-z-]+)( \S+)?\s.*\n\s+\((.*)\)$", text, re.M):
                with self.subTest(cmd=cmd, flag=m.group(1)):
                    self.assertIn(".B %s%s\n" % (m.group(1), m.group(2) or ""), section)
                    self.assertIn("(%s)" % m.group(3), section)
        if shutil.which("man") and shutil.which("groff"):
            w = subprocess.run(["man", "--warnings", "-l", "-Tutf8", MAN], capture_output=True,
                               text=True, env=dict(base.ENV, MANWIDTH="100"))
            self.assertEqual(w.returncode, 0, w.stderr)
            self.assertEqual(w.stderr, "")
            self.assertIn("ITFLOWD(1)", w.stdout)


class PasswordTests(base.ApiTestCase):
    def test_long_admin_password_is_used_whole(self):
        d = base.workdir("cli_long_pw")
        db = os.path.join(d, "x.db")
        long_pw = "p" * 300 + "q" * 300
        pw = base.write_file(os.path.join(d, "pw"), long_pw + "\n")
        cut = base.write_file(os.path.join(d, "cut"), long_pw[:254] + "\n")
        self.assertEqual(base.cli("init", "--db", db, "--admin-password-file", pw).returncode, 0)
        kc = ["key", "create", "--db", db, "--name", "k", "--expires", base.future_date()]
        r = base.cli(*kc, "--admin-password-file", cut)
        self.assertEqual(r.returncode, 1, "a cut-short password unlocked the master key")
        self.assertIn("does not unlock", r.stderr)
        r = base.cli(*kc, "--admin-password-file", pw)
        self.assertEqual(r.returncode, 0, r.stderr)
        env = dict(base.ENV, ITFLOWD_ADMIN_PASSWORD=long_pw)
        r = subprocess.run([base.BIN] + kc, capture_output=True, text=True, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        env = dict(base.ENV, ITFLOWD_ADMIN_PASSWORD_FILE=pw)
        r = subprocess.run([base.BIN] + kc, capture_output=True, text=True, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_too_long_admin_password_is_refused(self):
        d = base.workdir("cli_too_long_pw")
        db = os.path.join(d, "x.db")
        huge = "h" * 1024
        pw = base.write_file(os.path.join(d, "pw"), huge + "\n")
        r = base.cli("init", "--db", db, "--admin-password-file", pw)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, "itflowd: the first line of the password file %s is longer "
                         "than 1023 bytes.\n" % pw)
        self.assertFalse(os.path.exists(db))
        env = dict(base.ENV, ITFLOWD_ADMIN_PASSWORD=huge)
        r = subprocess.run([base.BIN, "init", "--db", db], capture_output=True, text=True,
                           env=env)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, "itflowd: ITFLOWD_ADMIN_PASSWORD is longer than 1023 "
                         "bytes.\n")
        self.assertNotIn(huge, r.stdout + r.stderr)
        empty = base.write_file(os.path.join(d, "empty"), "\n")
        r = base.cli("init", "--db", db, "--admin-password-file", empty)
        self.assertEqual(r.returncode, 1)
        self.assertIn("is empty", r.stderr)
        self.assertFalse(os.path.exists(db))


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


class FileModeTests(base.ApiTestCase):
    def test_database_and_wal_files_are_0600(self):
        d = base.workdir("cli_modes")
        db = os.path.join(d, "x.db")
        old = os.umask(0o022)
        try:
            self.assertEqual(base.cli("init", "--db", db, "--schema-only").returncode, 0)
            with open(base.SEED_SQL, encoding="utf-8") as f:
                base.db_script(db, f.read())
            srv = base.Server(db, "cli_modes").start()
            try:
                base.ApiTestCase.assertCreated(self, srv.post("clients/create",
                                                              {"client_name": "Mode"},
                                                              key=base.ALL_KEY))
                for suffix in ("", "-wal", "-shm"):
                    self.assertTrue(os.path.exists(db + suffix), suffix)
                    self.assertEqual(mode(db + suffix), 0o600, suffix)
            finally:
                srv.stop()
        finally:
            os.umask(old)


class DemoTests(base.ApiTestCase):
    def test_demo_twice_keeps_one_key(self):
        d = base.workdir("cli_demo")
        db = os.path.join(d, "itflowd.db")
        env = dict(base.ENV, ITFLOWD_DEMO_BIN=base.BIN, ITFLOWD_DEMO_NO_SERVE="1", ITFLOWD_DB=db)
        keys = []
        for _ in range(2):
            r = subprocess.run(["bash", os.path.join(REPO, "scripts", "demo.sh")], cwd=d,
                               capture_output=True, text=True, env=env, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr)
            keys.append(re.search(r"X-API-Key: (\S+)'", r.stdout).group(1))
        self.assertEqual(keys[0], keys[1], "the second run made another key")
        listed = [line for line in base.cli("key", "list", "--db", db).stdout.splitlines()
                  if line.strip() and not line.startswith(" ")]  # not a key's detail line
        self.assertEqual(len(listed), 2, listed)  # the header and the one key
        for f in (db, db + ".admin-password", db + ".demo-key"):
            self.assertEqual(mode(f), 0o600, f)
        # the demo's files in the repository's own directory are ignored by git
        if shutil.which("git") and os.path.exists(os.path.join(REPO, ".git")):
            names = ["itflowd.db", "itflowd.db-wal", "itflowd.db-shm", "itflowd.db.admin-password",
                     "itflowd.db.demo-key"]
            r = subprocess.run(["git", "-C", REPO, "check-ignore"] + names, capture_output=True,
                               text=True)
            self.assertEqual(r.stdout.split(), names)
        # the key works
        srv = base.Server(db, "cli_demo").start()
        try:
            self.assertEqual(srv.request("GET", "/api/v1/clients/read.php",
                                         headers={"X-API-Key": keys[0]}).status, 200)
        finally:
            srv.stop()


class BackupTests(base.ApiTestCase):
    def test_backup_under_write_load(self):
        db = base.make_seeded_db("cli_backup")
        srv = base.Server(db, "cli_backup").start()
        acked = []  # (time acknowledged, client id)
        stop = threading.Event()
        errors = []

        def writer(n):
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    r = srv.post("clients/create", {"client_name": "Load %d-%d" % (n, i),
                                                    "client_notes": "x" * 2000},
                                 key=base.ALL_KEY)
                    cid = r.json()["data"][0]["insert_id"]
                    acked.append((time.monotonic(), cid))
                except Exception as e:  # noqa: BLE001  (reported below)
                    errors.append(repr(e))
                    return

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        try:
            time.sleep(1.0)
            copies = []
            for k in range(3):
                out = os.path.join(base.workdir("cli_backup_out"), "copy%d.db" % k)
                started = time.monotonic()
                r = base.cli("backup", "--db", db, "--to", out)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn("integrity_check ok", r.stdout)
                copies.append((started, out))
                time.sleep(0.3)
        finally:
            stop.set()
            for t in threads:
                t.join()
            srv.stop()
        self.assertEqual(errors, [])
        self.assertGreater(len(acked), 20, "the write load did not run")
        for started, out in copies:
            self.assertEqual(mode(out), 0o600)
            con = sqlite3.connect(out)
            try:
                self.assertEqual(con.execute("PRAGMA integrity_check").fetchall(), [("ok",)])
                have = {row[0] for row in con.execute("SELECT client_id FROM clients")}
            finally:
                con.close()
            before = {cid for t, cid in acked if t < started}
            self.assertTrue(before, "no write was acknowledged before the backup")
            self.assertEqual(before - have, set(), "acknowledged writes missing from the copy")
            self.assertFalse(os.path.exists(out + "-wal"))


class NotifyTests(base.ApiTestCase):
    def test_ready_reload_stop(self):
        if "systemd notify: yes" not in base.cli("--version").stdout:
            self.skipTest("built without libsystemd")
        d = base.workdir("cli_notify")
        path = os.path.join(d, "notify.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        sock.settimeout(10)
        db = base.make_seeded_db("cli_notify")
        port = base.free_port()
        log = open(os.path.join(d, "serve.log"), "wb")
        proc = subprocess.Popen([base.BIN, "serve", "--db", db, "--listen",
                                 "127.0.0.1:%d" % port, "--log", os.path.join(d, "access.log")],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                env=dict(base.ENV, NOTIFY_SOCKET=path))
        try:
            msgs = []

            def until(word):
                while True:
                    msgs.append(sock.recv(4096).decode())
                    if word in msgs[-1]:
                        return

            until("READY=1")
            s = socket.create_connection(("127.0.0.1", port), timeout=5)  # listening by now
            s.close()
            proc.send_signal(signal.SIGHUP)
            until("RELOADING=1")
            until("READY=1")
            proc.send_signal(signal.SIGTERM)
            until("STOPPING=1")
            self.assertEqual(proc.wait(timeout=15), 0)
            order = [w for m in msgs for w in ("READY=1", "RELOADING=1", "STOPPING=1") if w in m]
            self.assertEqual(order, ["READY=1", "RELOADING=1", "READY=1", "STOPPING=1"], msgs)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            log.close()
            sock.close()


ORDER = [HelpTests, PasswordTests, FileModeTests, DemoTests, NotifyTests, BackupTests]


def main(argv):
    return base.run_test_module(argv, sys.modules[__name__], ORDER, "cli")


if __name__ == "__main__":
    sys.exit(main(sys.argv))

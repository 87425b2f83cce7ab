#!/usr/bin/env python3
"""itflowd copy: the conformance seed through two copies, every API read byte-identical.

usage: python3 tests/api/test_copy.py PATH/TO/itflowd [-v] [TestClass[.test_name] ...]
       ITFLOWD_TEST_DB=mariadb python3 tests/api/test_copy.py PATH/TO/itflowd ...

With ITFLOWD_TEST_DB=mariadb (a private MariaDB, scripts/mariadb.sh; exit 77 where it is not
installed) the seed is in MariaDB and goes MariaDB -> a new SQLite file -> a new MariaDB database;
without it SQLite -> SQLite -> SQLite. Servers are started here on 127.0.0.1 on free ports.

  CopyTests  every read endpoint, with an all-clients and a client key, credentials decrypted with
             the same decrypt password, answers the same bytes from the source and from each copy;
             a target that holds data is refused and left as it was; a failed copy leaves no file.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_api as base  # noqa: E402  (helpers: cli, Server, make_seeded_db, keys)

READS = [e for e in base.V1_ENDPOINTS if e.endswith("/read") or e == "technicians/time"]


def every_read(db, name):
    """{request: answer bytes} for every read endpoint with two keys, and decrypted credentials."""
    srv = base.Server(db, name).start()
    try:
        out = {}
        for key in (base.ALL_KEY, base.C1_KEY):
            for ep in READS:
                r = srv.get(ep, key=key)
                out[(ep, key)] = (r.status, r.body)
            for how in ("param", "header"):
                if how == "param":
                    r = srv.get("credentials/read", key=key,
                                api_key_decrypt_password=base.DECRYPT_PW)
                else:
                    r = srv.request("GET", "/api/v1/credentials/read.php",
                                    headers={"X-API-Key": key,
                                             "X-API-Key-Decrypt-Password": base.DECRYPT_PW})
                out[("credentials/read decrypted", how, key)] = (r.status, r.body)
        return out
    finally:
        srv.stop()


class CopyTests(base.ApiTestCase):
    def test_round_trip_keeps_every_read(self):
        src = base.make_seeded_db("copy_src")
        before = every_read(src, "copy_src")
        # the reads answer data: most endpoints have rows, the credentials decrypt
        self.assertGreater(sum(1 for s, b in before.values() if b'"success":"True"' in b), 20)
        decrypted = before[("credentials/read decrypted", "param", base.C1_KEY)]
        self.assertIn(b'"credential_password"', decrypted[1])
        self.assertEqual(decrypted[0], 200)

        mid = os.path.join(base.workdir("copy"), "copy.db")
        r = base.cli("copy", "--from", src, "--to", mid, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("the row counts match", r.stdout)
        self.assertEqual(os.stat(mid).st_mode & 0o777, 0o600)
        self.assertEqual(every_read(mid, "copy_mid"), before)

        if base.on_mariadb():
            dst = base.DB.new_db("copy_back")
        else:
            dst = os.path.join(base.workdir("copy"), "back.db")
        r = base.cli("copy", "--from", mid, "--to", dst, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(every_read(dst, "copy_back"), before)
        self.assertEqual(base.DB.rows(dst, "SELECT COUNT(*) FROM credentials"),
                         base.DB.rows(src, "SELECT COUNT(*) FROM credentials"))

        # a target with data is refused, untouched
        dump = base.db_dump(dst)
        r = base.cli("copy", "--from", mid, "--to", dst)
        self.assertEqual(r.returncode, 1)
        self.assertIn("already holds data", r.stderr)
        self.assertEqual(base.db_dump(dst), dump)
        # the same database on both sides is a usage error
        self.assertEqual(base.cli("copy", "--from", mid, "--to", mid).returncode, 2)
        # a source that cannot be read leaves no target file
        gone = os.path.join(base.workdir("copy"), "never.db")
        r = base.cli("copy", "--from", os.path.join(base.workdir("copy"), "missing.db"),
                     "--to", gone)
        self.assertEqual(r.returncode, 1)
        self.assertFalse(os.path.exists(gone))


ORDER = [CopyTests]


def main(argv):
    return base.run_test_module(argv, sys.modules[__name__], ORDER, "copy",
                                backends=("sqlite", "mariadb"))


if __name__ == "__main__":
    sys.exit(main(sys.argv))

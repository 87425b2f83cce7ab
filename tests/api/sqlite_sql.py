#!/usr/bin/env python3
"""The conformance runner's SQL shell for a SQLite database: runs the SQL read from stdin and
prints each row's values tab-separated, as `sqlite3 -batch -separator TAB` does, except that a
value of a DECIMAL(p,s) column is printed with its s decimals, as MariaDB prints it.

usage: sqlite_sql.py DB < statements

Why: SQLite keeps a decimal as a number (125.50 is stored as 125.5, 100.00 as 100), while the
suite's SQL checks were recorded from MariaDB, which prints the column's scale. The values are
equal; only their text differs. itflowd's own answers render decimals with their scale already
(render.c); this does the same for the checks. A result column is a decimal when its name is that
of a column declared DECIMAL(p,s) in the database (ITFlow's column names are unique per table
prefix); computed columns are printed as sqlite3 prints them.
"""
import decimal
import re
import sqlite3
import sys


def sqlite_text(v):
    """A value as the sqlite3 shell prints it."""
    if v is None:
        return ""
    if isinstance(v, float):
        t = "%.15g" % v
        if not any(c in t for c in ".en"):  # 100.0, not 100 (the shell's %!.15g)
            t += ".0"
        return t
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return str(v)


def decimal_scales(con):
    scales = {}
    for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        for _, name, decl, *_ in con.execute("SELECT * FROM pragma_table_info(?)", (table,)):
            m = re.fullmatch(r"DECIMAL\(\d+,(\d+)\)", decl or "", re.I)
            if m:
                scales[name] = int(m.group(1))
    return scales


def statements(sql):
    """The complete statements of sql, in order."""
    out, cur = [], ""
    for line in sql.splitlines(keepends=True):
        cur += line
        if sqlite3.complete_statement(cur):
            out.append(cur)
            cur = ""
    if cur.strip():
        out.append(cur)
    return out


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: sqlite_sql.py DB < statements\n")
        return 2
    con = sqlite3.connect(argv[1], timeout=10, isolation_level=None)
    scales = None
    out = []
    try:
        for stmt in statements(sys.stdin.read()):
            cur = con.execute(stmt)
            if cur.description is None:
                continue
            if scales is None:
                scales = decimal_scales(con)
            names = [d[0] for d in cur.description]
            for row in cur:
                vals = []
                for name, v in zip(names, row):
                    s = scales.get(name)
                    if s is not None and isinstance(v, (int, float)):
                        q = decimal.Decimal(1).scaleb(-s)
                        vals.append(str(decimal.Decimal(repr(v)).quantize(
                            q, rounding=decimal.ROUND_HALF_UP)))
                    else:
                        vals.append(sqlite_text(v))
                out.append("\t".join(vals))
    except sqlite3.Error as e:
        sys.stderr.write("Error: %s\n" % e)
        return 1
    finally:
        con.close()
    sys.stdout.write("".join(line + "\n" for line in out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

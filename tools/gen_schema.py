#!/usr/bin/env python3
"""Generates src/db/schema_tables.c: the two schema sets itflowd knows.

  * ITFlow v26.07 (database 2.4.4): the schema section of the ITFlow v1 reference (markdown tables
    of `| # | column | definition |`), plus what the reference leaves out but the v1 writes use
    (EXTRA_2607 tables, EXTRA_COLUMNS_2607 columns), taken from ITFlow's db.sql at tag v26.07;
  * ITFlow v26.08 (database 2.6.6): ITFlow's own db.sql at tag v26.08, the tables of the v26.07
    set as the reference lists them, then EXTRA_2608, column for column, with their keys (foreign
    keys only between tables of the set).

Re-run whenever a source, EXTRA_2607, EXTRA_COLUMNS_2607 or EXTRA_2608 changes (from the work
tree's root, with ITFlow's repository itflow-org/itflow cloned or fetched somewhere):
    git --git-dir=<itflow-org/itflow git dir> show v26.07:db.sql > /tmp/db-2607.sql
    git --git-dir=<itflow-org/itflow git dir> show v26.08:db.sql > /tmp/db-2608.sql
    python3 tools/gen_schema.py ../shared/spec/itflow-v1-reference.md /tmp/db-2607.sql \
        /tmp/db-2608.sql > src/db/schema_tables.c && clang-format -i src/db/schema_tables.c
"""
import re
import sys

# Tables of the v26.07 set that the reference's schema section does not define, though the v1
# writes beyond it use them: ticket_history (ticket workflow, ticket replies, quote history),
# taxes and product_stock (invoice and quote line items: the tax rate, stock rows of tangible
# products) and quote_items (quotes created with items). Taken from ITFlow's db.sql at tag v26.07
# (database 2.4.4) and placed after EXTRA_2607_AFTER, where the set has always had them (the order
# of the SQLite DDL).
EXTRA_2607 = ["ticket_history", "taxes", "product_stock", "quote_items"]
EXTRA_2607_AFTER = "ticket_replies"

# Columns of reference tables that the reference leaves out ("only those relevant to the API
# shown") though the v1 writes use them: the invoice and quote counters that number new invoices
# and quotes. From the same db.sql, appended after the reference's columns in this order.
EXTRA_COLUMNS_2607 = {"settings": ["config_invoice_prefix", "config_invoice_next_number",
                                   "config_quote_prefix", "config_quote_next_number"]}

# The v26.08 tables: those of v26.07 (as the reference lists them), then what the v26.08 API and
# its RBAC read or write (delta §2.1, §3, §6) and what the v26.08 conformance seed fills or its
# reset empties, and quote_items (quotes created with items, as on v26.07).
EXTRA_2608 = ["user_roles", "user_role_permissions", "modules", "user_client_permissions",
              "taxes", "product_stock", "quote_items", "ticket_history", "ticket_watchers",
              "email_queue", "slas", "sla_assignments", "sla_history"]


def reference_tables(path):
    """(name, [(column, definition)], keys) of the reference's schema section (v26.07)."""
    text = open(path, encoding="utf-8").read()
    sec = text[text.index("## 5. Schema"):text.index("## 6.")]
    tables = []
    for m in re.finditer(r"#### `(\w+)`(.*?)(?=\n#### |\Z)", sec, re.S):
        name, body = m.group(1), m.group(2)
        cols = []
        for line in body.splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if name == "settings":
                if len(cells) == 3 and cells[0] not in ("column", "---"):
                    cols.append((cells[0], cells[1]))
            elif len(cells) == 3 and cells[0].isdigit():
                cols.append((cells[1], cells[2]))
        km = re.search(r"Keys: (.*)", body)
        keys = km.group(1).strip() if km else ""
        if name == "settings":
            keys = "PRIMARY KEY (company_id)"
            cols = [(c, d.replace(", PRIMARY KEY", "")) for c, d in cols]
        tables.append((name, cols, keys))
    return tables


def dump_parse(path):
    """{table: body of its CREATE TABLE} of a mysqldump file (ITFlow's db.sql)."""
    text = open(path, encoding="utf-8").read()
    return {m.group(1): m.group(2)
            for m in re.finditer(r"CREATE TABLE `(\w+)` \((.*?)\n\) ENGINE", text, re.S)}


def dump_table(path, found, name, names):
    """(name, [(column, definition)], keys) of table name of the dump; names: the set's tables."""
    if name not in found:
        sys.exit("gen_schema: %s has no table %s" % (path, name))
    cols, keys = [], []
    for line in found[name].strip().splitlines():
        line = line.strip().rstrip(",")
        cm = re.match(r"`(\w+)` (.*)$", line)
        if cm:
            cols.append((cm.group(1), cm.group(2)))
            continue
        clause = line.replace("`", "")
        ref = re.search(r"REFERENCES (\w+) ", clause)
        if ref and ref.group(1) not in names:
            continue  # a foreign key to a table outside the set
        keys.append(clause)
    return name, cols, "; ".join(keys)


def dump_tables(path, names):
    """The same triples for the tables `names` of a mysqldump file (ITFlow's db.sql)."""
    found = dump_parse(path)
    return [dump_table(path, found, name, names) for name in names]


def with_extras_2607(tables, path):
    """The reference's tables with EXTRA_COLUMNS_2607 and EXTRA_2607 from the v26.07 db.sql."""
    found = dump_parse(path)
    names = [n for n, _, _ in tables]
    if any(n in names for n in EXTRA_2607) or EXTRA_2607_AFTER not in names:
        sys.exit("gen_schema: EXTRA_2607 no longer fits the reference's tables")
    names[names.index(EXTRA_2607_AFTER) + 1:names.index(EXTRA_2607_AFTER) + 1] = EXTRA_2607
    out = []
    for name, cols, keys in tables:
        extra = EXTRA_COLUMNS_2607.get(name, [])
        if extra:
            have = {c for c, _ in cols}
            dump_cols = dict(dump_table(path, found, name, names)[1])
            for c in extra:
                if c in have or c not in dump_cols:
                    sys.exit("gen_schema: %s.%s is in the reference or not in %s" % (name, c, path))
                cols = cols + [(c, dump_cols[c])]
        out.append((name, cols, keys))
        if name == EXTRA_2607_AFTER:
            out += [dump_table(path, found, n, names) for n in EXTRA_2607]
    return out


def ctype(d):
    t = d.split()[0].lower()
    base = re.match(r"[a-z]+", t).group(0)
    n = re.search(r"\((\d+)(?:,(\d+))?\)", t)
    length, scale = (int(n.group(1)) if n else 0), (int(n.group(2)) if n and n.group(2) else 0)
    kind = {"int": "COL_INT", "tinyint": "COL_INT", "smallint": "COL_INT", "bigint": "COL_INT",
            "decimal": "COL_DECIMAL", "float": "COL_FLOAT", "double": "COL_FLOAT",
            "varchar": "COL_VARCHAR", "varbinary": "COL_VARBINARY", "text": "COL_TEXT",
            "mediumtext": "COL_TEXT", "longtext": "COL_TEXT", "date": "COL_DATE",
            "datetime": "COL_DATETIME", "time": "COL_TIME", "enum": "COL_ENUM"}[base]
    if base == "text": length = 65535
    if base == "mediumtext": length = 16777215
    if base == "longtext": length = 4294967295
    if base in ("int", "tinyint", "smallint", "bigint", "float", "double", "enum"): length = 0
    return kind, length, scale


def cstr(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "\\r").replace("\n", "\\n") + '"'


def emit(out, prefix, release, db_version, tables):
    for name, cols, keys in tables:
        out.append("static const struct schema_column %s_%s_cols[] = {" % (prefix, name))
        for c, d in cols:
            kind, length, scale = ctype(d)
            flags = []
            if "NOT NULL" in d: flags.append("COL_NOT_NULL")
            if "AUTO_INCREMENT" in d: flags.append("COL_AUTO_INC")
            if "ON UPDATE" in d: flags.append("COL_ON_UPDATE_NOW")
            dm = re.search(r"DEFAULT ('(?:[^']|'')*'|[\w.()-]+)", d)
            dflt = dm.group(1) if dm else None
            if dflt == "current_timestamp()": flags.append("COL_DEFAULT_NOW"); dflt = None
            out.append("    {%s, %s, %s, %s, %uu, %u, %s}," % (
                cstr(c), cstr(d), kind, " | ".join(flags) or "0", length, scale,
                cstr(dflt) if dflt is not None else "NULL"))
        out.append("};\n")
    out.append("static const struct schema_table %s_tables[] = {" % prefix)
    for name, cols, keys in tables:
        arr = "%s_%s_cols" % (prefix, name)
        out.append("    {%s, %s, sizeof(%s) / sizeof(%s[0]), %s}," % (
            cstr(name), arr, arr, arr, cstr(keys)))
    out.append("};\n")
    out.append("const struct schema_set schema_set_%s = {ITFLOW_V%s, \"%s\", \"%s\", %s_tables,\n"
               "    sizeof(%s_tables) / sizeof(%s_tables[0])};\n"
               % (prefix, release.replace(".", ""), release, db_version, prefix, prefix, prefix))


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: gen_schema.py itflow-v1-reference.md db-v26.07.sql db-v26.08.sql")
    ref = reference_tables(sys.argv[1])
    t2607 = with_extras_2607(ref, sys.argv[2])
    names = [n for n, _, _ in ref] + [n for n in EXTRA_2608 if n not in {x for x, _, _ in ref}]
    t2608 = dump_tables(sys.argv[3], names)
    out = ["/* schema_tables: the ITFlow tables the API reads and writes, column for column in physical\n"
           " * order: v26.07 (database version 2.4.4, from the reference's schema section, plus the tables\n"
           " * and columns it leaves out that the v1 writes use, from ITFlow's db.sql at tag v26.07) and\n"
           " * v26.08 (database version 2.6.6, from ITFlow's db.sql at tag v26.08). Generated by\n"
           " * tools/gen_schema.py; do not edit by hand. */\n",
           '#include "db/schema.h"\n']
    emit(out, "v2607", "26.07", "2.4.4", t2607)
    emit(out, "v2608", "26.08", "2.6.6", t2608)
    print("\n".join(out))


main()

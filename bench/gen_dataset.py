#!/usr/bin/env python3
"""Deterministic benchmark dataset for itflowd.

usage: gen_dataset.py DB

DB must already hold the empty schema (`itflowd init --db DB [--itflow-version 26.08]
--schema-only`); on a v26.08 schema the keys run as users (rbac_2608). Fills it with
5,000 clients, 50,000 contacts, 200,000 assets (each with one primary interface), 100,000 tickets
and 20,000 credentials, plus companies/settings/ticket_statuses and the two conformance API keys.
Standard library only; the RNG is seeded so the same script always produces the same rows.

The id layout is arithmetic so the wrk Lua scripts (bench/lua/common.lua) can pick existing rows
without a lookup table. KEEP THESE IN SYNC WITH lua/common.lua:
  contact i  -> client (i-1)//10 + 1, email c<i>@client<client>.example, primary iff (i-1)%10 == 0
  asset i    -> client (i-1)//40 + 1, primary interface id i, MAC 02:00:<i as 4 big-endian bytes>
  ticket i   -> ticket_number i (prefix TCK-), settings.config_ticket_next_number = 100001
  credential -> client (i-1)//4 + 1, username/password = the ciphertexts of seed credential 1
"""
import base64
import random
import sqlite3
import sys
import time

N_CLIENTS = 5_000
CONTACTS_PER_CLIENT = 10
ASSETS_PER_CLIENT = 40
N_TICKETS = 100_000
CREDS_PER_CLIENT = 4
N_CONTACTS = N_CLIENTS * CONTACTS_PER_CLIENT      # 50,000
N_ASSETS = N_CLIENTS * ASSETS_PER_CLIENT          # 200,000
N_CREDENTIALS = N_CLIENTS * CREDS_PER_CLIENT      # 20,000
SEED = 20260701
BATCH = 20_000

# Copied verbatim from /work/shared/conformance/seed.sql (api_keys 1 and 2; credential 1).
# The decrypt password for both keys is oracleDecryptPassword00000000001.
API_KEYS = [
    (1, 'oracle-all-clients', 'oracleAllClients0000000000000001',
     'z3Or1-HFcgXE6YeqDEtVYyAUGqcz8PxjWO1iApUz0boos9XJlkcfMnpb3XajOoX6j/BvLQl+nUs=',
     '2026-11-28 12:51:42', '2099-12-31', 0),
    (2, 'oracle-client-1-acme', 'oracleClientScoped00000000000002',
     'ztx2b0-NXJLjpKXzK1hNs0Z2TytQlieGdaGlJ1LxhnuJcSZG780/ZsQ4PHpMb7UvWsF9pDt85os=',
     '2026-11-28 12:51:42', '2099-12-31', 1),
]
CRED_USERNAME = 'VBuvn2t9t74Ez-yflRmMqOXyQn34CCw29bEKG6IAYEBTAqVpi82SK5cDrRA='
CRED_PASSWORD = '1GBCBi1r9kJoy3Q2ijlucfrU+PtAF5/INJqBpA=='

TICKET_STATUSES = [
    (1, 'New', '#dc3545', 1, 0), (2, 'Open', '#007bff', 1, 0), (3, 'On Hold', '#28a745', 1, 0),
    (4, 'Resolved', '#343a40', 1, 0), (5, 'Closed', '#343a40', 1, 0),
]

FIRST = ['Alice', 'Bob', 'Carol', 'Dave', 'Erin', 'Frank', 'Grace', 'Heidi', 'Ivan', 'Judy',
         'Mallory', 'Niaj', 'Olivia', 'Peggy', 'Rupert', 'Sybil', 'Trent', 'Victor', 'Walter', 'Zoë']
LAST = ['Anders', 'Brown', 'Chen', 'Dubois', 'Evans', 'Fischer', 'García', 'Hughes', 'Ito', 'Jones',
        'Kowalski', 'Larsen', 'Müller', 'Novak', "O'Brien", 'Patel', 'Rossi', 'Smith', 'Tanaka']
TITLES = ['IT Manager', 'Office Manager', 'CEO', 'CFO', 'Accountant', 'Engineer', 'Receptionist',
          'Sales', 'Support', 'Developer']
DEPTS = ['IT', 'Finance', 'Sales', 'Operations', 'HR', '']
CLIENT_TYPES = ['Business', 'Enterprise', 'Non-profit', 'Education', '']
ASSET_TYPES = [('Laptop', 'Dell', 'Latitude 7440', 'Windows 11'),
               ('Desktop', 'HP', 'EliteDesk 800', 'Windows 11'),
               ('Server', 'Dell', 'PowerEdge R750', 'Ubuntu 24.04'),
               ('Firewall', 'Fortinet', 'FortiGate 60F', 'FortiOS 7.4'),
               ('Switch', 'Cisco', 'Catalyst 9200', 'IOS-XE'),
               ('Printer', 'Brother', 'HL-L8360', None),
               ('Phone', 'Apple', 'iPhone 15', 'iOS 18')]
ASSET_STATUS = ['Deployed', 'Ready To Deploy', 'In Repair', 'Broken', 'Retired']
PRIORITIES = ['Low', 'Medium', 'High', 'Critical']
SUBJECTS = ['Printer not working', 'Cannot log in', 'VPN disconnects', 'New starter setup',
            'E-mail bounce', 'Slow computer', 'Backup failed', 'Password reset', 'Wi-Fi drops',
            'Install software request']


def ts(rng, year_from=2023, year_to=2026):
    return '%04d-%02d-%02d %02d:%02d:%02d' % (rng.randint(year_from, year_to), rng.randint(1, 12),
                                              rng.randint(1, 28), rng.randint(0, 23),
                                              rng.randint(0, 59), rng.randint(0, 59))


def day(rng, year_from, year_to):
    return '%04d-%02d-%02d' % (rng.randint(year_from, year_to), rng.randint(1, 12), rng.randint(1, 28))


# Column order of the tuples each generator yields (names as in the ITFlow schema, section 5 of the
# reference); insert() checks them against the created schema.
COLUMNS = {
    'clients': 'client_id client_lead client_name client_type client_website client_referral '
               'client_rate client_currency_code client_net_terms client_tax_id_number '
               'client_abbreviation client_notes client_favorite client_created_at client_updated_at '
               'client_archived_at client_accessed_at',
    'contacts': 'contact_id contact_name contact_title contact_email contact_phone_country_code '
                'contact_phone contact_extension contact_mobile_country_code contact_mobile '
                'contact_photo contact_pin contact_notes contact_primary contact_important '
                'contact_billing contact_technical contact_created_at contact_updated_at '
                'contact_archived_at contact_accessed_at contact_location_id contact_vendor_id '
                'contact_user_id contact_department contact_client_id',
    'assets': 'asset_id asset_type asset_name asset_description asset_make asset_model asset_serial '
              'asset_os asset_uri asset_uri_2 asset_uri_client asset_status asset_purchase_reference '
              'asset_purchase_date asset_warranty_expire asset_install_date asset_photo '
              'asset_physical_location asset_notes asset_favorite asset_created_at asset_updated_at '
              'asset_archived_at asset_accessed_at asset_vendor_id asset_location_id '
              'asset_contact_id asset_client_id',
    'asset_interfaces': 'interface_id interface_name interface_description interface_type '
                        'interface_mac interface_ip interface_nat_ip interface_ipv6 interface_notes '
                        'interface_primary interface_created_at interface_updated_at '
                        'interface_archived_at interface_network_id interface_asset_id',
    'tickets': 'ticket_id ticket_prefix ticket_number ticket_source ticket_category ticket_subject '
               'ticket_details ticket_priority ticket_status ticket_billable ticket_schedule '
               'ticket_onsite ticket_vendor_ticket_number ticket_feedback ticket_url_key '
               'ticket_created_at ticket_updated_at ticket_due_at ticket_resolved_at '
               'ticket_archived_at ticket_first_response_at ticket_closed_at ticket_created_by '
               'ticket_assigned_to ticket_closed_by ticket_vendor_id ticket_client_id '
               'ticket_contact_id ticket_location_id ticket_asset_id ticket_quote_id '
               'ticket_invoice_id ticket_project_id ticket_recurring_ticket_id ticket_order',
    'credentials': 'credential_id credential_name credential_description credential_category '
                   'credential_uri credential_uri_2 credential_username credential_password '
                   'credential_otp_secret credential_note credential_favorite credential_created_at '
                   'credential_updated_at credential_archived_at credential_accessed_at '
                   'credential_password_changed_at credential_folder_id credential_contact_id '
                   'credential_asset_id credential_client_id',
}


def insert(con, table, rows):
    """executemany in chunks of BATCH rows (all inside the caller's single transaction)."""
    cols = COLUMNS[table].split()
    have = {r[1] for r in con.execute('PRAGMA table_info(%s)' % table)}
    missing = [c for c in cols if c not in have]
    if missing:
        sys.exit('gen_dataset.py: schema of %s lacks %s' % (table, ', '.join(missing)))
    sql = 'INSERT INTO %s (%s) VALUES (%s)' % (table, ', '.join(cols), ','.join('?' * len(cols)))
    rows = iter(rows)
    while True:
        chunk = []
        for r in rows:
            chunk.append(r)
            if len(chunk) == BATCH:
                break
        if not chunk:
            return
        con.executemany(sql, chunk)


def clients(rng):
    for i in range(1, N_CLIENTS + 1):
        created = ts(rng, 2020, 2025)
        yield (i, int(rng.random() < 0.05), 'Client %05d %s' % (i, rng.choice(LAST)),
               rng.choice(CLIENT_TYPES), 'client%d.example' % i, rng.choice(['', 'Friend', 'Web']),
               round(rng.uniform(50, 200), 2), 'USD', rng.choice([0, 15, 30]), '',
               'C%05d' % i, 'Benchmark client %d' % i, int(rng.random() < 0.1),
               created, None, None, created)


def contacts(rng):
    for i in range(1, N_CONTACTS + 1):
        cid = (i - 1) // CONTACTS_PER_CLIENT + 1
        yield (i, '%s %s' % (rng.choice(FIRST), rng.choice(LAST)), rng.choice(TITLES),
               'c%d@client%d.example' % (i, cid), None, '1555%07d' % rng.randrange(10**7),
               str(rng.randint(100, 999)), None, '1555%07d' % rng.randrange(10**7), None, None,
               '', int((i - 1) % CONTACTS_PER_CLIENT == 0), int(rng.random() < 0.2),
               int(rng.random() < 0.2), int(rng.random() < 0.3), ts(rng), None, None, None,
               0, 0, 0, rng.choice(DEPTS), cid)


def mac(i):
    return '02:00:%02X:%02X:%02X:%02X' % ((i >> 24) & 255, (i >> 16) & 255, (i >> 8) & 255, i & 255)


def assets(rng):
    for i in range(1, N_ASSETS + 1):
        cid = (i - 1) // ASSETS_PER_CLIENT + 1
        typ, make, model, os_ = rng.choice(ASSET_TYPES)
        contact = (cid - 1) * CONTACTS_PER_CLIENT + 1 + rng.randrange(CONTACTS_PER_CLIENT)
        yield (i, typ, 'C%05d-%s-%06d' % (cid, typ[:3].upper(), i), '%s for client %d' % (typ, cid),
               make, model, 'SN%08d' % i, os_, 'https://asset%d.client%d.example' % (i, cid), None,
               None, rng.choice(ASSET_STATUS), None, day(rng, 2021, 2025), day(rng, 2025, 2029),
               day(rng, 2021, 2025), None, None, 'Benchmark asset', int(rng.random() < 0.05),
               ts(rng), None, None, None, 0, 0, contact, cid)


def interfaces(rng):
    for i in range(1, N_ASSETS + 1):
        yield (i, '1', None, None, mac(i),
               '10.%d.%d.%d' % ((i >> 16) & 255, (i >> 8) & 255, (i & 255) or 1),
               None, None, None, 1, ts(rng), None, None, 0, i)


def tickets(rng):
    for i in range(1, N_TICKETS + 1):
        cid = rng.randint(1, N_CLIENTS)
        status = rng.choice([1, 2, 3, 4, 5, 5, 5])
        created = ts(rng, 2023, 2026)
        resolved = created if status >= 4 else None
        closed = created if status == 5 else None
        contact = (cid - 1) * CONTACTS_PER_CLIENT + 1 + rng.randrange(CONTACTS_PER_CLIENT)
        asset = (cid - 1) * ASSETS_PER_CLIENT + 1 + rng.randrange(ASSETS_PER_CLIENT)
        url_key = base64.urlsafe_b64encode(rng.getrandbits(192).to_bytes(24, 'big')).decode()
        subject = rng.choice(SUBJECTS)
        yield (i, 'TCK-', i, rng.choice(['API', 'Email', 'Portal', 'Phone']), None, subject,
               '<p>%s (ticket %d)</p><br>' % (subject, i), rng.choice(PRIORITIES), status,
               int(rng.random() < 0.5), None, 0, '0', None, url_key, created, None, None,
               resolved, None, resolved, closed, 0, 0, 0, 0, cid, contact, 0, asset, 0, 0, 0, 0, 0)


def credentials(rng):
    for i in range(1, N_CREDENTIALS + 1):
        cid = (i - 1) // CREDS_PER_CLIENT + 1
        created = ts(rng)
        yield (i, 'Credential %d' % i, rng.choice(['Global admin', 'Firewall', 'Wi-Fi', '']), None,
               'https://login%d.client%d.example' % (i, cid), '', CRED_USERNAME, CRED_PASSWORD, '',
               '', int(rng.random() < 0.1), created, None, None, None, created, 0,
               (cid - 1) * CONTACTS_PER_CLIENT + 1, 0, cid)


def rbac_2608(con):
    """An ITFlow v26.08 database (api_keys.api_key_user_id): the same two keys, each running as a
    user whose rights match the v26.07 key's scope: key 1 as an admin (every client), key 2 as a
    user of a non-admin role with level 3 on every module and an allow list of client 1."""
    modules = ['module_client', 'module_support', 'module_credential', 'module_sales',
               'module_financial', 'module_reporting']
    con.executemany('INSERT INTO modules (module_id, module_name, module_description) '
                    'VALUES (?, ?, ?)', [(i + 1, m, m) for i, m in enumerate(modules)])
    con.executemany('INSERT INTO user_roles (role_id, role_name, role_description, role_type, '
                    'role_is_admin, role_created_at) VALUES (?, ?, ?, 1, ?, ?)',
                    [(1, 'Administrator', 'admin', 1, '2026-12-01 10:00:00'),
                     (2, 'Client one', 'level 3 everywhere', 0, '2026-12-01 10:00:00')])
    con.executemany('INSERT INTO user_role_permissions (user_role_id, module_id, '
                    'user_role_permission_level) VALUES (2, ?, 3)',
                    [(i + 1,) for i in range(len(modules))])
    con.executemany('INSERT INTO users (user_id, user_name, user_email, user_password, '
                    'user_type, user_status, user_created_at, user_role_id) '
                    'VALUES (?, ?, ?, ?, 1, 1, ?, ?)',
                    [(1, 'Bench Admin', 'admin@bench.local', '!', '2026-12-01 10:00:00', 1),
                     (2, 'Bench Client One', 'one@bench.local', '!', '2026-12-01 10:00:00', 2)])
    con.execute("INSERT INTO user_client_permissions (user_id, client_id, permission_type) "
                "VALUES (2, 1, 'allow')")
    con.executemany('INSERT INTO api_keys (api_key_id, api_key_name, api_key_secret, '
                    'api_key_decrypt_hash, api_key_created_at, api_key_expire, api_key_user_id) '
                    'VALUES (?,?,?,?,?,?,?)', [k[:6] + (k[0],) for k in API_KEYS])


def main():
    if len(sys.argv) != 2:
        sys.exit('usage: gen_dataset.py DB')
    t0 = time.monotonic()
    rng = random.Random(SEED)
    con = sqlite3.connect(sys.argv[1], isolation_level=None)
    con.execute('PRAGMA synchronous=OFF')
    con.execute('PRAGMA foreign_keys=OFF')
    con.execute('PRAGMA cache_size=-262144')  # 256 MiB page cache while loading
    if con.execute('SELECT count(*) FROM clients').fetchone()[0]:
        sys.exit('gen_dataset.py: %s is not empty' % sys.argv[1])
    con.execute('BEGIN')
    con.execute("INSERT INTO companies (company_id, company_name, company_address, company_city, "
                "company_state, company_zip, company_country, company_phone, company_email, "
                "company_website, company_locale, company_currency, company_tax_id, "
                "company_created_at, company_updated_at) VALUES (1, 'Oracle MSP', "
                "'1 Loopback Way', 'Localhost', 'CA', '90000', 'United States', '5555550100', "
                "'msp@oracle.local', 'oracle.local', 'en_US', 'USD', '', '2026-11-28 12:51:40', "
                "'2026-11-28 12:51:40')")
    v2608 = 'api_key_user_id' in {r[1] for r in con.execute('PRAGMA table_info(api_keys)')}
    con.execute("INSERT INTO settings (company_id, config_current_database_version, "
                "config_ticket_prefix, config_ticket_next_number) VALUES (1, ?, 'TCK-', ?)",
                ('2.6.6' if v2608 else '2.4.4', N_TICKETS + 1))
    con.executemany('INSERT INTO ticket_statuses (ticket_status_id, ticket_status_name, '
                    'ticket_status_color, ticket_status_active, ticket_status_order) '
                    'VALUES (?,?,?,?,?)', TICKET_STATUSES)
    if v2608:
        rbac_2608(con)
    else:
        con.executemany('INSERT INTO api_keys (api_key_id, api_key_name, api_key_secret, '
                        'api_key_decrypt_hash, api_key_created_at, api_key_expire, '
                        'api_key_client_id) VALUES (?,?,?,?,?,?,?)', API_KEYS)
    for table, gen in (('clients', clients), ('contacts', contacts), ('assets', assets),
                       ('asset_interfaces', interfaces), ('tickets', tickets),
                       ('credentials', credentials)):
        t = time.monotonic()
        insert(con, table, gen(rng))
        print('  %-17s %7d rows  %.1fs' % (table, con.execute('SELECT count(*) FROM ' + table)
                                           .fetchone()[0], time.monotonic() - t), flush=True)
    con.execute('COMMIT')
    con.execute('PRAGMA wal_checkpoint(TRUNCATE)')  # no ANALYZE: plans as on an imported ITFlow db
    con.close()
    print('dataset generated in %.1fs' % (time.monotonic() - t0))


if __name__ == '__main__':
    main()

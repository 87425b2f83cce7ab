#!/usr/bin/env python3
"""Hostile-input table for itflowd (COMPAT F1, F2, F15, F19; the "bad-input table" requirement).

usage: python3 tests/api/test_hostile.py PATH/TO/itflowd [-v] [TestClass[.test_name] ...]

Every row of the tables below is one generated test. Python 3 standard library only; the servers
are started here on 127.0.0.1 (free ports, TZ=UTC, a private database each: `init --schema-only` +
the shared conformance seed from $ITFLOWD_SHARED or <repo>/../shared) and stopped at the end.
Exit status 0 only when every test passed; an unexpected success of a row marked as a known bug
also fails the run, so the marker gets removed with the fix. ITFLOWD_HOSTILE_NO_XFAIL=1 runs the
known-bug rows as ordinary tests (to see what they get); ITFLOWD_KEEP=1 keeps logs and databases.

  HostileTests   HOSTILE: requests http.client can send. Each must be answered with a 4xx and the
                 JSON error body {"success":"False","message":...} (Content-Type application/json;
                 the fixed v1 texts byte for byte).
  RawTests       RAW: requests only a raw socket can send (NUL bytes in the request line and in
                 headers, 1 MiB headers and URLs, malformed request lines, absurd Content-Length,
                 20 MiB bodies, slowloris). Where libmicrohttpd rejects the request before itflowd
                 sees it, a non-JSON 4xx or a closed connection is accepted (said at the row).
  AcceptedTests  ACCEPTED: hostile-looking requests the reference answers normally and COMPAT
                 keeps (SQL metacharacters in every filter are data, saturating limits, out-of-range
                 ids on writes, unparseable GET bodies ignored): the exact 200 answer, nothing
                 written.
  LiteralTests   LITERAL: writes whose hostile text must be stored literally (SQL metacharacters,
                 LIKE wildcards, backslashes, NUL escapes, wrong Content-Type with a JSON body (K7),
                 the abbreviation cut (K11)), run on a second server and database: the stored value
                 is checked exactly, read back through the API, and no other table changes.

After every HOSTILE/RAW/ACCEPTED row: the server process is alive, GET /healthz answers 200, a
normal read answers byte for byte as before, and the database is unchanged (iterdump of every
table; the `logs` table is compared separately: the only rows allowed to appear are `API/Failed`
rows, and only when the answer was a 401). A row that kills the server fails; the server is then
restarted on the same database for the rows after it, and any death after a row that is not a
known bug fails the run (under ASan/UBSan a sanitizer report is such a death).

The server under test runs with --auth-fail-limit 0 (A6 throttling off): the table deliberately
sends many invalid keys from 127.0.0.1, and a 429 would block the normal read after each row.
"""
import atexit
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
from urllib.parse import quote, urlencode

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_api as base  # noqa: E402  (helpers: Server, make_seeded_db, keys, messages)

ALL_KEY, C1_KEY, C2_KEY, DECRYPT_PW = base.ALL_KEY, base.C1_KEY, base.C2_KEY, base.DECRYPT_PW
KEYS = {"all": ALL_KEY, "c1": C1_KEY, "c2": C2_KEY}

MSG_NO_RESOURCE = (b'{"success":"False","message":"No resource (for this client and company) '
                   b'with the specified parameter(s)."}')
MSG_INSERT_FAILED = (
    b'{"success":"False","message":"Auth success but insert query failed, ensure ALL required '
    b"variables are provided (and aren't duplicates where applicable) and database schema is "
    b"up-to-date. Turn on error logging and look for 'undefined index'.\"}")
MSG_UPDATE_FAILED = base.MSG_UPDATE_FAILED
MSG_DELETE_FAILED = (
    b'{"success":"False","message":"Auth success but delete query failed. Ensure ALL required '
    b"variables are provided and database schema is up-to-date. Most likely cause: "
    b'asset\\/client\\/company ID mismatch."}')
MSG_METHOD = base.MSG_METHOD_NOT_ALLOWED
MSG_UNKNOWN = base.MSG_UNKNOWN_ENDPOINT

MiB = 1 << 20
# message parts (F19's prefix; the F2 messages name the field and say what is wrong)
NOT_JSON = "The request body is not a valid JSON object: "
TOP_ARRAY, TOP_SCALAR = "top-level value is an array", "top-level value is a scalar"
NESTED = "nested deeper than"
LONGER = "longer than"
BAD_DATE = "is not a valid date"
NEGATIVE = "must be zero or a positive number"
SINGLE = "must be a single value"
RANGE = "out of range"
AUTH_FAILED = "Authentication failed"
UNKNOWN = "Unknown endpoint"
SERVER = None   # the server under test for HOSTILE, RAW and ACCEPTED (database must not change)
LITERAL = None  # the second server, for LITERAL (writes)
BASELINE = None  # the normal read's answer before any row ran


# ---------------------------------------------------------------------------------------------
# Row constructors
# ---------------------------------------------------------------------------------------------

def J(obj):
    return json.dumps(obj).encode("utf-8")


def nest(depth, inner=b'"x"', kind="array"):
    if kind == "array":
        return b"[" * depth + inner + b"]" * depth
    return b'{"a":' * depth + inner + b"}" * depth


def H(name, cat, method, target, body=None, headers=None, key="c1", status=400, words=(),
      allow=None, bug=None):
    """A HOSTILE row. target: raw path[?query] as sent; the key (KEYS name, a literal string, or
    None) is appended as api_key=... unless key is None. status: the expected 4xx (or a tuple).
    words: the message must contain each (case-insensitive). allow: the expected Allow header.
    bug: a known server bug (the row is marked expectedFailure; see the # BUG: comment).
    The fixed v1 texts (K5, F1, F15) are compared byte for byte."""
    exact = {UNKNOWN: MSG_UNKNOWN, AUTH_FAILED: base.MSG_AUTH_FAILED,
             "Method not allowed": MSG_METHOD, "Can only send GET": base.MSG_GET_ONLY,
             "Can only send POST": base.MSG_POST_ONLY}.get(words[0] if len(words) == 1 else None)
    return dict(name=name, cat=cat, method=method, target=target, body=body,
                headers=headers or {}, key=key, status=status, words=tuple(words), allow=allow,
                bug=bug, exact=exact)


def post(name, cat, endpoint, body, key="c1", status=400, words=(), headers=None, bug=None):
    return H(name, cat, "POST", "/api/v1/%s.php" % endpoint, body=body, headers=headers, key=key,
             status=status, words=words, bug=bug)


def get(name, cat, endpoint, query="", key="c1", status=400, words=(), body=None, headers=None,
        bug=None):
    target = "/api/v1/%s.php" % endpoint + ("?" + query if query else "")
    return H(name, cat, "GET", target, body=body, headers=headers, key=key, status=status,
             words=words, bug=bug)


PW = {"api_key_decrypt_password": DECRYPT_PW}


def cred(**fields):
    d = dict(PW, credential_name="Hostile cred", credential_password="pw")
    d.update(fields)
    return J(d)


# ---------------------------------------------------------------------------------------------
# HOSTILE: 4xx + JSON error, server up, database unchanged
# ---------------------------------------------------------------------------------------------

HOSTILE = [
    # --- invalid JSON on write endpoints (F19: 400, the message names JSON) ----------------------
    post("truncated_object", "invalid_json", "clients/create", b'{"client_name": "Trunc"', "all",
         words=[NOT_JSON]),
    post("truncated_string", "invalid_json", "contacts/create", b'{"contact_name": "Tru',
         words=[NOT_JSON]),
    post("trailing_garbage", "invalid_json", "locations/create",
         b'{"location_name":"Garbage HQ"} xyz', words=[NOT_JSON]),
    post("two_concatenated_objects", "invalid_json", "assets/create",
         b'{"asset_name":"A"}{"asset_name":"B"}', words=[NOT_JSON]),
    post("single_quoted_strings", "invalid_json", "assets/create", b"{'asset_name': 'Quoted'}",
         words=[NOT_JSON]),
    post("block_comment", "invalid_json", "tickets/create",
         b'{"ticket_subject":"c" /* comment */}', words=[NOT_JSON]),
    post("line_comment", "invalid_json", "tickets/create", b'// c\n{"ticket_subject":"c"}',
         words=[NOT_JSON]),
    post("nan_literal", "invalid_json", "clients/create",
         b'{"client_name":"NaN Co","client_rate":NaN}', "all", words=[NOT_JSON]),
    post("infinity_literal", "invalid_json", "assets/create",
         b'{"asset_name":"Inf","asset_vendor_id":Infinity}', words=[NOT_JSON]),
    post("minus_infinity_literal", "invalid_json", "contacts/create",
         b'{"contact_name":"I","contact_email":"i@acme.example","contact_location_id":-Infinity}',
         words=[NOT_JSON]),
    post("lone_high_surrogate", "invalid_json", "documents/create",
         b'{"document_name":"bad \\ud800","document_content":"x"}', words=[NOT_JSON]),
    post("lone_low_surrogate", "invalid_json", "credentials/create",
         cred(credential_name="X")[:-1] + b',"credential_note":"\\udc00"}', words=[NOT_JSON]),
    post("reversed_surrogate_pair", "invalid_json", "certificates/create",
         b'{"certificate_name":"\\udc00\\ud800","certificate_domain":"r.example"}',
         words=[NOT_JSON]),
    post("invalid_utf8_byte_ff", "invalid_json", "certificates/create",
         b'{"certificate_name":"bad \xff","certificate_domain":"ff.example"}', words=[NOT_JSON]),
    post("invalid_utf8_in_object_key", "invalid_json", "contacts/update",
         b'{"contact_id":2,"contact_\xc3\x28title":"x"}', words=[NOT_JSON]),
    post("overlong_utf8_slash", "invalid_json", "locations/create",
         b'{"location_name":"..\xc0\xaf..\xc0\xafetc"}', words=[NOT_JSON]),
    post("overlong_utf8_nul", "invalid_json", "tickets/create",
         b'{"ticket_subject":"a\xc0\x80b"}', words=[NOT_JSON]),
    post("utf8_encoded_surrogate", "invalid_json", "documents/update",
         b'{"document_id":1,"document_name":"s\xed\xa0\x80"}', words=[NOT_JSON]),
    post("utf8_above_u10ffff", "invalid_json", "clients/update",
         b'{"client_name":"big \xf4\x90\x80\x80"}', words=[NOT_JSON]),
    post("truncated_utf8_sequence", "invalid_json", "assets/update",
         b'{"asset_id":1,"asset_name":"cut \xe2\x82"}', words=[NOT_JSON]),
    post("utf8_bom_prefix", "invalid_json", "clients/update",
         b'\xef\xbb\xbf{"client_name":"BOM"}', words=[NOT_JSON]),
    post("utf16le_body", "invalid_json", "locations/create",
         '{"location_name":"UTF-16 HQ"}'.encode("utf-16-le"), words=[NOT_JSON]),
    post("unquoted_key", "invalid_json", "contacts/create",
         b'{contact_name: "x", contact_email: "uq@acme.example"}', words=[NOT_JSON]),
    post("trailing_comma", "invalid_json", "locations/create", b'{"location_name":"Comma",}',
         words=[NOT_JSON]),
    post("raw_control_char_in_string", "invalid_json", "tickets/create",
         b'{"ticket_subject":"a\x01b"}', words=[NOT_JSON]),
    post("raw_newline_in_string", "invalid_json", "documents/create",
         b'{"document_name":"a\nb","document_content":"x"}', words=[NOT_JSON]),
    post("invalid_escape", "invalid_json", "assets/create", b'{"asset_name":"\\x41"}',
         words=[NOT_JSON]),
    post("bare_open_brace", "invalid_json", "credentials/create", b"{", words=[NOT_JSON]),
    post("misspelled_literal", "invalid_json", "certificates/create",
         b'{"certificate_name":tru}', words=[NOT_JSON]),
    post("raw_nul_byte_in_body", "invalid_json", "locations/create",
         b'{"location_name":"a\x00b"}', words=[NOT_JSON]),
    post("hex_number", "invalid_json", "clients/create",
         b'{"client_name":"Hex","client_net_terms":0x10}', "all", words=[NOT_JSON]),
    post("leading_zero_number", "invalid_json", "contacts/create",
         b'{"contact_name":"Z","contact_email":"z@acme.example","contact_location_id":012}',
         words=[NOT_JSON]),
    post("plus_sign_number", "invalid_json", "assets/create",
         b'{"asset_name":"P","asset_vendor_id":+1}', words=[NOT_JSON]),
    post("nul_byte_only_body", "invalid_json", "tickets/resolve", b"\x00", words=[NOT_JSON]),
    post("form_encoded_update", "invalid_json", "contacts/update",
         b"contact_id=2&contact_title=Form", words=[NOT_JSON],
         headers={"Content-Type": "application/x-www-form-urlencoded"}),
    # --- top-level values that are not objects (F19) --------------------------------------------
    post("empty_array_body", "non_object", "clients/update", b"[]", words=[TOP_ARRAY, NOT_JSON]),
    post("array_of_objects_body", "non_object", "contacts/create",
         J([{"contact_name": "Arr", "contact_email": "arr@acme.example"}]),
         words=[TOP_ARRAY, NOT_JSON]),
    post("string_body", "non_object", "assets/delete", b'"asset_id=1"',
         words=[TOP_SCALAR, NOT_JSON]),
    post("null_body", "non_object", "tickets/resolve", b"null", words=[TOP_SCALAR, NOT_JSON]),
    post("true_body", "non_object", "contacts/archive", b"true", words=[TOP_SCALAR, NOT_JSON]),
    post("number_body", "non_object", "documents/create", b"123", words=[TOP_SCALAR, NOT_JSON]),
    post("negative_number_body", "non_object", "credentials/update", b"-1",
         words=[TOP_SCALAR, NOT_JSON]),
    post("nested_array_body", "non_object", "certificates/create",
         J([[{"certificate_name": "x", "certificate_domain": "x.example"}]]),
         words=[TOP_ARRAY, NOT_JSON]),
    # --- deep nesting (PHP json_decode's depth 512) -------------------------------------------
    post("depth_513_arrays_in_field", "nesting", "locations/create",
         b'{"location_name":' + nest(513) + b"}", words=[NESTED, NOT_JSON]),
    post("depth_513_objects_in_field", "nesting", "contacts/update",
         b'{"contact_id":2,"contact_notes":' + nest(513, kind="object") + b"}",
         words=[NESTED, NOT_JSON]),
    post("depth_600_top_level_arrays", "nesting", "tickets/create", nest(600),
         words=[NESTED, NOT_JSON]),
    post("depth_100000_unclosed_objects", "nesting", "assets/create", b'{"a":' * 100000,
         words=[NOT_JSON]),
    post("depth_513_in_ignored_key", "nesting", "locations/create",
         b'{"location_name":"Deep HQ","junk":' + nest(513) + b"}", words=[NESTED, NOT_JSON]),
    # --- NUL bytes --------------------------------------------------------------------------
    # a NUL inside the key must not cut the key short: "<key>\0x" is another key
    post("nul_escape_in_body_api_key", "nul", "locations/create",
         J({"api_key": C1_KEY + "\u0000x", "location_name": "NUL key"}), key=None, status=401,
         words=[AUTH_FAILED]),
    get("nul_in_query_api_key", "nul", "clients/read", "api_key=%s%%00junk" % ALL_KEY, key=None,
        status=401, words=[AUTH_FAILED]),
    get("nul_only_api_key", "nul", "contacts/read", "api_key=%00", key=None, status=401,
        words=[AUTH_FAILED]),
    # a key with a NUL anywhere is invalid, even where sanitizeInput (strip_tags + trim) would
    # remove the NUL and leave a valid key, as the reference does
    get("trailing_nul_on_query_key", "nul", "clients/read", "api_key=%s%%00" % C1_KEY, key=None,
        status=401, words=[AUTH_FAILED]),
    get("leading_nul_on_query_key", "nul", "clients/read", "api_key=%%00%s" % C1_KEY, key=None,
        status=401, words=[AUTH_FAILED]),
    post("nul_escape_around_body_api_key", "nul", "locations/create",
         J({"api_key": "\u0000" + C1_KEY + "\u0000", "location_name": "NUL key"}), key=None,
         status=401, words=[AUTH_FAILED]),
    post("nul_escape_in_object_key", "nul", "locations/create",
         b'{"location_name\\u0000x":"y","location_name":"ok"}', words=[NOT_JSON]),
    # --- wrong types (F2: 400 naming the field) ---------------------------------------------
    post("array_client_name", "wrong_type", "clients/update", J({"client_name": ["x"]}),
         words=["client_name"]),
    post("array_contact_id_update", "wrong_type", "contacts/update",
         J({"contact_id": [2], "contact_title": "x"}), words=["contact_id"]),
    post("object_contact_id_archive", "wrong_type", "contacts/archive",
         J({"contact_id": {"id": 2}}), words=["contact_id"]),
    post("array_asset_id_delete", "wrong_type", "assets/delete", J({"asset_id": [1]}),
         words=["asset_id"]),
    post("object_ticket_id_resolve", "wrong_type", "tickets/resolve", J({"ticket_id": {}}),
         words=["ticket_id"]),
    post("object_credential_name", "wrong_type", "credentials/create",
         cred(credential_name={"a": 1}), words=["credential_name"]),
    post("array_document_content", "wrong_type", "documents/create",
         J({"document_name": "D", "document_content": ["<p>x</p>"]}),
         words=["document_content"]),
    post("empty_array_certificate_domain", "wrong_type", "certificates/create",
         J({"certificate_name": "C", "certificate_domain": []}), words=["certificate_domain"]),
    post("array_body_client_id", "wrong_type", "tickets/create",
         J({"ticket_subject": "T", "client_id": [1]}), "all", words=["client_id"]),
    post("object_body_client_id", "wrong_type", "contacts/create",
         J({"contact_name": "O", "contact_email": "o@acme.example", "client_id": {"a": 1}}),
         "all", words=["client_id"]),
    post("object_asset_type", "wrong_type", "assets/create",
         J({"asset_name": "A", "asset_type": {"x": 1}}), words=["asset_type"]),
    post("array_location_primary", "wrong_type", "locations/create",
         J({"location_name": "L", "location_primary": [1]}), words=["location_primary"]),
    post("array_api_key_in_body", "wrong_type", "clients/update",
         J({"api_key": [C1_KEY], "client_name": "x"}), key=None, words=["api_key"]),
    get("object_api_key_in_get_body", "wrong_type", "clients/read", key=None,
        body=J({"api_key": {"k": ALL_KEY}}), words=["api_key"]),
    post("array_decrypt_password", "wrong_type", "credentials/create",
         cred(api_key_decrypt_password=[DECRYPT_PW]), words=["api_key_decrypt_password"]),
    post("array_asset_ip", "wrong_type", "assets/update",
         J({"asset_id": 1, "asset_ip": ["10.0.0.1"]}), words=["asset_ip"]),
    post("array_ticket_details", "wrong_type", "tickets/create",
         J({"ticket_subject": "T", "ticket_details": [1, 2]}), words=["ticket_details"]),
    post("object_client_rate", "wrong_type", "clients/update", J({"client_rate": {"v": 1}}),
         words=["client_rate"]),
    post("array_document_id_update", "wrong_type", "documents/update",
         J({"document_id": [1], "document_name": "x"}), words=["document_id"]),
    post("object_credential_id_update", "wrong_type", "credentials/update",
         J(dict(PW, credential_id={"id": 1}, credential_name="x")), words=["credential_id"]),
    post("object_contact_email", "wrong_type", "contacts/update",
         J({"contact_id": 2, "contact_email": {"e": "x@acme.example"}}), words=["contact_email"]),
    # --- huge numbers (F2: out of range -> 400; beyond double/int64 -> not valid JSON) ---------
    post("client_rate_1e400", "huge_number", "clients/update", b'{"client_rate":1e400}',
         words=[NOT_JSON]),
    post("int_beyond_int64", "huge_number", "contacts/create",
         b'{"contact_name":"B","contact_email":"b@acme.example",'
         b'"contact_location_id":99999999999999999999999}', words=[NOT_JSON]),
    post("negative_int_beyond_int64", "huge_number", "assets/update",
         b'{"asset_id":-99999999999999999999999,"asset_name":"x"}', words=[NOT_JSON]),
    post("network_id_minus_1e19", "huge_number", "assets/create",
         b'{"asset_name":"N","asset_network_id":-1e19}', words=[RANGE, "asset_network_id"]),
    post("ticket_contact_id_int64_max", "huge_number", "tickets/create",
         b'{"ticket_subject":"T","ticket_contact_id":9223372036854775807}',
         words=[RANGE, "ticket_contact_id"]),
    post("client_net_terms_2147483648", "huge_number", "clients/update",
         b'{"client_net_terms":2147483648}', words=[RANGE, "client_net_terms"]),
    post("client_rate_1e15", "huge_number", "clients/update", b'{"client_rate":1e15}',
         words=[RANGE, "client_rate"]),
    post("client_rate_string_1e400", "huge_number", "clients/update",
         b'{"client_rate":"1e400"}', words=[RANGE, "client_rate"]),
    post("client_rate_minus_1e13", "huge_number", "clients/update", b'{"client_rate":-1e13}',
         words=[RANGE, "client_rate"]),
    post("ticket_billable_128", "huge_number", "tickets/create",
         b'{"ticket_subject":"T","ticket_billable":128}', words=[RANGE, "ticket_billable"]),
    post("location_primary_minus_129", "huge_number", "locations/create",
         b'{"location_name":"L","location_primary":-129}', words=[RANGE, "location_primary"]),
    post("folder_id_saturating_string", "huge_number", "documents/create",
         b'{"document_name":"D","document_content":"x","document_folder_id":'
         b'"99999999999999999999"}', words=[RANGE, "document_folder_id"]),
    post("credential_favorite_1e10", "huge_number", "credentials/create",
         cred(credential_favorite=1e10), words=[RANGE, "credential_favorite"]),
    post("certificate_domain_id_2147483648", "huge_number", "certificates/create",
         J({"certificate_name": "C", "certificate_domain": "c.example",
            "certificate_domain_id": 2147483648}), words=[RANGE, "certificate_domain_id"]),
    post("body_client_id_minus_1", "huge_number", "locations/create",
         J({"location_name": "L", "client_id": -1}), "all", words=[RANGE, "client_id"]),
    post("asset_contact_id_1e19", "huge_number", "assets/update",
         b'{"asset_id":1,"asset_contact_id":1e19}', words=[RANGE, "asset_contact_id"]),
    # --- negative and absurd limit/offset on lists (F2) -----------------------------------------
    get("limit_minus_1", "paging", "assets/read", "limit=-1", words=[NEGATIVE, "limit"]),
    get("limit_int64_min", "paging", "locations/read", "limit=-9223372036854775808",
        words=[NEGATIVE, "limit"]),
    get("offset_int64_min", "paging", "documents/read", "offset=-9223372036854775808",
        words=[NEGATIVE, "offset"]),
    get("limit_saturating_negative", "paging", "tickets/read",
        "limit=-99999999999999999999999", words=[NEGATIVE, "limit"]),
    get("limit_minus_1e3", "paging", "certificates/read", "limit=-1e3", words=[NEGATIVE, "limit"]),
    get("limit_minus_1e19", "paging", "clients/read", "limit=-1e19", "all",
        words=[NEGATIVE, "limit"]),
    get("limit_leading_space_negative", "paging", "contacts/read", "limit=%20-5",
        words=[NEGATIVE, "limit"]),
    get("offset_minus_1_in_get_body", "paging", "assets/read", body=J({"offset": -1}),
        words=[NEGATIVE, "offset"]),
    get("limit_negative_string_in_get_body", "paging", "clients/read", key="all",
        body=J({"limit": "-7"}), words=[NEGATIVE, "limit"]),
    get("offset_negative_float_in_get_body", "paging", "tickets/read",
        body=b'{"offset":-2.5}', words=[NEGATIVE, "offset"]),
    get("limit_minus_1_credentials", "paging", "credentials/read",
        "limit=-1&" + urlencode(PW), words=[NEGATIVE, "limit"]),
    # --- over-long fields (F2: 400 naming the field, nothing written) ---------------------------
    post("client_name_201", "over_long", "clients/create", J({"client_name": "n" * 201}), "all",
         words=[LONGER, "client_name"]),
    post("contact_name_201_update", "over_long", "contacts/update",
         J({"contact_id": 2, "contact_name": "n" * 201}), words=[LONGER, "contact_name"]),
    post("asset_name_201_astral", "over_long", "assets/create",
         J({"asset_name": "\U0001F600" * 201}), words=[LONGER, "asset_name"]),
    post("ticket_subject_501", "over_long", "tickets/create", J({"ticket_subject": "s" * 501}),
         words=[LONGER, "ticket_subject"]),
    post("contact_notes_65536_bytes", "over_long", "contacts/update",
         J({"contact_id": 2, "contact_notes": "n" * 65536}), words=[LONGER, "contact_notes"]),
    post("client_notes_65536_bytes_multibyte", "over_long", "clients/update",
         J({"client_notes": "\u00e9" * 32768}), words=[LONGER, "client_notes"]),
    post("asset_notes_65536_bytes", "over_long", "assets/create",
         J({"asset_name": "Notes", "asset_notes": "n" * 65536}), words=[LONGER, "asset_notes"]),
    post("contact_email_5000", "over_long", "contacts/create",
         J({"contact_name": "Long mail", "contact_email": "e" * 4988 + "@acme.example"}),
         words=[LONGER, "contact_email"]),
    post("certificate_domain_201", "over_long", "certificates/create",
         J({"certificate_name": "C", "certificate_domain": "d" * 201}),
         words=[LONGER, "certificate_domain"]),
    post("credential_uri_501", "over_long", "credentials/create",
         cred(credential_uri="u" * 501), words=[LONGER, "credential_uri"]),
    post("credential_password_300", "over_long", "credentials/create",
         cred(credential_password="p" * 300), words=[LONGER, "credential_password"]),
    post("document_name_201_update", "over_long", "documents/update",
         J({"document_id": 1, "document_name": "d" * 201}), words=[LONGER, "document_name"]),
    post("document_description_65536", "over_long", "documents/create",
         J({"document_name": "D", "document_content": "x", "document_description": "d" * 65536}),
         words=[LONGER, "document_description"]),
    post("location_zip_201", "over_long", "locations/create",
         J({"location_name": "Zip", "location_zip": "9" * 201}), words=[LONGER, "location_zip"]),
    post("client_website_201_after_scheme", "over_long", "clients/update",
         J({"client_website": "http://" + "w" * 201}), words=[LONGER, "client_website"]),
    post("ticket_priority_201", "over_long", "tickets/create",
         J({"ticket_subject": "P", "ticket_priority": "p" * 201}),
         words=[LONGER, "ticket_priority"]),
    post("asset_uri_501_update", "over_long", "assets/update",
         J({"asset_id": 1, "asset_uri": "u" * 501}), words=[LONGER, "asset_uri"]),
    post("contact_title_201_create", "over_long", "contacts/create",
         J({"contact_name": "T", "contact_email": "t@acme.example", "contact_title": "t" * 201}),
         words=[LONGER, "contact_title"]),
    # --- invalid dates (F2) ---------------------------------------------------------------
    post("date_2024_02_30", "invalid_date", "assets/create",
         J({"asset_name": "D", "asset_purchase_date": "2024-02-30"}),
         words=[BAD_DATE, "asset_purchase_date"]),
    # (the zero date 0000-00-00 itself is valid: the reference stores it, issue 11)
    post("date_0000_01_01", "invalid_date", "assets/create",
         J({"asset_name": "D", "asset_warranty_expire": "0000-01-01"}),
         words=[BAD_DATE, "asset_warranty_expire"]),
    post("date_two_digit_year", "invalid_date", "assets/create",
         J({"asset_name": "D", "asset_install_date": "24-01-01"}),
         words=[BAD_DATE, "asset_install_date"]),
    post("date_month_13", "invalid_date", "certificates/create",
         J({"certificate_name": "C", "certificate_domain": "c.example",
            "certificate_expire": "2024-13-01"}), words=[BAD_DATE, "certificate_expire"]),
    post("date_notadate_update", "invalid_date", "assets/update",
         J({"asset_id": 1, "asset_purchase_date": "notadate"}),
         words=[BAD_DATE, "asset_purchase_date"]),
    post("datetime_hour_25", "invalid_date", "assets/update",
         J({"asset_id": 1, "asset_warranty_expire": "2024/06/12 25:00:00"}),
         words=[BAD_DATE, "asset_warranty_expire"]),
    post("date_month_00", "invalid_date", "certificates/create",
         J({"certificate_name": "C", "certificate_domain": "c.example",
            "certificate_expire": "2024-00-10"}), words=[BAD_DATE, "certificate_expire"]),
    post("date_feb_29_2023", "invalid_date", "assets/update",
         J({"asset_id": 3, "asset_install_date": "2023-02-29"}),
         words=[BAD_DATE, "asset_install_date"]),
    post("datetime_minute_60", "invalid_date", "assets/create",
         J({"asset_name": "D", "asset_warranty_expire": "2024-06-12 23:60:00"}),
         words=[BAD_DATE, "asset_warranty_expire"]),
    post("date_9999_99_99", "invalid_date", "certificates/create",
         J({"certificate_name": "C", "certificate_domain": "c.example",
            "certificate_expire": "9999-99-99"}), words=[BAD_DATE, "certificate_expire"]),
    post("date_with_zone_suffix", "invalid_date", "assets/create",
         J({"asset_name": "D", "asset_purchase_date": "2024-06-12T10:00:00Z"}),
         words=[BAD_DATE, "asset_purchase_date"]),
    post("date_as_number_20240230", "invalid_date", "assets/create",
         J({"asset_name": "D", "asset_purchase_date": 20240230}),
         words=[BAD_DATE, "asset_purchase_date"]),
    post("date_negative_year", "invalid_date", "certificates/create",
         J({"certificate_name": "C", "certificate_domain": "c.example",
            "certificate_expire": "-2024-01-01"}), words=[BAD_DATE, "certificate_expire"]),
    post("date_array", "invalid_date", "assets/create",
         J({"asset_name": "D", "asset_install_date": ["2024-01-01"]}),
         words=["asset_install_date"]),
    # --- path traversal and encoded separators (F15: 404 JSON) ---------------------------------
    H("dotdot_etc_passwd", "path_traversal", "GET", "/api/v1/../../etc/passwd", status=404,
      words=[UNKNOWN]),
    H("encoded_dotdot_slash_etc_passwd", "path_traversal", "GET",
      "/api/v1/clients/..%2f..%2fetc%2fpasswd", status=404, words=[UNKNOWN]),
    H("dotdot_after_endpoint", "path_traversal", "GET", "/api/v1/clients/read.php/../../x",
      status=404, words=[UNKNOWN]),
    H("encoded_dots", "path_traversal", "GET", "/api/v1/%2e%2e/%2e%2e/etc/passwd", status=404,
      words=[UNKNOWN]),
    H("encoded_slash_after_endpoint", "path_traversal", "GET",
      "/api/v1/clients/read.php%2f..%2f..%2fx", status=404, words=[UNKNOWN]),
    H("backslash_traversal", "path_traversal", "GET",
      "/api/v1/clients/read.php\\..\\..\\windows\\win.ini", status=404,
      words=[UNKNOWN]),
    H("encoded_backslash_traversal", "path_traversal", "GET",
      "/api/v1/..%5c..%5cetc%5cpasswd", status=404, words=[UNKNOWN]),
    H("encoded_slash_between_module_and_function", "path_traversal", "GET",
      "/api/v1/clients%2Fread.php", status=404, words=[UNKNOWN]),
    H("encoded_nul_in_path", "path_traversal", "GET", "/api/v1/clients/read.php%00.txt",
      status=404, words=[UNKNOWN]),
    H("encoded_dotdot_between_modules", "path_traversal", "GET",
      "/api/v1/clients/%2e%2e/contacts/read.php", status=404, words=[UNKNOWN]),
    H("root_dotdot_etc_passwd", "path_traversal", "GET", "/../../../../etc/passwd", status=404,
      words=[UNKNOWN]),
    H("openapi_dotdot", "path_traversal", "GET", "/api/v1/openapi.json/../clients/read.php",
      status=404, words=[UNKNOWN]),
    H("healthz_dotdot", "path_traversal", "GET", "/healthz/../api/v1/clients/read.php",
      status=404, words=[UNKNOWN]),
    H("backup_suffix", "path_traversal", "GET", "/api/v1/clients/read.php.bak", status=404,
      words=[UNKNOWN]),
    H("upper_case_suffix", "path_traversal", "GET", "/api/v1/clients/read.PHP", status=404,
      words=[UNKNOWN]),
    # --- unknown endpoints and helper files (F15) -------------------------------------------
    H("helper_read_output", "unknown_endpoint", "GET", "/api/v1/contacts/read_output.php",
      status=404, words=[UNKNOWN]),
    H("helper_client_model", "unknown_endpoint", "POST", "/api/v1/clients/client_model.php",
      body=J({"client_name": "x"}), status=404, words=[UNKNOWN]),
    H("helper_ticket_model", "unknown_endpoint", "GET", "/api/v1/tickets/ticket_model.php",
      status=404, words=[UNKNOWN]),
    H("helper_validate_api_key", "unknown_endpoint", "POST", "/api/v1/validate_api_key.php",
      body=b"{}", status=404, words=[UNKNOWN]),
    H("helper_require_post_method", "unknown_endpoint", "GET",
      "/api/v1/require_post_method.php", status=404, words=[UNKNOWN]),
    H("module_without_function", "unknown_endpoint", "GET", "/api/v1/assets/", status=404,
      words=[UNKNOWN]),
    H("module_without_slash", "unknown_endpoint", "GET", "/api/v1/assets", status=404,
      words=[UNKNOWN]),
    H("api_root", "unknown_endpoint", "GET", "/api/v1/", status=404, words=[UNKNOWN]),
    H("upper_case_module", "unknown_endpoint", "GET", "/api/v1/CLIENTS/read.php", status=404,
      words=[UNKNOWN]),
    H("dotenv", "unknown_endpoint", "GET", "/.env", status=404, words=[UNKNOWN]),
    H("double_php_suffix", "unknown_endpoint", "GET", "/api/v1/clients/read.php.php",
      status=404, words=[UNKNOWN]),
    H("users_table_not_a_module", "unknown_endpoint", "GET", "/api/v1/users/read.php",
      status=404, words=[UNKNOWN]),
    H("api_keys_table_not_a_module", "unknown_endpoint", "GET", "/api/v1/api_keys/read.php",
      key="all", status=404, words=[UNKNOWN]),
    H("logs_table_not_a_module", "unknown_endpoint", "GET", "/api/v1/logs/read.php", key="all",
      status=404, words=[UNKNOWN]),
    H("settings_table_not_a_module", "unknown_endpoint", "POST",
      "/api/v1/settings/update.php", body=J({"config_ticket_next_number": 1}), key="all",
      status=404, words=[UNKNOWN]),
    H("index_php", "unknown_endpoint", "GET", "/index.php", status=404,
      words=[UNKNOWN]),
    H("clients_purge_does_not_exist", "unknown_endpoint", "POST", "/api/v1/clients/purge.php",
      body=J({"client_id": 1}), key="all", status=404, words=[UNKNOWN]),
    # --- duplicate parameters -----------------------------------------------------------------
    get("api_key_twice_bad_last", "duplicate_params", "clients/read",
        "api_key=%s&api_key=not-a-key-000000000000" % ALL_KEY, key=None, status=401,
        words=[AUTH_FAILED]),
    get("api_key_then_mangled_api_dot_key", "duplicate_params", "clients/read",
        "api_key=%s&api.key=not-a-key-000000000000" % ALL_KEY, key=None, status=401,
        words=[AUTH_FAILED]),
    get("api_key_then_mangled_api_space_key", "duplicate_params", "contacts/read",
        "api_key=%s&api%%20key=not-a-key-000000000000" % ALL_KEY, key=None, status=401,
        words=[AUTH_FAILED]),
    post("body_api_key_beats_query_key", "duplicate_params", "locations/create",
         J({"api_key": "not-a-key-000000000000", "location_name": "Body key"}), status=401,
         words=[AUTH_FAILED]),
    post("duplicate_api_key_in_body_bad_last", "duplicate_params", "locations/create",
         ('{"api_key":"%s","location_name":"Dup","api_key":"not-a-key-0000"}'
          % C1_KEY).encode(), key=None, status=401, words=[AUTH_FAILED]),
    get("get_body_api_key_beats_query_key", "duplicate_params", "clients/read", key="all",
        body=J({"api_key": "not-a-key-000000000000"}), status=401,
        words=[AUTH_FAILED]),
    get("query_key_beats_x_api_key_header", "duplicate_params", "clients/read",
        "api_key=not-a-key-000000000000", key=None, headers={"X-API-Key": ALL_KEY},
        status=401, words=[AUTH_FAILED]),
    get("limit_twice_negative_last", "duplicate_params", "clients/read", "limit=1&limit=-1",
        "all", words=["limit"]),
    get("offset_twice_negative_last", "duplicate_params", "contacts/read",
        "offset=0&offset=-5", words=["offset"]),
    post("duplicate_field_array_last", "duplicate_params", "locations/create",
         b'{"location_name":"ok","location_name":["x"]}', words=["location_name"]),
    post("duplicate_id_array_last", "duplicate_params", "contacts/update",
         b'{"contact_id":2,"contact_title":"Dup","contact_id":[2]}', words=["contact_id"]),
    # --- array-valued parameters (F2: 400 naming the parameter) -------------------------------
    get("api_key_array", "array_params", "clients/read", "api_key%%5B%%5D=%s" % ALL_KEY,
        key=None, words=[SINGLE, "api_key"]),
    get("api_key_keyed_array", "array_params", "tickets/read", "api_key%%5Bx%%5D=%s" % C1_KEY,
        key=None, words=[SINGLE, "api_key"]),
    get("contact_email_array", "array_params", "contacts/read",
        "contact_email%5B%5D=alice@acme.example", words=[SINGLE, "contact_email"]),
    get("asset_name_array", "array_params", "assets/read", "asset_name[]=ACME-LT-001",
        words=[SINGLE, "asset_name"]),
    get("asset_type_array", "array_params", "assets/read", "asset_type%5B%5D=laptop",
        words=[SINGLE, "asset_type"]),
    get("certificate_name_indexed_array", "array_params", "certificates/read",
        "certificate_name%5B0%5D=x", words=[SINGLE, "certificate_name"]),
    get("client_id_array_all_key", "array_params", "contacts/read", "client_id%5B%5D=1", "all",
        words=[SINGLE, "client_id"]),
    get("contact_id_array", "array_params", "contacts/read", "contact_id%5B%5D=1",
        words=[SINGLE, "contact_id"]),
    get("location_id_keyed_array", "array_params", "locations/read", "location_id%5Bx%5D=1",
        words=[SINGLE, "location_id"]),
    get("ticket_id_array", "array_params", "tickets/read", "ticket_id%5B%5D=1",
        words=[SINGLE, "ticket_id"]),
    get("asset_mac_array", "array_params", "assets/read", "asset_mac%5B%5D=AA",
        words=[SINGLE, "asset_mac"]),
    get("phone_or_mobile_array", "array_params", "contacts/read",
        "contact_phone_or_mobile%5B%5D=1", words=[SINGLE, "contact_phone_or_mobile"]),
    # --- headers ----------------------------------------------------------------------------
    post("user_agent_251_contacts_update", "headers", "contacts/update",
         J({"contact_id": 2, "contact_title": "UA"}), headers={"User-Agent": "U" * 251},
         words=["User-Agent"]),
    post("user_agent_251_assets_delete", "headers", "assets/delete", J({"asset_id": 1}),
         headers={"User-Agent": "U" * 251}, words=["User-Agent"]),
    post("user_agent_8k_clients_archive", "headers", "clients/archive", b"{}",
         headers={"User-Agent": "U" * 8000}, words=["User-Agent"]),
    # over --max-header (16 KiB) and --max-url (8 KiB), within libmicrohttpd's pool: JSON
    get("headers_over_16kib", "headers", "clients/read", headers={"X-Pad": "p" * 17000},
        status=431, words=["headers are too large"]),
    get("many_headers_over_16kib", "headers", "contacts/read",
        headers={"X-Pad-%03d" % i: "v" * 60 for i in range(300)}, status=431,
        words=["headers are too large"]),
    post("cookie_over_16kib_on_write", "headers", "locations/create",
         J({"location_name": "Big cookie HQ"}), headers={"Cookie": "c=" + "x" * 17000},
         status=431, words=["headers are too large"]),
    post("header_over_16kib_on_write", "headers", "locations/create",
         J({"location_name": "Big header HQ"}), headers={"X-Pad": "x" * 17000},
         status=431, words=["headers are too large"]),
    get("url_over_8kib", "headers", "clients/read", "client_name=" + "a" * 9000, "all",
        status=414, words=["URL is too long"]),
    H("url_over_8kib_on_write", "headers", "POST",
      "/api/v1/tickets/create.php?pad=" + "p" * 9000, body=J({"ticket_subject": "Long URL"}),
      status=414, words=["URL is too long"]),
    get("bearer_8k_garbage", "headers", "clients/read", key=None,
        headers={"Authorization": "Bearer " + "g" * 8192}, status=401,
        words=[AUTH_FAILED]),
    post("api_key_100kib_in_body", "headers", "locations/create",
         J({"api_key": "k" * 102400, "location_name": "Big key"}), key=None, status=401,
         words=[AUTH_FAILED]),
    get("x_api_key_4097", "headers", "contacts/read", key=None,
        headers={"X-API-Key": C1_KEY + "x" * (4097 - len(C1_KEY))}, status=401,
        words=[AUTH_FAILED]),
    # --- methods (F1: 405 JSON + Allow; K6: GET-only / POST-only) -----------------------------
    H("put_update", "methods", "PUT", "/api/v1/clients/update.php", body=J({"client_name": "x"}),
      status=405, words=["Method not allowed"], allow="GET, POST"),
    H("delete_contacts_delete", "methods", "DELETE", "/api/v1/contacts/delete.php",
      body=J({"contact_id": 2}), status=405, words=["Method not allowed"], allow="GET, POST"),
    H("trace_read", "methods", "TRACE", "/api/v1/clients/read.php", status=405,
      words=["Method not allowed"], allow="GET, POST"),
    H("lower_case_get", "methods", "get", "/api/v1/clients/read.php", status=405,
      words=["Method not allowed"], allow="GET, POST"),
    H("lower_case_post", "methods", "post", "/api/v1/locations/create.php",
      body=J({"location_name": "lower"}), status=405, words=["Method not allowed"],
      allow="GET, POST"),
    H("patch_update", "methods", "PATCH", "/api/v1/assets/update.php",
      body=J({"asset_id": 1, "asset_name": "x"}), status=405, words=["Method not allowed"],
      allow="GET, POST"),
    H("options_create", "methods", "OPTIONS", "/api/v1/tickets/create.php", status=405,
      words=["Method not allowed"], allow="GET, POST"),
    H("propfind_read", "methods", "PROPFIND", "/api/v1/documents/read.php", status=405,
      words=["Method not allowed"], allow="GET, POST"),
    H("trace_unknown_path", "methods", "TRACE", "/api/v1/nope/nope.php", status=405,
      words=["Method not allowed"], allow="GET, POST"),
    H("post_on_read", "methods", "POST", "/api/v1/certificates/read.php", body=b"{}",
      status=405, words=["Can only send GET"]),
    H("get_on_create", "methods", "GET", "/api/v1/locations/create.php", status=405,
      words=["Can only send POST"]),
    H("delete_healthz", "methods", "DELETE", "/healthz", key=None, status=405,
      words=["Method not allowed"], allow="GET, POST"),
]


# ---------------------------------------------------------------------------------------------
# RAW: what only a raw socket can send
# ---------------------------------------------------------------------------------------------

def req(method, target, headers=(), body=b"", version=b"HTTP/1.1", host=True, close=True):
    """Request bytes; headers: (name, value) pairs of bytes/str."""
    if isinstance(target, str):
        target = target.encode()
    method = method.encode() if isinstance(method, str) else method
    head = method + b" " + target + b" " + version + b"\r\n"
    if host:
        head += b"Host: 127.0.0.1\r\n"
    for n, v in headers:
        n = n.encode() if isinstance(n, str) else n
        v = v.encode() if isinstance(v, str) else v
        head += n + b": " + v + b"\r\n"
    if close:
        head += b"Connection: close\r\n"
    return head + b"\r\n" + body


def R(name, cat, payload, expect, words=(), note="", bug=None, timeout=5.0, quiet_ok=False,
      half_close=True):
    """A RAW row. expect: an int status the server itself must answer with a JSON error, or
    "reject" (any 4xx in any body, or the connection closed without an answer: a libmicrohttpd
    rejection that itflowd never sees), or a callable(test, result). quiet_ok: for an incomplete
    request, no answer within the timeout is acceptable too. half_close: shut down our sending
    side after the payload (off where the server must answer while the request is still open,
    and for rows that reach a write: libmicrohttpd may drop a half-closed client's connection
    while a write worker holds it, see README)."""
    return dict(name=name, cat=cat, payload=payload, expect=expect, words=tuple(words),
                note=note, bug=bug, timeout=timeout, quiet_ok=quiet_ok, half_close=half_close)


READ_ALL = "/api/v1/clients/read.php?api_key=" + ALL_KEY
CREATE_LOC = "/api/v1/locations/create.php?api_key=" + C1_KEY


def _expect_te_cl(t, res):
    # Transfer-Encoding and Content-Length together: RFC 9112 lets the server reject it (400) or
    # let the chunked coding win; the chunked body is {} -> the insert-failed answer. Either way
    # nothing is written (checked by the caller).
    if res.status is None:
        return
    if 400 <= res.status < 500:
        return
    t.assertEqual((res.status, res.body), (200, MSG_INSERT_FAILED), res)


def _expect_ctl_in_query(t, res):
    # raw control characters in the query: libmicrohttpd passes them on; the filter finds nothing
    if res.status is not None and 400 <= res.status < 500:
        return
    t.assertEqual((res.status, res.body), (200, MSG_NO_RESOURCE), res)


def _expect_http_9_9(t, res):
    # an unknown major HTTP version: 505 is the status RFC 9110 prescribes (libmicrohttpd's own
    # answer, HTML); the one 5xx accepted in this file: it reports the client's error.
    t.assertIn(res.status, (400, 505, None), res)


def _expect_pipelined(t, res):
    # a good request followed by garbage on the same connection: the first is answered normally
    t.assertEqual(res.status, 200, res)
    t.assertEqual(res.body[:15], b'{"status":"ok",', res)  # then the database's identity


RAW = [
    R("header_1mib", "big_headers", req("GET", READ_ALL, [("X-Pad", b"a" * MiB)]), "reject",
      note="libmicrohttpd: 431 (HTML) once the header exceeds its connection memory"),
    R("cookie_1mib", "big_headers",
      req("POST", CREATE_LOC, [("Cookie", b"c=" + b"a" * MiB), ("Content-Length", "2")],
          b"{}"), "reject", note="431 from libmicrohttpd"),
    R("ten_thousand_headers", "big_headers",
      req("GET", READ_ALL, [("X-H%d" % i, "v") for i in range(10000)]), "reject",
      note="431 from libmicrohttpd"),
    R("url_1mib", "big_headers", req("GET", READ_ALL + "&x=" + "a" * MiB), "reject",
      note="414 from libmicrohttpd"),
    R("path_1mib", "big_headers", req("GET", "/api/v1/" + "a/" * (MiB // 2) + "read.php"),
      "reject", note="414 from libmicrohttpd"),
    R("method_100kib", "malformed", req("X" * 102400, "/healthz"), "reject",
      note="414 from libmicrohttpd"),
    R("user_agent_10kib_on_write", "big_headers",
      req("POST", CREATE_LOC, [("User-Agent", "U" * 10240), ("Content-Length", "26")],
          b'{"location_name":"UA HQ"}' + b" "), 400, words=["User-Agent"], half_close=False,
      note="under --max-header: itflowd itself answers (F2)"),
    R("header_24kib", "big_headers", req("GET", READ_ALL, [("X-Pad", b"a" * 24576)]), 431,
      words=["headers are too large"], note="over --max-header, within the pool: JSON"),
    R("url_12kib", "big_headers", req("GET", READ_ALL + "&x=" + "a" * 12288), 414,
      words=["URL is too long"], note="over --max-url, within the pool: JSON"),
    R("nul_in_path_of_request_line", "nul", req("GET", b"/api/v1/clients/read.php\x00x?api_key="
                                                + ALL_KEY.encode()), "reject",
      note="libmicrohttpd cuts the line at the NUL; the K6 no-key 401 (empty body) is accepted"),
    # libmicrohttpd 0.9.75 hands over the target cut at the NUL (the key before it alone);
    # itflowd sees the cut in the request line left in the read buffer (src/http/rawreq.c)
    R("nul_in_query_after_key", "nul",
      req("GET", READ_ALL.encode() + b"\x00junk"), 400, words=["request target", "NUL"]),
    # likewise a header value reaches us cut at the NUL (its reported length agrees)
    R("nul_in_x_api_key_header", "nul",
      req("GET", "/api/v1/clients/read.php", [("X-API-Key", ALL_KEY.encode() + b"\x00junk")]),
      400, words=["X-API-Key", "NUL"]),
    R("nul_in_bearer_header", "nul",
      req("GET", "/api/v1/clients/read.php",
          [("Authorization", b"Bearer " + ALL_KEY.encode() + b"\x00junk")], close=False),
      400, words=["Authorization", "NUL"]),
    R("nul_in_decrypt_password_header", "nul",
      req("GET", "/api/v1/credentials/read.php",
          [("X-API-Key", ALL_KEY), ("X-API-Key-Decrypt-Password", DECRYPT_PW.encode() + b"\x00j"),
           ("X-After", "1")]),
      400, words=["X-API-Key-Decrypt-Password", "NUL"]),
    R("nul_in_header_name", "nul",
      req("GET", "/healthz", [(b"X-\x00Evil", "1")]), "reject",
      note="libmicrohttpd: 400 or close"),
    R("garbage_request_line", "malformed", b"GARBAGE\r\n\r\n", "reject",
      note="libmicrohttpd closes the connection"),
    R("bare_method_line", "malformed", b"GET\r\n\r\n", "reject", note="libmicrohttpd closes"),
    R("only_crlf", "malformed", b"\r\n\r\n\r\n", "reject", quiet_ok=True, timeout=1.5,
      note="empty lines before a request are skipped; no request, no answer"),
    R("binary_garbage", "malformed", bytes(range(256)) * 4 + b"\r\n\r\n", "reject",
      note="libmicrohttpd closes or answers 400"),
    R("http_version_9_9", "malformed", req("GET", "/healthz", version=b"HTTP/9.9"),
      _expect_http_9_9, note="505 (HTML) from libmicrohttpd, as RFC 9110 prescribes"),
    R("header_line_without_colon", "malformed", b"GET /healthz HTTP/1.1\r\nHost: x\r\nFoo\r\n"
      b"Connection: close\r\n\r\n", "reject", note="400 from libmicrohttpd"),
    R("http11_without_host", "malformed",
      req("GET", "/api/v1/clients/read.php?api_key=" + C1_KEY, host=False), "reject"),
    R("absolute_uri_other_host", "malformed",
      req("GET", "http://evil.example" + READ_ALL), 404, words=[UNKNOWN],
      note="itflowd answers: the path is not under /api/v1/"),
    R("asterisk_target", "malformed", req("GET", "*"), 404, words=[UNKNOWN]),
    R("invalid_percent_escape_in_path", "malformed",
      req("GET", "/api/v1/clients/read.php%zz?api_key=" + ALL_KEY), 404,
      words=[UNKNOWN]),
    R("control_chars_in_query", "malformed",
      req("GET", b"/api/v1/clients/read.php?client_name=\x01\x7f&api_key=" + ALL_KEY.encode()),
      _expect_ctl_in_query),
    R("pipelined_good_then_garbage", "malformed",
      req("GET", "/healthz", close=False) + b"\x16\x03\x01\x02\x00GARBAGE\r\n\r\n",
      _expect_pipelined),
    R("content_length_beyond_uint64", "content_length",
      req("POST", CREATE_LOC, [("Content-Length", "99999999999999999999999")], b"{}"),
      "reject", note="413 from libmicrohttpd (its header block is sent twice: a library quirk)"),
    R("content_length_negative", "content_length",
      req("POST", CREATE_LOC, [("Content-Length", "-1")], b"{}"), "reject",
      note="400 from libmicrohttpd"),
    R("content_length_not_a_number", "content_length",
      req("POST", CREATE_LOC, [("Content-Length", "12abc")], b"{}"), "reject",
      note="400 from libmicrohttpd"),
    # two different Content-Length values (RFC 9112 6.3, request smuggling): itflowd looks at
    # every header, not only the first of a name (tests/api/test_conn.py has the other framing
    # cases)
    R("content_length_twice_different", "content_length",
      req("POST", CREATE_LOC, [("Content-Length", "2"), ("Content-Length", "30")], b"{}"),
      400, words=["two different Content-Length"], half_close=False),
    R("content_length_1tib_declared", "content_length",
      req("POST", CREATE_LOC, [("Content-Length", str(1 << 40))], b"{}"), 413,
      words=["too large"], timeout=2.0, half_close=False),
    R("expect_100_continue_over_max_body", "content_length",
      req("POST", CREATE_LOC, [("Content-Length", str(1 << 40)), ("Expect", "100-continue")]),
      413, words=["too large"], timeout=2.0, half_close=False),
    R("chunked_invalid_size", "content_length",
      req("POST", CREATE_LOC, [("Transfer-Encoding", "chunked")], b"zz\r\n{}\r\n0\r\n\r\n"),
      "reject", note="400 from libmicrohttpd"),
    R("chunked_size_2_pow_64_minus_1", "content_length",
      req("POST", CREATE_LOC, [("Transfer-Encoding", "chunked")],
          b"ffffffffffffffff\r\n" + b"{" * 4096), "reject", timeout=1.5, quiet_ok=True,
      half_close=False,
      note="an incomplete request: a 4xx, a close or no answer; the server must stay up"),
    R("transfer_encoding_and_content_length", "content_length",
      req("POST", CREATE_LOC, [("Content-Length", "4"), ("Transfer-Encoding", "chunked")],
          b"2\r\n{}\r\n0\r\n\r\n"), _expect_te_cl),
    # libmicrohttpd closes without an answer (no status) or a 4xx; never served as gzip
    R("unknown_transfer_encoding", "content_length",
      req("POST", CREATE_LOC, [("Transfer-Encoding", "gzip, chunked")],
          b"2\r\n{}\r\n0\r\n\r\n"), _expect_te_cl),
    R("body_16mib_plus_1", "big_body",
      req("POST", CREATE_LOC, [("Content-Length", str(16 * MiB + 1))],
          b'{"location_name":"' + b"b" * (16 * MiB + 1 - 20) + b'"}'), 413,
      words=["too large"], note="the default --max-body is 16 MiB; a reset is accepted too"),
    R("body_20mib", "big_body",
      req("POST", "/api/v1/tickets/create.php?api_key=" + C1_KEY,
          [("Content-Length", str(20 * MiB))], b"[" * (20 * MiB)), 413, words=["too large"],
      note="413 JSON, or a reset if the server stops reading"),
    R("body_20mib_chunked", "big_body",
      req("POST", "/api/v1/contacts/create.php?api_key=" + C1_KEY,
          [("Transfer-Encoding", "chunked")],
          (b"100000\r\n" + b"x" * 0x100000 + b"\r\n") * 20 + b"0\r\n\r\n"), 413,
      words=["too large"], note="chunked: the size is only known while reading"),
    R("body_20mib_on_get", "big_body",
      req("GET", READ_ALL, [("Content-Length", str(20 * MiB))], b" " * (20 * MiB)), 413,
      words=["too large"]),
    R("body_shorter_than_content_length", "content_length",
      req("POST", CREATE_LOC, [("Content-Length", "1000")], b'{"location_name":"Half"}'),
      "reject", timeout=1.5, quiet_ok=True, half_close=False,
      note="an incomplete body, then the client goes away: no answer or a close"),
]


# ---------------------------------------------------------------------------------------------
# ACCEPTED: answered normally (200), nothing written
# ---------------------------------------------------------------------------------------------

def A(name, cat, method, endpoint, query=None, body=None, headers=None, key="c1", expect=None,
      ids=None, id_field=None, no_link=False, bug=None):
    """expect: the exact body bytes, or None with ids: a successful read of exactly these ids
    (id_field) in this order."""
    return dict(name=name, cat=cat, method=method, endpoint=endpoint, query=query, body=body,
                headers=headers or {}, key=key, expect=expect, ids=ids, id_field=id_field,
                no_link=no_link, bug=bug)


ACCEPTED = [
    # SQL metacharacters in filters are data: nothing matches
    A("or_1_eq_1_client_name", "sql_meta", "GET", "clients/read",
      {"client_name": "' OR '1'='1"}, key="all", expect=MSG_NO_RESOURCE),
    A("drop_table_contact_email", "sql_meta", "GET", "contacts/read",
      {"contact_email": '"; DROP TABLE contacts; --'}, expect=MSG_NO_RESOURCE),
    A("percent_asset_serial", "sql_meta", "GET", "assets/read", {"asset_serial": "%"},
      expect=MSG_NO_RESOURCE),
    A("underscore_asset_name", "sql_meta", "GET", "assets/read", {"asset_name": "_"},
      key="all", expect=MSG_NO_RESOURCE),
    A("percent_certificate_name", "sql_meta", "GET", "certificates/read",
      {"certificate_name": "%"}, expect=MSG_NO_RESOURCE),
    A("backslash_client_name", "sql_meta", "GET", "clients/read", {"client_name": "\\"},
      key="all", expect=MSG_NO_RESOURCE),
    A("like_prefix_client_name", "sql_meta", "GET", "clients/read", {"client_name": "Acme%"},
      key="all", expect=MSG_NO_RESOURCE),
    A("like_underscore_client_name", "sql_meta", "GET", "clients/read",
      {"client_name": "Acme_Corp"}, key="all", expect=MSG_NO_RESOURCE),
    A("union_select_api_keys", "sql_meta", "GET", "clients/read",
      {"client_name": "x' UNION SELECT * FROM api_keys -- "}, key="all", expect=MSG_NO_RESOURCE),
    A("asset_type_with_quote", "sql_meta", "GET", "assets/read",
      {"asset_type": "laptop' OR 'a'='a"}, expect=MSG_NO_RESOURCE),
    A("asset_mac_glob", "sql_meta", "GET", "assets/read", {"asset_mac": "*"},
      expect=MSG_NO_RESOURCE),
    A("phone_or_mobile_percent", "sql_meta", "GET", "contacts/read",
      {"contact_phone_or_mobile": "%"}, expect=MSG_NO_RESOURCE),
    # id filters and client_id are intval'd (K8/K9): the SQL tail is dropped
    A("contact_id_or_1_eq_1", "sql_meta", "GET", "contacts/read",
      {"contact_id": "1 OR 1=1"}, ids=["1"], id_field="contact_id"),
    A("asset_id_semicolon_drop", "sql_meta", "GET", "assets/read",
      {"asset_id": "1;DROP TABLE assets"}, ids=["1"], id_field="asset_id"),
    A("client_id_or_1_eq_1_all_key", "sql_meta", "GET", "contacts/read",
      {"client_id": "1 OR 1=1"}, key="all", ids=["1", "2"], id_field="contact_id"),
    A("client_id_percent_all_key", "sql_meta", "GET", "contacts/read", {"client_id": "%"},
      key="all", expect=MSG_NO_RESOURCE),
    A("client_id_minus_1_all_key", "sql_meta", "GET", "tickets/read", {"client_id": "-1"},
      key="all", expect=MSG_NO_RESOURCE),
] + [
    # every other text filter of every module: a quote, a comment and a wildcard find nothing
    A("sql_in_%s_%s" % (ep.split("/")[0], param), "sql_meta", "GET", ep,
      {param: "x' OR '1'='1' -- %_"}, key="all", expect=MSG_NO_RESOURCE)
    for ep, param in (("assets/read", "asset_uri"), ("assets/read", "asset_uri_2"),
                      ("assets/read", "asset_name"), ("contacts/read", "contact_email"),
                      ("certificates/read", "certificate_name"), ("domains/read", "domain_name"),
                      ("networks/read", "network_name"), ("software/read", "software_key"),
                      ("software/read", "software_name"), ("software/read", "software_type"))
] + [
    # every id filter is intval'd (K8): "<id> OR 1=1" finds that one id (or its rows) only
    A("sql_in_%s_%s" % (ep.split("/")[0], param), "sql_meta", "GET", ep,
      dict({param: "%s OR 1=1; DROP TABLE clients --" % val}, **extra), key="all", ids=ids,
      id_field=field)
    for ep, param, val, ids, field, extra in (
        ("locations/read", "location_id", 3, ["3"], "location_id", {}),
        ("tickets/read", "ticket_id", 2, ["2"], "ticket_id", {}),
        ("credentials/read", "credential_id", 2, ["2"], "credential_id", PW),
        ("documents/read", "document_id", 1, ["1"], "document_id", {}),
        ("certificates/read", "certificate_id", 1, ["1"], "certificate_id", {}),
        ("domains/read", "domain_id", 1, ["1"], "domain_id", {}),
        ("networks/read", "network_id", 1, ["1"], "network_id", {}),
        ("software/read", "software_id", 1, ["1"], "software_id", {}),
        ("vendors/read", "vendor_id", 2, ["2"], "vendor_id", {}),
        ("invoices/read", "invoice_id", 1, ["1"], "invoice_id", {}),
        ("invoice_items/read", "item_id", 1, ["1"], "item_id", {}),
        ("invoice_items/read", "invoice_id", 1, ["1"], "item_id", {}),
        ("quotes/read", "quote_id", 1, ["1"], "quote_id", {}),
        ("expenses/read", "expense_id", 1, ["1"], "expense_id", {}),
        ("products/read", "product_id", 1, ["1"], "product_id", {}),
        ("payments/read", "payment_id", 1, ["1"], "payment_id", {}),
        ("payments/read", "payment_invoice_id", 1, ["1"], "payment_id", {}))
] + [
    # NUL bytes in filter values are data too (no truncation at the NUL)
    A("nul_inside_client_name", "nul", "GET", "clients/read",
      "client_name=Acme%20Corp%00junk", key="all", expect=MSG_NO_RESOURCE),
    A("nul_after_contact_email", "nul", "GET", "contacts/read",
      "contact_email=alice@acme.example%00", expect=MSG_NO_RESOURCE),
    A("nul_only_asset_serial", "nul", "GET", "assets/read", "asset_serial=%00",
      expect=MSG_NO_RESOURCE),
    # absurd limits (reference 1.7, K8)
    A("limit_saturates", "paging", "GET", "clients/read", {"limit": "999999999999999999999"},
      key="all", ids=["1", "2", "3"], id_field="client_id", no_link=True),
    A("limit_1e999_is_zero", "paging", "GET", "clients/read", {"limit": "1e999"}, key="all",
      expect=MSG_NO_RESOURCE),
    A("offset_1e999_is_zero", "paging", "GET", "clients/read", {"offset": "1e999"}, key="all",
      ids=["1", "2", "3"], id_field="client_id", no_link=True),
    A("limit_array_is_one", "paging", "GET", "clients/read", "limit%5B%5D=5", key="all",
      ids=["1"], id_field="client_id"),
    A("offset_int64_max", "paging", "GET", "clients/read",
      {"offset": "9223372036854775807"}, key="all", expect=MSG_NO_RESOURCE, no_link=True),
    A("limit_and_offset_int64_max", "paging", "GET", "clients/read",
      {"limit": "9223372036854775807", "offset": "1"}, key="all", ids=["2", "3"],
      id_field="client_id", no_link=True),
    A("limit_minus_1_on_single_id_read", "paging", "GET", "contacts/read",
      {"contact_id": "1", "limit": "-1"}, ids=["1"], id_field="contact_id"),
    A("limit_twice_positive_last", "duplicate_params", "GET", "clients/read",
      "limit=-1&limit=1", key="all", ids=["1"], id_field="client_id"),
    A("api_key_twice_good_last", "duplicate_params", "GET", "clients/read",
      "api_key=not-a-key-0000&api_key=%s" % C1_KEY, key=None, ids=["1"], id_field="client_id"),
    # out-of-range and foreign ids on writes: the ordinary "not done" answers, nothing changed
    A("update_contact_id_99999999999", "out_of_range_id", "POST", "contacts/update",
      body=J({"contact_id": 99999999999, "contact_title": "Nope"}), expect=MSG_UPDATE_FAILED),
    A("update_contact_id_2_pow_32_plus_2", "out_of_range_id", "POST", "contacts/update",
      body=J({"contact_id": 4294967298, "contact_title": "Wrapped"}), expect=MSG_UPDATE_FAILED),
    A("update_asset_id_minus_1", "out_of_range_id", "POST", "assets/update",
      body=J({"asset_id": -1, "asset_name": "Negative"}), expect=MSG_UPDATE_FAILED),
    A("delete_asset_id_2_pow_32_plus_1", "out_of_range_id", "POST", "assets/delete",
      body=J({"asset_id": 4294967297}), expect=MSG_DELETE_FAILED),
    A("archive_contact_id_minus_1e19", "out_of_range_id", "POST", "contacts/archive",
      body=b'{"contact_id":-1e19}', expect=MSG_UPDATE_FAILED),
    A("resolve_ticket_id_2_pow_32_plus_1", "out_of_range_id", "POST", "tickets/resolve",
      body=J({"ticket_id": 4294967297}), expect=MSG_UPDATE_FAILED),
    A("update_other_clients_contact", "out_of_range_id", "POST", "contacts/update",
      body=J({"contact_id": 3, "contact_name": "Hijacked"}), expect=MSG_UPDATE_FAILED),
    A("update_document_id_string_sql", "out_of_range_id", "POST", "documents/update",
      body=J({"document_id": "0 OR 1=1", "document_name": "All"}), expect=MSG_UPDATE_FAILED),
    # required fields null, blank, "0" or only tags: the insert-failed answer (reference 1.9)
    A("null_required_client_name", "wrong_type", "POST", "clients/create",
      body=J({"client_name": None}), key="all", expect=MSG_INSERT_FAILED),
    A("blank_required_location_name", "wrong_type", "POST", "locations/create",
      body=J({"location_name": " \t\n "}), expect=MSG_INSERT_FAILED),
    A("zero_string_required_asset_name", "wrong_type", "POST", "assets/create",
      body=J({"asset_name": "0"}), expect=MSG_INSERT_FAILED),
    A("tags_only_required_ticket_subject", "wrong_type", "POST", "tickets/create",
      body=J({"ticket_subject": "<b></b><script></script>"}), expect=MSG_INSERT_FAILED),
    A("false_required_document_name", "wrong_type", "POST", "documents/create",
      body=J({"document_name": False, "document_content": "x"}), expect=MSG_INSERT_FAILED),
    A("300_headers_within_max_header", "headers", "GET", "clients/read",
      headers={"X-P-%03d" % i: "v" * 40 for i in range(300)}, ids=["1"], id_field="client_id"),
    A("cookie_within_max_header", "headers", "GET", "clients/read",
      headers={"Cookie": "c=" + "x" * 16300}, ids=["1"], id_field="client_id"),
    A("header_just_under_max_header", "headers", "GET", "clients/read",
      headers={"X-Pad": "p" * 16000}, ids=["1"], id_field="client_id"),
    # a GET ignores a body it cannot parse (F19)
    A("get_with_invalid_json_body", "invalid_json", "GET", "clients/read", body=b"{bad",
      ids=["1"], id_field="client_id"),
    A("get_with_deep_body", "nesting", "GET", "contacts/read", body=b"[" * 100000,
      ids=["1", "2"], id_field="contact_id"),
    A("get_with_invalid_utf8_body", "invalid_json", "GET", "locations/read",
      body=b'{"limit":"\xff"}', ids=["1", "3"], id_field="location_id"),
]


# ---------------------------------------------------------------------------------------------
# LITERAL: stored exactly as sent (second server)
# ---------------------------------------------------------------------------------------------

def L(name, cat, endpoint, body, table, pk, stored, key="c1", headers=None, readback=None,
      also=(), update_id=None, bug=None):
    """A write that must succeed and store `stored` ({column: value}) in `table`. readback:
    (endpoint, params) whose answer must be exactly the written row. also: other tables the
    write may change (besides `table` and `logs`). update_id: the row an update targets."""
    return dict(name=name, cat=cat, endpoint=endpoint, body=body, table=table, pk=pk,
                stored=stored, key=key, headers=headers or {}, readback=readback,
                also=tuple(also), update_id=update_id, bug=bug)


DROP_CLIENTS = "Robert'); DROP TABLE clients;--"
OR_TRUE = "' OR '1'='1"

LITERAL_ROWS = [
    L("drop_table_client_name", "sql_meta", "clients/create", {"client_name": DROP_CLIENTS},
      "clients", "client_id", {"client_name": DROP_CLIENTS}, key="all",
      readback=("clients/read", {"client_name": DROP_CLIENTS})),
    L("or_true_contact_name_and_email", "sql_meta", "contacts/create",
      {"contact_name": OR_TRUE, "contact_email": "x'--@acme.example"}, "contacts", "contact_id",
      {"contact_name": OR_TRUE, "contact_email": "x'--@acme.example"},
      readback=("contacts/read", {"contact_email": "x'--@acme.example"})),
    L("like_wildcards_location_name", "sql_meta", "locations/create",
      {"location_name": "%_%\\_"}, "locations", "location_id", {"location_name": "%_%\\_"}),
    L("drop_table_ticket_subject", "sql_meta", "tickets/create",
      {"ticket_subject": '"; DROP TABLE tickets; --'}, "tickets", "ticket_id",
      {"ticket_subject": '"; DROP TABLE tickets; --'}, also=("settings",)),
    L("backslashes_document", "sql_meta", "documents/create",
      {"document_name": "Back\\slash \\' \\\"", "document_content": "<p>\\' OR 1=1 -- \\\\</p>"},
      "documents", "document_id",
      {"document_name": "Back\\slash \\' \\\"", "document_content": "<p>\\' OR 1=1 -- \\\\</p>"}),
    L("percent_asset_name", "sql_meta", "assets/create",
      {"asset_name": "%", "asset_serial": "_"}, "assets", "asset_id",
      {"asset_name": "%", "asset_serial": "_"}, also=("asset_interfaces", "asset_history"),
      readback=("assets/read", {"asset_name": "%"})),
    L("underscore_certificate_name", "sql_meta", "certificates/create",
      {"certificate_name": "_", "certificate_domain": "x' OR 1=1 --.example"}, "certificates",
      "certificate_id", {"certificate_name": "_", "certificate_domain": "x' OR 1=1 --.example"},
      readback=("certificates/read", {"certificate_name": "_"})),
    L("sql_in_credential_fields", "sql_meta", "credentials/create",
      dict(PW, credential_name="\\'; --", credential_password="' OR ''='",
           credential_username="admin'--"), "credentials", "credential_id",
      {"credential_name": "\\'; --"},
      readback=("credentials/read", dict(PW, credential_id="{id}"))),
    L("update_title_with_update_statement", "sql_meta", "contacts/update",
      {"contact_id": 2, "contact_title": "'; UPDATE contacts SET contact_name='pwned'; --"},
      "contacts", "contact_id",
      {"contact_title": "'; UPDATE contacts SET contact_name='pwned'; --",
       "contact_name": "Bob Billing"}, update_id=2),
    L("backslash_zero_is_not_nul", "sql_meta", "clients/create", {"client_name": "a\\0b\\x00"},
      "clients", "client_id", {"client_name": "a\\0b\\x00"}, key="all"),
    L("abbreviation_cut_to_6", "over_long", "clients/create",
      {"client_name": "Abbrev Co", "client_abbreviation": "ABCDEFGHIJKL"}, "clients",
      "client_id", {"client_abbreviation": "ABCDEF"}, key="all"),
    L("abbreviation_cut_multibyte", "over_long", "clients/create",
      {"client_name": "Abbrev UTF-8", "client_abbreviation": "\u00c9" * 12}, "clients",
      "client_id", {"client_abbreviation": "\u00c9" * 6}, key="all"),
    L("name_exactly_200_chars", "over_long", "locations/create",
      {"location_name": "\u00e9" * 200}, "locations", "location_id",
      {"location_name": "\u00e9" * 200}),
    L("notes_exactly_65535_bytes", "over_long", "contacts/update",
      {"contact_id": 1, "contact_notes": "n" * 65535}, "contacts", "contact_id",
      {"contact_notes": "n" * 65535}, update_id=1),
    L("text_plain_content_type", "content_type", "locations/create",
      {"location_name": "Text plain HQ"}, "locations", "location_id",
      {"location_name": "Text plain HQ"}, headers={"Content-Type": "text/plain"}),
    L("form_content_type_json_body", "content_type", "tickets/create",
      {"ticket_subject": "Form CT ticket"}, "tickets", "ticket_id",
      {"ticket_subject": "Form CT ticket"}, also=("settings",),
      headers={"Content-Type": "application/x-www-form-urlencoded"}),
    L("multipart_content_type_json_body", "content_type", "certificates/create",
      {"certificate_name": "Multipart cert", "certificate_domain": "mp.example"},
      "certificates", "certificate_id", {"certificate_name": "Multipart cert"},
      headers={"Content-Type": "multipart/form-data; boundary=xyz"}),
    L("no_content_type", "content_type", "documents/create",
      {"document_name": "No CT doc", "document_content": "<p>x</p>"}, "documents",
      "document_id", {"document_name": "No CT doc"}),
    # reference 1.9: strip_tags removes NUL bytes (a<NUL>b -> ab)
    L("nul_escape_in_text_field_is_stripped", "nul", "locations/create",
      {"location_name": "HQ\u0000evil"}, "locations", "location_id",
      {"location_name": "HQevil"}),
    # fields the reference does not sanitize keep the NUL (mysqli escapes it; json_encode \u0000)
    L("nul_escape_in_document_content_is_kept", "nul", "documents/create",
      {"document_name": "NUL doc", "document_content": "<p>a\u0000b</p>"}, "documents",
      "document_id", {"document_content": "<p>a\u0000b</p>"},
      readback=("documents/read", {"document_id": "{id}"})),
    L("nul_escape_in_ticket_details_is_kept", "nul", "tickets/create",
      {"ticket_subject": "NUL ticket", "ticket_details": "a\u0000b"}, "tickets", "ticket_id",
      {"ticket_details": "a\u0000b<br>"}, also=("settings",),
      readback=("tickets/read", {"ticket_id": "{id}"})),
    L("boolean_true_in_text_field", "wrong_type", "contacts/create",
      {"contact_name": "Bool", "contact_email": "bool@acme.example", "contact_title": True},
      "contacts", "contact_id", {"contact_title": "1"}),
    L("astral_and_quotes_ticket_details", "sql_meta", "tickets/create",
      {"ticket_subject": "\U0001F600 '\"`", "ticket_details": "' OR 1=1 -- \U0001F600"},
      "tickets", "ticket_id",
      {"ticket_subject": "\U0001F600 '\"`", "ticket_details": "' OR 1=1 -- \U0001F600<br>"},
      also=("settings",)),
]


# ---------------------------------------------------------------------------------------------
# Helpers: snapshots, requests
# ---------------------------------------------------------------------------------------------

LOG_COLUMNS = ["log_id", "log_type", "log_action", "log_description", "log_ip",
               "log_user_agent", "log_created_at", "log_client_id", "log_user_id",
               "log_entity_id"]


def snapshot(db):
    """(every iterdump line except the logs rows and logs' sqlite_sequence entry, logs rows)."""
    if base.on_mariadb():
        # the backend's dump: "-- <table>" then its rows in a fixed order; logs kept apart
        lines, skip = [], False
        for ln in base.DB.dump(db).split("\n"):
            if ln.startswith("-- "):
                skip = ln.strip() == "-- logs"
            if not skip:
                lines.append(ln)
        logs = base.db_rows(db, "SELECT * FROM logs ORDER BY log_id")
        return lines, logs, LOG_COLUMNS
    con = base.db_connect(db)
    try:
        lines = [ln for ln in con.iterdump()
                 if not ln.startswith('INSERT INTO "logs" ')
                 and not ln.startswith('INSERT INTO "itflowd_key_perms" ')  # keys' last use
                 and not ln.startswith("INSERT INTO \"sqlite_sequence\" VALUES('logs',")]
        logs = con.execute("SELECT * FROM logs ORDER BY log_id").fetchall()
        cols = [d[0] for d in con.execute("SELECT * FROM logs LIMIT 0").description]
        return lines, logs, cols
    finally:
        con.close()


class RawResult:
    def __init__(self, status=None, headers=None, body=b"", raw=b"", error=None, quiet=False):
        self.status = status
        self.headers = headers or {}
        self.body = body
        self.raw = raw
        self.error = error
        self.quiet = quiet  # no answer at all before the timeout

    def header(self, name):
        return self.headers.get(name.lower())

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "<raw status=%r error=%r quiet=%r %r>" % (self.status, self.error, self.quiet,
                                                           self.raw[:300])


def parse_raw(data):
    end = data.find(b"\r\n\r\n")
    if not data.startswith(b"HTTP/") or end < 0:
        return RawResult(raw=data)
    head = data[:end].decode("latin-1").split("\r\n")
    parts = head[0].split(" ", 2)
    headers = {}
    for line in head[1:]:
        if ":" in line:
            n, v = line.split(":", 1)
            headers.setdefault(n.strip().lower(), v.strip())
    body = data[end + 4:]
    if "content-length" in headers:
        try:
            body = body[:int(headers["content-length"])]
        except ValueError:
            pass
    status = int(parts[1])
    if status == 100:  # an interim answer: the final one (if any) follows
        rest = parse_raw(data[end + 4:])
        rest.raw = data
        return rest if rest.status is not None else RawResult(100, headers, b"", data)
    return RawResult(status, headers, body, data)


def raw_exchange(port, payload, timeout=5.0, half_close=True):
    """Sends payload (sendall; a reset while sending is noted, not raised), half-closes (unless
    told not to), reads the answer until the server closes or the timeout passes."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    err = None
    data = b""
    quiet = False
    try:
        try:
            sock.sendall(payload)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except OSError as e:
            err = "send: %s" % e.__class__.__name__
        deadline = time.time() + timeout
        while True:
            sock.settimeout(max(0.05, deadline - time.time()))
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                quiet = not data
                break
            except OSError as e:
                err = (err + "; " if err else "") + "recv: %s" % e.__class__.__name__
                break
            if not chunk:
                break
            data += chunk
            if time.time() > deadline:
                break
    finally:
        sock.close()
    res = parse_raw(data)
    res.error = err
    res.quiet = quiet
    return res


def send(server, method, target, body=None, headers=None, timeout=30):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        conn.request(method, target, body=body, headers=headers or {})
        resp = conn.getresponse()
        return base.Response(resp.status, resp.headers, resp.read())
    finally:
        conn.close()


def with_key(target, key):
    if key is None:
        return target
    k = KEYS.get(key, key)
    return target + ("&" if "?" in target else "?") + "api_key=" + quote(k, safe="")


CRASHES = []  # (server, the test that ran last on it, whether it is a known-bug row, exit code)
LAST_TEST = {}  # server name -> (test id, known bug)


def ensure_up(server, restart=True):
    """A row that killed the server fails itself ("itflowd exited"); the server is started again
    on the same database so that the rows after it still test something. A server that is dying
    (a sanitizer report being written) is waited for. Every death is recorded; one after a row not
    marked as a known bug fails the run (it may have died just after the answer, when the row had
    already passed)."""
    if server.alive():
        try:
            if send(server, "GET", "/healthz", timeout=3).status == 200:
                return
        except OSError:
            pass
        try:
            server.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
    code = server.proc.poll() if server.proc else None
    last, known = LAST_TEST.get(server.name, ("(before any test)", False))
    CRASHES.append((server.name, last, known, code))
    sys.stderr.write("\n%s server died or hung (exit %r) after %s; log: %s\n"
                     % (server.name, code, last, server.log_path))
    server.stop()
    if restart:
        server.start()


class HostileCase(unittest.TestCase):
    maxDiff = 3000

    @classmethod
    def setUpClass(cls):
        cls.server = SERVER

    def setUp(self):
        ensure_up(self.server)
        method = getattr(self, self._testMethodName)
        LAST_TEST[self.server.name] = (self.id(), getattr(method, "__unittest_expecting_failure__",
                                                          False))

    def before(self):
        return snapshot(self.server.db)

    def assertJsonError(self, status, headers_get, body, want_status, words, ctx):
        """want_status (int or tuple), Content-Type JSON, {"success":"False","message":...}."""
        want = want_status if isinstance(want_status, tuple) else (want_status,)
        self.assertIn(status, want, ctx)
        self.assertEqual(headers_get("Content-Type"), "application/json", ctx)
        try:
            obj = json.loads(body.decode("utf-8"))
        except ValueError:
            self.fail("not a JSON body: %r" % (ctx,))
        self.assertIsInstance(obj, dict, ctx)
        self.assertEqual(list(obj.keys()), ["success", "message"], ctx)
        self.assertEqual(obj["success"], "False", ctx)
        self.assertIsInstance(obj["message"], str, ctx)
        self.assertTrue(obj["message"], ctx)
        for w in words:
            self.assertIn(w.lower(), obj["message"].lower(), ctx)

    def assertStillFine(self, snap, status):
        """The server is up, a normal read answers as before, the database is unchanged."""
        s = self.server
        self.assertTrue(s.alive(), "itflowd exited")
        self.assertEqual(send(s, "GET", "/healthz", timeout=10).status, 200, "healthz")
        r = send(s, "GET", "/api/v1/clients/read.php?api_key=" + C1_KEY, timeout=10)
        self.assertEqual((r.status, r.body), BASELINE, "the normal read changed")
        lines, logs, cols = snap
        lines2, logs2, _ = snapshot(s.db)
        if lines2 != lines:
            diff = [ln for ln in lines2 if ln not in set(lines)][:5]
            gone = [ln for ln in lines if ln not in set(lines2)][:5]
            self.fail("the database changed: +%r -%r" % (diff, gone))
        self.assertEqual(logs2[:len(logs)], logs, "existing logs rows changed")
        new = logs2[len(logs):]
        ti, ai = cols.index("log_type"), cols.index("log_action")
        kinds = sorted({(row[ti], row[ai]) for row in new})
        if status == 401:
            self.assertIn(kinds, ([], [("API", "Failed")]), new)
        else:
            self.assertEqual(new, [], "logs rows written for a %s answer" % status)


# ---------------------------------------------------------------------------------------------
# Test classes (one generated method per row)
# ---------------------------------------------------------------------------------------------

class HostileTests(HostileCase):
    def run_row(self, row):
        snap = self.before()
        target = with_key(row["target"], row["key"])
        r = send(self.server, row["method"], target, body=row["body"], headers=row["headers"])
        ctx = (row["method"], row["target"][:120], r)
        self.assertJsonError(r.status, r.header, r.body, row["status"], row["words"], ctx)
        if row["exact"]:
            self.assertEqual(r.body, row["exact"], ctx)
        if row["allow"]:
            self.assertEqual(r.header("Allow"), row["allow"], ctx)
        self.assertStillFine(snap, r.status)


class RawTests(HostileCase):
    def run_row(self, row):
        snap = self.before()
        res = raw_exchange(self.server.port, row["payload"], timeout=row["timeout"],
                           half_close=row["half_close"])
        exp = row["expect"]
        if callable(exp):
            exp(self, res)
        elif exp == "reject":
            if res.status is None:
                # closed (or reset) without an answer; silence only where the row allows it
                if res.quiet:
                    self.assertTrue(row["quiet_ok"], "no answer within %ss: %r"
                                    % (row["timeout"], res))
            else:
                self.assertTrue(400 <= res.status < 500, res)
                if res.header("Content-Type") == "application/json" and res.body:
                    # itflowd answered: then it is the JSON error
                    self.assertJsonError(res.status, res.header, res.body, res.status, (), res)
                elif res.header("Content-Type") == "application/json":
                    self.assertEqual(res.status, 401, res)  # K6: no key seen, empty body
        else:
            if res.status is None and res.error and exp == 413:
                pass  # a reset while we were still sending: accepted for an over-large body
            else:
                self.assertIsNotNone(res.status, "no answer: %r" % (res,))
                self.assertJsonError(res.status, res.header, res.body, exp, row["words"], res)
        self.assertStillFine(snap, res.status)

    def test_slowloris_partial_requests(self):
        """40 connections each sending a request a few bytes at a time, never finishing: normal
        requests are answered meanwhile; the partial ones end when we close them (bounded)."""
        snap = self.before()
        socks = []
        try:
            for _ in range(40):
                sk = socket.create_connection(("127.0.0.1", self.server.port), timeout=2)
                sk.sendall(b"POST /api/v1/locations/create.php?api_key=" + C1_KEY.encode()
                           + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nX-Slow: a")
                socks.append(sk)
            for i in range(3):
                for sk in socks:
                    sk.sendall(b"a")
                t0 = time.time()
                r = send(self.server, "GET", "/api/v1/contacts/read.php?api_key=" + C1_KEY,
                         timeout=3)
                self.assertEqual(r.status, 200)
                self.assertLess(time.time() - t0, 2.0, "a normal read waited behind slowloris")
                time.sleep(0.05)
        finally:
            for sk in socks:
                sk.close()
        self.assertStillFine(snap, None)

    def test_connection_flood_without_requests(self):
        """300 connections opened and closed without a byte: the server keeps answering."""
        snap = self.before()
        for _ in range(300):
            sk = socket.create_connection(("127.0.0.1", self.server.port), timeout=2)
            sk.close()
        self.assertStillFine(snap, None)


class AcceptedTests(HostileCase):
    def run_row(self, row):
        snap = self.before()
        path = "/api/v1/%s.php" % row["endpoint"]
        q = row["query"]
        if isinstance(q, dict):
            q = urlencode(q)
        target = path + ("?" + q if q else "")
        target = with_key(target, row["key"])
        r = send(self.server, row["method"], target, body=row["body"], headers=row["headers"])
        ctx = (row["method"], target[:160], r)
        self.assertEqual(r.header("Content-Type"), "application/json", ctx)
        if row["expect"] is not None:
            self.assertEqual((r.status, r.body), (200, row["expect"]), ctx)
        else:
            self.assertEqual(r.status, 200, ctx)
            obj = r.json()
            self.assertEqual(obj["success"], "True", ctx)
            self.assertEqual(obj["count"], len(obj["data"]), ctx)
            self.assertEqual([x[row["id_field"]] for x in obj["data"]], row["ids"], ctx)
        if row["no_link"]:
            link = r.header("Link")
            self.assertIsNone(link, ctx)
        self.assertStillFine(snap, r.status)


class LiteralTests(unittest.TestCase):
    maxDiff = 3000

    @classmethod
    def setUpClass(cls):
        cls.server = LITERAL

    def setUp(self):
        if base.on_mariadb():
            self.skipTest("SQLite only: the check reads sqlite_master")
        ensure_up(self.server)
        method = getattr(self, self._testMethodName)
        LAST_TEST[self.server.name] = (self.id(), getattr(method, "__unittest_expecting_failure__",
                                                          False))

    def counts(self):
        con = base.db_connect(self.server.db)
        try:
            master = con.execute("SELECT type, name, sql FROM sqlite_master "
                                 "ORDER BY name").fetchall()
            names = [r[1] for r in master if r[0] == "table"]
            return master, {n: con.execute('SELECT COUNT(*) FROM "%s"' % n).fetchone()[0]
                            for n in names}
        finally:
            con.close()

    def table_dump(self, table):
        con = base.db_connect(self.server.db)
        try:
            return con.execute('SELECT * FROM "%s" ORDER BY 1' % table).fetchall()
        finally:
            con.close()

    def run_row(self, row):
        s = self.server
        master, counts = self.counts()
        others = {t: self.table_dump(t) for t in ("clients", "contacts", "api_keys", "users")
                  if t != row["table"]}
        target_rows = self.table_dump(row["table"])
        body = dict(row["body"])
        r = send(s, "POST", with_key("/api/v1/%s.php" % row["endpoint"], row["key"]),
                 body=J(body), headers=row["headers"])
        ctx = (row["endpoint"], r)
        self.assertEqual(r.status, 200, ctx)
        self.assertEqual(r.header("Content-Type"), "application/json", ctx)
        obj = r.json()
        if row["update_id"] is None:
            self.assertEqual((obj["success"], obj["count"]), ("True", "1"), ctx)
            new_id = obj["data"][0]["insert_id"]
        else:
            self.assertEqual(obj, {"success": "True", "count": 1}, ctx)
            new_id = row["update_id"]
        cols = list(row["stored"])
        got = base.db_rows(s.db, 'SELECT %s FROM "%s" WHERE %s = ?'
                           % (", ".join(cols), row["table"], row["pk"]), (new_id,))
        self.assertEqual(len(got), 1, ctx)
        self.assertEqual(dict(zip(cols, got[0])), row["stored"], ctx)
        # nothing else happened: same schema, other tables' rows unchanged
        master2, counts2 = self.counts()
        self.assertEqual(master2, master, "the schema changed")
        # the write's event (engine/events.c): exactly one, with its sequence number;
        # itflowd_key_perms: the keys' last use, written by the server's background thread
        self.assertEqual(counts2["itflowd_events"], counts["itflowd_events"] + 1, ctx)
        allowed = {row["table"], "logs", "sqlite_sequence", "itflowd_events",
                   "itflowd_event_seq", "itflowd_key_perms"} | set(row["also"])
        for t, n in counts.items():
            if t not in allowed:
                self.assertEqual(counts2[t], n, "table %s changed" % t)
        for t, rows in others.items():
            if t not in allowed:
                self.assertEqual(self.table_dump(t), rows, "table %s changed" % t)
        after = self.table_dump(row["table"])
        if row["update_id"] is None:
            self.assertEqual(len(after), len(target_rows) + 1)
            self.assertEqual([x for x in after if x[0] != new_id], target_rows,
                             "other %s rows changed" % row["table"])
        else:
            self.assertEqual([x for x in after if x[0] != new_id],
                             [x for x in target_rows if x[0] != new_id],
                             "other %s rows changed" % row["table"])
        # read back through the API: exactly the literal match
        if row["readback"]:
            ep, params = row["readback"]
            params = {k: (str(new_id) if v == "{id}" else v) for k, v in params.items()}
            rr = send(s, "GET", with_key("/api/v1/%s.php?%s" % (ep, urlencode(params)),
                                         row["key"]))
            self.assertEqual(rr.status, 200, rr)
            data = rr.json()
            self.assertEqual(data["success"], "True", rr)
            self.assertEqual([x[row["pk"]] for x in data["data"]], [str(new_id)], rr)
            for c, v in row["stored"].items():
                self.assertEqual(data["data"][0][c], v, rr)
            if row["endpoint"] == "credentials/create":
                self.assertEqual(data["data"][0]["credential_password"],
                                 body["credential_password"], rr)
                self.assertEqual(data["data"][0]["credential_username"],
                                 body["credential_username"], rr)
        self.assertTrue(s.alive())


def _attach(cls, rows):
    seen = set()
    for i, row in enumerate(rows):
        name = "test_%03d_%s_%s" % (i, row["cat"], row["name"])
        assert row["name"] not in seen, "duplicate row name %s" % row["name"]
        seen.add(row["name"])

        def test(self, row=row):
            self.run_row(row)

        test.__doc__ = "[%s] %s" % (row["cat"], row["name"])
        if row.get("bug") and not os.environ.get("ITFLOWD_HOSTILE_NO_XFAIL"):
            test = unittest.expectedFailure(test)
        setattr(cls, name, test)


_attach(HostileTests, HOSTILE)
_attach(RawTests, RAW)
_attach(AcceptedTests, ACCEPTED)
_attach(LiteralTests, LITERAL_ROWS)

ORDER = [HostileTests, RawTests, AcceptedTests, LiteralTests]


def category_counts():
    out = {}
    for table, rows in (("HOSTILE", HOSTILE), ("RAW", RAW), ("ACCEPTED", ACCEPTED),
                        ("LITERAL", LITERAL_ROWS)):
        for row in rows:
            out.setdefault(table, {}).setdefault(row["cat"], 0)
            out[table][row["cat"]] += 1
    return out


def main(argv):
    global SERVER, LITERAL, BASELINE
    args = [a for a in argv[1:] if not a.startswith("-")]
    verbose = any(a in ("-v", "--verbose") for a in argv[1:])
    if not args:
        sys.stderr.write("usage: %s PATH/TO/itflowd [-v] [TestClass[.test_name] ...]\n" % argv[0])
        return 2
    base.BIN = os.path.abspath(args[0])
    names = args[1:]
    if not os.access(base.BIN, os.X_OK):
        sys.stderr.write("%s is not an executable\n" % base.BIN)
        return 2
    if not os.path.isfile(base.SEED_SQL):
        sys.stderr.write("conformance seed not found: %s (set ITFLOWD_SHARED)\n" % base.SEED_SQL)
        return 2
    backend = os.environ.get("ITFLOWD_TEST_DB", "").strip().lower() or "sqlite"
    if backend not in ("sqlite", "mariadb"):
        sys.stderr.write("ITFLOWD_TEST_DB must be sqlite or mariadb, not %r\n" % backend)
        return 2
    if backend == "mariadb" and subprocess.run([base.MARIADB_SH, "available"]).returncode != 0:
        print("SKIP: MariaDB is not installed")
        return 77
    base.TMP = tempfile.mkdtemp(prefix="itflowd-hostile-")
    if backend == "mariadb":
        base.DB = base.MariaDbBackend(os.path.join(base.TMP, "mariadb"))
        atexit.register(base.DB.stop)
    t0 = time.time()
    result = None
    try:
        base.DB.start()
        # the rows about sizes are written for these limits (larger than the defaults); the
        # flood rows open hundreds of connections from 127.0.0.1 in a burst, which a slow
        # (sanitizer) build may still count when the next row starts: no per-address limit here
        # (tests/api/test_conn.py tests it)
        limits = ["--auth-fail-limit", "0", "--max-url", "8192", "--max-header", "16384",
                  "--max-connections-per-ip", "10000"]
        SERVER = base.Server(base.make_seeded_db("hostile"), "hostile", extra_args=limits).start()
        LITERAL = base.Server(base.make_seeded_db("literal"), "literal",
                              extra_args=limits).start()
        r = send(SERVER, "GET", "/api/v1/clients/read.php?api_key=" + C1_KEY)
        BASELINE = (r.status, r.body)
        if r.status != 200:
            raise RuntimeError("the normal read does not work: %r" % (r,))
        loader = unittest.TestLoader()
        if names:
            suite = loader.loadTestsFromNames(names, sys.modules[__name__])
        else:
            suite = unittest.TestSuite(loader.loadTestsFromTestCase(c) for c in ORDER)
        counts = category_counts()
        total = sum(sum(c.values()) for c in counts.values())
        sys.stderr.write("hostile table: %d rows (%s)\n" % (total, "; ".join(
            "%s %d: %s" % (t, sum(c.values()), ", ".join("%s %d" % kv for kv in sorted(c.items())))
            for t, c in counts.items())))
        result = unittest.TextTestRunner(verbosity=2 if verbose else 1).run(suite)
    finally:
        for s in (SERVER, LITERAL):
            if s is not None:
                ensure_up(s, restart=False)
                s.stop()
        base.DB.stop()
        ok = result is not None and result.wasSuccessful()
        for name, last, known, code in CRASHES:
            sys.stderr.write("%s server died (exit %r) after %s%s\n" % (
                name, code, last, " (a known-bug row)" if known else ""))
            if not known:
                ok = False
        for s in (SERVER, LITERAL):
            if s is not None and s.exit_code not in (0, None):
                ok = False
                sys.stderr.write("%s server exit code %r\n" % (s.name, s.exit_code))
        if ok and not os.environ.get("ITFLOWD_KEEP"):
            shutil.rmtree(base.TMP, ignore_errors=True)
        else:
            sys.stderr.write("server logs and databases kept in %s\n" % base.TMP)
    sys.stderr.write("hostile tests took %.1fs\n" % (time.time() - t0))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))

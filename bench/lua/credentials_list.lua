-- bench/lua/credentials_list.lua — GET credentials/read.php?limit=50 with the decrypt password
-- (all-clients key): unwraps the master key and decrypts 2 x 50 fields per request. Static. The
-- password goes in X-API-Key-Decrypt-Password (A1), which both dialects read (v26.08 ignores the
-- query string's).
package.path = (os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/?.lua;" .. package.path
local bench = require("common")
wrk.path = "/api/v1/credentials/read.php?limit=50&api_key=" .. bench.ALL_KEY
wrk.headers["X-API-Key-Decrypt-Password"] = bench.DECRYPT_PW
bench.install{}

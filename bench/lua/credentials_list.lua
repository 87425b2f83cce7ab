-- bench/lua/credentials_list.lua — GET credentials/read.php?limit=50 with the decrypt password
-- (all-clients key): unwraps the master key and decrypts 2 x 50 fields per request. Static.
package.path = (os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/?.lua;" .. package.path
local bench = require("common")
wrk.path = "/api/v1/credentials/read.php?limit=50&api_key_decrypt_password=" .. bench.DECRYPT_PW ..
           "&api_key=" .. bench.ALL_KEY
bench.install{}

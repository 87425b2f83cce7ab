-- bench/lua/assets_scoped.lua — GET assets/read.php?limit=50 with the client-1 key: the list of
-- one client's assets through the key's scope (v26.07: the key's client; v26.08: the user's allow
-- list).
package.path = (os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/?.lua;" .. package.path
local bench = require("common")
wrk.path = "/api/v1/assets/read.php?limit=50&api_key=" .. bench.CLIENT_KEY
bench.install{}

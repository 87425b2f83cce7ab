-- bench/lua/clients_list.lua — GET clients/read.php?limit=50 (all-clients key): the first page of
-- 5,000 clients. Static request.
package.path = (os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/?.lua;" .. package.path
local bench = require("common")
wrk.path = "/api/v1/clients/read.php?limit=50&api_key=" .. bench.ALL_KEY
bench.install{}

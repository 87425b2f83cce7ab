-- bench/lua/ceiling.lua — GET /healthz: no key, no database; the server's request ceiling.
-- Static request (no request() hook), so wrk itself costs as little as possible.
package.path = (os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/?.lua;" .. package.path
local bench = require("common")
wrk.path = "/healthz"
bench.install{ expect = '"status":"ok"' }

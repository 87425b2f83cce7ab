-- bench/lua/tickets_first_page.lua — GET tickets/read.php?limit=50&after_id=A, A random in
-- 0..9: a first page of tickets by keyset, the reference for tickets_keyset_page (all-clients key).
package.path = (os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/?.lua;" .. package.path
local bench = require("common")
local path = "/api/v1/tickets/read.php?limit=50&after_id="
bench.install{
  request = function()
    return bench.get(path .. math.random(0, 9), bench.ALL_KEY)
  end,
}

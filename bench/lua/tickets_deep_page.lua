-- bench/lua/tickets_deep_page.lua — GET tickets/read.php?limit=50&offset=O, O random in
-- 90,000..99,000 (deep paging over 100,000 tickets; all-clients key).
package.path = (os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/?.lua;" .. package.path
local bench = require("common")
local path = "/api/v1/tickets/read.php?limit=50&offset="
bench.install{
  request = function()
    return bench.get(path .. math.random(90000, 99000), bench.ALL_KEY)
  end,
}

-- bench/lua/tickets_keyset_page.lua — GET tickets/read.php?limit=50&after_id=A, A random in
-- 90,000..99,000: the pages of tickets_deep_page read by keyset instead of offset (all-clients
-- key). Compare with tickets_first_page: the cost does not depend on the depth.
package.path = (os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/?.lua;" .. package.path
local bench = require("common")
local path = "/api/v1/tickets/read.php?limit=50&after_id="
bench.install{
  request = function()
    return bench.get(path .. math.random(90000, 99000), bench.ALL_KEY)
  end,
}

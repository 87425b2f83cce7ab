-- bench/lua/asset_by_id.lua — GET assets/read.php?asset_id=N, N random in 1..200,000
-- (all-clients key).
package.path = (os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/?.lua;" .. package.path
local bench = require("common")
local path = "/api/v1/assets/read.php?asset_id="
bench.install{
  request = function()
    return bench.get(path .. math.random(1, bench.N_ASSETS), bench.ALL_KEY)
  end,
}

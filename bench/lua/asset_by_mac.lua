-- bench/lua/asset_by_mac.lua — GET assets/read.php?asset_mac=M for a random existing primary
-- interface MAC (02:00:xx:xx:xx:xx; all-clients key).
package.path = (os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/?.lua;" .. package.path
local bench = require("common")
local path = "/api/v1/assets/read.php?asset_mac="
bench.install{
  request = function()
    return bench.get(path .. bench.asset_mac(math.random(1, bench.N_ASSETS)), bench.ALL_KEY)
  end,
}

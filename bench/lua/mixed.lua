-- bench/lua/mixed.lua — per request: 40% GET asset by random id, 40% GET clients/read.php?limit=50
-- (all-clients key), 20% POST tickets/create.php (client-scoped key).
package.path = (os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/?.lua;" .. package.path
local bench = require("common")
local clients = "/api/v1/clients/read.php?limit=50"
local n = 0
bench.install{
  request = function()
    local r = math.random()
    if r < 0.4 then
      return bench.get("/api/v1/assets/read.php?asset_id=" .. math.random(1, bench.N_ASSETS),
                       bench.ALL_KEY)
    elseif r < 0.8 then
      return bench.get(clients, bench.ALL_KEY)
    end
    n = n + 1
    return bench.post_json("/api/v1/tickets/create.php",
      '{"api_key":' .. bench.q(bench.CLIENT_KEY) .. ',"client_id":1' .. ',"ticket_subject":' ..
      bench.q("Mixed ticket " .. (tid or 0) .. "-" .. n) .. ',"ticket_priority":"Low"}')
  end,
}

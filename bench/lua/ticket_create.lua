-- bench/lua/ticket_create.lua — POST tickets/create.php with a JSON body (client-scoped key, so
-- every ticket lands in client 1 and takes the next number from the settings counter).
package.path = (os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/?.lua;" .. package.path
local bench = require("common")
local n = 0
local function ticket_body()
  n = n + 1
  return '{"api_key":' .. bench.q(bench.CLIENT_KEY) .. ',"client_id":1' ..
         ',"ticket_subject":' .. bench.q("Bench ticket " .. (tid or 0) .. "-" .. n) ..
         ',"ticket_details":"<p>Created by the wrk benchmark</p>"' ..
         ',"ticket_priority":' .. bench.q(({ "Low", "Medium", "High" })[math.random(1, 3)]) .. '}'
end
bench.install{
  request = function()
    return bench.post_json("/api/v1/tickets/create.php", ticket_body())
  end,
}

-- bench/lua/galera.lua — the MariaDB / Galera scenarios of bench/galera.sh (no dataset: a fresh
-- database with one client and the key BENCH_KEY). BENCH_OP picks the request:
--   create  POST tickets/create.php (every ticket takes the next number from the settings row:
--           the cluster's hottest row)
--   read    GET clients/read.php?limit=10
--   mixed   80% read, 20% create
package.path = (os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/?.lua;" .. package.path
local bench = require("common")
local key = os.getenv("BENCH_KEY") or ""
local op = os.getenv("BENCH_OP") or "read"
local n = 0
local function create()
  n = n + 1
  return bench.post_json("/api/v1/tickets/create.php",
    '{"api_key":' .. bench.q(key) .. ',"client_id":1,"ticket_subject":' ..
    bench.q("Bench ticket " .. (tid or 0) .. "-" .. n) .. '}')
end
local function read()
  return bench.get("/api/v1/clients/read.php?limit=10", key)
end
bench.install{
  request = function()
    if op == "create" or (op == "mixed" and math.random(1, 5) == 1) then
      return create()
    end
    return read()
  end,
}

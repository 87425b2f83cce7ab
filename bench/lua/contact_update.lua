-- bench/lua/contact_update.lua — POST contacts/update.php: a random contact of client 1
-- (contacts 1..10, the only ones the client-scoped key may touch) gets a new contact_title, unique
-- per thread and request (an update that changes nothing answers "False", as the reference does).
package.path = (os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/?.lua;" .. package.path
local bench = require("common")
local n, run = 0, os.time() -- run: the warm-up and the measured run start from the same seed
bench.install{
  request = function()
    local id = math.random(1, bench.CONTACTS_PER_CLIENT)
    n = n + 1
    return bench.post_json("/api/v1/contacts/update.php",
      '{"api_key":' .. bench.q(bench.CLIENT_KEY) .. ',"client_id":1,"contact_id":' .. id ..
      ',"contact_title":' .. bench.q("Title " .. run .. "-" .. (tid or 0) .. "-" .. n) .. '}')
  end,
}

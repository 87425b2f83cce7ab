-- bench/lua/contact_update.lua — POST contacts/update.php: a random contact of client 1
-- (contacts 1..10, the only ones the client-scoped key may touch) gets a random contact_title.
package.path = (os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/?.lua;" .. package.path
local bench = require("common")
bench.install{
  request = function()
    local id = math.random(1, bench.CONTACTS_PER_CLIENT)
    return bench.post_json("/api/v1/contacts/update.php",
      '{"api_key":' .. bench.q(bench.CLIENT_KEY) .. ',"contact_id":' .. id ..
      ',"contact_title":' .. bench.q("Title " .. math.random(1, 1000000)) .. '}')
  end,
}

-- bench/lua/contact_by_email.lua — GET contacts/read.php?contact_email=E for a random existing
-- contact's e-mail (c<i>@client<c>.example; all-clients key).
package.path = (os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/?.lua;" .. package.path
local bench = require("common")
local path = "/api/v1/contacts/read.php?contact_email="
bench.install{
  request = function()
    local email = bench.contact_email(math.random(1, bench.N_CONTACTS)):gsub("@", "%%40")
    return bench.get(path .. email, bench.ALL_KEY)
  end,
}

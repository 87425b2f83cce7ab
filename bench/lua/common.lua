-- bench/lua/common.lua — shared by every wrk scenario script (loaded with require("common")).
--
-- Holds the dataset layout (KEEP IN SYNC WITH bench/gen_dataset.py), the API keys from
-- shared/conformance/seed.sql, and bench.install{...}, which defines wrk's global hooks:
--   setup()    numbers the threads so each one seeds math.random deterministically
--              (seed = BENCH_SEED env, default 1, combined with the thread number);
--   response() counts responses that are not HTTP 200, and 200s whose body lacks the expected
--              marker (ITFlow answers most failures with 200 {"success":"False",...});
--   done()     prints one machine-readable line for bench/run.sh:
--              BENCH_RESULT requests=.. rps=.. p50_ms=.. p90_ms=.. p99_ms=.. max_ms=.. non200=..
--                           bad_body=.. connect=.. read=.. write=.. timeout=.. status4xx5xx=..
--              and, if something failed, BENCH_SAMPLE <status> <first 300 bytes of the body>.
local M = {}

M.ALL_KEY = "oracleAllClients0000000000000001"       -- api_keys 1, all clients
M.CLIENT_KEY = "oracleClientScoped00000000000002"    -- api_keys 2, client 1 only
M.DECRYPT_PW = "oracleDecryptPassword00000000001"

M.N_CLIENTS = 5000
M.CONTACTS_PER_CLIENT = 10
M.ASSETS_PER_CLIENT = 40
M.N_CONTACTS = M.N_CLIENTS * M.CONTACTS_PER_CLIENT   -- 50,000
M.N_ASSETS = M.N_CLIENTS * M.ASSETS_PER_CLIENT       -- 200,000
M.N_TICKETS = 100000
M.SUCCESS = '"success":"True"'

-- contact i belongs to client (i-1)//10 + 1 and has e-mail c<i>@client<client>.example
function M.contact_email(i)
  return string.format("c%d@client%d.example", i, math.floor((i - 1) / M.CONTACTS_PER_CLIENT) + 1)
end

-- asset i has one primary interface with MAC 02:00:<i as four big-endian bytes>
function M.asset_mac(i)
  return string.format("02:00:%02X:%02X:%02X:%02X", math.floor(i / 16777216) % 256,
                       math.floor(i / 65536) % 256, math.floor(i / 256) % 256, i % 256)
end

-- A GET with the key in the query string, as ITFlow clients send it.
function M.get(path_and_query, key)
  local sep = path_and_query:find("?", 1, true) and "&" or "?"
  return wrk.format("GET", path_and_query .. sep .. "api_key=" .. key)
end

-- A POST with a JSON body carrying the key (the usual ITFlow client form).
function M.post_json(path, json)
  return wrk.format("POST", path, { ["Content-Type"] = "application/json" }, json)
end

-- JSON-safe string literal for the simple ASCII values the scripts generate.
function M.q(s)
  return '"' .. tostring(s):gsub('[%c"\\]', "") .. '"'
end

local threads = {}

-- opts.request: function() -> raw request (omit for a static request: wrk's fastest path)
-- opts.expect:  substring every 200 body must contain (default '"success":"True"')
function M.install(opts)
  local expect = opts.expect or M.SUCCESS

  function setup(thread)
    threads[#threads + 1] = thread
    thread:set("tid", #threads)
  end

  function init(args)
    local seed = tonumber(os.getenv("BENCH_SEED") or "1") or 1
    math.randomseed(seed * 1000 + (tid or 0))
    non200, bad_body, sample = 0, 0, ""
  end

  if opts.request then request = opts.request end

  function response(status, headers, body)
    if status ~= 200 then
      non200 = non200 + 1
    elseif expect ~= "" and not (body and body:find(expect, 1, true)) then
      bad_body = bad_body + 1
    else
      return
    end
    if sample == "" then
      sample = tostring(status) .. " " .. (body or ""):sub(1, 300):gsub("%s+", " ")
    end
  end

  function done(summary, latency, requests)
    local n200, nbad, smp = 0, 0, ""
    for _, t in ipairs(threads) do
      n200 = n200 + (tonumber(t:get("non200")) or 0)
      nbad = nbad + (tonumber(t:get("bad_body")) or 0)
      if smp == "" then smp = t:get("sample") or "" end
    end
    local e = summary.errors
    local secs = summary.duration / 1e6
    io.write(string.format(
      "BENCH_RESULT requests=%d rps=%.2f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f " ..
      "non200=%d bad_body=%d connect=%d read=%d write=%d timeout=%d status4xx5xx=%d\n",
      summary.requests, summary.requests / secs, latency:percentile(50) / 1000,
      latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
      n200, nbad, e.connect, e.read, e.write, e.timeout, e.status))
    if smp ~= "" then io.write("BENCH_SAMPLE " .. smp .. "\n") end
  end
end

return M

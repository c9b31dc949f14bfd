-- wrk script shared by every target: method, body and key come from the environment so the
-- same request goes to each server. done() prints one JSON line the bench parses.
wrk.method = os.getenv("BENCH_METHOD") or "GET"
wrk.headers["X-Api-Key"] = os.getenv("BENCH_KEY")
wrk.headers["Accept"] = "application/json"
local body = os.getenv("BENCH_BODY")
if body and #body > 0 then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end

-- A body with `{tag}` gets a new 32-hex tag in its place for every request, so that every PATCH
-- changes the user (one that sends back the stored value is a no-op in users-edge: lib/load.mjs).
if body and body:find("{tag}", 1, true) then
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
  local r = math.random
  request = function()
    local tag = string.format("%08x%08x%08x%08x", r(0, 0x7fffffff), r(0, 0x7fffffff), r(0, 0x7fffffff), r(0, 0x7fffffff))
    return wrk.format(nil, nil, nil, (body:gsub("{tag}", tag, 1)))
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\nBENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max))
end

-- wrk script for page reads: GET the path given after `--`, then one line
--   RESULT requests non2xx errors requests/s p50 p95 p99 max (ms)
local path = "/"
function init(args)
  if args[1] then path = args[1] end
end
function request()
  return wrk.format("GET", path, { ["Accept"] = "text/html" })
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %.1f %.1f %.1f %.1f %.1f\n", summary.requests, e.status,
    e.connect + e.read + e.write + e.timeout, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000))
end

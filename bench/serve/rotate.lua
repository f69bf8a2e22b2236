-- bench/serve/rotate.lua — wrk script of bench/serve/run.py.
--
-- Rotates through a fixed list of request paths (one per line in the file
-- named by $WRK_PATHS; each wrk thread starts at its own offset) and, when
-- the run ends, writes the summary as JSON to the file named by $WRK_OUT:
-- requests, duration, socket errors, non-2xx/3xx responses and latency
-- percentiles in microseconds (wrk's own histogram).

local paths = {}
local counter = 0
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  local f = assert(io.open(os.getenv("WRK_PATHS"), "r"))
  for line in f:lines() do
    if #line > 0 then paths[#paths + 1] = line end
  end
  f:close()
  counter = ((tid or 0) * 7919) % #paths
end

function request()
  counter = counter % #paths + 1
  return wrk.format("GET", paths[counter])
end

function done(summary, latency, requests)
  local e = summary.errors
  local out = string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"mean": %.1f, "stdev": %.1f, "min": %d, "max": %d, ' ..
    '"p50": %d, "p90": %d, "p99": %d, "p99.9": %d}}',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.stdev, latency.min, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9))
  local f = assert(io.open(os.getenv("WRK_OUT"), "w"))
  f:write(out)
  f:close()
end

-- wrk script for bench/run.py: requests rotate over the paths listed (one per line) in the
-- file named by BENCH_PATHS, each thread starting at a different offset; at the end one
-- line `BENCH_JSON {...}` carries the counts and latency percentiles (microseconds).
-- A line `path<TAB>etag` sends that ETag in `If-None-Match` (conditional GET, issue #18).

local paths = {}
local etags = {}
local counter = 0

local function load_paths()
  local file = assert(io.open(os.getenv("BENCH_PATHS"), "r"))
  for line in file:lines() do
    if #line > 0 then
      local path, etag = line:match("^([^\t]+)\t(.+)$")
      paths[#paths + 1] = path or line
      etags[#paths] = etag
    end
  end
  file:close()
  assert(#paths > 0, "BENCH_PATHS lists no path")
end

local function headers_for(etag)
  local headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  headers["If-None-Match"] = etag
  return headers
end

local thread_count = 0
function setup(thread)
  thread:set("offset", thread_count * 7919)
  thread_count = thread_count + 1
end

function init(args)
  load_paths()
  counter = (offset or 0) % #paths
end

function request()
  counter = counter % #paths + 1
  local etag = etags[counter]
  if etag then return wrk.format(nil, paths[counter], headers_for(etag)) end
  return wrk.format(nil, paths[counter])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "p999": %d, "max": %d, "mean": %.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean))
end

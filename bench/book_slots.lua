-- wrk script: book a different slot with every request, and count the answers by status and code.
--
-- BENCH_BODIES_FILE names a file with one JSON request body per line, e.g.
--   {"type": "coaching_30", "provider_id": 4, "starts_at": "2026-03-02T09:00:00-05:00"}
-- (bench/run.py writes it from a slot search). Every request is a POST of the next body to the
-- URL's path with Content-Type: application/json; other headers (the session cookie) are given
-- to wrk with -H as usual. Each wrk thread has its own Lua state and counter, so thread k of n
-- (n from BENCH_WRK_THREADS, which must equal wrk's -t) takes lines k, k+n, k+2n, ...: no two
-- threads try the same slot. When a thread's share runs out it starts over, and those requests
-- are (correctly) 409s.
--
-- At the end one line per kind of answer is printed, e.g. "bench-status 201 ok 812" and
-- "bench-status 409 slot_taken 3" (status and the error's code), which bench/run.py reads.
--
--   BENCH_BODIES_FILE=/tmp/bodies BENCH_WRK_THREADS=2 \
--     wrk -t2 -c16 -d8s -s bench/book_slots.lua -H 'Cookie: ...' URL

local threads = {}

function setup(thread)
  -- wrk sets up and starts one thread after the other (setup, then that thread's init), so the
  -- number of threads comes from BENCH_WRK_THREADS (run.py sets it to wrk's -t), not from here.
  table.insert(threads, thread)
  thread:set("thread_index", #threads)
end

local bodies = {}
local counter = 0
counts = {}  -- global: read from done() through thread:get

function init(args)
  local path = os.getenv("BENCH_BODIES_FILE")
  assert(path ~= nil and path ~= "", "book_slots.lua: set BENCH_BODIES_FILE")
  local f = assert(io.open(path, "rb"), "book_slots.lua: cannot open BENCH_BODIES_FILE " .. path)
  local all = {}
  for line in f:lines() do
    if line ~= "" then
      table.insert(all, line)
    end
  end
  f:close()
  assert(#all > 0, "book_slots.lua: BENCH_BODIES_FILE is empty")
  local thread_count = tonumber(os.getenv("BENCH_WRK_THREADS") or "")
  assert(thread_count ~= nil and thread_count >= thread_index, "book_slots.lua: set BENCH_WRK_THREADS to wrk's -t")
  for i = thread_index, #all, thread_count do
    table.insert(bodies, all[i])
  end
  if #bodies == 0 then
    bodies = all  -- more threads than bodies: this thread only repeats taken slots
  end
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

function request()
  counter = counter + 1
  local body = bodies[(counter - 1) % #bodies + 1]
  return wrk.format("POST", nil, nil, body)
end

function response(status, headers, body)
  local key = tostring(status)
  if status >= 400 then
    key = key .. " " .. (string.match(body or "", '"code"%s*:%s*"([%w_]+)"') or "?")
  else
    key = key .. " ok"
  end
  counts[key] = (counts[key] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for key, n in pairs(thread:get("counts") or {}) do
      total[key] = (total[key] or 0) + n
    end
  end
  for key, n in pairs(total) do
    io.write(string.format("bench-status %s %d\n", key, n))
  end
end

-- wrk script: send every request as a POST with a JSON body.
--
-- The body comes from the environment variable BENCH_BODY, or from the file named by
-- BENCH_BODY_FILE; with neither set it is "{}". The method can be changed with BENCH_METHOD
-- (e.g. PATCH) and the content type with BENCH_CONTENT_TYPE (a signed form for the Twilio
-- webhook). Other headers (the session cookie) are given to wrk with -H as usual.
--
--   BENCH_BODY='{"email": "x@example.com"}' wrk -s bench/post_json.lua -H 'Cookie: ...' URL

local function read_body()
  local inline = os.getenv("BENCH_BODY")
  if inline ~= nil and inline ~= "" then
    return inline
  end
  local path = os.getenv("BENCH_BODY_FILE")
  if path ~= nil and path ~= "" then
    local f = assert(io.open(path, "rb"), "post_json.lua: cannot open BENCH_BODY_FILE " .. path)
    local data = f:read("*a")
    f:close()
    return data
  end
  return "{}"
end

wrk.method = os.getenv("BENCH_METHOD") or "POST"
wrk.body = read_body()
wrk.headers["Content-Type"] = os.getenv("BENCH_CONTENT_TYPE") or "application/json"

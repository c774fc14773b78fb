-- wrk script for engagement_load.py: star votes (or plain GETs) with per-status counts.
--
-- Configured by environment variables, set by engagement_load.py:
--   BENCH_MODE          "new"       POST a vote with no cookie: every request is a new reader
--                                   (the server's Set-Cookie is deliberately dropped)
--                       "returning" POST a vote with a reader cookie from BENCH_COOKIES (one
--                                   per line, handed out round-robin): readers changing votes
--                       "get"       GET the URL given to wrk (the article page)
--   BENCH_STORY         story id for the vote endpoint
--   BENCH_ORIGIN        Origin header, as a browser sends it on a form POST
--   BENCH_THREADS       the -t given to wrk (to split cookies and the request bound)
--   BENCH_MAX_REQUESTS  stop after this many responses in all (0: only the -d bound)
--   BENCH_EXPECT_COUNT  "returning": the tally every vote response must report
--   BENCH_OUT           where done() writes its JSON summary

local mode = os.getenv("BENCH_MODE") or "get"
local story = os.getenv("BENCH_STORY") or "0"
local origin = os.getenv("BENCH_ORIGIN") or ""
local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
local max_total = tonumber(os.getenv("BENCH_MAX_REQUESTS") or "0")
local expect_count = tonumber(os.getenv("BENCH_EXPECT_COUNT") or "-1")
local cookie_file = os.getenv("BENCH_COOKIES")
local out_path = os.getenv("BENCH_OUT")

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  -- Globals, so that done() can read them with thread:get().
  statuses = {}
  sent = 0
  received = 0
  bad_tally = 0
  limit = 0
  if max_total > 0 then
    limit = math.ceil(max_total / nthreads)
  end
  cookies = {}
  if mode == "returning" then
    local index = 0
    for line in io.lines(cookie_file) do
      if line ~= "" then
        if index % nthreads == id then
          table.insert(cookies, line)
        end
        index = index + 1
      end
    end
  end
  next_cookie = 1
  vote_path = "/engagement/stories/" .. story .. "/vote/"
end

if mode ~= "get" then
  function request()
    sent = sent + 1
    local headers = {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["Accept"] = "application/json",
      ["Origin"] = origin,
    }
    if mode == "returning" then
      headers["Cookie"] = cookies[next_cookie]
      next_cookie = next_cookie % #cookies + 1
    end
    return wrk.format("POST", vote_path, headers, "stars=" .. ((sent % 5) + 1))
  end
end

function response(status, headers, body)
  received = received + 1
  statuses[status] = (statuses[status] or 0) + 1
  if mode == "returning" and status == 200 then
    -- No reader is new, so the fresh tally in every answer must stay the same.
    local count = tonumber(string.match(body, '"count": (%d+)'))
    if count ~= expect_count then
      bad_tally = bad_tally + 1
    end
  end
  if limit > 0 and received >= limit then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local codes, total_sent, total_received, total_bad = {}, 0, 0, 0
  for _, thread in ipairs(threads) do
    for code, n in pairs(thread:get("statuses")) do
      codes[code] = (codes[code] or 0) + n
    end
    total_sent = total_sent + thread:get("sent")
    total_received = total_received + thread:get("received")
    total_bad = total_bad + thread:get("bad_tally")
  end
  -- wrk calls request() once in the first thread to check the script before connecting:
  -- that request is never sent.
  if mode ~= "get" then
    total_sent = total_sent - 1
  end
  local parts = {}
  for code, n in pairs(codes) do
    table.insert(parts, string.format('"%d": %d', code, n))
  end
  local e = summary.errors
  local f = assert(io.open(out_path, "w"))
  f:write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "p999": %d, "max": %d, "mean": %.1f}, ' ..
    '"statuses": {%s}, "sent": %d, "received": %d, "bad_tally": %d}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean,
    table.concat(parts, ", "), total_sent, total_received, total_bad))
  f:close()
end

-- wrk script for bench/state.ts: POST the JSON body in $BODY_FILE as a Claude Code session
-- would. SESSIONS=one: every request names the same session (the common case: one developer,
-- one conversation); SESSIONS=new: a new session per request (worst case for the state
-- backend: every request remembers a new sticky key). Prints one JSON line of figures.
local f = assert(io.open(os.getenv("BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["content-type"] = "application/json"
wrk.headers["anthropic-version"] = "2023-06-01"
wrk.headers["x-api-key"] = "bench-client"
local mode = os.getenv("SESSIONS")
-- A prefix per run (from bench/state.ts): Lua's random numbers repeat from run to run, and a
-- session seen in an earlier run would be a refresh, not a new session.
local prefix = os.getenv("SESSION_PREFIX")
local n = 0
if mode == "one" then wrk.headers["x-claude-code-session-id"] = prefix end

function request()
  if mode == "new" then
    n = n + 1
    wrk.headers["x-claude-code-session-id"] = prefix .. "-" .. n
  end
  return wrk.format()
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"errors":%d,"p50":%d,"p99":%d}\n',
    summary.requests, summary.duration, errors, latency:percentile(50), latency:percentile(99)))
end

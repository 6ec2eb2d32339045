-- wrk script for bench/state.ts: post.lua's request and figures, sent as a Claude Code session
-- would. SESSIONS=one: every request names the same session (the common case: one developer,
-- one conversation); SESSIONS=new: a new session per request (worst case for the state
-- backend: every request remembers a new sticky key).
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "post.lua")
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

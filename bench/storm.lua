-- wrk script: a burst of BURST (default 1000) concurrent requests whose tokens carry unknown `kid`s, one
-- per connection, then silence. Tokens come from STORM_FILE (written by the load target).
local tokens = {}
for line in io.lines(os.getenv("STORM_FILE")) do
  tokens[#tokens + 1] = line
end
local burst = tonumber(os.getenv("BURST") or "1000")
local sent = 0

request = function()
  local token = tokens[(sent % #tokens) + 1]
  return wrk.format("GET", "/protected", { ["Authorization"] = "Bearer " .. token })
end

-- wrk asks before every request, the first included: the burst goes at once, then each connection idles.
delay = function()
  sent = sent + 1
  if sent <= burst then
    return 0
  end
  return 600000
end

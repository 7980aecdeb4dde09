-- wrk script: each connection sends one request with a token whose `kid` is unknown, then idles, so
-- N connections make one burst of N concurrent unknown-kid requests.
local tokens = {}
for line in io.lines(os.getenv("STORM_FILE")) do
  tokens[#tokens + 1] = line
end
local counter = 0

request = function()
  counter = counter + 1
  local token = tokens[(counter % #tokens) + 1]
  return wrk.format("GET", "/protected", { ["Authorization"] = "Bearer " .. token })
end

delay = function()
  return 60000
end

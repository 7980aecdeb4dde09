-- wrk script: DPoP requests, each with the next proof of PROOFS (a file the load target wrote, one
-- proof a line) and `Authorization: DPoP TOKEN`, to ROUTE. SKIP lines are passed over (proofs an
-- earlier run spent).
-- The floor routes get the very same requests, so the two differ only by what the server does.
local proofs = {}
local skip = tonumber(os.getenv("SKIP") or "0")
local n = 0
for line in io.lines(os.getenv("PROOFS")) do
  n = n + 1
  if n > skip then
    proofs[#proofs + 1] = line
  end
end
local token = os.getenv("TOKEN")
local route = os.getenv("ROUTE")
local sent = 0

request = function()
  sent = sent + 1
  -- Past the end, a proof is sent again: the DPoP route refuses it as a replay, and wrk_summary
  -- fails the run, so a file too short never passes unnoticed.
  local proof = proofs[((sent - 1) % #proofs) + 1]
  return wrk.format("GET", route, { ["Authorization"] = "DPoP " .. token, ["DPoP"] = proof })
end

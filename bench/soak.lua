-- wrk script for bench/soak.sh.
--
-- MODE=steady: GET /protected with one token (verified-token cache hits), re-minted every REMINT
--   requests so it never outlives the keys the issuer still publishes. Any connection count.
-- MODE=fresh: a new token for every request, cycling JWT, opaque (introspection) and DPoP-bound;
--   each DPoP proof is sent a second time, and that replay must be refused. One connection per
--   thread (wrk -tN -cN), so a thread's requests and responses alternate strictly and the script
--   knows what each response answers.
local mode = os.getenv("MODE") or "steady"
local remint = tonumber(os.getenv("REMINT") or "2000")
local kinds = { "jwt", "opaque", "dpop" }

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  sent, token, proof, expect = 0, nil, nil, "mint"
  kind_index = 0
  accepted, false_refusals, unavailable = 0, 0, 0
  replays_refused, replays_accepted = 0, 0
end

local function mint_request()
  kind_index = kind_index % #kinds + 1
  local kind = mode == "steady" and "jwt" or kinds[kind_index]
  expect = "mint:" .. kind
  return wrk.format("GET", "/_mint?kind=" .. kind)
end

function request()
  sent = sent + 1
  if mode == "steady" then
    if token == nil or sent % remint == 0 then
      return wrk.format("GET", "/_mint?kind=jwt")
    end
    return wrk.format("GET", "/protected", { ["Authorization"] = "Bearer " .. token })
  end
  -- wrk calls request() once more than it sends at start: whatever was asked for last is what the
  -- next response answers, so asking for a token again is harmless.
  if expect == "mint" or token == nil then
    return mint_request()
  end
  if expect == "replay" or expect == "dpop" then
    return wrk.format("GET", "/protected", { ["Authorization"] = "DPoP " .. token, ["DPoP"] = proof })
  end
  return wrk.format("GET", "/protected", { ["Authorization"] = "Bearer " .. token })
end

function response(status, headers, body)
  if mode == "steady" then
    -- Several connections per thread: a response is told apart by its body.
    if status ~= 200 then
      false_refusals = false_refusals + 1
    elseif body:sub(1, 2) == "ey" then
      token = body
    else
      accepted = accepted + 1
    end
    return
  end
  if expect:sub(1, 5) == "mint:" then
    local kind = expect:sub(6)
    if kind == "dpop" then
      token, proof = body:match("^(%S+) (%S+)$")
    else
      token = body
    end
    current_kind = kind
    expect = kind == "dpop" and "dpop" or "use"
    return
  end
  if expect == "replay" then
    if status == 401 then replays_refused = replays_refused + 1 else replays_accepted = replays_accepted + 1 end
    expect = "mint"
    return
  end
  if status == 200 then
    accepted = accepted + 1
  elseif status == 503 and current_kind == "opaque" then
    -- The issuer is down and this opaque token was never introspected: nobody can say it is valid.
    unavailable = unavailable + 1
  else
    false_refusals = false_refusals + 1
  end
  if expect == "dpop" then
    expect = "replay"
  elseif mode == "fresh" then
    expect = "mint"
  end
end

function done(summary, latency, requests)
  local totals = { accepted = 0, false_refusals = 0, unavailable = 0, replays_refused = 0, replays_accepted = 0 }
  for _, thread in ipairs(threads) do
    for name, _ in pairs(totals) do
      totals[name] = totals[name] + (thread:get(name) or 0)
    end
  end
  io.write(string.format("SOAK %s accepted=%d false_refusals=%d unavailable=%d replays_refused=%d replays_accepted=%d\n",
    mode, totals.accepted, totals.false_refusals, totals.unavailable, totals.replays_refused, totals.replays_accepted))
end

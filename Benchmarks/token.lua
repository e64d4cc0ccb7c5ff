-- wrk script: client_credentials token requests with HTTP Basic (env
-- CLIENT_ID, CLIENT_SECRET, optional SCOPE). Prints NON2XX=<count> at the
-- end, as gateway.lua does. pirvault's client ids and secrets are URL-safe
-- apart from `!` and `|`, which Basic carries as they are.
local function base64(data)
  local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
  local out = {}
  for i = 1, #data, 3 do
    local a, b, c = data:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    for j = 3, 0, -1 do
      local index = math.floor(n / 64 ^ j) % 64
      out[#out + 1] = alphabet:sub(index + 1, index + 1)
    end
    if not b then out[#out - 1], out[#out] = "=", "=" elseif not c then out[#out] = "=" end
  end
  return table.concat(out)
end
local id = os.getenv("CLIENT_ID") or error("CLIENT_ID not set")
local secret = os.getenv("CLIENT_SECRET") or error("CLIENT_SECRET not set")
local scope = os.getenv("SCOPE") or ""
wrk.method = "POST"
wrk.body = "grant_type=client_credentials" .. (scope ~= "" and ("&scope=" .. scope) or "")
wrk.headers["Authorization"] = "Basic " .. base64(id .. ":" .. secret)
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) non2xx = 0 end
function response(status, headers, body) if status ~= 200 then non2xx = non2xx + 1 end end
function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do n = n + (t:get("non2xx") or 0) end
  io.write(string.format("NON2XX=%d\n", n))
end

-- wrk script: calls a flow through the gateway with a Bearer token (env TOKEN, FLOW).
wrk.method = "POST"
wrk.path = os.getenv("FLOW") or "/http/orders/1"
wrk.body = "<order/>"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("TOKEN") or error("TOKEN not set"))
wrk.headers["Content-Type"] = "application/xml"
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) non2xx = 0 end
function response(status, headers, body) if status ~= 200 then non2xx = non2xx + 1 end end
function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do n = n + (t:get("non2xx") or 0) end
  io.write(string.format("NON2XX=%d\n", n))
end

-- Cold 15-year runBacktests at a steady pace (one every PACE_MS, default 50), so that the
-- background cache writer keeps up and every result reaches the cache table: the latency of
-- a cold run under a load the server sustains with nothing skipped.
local counter = 0
local token = os.getenv("TOKEN")
local pace = tonumber(os.getenv("PACE_MS") or "50")
function init(args)
  math.randomseed(os.time() + 7)
  counter = math.random(100000001, 200000000)
end
function delay()
  return pace
end
request = function()
  counter = counter + 1
  local body = string.format('{"query":"mutation($i: BacktestInput!) { runBacktest(input: $i) { backtestSession { status cacheHit result { summary { finalEquity cagr sharpe maxDrawdown } } } } }","variables":{"i":{"ticker":"SPY","mode":"LIQUIDATION_REENTRY","startDate":"2010-01-04","endDate":"2024-12-31","leverage":2,"initialInvestment":%d}}}', counter)
  local headers = { ["content-type"] = "application/json" }
  if token then headers["authorization"] = "Bearer " .. token end
  return wrk.format("POST", "/graphql", headers, body)
end

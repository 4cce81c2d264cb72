-- A cold 15-year runBacktest per request: every request a new initialInvestment, so nothing
-- is cached. Asks for the summary only.
local counter = 0
local token = os.getenv("TOKEN")
function init(args)
  math.randomseed(os.time())
  counter = math.random(1, 100000000)
end
request = function()
  counter = counter + 1
  local body = string.format('{"query":"mutation($i: BacktestInput!) { runBacktest(input: $i) { backtestSession { status cacheHit result { summary { finalEquity cagr sharpe maxDrawdown } } } } }","variables":{"i":{"ticker":"SPY","mode":"LIQUIDATION_REENTRY","startDate":"2010-01-04","endDate":"2024-12-31","leverage":2,"initialInvestment":%d}}}', 100000 + counter)
  local headers = { ["content-type"] = "application/json" }
  if token then headers["authorization"] = "Bearer " .. token end
  return wrk.format("POST", "/graphql", headers, body)
end

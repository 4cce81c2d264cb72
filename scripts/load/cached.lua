-- The same 15-year runBacktest every time, signed in: a cache hit (a new session row per
-- request). Asks for the summary only.
local token = os.getenv("TOKEN")
wrk.method = "POST"
wrk.path = "/graphql"
wrk.headers["content-type"] = "application/json"
if token then wrk.headers["authorization"] = "Bearer " .. token end
wrk.body = [[{"query":"mutation($i: BacktestInput!) { runBacktest(input: $i) { backtestSession { status cacheHit result { summary { finalEquity cagr sharpe maxDrawdown } } } } }","variables":{"i":{"ticker":"SPY","mode":"LIQUIDATION_REENTRY","startDate":"2010-01-04","endDate":"2024-12-31","leverage":2,"initialInvestment":100000}}}]]

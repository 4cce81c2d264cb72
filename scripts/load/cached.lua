-- The same 15-year runBacktest every time: a cache hit (a new session row per request).
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.body = [[{"query":"mutation($i: BacktestInput!) { runBacktest(input: $i) { status cacheHit result { summary { finalEquity cagr sharpe maxDrawdown } } } }","variables":{"i":{"ticker":"SPY","mode":"LIQUIDATION_REENTRY","startDate":"2010-01-04","endDate":"2024-12-31","leverage":2,"initialInvestment":100000}}}]]

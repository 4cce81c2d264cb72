-- Hostile traffic for mixed.sh: anonymous requests that each come from a new address (a
-- trusted proxy's X-Forwarded-For), so the rate limits cannot shield the server and the cost
-- analysis must: the fragment fan-out, 4 x 100 `raw`, 124 `prices` aliases, 6 runBacktest
-- aliases, in turn.
local bodies = {}
local function add(query) bodies[#bodies + 1] = '{"query":' .. string.format("%q", query):gsub("\\\n", "\\n") .. '}' end
local fan = "query { ...F22 } fragment F0 on Query { __typename }"
for i = 1, 22 do fan = fan .. string.format(" fragment F%d on Query { ...F%d ...F%d }", i, i - 1, i - 1) end
add(fan)
local raw = "{"
for i = 0, 3 do raw = raw .. string.format(" a%d: backtestSessions(first: 100) { nodes { result { raw } } }", i) end
add(raw .. " }")
local prices = "{"
for i = 0, 123 do prices = prices .. string.format(' p%d: prices(ticker: "SPY", every: 1) { every }', i) end
add(prices .. " }")
local runs = "mutation {"
for i = 0, 5 do
  runs = runs .. string.format(' r%d: runBacktest(input: {ticker: "SPY", mode: FRESH_CAPITAL, startDate: "2010-01-04", endDate: "2024-12-31", leverage: 2, initialInvestment: %d}) { backtestSession { sessionId } }', i, 100000 + i)
end
add(runs .. " }")
local n = 0
request = function()
  n = n + 1
  local headers = {
    ["content-type"] = "application/json",
    ["x-forwarded-for"] = string.format("10.%d.%d.%d", math.random(0, 255), math.random(0, 255), math.random(1, 254)),
  }
  return wrk.format("POST", "/graphql", headers, bodies[(n % #bodies) + 1])
end

-- savedResults(first: 20): summaries of the caller's saved results.
wrk.method = "POST"
wrk.path = "/graphql"
wrk.headers["content-type"] = "application/json"
wrk.headers["authorization"] = "Bearer " .. (os.getenv("TOKEN") or "")
wrk.body = [[{"query":"{ savedResults(first: 20) { edges { node { resultId name tags ticker mode startDate endDate leverage createdAt } } pageInfo { hasNextPage endCursor } } }"}]]

//! The price of a request, computed on the parsed document before validation and before any
//! resolver runs, in time linear in the document's size: each fragment is priced once per type
//! it is spread into (memoised), so a document whose fragments fan out exponentially is priced
//! in microseconds and refused, where async-graphql's own validation would expand it.
//!
//! The model (documented in the README, *Cost of a request*):
//! - every field costs 1 point, plus what it carries: rows for `prices`, `dividends`,
//!   `rates`, `daily`, `figures`, `raw` and `legacyResults`; an engine run for `calculate`, `runBacktest`, `marginCallOdds` (and its
//!   `maxLeverage`) and `forwardRisk`;
//! - a connection multiplies what is under its `edges`/`nodes` by its page size (`first`,
//!   else the default page of 20, at most 100); any other list multiplies its children by
//!   [`LIST_GUESS`] (or by the length of the list it was asked for);
//! - introspection (`__schema`, `__type`) costs a point per selected field, since its size
//!   is bounded by the schema;
//! - a fragment that spreads itself is not priced again (validation refuses the cycle).
//!
//! Arithmetic saturates, so no document overflows the count.

use std::collections::HashMap;

use async_graphql::{
    Name, Request, Value, Variables,
    parser::types::{ExecutableDocument, Field, OperationDefinition, Selection, SelectionSet},
};

use super::{shape::SchemaShape, types::backtest::DailyColumn};
use crate::{
    auth::{AuthContext, Via},
    config::Config,
    error::ApiError,
    services::pagination::{DEFAULT_FIRST, MAX_FIRST},
};

/// Multiplier for a list field whose length the request does not say.
pub(crate) const LIST_GUESS: u64 = 10;
/// Trading days in the longest price history served (SPY since 1993 is about 8,300).
const HISTORY_ROWS: u64 = 10_000;
/// Rows of a price or rate series per point.
const ROWS_PER_POINT: u64 = 10;
/// Cells (rows × columns) of a daily table per point.
const CELLS_PER_POINT: u64 = 100;
/// Days drawn per figure per point: ten figures at the default `maxPoints` (1,500) cost 500,
/// at every day (`maxPoints: 0`) about 3,300, in line with the bytes each returns.
const FIGURE_ROWS_PER_POINT: u64 = 30;
const RAW_POINTS: u64 = 3_000;
/// Dividends in the longest history (quarterly for about 35 years).
const DIVIDEND_ROWS: u64 = 200;
const BACKTEST_POINTS: u64 = 100;
const CALCULATE_POINTS: u64 = 10;
const RISK_POINTS: u64 = 1_000;

/// What a request would cost: points and engine runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Cost {
    pub(crate) points: u64,
    pub(crate) engine_runs: u64,
}

impl Cost {
    fn points(points: u64) -> Self {
        Cost {
            points,
            engine_runs: 0,
        }
    }

    fn plus(self, other: Cost) -> Cost {
        Cost {
            points: self.points.saturating_add(other.points),
            engine_runs: self.engine_runs.saturating_add(other.engine_runs),
        }
    }

    fn times(self, n: u64) -> Cost {
        Cost {
            points: self.points.saturating_mul(n),
            engine_runs: self.engine_runs.saturating_mul(n),
        }
    }
}

/// The price of running `operation` of `document` with `variables`.
pub(crate) fn price(
    document: &ExecutableDocument,
    operation: &OperationDefinition,
    variables: &Variables,
    shape: &SchemaShape,
) -> Cost {
    let Some(root) = shape.root(operation.ty) else {
        return Cost::default();
    };
    let mut walk = Walk {
        document,
        operation,
        variables,
        shape,
        memo: HashMap::new(),
        in_progress: Vec::new(),
    };
    walk.selection_set(&operation.selection_set.node, Some(root), Pricing::Normal)
}

/// How the fields of a selection set are priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Pricing {
    Normal,
    /// Introspection: a point per field, no multipliers.
    Flat,
    /// The fields of a connection: `edges` and `nodes` once per row of the page.
    Page(u64),
}

struct Walk<'a> {
    document: &'a ExecutableDocument,
    operation: &'a OperationDefinition,
    variables: &'a Variables,
    shape: &'a SchemaShape,
    /// The price of each fragment per type and pricing it was spread under.
    memo: HashMap<(&'a Name, Option<String>, Pricing), Cost>,
    /// Fragments being priced right now, to find cycles.
    in_progress: Vec<&'a Name>,
}

impl<'a> Walk<'a> {
    /// `parent` is None under a field the schema does not know (validation will refuse it).
    fn selection_set(
        &mut self,
        set: &'a SelectionSet,
        parent: Option<&str>,
        pricing: Pricing,
    ) -> Cost {
        let mut total = Cost::default();
        for item in &set.items {
            let cost = match &item.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let rows = match pricing {
                        Pricing::Page(rows)
                            if matches!(field.name.node.as_str(), "edges" | "nodes") =>
                        {
                            Some(rows)
                        }
                        _ => None,
                    };
                    let cost = self.field(field, parent, pricing == Pricing::Flat, rows);
                    cost.times(rows.unwrap_or(1))
                }
                Selection::InlineFragment(fragment) => {
                    let fragment = &fragment.node;
                    let on = fragment
                        .type_condition
                        .as_ref()
                        .map(|condition| condition.node.on.node.to_string());
                    let parent = on.as_deref().or(parent);
                    self.selection_set(&fragment.selection_set.node, parent, pricing)
                }
                Selection::FragmentSpread(spread) => {
                    self.spread(&spread.node.fragment_name.node, parent, pricing)
                }
            };
            total = total.plus(cost);
        }
        total
    }

    fn spread(&mut self, name: &'a Name, parent: Option<&str>, pricing: Pricing) -> Cost {
        let Some(fragment) = self.document.fragments.get(name) else {
            return Cost::default();
        };
        if self.in_progress.contains(&name) {
            // A cycle: validation refuses the document (BAD_REQUEST) before anything runs.
            return Cost::default();
        }
        let key = (name, parent.map(str::to_owned), pricing);
        if let Some(cost) = self.memo.get(&key) {
            return *cost;
        }
        self.in_progress.push(name);
        let on = fragment.node.type_condition.node.on.node.to_string();
        let cost = self.selection_set(&fragment.node.selection_set.node, Some(&on), pricing);
        self.in_progress.pop();
        self.memo.insert(key, cost);
        cost
    }

    /// `page_rows`: the field is a connection's `edges` or `nodes`, priced once per row by
    /// the caller, so its list length is the page's, not a guess.
    fn field(
        &mut self,
        field: &'a Field,
        parent: Option<&str>,
        flat: bool,
        page_rows: Option<u64>,
    ) -> Cost {
        let name = field.name.node.as_str();
        let children = &field.selection_set.node;
        if flat || name.starts_with("__") {
            let introspection = flat || name == "__schema" || name == "__type";
            let pricing = if introspection {
                Pricing::Flat
            } else {
                Pricing::Normal
            };
            return Cost::points(1).plus(self.selection_set(children, None, pricing));
        }
        let Some(shape) = parent.and_then(|parent| self.shape.field(parent, name)) else {
            return Cost::points(1).plus(self.selection_set(children, None, Pricing::Normal));
        };
        let returns = shape.returns.as_str();
        let under = if returns.ends_with("Connection") {
            let page = self
                .int_argument(field, "first")
                .or_else(|| self.int_argument(field, "last"))
                .map_or(i64::from(DEFAULT_FIRST), |n| {
                    n.clamp(0, i64::from(MAX_FIRST))
                })
                .unsigned_abs();
            self.selection_set(children, Some(returns), Pricing::Page(page))
        } else {
            let each = self.selection_set(children, Some(returns), Pricing::Normal);
            if shape.is_list && page_rows.is_none() && !children.items.is_empty() {
                each.times(self.list_length(parent, name, field))
            } else {
                each
            }
        };
        self.own(parent.unwrap_or_default(), name, field)
            .plus(under)
    }

    /// What the field itself carries beyond its one point.
    fn own(&self, parent: &str, name: &str, field: &Field) -> Cost {
        let every = || {
            self.int_argument(field, "every")
                .map_or(1, |n| n.clamp(1, 1_000) as u64)
        };
        let points = match (parent, name) {
            (_, "prices") | (_, "rates") if parent == self.root_name() => {
                HISTORY_ROWS / every() / ROWS_PER_POINT
            }
            ("BacktestResult", "daily") => {
                let daily_columns = DailyColumn::ALL.len() as u64;
                // The resolver serves each column once, however often it is asked for.
                let columns = self
                    .distinct_list_argument_len(field, "columns")
                    .map_or(daily_columns, |n| n.min(daily_columns));
                let rows = match self.int_argument(field, "points") {
                    Some(points) => points.clamp(1, HISTORY_ROWS as i64) as u64,
                    None => HISTORY_ROWS / every(),
                };
                rows.saturating_mul(columns) / CELLS_PER_POINT
            }
            ("BacktestResult", "figures") => {
                let rows = match self.int_argument(field, "maxPoints") {
                    Some(0) => HISTORY_ROWS,
                    Some(n) => n.clamp(1, HISTORY_ROWS as i64) as u64,
                    None => engine::figures::DEFAULT_MAX_POINTS as u64,
                };
                self.list_argument_len(field, "names")
                    .unwrap_or(engine::figures::FigureName::ALL.len() as u64)
                    .saturating_mul(rows.div_ceil(FIGURE_ROWS_PER_POINT))
            }
            // The old app's payload of an imported row, as large as a raw result.
            ("BacktestResult", "raw")
            | ("SavedResult", "legacyResults")
            | ("MarginCalculation", "legacyResults") => RAW_POINTS,
            (_, "runBacktest") => {
                return Cost {
                    points: 1 + BACKTEST_POINTS,
                    engine_runs: 1,
                };
            }
            // The risk lab: an odds run is about 10 backtests of work, forward risk up to
            // 20 at 100,000 paths; each is one engine run against the per-request cap.
            (_, "marginCallOdds") | ("MarginCallOdds", "maxLeverage") | (_, "forwardRisk") => {
                return Cost {
                    points: 1 + RISK_POINTS,
                    engine_runs: 1,
                };
            }
            // A sweep is its grid: a point per cell (so the anonymous budget holds about
            // 5,000 cells and a session's 10,000), one engine run against the cap.
            (_, "runSweep") => {
                return Cost {
                    points: 1 + self.sweep_cells(field),
                    engine_runs: 1,
                };
            }
            (_, "calculate") => {
                return Cost {
                    points: 1 + CALCULATE_POINTS,
                    engine_runs: 1,
                };
            }
            _ => 0,
        };
        Cost::points(1 + points)
    }

    fn root_name(&self) -> &str {
        self.shape.root(self.operation.ty).unwrap_or_default()
    }

    /// How many items a list field returns, as far as the request says.
    fn list_length(&self, parent: Option<&str>, name: &str, field: &Field) -> u64 {
        match (parent.unwrap_or_default(), name) {
            ("BacktestResult", "figures") => self
                .list_argument_len(field, "names")
                .unwrap_or(engine::figures::FigureName::ALL.len() as u64),
            (_, "dividends") => DIVIDEND_ROWS,
            _ => LIST_GUESS,
        }
    }

    /// The value of an argument, variables substituted (a variable left out takes its
    /// default in the operation, else null).
    fn argument(&self, field: &Field, name: &str) -> Option<Value> {
        let (_, value) = field.arguments.iter().find(|(n, _)| n.node == name)?;
        value
            .node
            .clone()
            .into_const_with(|variable| {
                let given = self.variables.get(&variable).cloned();
                let default = || {
                    self.operation
                        .variable_definitions
                        .iter()
                        .find(|d| d.node.name.node == variable)
                        .and_then(|d| d.node.default_value.as_ref())
                        .map(|v| v.node.clone())
                };
                Ok::<_, ()>(given.or_else(default).unwrap_or(Value::Null))
            })
            .ok()
    }

    /// Cells of a `runSweep(input:)`: the product of its axes' lengths (the largest grid
    /// allowed when the input does not say).
    fn sweep_cells(&self, field: &Field) -> u64 {
        let axis = |input: &Value, name: &str| match input {
            Value::Object(fields) => match fields.get(name) {
                Some(Value::Object(axis)) => match axis.get("values") {
                    Some(Value::List(values)) => Some(values.len() as u64),
                    _ => None,
                },
                Some(Value::Null) | None => Some(1),
                _ => None,
            },
            _ => None,
        };
        let input = self.argument(field, "input").unwrap_or(Value::Null);
        match (axis(&input, "x"), axis(&input, "y")) {
            (Some(x), Some(y)) => x.saturating_mul(y).max(1),
            _ => engine::sweep::MAX_CELLS as u64,
        }
    }

    fn int_argument(&self, field: &Field, name: &str) -> Option<i64> {
        match self.argument(field, name)? {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    fn distinct_list_argument_len(&self, field: &Field, name: &str) -> Option<u64> {
        match self.argument(field, name)? {
            Value::List(items) => {
                let distinct: std::collections::HashSet<String> =
                    items.iter().map(|item| item.to_string()).collect();
                Some(distinct.len() as u64)
            }
            _ => None,
        }
    }

    fn list_argument_len(&self, field: &Field, name: &str) -> Option<u64> {
        match self.argument(field, name)? {
            Value::List(items) => Some(items.len() as u64),
            _ => None,
        }
    }
}

/// What the caller may spend on one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Budget {
    pub(crate) points: u64,
    pub(crate) engine_runs: u64,
}

impl Budget {
    /// Anonymous callers get the smallest budget; sessions and API tokens their own. Refused
    /// or unchecked credentials get the anonymous one (the resolvers refuse them anyway).
    pub(crate) fn for_caller(config: &Config, auth: &AuthContext) -> Self {
        let points = match auth.caller().map(|caller| caller.via) {
            Some(Via::Session { .. }) => config.cost_limit_signed_in,
            Some(Via::ApiToken { .. }) => config.cost_limit_api_token,
            None => config.cost_limit_anonymous,
        };
        Budget {
            points,
            engine_runs: config.max_engine_runs,
        }
    }

    fn admits(&self, cost: Cost) -> Result<(), ApiError> {
        if cost.points <= self.points && cost.engine_runs <= self.engine_runs {
            Ok(())
        } else {
            Err(ApiError::TooComplex {
                cost: cost.points,
                limit: self.points,
                engine_runs: cost.engine_runs,
                engine_run_limit: self.engine_runs,
            })
        }
    }
}

/// Prices `request` (parsing it if it is not yet) and refuses it over `budget`. `Ok(None)`
/// when the document does not parse or names no operation: execution reports that.
pub(crate) fn check(
    request: &mut Request,
    shape: &SchemaShape,
    budget: &Budget,
) -> Result<Option<Cost>, ApiError> {
    let operation_name = request.operation_name.clone();
    // The document borrows the whole request; the variables step aside meanwhile.
    let variables = std::mem::take(&mut request.variables);
    let cost = match request.parsed_query() {
        Ok(document) => super::operation::selected(document, operation_name.as_deref())
            .map(|operation| price(document, operation, &variables, shape)),
        Err(_) => None,
    };
    request.variables = variables;
    if let Some(cost) = cost {
        budget.admits(cost)?;
    }
    Ok(cost)
}

/// True when the client asked for the price in the response (`"extensions": {"cost": true}`).
pub(crate) fn wants_report(request: &Request) -> bool {
    matches!(request.extensions.get("cost"), Some(Value::Boolean(true)))
}

/// `extensions.cost` of a response: what the request cost and what the caller may spend.
pub(crate) fn report(cost: Cost, budget: &Budget) -> Value {
    let mut fields = async_graphql::indexmap::IndexMap::new();
    fields.insert(Name::new("points"), Value::from(cost.points));
    fields.insert(Name::new("limit"), Value::from(budget.points));
    fields.insert(Name::new("engineRuns"), Value::from(cost.engine_runs));
    fields.insert(Name::new("engineRunLimit"), Value::from(budget.engine_runs));
    Value::Object(fields)
}

#[cfg(test)]
mod tests {
    use std::sync::LazyLock;

    use async_graphql::parser::parse_query;
    use serde_json::json;

    use super::*;

    static SHAPE: LazyLock<SchemaShape> =
        LazyLock::new(|| SchemaShape::from_sdl(&crate::graphql::sdl()));

    fn cost_with(query: &str, variables: serde_json::Value) -> Cost {
        let document = parse_query(query).expect("the test document parses");
        let operation =
            crate::graphql::operation::selected(&document, None).expect("one operation");
        price(
            &document,
            operation,
            &Variables::from_json(variables),
            &SHAPE,
        )
    }

    fn cost(query: &str) -> Cost {
        cost_with(query, json!({}))
    }

    fn budget() -> Budget {
        let config = Config::defaults();
        Budget {
            points: config.cost_limit_anonymous,
            engine_runs: config.max_engine_runs,
        }
    }

    #[test]
    fn a_plain_query_costs_a_point_per_field() {
        assert_eq!(cost("{ version { service engine } }"), Cost::points(3));
        assert_eq!(cost("{ __typename }"), Cost::points(1));
    }

    #[test]
    fn fragments_that_fan_out_are_priced_once_each() {
        // 2^22 expansions of one field: priced through the memo, not by expanding it.
        let mut query = String::from("query { ...F22 } fragment F0 on Query { __typename }");
        for i in 1..=22 {
            query.push_str(&format!(
                " fragment F{i} on Query {{ ...F{p} ...F{p} }}",
                p = i - 1
            ));
        }
        let priced = cost(&query);
        assert_eq!(priced.points, 1 << 22);
        assert!(budget().admits(priced).is_err());
    }

    #[test]
    fn a_fragment_cycle_is_left_to_validation() {
        // Priced without looping; the schema's validation then refuses the cycle.
        let priced = cost(
            "query { ...A } fragment A on Query { version { service } ...B } \
             fragment B on Query { ...A }",
        );
        assert_eq!(priced, Cost::points(2));
    }

    #[test]
    fn daily_columns_count_once_each() {
        let session = "backtestSession(sessionId: \"00000000-0000-4000-8000-000000000000\")";
        let all = cost(&format!(
            "{{ {session} {{ result {{ daily {{ every }} }} }} }}"
        ));
        let daily = |columns: &str| {
            cost(&format!(
                "{{ {session} {{ result {{ daily(columns: [{columns}]) {{ every }} }} }} }}"
            ))
        };
        let once = daily("EQUITY");
        assert_eq!(daily("EQUITY, EQUITY, EQUITY"), once);
        assert!(daily("EQUITY, LOAN").points > once.points);
        assert!(once.points < all.points, "{once:?} {all:?}");
    }

    #[test]
    fn fewer_points_cost_less() {
        let session = "backtestSession(sessionId: \"00000000-0000-4000-8000-000000000000\")";
        let result = |field: &str| cost(&format!("{{ {session} {{ result {{ {field} }} }} }}"));
        let daily_all = result("daily { every }");
        let daily_sampled = result("daily(points: 500) { every }");
        assert!(daily_sampled.points < daily_all.points / 10);
        let figures = |args: &str| result(&format!("figures{args} {{ name }}"));
        let default = figures("");
        assert_eq!(figures("(maxPoints: 1500)"), default);
        assert!(figures("(maxPoints: 150)").points < default.points);
        let every_day = figures("(maxPoints: 0)");
        assert!(
            every_day.points > 5 * default.points,
            "{every_day:?} {default:?}"
        );
        // Ten figures at every day stay within an anonymous caller's budget.
        assert!(every_day.points < 5_000, "{every_day:?}");
    }

    #[test]
    fn connections_multiply_their_rows_by_the_page() {
        let one = cost("{ backtestSessions(first: 1) { nodes { result { raw } } } }");
        let hundred = cost("{ backtestSessions(first: 100) { nodes { result { raw } } } }");
        // The connection field, `nodes`, `result` and `raw` once per row.
        assert_eq!(one.points, 1 + (1 + 1 + 1 + RAW_POINTS));
        assert_eq!(hundred.points, 1 + 100 * (1 + 1 + 1 + RAW_POINTS));
        let by_default = cost("{ backtestSessions { nodes { sessionId } } }");
        assert_eq!(by_default.points, 1 + DEFAULT_FIRST as u64 * 2);
        // The page comes from variables too, and `first` beyond the largest page is priced at it.
        let query =
            "query($n: Int) { backtestSessions(first: $n) { edges { node { sessionId } } } }";
        assert_eq!(cost_with(query, json!({"n": 50})).points, 1 + 50 * 3);
        assert_eq!(cost_with(query, json!({"n": 100_000})).points, 1 + 100 * 3);
        let defaulted =
            "query($n: Int = 7) { backtestSessions(first: $n) { nodes { sessionId } } }";
        assert_eq!(cost(defaulted).points, 1 + 7 * 2);
    }

    #[test]
    fn fragments_inside_a_connection_are_multiplied_too() {
        let spread = cost(
            "{ backtestSessions(first: 10) { ...Rows } } \
             fragment Rows on BacktestSessionConnection { nodes { sessionId } }",
        );
        let inline = cost(
            "{ backtestSessions(first: 10) { ... on BacktestSessionConnection { nodes { sessionId } } } }",
        );
        let plain = cost("{ backtestSessions(first: 10) { nodes { sessionId } } }");
        assert_eq!(spread, plain);
        assert_eq!(inline, plain);
    }

    #[test]
    fn the_amplification_requests_are_over_budget() {
        let sessions = (0..4)
            .map(|i| {
                format!("a{i}: backtestSessions(first: 100) {{ nodes {{ result {{ raw }} }} }}")
            })
            .collect::<Vec<_>>()
            .join(" ");
        assert!(budget().admits(cost(&format!("{{ {sessions} }}"))).is_err());
        let prices = (0..124)
            .map(|i| format!("p{i}: prices(ticker: \"SPY\", every: 1) {{ every }}"))
            .collect::<Vec<_>>()
            .join(" ");
        assert!(budget().admits(cost(&format!("{{ {prices} }}"))).is_err());
        // One full price history is fine; a thinned one costs less.
        let one = cost("{ prices(ticker: \"SPY\", every: 1) { every } }");
        assert!(budget().admits(one).is_ok());
        assert!(cost("{ prices(ticker: \"SPY\", every: 20) { every } }").points < one.points);
    }

    #[test]
    fn engine_runs_are_capped_per_request() {
        let runs = |n: usize| {
            let fields = (0..n)
                .map(|i| format!("r{i}: runBacktest(input: $input) {{ sessionId }}"))
                .collect::<Vec<_>>()
                .join(" ");
            cost(&format!("mutation($input: BacktestInput!) {{ {fields} }}"))
        };
        assert_eq!(runs(5).engine_runs, 5);
        assert!(budget().admits(runs(5)).is_ok());
        let six = runs(6);
        match budget().admits(six) {
            Err(ApiError::TooComplex {
                engine_runs: 6,
                engine_run_limit: 5,
                ..
            }) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn graphiql_introspection_fits_the_anonymous_budget() {
        let query = "query IntrospectionQuery { __schema { queryType { name } mutationType { name } \
            subscriptionType { name } types { ...FullType } directives { name description locations \
            args { ...InputValue } } } } \
            fragment FullType on __Type { kind name description fields(includeDeprecated: true) { \
            name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason } \
            inputFields { ...InputValue } interfaces { ...TypeRef } enumValues(includeDeprecated: true) { \
            name description isDeprecated deprecationReason } possibleTypes { ...TypeRef } } \
            fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue } \
            fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { \
            kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }";
        let priced = cost(query);
        assert!(budget().admits(priced).is_ok(), "{priced:?}");
    }

    #[test]
    fn the_report_says_what_was_spent_and_allowed() {
        let report = report(
            Cost {
                points: 12,
                engine_runs: 1,
            },
            &budget(),
        );
        let json = report.into_json().expect("JSON");
        assert_eq!(json["points"], 12);
        assert_eq!(json["engineRuns"], 1);
        assert_eq!(json["limit"], Config::defaults().cost_limit_anonymous);
    }
}

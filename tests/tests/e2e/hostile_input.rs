//! Hostile input: a table of bad requests across every argument of the schema and the HTTP
//! transport, sent anonymously, as a signed-in member and as an admin. Every answer must be a
//! typed GraphQL error (`extensions.code`, never INTERNAL_SERVER_ERROR) or a proper 4xx; no
//! message may carry internal text; and afterwards the server is healthy and nothing stored
//! before the matrix is lost.

use crate::margin_support;

use entity::stored_enums::{AccountType, PositionType};
use margin_support::{PASSWORD, login, run, users};
use serde_json::{Value, json};
use tests::{Backend, TestApp};

const BUI: &str = "BAD_USER_INPUT";
const BAD_REQUEST: &str = "BAD_REQUEST";
const PARSE: &str = "GRAPHQL_PARSE_FAILED";
const INVALID: &str = "GRAPHQL_VALIDATION_FAILED";
const UNAUTH: &str = "UNAUTHENTICATED";
const FORBIDDEN: &str = "FORBIDDEN";
const NOT_FOUND: &str = "NOT_FOUND";

/// Text that must never reach a client: driver, ORM and database errors, panics, source paths
/// and Rust type paths.
const LEAKS: &[&str] = &[
    "sqlx",
    "sea_orm",
    "sea-orm",
    "sqlstate",
    "dberr",
    "panicked",
    "syntax error at or near",
    "error returned from database",
    "invalid byte sequence",
    "out of range for type",
    "timestamp out of range",
    "value too long",
    "violates",
    "duplicate key",
    "no such table",
    "unique constraint",
    "core::",
    "alloc::",
    "std::",
    "serde_json::",
    "async_graphql",
    ".rs:",
    "/src/",
    "/home/",
    "/work/",
    "/root/",
    "/tmp/",
    "internal server error",
    "internal_server_error",
    "stack backtrace",
];

/// What one caller must get back.
#[derive(Clone, Copy, Debug)]
enum Want {
    /// A GraphQL error whose first `extensions.code` is this (HTTP 200 or 400).
    Code(&'static str),
    /// A refusal by the transport with this status (and, when it has a body, any code).
    Status(u16),
    /// Success: `data` and no errors (harmless input the server must simply serve).
    Data,
}

#[derive(Clone, Copy, Debug)]
struct Expect {
    anon: Want,
    member: Want,
    admin: Want,
}

/// The same answer for everyone.
fn all(want: Want) -> Expect {
    Expect {
        anon: want,
        member: want,
        admin: want,
    }
}

/// Needs a signed-in, approved user: anonymous callers are UNAUTHENTICATED.
fn signed_in(want: Want) -> Expect {
    Expect {
        anon: Want::Code(UNAUTH),
        member: want,
        admin: want,
    }
}

/// Admin only: anonymous callers are UNAUTHENTICATED, members FORBIDDEN.
fn admin(want: Want) -> Expect {
    Expect {
        anon: Want::Code(UNAUTH),
        member: Want::Code(FORBIDDEN),
        admin: want,
    }
}

enum Req {
    /// POST /graphql with `{"query", "variables"}`.
    Gql(String, Value),
    /// POST /graphql with this content type (None: no header) and raw body.
    Raw(Option<&'static str>, Vec<u8>),
    /// GET /graphql with these query-string pairs (already encoded, verbatim).
    Get(String),
    /// POST a normal query with one extra header.
    Header(&'static str, Vec<u8>, String),
}

struct Case {
    name: &'static str,
    req: Req,
    expect: Expect,
}

fn case(name: &'static str, query: impl Into<String>, variables: Value, expect: Expect) -> Case {
    Case {
        name,
        req: Req::Gql(query.into(), variables),
        expect,
    }
}

fn raw(
    name: &'static str,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    expect: Expect,
) -> Case {
    Case {
        name,
        req: Req::Raw(content_type, body),
        expect,
    }
}

const TICKERS: &str = "{ tickers { symbol } }";
const CALC: &str = "mutation($input: CalculatorInput!) { calculate(input: $input) { marginCalculation { id result { shares marginCallPrice scenarios { equity } } } } }";
const RUN: &str = "mutation($input: BacktestInput!) { runBacktest(input: $input) { backtestSession { sessionId status result { summary { finalEquity } } } } }";
const SAVE: &str =
    "mutation($input: SaveResultInput!) { saveResult(input: $input) { savedResult { resultId } } }";
const SAVED: &str = "query($f: SavedResultFilter, $o: SavedResultOrder, $n: Int, $a: String) { savedResults(filter: $f, orderBy: $o, first: $n, after: $a) { nodes { resultId name } } }";
const CALCS: &str = "query($t: String, $n: Int, $a: String) { marginCalculations(ticker: $t, first: $n, after: $a) { nodes { id ticker } } }";
const PRICES: &str = "query($t: String!, $f: Date, $to: Date, $e: Int) { prices(ticker: $t, from: $f, to: $to, every: $e) { every dates } }";
const ATTEMPTS: &str = "query($f: LoginAttemptFilter, $n: Int, $a: String) { loginAttempts(filter: $f, first: $n, after: $a) { nodes { id email } } }";
const NIL: &str = "00000000-0000-0000-0000-000000000000";

fn calc(overrides: Value) -> Value {
    let mut input = json!({
        "ticker": "SPY", "investmentAmount": 100000.0, "leverage": 2.0, "currentPrice": 450.0,
        "accountType": "REG_T", "positionType": "LONG", "interestRate": 5.5, "holdingPeriodMonths": 12,
    });
    merge(&mut input, overrides);
    json!({ "input": input })
}

fn backtest(overrides: Value) -> Value {
    let mut input = json!({
        "ticker": "SPY", "mode": "LIQUIDATION_REENTRY", "startDate": "2023-01-03",
        "endDate": "2023-06-30", "leverage": 1.5, "accountType": "REG_T", "initialInvestment": 10000.0,
    });
    merge(&mut input, overrides);
    json!({ "input": input })
}

fn merge(target: &mut Value, overrides: Value) {
    if let (Some(target), Value::Object(overrides)) = (target.as_object_mut(), overrides) {
        for (key, value) in overrides {
            target.insert(key, value);
        }
    }
}

fn nested_list(depth: usize) -> String {
    format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
}

fn many_tags(n: usize) -> Value {
    Value::Array((0..n).map(|i| json!(format!("t{i}"))).collect())
}

fn b64(text: &str) -> String {
    // URL-safe base64 without padding, as the server's cursors are.
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// The matrix. `session` is a completed session of the member, `saved` one of their saved
/// results (kept intact: no row renames or deletes it).
fn matrix(session: &str) -> Vec<Case> {
    let code = Want::Code;
    vec![
        // --- transport -------------------------------------------------------------------
        raw("content type text/plain", Some("text/plain"), br#"{"query":"{ tickers { symbol } }"}"#.to_vec(), all(Want::Status(415))),
        raw("content type form", Some("application/x-www-form-urlencoded"), b"query=%7Btickers%7Bsymbol%7D%7D".to_vec(), all(Want::Status(415))),
        raw("no content type", None, br#"{"query":"{ tickers { symbol } }"}"#.to_vec(), all(Want::Status(415))),
        raw("content type application/graphql", Some("application/graphql"), b"{ tickers { symbol } }".to_vec(), all(Want::Status(415))),
        raw("invalid UTF-8 body", Some("application/json"), b"{\"query\":\"{ tickers { symbol \xff\xfe } }\"}".to_vec(), all(Want::Status(400))),
        raw("lone surrogate escape", Some("application/json"), br#"{"query":"{ tickers { symbol } }","variables":{"x":"\udc00"}}"#.to_vec(), all(Want::Status(400))),
        raw("malformed JSON", Some("application/json"), b"{not json".to_vec(), all(Want::Status(400))),
        raw("empty body", Some("application/json"), Vec::new(), all(Want::Status(400))),
        raw("batch array", Some("application/json"), br#"[{"query":"{ tickers { symbol } }"}]"#.to_vec(), all(Want::Status(400))),
        raw("body is a string", Some("application/json"), br#""{ tickers { symbol } }""#.to_vec(), all(Want::Status(400))),
        raw("query is a number", Some("application/json"), br#"{"query": 5}"#.to_vec(), all(Want::Status(400))),
        raw("variables is a list", Some("application/json"), br#"{"query":"{ tickers { symbol } }","variables":[1,2]}"#.to_vec(), all(Want::Status(400))),
        raw("1e309 in JSON variables", Some("application/json"), format!(r#"{{"query":{},"variables":{{"input":{{"ticker":"SPY","investmentAmount":1e309,"leverage":2,"interestRate":5,"holdingPeriodMonths":12}}}}}}"#, json!(CALC)).into_bytes(), all(Want::Status(400))),
        raw("-1e309 in JSON variables", Some("application/json"), format!(r#"{{"query":{},"variables":{{"input":{{"ticker":"SPY","investmentAmount":100000,"leverage":-1e309,"interestRate":5,"holdingPeriodMonths":12}}}}}}"#, json!(CALC)).into_bytes(), all(Want::Status(400))),
        raw("NaN bare in JSON", Some("application/json"), format!(r#"{{"query":{},"variables":{{"input":{{"ticker":"SPY","investmentAmount":NaN,"leverage":2,"interestRate":5,"holdingPeriodMonths":12}}}}}}"#, json!(CALC)).into_bytes(), all(Want::Status(400))),
        raw("JSON variables nested 10,000 deep", Some("application/json"), format!(r#"{{"query":"{{ tickers {{ symbol }} }}","variables":{{"x":{}}}}}"#, nested_list(10_000)).into_bytes(), all(Want::Status(400))),
        raw("body over the limit", Some("application/json"), format!(r#"{{"query":"{{ tickers {{ symbol }} }}","variables":{{"x":"{}"}}}}"#, "a".repeat(1_100_000)).into_bytes(), all(Want::Status(413))),
        Case { name: "GET mutation", req: Req::Get("query=mutation%7Blogout%7D".into()), expect: all(Want::Status(405)) },
        Case { name: "GET variables not JSON", req: Req::Get("query=%7Btickers%7Bsymbol%7D%7D&variables=%7Bnope".into()), expect: all(Want::Status(400)) },
        Case { name: "GET bad percent-encoding", req: Req::Get("query=%ZZ%7Btickers%7D".into()), expect: all(Want::Status(400)) },
        Case { name: "100 KB junk header", req: Req::Header("x-junk", vec![b'a'; 100 * 1024], TICKERS.into()), expect: all(Want::Data) },
        Case { name: "1 MB header", req: Req::Header("x-junk", vec![b'a'; 1024 * 1024], TICKERS.into()), expect: all(Want::Status(431)) },
        Case { name: "100 KB bearer token", req: Req::Header("authorization", format!("Bearer {}", "A".repeat(100 * 1024)).into_bytes(), "{ me { id } }".into()), expect: all(code(UNAUTH)) },
        Case { name: "authorization with control bytes", req: Req::Header("authorization", b"Bearer \t;\t' OR 1=1 --".to_vec(), "{ me { id } }".into()), expect: all(code(UNAUTH)) },
        Case { name: "authorization not UTF-8", req: Req::Header("authorization", b"Bearer \xff\xfe".to_vec(), "{ me { id } }".into()), expect: all(code(UNAUTH)) },
        Case { name: "100 KB cookie", req: Req::Header("cookie", format!("__Host-margin_session={}", "b".repeat(100 * 1024)).into_bytes(), TICKERS.into()), expect: all(Want::Data) },
        Case { name: "forwarded-for garbage", req: Req::Header("x-forwarded-for", b"' OR 1=1 --, 999.999.1.1, ::::".to_vec(), TICKERS.into()), expect: all(Want::Data) },
        Case { name: "100 KB user agent on login", req: Req::Header("user-agent", vec![b'u'; 100 * 1024], "mutation { login(email: \"nobody@example.com\", password: \"wrong password\") { token } }".into()), expect: all(code(UNAUTH)) },
        // --- documents -------------------------------------------------------------------
        case("syntax error", "{ tickers { symbol ", json!({}), all(code(PARSE))),
        case("empty document", "", json!({}), all(code(PARSE))),
        case("control characters in the document", "{ tickers \u{7} { symbol } }", json!({}), all(code(PARSE))),
        case("unknown field", "{ tickers { symbol password } }", json!({}), all(code(INVALID))),
        case("unknown root field", "{ users_table_dump }", json!({}), all(code(INVALID))),
        case("repeated directives", format!("{{ tickers {} {{ symbol }} }}", "@include(if: true) ".repeat(10)), json!({}), all(code(INVALID))),
        case("duplicate directive", "{ tickers @skip(if: false) @skip(if: false) { symbol } }", json!({}), all(code(INVALID))),
        case("unknown directive", "{ tickers @sql(raw: \"DROP TABLE x\") { symbol } }", json!({}), all(code(INVALID))),
        case("directive argument wrong type", "{ tickers @include(if: \"yes\") { symbol } }", json!({}), all(code(BUI))),
        case("2,000 aliases", format!("{{ {} }}", (0..2000).map(|i| format!("a{i}: version {{ engine }}")).collect::<Vec<_>>().join(" ")), json!({}), all(code(INVALID))),
        case("too deep", format!("{{ __schema {{ types {{ {}name{} }} }} }}", "fields { type { ofType { ".repeat(8), " } } }".repeat(8)), json!({}), all(code(INVALID))),
        case("fragment cycle", "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }", json!({}), all(code(INVALID))),
        // Regression: the parser recursed once per bracket and a few thousand overflowed the
        // stack, aborting the whole server.
        case("list literal nested 5,000 deep", format!("{{ prices(ticker: {}) {{ every }} }}", nested_list(5_000)), json!({}), all(code(BAD_REQUEST))),
        case("object literal nested 5,000 deep", format!("mutation {{ calculate(input: {}1{}) {{ marginCalculation {{ id }} }} }}", "{a: ".repeat(5_000), "}".repeat(5_000)), json!({}), all(code(BAD_REQUEST))),
        case("selection nested 5,000 deep", format!("{}{}", "{ a ".repeat(5_000), "}".repeat(5_000)), json!({}), all(code(BAD_REQUEST))),
        case("list literal nested 60 deep", format!("{{ prices(ticker: {}) {{ every }} }}", nested_list(60)), json!({}), all(code(BUI))),
        Case { name: "GET list literal nested 5,000 deep", req: Req::Get(format!("query={}", format!("{{prices(ticker:{}){{every}}}}", nested_list(5_000)).replace('[', "%5B").replace(']', "%5D").replace('{', "%7B").replace('}', "%7D").replace(':', "%3A").replace('(', "%28").replace(')', "%29"))), expect: all(Want::Status(400)) },
        case("two operations, none named", "query A { tickers { symbol } } query B { version { engine } }", json!({}), all(code(INVALID))),
        case("variable of an unknown type", "query($x: Money) { tickers { symbol } }", json!({"x": 1}), all(code(INVALID))),
        case("10,000 unused variables", TICKERS, Value::Object((0..10_000).map(|i| (format!("v{i}"), json!(i))).collect()), all(Want::Data)),
        case("introspection of a missing type", "{ __type(name: \"'; DROP TABLE x; --\") { name } }", json!({}), all(Want::Data)),
        // --- nullable variable left unset where the argument is non-null (bug a) --------------
        case("unset nullable variable for a non-null argument", "query($s: RateSeriesKind) { rates(series: $s) { every } }", json!({}), all(code(BUI))),
        case("null nullable variable for a non-null argument", "query($t: String) { prices(ticker: $t) { every } }", json!({"t": null}), all(code(BUI))),
        case("required variable given null", "query($s: RateSeriesKind!) { rates(series: $s) { every } }", json!({"s": null}), all(code(BUI))),
        // --- market data -----------------------------------------------------------------
        case("rates unknown enum", "query($s: RateSeriesKind!) { rates(series: $s) { every } }", json!({"s": "LIBOR"}), all(code(BUI))),
        case("rates lowercase enum literal", "{ rates(series: fed_funds) { every } }", json!({}), all(code(BUI))),
        case("rates every beyond i32", "query($e: Int) { rates(series: FED_FUNDS, every: $e) { every } }", json!({"e": 99_999_999_999_i64}), all(code(BUI))),
        case("rates every i32 min", "query($e: Int) { rates(series: TBILL_3M, every: $e) { every } }", json!({"e": i32::MIN}), all(code(BUI))),
        case("prices SQL ticker", PRICES, json!({"t": "SPY' OR 1=1 --"}), all(code(BUI))),
        case("prices DROP TABLE ticker", PRICES, json!({"t": "\"; DROP TABLE authentication_user; --"}), all(code(BUI))),
        case("prices NUL in ticker", PRICES, json!({"t": "SPY\u{0}"}), all(code(BUI))),
        case("prices ticker is a number", PRICES, json!({"t": 12345}), all(code(BUI))),
        case("prices date out of range", PRICES, json!({"t": "SPY", "f": "2020-13-45"}), all(code(BUI))),
        case("prices year 262143", PRICES, json!({"t": "SPY", "f": "+262143-12-31"}), all(code(BUI))),
        case("prices year -262144", PRICES, json!({"t": "SPY", "to": "-262144-01-01"}), all(code(BUI))),
        case("prices date with SQL", PRICES, json!({"t": "SPY", "f": "2020-01-01' OR '1'='1"}), all(code(BUI))),
        case("prices date as integer", PRICES, json!({"t": "SPY", "f": 20200101}), all(code(BUI))),
        case("prices every 0", PRICES, json!({"t": "SPY", "e": 0}), all(code(BUI))),
        case("prices every 1e300", PRICES, json!({"t": "SPY", "e": 1e300}), all(code(BUI))),
        case("prices every -1e300", PRICES, json!({"t": "SPY", "e": -1e300}), all(code(BUI))),
        case("prices every 1e-300", PRICES, json!({"t": "SPY", "e": 1e-300}), all(code(BUI))),
        case("prices every as string", PRICES, json!({"t": "SPY", "e": "1; DROP TABLE x"}), all(code(BUI))),
        case("rates more than 10,000 points", "{ rates(series: FED_FUNDS, from: \"1954-01-01\", every: 1) { every } }", json!({}), all(code(BUI))),
        case("dividends to before from", "{ dividends(ticker: \"SPY\", from: \"2025-01-01\", to: \"2000-01-01\") { exDate } }", json!({}), all(code(BUI))),
        case("dividends 1e309 literal", "{ dividends(ticker: \"SPY\", from: 1e309) { exDate } }", json!({}), all(code(INVALID))),
        // --- accounts: queries -----------------------------------------------------------
        case("users unknown status", "query($s: UserStatusFilter!) { users(status: $s) { nodes { id } } }", json!({"s": "ROOT"}), all(code(BUI))),
        case("users first beyond i64", "query($n: Int) { users(first: $n) { nodes { id } } }", json!({"n": 1e20}), all(code(BUI))),
        case("users first negative", "{ users(first: -5) { nodes { id } } }", json!({}), admin(code(BUI))),
        case("users garbage cursor", "{ users(after: \"'; DROP TABLE x; --\") { nodes { id } } }", json!({}), admin(code(BUI))),
        case("user SQL id", "{ user(id: \"1 OR 1=1\") { id } }", json!({}), admin(code(NOT_FOUND))),
        case("user id beyond i64", "{ user(id: 99999999999999999999999) { id } }", json!({}), all(code(BUI))),
        case("login attempts bad since", ATTEMPTS, json!({"f": {"since": "yesterday"}}), all(code(BUI))),
        case("login attempts since year 9999", ATTEMPTS, json!({"f": {"since": "9999-12-31T23:59:59Z", "until": "0001-01-01T00:00:00Z"}}), admin(Want::Data)),
        case("login attempts NUL email", ATTEMPTS, json!({"f": {"email": "a\u{0}b"}}), admin(code(BUI))),
        case("login attempts SQL ip", ATTEMPTS, json!({"f": {"ipAddress": "' OR 1=1 --", "userId": "1; DROP TABLE x"}}), admin(code(NOT_FOUND))),
        case("login attempts first 0", ATTEMPTS, json!({"n": 0}), admin(code(BUI))),
        // --- accounts: mutations ---------------------------------------------------------
        case("register short password", "mutation($i: RegisterInput!) { register(input: $i) { user { id } } }", json!({"i": {"email": "new@example.com", "username": "new", "password": "x"}}), all(code(BUI))),
        case("register control characters", "mutation($i: RegisterInput!) { register(input: $i) { user { id } } }", json!({"i": {"email": "ctl@example.com", "username": "a\u{0}\u{1b}[31m", "password": PASSWORD, "inviteToken": "x"}}), all(code(BUI))),
        case("register SQL invite", "mutation($i: RegisterInput!) { register(input: $i) { user { id } } }", json!({"i": {"email": "sql@example.com", "username": "sql", "password": PASSWORD, "inviteToken": "' OR 1=1 --"}}), all(code(BUI))),
        case("register huge email", "mutation($i: RegisterInput!) { register(input: $i) { user { id } } }", json!({"i": {"email": format!("{}@example.com", "e".repeat(10_000)), "username": "huge", "password": PASSWORD}}), all(code(BUI))),
        case("register unknown field", "mutation($i: RegisterInput!) { register(input: $i) { user { id } } }", json!({"i": {"email": "x@example.com", "username": "x", "password": PASSWORD, "isSuperuser": true}}), all(code(BUI))),
        case("login SQL email", "mutation { login(email: \"' OR 1=1 --\", password: \"x\") { token } }", json!({}), all(code(UNAUTH))),
        case("login NUL email", "mutation($e: String!) { login(email: $e, password: \"wrong password\") { token } }", json!({"e": "admin@example.com\u{0}"}), all(code(BUI))),
        case("login 10,000-character email", "mutation($e: String!) { login(email: $e, password: \"wrong password\") { token } }", json!({"e": format!("{}@example.com", "x".repeat(10_000))}), all(code(BUI))),
        case("login password is a list", "mutation($p: String!) { login(email: \"a@example.com\", password: $p) { token } }", json!({"p": ["a", "b"]}), all(code(BUI))),
        case("revoke session SQL id", "mutation { revokeSession(id: \"1; DELETE FROM authentication_usersession\") { session { id } } }", json!({}), signed_in(code(NOT_FOUND))),
        case("api token unknown scope", "mutation($s: [ApiScope!]!) { createApiToken(name: \"x\", scopes: $s) { token } }", json!({"s": ["ADMIN"]}), all(code(BUI))),
        case("api token expiry year 262143", "mutation { createApiToken(name: \"x\", scopes: [READ], expiresAt: \"+262143-12-31T00:00:00Z\") { token } }", json!({}), all(code(BUI))),
        case("api token expiry far ahead", "mutation { createApiToken(name: \"x\", scopes: [READ], expiresAt: \"9999-12-31T23:59:59Z\") { token } }", json!({}), signed_in(code(BUI))),
        case("api token expiry in the past", "mutation { createApiToken(name: \"x\", scopes: [READ], expiresAt: \"1970-01-01T00:00:00Z\") { token } }", json!({}), signed_in(code(BUI))),
        case("api token empty name", "mutation { createApiToken(name: \"\", scopes: []) { token } }", json!({}), signed_in(code(BUI))),
        case("api token NUL name", "mutation($n: String!) { createApiToken(name: $n, scopes: [READ]) { token } }", json!({"n": "tok\u{0}en"}), signed_in(code(BUI))),
        case("api token 10,000 scopes", "mutation($s: [ApiScope!]!) { createApiToken(name: \"\", scopes: $s) { token } }", json!({"s": vec!["READ"; 10_000]}), signed_in(code(BUI))),
        case("revoke api token id -1", "mutation { revokeApiToken(id: \"-1\") { apiToken { id } } }", json!({}), signed_in(code(NOT_FOUND))),
        case("approve user id beyond i64", "mutation { approveUser(id: \"9223372036854775808\") { user { id } } }", json!({}), admin(code(NOT_FOUND))),
        case("reject user NUL reason", "mutation($r: String!) { rejectUser(id: \"999999\", reason: $r) { user { id } } }", json!({"r": "no\u{0}pe"}), admin(code(BUI))),
        case("set user active wrong type", "mutation($a: Boolean!) { setUserActive(id: \"1\", active: $a) { user { id } } }", json!({"a": "yes"}), all(code(BUI))),
        case("invite bad email", "mutation { createInvite(email: \"not an email\") { token } }", json!({}), admin(code(BUI))),
        case("invite NUL email", "mutation($e: String!) { createInvite(email: $e) { token } }", json!({"e": "x@example.com\u{0}"}), admin(code(BUI))),
        case("invite unknown role", "mutation($r: Role) { createInvite(email: \"r@example.com\", inviteType: $r) { token } }", json!({"r": "GOD"}), all(code(BUI))),
        case("invite missing template", "mutation { createInvite(email: \"t@example.com\", templateId: \"99999\") { token } }", json!({}), admin(code(NOT_FOUND))),
        case("invite 100,000-character message", "mutation($m: String) { createInvite(email: \"m@example.com\", customMessage: $m) { token } }", json!({"m": "m".repeat(100_000)}), admin(code(BUI))),
        case("revoke invite SQL id", "mutation { revokeInvite(id: \"1 OR 1=1\") { invite { id } } }", json!({}), admin(code(NOT_FOUND))),
        case("template without fields", "mutation { createInviteTemplate(input: {}) { inviteTemplate { id } } }", json!({}), admin(code(BUI))),
        case("template NUL name", "mutation($i: InviteTemplateInput!) { createInviteTemplate(input: $i) { inviteTemplate { id } } }", json!({"i": {"name": "t\u{0}", "subject": "s", "messageTemplate": "m"}}), admin(code(BUI))),
        case("update missing template", "mutation { updateInviteTemplate(id: \"x\", input: {name: \"n\"}) { inviteTemplate { id } } }", json!({}), admin(code(NOT_FOUND))),
        case("delete template SQL id", "mutation { deleteInviteTemplate(id: \"' OR '1'='1\") { deletedId } }", json!({}), admin(code(NOT_FOUND))),
        // --- calculator ------------------------------------------------------------------
        case("calculate 1e12 at price 1e-300 (non-finite shares)", CALC, calc(json!({"investmentAmount": 1e12, "currentPrice": 1e-300})), all(code(BUI))),
        case("calculate price 5e-324", CALC, calc(json!({"investmentAmount": 1.0, "currentPrice": 5e-324})), all(code(BUI))),
        case("calculate subnormal rate (days to call overflow)", CALC, calc(json!({"interestRate": 1e-320})), all(code(BUI))),
        case("calculate amount 1e300", CALC, calc(json!({"investmentAmount": 1e300})), all(code(BUI))),
        case("calculate amount -1e300", CALC, calc(json!({"investmentAmount": -1e300})), all(code(BUI))),
        case("calculate amount NaN string", CALC, calc(json!({"investmentAmount": "NaN"})), all(code(BUI))),
        case("calculate amount Infinity string", CALC, calc(json!({"investmentAmount": "Infinity"})), all(code(BUI))),
        case("calculate amount 1e309 literal", "mutation { calculate(input: {ticker: \"SPY\", investmentAmount: 1e309, leverage: 2, interestRate: 5, holdingPeriodMonths: 12}) { marginCalculation { id } } }", json!({}), all(code(INVALID))),
        case("calculate leverage -1e309 literal", "mutation { calculate(input: {ticker: \"SPY\", investmentAmount: 1000, leverage: -1e309, interestRate: 5, holdingPeriodMonths: 12}) { marginCalculation { id } } }", json!({}), all(code(INVALID))),
        case("calculate leverage 1e300", CALC, calc(json!({"leverage": 1e300})), all(code(BUI))),
        case("calculate leverage 0", CALC, calc(json!({"leverage": 0})), all(code(BUI))),
        case("calculate rate -1e-300", CALC, calc(json!({"interestRate": -1e-300})), all(code(BUI))),
        case("calculate months beyond i32", CALC, calc(json!({"holdingPeriodMonths": 4_294_967_296_i64})), all(code(BUI))),
        case("calculate months beyond u64", CALC, calc(json!({"holdingPeriodMonths": 1e25})), all(code(BUI))),
        case("calculate months negative", CALC, calc(json!({"holdingPeriodMonths": -12})), all(code(BUI))),
        case("calculate months fractional", CALC, calc(json!({"holdingPeriodMonths": 1.5})), all(code(BUI))),
        case("calculate basis i32 min", CALC, calc(json!({"dayCountBasis": i32::MIN})), all(code(BUI))),
        case("calculate maintenance 1e-300", CALC, calc(json!({"maintenanceOverride": 1e-300})), all(code(BUI))),
        case("calculate unknown account type", CALC, calc(json!({"accountType": "CRYPTO"})), all(code(BUI))),
        case("calculate lowercase enum", CALC, calc(json!({"positionType": "long"})), all(code(BUI))),
        case("calculate SQL ticker", CALC, calc(json!({"ticker": "SPY'; DROP TABLE margin_calculation; --"})), all(code(BUI))),
        case("calculate control-character ticker", CALC, calc(json!({"ticker": "\u{1b}[2J\u{0}"})), all(code(BUI))),
        case("calculate unknown input field", CALC, calc(json!({"userId": 1})), all(code(BUI))),
        case("calculate input is a string", CALC, json!({"input": "SPY 100000 2x"}), all(code(BUI))),
        case("calculate input nested 100 deep", CALC, json!({"input": serde_json::from_str::<Value>(&nested_list(100)).unwrap_or_default()}), all(code(BUI))),
        // --- backtests -------------------------------------------------------------------
        case("backtest start 0000-00-00", RUN, backtest(json!({"startDate": "0000-00-00"})), all(code(BUI))),
        case("backtest start year -262144", RUN, backtest(json!({"startDate": "-262144-01-01"})), all(code(BUI))),
        case("backtest end year 262143", RUN, backtest(json!({"endDate": "+262143-12-31"})), all(code(BUI))),
        case("backtest end before start", RUN, backtest(json!({"startDate": "2024-01-02", "endDate": "2023-01-03"})), all(code(BUI))),
        case("backtest unknown mode", RUN, backtest(json!({"mode": "YOLO"})), all(code(BUI))),
        case("backtest investment 1e300", RUN, backtest(json!({"initialInvestment": 1e300})), all(code(BUI))),
        case("backtest investment -1e-300", RUN, backtest(json!({"initialInvestment": -1e-300})), all(code(BUI))),
        case("backtest leverage NaN string", RUN, backtest(json!({"leverage": "NaN"})), all(code(BUI))),
        case("backtest threshold -1e300", RUN, backtest(json!({"mode": "PROFIT_THRESHOLD", "profitThresholdPct": -1e300})), all(code(BUI))),
        case("backtest wait days beyond u32", RUN, backtest(json!({"options": {"waitDays": 4_294_967_296_i64}})), all(code(BUI))),
        case("backtest wait days negative", RUN, backtest(json!({"options": {"waitDays": -1}})), all(code(BUI))),
        case("backtest basis negative", RUN, backtest(json!({"options": {"dayCountBasis": -365}})), all(code(BUI))),
        case("backtest fixed rate 1e308", RUN, backtest(json!({"options": {"interest": {"model": "FIXED", "ratePct": 1e308}}})), all(code(BUI))),
        case("backtest unknown interest model", RUN, backtest(json!({"options": {"interest": {"model": "LIBOR"}}})), all(code(BUI))),
        case("backtest slippage 1e300 with RESTORE", RUN, backtest(json!({"options": {"liquidationPolicy": "RESTORE", "liquidationSlippageBps": 1e300}})), all(code(BUI))),
        case("backtest wait is a string", "mutation($input: BacktestInput!, $w: Boolean) { runBacktest(input: $input, wait: $w) { backtestSession { sessionId } } }", json!({"input": backtest(json!({}))["input"], "w": "yes"}), all(code(BUI))),
        case("backtest daily 10,000 columns", format!("{{ backtestSession(sessionId: \"{session}\") {{ result {{ daily(columns: [{}]) {{ totalRows }} }} }} }}", vec!["PRICE"; 10_000].join(",")), json!({}), Expect { anon: code(NOT_FOUND), member: Want::Data, admin: code(NOT_FOUND) }),
        case("backtest daily every i32 max", format!("{{ backtestSession(sessionId: \"{session}\") {{ result {{ daily(every: 2147483647) {{ totalRows }} }} }} }}"), json!({}), Expect { anon: code(NOT_FOUND), member: code(BUI), admin: code(NOT_FOUND) }),
        case("backtest figures unknown name", format!("{{ backtestSession(sessionId: \"{session}\") {{ result {{ figures(names: [PIE]) {{ name }} }} }} }}"), json!({}), all(code(BUI))),
        case("session id not a UUID", "{ backtestSession(sessionId: \"' OR 1=1 --\") { status } }", json!({}), all(code(NOT_FOUND))),
        case("session id as an integer", "query($id: ID!) { backtestSession(sessionId: $id) { status } }", json!({"id": 12}), all(code(NOT_FOUND))),
        case("session id nil", format!("{{ backtestSession(sessionId: \"{NIL}\") {{ status }} }}"), json!({}), all(code(NOT_FOUND))),
        case("sessions unknown status", "query($s: BacktestStatus) { backtestSessions(status: $s) { nodes { sessionId } } }", json!({"s": "DONE"}), all(code(BUI))),
        case("sessions first 101", "{ backtestSessions(first: 101) { nodes { sessionId } } }", json!({}), signed_in(code(BUI))),
        case("cancel garbage id", "mutation { cancelBacktest(sessionId: \"zzz\") { backtestSession { status } } }", json!({}), all(code(NOT_FOUND))),
        case("cancel nil id", format!("mutation {{ cancelBacktest(sessionId: \"{NIL}\") {{ backtestSession {{ status }} }} }}"), json!({}), all(code(NOT_FOUND))),
        // --- calculations history ----------------------------------------------------------
        case("calculations SQL ticker", CALCS, json!({"t": "' OR 1=1 --"}), signed_in(Want::Data)),
        case("calculations NUL ticker", CALCS, json!({"t": "SPY\u{0}"}), signed_in(code(BUI))),
        case("calculations first beyond i32", CALCS, json!({"n": 2_147_483_648_i64}), all(code(BUI))),
        case("calculations first 0", CALCS, json!({"n": 0}), signed_in(code(BUI))),
        case("calculations garbage cursor", CALCS, json!({"a": "!!!"}), signed_in(code(BUI))),
        case("calculations cursor id beyond i64", CALCS, json!({"a": b64("99999999999999999999:")}), signed_in(code(BUI))),
        case("calculation id 1e400", "{ marginCalculation(id: \"1e400\") { id } }", json!({}), signed_in(code(NOT_FOUND))),
        // --- saved results ---------------------------------------------------------------
        case("saved SQL search", SAVED, json!({"f": {"search": "%' OR 1=1 --"}}), signed_in(Want::Data)),
        case("saved LIKE wildcards", SAVED, json!({"f": {"search": "%_%\\"}}), signed_in(Want::Data)),
        case("saved NUL search", SAVED, json!({"f": {"search": "a\u{0}b"}}), signed_in(code(BUI))),
        case("saved NUL ticker", SAVED, json!({"f": {"ticker": "SPY\u{0}"}}), signed_in(code(BUI))),
        case("saved 10,000 tag filter", SAVED, json!({"f": {"tags": many_tags(10_000)}}), signed_in(code(BUI))),
        case("saved SQL tag filter", SAVED, json!({"f": {"tags": ["\"; DROP TABLE saved_backtest_result; --"]}}), signed_in(Want::Data)),
        case("saved from year -262144", SAVED, json!({"f": {"from": "-262144-01-01"}}), all(code(BUI))),
        case("saved from year 0 to year 9999", SAVED, json!({"f": {"from": "0000-01-01", "to": "9999-12-31"}}), signed_in(Want::Data)),
        case("saved to year 262143", SAVED, json!({"f": {"to": "+262143-12-31"}}), all(code(BUI))),
        case("saved from 2024-02-30", SAVED, json!({"f": {"from": "2024-02-30"}}), all(code(BUI))),
        case("saved unknown mode", SAVED, json!({"f": {"mode": "ALL"}}), all(code(BUI))),
        case("saved order by SQL", SAVED, json!({"o": "NAME_ASC; DROP TABLE x"}), all(code(BUI))),
        case("saved first 101", SAVED, json!({"n": 101}), signed_in(code(BUI))),
        case("saved garbage cursor", SAVED, json!({"a": b64("x")}), signed_in(code(BUI))),
        case("saved result id garbage", "{ savedResult(resultId: \"1' OR '1'='1\") { name } }", json!({}), all(code(NOT_FOUND))),
        case("save 10,000 tags", SAVE, json!({"input": {"sessionId": session, "name": "n", "tags": many_tags(10_000)}}), signed_in(code(BUI))),
        case("save NUL name", SAVE, json!({"input": {"sessionId": session, "name": "a\u{0}"}}), signed_in(code(BUI))),
        case("save 256-character name", SAVE, json!({"input": {"sessionId": session, "name": "n".repeat(256)}}), signed_in(code(BUI))),
        case("save description 5,001 characters", SAVE, json!({"input": {"sessionId": session, "name": "n", "description": "d".repeat(5_001)}}), signed_in(code(BUI))),
        case("save tag is a number", SAVE, json!({"input": {"sessionId": session, "name": "n", "tags": [1, 2]}}), all(code(BUI))),
        case("save nil session", SAVE, json!({"input": {"sessionId": NIL, "name": "n"}}), signed_in(code(NOT_FOUND))),
        case("metadata on a nil id", "mutation { updateMetadata(resultId: \"00000000-0000-0000-0000-000000000000\", input: {name: \"'; DROP TABLE x; --\"}) { savedResult { name } } }", json!({}), signed_in(code(NOT_FOUND))),
        case("metadata 10,000 tags", "mutation($t: [String!]) { updateMetadata(resultId: \"00000000-0000-0000-0000-000000000000\", input: {tags: $t}) { savedResult { name } } }", json!({"t": many_tags(10_000)}), signed_in(code(BUI))),
        case("delete garbage id", "mutation { deleteResult(resultId: \"' OR 1=1 --\") { deletedId } }", json!({}), all(code(NOT_FOUND))),
        case("delete nil id", format!("mutation {{ deleteResult(resultId: \"{NIL}\") {{ deletedId }} }}"), json!({}), signed_in(code(NOT_FOUND))),
        case("stats days 0", "{ stats(days: 0) { days } }", json!({}), signed_in(code(BUI))),
        case("stats days i32 max", "{ stats(days: 2147483647) { days } }", json!({}), signed_in(code(BUI))),
        case("stats days i32 min", "{ stats(days: -2147483648) { days } }", json!({}), signed_in(code(BUI))),
        case("stats days beyond i32", "{ stats(days: 2147483648) { days } }", json!({}), all(code(BUI))),
    ]
}

/// Checks one answer; returns a description of what is wrong, if anything.
fn judge(want: Want, status: u16, body: &Value, text: &str) -> Option<String> {
    if status >= 500 {
        return Some(format!("status {status}"));
    }
    let lower = text.to_ascii_lowercase();
    if let Some(leak) = LEAKS.iter().find(|leak| lower.contains(*leak)) {
        return Some(format!("leaks {leak:?}"));
    }
    if let Some(errors) = body.get("errors").and_then(Value::as_array) {
        for error in errors {
            let code = error["extensions"]["code"].as_str().unwrap_or("");
            if code.is_empty() || code == "INTERNAL_SERVER_ERROR" {
                return Some(format!("error without a usable code: {error}"));
            }
            if code == BUI && error["extensions"]["field"].as_str().is_none() {
                return Some(format!("BAD_USER_INPUT without a field: {error}"));
            }
        }
    }
    let first_code = body["errors"][0]["extensions"]["code"].as_str();
    match want {
        Want::Code(code) => {
            if first_code != Some(code) {
                return Some(format!("expected {code}, got status {status}"));
            }
            if status != 200 && status != 400 {
                return Some(format!(
                    "expected status 200 or 400 with {code}, got {status}"
                ));
            }
        }
        Want::Status(expected) => {
            if status != expected {
                return Some(format!("expected status {expected}, got {status}"));
            }
            if !text.is_empty() && first_code.is_none() {
                return Some("a refusal with a body but no code".into());
            }
        }
        Want::Data => {
            if status != 200 || body.get("errors").is_some() || body["data"].is_null() {
                return Some(format!("expected data, got status {status}"));
            }
        }
    }
    None
}

async fn send(app: &TestApp, req: &Req, token: Option<&str>) -> Result<(u16, String), String> {
    let url = format!("{}/graphql", app.address);
    let request = match req {
        Req::Gql(query, variables) => app
            .client
            .post(&url)
            .json(&json!({"query": query, "variables": variables})),
        Req::Raw(content_type, body) => {
            let mut request = app.client.post(&url).body(body.clone());
            if let Some(content_type) = content_type {
                request = request.header("content-type", *content_type);
            }
            request
        }
        Req::Get(query) => app.client.get(format!("{url}?{query}")),
        Req::Header(name, value, query) => {
            let value =
                reqwest::header::HeaderValue::from_bytes(value).map_err(|e| e.to_string())?;
            app.client
                .post(&url)
                .header(*name, value)
                .json(&json!({"query": query}))
        }
    };
    // A header set by the case (authorization) wins over the caller's token.
    let overrides_auth = matches!(req, Req::Header("authorization", ..));
    let request = match token {
        Some(token) if !overrides_auth => request.bearer_auth(token),
        _ => request,
    };
    let response = request
        .send()
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    Ok((status, text))
}

async fn hostile_matrix(app: TestApp) {
    let (alice, _bob) = users(&app).await;
    let admin_token = login(&app, "admin@example.com").await;

    // Stored before the matrix; must still be there after it.
    let session = run(
        &app,
        margin_support::backtest_input(25_000.0),
        Some(&alice.token),
    )
    .await;
    let session_id = session["sessionId"]
        .as_str()
        .expect("a session id")
        .to_string();
    let saved = app.ok(SAVE,
        json!({"input": {"sessionId": session_id, "name": "before the storm", "tags": ["keep"]}}),
        Some(&alice.token),
    )
    .await;
    let saved_id = saved["saveResult"]["savedResult"]["resultId"]
        .as_str()
        .expect("a result id")
        .to_string();
    let calculation = app.ok(CALC, calc(json!({})), Some(&alice.token)).await;
    let calculation_id = calculation["calculate"]["marginCalculation"]["id"].clone();

    let cases = matrix(&session_id);
    assert!(cases.len() >= 60, "the matrix has {} cases", cases.len());
    let callers = [
        ("anonymous", None),
        ("member", Some(alice.token.as_str())),
        ("admin", Some(admin_token.as_str())),
    ];
    let mut failures = Vec::new();
    for case in &cases {
        for (who, token) in callers {
            let want = match who {
                "anonymous" => case.expect.anon,
                "member" => case.expect.member,
                _ => case.expect.admin,
            };
            let outcome = match send(&app, &case.req, token).await {
                Ok((status, text)) => {
                    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                    judge(want, status, &body, &text)
                        .map(|problem| format!("{problem}: {}", truncate(&text)))
                }
                Err(err) => Some(err),
            };
            if let Some(problem) = outcome {
                failures.push(format!(
                    "[{:?}] {} as {who}: {problem}",
                    app.backend, case.name
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} hostile cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // Healthy afterwards, nothing lost.
    let livez = app.get("/livez").await;
    assert_eq!(livez.status(), 200);
    let readyz = app.get("/readyz").await;
    assert_eq!(readyz.status(), 200);
    let data = app.query(TICKERS, json!({})).await;
    assert!(data["tickers"].as_array().is_some_and(|t| t.len() >= 3));
    let data = app.ok("query($id: ID!) { savedResult(resultId: $id) { name tags result { summary { finalEquity } } } }", json!({"id": saved_id}), Some(&alice.token)).await;
    assert_eq!(data["savedResult"]["name"], "before the storm");
    assert_eq!(data["savedResult"]["tags"], json!(["keep"]));
    assert_eq!(
        data["savedResult"]["result"]["summary"]["finalEquity"],
        session["result"]["summary"]["finalEquity"]
    );
    let data = app.ok(CALCS, json!({}), Some(&alice.token)).await;
    let ids: Vec<&Value> = data["marginCalculations"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| &n["id"])
        .collect();
    assert!(
        ids.contains(&&calculation_id),
        "the calculation made before the matrix is listed: {data}"
    );
    // Signing in still works (the failed logins of the matrix did not lock the account).
    let token = login(&app, &alice.email).await;
    app.ok("{ me { email } }", json!({}), Some(&token)).await;
    app.stop().await;
}

fn truncate(text: &str) -> String {
    if text.len() <= 400 {
        return text.to_string();
    }
    let mut end = 400;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// A stored calculation whose result no longer decodes (written by an older build, or by
/// hand) is skipped by the listing, which still serves the caller's other calculations.
async fn an_undecodable_calculation_does_not_break_the_listing(app: TestApp) {
    use sea_orm::{ActiveModelTrait, Set};
    let (alice, _) = users(&app).await;
    let good = app.ok(CALC, calc(json!({})), Some(&alice.token)).await;
    let now = chrono::Utc::now();
    let broken = entity::margin_calculation::ActiveModel {
        user_id: Set(Some(alice.id)),
        ticker: Set("SPY".into()),
        investment_amount: Set(1e12),
        leverage: Set(2.0),
        current_price: Set(1e-300),
        account_type: Set(AccountType::RegT),
        position_type: Set(PositionType::Long),
        interest_rate: Set(5.0),
        holding_period: Set(12),
        results: Set(json!({"sharesFractional": null, "shares": null})),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect("a row is inserted");
    let body = app.gql(CALCS, json!({}), Some(&alice.token)).await;
    assert!(body.get("errors").is_none(), "the listing answers: {body}");
    let nodes = body["data"]["marginCalculations"]["nodes"]
        .as_array()
        .expect("nodes");
    assert_eq!(nodes.len(), 1, "{body}");
    assert_eq!(nodes[0]["id"], good["calculate"]["marginCalculation"]["id"]);
    let one = app
        .gql(
            "query($id: ID!) { marginCalculation(id: $id) { id } }",
            json!({"id": broken.id.to_string()}),
            Some(&alice.token),
        )
        .await;
    let code = one["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("");
    assert_eq!(
        code, "INTERNAL_SERVER_ERROR",
        "one undecodable calculation is a server fault, hidden behind the request id: {one}"
    );
    assert!(!one.to_string().contains("sharesFractional"), "{one}");
    app.stop().await;
}

async fn spawn(backend: Backend) -> Option<TestApp> {
    // Enough failed logins per address for the matrix's login cases.
    TestApp::spawn_with(backend, |config| config.login_max_failures_per_ip = 1_000).await
}

#[tokio::test]
async fn hostile_requests_are_refused_cleanly_on_sqlite() {
    hostile_matrix(
        spawn(Backend::Sqlite)
            .await
            .expect("SQLite is always available"),
    )
    .await;
}

#[tokio::test]
async fn hostile_requests_are_refused_cleanly_on_postgres() {
    if let Some(app) = spawn(Backend::Postgres).await {
        hostile_matrix(app).await;
    }
}

#[tokio::test]
async fn an_undecodable_calculation_is_skipped_on_sqlite() {
    an_undecodable_calculation_does_not_break_the_listing(
        spawn(Backend::Sqlite).await.expect("SQLite"),
    )
    .await;
}

#[tokio::test]
async fn an_undecodable_calculation_is_skipped_on_postgres() {
    if let Some(app) = spawn(Backend::Postgres).await {
        an_undecodable_calculation_does_not_break_the_listing(app).await;
    }
}

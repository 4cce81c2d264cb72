//! Results out: responses compressed by `Accept-Encoding` above a size threshold; CSV
//! exports: the URLs GraphQL hands out, the ownership matrix (owner, another user,
//! anonymous, a bad token, missing and malformed ids) on both databases, the file itself
//! (header, CRLF rows, ISO dates, the numbers GraphQL serves), `?columns=`, cookie mode, and
//! the CLI writing the same file.

use std::io::Read;

use crate::margin_support;

use clap::Parser;
use margin_support::{run, users};
use serde_json::{Value, json};
use tests::{TestApp, error_code, on_each_backend, on_each_backend_with};

const INPUT: &str = r#"{"ticker": "SPY", "mode": "LIQUIDATION_REENTRY", "startDate": "2020-01-02",
  "endDate": "2020-12-31", "leverage": 2.0, "accountType": "REG_T", "initialInvestment": 100000.0}"#;

const EXPORTS: &str = "query($id: ID!) { backtestSession(sessionId: $id) { result {
  exports { dailyCsv roundsCsv eventsCsv monthlyCsv }
  daily(columns: [EQUITY, STATUS, CUSHION_PCT]) { totalRows dates columns { column numbers statuses } }
  rounds { round } events { kind } monthlyReturns { year }
} } }";

const SAVE: &str =
    "mutation($input: SaveResultInput!) { saveResult(input: $input) { savedResult { resultId } } }";

const SAVED_EXPORTS: &str =
    "query($id: ID!) { savedResult(resultId: $id) { result { exports { dailyCsv monthlyCsv } } } }";

fn input() -> Value {
    serde_json::from_str(INPUT).expect("the input is JSON")
}

struct Download {
    status: u16,
    content_type: String,
    disposition: String,
    body: String,
}

async fn download(app: &TestApp, path: &str, token: Option<&str>) -> Download {
    let mut request = app.client.get(format!("{}{path}", app.address));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the GET reaches the server");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    Download {
        status: response.status().as_u16(),
        content_type: header("content-type"),
        disposition: header("content-disposition"),
        body: response.text().await.unwrap_or_default(),
    }
}

fn code_of(download: &Download) -> String {
    let body: Value = serde_json::from_str(&download.body).unwrap_or(Value::Null);
    error_code(&body).to_string()
}

/// The rows of a CSV body (CRLF-terminated, no field needing quotes in our tables).
fn rows(body: &str) -> Vec<Vec<&str>> {
    assert!(body.ends_with("\r\n"), "the file ends with CRLF");
    body.trim_end_matches("\r\n")
        .split("\r\n")
        .map(|row| row.split(',').collect())
        .collect()
}

#[tokio::test]
async fn csv_exports_are_what_graphql_serves_and_only_to_whoever_may_see_it() {
    on_each_backend(|app: TestApp| async move {
        let (alice, bob) = users(&app).await;
        let session = run(&app, input(), Some(&alice.token)).await["sessionId"].clone();
        let data = app
            .ok(EXPORTS, json!({"id": session}), Some(&alice.token))
            .await;
        let result = &data["backtestSession"]["result"];
        let exports = &result["exports"];
        let daily_path = exports["dailyCsv"]
            .as_str()
            .expect("a daily URL")
            .to_string();
        assert_eq!(
            daily_path,
            format!("/exports/backtests/{}/daily.csv", session.as_str().unwrap())
        );

        // The owner gets the file.
        let daily = download(&app, &daily_path, Some(&alice.token)).await;
        assert_eq!(daily.status, 200, "{}", daily.body);
        assert!(
            daily.content_type.starts_with("text/csv"),
            "{}",
            daily.content_type
        );
        assert_eq!(
            daily.disposition,
            "attachment; filename=\"SPY_liquidation-reentry_2020-01-02_2020-12-31_daily.csv\""
        );
        let table = rows(&daily.body);
        let header = &table[0];
        assert_eq!(header[0], "date");
        assert_eq!(header.len(), 1 + 27, "every daily column by default");
        let total = result["daily"]["totalRows"].as_u64().unwrap() as usize;
        assert_eq!(table.len(), 1 + total);
        // Cell for cell what `daily` answers: dates, numbers as stored, statuses by name.
        let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
        let (equity, status, cushion) = (column("equity"), column("status"), column("cushionPct"));
        let served = &result["daily"]["columns"];
        for (i, row) in table[1..].iter().enumerate() {
            assert_eq!(row[0], result["daily"]["dates"][i].as_str().unwrap());
            let number = |cell: &str| cell.parse::<f64>().ok();
            assert_eq!(
                number(row[equity]),
                served[0]["numbers"][i].as_f64(),
                "equity on row {i}"
            );
            assert_eq!(row[status], served[1]["statuses"][i].as_str().unwrap());
            assert_eq!(
                number(row[cushion]),
                served[2]["numbers"][i].as_f64(),
                "cushion on row {i}"
            );
        }

        // The other tables: a header and one row per item GraphQL lists.
        for (key, list, first) in [
            ("roundsCsv", "rounds", "round"),
            ("eventsCsv", "events", "kind"),
            ("monthlyCsv", "monthlyReturns", "year"),
        ] {
            let file = download(&app, exports[key].as_str().unwrap(), Some(&alice.token)).await;
            assert_eq!(file.status, 200, "{key}: {}", file.body);
            let table = rows(&file.body);
            assert_eq!(table[0][0], first, "{key}");
            assert_eq!(
                table.len(),
                1 + result[list].as_array().unwrap().len(),
                "{key}"
            );
            assert!(
                table.iter().all(|row| row.len() == table[0].len()),
                "{key}: rectangular"
            );
        }

        // Chosen columns, by JSON key or enum name, each once.
        let chosen = download(
            &app,
            &format!("{daily_path}?columns=equity,CUSHION_PCT,equity"),
            Some(&alice.token),
        )
        .await;
        assert_eq!(chosen.status, 200);
        assert!(
            chosen.body.starts_with("date,equity,cushionPct\r\n"),
            "{}",
            &chosen.body[..60]
        );
        for (query, path) in [
            ("?columns=nope", daily_path.clone()),
            ("?columns=", daily_path.clone()),
            (
                "?columns=equity",
                exports["roundsCsv"].as_str().unwrap().to_string(),
            ),
        ] {
            let refused = download(&app, &format!("{path}{query}"), Some(&alice.token)).await;
            assert_eq!(refused.status, 400, "{path}{query}");
            let body: Value = serde_json::from_str(&refused.body).unwrap();
            assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
            assert_eq!(body["errors"][0]["extensions"]["field"], "columns");
        }

        // Another user's session looks exactly like a missing one; so does a malformed id.
        let missing = download(
            &app,
            "/exports/backtests/7d4f8a62-0000-4000-8000-000000000000/daily.csv",
            Some(&bob.token),
        )
        .await;
        let foreign = download(&app, &daily_path, Some(&bob.token)).await;
        let malformed = download(
            &app,
            "/exports/backtests/not-an-id/daily.csv",
            Some(&bob.token),
        )
        .await;
        for refused in [&missing, &foreign, &malformed] {
            assert_eq!(refused.status, 404);
            assert_eq!(code_of(refused), "NOT_FOUND");
        }
        assert_eq!(
            foreign.body, missing.body,
            "foreign and missing answer alike"
        );
        let anonymous = download(&app, &daily_path, None).await;
        assert_eq!(
            (anonymous.status, code_of(&anonymous).as_str()),
            (404, "NOT_FOUND")
        );
        let bad_token = download(&app, &daily_path, Some("mk_session_not-a-real-token")).await;
        assert_eq!(
            (bad_token.status, code_of(&bad_token).as_str()),
            (401, "UNAUTHENTICATED")
        );
        let unknown_table = download(
            &app,
            &daily_path.replace("daily.csv", "positions.csv"),
            Some(&alice.token),
        )
        .await;
        assert_eq!(unknown_table.status, 404);

        // A saved result exports under its own id, the same file, to its owner only.
        let saved = app
            .ok(
                SAVE,
                json!({"input": {"sessionId": session, "name": "2020 at 2x"}}),
                Some(&alice.token),
            )
            .await;
        let result_id = saved["saveResult"]["savedResult"]["resultId"].clone();
        let data = app
            .ok(SAVED_EXPORTS, json!({"id": result_id}), Some(&alice.token))
            .await;
        let saved_daily = data["savedResult"]["result"]["exports"]["dailyCsv"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(
            saved_daily,
            format!("/exports/saved/{}/daily.csv", result_id.as_str().unwrap())
        );
        let from_saved = download(&app, &saved_daily, Some(&alice.token)).await;
        assert_eq!(from_saved.status, 200);
        assert_eq!(
            from_saved.body, daily.body,
            "the saved copy exports the same numbers"
        );
        let foreign = download(&app, &saved_daily, Some(&bob.token)).await;
        let missing = download(
            &app,
            "/exports/saved/7d4f8a62-0000-4000-8000-000000000000/daily.csv",
            Some(&bob.token),
        )
        .await;
        assert_eq!(
            (foreign.status, foreign.body.clone()),
            (404, missing.body.clone())
        );
        let anonymous = download(&app, &saved_daily, None).await;
        assert_eq!(
            (anonymous.status, code_of(&anonymous).as_str()),
            (401, "UNAUTHENTICATED")
        );
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn in_cookie_mode_the_session_cookie_downloads_and_a_cross_site_page_cannot() {
    on_each_backend_with(
        |c| {
            c.session_cookie = true;
            c.cors_origins = vec!["https://app.example.com".into()];
        },
        |app| async move {
            let (alice, _) = users(&app).await;
            let session = run(&app, input(), Some(&alice.token)).await["sessionId"].clone();
            let path = format!("/exports/backtests/{}/monthly.csv", session.as_str().unwrap());
            let login = app
                .client
                .post(format!("{}/graphql", app.address))
                .json(&json!({"query": "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { user { id } } }",
                               "variables": {"e": alice.email, "p": margin_support::PASSWORD}}))
                .send()
                .await
                .unwrap();
            let cookie = login.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
            let get = |origin: Option<&'static str>| {
                let mut request = app.client.get(format!("{}{path}", app.address)).header("cookie", &cookie);
                if let Some(origin) = origin {
                    request = request.header("origin", origin);
                }
                request.send()
            };
            let own = get(None).await.unwrap();
            assert_eq!(own.status(), 200);
            assert!(own.text().await.unwrap().starts_with("year,jan,"));
            // The cookie from another site's page is not the user: the session is not theirs.
            let evil = get(Some("https://evil.example")).await.unwrap();
            assert_eq!(evil.status(), 404);
            app.stop().await;
        },
    )
    .await;
}

#[tokio::test]
async fn the_cli_writes_the_file_the_server_exports() {
    on_each_backend(|app: TestApp| async move {
        let (alice, _) = users(&app).await;
        let session = run(&app, input(), Some(&alice.token)).await["sessionId"].clone();
        let id = session.as_str().unwrap();
        for (table, columns) in [
            ("daily", Some("equity,status,leverage")),
            ("rounds", None),
            ("events", None),
            ("monthly", None),
        ] {
            let mut argv = vec![
                "margin-api",
                "backtest",
                "--ticker",
                "SPY",
                "--mode",
                "liquidation-reentry",
                "--start",
                "2020-01-02",
                "--end",
                "2020-12-31",
                "--leverage",
                "2",
                "--equity",
                "100000",
                "--format",
                "csv",
                "--table",
                table,
            ];
            let mut path = format!("/exports/backtests/{id}/{table}.csv");
            if let Some(columns) = columns {
                argv.extend(["--columns", columns]);
                path.push_str(&format!("?columns={columns}"));
            }
            let cli = api::cli::Cli::try_parse_from(argv).expect("the flags parse");
            let Some(api::cli::Command::Backtest(args)) = cli.command else {
                panic!("a backtest command");
            };
            let market = engine::MarketData::load_dir(&tests::data_dir()).expect("the data loads");
            let printed = api::engine_cli::run_backtest(market, &args).expect("the CLI runs");
            let served = download(&app, &path, Some(&alice.token)).await;
            assert_eq!(served.status, 200, "{table}");
            assert_eq!(
                printed, served.body,
                "{table}: the CLI and the server write the same file"
            );
        }
        app.stop().await;
    })
    .await;
}

const FIGURES: &str =
    "query($id: ID!) { backtestSession(sessionId: $id) { result { figures { name figure } } } }";

/// POSTs `query` with `accept-encoding`; the `content-encoding` answered and the raw body.
async fn post_accepting(
    app: &TestApp,
    accept: &str,
    query: &str,
    variables: Value,
) -> (String, Vec<u8>) {
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("accept-encoding", accept)
        .json(&json!({"query": query, "variables": variables}))
        .send()
        .await
        .expect("the POST reaches the server");
    assert_eq!(response.status(), 200);
    let encoding = response
        .headers()
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity")
        .to_string();
    (encoding, response.bytes().await.expect("a body").to_vec())
}

fn decode(encoding: &str, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match encoding {
        "gzip" => {
            flate2::read::GzDecoder::new(bytes)
                .read_to_end(&mut out)
                .expect("gzip");
        }
        "br" => {
            brotli::Decompressor::new(bytes, 4096)
                .read_to_end(&mut out)
                .expect("br");
        }
        "zstd" => out = zstd::decode_all(bytes).expect("zstd"),
        _ => out = bytes.to_vec(),
    }
    out
}

#[tokio::test]
async fn large_responses_come_compressed_as_the_client_prefers_and_small_ones_do_not() {
    let Some(app) =
        TestApp::spawn_with(tests::Backend::Sqlite, |c| c.anonymous_backtest = true).await
    else {
        return;
    };
    let session = run(&app, input(), None).await["sessionId"].clone();
    let variables = json!({"id": session});
    let (plain_encoding, plain) =
        post_accepting(&app, "identity", FIGURES, variables.clone()).await;
    assert_eq!(plain_encoding, "identity");
    assert!(
        plain.len() > 50_000,
        "ten figures of a year are {} bytes",
        plain.len()
    );
    for (accept, expected) in [
        ("zstd", "zstd"),
        ("br", "br"),
        ("gzip", "gzip"),
        ("gzip;q=0.5, br;q=0.8, zstd;q=1", "zstd"),
        ("gzip, br;q=0.1", "gzip"),
    ] {
        let (encoding, body) = post_accepting(&app, accept, FIGURES, variables.clone()).await;
        assert_eq!(encoding, expected, "accept-encoding: {accept}");
        assert_eq!(decode(&encoding, &body), plain, "{accept}: the same JSON");
        assert!(
            body.len() * 3 < plain.len(),
            "{accept}: {} of {} bytes",
            body.len(),
            plain.len()
        );
    }
    // Below the threshold compressing costs more than it saves: sent as it is.
    let (encoding, body) =
        post_accepting(&app, "zstd, br, gzip", "{ version { service } }", json!({})).await;
    assert_eq!(encoding, "identity");
    assert!(body.len() < 2048);
    // Exports too.
    let path = format!(
        "{}/exports/backtests/{}/daily.csv",
        app.address,
        session.as_str().unwrap()
    );
    let csv = app
        .client
        .get(path)
        .header("accept-encoding", "br")
        .send()
        .await
        .unwrap();
    assert_eq!(csv.headers()["content-encoding"], "br");
    let text = decode("br", &csv.bytes().await.unwrap());
    assert!(text.starts_with(b"date,price,"));
    app.stop().await;
}

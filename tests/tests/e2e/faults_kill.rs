//! The server SIGKILLed in the middle of a burst of `saveResult`: after a restart on the same
//! database every acknowledged save is there and the quota counter equals the row count. The
//! server runs as a child process (`serve_child`, i.e. `margin-api serve`) so it can be killed.

use std::time::Duration;

use api::services::accounts::admin;
use entity::{saved_backtest_result as saved, user};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use tests::{Backend, fresh_database, process::ServerProcess};

const PASSWORD: &str = "correct horse battery staple";
const BURST: usize = 40;

fn start_server(database_url: &str) -> ServerProcess {
    ServerProcess::start(env!("CARGO_BIN_EXE_serve_child"), database_url, &[])
}

async fn post(
    client: &reqwest::Client,
    server: &str,
    query: &str,
    variables: Value,
    token: Option<&str>,
) -> Result<Value, reqwest::Error> {
    let mut request = client
        .post(format!("{server}/graphql"))
        .json(&json!({"query": query, "variables": variables}));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await?.json().await
}

async fn must(
    client: &reqwest::Client,
    server: &str,
    query: &str,
    variables: Value,
    token: Option<&str>,
) -> Value {
    let body = post(client, server, query, variables, token)
        .await
        .expect("the server answers");
    assert!(body.get("errors").is_none(), "{body}");
    body["data"].clone()
}

async fn counts(db: &DatabaseConnection, user_id: i64) -> (u64, i64) {
    let rows = saved::Entity::find()
        .filter(saved::Column::UserId.eq(user_id))
        .count(db)
        .await
        .expect("count rows");
    let counter = user::Entity::find_by_id(user_id)
        .one(db)
        .await
        .expect("read the user")
        .expect("the user exists")
        .saved_results_count;
    (rows, i64::from(counter))
}

async fn killed_during_saves(backend: Backend) {
    let Some(url) = fresh_database(backend).await else {
        return;
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let mut server = start_server(&url);
    // The server migrated the database; the admin is created the way `create-admin` does.
    let db = api::db::connect(&url).await.expect("direct connection");
    let owner = admin::create_admin(&db, "owner@example.com", "owner", PASSWORD.to_string())
        .await
        .expect("admin is created");
    let login = must(
        &client,
        &server.address,
        "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }",
        json!({"e": "owner@example.com", "p": PASSWORD}),
        None,
    )
    .await;
    let token = login["login"]["token"].as_str().expect("token").to_string();
    let input = json!({
        "ticker": "SPY", "mode": "LIQUIDATION_REENTRY", "startDate": "2010-01-04",
        "endDate": "2024-12-31", "leverage": 2.0, "accountType": "REG_T", "initialInvestment": 100000.0,
    });
    let run = must(
        &client,
        &server.address,
        "mutation($input: BacktestInput!) { runBacktest(input: $input) { backtestSession { sessionId status } } }",
        json!({"input": input}),
        Some(&token),
    )
    .await;
    assert_eq!(run["runBacktest"]["backtestSession"]["status"], "COMPLETED");
    let session = run["runBacktest"]["backtestSession"]["sessionId"].clone();

    // The burst; the server is killed once a few saves are acknowledged.
    let (acked_tx, mut acked_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let saves: Vec<_> = (0..BURST)
        .map(|i| {
            let (client, address, token, session, acked) = (
                client.clone(),
                server.address.clone(),
                token.clone(),
                session.clone(),
                acked_tx.clone(),
            );
            tokio::spawn(async move {
                let body = post(
                    &client,
                    &address,
                    "mutation($input: SaveResultInput!) { saveResult(input: $input) { savedResult { resultId } } }",
                    json!({"input": {"sessionId": session, "name": format!("burst {i}")}}),
                    Some(&token),
                )
                .await;
                if let Ok(body) = body
                    && let Some(id) = body["data"]["saveResult"]["savedResult"]["resultId"].as_str()
                {
                    let _ = acked.send(id.to_string());
                }
            })
        })
        .collect();
    drop(acked_tx);
    let mut acknowledged = Vec::new();
    while acknowledged.len() < 3 {
        let id = acked_rx
            .recv()
            .await
            .expect("some saves are acknowledged before the kill");
        acknowledged.push(id);
    }
    server.kill();
    for save in saves {
        let _ = save.await;
    }
    while let Some(id) = acked_rx.recv().await {
        acknowledged.push(id);
    }
    eprintln!(
        "{backend:?}: {} of {BURST} saves acknowledged before the kill",
        acknowledged.len()
    );

    let server = start_server(&url);
    let listed = must(
        &client,
        &server.address,
        "{ savedResults(first: 50) { nodes { resultId } } }",
        json!({}),
        Some(&token),
    )
    .await;
    let present: Vec<&str> = listed["savedResults"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["resultId"].as_str())
        .collect();
    for id in &acknowledged {
        assert!(
            present.contains(&id.as_str()),
            "acknowledged save {id} was lost on {backend:?}"
        );
    }
    let (rows, counter) = counts(&db, owner.id).await;
    assert_eq!(rows as usize, present.len());
    assert_eq!(
        counter, rows as i64,
        "the quota counter equals the rows on {backend:?}"
    );
    db.close().await.ok();
    drop(server);
}

#[tokio::test]
async fn killed_during_saves_on_sqlite() {
    killed_during_saves(Backend::Sqlite).await;
}

#[tokio::test]
async fn killed_during_saves_on_postgres() {
    killed_during_saves(Backend::Postgres).await;
}

//! Automatic persisted queries as Apollo's client link uses them: an unknown hash answers
//! PERSISTED_QUERY_NOT_FOUND, hash and query register and run it, the hash alone then runs
//! it over POST and GET (and on another replica through Redis); a hash that is not the
//! query's is refused, and a persisted mutation still cannot run over GET.

use serde_json::{Value, json};
use tests::{Backend, TestApp, error_code};

fn sha256(text: &str) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

fn persisted(hash: &str) -> Value {
    json!({"persistedQuery": {"version": 1, "sha256Hash": hash}})
}

async fn post(app: &TestApp, body: Value) -> (u16, Value) {
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .json(&body)
        .send()
        .await
        .expect("the POST reaches the server");
    (
        response.status().as_u16(),
        response.json().await.unwrap_or(Value::Null),
    )
}

async fn get(app: &TestApp, hash: &str) -> (u16, Value) {
    let response = app
        .client
        .get(format!("{}/graphql", app.address))
        .query(&[("extensions", persisted(hash).to_string())])
        .send()
        .await
        .expect("the GET reaches the server");
    (
        response.status().as_u16(),
        response.json().await.unwrap_or(Value::Null),
    )
}

const QUERY: &str = "query Tickers { tickers { symbol name firstDate lastDate lastClose rows } }";

/// `QUERY` under a comment no earlier run wrote: its hash is new even to a Redis that test
/// runs share.
fn fresh_query() -> String {
    format!("# run {}\n{QUERY}", uuid::Uuid::new_v4().simple())
}

#[tokio::test]
async fn the_hash_alone_runs_a_registered_query_on_every_replica() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let query = fresh_query();
    let hash = sha256(&query);
    let (status, unknown) = post(&app, json!({"extensions": persisted(&hash)})).await;
    assert_eq!(status, 200);
    assert_eq!(unknown["errors"][0]["message"], "PersistedQueryNotFound");
    assert_eq!(error_code(&unknown), "PERSISTED_QUERY_NOT_FOUND");

    let (status, registered) = post(
        &app,
        json!({"query": query, "extensions": persisted(&hash)}),
    )
    .await;
    assert_eq!(status, 200, "{registered}");
    let tickers = registered["data"]["tickers"].clone();
    assert!(
        tickers.as_array().is_some_and(|t| !t.is_empty()),
        "{registered}"
    );

    let (_, by_hash) = post(&app, json!({"extensions": persisted(&hash)})).await;
    assert_eq!(by_hash["data"]["tickers"], tickers);
    let (status, over_get) = get(&app, &hash).await;
    assert_eq!(status, 200);
    assert_eq!(over_get["data"]["tickers"], tickers);

    // What the hash request saves on the wire.
    // (Of the query as a client sends it, without this run's uniqueness comment.)
    let plain = persisted(&sha256(QUERY));
    let full = json!({"query": QUERY, "extensions": plain})
        .to_string()
        .len();
    let short = json!({"extensions": plain}).to_string().len();
    eprintln!("persisted query: {full} bytes with the query, {short} with the hash alone");
    assert!(short < full);

    // Another replica sharing Redis knows the hash without being told.
    if tests::redis_url().is_some() {
        let replica = app.replica(|_| {}).await;
        let (_, elsewhere) = post(&replica, json!({"extensions": persisted(&hash)})).await;
        assert_eq!(elsewhere["data"]["tickers"], tickers, "{elsewhere}");
        replica.stop().await;
    }
    app.stop().await;
}

#[tokio::test]
async fn a_wrong_hash_is_refused_and_mutations_stay_post_only() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let (status, mismatch) = post(
        &app,
        json!({"query": QUERY, "extensions": persisted(&sha256("{ version { service } }"))}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(error_code(&mismatch), "BAD_REQUEST");
    for bad in [
        json!({"persistedQuery": {"version": 2, "sha256Hash": sha256(QUERY)}}),
        json!({"persistedQuery": {"version": 1, "sha256Hash": "not hex"}}),
    ] {
        let (status, body) = post(&app, json!({"query": QUERY, "extensions": bad})).await;
        assert_eq!((status, error_code(&body)), (400, "BAD_REQUEST"), "{body}");
    }
    // A mutation registered over POST does not become runnable over GET.
    let logout = "mutation { logout { session { id } } }";
    let hash = sha256(logout);
    post(
        &app,
        json!({"query": logout, "extensions": persisted(&hash)}),
    )
    .await;
    let (status, _) = get(&app, &hash).await;
    assert_eq!(status, 405);
    app.stop().await;
}

//! Request hygiene: a request body is read in the encoding it says it has (gzip, br, zstd),
//! within the body limit once decompressed, or refused with 415; and no error message echoes
//! more than a short prefix of what the client sent.

use std::io::Write;

use serde_json::{Value, json};
use tests::{Backend, TestApp, error_code};

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("gzip in memory");
    encoder.finish().expect("gzip in memory")
}

fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
        encoder.write_all(bytes).expect("brotli in memory");
    }
    out
}

fn zstd(bytes: &[u8]) -> Vec<u8> {
    zstd::encode_all(bytes, 3).expect("zstd in memory")
}

async fn post_encoded(app: &TestApp, encoding: &str, body: Vec<u8>) -> (u16, Value) {
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("content-type", "application/json")
        .header("content-encoding", encoding)
        .body(body)
        .send()
        .await
        .expect("the server answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn bodies_are_read_in_the_encoding_they_declare() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("SQLite");
    let body = json!({"query": "{ version { service } }"}).to_string();
    for (encoding, encoded) in [
        ("gzip", gzip(body.as_bytes())),
        ("br", brotli(body.as_bytes())),
        ("zstd", zstd(body.as_bytes())),
    ] {
        let (status, answer) = post_encoded(&app, encoding, encoded).await;
        assert_eq!(status, 200, "{encoding}: {answer}");
        assert!(
            answer["data"]["version"]["service"].is_string(),
            "{encoding}: {answer}"
        );
    }
    // An encoding the server does not read is refused, not parsed as if it were plain.
    let (status, _) = post_encoded(&app, "compress", body.clone().into_bytes()).await;
    assert_eq!(status, 415);
    // A body that is not what its encoding says is a bad request.
    let (status, _) = post_encoded(&app, "gzip", body.into_bytes()).await;
    assert_eq!(status, 400);
    app.stop().await;
}

#[tokio::test]
async fn the_body_limit_applies_to_the_decompressed_body() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("SQLite");
    let limit = api::Config::defaults().body_limit;
    // A few kilobytes on the wire that expand to four times the limit.
    let padding = " ".repeat(4 * limit);
    let bomb = format!("{{\"query\": \"{{ version {{ service }} }}\"{padding}}}");
    let encoded = gzip(bomb.as_bytes());
    assert!(
        encoded.len() < limit / 10,
        "the test body is small on the wire"
    );
    let (status, body) = post_encoded(&app, "gzip", encoded).await;
    assert_eq!(status, 413, "{body}");
    app.stop().await;
}

#[tokio::test]
async fn messages_quote_only_a_short_prefix_of_the_input() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("SQLite");
    let field = "x".repeat(50_000);
    let (status, body) = app
        .post_graphql(&format!("{{ {field} }}"), json!({}), None)
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED");
    let message = body["errors"][0]["message"].as_str().expect("a message");
    assert!(
        message.chars().count() <= 301,
        "{} characters",
        message.len()
    );
    assert!(message.ends_with('…'), "{message}");
    app.stop().await;
}

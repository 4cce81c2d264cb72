//! Load helper: holds N `backtestProgress` subscriptions (graphql-transport-ws) to one session
//! and reports how many got their snapshot, progress and the terminal message.
//!
//! `ws_load <ws-url> <session-id> <connections> [bearer-token]`

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::{
    connect_async,
    tungstenite::{Message, client::IntoClientRequest},
};

#[derive(Default, Debug, Clone, Copy)]
struct Outcome {
    snapshot: bool,
    progress: u32,
    terminal: bool,
}

async fn one(url: String, session: String, token: Option<String>) -> anyhow::Result<Outcome> {
    let mut request = url.into_client_request()?;
    request
        .headers_mut()
        .insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
    let (mut socket, _) = connect_async(request).await?;
    let payload = token.map_or(
        json!({}),
        |t| json!({"authorization": format!("Bearer {t}")}),
    );
    socket
        .send(Message::Text(
            json!({"type": "connection_init", "payload": payload})
                .to_string()
                .into(),
        ))
        .await?;
    let query = "subscription($id: ID!) { backtestProgress(sessionId: $id) { kind percent } }";
    let mut out = Outcome::default();
    let mut subscribed = false;
    while let Some(message) = tokio::time::timeout(Duration::from_secs(120), socket.next()).await? {
        let Message::Text(text) = message? else {
            continue;
        };
        let value: Value = serde_json::from_str(&text)?;
        match value["type"].as_str() {
            Some("connection_ack") if !subscribed => {
                subscribed = true;
                let start = json!({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": {"id": session}}});
                socket.send(Message::Text(start.to_string().into())).await?;
            }
            Some("ping") => {
                socket
                    .send(Message::Text(r#"{"type":"pong"}"#.into()))
                    .await?
            }
            Some("next") => match value["payload"]["data"]["backtestProgress"]["kind"].as_str() {
                Some("SNAPSHOT") => out.snapshot = true,
                Some("PROGRESS") => out.progress += 1,
                Some("COMPLETED" | "ERROR" | "CANCELLED") => out.terminal = true,
                _ => {}
            },
            Some("complete") | Some("error") => break,
            _ => {}
        }
    }
    Ok(out)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        anyhow::bail!("usage: ws_load <ws-url> <session-id> <connections> [bearer-token]");
    }
    let (url, session, count) = (args[1].clone(), args[2].clone(), args[3].parse::<usize>()?);
    let token = args.get(4).cloned();
    let started = Instant::now();
    let tasks: Vec<_> = (0..count)
        .map(|_| tokio::spawn(one(url.clone(), session.clone(), token.clone())))
        .collect();
    let mut ok = 0;
    let mut snapshots = 0;
    let mut terminals = 0;
    let mut progress = 0u64;
    let mut failures = 0;
    for task in tasks {
        match task.await? {
            Ok(o) => {
                ok += 1;
                snapshots += usize::from(o.snapshot);
                terminals += usize::from(o.terminal);
                progress += u64::from(o.progress);
            }
            Err(err) => {
                failures += 1;
                if failures <= 3 {
                    eprintln!("connection failed: {err}");
                }
            }
        }
    }
    println!(
        "{count} subscriptions in {:.1} s: {ok} ok, {failures} failed; {snapshots} snapshots, {terminals} terminal messages, {progress} progress messages ({:.1} per subscriber)",
        started.elapsed().as_secs_f64(),
        progress as f64 / ok.max(1) as f64
    );
    Ok(())
}

//! `schema.graphql` is the output of `margin-api schema`; a stale file fails here.
//! Regenerate with: cargo run -p api -- schema > schema.graphql

#[test]
fn schema_graphql_is_up_to_date() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema.graphql");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let current = api::graphql::sdl();
    assert!(
        committed == current,
        "schema.graphql is stale: run `cargo run -p api -- schema > schema.graphql`"
    );
}

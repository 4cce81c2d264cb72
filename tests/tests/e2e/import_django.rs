//! `margin-api import-django` (issue #12) against a database built by real Django
//! (`tests/fixtures/django_legacy`): SQLite into SQLite always, PostgreSQL into PostgreSQL when
//! `TEST_DATABASE_URL` is set and the fixture has a PostgreSQL database. Into a target that
//! already has users (one with a colliding id, one with a Django user's email), through the
//! library function the binary calls; then the real server on the imported database.
//!
//! The fixture is found through `MARGIN_TEST_DJANGO_FIXTURES` (the folder `build.sh` fills:
//! `legacy.sqlite3`, `sqlite.manifest.json`, `postgres.url`, `postgres.manifest.json`).
//! Without it the tests say they skipped, unless `MARGIN_TEST_REQUIRE_DJANGO=1` (CI).

use std::{
    collections::{BTreeMap, BTreeSet},
    path::PathBuf,
};

use api::import_django::{ImportArgs, Report};
use sea_orm::{
    ColumnTrait, ConnectionTrait, Database, DatabaseConnection, EntityTrait, QueryFilter, Statement,
};
use serde_json::{Value, json};
use tests::{Backend, TestApp, error_code, fresh_database, test_config};

const TABLES: [&str; 7] = [
    "authentication_user",
    "authentication_invitetemplate",
    "authentication_invitetoken",
    "authentication_loginattempt",
    "margin_calculator_margincalculation",
    "historical_backtest_backtestsession",
    "historical_backtest_savedbacktestresult",
];

/// The accounts the target has before the import.
const ROOT: (&str, &str, &str) = ("root@target.example", "root", "Target-Root-Pass-1!");
/// A Django user's email (mixed case in Django), already registered here.
const VICTOR: (&str, &str, &str) = (
    "victor.viewer@example.com",
    "victor_here",
    "Target-Victor-Pass-1!",
);

/// The fixture folder, or None (with a note) when the tests should skip.
fn fixtures() -> Option<PathBuf> {
    let required = std::env::var("MARGIN_TEST_REQUIRE_DJANGO").is_ok_and(|v| v == "1");
    let dir = std::env::var("MARGIN_TEST_DJANGO_FIXTURES")
        .ok()
        .filter(|d| !d.is_empty())
        .map(PathBuf::from);
    match dir {
        Some(dir) if dir.join("legacy.sqlite3").is_file() => Some(dir),
        _ if required => panic!(
            "MARGIN_TEST_REQUIRE_DJANGO=1 but MARGIN_TEST_DJANGO_FIXTURES holds no legacy.sqlite3 \
             (build it: bash tests/fixtures/django_legacy/build.sh DIR)"
        ),
        _ => {
            eprintln!(
                "skipped: MARGIN_TEST_DJANGO_FIXTURES is not a built Django fixture \
                 (bash tests/fixtures/django_legacy/build.sh DIR)"
            );
            None
        }
    }
}

/// The Django database of `backend` in the fixture folder and its manifest.
fn source(dir: &std::path::Path, backend: Backend) -> Option<(String, Value)> {
    let (url, manifest) = match backend {
        Backend::Sqlite => (
            format!("sqlite://{}", dir.join("legacy.sqlite3").display()),
            dir.join("sqlite.manifest.json"),
        ),
        Backend::Postgres => {
            let Ok(url) = std::fs::read_to_string(dir.join("postgres.url")) else {
                eprintln!("skipped on PostgreSQL: the fixture has no postgres.url");
                return None;
            };
            (url.trim().to_string(), dir.join("postgres.manifest.json"))
        }
    };
    let manifest = std::fs::read_to_string(&manifest).expect("the fixture has its manifest");
    Some((
        url,
        serde_json::from_str(&manifest).expect("the manifest is JSON"),
    ))
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    db.query_one_raw(Statement::from_string(
        db.get_database_backend(),
        sql.to_string(),
    ))
    .await
    .unwrap_or_else(|err| panic!("{sql}: {err}"))
    .map(|row| {
        row.try_get_by_index::<i64>(0)
            .or_else(|_| row.try_get_by_index::<i32>(0).map(i64::from))
            .expect("an integer")
    })
    .unwrap_or(0)
}

async fn text(db: &DatabaseConnection, sql: &str) -> Option<String> {
    db.query_one_raw(Statement::from_string(
        db.get_database_backend(),
        sql.to_string(),
    ))
    .await
    .unwrap_or_else(|err| panic!("{sql}: {err}"))
    .map(|row| row.try_get_by_index::<String>(0).expect("a text"))
}

async fn import(target: &str, from: &str, dry_run: bool) -> (Report, String) {
    let config = test_config(target.to_string());
    let report_file =
        std::env::temp_dir().join(format!("import-report-{}.json", uuid::Uuid::new_v4()));
    let args = ImportArgs {
        from: vec![from.to_string()],
        dry_run,
        report: Some(report_file.clone()),
    };
    let mut out = Vec::new();
    let report = api::import_django::run(&config, &args, &mut out)
        .await
        .expect("the import runs");
    let written: Report =
        serde_json::from_slice(&std::fs::read(&report_file).expect("--report writes the file"))
            .expect("the report file is the report");
    assert_eq!(written, report, "--report FILE holds the printed report");
    std::fs::remove_file(report_file).ok();
    (report, String::from_utf8(out).expect("the summary is text"))
}

/// Skipped Django ids per table, as the manifest expects them.
fn expected_skips(manifest: &Value) -> BTreeMap<String, BTreeSet<i64>> {
    let mut out: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    for skip in manifest["expected_skips"]
        .as_array()
        .expect("expected_skips")
    {
        out.entry(skip["table"].as_str().unwrap().to_string())
            .or_default()
            .insert(skip["id"].as_i64().unwrap());
    }
    out
}

fn password_of(manifest: &Value, email: &str) -> String {
    manifest["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| {
            u["email"]
                .as_str()
                .is_some_and(|e| e.eq_ignore_ascii_case(email))
        })
        .and_then(|u| u["password"].as_str())
        .unwrap_or_else(|| panic!("{email} is in the manifest"))
        .to_string()
}

const SAVED: &str =
    "query { savedResults(first: 100) { totalCount nodes { resultId name legacy ticker } } }";
const ONE: &str = "query($id: ID!) { savedResult(resultId: $id) {
  resultId legacy legacyReason ticker startDate
  result { summary { finalEquity cagr } }
  legacyComparison { metric label legacy server difference }
  legacyResults
} }";

async fn moves_in(backend: Backend) {
    let Some(dir) = fixtures() else { return };
    let Some((from, manifest)) = source(&dir, backend) else {
        return;
    };
    let Some(target) = fresh_database(backend).await else {
        return;
    };

    // The target already has accounts: `root` takes id 1, which the Django admin had, and
    // victor's email is registered here with another password.
    let app = TestApp::start(backend, test_config(target.clone())).await;
    for (email, username, password) in [ROOT, VICTOR] {
        api::services::accounts::admin::create_admin(&app.db, email, username, password.into())
            .await
            .expect("a target account");
    }
    app.stop().await;
    let db = Database::connect(&target).await.expect("the target opens");
    let root_id = count(
        &db,
        "SELECT id FROM authentication_user WHERE username = 'root'",
    )
    .await;
    let victor_id = count(
        &db,
        "SELECT id FROM authentication_user WHERE username = 'victor_here'",
    )
    .await;

    // A dry run reports what an import would do and writes nothing.
    let (dry, summary) = import(&target, &from, true).await;
    assert!(dry.dry_run && summary.contains("dry run"), "{summary}");
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM authentication_user").await,
        2
    );
    for table in &TABLES[1..] {
        assert_eq!(
            count(&db, &format!("SELECT COUNT(*) FROM {table}")).await,
            0,
            "{table} after a dry run"
        );
    }
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM historical_backtest_legacysavedresult"
        )
        .await,
        0
    );

    let (report, summary) = import(&target, &from, false).await;
    assert!(!report.dry_run);
    // The dry run told the truth.
    for (a, b) in dry.tables.iter().zip(&report.tables) {
        assert_eq!(
            (&a.table, a.read, a.imported, a.already_present, &a.skipped),
            (&b.table, b.read, b.imported, b.already_present, &b.skipped)
        );
    }

    // Counts per table match the manifest and the database; the skipped rows are the
    // manifest's bad rows.
    let skips = expected_skips(&manifest);
    let expected = &manifest["expected_imported"];
    for table in TABLES {
        let t = report
            .table(table)
            .unwrap_or_else(|| panic!("{table} is in the report"));
        assert_eq!(
            t.read,
            manifest["counts"][table].as_u64().unwrap(),
            "{table} read"
        );
        let matched = u64::from(table == "authentication_user");
        assert_eq!(
            t.imported + t.already_present,
            expected[table].as_u64().unwrap(),
            "{table}: {t:?}"
        );
        assert_eq!(
            t.already_present, matched,
            "{table}: only victor was here before"
        );
        let skipped: BTreeSet<i64> = t.skipped_ids().into_iter().collect();
        assert_eq!(
            skipped,
            skips.get(table).cloned().unwrap_or_default(),
            "{table} skips: {:?}",
            t.skipped
        );
        let here = count(&db, &format!("SELECT COUNT(*) FROM {table}")).await;
        let before = if table == "authentication_user" { 2 } else { 0 };
        assert_eq!(here as u64, before + t.imported, "{table} rows here");
    }
    assert!(
        summary.contains("authentication_user") && summary.contains("skipped rows:"),
        "{summary}"
    );
    assert_eq!(report.matched_users.len(), 1);
    assert_eq!(report.matched_users[0].user_id, victor_id);
    for table in [
        "authentication_usersession",
        "historical_backtest_backtestcache",
    ] {
        let left = report
            .skipped_tables
            .iter()
            .find(|t| t.table == table)
            .expect("a skipped table");
        assert_eq!(
            left.rows,
            manifest["skipped_tables"][table].as_u64().unwrap(),
            "{table}"
        );
    }
    let legacy_only: BTreeSet<String> = report
        .legacy_only_results
        .iter()
        .map(|r| r.result_id.to_string())
        .collect();
    let want: BTreeSet<String> = manifest["legacy_only_results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(legacy_only, want);

    // The bad rows are in the report and nowhere else.
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM authentication_user WHERE email LIKE '%not-an-email%'"
        )
        .await,
        0
    );
    for id in manifest["broken_json_results"].as_array().unwrap() {
        let uuid: uuid::Uuid = id.as_str().unwrap().parse().unwrap();
        let here = saved_by_uuid(&db, uuid).await;
        assert_eq!(here, 0, "broken result {uuid} is not imported");
    }

    // Ids were remapped: root kept id 1 and its account; the Django admin got a new id and
    // is the approver of the users it approved.
    assert_eq!(
        text(
            &db,
            &format!("SELECT email FROM authentication_user WHERE id = {root_id}")
        )
        .await
        .as_deref(),
        Some(ROOT.0)
    );
    let admin_id = count(
        &db,
        "SELECT id FROM authentication_user WHERE email = 'admin@example.com'",
    )
    .await;
    assert_ne!(admin_id, root_id);
    assert_eq!(
        count(
            &db,
            "SELECT approved_by FROM authentication_user WHERE email = 'alice.analyst@example.com'"
        )
        .await,
        admin_id
    );
    // Victor's account here is left as it was, with the Django rows attached to it.
    assert_eq!(
        text(
            &db,
            "SELECT username FROM authentication_user WHERE email = 'victor.viewer@example.com'"
        )
        .await
        .as_deref(),
        Some(VICTOR.1)
    );
    let victor_saved = count(&db, &format!("SELECT COUNT(*) FROM historical_backtest_savedbacktestresult WHERE user_id = {victor_id}")).await;
    assert!(victor_saved > 0);

    // Quotas equal row counts, for every account.
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM authentication_user u WHERE u.saved_results_count <> \
                    (SELECT COUNT(*) FROM historical_backtest_savedbacktestresult s WHERE s.user_id = u.id)").await,
        0
    );
    // The Django hash is kept verbatim until the first login.
    let alice_hash = text(
        &db,
        "SELECT password FROM authentication_user WHERE email = 'alice.analyst@example.com'",
    )
    .await
    .unwrap();
    assert!(alice_hash.starts_with("pbkdf2_sha256$"), "{alice_hash}");

    // The server on the imported database.
    let app = TestApp::start(backend, test_config(target.clone())).await;
    let alice = app
        .login(
            "Alice.Analyst@Example.com",
            &password_of(&manifest, "alice.analyst@example.com"),
        )
        .await;
    let hash = text(
        &db,
        "SELECT password FROM authentication_user WHERE email = 'alice.analyst@example.com'",
    )
    .await
    .unwrap();
    assert!(hash.starts_with("$argon2id$"), "upgraded on login: {hash}");
    let root = app.login(ROOT.0, ROOT.2).await;
    let victor = app.login(VICTOR.0, VICTOR.2).await;

    let listing = app.ok(SAVED, json!({}), Some(&alice)).await;
    let nodes = listing["savedResults"]["nodes"].as_array().unwrap().clone();
    let alice_id = count(
        &db,
        "SELECT id FROM authentication_user WHERE email = 'alice.analyst@example.com'",
    )
    .await;
    let alice_rows = count(
        &db,
        &format!("SELECT saved_results_count FROM authentication_user WHERE id = {alice_id}"),
    )
    .await;
    assert_eq!(nodes.len() as i64, alice_rows);
    assert_eq!(
        listing["savedResults"]["totalCount"].as_i64(),
        Some(alice_rows)
    );
    for node in &nodes {
        let legacy = want.contains(node["resultId"].as_str().unwrap());
        assert_eq!(node["legacy"].as_bool(), Some(legacy), "{node}");
    }
    // A re-run result: the server's numbers, the old ones beside them.
    let rerun = nodes
        .iter()
        .find(|n| n["legacy"] == json!(false))
        .expect("a re-run result");
    let one = app
        .ok(ONE, json!({"id": rerun["resultId"]}), Some(&alice))
        .await["savedResult"]
        .clone();
    assert!(one["result"]["summary"]["finalEquity"].is_number(), "{one}");
    assert!(one["legacyReason"].is_null());
    assert!(
        one["legacyResults"]["metrics"]["CAGR"].is_number(),
        "the old payload verbatim"
    );
    let cagr = one["legacyComparison"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == "cagrPct")
        .expect("CAGR compared")
        .clone();
    let (old, new, diff) = (
        cagr["legacy"].as_f64().unwrap(),
        cagr["server"].as_f64().unwrap(),
        cagr["difference"].as_f64().unwrap(),
    );
    assert!((new - old - diff).abs() < 1e-9, "{cagr}");
    assert!(
        (new - one["result"]["summary"]["cagr"].as_f64().unwrap() * 100.0).abs() < 1e-9,
        "server CAGR is the stored result's, in percent"
    );
    // Imported by its input, the result was computed on that first read and is stored in
    // full now: the second read is the same result, from the row.
    let stored = entity::saved_backtest_result::Entity::find()
        .filter(
            entity::saved_backtest_result::Column::ResultId
                .eq(uuid::Uuid::parse_str(rerun["resultId"].as_str().unwrap()).unwrap()),
        )
        .one(&app.db)
        .await
        .expect("read the row")
        .expect("the row");
    assert!(stored.results_data.get("deferredInput").is_none());
    assert!(
        stored.results_data.get("summary").is_some(),
        "the full result"
    );
    let again = app
        .ok(ONE, json!({"id": rerun["resultId"]}), Some(&alice))
        .await["savedResult"]
        .clone();
    assert_eq!(again["result"], one["result"]);
    // A legacy-only result: no server result, the legacy payload and numbers, the reason.
    let legacy = nodes
        .iter()
        .find(|n| n["legacy"] == json!(true))
        .expect("a legacy result");
    let one = app
        .ok(ONE, json!({"id": legacy["resultId"]}), Some(&alice))
        .await["savedResult"]
        .clone();
    assert!(
        one["result"].is_null() && one["legacy"] == json!(true),
        "{one}"
    );
    assert!(one["legacyReason"].as_str().is_some_and(|r| !r.is_empty()));
    assert!(one["legacyResults"]["metrics"].is_object());
    assert!(
        one["legacyComparison"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["server"].is_null() && m["legacy"].is_number() || m["legacy"].is_null())
    );

    // Another user sees NOT_FOUND, as for a missing result; so does the account that had the
    // colliding id.
    for token in [&victor, &root] {
        let body = app
            .gql(ONE, json!({"id": rerun["resultId"]}), Some(token))
            .await;
        assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    }
    // Imported calculations carry the old figures beside the server's.
    let calcs = app
        .ok("query { marginCalculations(first: 100) { nodes { ticker result { marginCallPrice } legacyComparison { metric legacy server difference } } } }", json!({}), Some(&alice))
        .await;
    let calcs = calcs["marginCalculations"]["nodes"]
        .as_array()
        .unwrap()
        .clone();
    assert!(!calcs.is_empty());
    for calc in &calcs {
        let call = calc["legacyComparison"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["metric"] == "marginCallPrice")
            .unwrap()
            .clone();
        assert_eq!(call["server"], calc["result"]["marginCallPrice"], "{calc}");
    }
    app.stop().await;

    // A second import changes nothing and says so.
    let (again, summary) = import(&target, &from, false).await;
    assert_eq!(again.imported(), 0, "{summary}");
    assert!(summary.contains("nothing to import"), "{summary}");
    for (first, second) in report.tables.iter().zip(&again.tables) {
        assert_eq!(
            second.already_present,
            first.imported + first.already_present,
            "{}",
            first.table
        );
        assert_eq!(second.skipped_ids(), first.skipped_ids(), "{}", first.table);
    }
    for table in TABLES {
        let before = if table == "authentication_user" { 2 } else { 0 };
        let imported = report.table(table).unwrap().imported;
        // Logins since added attempts; the other tables are as the first import left them.
        if table != "authentication_loginattempt" {
            assert_eq!(
                count(&db, &format!("SELECT COUNT(*) FROM {table}")).await as u64,
                before + imported,
                "{table}"
            );
        }
    }
    db.close().await.ok();
}

async fn saved_by_uuid(db: &DatabaseConnection, id: uuid::Uuid) -> i64 {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            match backend {
                sea_orm::DbBackend::Postgres => "SELECT COUNT(*) FROM historical_backtest_savedbacktestresult WHERE result_id = $1",
                _ => "SELECT COUNT(*) FROM historical_backtest_savedbacktestresult WHERE result_id = ?",
            },
            [id.into()],
        ))
        .await
        .expect("count");
    row.map(|r| r.try_get_by_index::<i64>(0).unwrap())
        .unwrap_or(0)
}

#[tokio::test]
async fn import_django_moves_the_fixture_in_on_sqlite() {
    moves_in(Backend::Sqlite).await;
}

#[tokio::test]
async fn import_django_moves_the_fixture_in_on_postgres() {
    moves_in(Backend::Postgres).await;
}

#[tokio::test]
async fn import_django_refuses_what_is_not_a_django_database() {
    let Some(target) = fresh_database(Backend::Sqlite).await else {
        return;
    };
    let config = test_config(target.clone());
    let missing = ImportArgs {
        from: vec!["sqlite:///nonexistent/legacy.sqlite3".into()],
        dry_run: false,
        report: None,
    };
    let err = api::import_django::run(&config, &missing, &mut Vec::new())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot open the Django database"), "{err}");
    // Our own database is no Django database (and the same one is refused outright).
    let itself = ImportArgs {
        from: vec![target.clone()],
        ..missing.clone()
    };
    let err = api::import_django::run(&config, &itself, &mut Vec::new())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("the configured database itself"), "{err}");
    let other = fresh_database(Backend::Sqlite).await.unwrap();
    TestApp::start(Backend::Sqlite, test_config(other.clone()))
        .await
        .stop()
        .await;
    let not_django = ImportArgs {
        from: vec![other.replace("?mode=rwc", "")],
        ..missing
    };
    let err = api::import_django::run(&config, &not_django, &mut Vec::new())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("not of the Django apps"), "{err}");
}

/// The umbrella app (accounts) and the margin app kept separate SQLite files: both are read,
/// each table from the file that has it, and the result is the single file's.
#[tokio::test]
async fn import_django_reads_the_two_apps_databases() {
    let Some(dir) = fixtures() else { return };
    let Some((_, manifest)) = source(&dir, Backend::Sqlite) else {
        return;
    };
    let scratch = std::env::temp_dir().join(format!("django-split-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&scratch).unwrap();
    let mut urls = Vec::new();
    for (name, drop) in [
        ("umbrella.sqlite3", &TABLES[4..]),
        ("margin.sqlite3", &TABLES[..4]),
    ] {
        let file = scratch.join(name);
        std::fs::copy(dir.join("legacy.sqlite3"), &file).unwrap();
        let url = format!("sqlite://{}", file.display());
        let db = Database::connect(format!("{url}?mode=rw")).await.unwrap();
        db.execute_unprepared("PRAGMA foreign_keys = OFF")
            .await
            .unwrap();
        for table in drop {
            db.execute_unprepared(&format!("DROP TABLE {table}"))
                .await
                .unwrap();
        }
        db.close().await.ok();
        urls.push(url);
    }
    let target = fresh_database(Backend::Sqlite).await.unwrap();
    let args = ImportArgs {
        from: urls,
        dry_run: false,
        report: None,
    };
    let report = api::import_django::run(&test_config(target), &args, &mut Vec::new())
        .await
        .expect("imports from both files");
    for table in TABLES {
        assert_eq!(
            report.table(table).unwrap().imported,
            manifest["expected_imported"][table].as_u64().unwrap(),
            "{table}"
        );
    }
    std::fs::remove_dir_all(scratch).ok();
}

//! For service tests: an in-memory SQLite database with every migration applied, and the
//! rows the services expect to find (a user).

use chrono::Utc;
use entity::user;
use sea_orm::{ActiveModelTrait, ConnectOptions, Database, DatabaseConnection, Set};

pub(crate) async fn memory() -> DatabaseConnection {
    let mut options = ConnectOptions::new("sqlite::memory:");
    // One connection kept open: every connection to `sqlite::memory:` would open a database
    // of its own, and the database goes with its last connection.
    options
        .max_connections(1)
        .min_connections(1)
        .sqlx_logging(false);
    let db = Database::connect(options).await.expect("in-memory SQLite");
    crate::db::migrate_up(&db).await.expect("migrations");
    db
}

/// An approved user; returns the id.
pub(crate) async fn user(db: &DatabaseConnection, username: &str) -> i64 {
    let now = Utc::now();
    user::ActiveModel {
        username: Set(username.to_string()),
        email: Set(format!("{username}@example.com")),
        password: Set(String::new()),
        first_name: Set(String::new()),
        last_name: Set(String::new()),
        role: Set(entity::stored_enums::Role::Analyst),
        is_active: Set(true),
        is_staff: Set(false),
        is_superuser: Set(false),
        is_approved: Set(true),
        login_count: Set(0),
        saved_results_count: Set(0),
        date_joined: Set(now),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("user")
    .id
}

//! Accounts through the real server, on SQLite and (when configured) PostgreSQL: invites,
//! registration and approval, login with throttling and the audit, sessions and their expiry,
//! revocation, legacy Django hashes, admin-only fields, API tokens and their scopes, the
//! WebSocket `connection_init`, cookie mode, and bad input.

use std::time::{Duration, Instant, SystemTime};

use api::{Config, services::accounts::admin};
use entity::{api_token, login_attempt, user, user_session};
use futures_util::{SinkExt, StreamExt};
use sea_orm::{
    ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, prelude::ChronoDateTimeUtc,
    sea_query::Expr,
};
use serde_json::{Value, json};
use tests::{Backend, TestApp, error_code, on_each_backend_with};
use tokio_tungstenite::{
    connect_async,
    tungstenite::{Message, client::IntoClientRequest},
};

const ADMIN_EMAIL: &str = "admin@example.com";
const ADMIN_PASSWORD: &str = "admin password 1";
const PASSWORD: &str = "correct horse battery";

const LOGIN: &str = "mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { token expiresAt user { id username email role status isApproved } }
}";
const ME: &str = "{ me { id username email role status isApproved firstName lastName } }";
const REGISTER: &str = "mutation($input: RegisterInput!) {
  register(input: $input) { user { id username email role status isApproved } }
}";
const CREATE_INVITE: &str = "mutation($email: String!, $role: Role) {
  createInvite(email: $email, inviteType: $role) { token invite { id email inviteType status expiresAt } }
}";

fn defaults(_: &mut Config) {}

async fn login_body(app: &TestApp, email: &str, password: &str) -> Value {
    app.gql(LOGIN, json!({"email": email, "password": password}), None)
        .await
}

/// Creates the admin with the service the `create-admin` command uses, and signs in.
async fn admin_token(app: &TestApp) -> String {
    admin::create_admin(&app.db, ADMIN_EMAIL, "admin", ADMIN_PASSWORD.to_string())
        .await
        .expect("admin is created");
    app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await
}

async fn invite(app: &TestApp, admin: &str, email: &str, role: &str) -> String {
    let data = app
        .ok(
            CREATE_INVITE,
            json!({"email": email, "role": role}),
            Some(admin),
        )
        .await;
    data["createInvite"]["token"]
        .as_str()
        .expect("an invite token")
        .to_string()
}

fn registration(email: &str, username: &str, invite: Option<&str>) -> Value {
    json!({"input": {
        "email": email, "username": username, "password": PASSWORD,
        "firstName": "Ann", "lastName": "Lee", "inviteToken": invite,
    }})
}

/// An approved user with `role`, signed in; returns (user id, token).
async fn member(app: &TestApp, admin: &str, name: &str, role: &str) -> (String, String) {
    let email = format!("{name}@example.com");
    let invite = invite(app, admin, &email, role).await;
    let data = app
        .ok(REGISTER, registration(&email, name, Some(&invite)), None)
        .await;
    let id = data["register"]["user"]["id"].as_str().unwrap().to_string();
    (id, app.login(&email, PASSWORD).await)
}

async fn user_count(app: &TestApp) -> u64 {
    user::Entity::find().count(&app.db).await.unwrap()
}

fn ago(secs: u64) -> ChronoDateTimeUtc {
    ChronoDateTimeUtc::from(SystemTime::now() - Duration::from_secs(secs))
}

#[tokio::test]
async fn invite_register_login_me_logout_and_the_token_no_longer_works() {
    on_each_backend_with(defaults, |app| async move {
        let admin = admin_token(&app).await;
        let created = app
            .ok(
                CREATE_INVITE,
                json!({"email": "Ann@Example.com", "role": "ANALYST"}),
                Some(&admin),
            )
            .await;
        let invite = &created["createInvite"];
        assert_eq!(invite["invite"]["email"], "ann@example.com");
        assert_eq!(invite["invite"]["inviteType"], "ANALYST");
        assert_eq!(invite["invite"]["status"], "PENDING");
        let token = invite["token"].as_str().unwrap();

        let registered = app
            .ok(
                REGISTER,
                registration("ann@example.com", "ann", Some(token)),
                None,
            )
            .await;
        assert_eq!(registered["register"]["user"]["status"], "APPROVED");
        assert_eq!(registered["register"]["user"]["role"], "ANALYST");

        let body = login_body(&app, "ANN@example.com", PASSWORD).await;
        let session = body["data"]["login"]["token"]
            .as_str()
            .expect("a session token")
            .to_string();
        assert_eq!(session.len(), 43, "32 random bytes in base64url");
        assert!(body["data"]["login"]["expiresAt"].is_string());

        let me = app.ok(ME, json!({}), Some(&session)).await;
        assert_eq!(me["me"]["username"], "ann");
        assert_eq!(me["me"]["role"], "ANALYST");
        assert_eq!(me["me"]["firstName"], "Ann");

        // Only the SHA-256 of the session token is stored.
        let stored = user_session::Entity::find().all(&app.db).await.unwrap();
        assert!(
            stored
                .iter()
                .all(|s| s.session_key_hash.len() == 64 && s.session_key_hash != session)
        );

        let out = app
            .ok(
                "mutation { logout { session { id } } }",
                json!({}),
                Some(&session),
            )
            .await;
        assert!(out["logout"]["session"]["id"].is_string(), "{out}");
        let after = app.gql(ME, json!({}), Some(&session)).await;
        assert_eq!(error_code(&after), "UNAUTHENTICATED");
        let anonymous = app.gql(ME, json!({}), None).await;
        assert_eq!(error_code(&anonymous), "UNAUTHENTICATED");

        // The invite is spent.
        let again = app
            .gql(
                REGISTER,
                registration("ann@example.com", "ann2", Some(token)),
                None,
            )
            .await;
        assert_eq!(error_code(&again), "BAD_USER_INPUT");
        assert_eq!(again["errors"][0]["extensions"]["field"], "inviteToken");
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn a_pending_user_cannot_act_until_approved() {
    on_each_backend_with(
        |c| c.open_registration = true,
        |app| async move {
            let admin = admin_token(&app).await;
            let registered = app
                .ok(REGISTER, registration("pat@example.com", "pat", None), None)
                .await;
            assert_eq!(registered["register"]["user"]["status"], "PENDING");
            let id = registered["register"]["user"]["id"]
                .as_str()
                .unwrap()
                .to_string();

            // The password is right: a session, and `me` says "pending".
            let body = login_body(&app, "pat@example.com", PASSWORD).await;
            assert_eq!(body["data"]["login"]["user"]["status"], "PENDING");
            let token = body["data"]["login"]["token"].as_str().unwrap().to_string();
            assert_eq!(
                app.ok(ME, json!({}), Some(&token)).await["me"]["isApproved"],
                false
            );

            let create = "mutation { createApiToken(name: \"ci\", scopes: [READ]) { token } }";
            let refused = app.gql(create, json!({}), Some(&token)).await;
            assert_eq!(error_code(&refused), "FORBIDDEN");
            assert!(
                refused["errors"][0]["message"]
                    .as_str()
                    .unwrap()
                    .contains("pending approval")
            );

            let pending = app
                .ok(
                    "{ users(status: PENDING) { edges { node { id username status } } } }",
                    json!({}),
                    Some(&admin),
                )
                .await;
            let edges = pending["users"]["edges"].as_array().unwrap();
            assert_eq!(edges.len(), 1);
            assert_eq!(edges[0]["node"]["username"], "pat");

            let approved = app
                .ok(
                    "mutation($id: ID!) { approveUser(id: $id) { user { status approvalDate } } }",
                    json!({"id": id}),
                    Some(&admin),
                )
                .await;
            assert_eq!(approved["approveUser"]["user"]["status"], "APPROVED");
            // The same session now can act.
            let created = app.ok(create, json!({}), Some(&token)).await;
            assert!(
                created["createApiToken"]["token"]
                    .as_str()
                    .unwrap()
                    .starts_with("mapi_")
            );
            let none_pending = app
                .ok(
                    "{ users(status: PENDING) { edges { node { id } } } }",
                    json!({}),
                    Some(&admin),
                )
                .await;
            assert_eq!(none_pending["users"]["edges"].as_array().unwrap().len(), 0);
            app.stop().await;
        },
    )
    .await;
}

#[tokio::test]
async fn the_four_login_failures_are_indistinguishable() {
    on_each_backend_with(defaults, |app| async move {
        let admin = admin_token(&app).await;
        let (inactive_id, _) = member(&app, &admin, "ina", "VIEWER").await;
        let (rejected_id, _) = member(&app, &admin, "rej", "VIEWER").await;
        member(&app, &admin, "val", "VIEWER").await;
        app.ok("mutation($id: ID!) { setUserActive(id: $id, active: false) { user { isActive } } }", json!({"id": inactive_id}), Some(&admin)).await;
        app.ok("mutation($id: ID!) { rejectUser(id: $id, reason: \"spam\") { user { status } } }", json!({"id": rejected_id}), Some(&admin)).await;

        let failures = [
            login_body(&app, "nobody@example.com", PASSWORD).await,
            login_body(&app, "val@example.com", "wrong password!").await,
            login_body(&app, "ina@example.com", PASSWORD).await,
            login_body(&app, "rej@example.com", PASSWORD).await,
        ];
        for failure in &failures {
            assert_eq!(failure["errors"], failures[0]["errors"], "identical errors");
            assert!(failure["data"].is_null());
        }
        assert_eq!(error_code(&failures[0]), "UNAUTHENTICATED");
        assert_eq!(failures[0]["errors"][0]["message"], "invalid email or password");

        // Same timing: an unknown email costs a (dummy) password verification too.
        let mut unknown = Vec::new();
        let mut wrong = Vec::new();
        for _ in 0..2 {
            let started = Instant::now();
            login_body(&app, "ghost@example.com", PASSWORD).await;
            unknown.push(started.elapsed());
            let started = Instant::now();
            login_body(&app, "val@example.com", "another wrong one").await;
            wrong.push(started.elapsed());
        }
        let fastest_unknown = unknown.iter().min().unwrap();
        let slowest_wrong = wrong.iter().max().unwrap();
        assert!(
            fastest_unknown.as_secs_f64() > slowest_wrong.as_secs_f64() * 0.2,
            "unknown emails answer as slowly as wrong passwords: {unknown:?} vs {wrong:?}"
        );

        // Every attempt is in the audit, with its reason; admins read it.
        let audit = app.ok("{ loginAttempts(filter: {success: false}, first: 100) { edges { node { email success failureReason ipAddress userId } } } }",
            json!({}),
            Some(&admin),
        )
        .await;
        let reasons: Vec<&str> = audit["loginAttempts"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["failureReason"].as_str().unwrap())
            .collect();
        for reason in ["unknown_email", "wrong_password", "inactive", "rejected"] {
            assert!(reasons.contains(&reason), "{reason} in {reasons:?}");
        }
        let first = &audit["loginAttempts"]["edges"][0]["node"];
        assert_eq!(first["ipAddress"], "127.0.0.1");
        let successes = login_attempt::Entity::find()
            .filter(login_attempt::Column::Success.eq(true))
            .count(&app.db)
            .await
            .unwrap();
        assert!(successes >= 4, "successful logins are recorded too");
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn throttling_after_repeated_failures_and_recovery_after_the_window() {
    on_each_backend_with(
        |c| {
            c.login_max_failures_per_account = 3;
            c.login_max_failures_per_ip = 6;
            c.login_window_secs = 60;
        },
        |app| async move {
            let admin = admin_token(&app).await;
            member(&app, &admin, "tom", "VIEWER").await;
            for _ in 0..3 {
                let body = login_body(&app, "tom@example.com", "wrong password").await;
                assert_eq!(error_code(&body), "UNAUTHENTICATED");
            }
            // Locked, even with the right password, with a hint of when to come back.
            let limited = login_body(&app, "tom@example.com", PASSWORD).await;
            assert_eq!(error_code(&limited), "RATE_LIMITED", "{limited}");
            let retry = limited["errors"][0]["extensions"]["retryAfter"]
                .as_u64()
                .unwrap();
            assert!((1..=61).contains(&retry), "retryAfter {retry}");
            // Other accounts from this address are not locked yet.
            app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;

            // Per IP: failures on any emails add up.
            for n in 0..3 {
                let body =
                    login_body(&app, &format!("ghost{n}@example.com"), "whatever password").await;
                assert_eq!(error_code(&body), "UNAUTHENTICATED");
            }
            let by_ip = login_body(&app, "someone.else@example.com", "whatever password").await;
            assert_eq!(error_code(&by_ip), "RATE_LIMITED");
            let admin_too = login_body(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
            assert_eq!(error_code(&admin_too), "RATE_LIMITED");

            // The window passes (moved in the database rather than waited for).
            login_attempt::Entity::update_many()
                .col_expr(login_attempt::Column::AttemptedAt, Expr::value(ago(61)))
                .exec(&app.db)
                .await
                .unwrap();
            app.login("tom@example.com", PASSWORD).await;
            app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
            let throttled = login_attempt::Entity::find()
                .filter(login_attempt::Column::FailureReason.eq("throttled"))
                .count(&app.db)
                .await
                .unwrap();
            assert_eq!(throttled, 3, "refused attempts are recorded");
            app.stop().await;
        },
    )
    .await;
}

#[tokio::test]
async fn concurrent_guesses_never_get_more_than_the_limit_verified() {
    // 60 wrong passwords at once for one account (limit 5), then 80 at once from one address
    // over many emails (limit 20): the attempt is admitted and recorded before its password
    // is verified, so no more than the limit are verified.
    on_each_backend_with(defaults, |app| async move {
        let admin = admin_token(&app).await;
        member(&app, &admin, "tom", "VIEWER").await;
        let guesses = (0..60).map(|_| login_body(&app, "tom@example.com", "wrong password"));
        let answers = futures_util::future::join_all(guesses).await;
        let limited = answers
            .iter()
            .filter(|b| error_code(b) == "RATE_LIMITED")
            .count();
        let refused = answers
            .iter()
            .filter(|b| error_code(b) == "UNAUTHENTICATED")
            .count();
        assert_eq!(
            (refused, limited),
            (5, 55),
            "5 verified, the rest throttled"
        );
        let verified = login_attempt::Entity::find()
            .filter(login_attempt::Column::FailureReason.eq("wrong_password"))
            .count(&app.db)
            .await
            .unwrap();
        assert_eq!(verified, 5);

        login_attempt::Entity::delete_many()
            .exec(&app.db)
            .await
            .unwrap();
        let shared = &app;
        let guesses = (0..80).map(|n| async move {
            login_body(
                shared,
                &format!("ghost{n}@example.com"),
                "whatever password",
            )
            .await
        });
        let answers = futures_util::future::join_all(guesses).await;
        let refused = answers
            .iter()
            .filter(|b| error_code(b) == "UNAUTHENTICATED")
            .count();
        let limited = answers
            .iter()
            .filter(|b| error_code(b) == "RATE_LIMITED")
            .count();
        assert_eq!((refused, limited), (20, 60), "20 verified from one address");
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn an_admins_write_token_reaches_no_admin_mutation() {
    on_each_backend_with(defaults, |app| async move {
        let admin = admin_token(&app).await;
        let (tom_id, _) = member(&app, &admin, "tom", "VIEWER").await;
        let bot = app.api_token(&admin, "[READ, WRITE]").await;
        let invite = app.ok(CREATE_INVITE, json!({"email": "later@example.com", "role": "VIEWER"}), Some(&admin)).await;
        let invite_id = invite["createInvite"]["invite"]["id"].clone();
        let template = app.ok("mutation { createInviteTemplate(input: {name: \"t\", subject: \"s\", messageTemplate: \"m\"}) { inviteTemplate { id } } }", json!({}), Some(&admin)).await;
        let template_id = template["createInviteTemplate"]["inviteTemplate"]["id"].clone();
        let attempts = [
            (CREATE_INVITE, json!({"email": "mallory@example.com", "role": "ADMIN"})),
            ("mutation($id: ID!) { approveUser(id: $id) { user { id } } }", json!({"id": tom_id})),
            ("mutation($id: ID!) { rejectUser(id: $id, reason: \"x\") { user { id } } }", json!({"id": tom_id})),
            ("mutation($id: ID!) { setUserActive(id: $id, active: false) { user { id } } }", json!({"id": tom_id})),
            ("mutation($id: ID!) { revokeInvite(id: $id) { invite { id } } }", json!({"id": invite_id})),
            ("mutation { createInviteTemplate(input: {name: \"u\", subject: \"s\", messageTemplate: \"m\"}) { inviteTemplate { id } } }", json!({})),
            ("mutation($id: ID!) { updateInviteTemplate(id: $id, input: {name: \"v\", subject: \"s\", messageTemplate: \"m\"}) { inviteTemplate { id } } }", json!({"id": template_id})),
            ("mutation($id: ID!) { deleteInviteTemplate(id: $id) { deletedId } }", json!({"id": template_id})),
            ("mutation { createApiToken(name: \"more\", scopes: [READ, WRITE]) { token } }", json!({})),
            ("mutation { logout { session { id } } }", json!({})),
        ];
        let invites_before = invite_count(&app).await;
        for (mutation, variables) in attempts {
            let body = app.gql(mutation, variables, Some(&bot)).await;
            assert_eq!(error_code(&body), "FORBIDDEN", "{mutation}: {body}");
        }
        assert_eq!(invite_count(&app).await, invites_before, "no invite was created");
        let me = app.ok(ME, json!({}), Some(&bot)).await;
        assert_eq!(me["me"]["role"], "ADMIN", "the token still reads");
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn sessions_end_after_the_idle_timeout_and_at_the_absolute_expiry() {
    on_each_backend_with(
        |c| {
            c.session_idle_secs = 600;
            c.session_absolute_secs = 3600;
        },
        |app| async move {
            admin_token(&app).await;
            let body = login_body(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
            let token = body["data"]["login"]["token"].as_str().unwrap().to_string();
            let session_id = user_session::Entity::find()
                .all(&app.db)
                .await
                .unwrap()
                .into_iter()
                .map(|s| s.id)
                .max()
                .unwrap();
            let session = || user_session::Entity::find_by_id(session_id).one(&app.db);
            let created = session().await.unwrap().unwrap();
            let lifetime = created.expires_at - created.created_at;
            assert_eq!(
                lifetime.num_seconds(),
                3600,
                "absolute expiry as configured"
            );

            // Activity slides the idle window: 9 minutes idle is fine and refreshes it.
            let set_idle = |secs: u64| {
                user_session::Entity::update_many()
                    .col_expr(user_session::Column::LastActivity, Expr::value(ago(secs)))
                    .filter(user_session::Column::Id.eq(session_id))
                    .exec(&app.db)
            };
            set_idle(540).await.unwrap();
            app.ok(ME, json!({}), Some(&token)).await;
            let touched = session().await.unwrap().unwrap();
            assert!(
                touched.last_activity > ago(60),
                "last_activity was refreshed"
            );

            // 11 minutes idle: over.
            set_idle(660).await.unwrap();
            let idle = app.gql(ME, json!({}), Some(&token)).await;
            assert_eq!(error_code(&idle), "UNAUTHENTICATED");
            assert!(!session().await.unwrap().unwrap().is_active);

            // A busy session still ends at its absolute expiry.
            let token = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
            app.ok(ME, json!({}), Some(&token)).await;
            user_session::Entity::update_many()
                .col_expr(user_session::Column::ExpiresAt, Expr::value(ago(1)))
                .filter(user_session::Column::IsActive.eq(true))
                .exec(&app.db)
                .await
                .unwrap();
            let expired = app.gql(ME, json!({}), Some(&token)).await;
            assert_eq!(error_code(&expired), "UNAUTHENTICATED");
            app.stop().await;
        },
    )
    .await;
}

#[tokio::test]
async fn disabling_or_rejecting_a_user_revokes_their_sessions_and_tokens() {
    on_each_backend_with(defaults, |app| async move {
        let admin = admin_token(&app).await;
        let (id, first) = member(&app, &admin, "dan", "ANALYST").await;
        let second = app.login("dan@example.com", PASSWORD).await;
        let api = app.api_token(&first, "[READ, WRITE]").await;
        app.ok(ME, json!({}), Some(&api)).await;

        let disabled = app.ok("mutation($id: ID!) { setUserActive(id: $id, active: false) { user { isActive } } }", json!({"id": id}), Some(&admin)).await;
        assert_eq!(disabled["setUserActive"]["user"]["isActive"], false);
        for token in [&first, &second, &api] {
            assert_eq!(error_code(&app.gql(ME, json!({}), Some(token)).await), "UNAUTHENTICATED");
        }
        let live = user_session::Entity::find()
            .filter(user_session::Column::UserId.eq(tests::row_id(&id)))
            .filter(user_session::Column::IsActive.eq(true))
            .count(&app.db)
            .await
            .unwrap();
        assert_eq!(live, 0, "sessions are revoked in the database");

        // Enabled again: old sessions stay dead, a new login works.
        app.ok("mutation($id: ID!) { setUserActive(id: $id, active: true) { user { isActive } } }", json!({"id": id}), Some(&admin)).await;
        assert_eq!(error_code(&app.gql(ME, json!({}), Some(&first)).await), "UNAUTHENTICATED");
        let third = app.login("dan@example.com", PASSWORD).await;

        // Rejection ends sessions too, and the account can no longer sign in.
        let rejected = app.ok("mutation($id: ID!) { rejectUser(id: $id, reason: \"left the company\") { user { status rejectionReason } } }", json!({"id": id}), Some(&admin)).await;
        assert_eq!(rejected["rejectUser"]["user"]["status"], "REJECTED");
        assert_eq!(error_code(&app.gql(ME, json!({}), Some(&third)).await), "UNAUTHENTICATED");
        assert_eq!(error_code(&login_body(&app, "dan@example.com", PASSWORD).await), "UNAUTHENTICATED");

        // An admin cannot lock themselves out.
        let me = app.ok(ME, json!({}), Some(&admin)).await;
        let own = app.gql("mutation($id: ID!) { setUserActive(id: $id, active: false) { user { id } } }", json!({"id": me["me"]["id"]}), Some(&admin)).await;
        assert_eq!(error_code(&own), "BAD_USER_INPUT");
        let missing = app.gql("mutation { approveUser(id: \"999999\") { user { id } } }", json!({}), Some(&admin)).await;
        assert_eq!(error_code(&missing), "NOT_FOUND");
        app.stop().await;
    })
    .await;
}

/// Made with Django's algorithm by Python:
/// base64.b64encode(hashlib.pbkdf2_hmac("sha256", b"legacy django pass", b"Xq2hWnYkZr9L", 20000))
const DJANGO_HASH: &str =
    "pbkdf2_sha256$20000$Xq2hWnYkZr9L$wWgN45IX/HGeDY0wSn8mAGSmsqAbr7MYgzXxsAXAK9c=";

#[tokio::test]
async fn a_django_pbkdf2_hash_logs_in_and_is_upgraded_to_argon2id() {
    on_each_backend_with(defaults, |app| async move {
        let now = ChronoDateTimeUtc::from(SystemTime::now());
        let imported = user::ActiveModel {
            username: sea_orm::Set("legacy".into()),
            email: sea_orm::Set("legacy@example.com".into()),
            password: sea_orm::Set(DJANGO_HASH.into()),
            first_name: sea_orm::Set("Old".into()),
            last_name: sea_orm::Set("Timer".into()),
            role: sea_orm::Set(entity::stored_enums::Role::Manager),
            is_active: sea_orm::Set(true),
            is_staff: sea_orm::Set(false),
            is_superuser: sea_orm::Set(false),
            is_approved: sea_orm::Set(true),
            login_count: sea_orm::Set(7),
            saved_results_count: sea_orm::Set(0),
            date_joined: sea_orm::Set(now),
            created_at: sea_orm::Set(now),
            updated_at: sea_orm::Set(now),
            ..Default::default()
        };
        let imported = sea_orm::ActiveModelTrait::insert(imported, &app.db)
            .await
            .unwrap();

        assert_eq!(
            error_code(&login_body(&app, "legacy@example.com", "legacy django pasS").await),
            "UNAUTHENTICATED"
        );
        let still_legacy = user::Entity::find_by_id(imported.id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            still_legacy.password, DJANGO_HASH,
            "a failed login changes nothing"
        );

        let token = app.login("legacy@example.com", "legacy django pass").await;
        let me = app.ok(ME, json!({}), Some(&token)).await;
        assert_eq!(me["me"]["role"], "MANAGER");
        let upgraded = user::Entity::find_by_id(imported.id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        assert!(
            upgraded
                .password
                .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "re-hashed: {}",
            upgraded.password
        );
        assert_eq!(upgraded.login_count, 8);
        assert!(upgraded.last_login.is_some());
        // The new hash works, the old password still is the password.
        app.login("legacy@example.com", "legacy django pass").await;
        assert_eq!(
            error_code(&login_body(&app, "legacy@example.com", "wrong").await),
            "UNAUTHENTICATED"
        );
        app.stop().await;
    })
    .await;
}

/// Every admin-only field, with variables that would otherwise be valid.
fn admin_operations() -> Vec<(&'static str, Value)> {
    vec![
        ("{ users { edges { node { id } } } }", json!({})),
        (
            "{ users(status: PENDING, first: 5) { edges { node { id } } } }",
            json!({}),
        ),
        ("{ user(id: \"1\") { id } }", json!({})),
        ("{ invites { id } }", json!({})),
        ("{ inviteTemplates { id } }", json!({})),
        ("{ loginAttempts { edges { node { id } } } }", json!({})),
        (
            "mutation { approveUser(id: \"1\") { user { id } } }",
            json!({}),
        ),
        (
            "mutation { rejectUser(id: \"1\", reason: \"x\") { user { id } } }",
            json!({}),
        ),
        (
            "mutation { setUserActive(id: \"1\", active: false) { user { id } } }",
            json!({}),
        ),
        (
            "mutation { createInvite(email: \"x@example.com\") { token } }",
            json!({}),
        ),
        (
            "mutation { revokeInvite(id: \"1\") { invite { id } } }",
            json!({}),
        ),
        (
            "mutation { createInviteTemplate(input: {name: \"n\", subject: \"s\", messageTemplate: \"m\"}) { inviteTemplate { id } } }",
            json!({}),
        ),
        (
            "mutation { updateInviteTemplate(id: \"1\", input: {name: \"n\"}) { inviteTemplate { id } } }",
            json!({}),
        ),
        (
            "mutation { deleteInviteTemplate(id: \"1\") { deletedId } }",
            json!({}),
        ),
    ]
}

#[tokio::test]
async fn every_admin_field_is_forbidden_to_non_admins() {
    on_each_backend_with(
        |c| c.open_registration = true,
        |app| async move {
            let admin = admin_token(&app).await;
            let (_, viewer) = member(&app, &admin, "vic", "VIEWER").await;
            let (_, manager) = member(&app, &admin, "max", "MANAGER").await;
            app.ok(REGISTER, registration("pen@example.com", "pen", None), None)
                .await;
            let pending = app.login("pen@example.com", PASSWORD).await;
            for (query, variables) in admin_operations() {
                for (who, token) in [
                    ("viewer", &viewer),
                    ("manager", &manager),
                    ("pending", &pending),
                ] {
                    let body = app.gql(query, variables.clone(), Some(token)).await;
                    assert_eq!(error_code(&body), "FORBIDDEN", "{who}: {query}: {body}");
                }
                let anonymous = app.gql(query, variables.clone(), None).await;
                assert_eq!(
                    error_code(&anonymous),
                    "UNAUTHENTICATED",
                    "anonymous: {query}"
                );
            }
            // The admin passes the guard on each (some then fail on the made-up ids).
            for (query, variables) in admin_operations() {
                let body = app.gql(query, variables, Some(&admin)).await;
                assert_ne!(error_code(&body), "FORBIDDEN", "admin: {query}: {body}");
                assert_ne!(
                    error_code(&body),
                    "UNAUTHENTICATED",
                    "admin: {query}: {body}"
                );
            }
            app.stop().await;
        },
    )
    .await;
}

#[tokio::test]
async fn two_concurrent_redemptions_of_one_invite_make_exactly_one_account() {
    on_each_backend_with(defaults, |app| async move {
        let admin = admin_token(&app).await;
        for round in 0..3 {
            let email = format!("twin{round}@example.com");
            let token = invite(&app, &admin, &email, "VIEWER").await;
            let before = user_count(&app).await;
            let first = registration(&email, &format!("twin{round}a"), Some(&token));
            let second = registration(&email, &format!("twin{round}b"), Some(&token));
            let (a, b) = tokio::join!(
                app.post_graphql(REGISTER, first, None),
                app.post_graphql(REGISTER, second, None)
            );
            let successes = [&a.1, &b.1]
                .iter()
                .filter(|body| body.get("errors").is_none())
                .count();
            assert_eq!(
                successes, 1,
                "exactly one registration wins: {} / {}",
                a.1, b.1
            );
            for body in [&a.1, &b.1] {
                if body.get("errors").is_some() {
                    assert_eq!(error_code(body), "BAD_USER_INPUT", "{body}");
                }
            }
            assert_eq!(user_count(&app).await, before + 1);
            let accounts = user::Entity::find()
                .filter(user::Column::Email.eq(email.as_str()))
                .count(&app.db)
                .await
                .unwrap();
            assert_eq!(accounts, 1);
        }
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn an_api_token_with_read_cannot_call_a_mutation() {
    on_each_backend_with(defaults, |app| async move {
        let admin = admin_token(&app).await;
        let create = "mutation($name: String!, $scopes: [ApiScope!]!) {
          createApiToken(name: $name, scopes: $scopes) { token apiToken { id name prefix scopes } }
        }";
        let read = app.ok(create, json!({"name": "dashboard", "scopes": ["READ"]}), Some(&admin)).await;
        let read_token = read["createApiToken"]["token"].as_str().unwrap().to_string();
        assert!(read_token.starts_with("mapi_"));
        assert_eq!(read["createApiToken"]["apiToken"]["prefix"], &read_token[..9]);
        assert_eq!(read["createApiToken"]["apiToken"]["scopes"], json!(["READ"]));
        let stored = api_token::Entity::find().all(&app.db).await.unwrap();
        assert!(stored.iter().all(|t| t.token_hash.len() == 64 && !t.token_hash.contains("mapi_")));

        // Queries work, admin queries included.
        assert_eq!(app.ok(ME, json!({}), Some(&read_token)).await["me"]["username"], "admin");
        app.ok("{ users { edges { node { id } } } }", json!({}), Some(&read_token)).await;
        // Every mutation is refused.
        for mutation in [
            "mutation { createInvite(email: \"r@example.com\") { token } }",
            "mutation { approveUser(id: \"1\") { user { id } } }",
            "mutation { login(email: \"admin@example.com\", password: \"admin password 1\") { token } }",
            "mutation { logout { session { id } } }",
            "mutation { ...Invite } fragment Invite on Mutation { createInvite(email: \"f@example.com\") { token } }",
        ] {
            let body = app.gql(mutation, json!({}), Some(&read_token)).await;
            assert_eq!(error_code(&body), "FORBIDDEN", "{mutation}: {body}");
            assert!(body["errors"][0]["message"].as_str().unwrap().contains("WRITE"));
        }
        assert_eq!(
            invite_count(&app).await,
            0,
            "the refused createInvite stored nothing"
        );

        // WRITE may mutate, but neither manage credentials nor use admin powers (those need
        // a session).
        let write = app.ok(create, json!({"name": "sync", "scopes": ["READ", "WRITE"]}), Some(&admin)).await;
        let write_token = write["createApiToken"]["token"].as_str().unwrap().to_string();
        app.ok("mutation { calculate(input: {ticker: \"SPY\", investmentAmount: 1000, leverage: 1.5, currentPrice: 400, accountType: REG_T, positionType: LONG, interestRate: 5, holdingPeriodMonths: 1}) { marginCalculation { id } } }", json!({}), Some(&write_token)).await;
        let invite = app.gql("mutation { createInvite(email: \"w@example.com\") { token } }", json!({}), Some(&write_token)).await;
        assert_eq!(error_code(&invite), "FORBIDDEN");
        let mint = app.gql(create, json!({"name": "more", "scopes": ["WRITE"]}), Some(&write_token)).await;
        assert_eq!(error_code(&mint), "FORBIDDEN");

        // Listing and revocation.
        let listed = app.ok("{ apiTokens { id name scopes lastUsedAt } }", json!({}), Some(&admin)).await;
        let tokens = listed["apiTokens"].as_array().unwrap();
        assert_eq!(tokens.len(), 2);
        let read_id = read["createApiToken"]["apiToken"]["id"].clone();
        app.ok("mutation($id: ID!) { revokeApiToken(id: $id) { apiToken { id } } }", json!({"id": read_id}), Some(&admin)).await;
        assert_eq!(error_code(&app.gql(ME, json!({}), Some(&read_token)).await), "UNAUTHENTICATED");
        let twice = app.gql("mutation($id: ID!) { revokeApiToken(id: $id) { apiToken { id } } }", json!({"id": read_id}), Some(&admin)).await;
        assert_eq!(error_code(&twice), "NOT_FOUND");

        // Another user's token looks missing; expired tokens stop working.
        let (_, other) = member(&app, &admin, "oli", "VIEWER").await;
        let write_id = write["createApiToken"]["apiToken"]["id"].clone();
        let foreign = app.gql("mutation($id: ID!) { revokeApiToken(id: $id) { apiToken { id } } }", json!({"id": write_id}), Some(&other)).await;
        assert_eq!(error_code(&foreign), "NOT_FOUND");
        api_token::Entity::update_many()
            .col_expr(api_token::Column::ExpiresAt, Expr::value(Some(ago(1))))
            .exec(&app.db)
            .await
            .unwrap();
        assert_eq!(error_code(&app.gql(ME, json!({}), Some(&write_token)).await), "UNAUTHENTICATED");

        let past = app.gql("mutation { createApiToken(name: \"x\", scopes: [READ], expiresAt: \"2001-01-01T00:00:00Z\") { token } }",
            json!({}),
            Some(&admin),
        )
        .await;
        assert_eq!(error_code(&past), "BAD_USER_INPUT");
        app.stop().await;
    })
    .await;
}

async fn invite_count(app: &TestApp) -> u64 {
    entity::invite_token::Entity::find()
        .count(&app.db)
        .await
        .unwrap()
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn ws_connect(app: &TestApp) -> Socket {
    let mut request = app.ws_url().into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    connect_async(request).await.expect("websocket connects").0
}

async fn ws_next(socket: &mut Socket) -> Option<Value> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a message within 10 s")?;
        match message {
            Ok(Message::Text(text)) => return Some(serde_json::from_str(&text).unwrap()),
            Ok(Message::Close(frame)) => {
                return Some(json!({"type": "close", "code": frame.map(|f| u16::from(f.code))}));
            }
            Ok(_) => continue,
            Err(_) => return None,
        }
    }
}

async fn ws_send(socket: &mut Socket, value: Value) {
    socket
        .send(Message::Text(value.to_string().into()))
        .await
        .unwrap();
}

#[tokio::test]
async fn websocket_connection_init_authenticates_like_http() {
    on_each_backend_with(defaults, |app| async move {
        let admin = admin_token(&app).await;

        let mut socket = ws_connect(&app).await;
        ws_send(&mut socket, json!({"type": "connection_init", "payload": {"authorization": format!("Bearer {admin}")}})).await;
        assert_eq!(ws_next(&mut socket).await.unwrap()["type"], "connection_ack");
        ws_send(&mut socket, json!({"id": "1", "type": "subscribe", "payload": {"query": ME}})).await;
        let next = ws_next(&mut socket).await.unwrap();
        assert_eq!(next["payload"]["data"]["me"]["username"], "admin", "{next}");

        let mut anonymous = ws_connect(&app).await;
        ws_send(&mut anonymous, json!({"type": "connection_init", "payload": {}})).await;
        assert_eq!(ws_next(&mut anonymous).await.unwrap()["type"], "connection_ack");
        ws_send(&mut anonymous, json!({"id": "1", "type": "subscribe", "payload": {"query": ME}})).await;
        let next = ws_next(&mut anonymous).await.unwrap();
        assert_eq!(next["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{next}");

        let mut refused = ws_connect(&app).await;
        ws_send(&mut refused, json!({"type": "connection_init", "payload": {"authorization": "Bearer not-a-real-token"}})).await;
        let answer = ws_next(&mut refused).await;
        assert_eq!(
            answer.as_ref().map(|a| a["code"].clone()),
            Some(json!(4403)),
            "a bad token is refused with 4403: {answer:?}"
        );

        // Logging out over HTTP kills the token for new connections too.
        app.ok("mutation { logout { session { id } } }", json!({}), Some(&admin)).await;
        let mut late = ws_connect(&app).await;
        ws_send(&mut late, json!({"type": "connection_init", "payload": {"authorization": format!("Bearer {admin}")}})).await;
        let answer = ws_next(&mut late).await;
        assert!(answer.as_ref().is_none_or(|a| a["type"] != "connection_ack"), "{answer:?}");
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn cookie_mode_sets_a_host_cookie_and_refuses_cross_site_use() {
    on_each_backend_with(
        |c| {
            c.session_cookie = true;
            c.cors_origins = vec!["https://app.example.com".into()];
        },
        |app| async move {
            admin_token(&app).await;
            let url = format!("{}/graphql", app.address);
            let response = app
                .client
                .post(&url)
                .json(&json!({"query": LOGIN, "variables": {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}}))
                .send()
                .await
                .unwrap();
            let set_cookie = response.headers()["set-cookie"].to_str().unwrap().to_string();
            for attribute in ["__Host-margin_session=", "Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
                assert!(set_cookie.contains(attribute), "{attribute} in {set_cookie}");
            }
            let cookie = set_cookie.split(';').next().unwrap().to_string();

            let with_cookie = |origin: Option<&str>, query: &str| {
                let mut request = app
                    .client
                    .post(&url)
                    .header("cookie", &cookie)
                    .json(&json!({"query": query}));
                if let Some(origin) = origin {
                    request = request.header("origin", origin);
                }
                request.send()
            };
            let same: Value = with_cookie(None, ME).await.unwrap().json().await.unwrap();
            assert_eq!(same["data"]["me"]["username"], "admin", "{same}");
            let allowed: Value = with_cookie(Some("https://app.example.com"), ME).await.unwrap().json().await.unwrap();
            assert_eq!(allowed["data"]["me"]["username"], "admin");
            let evil: Value = with_cookie(Some("https://evil.example"), ME).await.unwrap().json().await.unwrap();
            assert_eq!(error_code(&evil), "UNAUTHENTICATED", "cross-site requests do not get the session");

            // A form post (no JSON) never reaches the resolvers; mutations over GET are refused.
            let form = app
                .client
                .post(&url)
                .header("cookie", &cookie)
                .header("content-type", "application/x-www-form-urlencoded")
                .body("query=mutation%20%7B%20logout%20%7D")
                .send()
                .await
                .unwrap();
            assert_eq!(form.status(), 415);
            let get = app
                .client
                .get(&url)
                .header("cookie", &cookie)
                .query(&[("query", "mutation { logout { session { id } } }")])
                .send()
                .await
                .unwrap();
            assert_eq!(get.status(), 405);

            // Logout through the cookie clears it and ends the session.
            let out = with_cookie(None, "mutation { logout { session { id } } }").await.unwrap();
            let cleared = out.headers()["set-cookie"].to_str().unwrap().to_string();
            assert!(cleared.contains("Max-Age=0"), "{cleared}");
            let after: Value = with_cookie(None, ME).await.unwrap().json().await.unwrap();
            assert_eq!(error_code(&after), "UNAUTHENTICATED");
            app.stop().await;
        },
    )
    .await;
}

#[tokio::test]
async fn sessions_are_listed_and_revoked_by_their_owner_only() {
    on_each_backend_with(defaults, |app| async move {
        let admin = admin_token(&app).await;
        let other = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let listed = app
            .ok(
                "{ mySessions { id current ipAddress userAgent lastActivity expiresAt } }",
                json!({}),
                Some(&admin),
            )
            .await;
        let sessions = listed["mySessions"].as_array().unwrap();
        assert_eq!(sessions.len(), 2);
        assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
        let other_id = sessions.iter().find(|s| s["current"] == false).unwrap()["id"].clone();

        let (_, stranger) = member(&app, &admin, "sam", "VIEWER").await;
        let foreign = app
            .gql(
                "mutation($id: ID!) { revokeSession(id: $id) { session { id } } }",
                json!({"id": other_id}),
                Some(&stranger),
            )
            .await;
        assert_eq!(error_code(&foreign), "NOT_FOUND");
        app.ok(ME, json!({}), Some(&other)).await;

        app.ok(
            "mutation($id: ID!) { revokeSession(id: $id) { session { id } } }",
            json!({"id": other_id}),
            Some(&admin),
        )
        .await;
        assert_eq!(
            error_code(&app.gql(ME, json!({}), Some(&other)).await),
            "UNAUTHENTICATED"
        );
        let listed = app
            .ok("{ mySessions { id } }", json!({}), Some(&admin))
            .await;
        assert_eq!(listed["mySessions"].as_array().unwrap().len(), 1);
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn users_and_login_attempts_are_relay_connections() {
    on_each_backend_with(defaults, |app| async move {
        let admin = admin_token(&app).await;
        for name in ["ua", "ub", "uc"] {
            member(&app, &admin, name, "VIEWER").await;
        }
        let page = "query($first: Int, $after: String) {
          users(status: APPROVED, first: $first, after: $after) {
            edges { cursor node { username } } pageInfo { hasNextPage endCursor }
          }
        }";
        let mut seen = Vec::new();
        let mut after = Value::Null;
        loop {
            let data = app.ok(page, json!({"first": 2, "after": after}), Some(&admin)).await;
            let users = &data["users"];
            for edge in users["edges"].as_array().unwrap() {
                seen.push(edge["node"]["username"].as_str().unwrap().to_string());
            }
            if users["pageInfo"]["hasNextPage"] != true {
                break;
            }
            after = users["pageInfo"]["endCursor"].clone();
        }
        assert_eq!(seen, ["uc", "ub", "ua", "admin"], "newest first, each once");

        for first in [0, 101, -1] {
            let body = app.gql(page, json!({"first": first}), Some(&admin)).await;
            assert_eq!(error_code(&body), "BAD_USER_INPUT", "first = {first}");
            assert_eq!(body["errors"][0]["extensions"]["field"], "first");
        }
        let bad_cursor = app.gql(page, json!({"after": "not a cursor"}), Some(&admin)).await;
        assert_eq!(error_code(&bad_cursor), "BAD_USER_INPUT");

        let attempts = app.ok("{ loginAttempts(filter: {email: \"UA@example.com\"}, first: 10) { edges { node { email success } } } }",
            json!({}),
            Some(&admin),
        )
        .await;
        let edges = attempts["loginAttempts"]["edges"].as_array().unwrap();
        assert_eq!(edges.len(), 1);
        assert_eq!(edges[0]["node"]["success"], true);
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn invite_templates_and_invite_management() {
    on_each_backend_with(defaults, |app| async move {
        let admin = admin_token(&app).await;
        let created = app.ok("mutation { createInviteTemplate(input: {name: \"analysts\", inviteType: ANALYST, subject: \"Join\", messageTemplate: \"Welcome aboard\"}) { inviteTemplate { id name inviteType isActive } } }",
            json!({}),
            Some(&admin),
        )
        .await;
        let template = &created["createInviteTemplate"]["inviteTemplate"];
        assert_eq!(template["inviteType"], "ANALYST");
        let id = template["id"].clone();
        let duplicate = app.gql("mutation { createInviteTemplate(input: {name: \"analysts\", subject: \"s\", messageTemplate: \"m\"}) { inviteTemplate { id } } }",
            json!({}),
            Some(&admin),
        )
        .await;
        assert_eq!(error_code(&duplicate), "BAD_USER_INPUT");
        assert_eq!(duplicate["errors"][0]["extensions"]["field"], "name");

        let invite = app.ok("mutation($t: ID) { createInvite(email: \"tia@example.com\", templateId: $t) { token invite { inviteType customMessage } } }",
            json!({"t": id}),
            Some(&admin),
        )
        .await;
        assert_eq!(invite["createInvite"]["invite"]["inviteType"], "ANALYST");
        assert_eq!(invite["createInvite"]["invite"]["customMessage"], "Welcome aboard");

        let updated = app.ok("mutation($id: ID!) { updateInviteTemplate(id: $id, input: {subject: \"Hello\", isActive: false}) { inviteTemplate { subject isActive name } } }",
            json!({"id": id}),
            Some(&admin),
        )
        .await;
        assert_eq!(updated["updateInviteTemplate"]["inviteTemplate"]["subject"], "Hello");
        assert_eq!(updated["updateInviteTemplate"]["inviteTemplate"]["isActive"], false);
        let listed = app.ok("{ inviteTemplates { name } invites { email status } }", json!({}), Some(&admin)).await;
        assert_eq!(listed["inviteTemplates"].as_array().unwrap().len(), 1);
        assert_eq!(listed["invites"][0]["status"], "PENDING");

        // Revoking an invite makes its token useless.
        let revocable = app.ok(CREATE_INVITE, json!({"email": "rex@example.com", "role": "VIEWER"}), Some(&admin)).await;
        let invite_id = revocable["createInvite"]["invite"]["id"].clone();
        let token = revocable["createInvite"]["token"].as_str().unwrap().to_string();
        let revoked = app.ok("mutation($id: ID!) { revokeInvite(id: $id) { invite { status } } }", json!({"id": invite_id}), Some(&admin)).await;
        assert_eq!(revoked["revokeInvite"]["invite"]["status"], "EXPIRED");
        let refused = app.gql(REGISTER, registration("rex@example.com", "rex", Some(&token)), None).await;
        assert_eq!(error_code(&refused), "BAD_USER_INPUT");
        assert_eq!(refused["errors"][0]["extensions"]["field"], "inviteToken");

        let deleted = app.ok("mutation($id: ID!) { deleteInviteTemplate(id: $id) { deletedId } }", json!({"id": id}), Some(&admin)).await;
        assert!(deleted["deleteInviteTemplate"]["deletedId"].is_string(), "{deleted}");
        let again = app.gql("mutation($id: ID!) { deleteInviteTemplate(id: $id) { deletedId } }", json!({"id": id}), Some(&admin)).await;
        assert_eq!(error_code(&again), "NOT_FOUND");
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn bad_input_is_refused_with_clear_codes_and_nothing_is_stored() {
    on_each_backend_with(defaults, |app| async move {
        let admin = admin_token(&app).await;
        let email = "bea@example.com";
        let token = invite(&app, &admin, email, "VIEWER").await;
        let base = || {
            json!({
                "email": email, "username": "bea", "password": PASSWORD,
                "firstName": "Bea", "lastName": "Ross", "inviteToken": token,
            })
        };
        let with = |key: &str, value: Value| {
            let mut input = base();
            input[key] = value;
            json!({"input": input})
        };
        let long_email = format!("{}@example.com", "a".repeat(250));
        let cases = [
            ("email", json!("not-an-email")),
            ("email", json!(long_email)),
            ("email", json!("bea@exa mple.com")),
            ("password", json!("short")),
            ("password", json!("x".repeat(1025))),
            ("firstName", json!("Bea\u{0}")),
            ("lastName", json!("Ro\u{7}ss")),
            ("firstName", json!("x".repeat(151))),
            ("username", json!("bea lee")),
            ("username", json!("")),
            ("inviteToken", json!("a".repeat(10 * 1024))),
            ("inviteToken", json!("no-such-invite-token")),
        ];
        let users_before = user_count(&app).await;
        for (field, value) in cases {
            let body = app.gql(REGISTER, with(field, value.clone()), None).await;
            assert_eq!(
                error_code(&body),
                "BAD_USER_INPUT",
                "{field} = {value}: {body}"
            );
            assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
        }
        assert_eq!(user_count(&app).await, users_before, "nothing was stored");
        // The bounds themselves are fine: 1024 bytes (here 512 two-byte characters).
        let longest = invite(&app, &admin, "max.len@example.com", "VIEWER").await;
        let mut input = registration("max.len@example.com", "maxlen", Some(&longest));
        input["input"]["password"] = json!("é".repeat(512));
        app.ok(REGISTER, input, None).await;
        app.login("max.len@example.com", &"é".repeat(512)).await;

        // No invite and open registration off.
        let mut no_invite = base();
        no_invite["inviteToken"] = Value::Null;
        let body = app.gql(REGISTER, json!({"input": no_invite}), None).await;
        assert_eq!(body["errors"][0]["extensions"]["field"], "inviteToken");

        // An invite for someone else.
        let body = app
            .gql(REGISTER, with("email", json!("other@example.com")), None)
            .await;
        assert_eq!(body["errors"][0]["extensions"]["field"], "email");

        // Duplicates are revealed only once the invite is valid.
        member(&app, &admin, "taken", "VIEWER").await;
        let users_before = user_count(&app).await;
        let mut dup_bad_invite = base();
        dup_bad_invite["username"] = json!("TAKEN");
        dup_bad_invite["inviteToken"] = json!("forged-invite-token");
        let body = app
            .gql(REGISTER, json!({"input": dup_bad_invite}), None)
            .await;
        assert_eq!(
            body["errors"][0]["extensions"]["field"], "inviteToken",
            "{body}"
        );
        let body = app
            .gql(REGISTER, with("username", json!("Taken")), None)
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT");
        assert_eq!(
            body["errors"][0]["extensions"]["field"], "username",
            "{body}"
        );
        let taken_email = invite(&app, &admin, "dupe@example.com", "VIEWER").await;
        app.ok(
            REGISTER,
            registration("dupe@example.com", "dupe", Some(&taken_email)),
            None,
        )
        .await;
        let users_after_dupe = user_count(&app).await;
        let second = invite(&app, &admin, "dupe2@example.com", "VIEWER").await;
        let body = app
            .gql(
                REGISTER,
                registration("dupe2@example.com", "dupe", Some(&second)),
                None,
            )
            .await;
        assert_eq!(body["errors"][0]["extensions"]["field"], "username");
        assert_eq!(user_count(&app).await, users_after_dupe);
        assert_eq!(users_before + 1, users_after_dupe);
        // A failed registration does not spend the invite.
        app.ok(
            REGISTER,
            registration("dupe2@example.com", "dupe2", Some(&second)),
            None,
        )
        .await;
        // An invite for an existing account is refused at creation.
        let body = app
            .gql(
                CREATE_INVITE,
                json!({"email": "dupe@example.com", "role": "VIEWER"}),
                Some(&admin),
            )
            .await;
        assert_eq!(body["errors"][0]["extensions"]["field"], "email");

        // An expired invite.
        let expiring = invite(&app, &admin, "late@example.com", "VIEWER").await;
        entity::invite_token::Entity::update_many()
            .col_expr(entity::invite_token::Column::ExpiresAt, Expr::value(ago(1)))
            .filter(entity::invite_token::Column::Email.eq("late@example.com"))
            .exec(&app.db)
            .await
            .unwrap();
        let body = app
            .gql(
                REGISTER,
                registration("late@example.com", "late", Some(&expiring)),
                None,
            )
            .await;
        assert_eq!(body["errors"][0]["extensions"]["field"], "inviteToken");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("expired")
        );

        // Login: over-long password and email are input errors, not failures.
        let body = login_body(&app, email, &"x".repeat(1025)).await;
        assert_eq!(body["errors"][0]["extensions"]["field"], "password");
        let body = login_body(&app, &long_email, PASSWORD).await;
        assert_eq!(body["errors"][0]["extensions"]["field"], "email");

        // A 10 KB bearer token, a non-bearer scheme and garbage are plain UNAUTHENTICATED.
        let huge = "a".repeat(10 * 1024);
        assert_eq!(
            error_code(&app.gql(ME, json!({}), Some(&huge)).await),
            "UNAUTHENTICATED"
        );
        let basic: Value = app
            .client
            .post(format!("{}/graphql", app.address))
            .header("authorization", "Basic YWRtaW46YWRtaW4=")
            .json(&json!({"query": ME}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(error_code(&basic), "UNAUTHENTICATED");
        assert_eq!(
            error_code(&app.gql(ME, json!({}), Some("bad token!%")).await),
            "UNAUTHENTICATED"
        );
        // Public fields still answer with a bad token.
        let public = app
            .gql("{ version { service } }", json!({}), Some(&huge))
            .await;
        assert!(public.get("errors").is_none(), "{public}");

        // Ids that are not ids name nothing, exactly like a missing object.
        let body = app
            .gql(
                "mutation { approveUser(id: \"abc\") { user { id } } }",
                json!({}),
                Some(&admin),
            )
            .await;
        assert_eq!(error_code(&body), "NOT_FOUND");
        // A rejection needs a reason.
        let body = app
            .gql(
                "mutation { rejectUser(id: \"2\", reason: \"  \") { user { id } } }",
                json!({}),
                Some(&admin),
            )
            .await;
        assert_eq!(body["errors"][0]["extensions"]["field"], "reason");
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn create_admin_bootstraps_the_first_admin() {
    on_each_backend_with(defaults, |app| async move {
        let mut config = tests::test_config(app.database_url.clone());
        config.migrate = true;
        api::cli::create_admin(
            &config,
            "Root@Example.com",
            "root",
            &b"root password 1\n"[..],
        )
        .await
        .expect("the admin is created");
        let token = app.login("root@example.com", "root password 1").await;
        let me = app.ok(ME, json!({}), Some(&token)).await;
        assert_eq!(me["me"]["role"], "ADMIN");
        assert_eq!(me["me"]["status"], "APPROVED");
        app.ok(
            "{ users { edges { node { id } } } }",
            json!({}),
            Some(&token),
        )
        .await;

        let again = api::cli::create_admin(
            &config,
            "root@example.com",
            "root2",
            &b"root password 1\n"[..],
        )
        .await;
        assert!(again.unwrap_err().to_string().contains("email"));
        let short = api::cli::create_admin(&config, "r2@example.com", "r2", &b"short\n"[..]).await;
        assert!(short.unwrap_err().to_string().contains("password"));
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn mutations_over_the_websocket_need_write_scope_too() {
    on_each_backend_with(defaults, |app| async move {
        let admin = admin_token(&app).await;
        let read = app.api_token(&admin, "[READ]").await;
        let mut socket = ws_connect(&app).await;
        ws_send(
            &mut socket,
            json!({"type": "connection_init", "payload": {"authorization": format!("Bearer {read}")}}),
        )
        .await;
        assert_eq!(ws_next(&mut socket).await.unwrap()["type"], "connection_ack");
        ws_send(
            &mut socket,
            json!({"id": "1", "type": "subscribe", "payload": {"query": "mutation { createInvite(email: \"ws@example.com\") { token } }"}}),
        )
        .await;
        let next = ws_next(&mut socket).await.unwrap();
        assert_eq!(next["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN", "{next}");
        assert_eq!(invite_count(&app).await, 0);
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn the_client_address_comes_from_trusted_proxies_only() {
    for trusted in [false, true] {
        on_each_backend_with(
            |c| {
                if trusted {
                    c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
                }
            },
            |app| async move {
                admin_token(&app).await;
                let response: Value = app
                    .client
                    .post(format!("{}/graphql", app.address))
                    .header("x-forwarded-for", "198.51.100.1, 203.0.113.7")
                    .json(&json!({"query": LOGIN, "variables": {"email": "x@example.com", "password": "nope nope"}}))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                assert_eq!(error_code(&response), "UNAUTHENTICATED");
                let attempt = login_attempt::Entity::find()
                    .filter(login_attempt::Column::Email.eq("x@example.com"))
                    .one(&app.db)
                    .await
                    .unwrap()
                    .unwrap();
                let expected = if trusted { "203.0.113.7" } else { "127.0.0.1" };
                assert_eq!(attempt.ip_address.as_deref(), Some(expected));
                app.stop().await;
            },
        )
        .await;
    }
}

#[tokio::test]
async fn an_idle_timeout_is_kept_alive_by_activity_and_ends_without_it() {
    // The clock is moved by rewriting `last_activity`, so nothing depends on how fast the
    // machine is: with a 1 h idle timeout, activity is recorded once more than half of it
    // (or a minute) has passed, and a session silent for longer than it has ended.
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.session_idle_secs = 3600)
        .await
        .expect("SQLite is always available");
    admin_token(&app).await;
    let token = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let set_last_activity = |ago: i64| {
        let db = app.db.clone();
        async move {
            user_session::Entity::update_many()
                .col_expr(
                    user_session::Column::LastActivity,
                    Expr::value(chrono::Utc::now() - chrono::Duration::seconds(ago)),
                )
                .exec(&db)
                .await
                .unwrap();
        }
    };
    let last_activity_ago = || {
        let db = app.db.clone();
        async move {
            // The session of `token`, the last one signed in.
            let session = user_session::Entity::find()
                .order_by_desc(user_session::Column::Id)
                .one(&db)
                .await
                .unwrap()
                .unwrap();
            (chrono::Utc::now() - session.last_activity).num_seconds()
        }
    };
    // 59 minutes of silence: still signed in, and the request counts as activity.
    set_last_activity(3540).await;
    app.ok(ME, json!({}), Some(&token)).await;
    assert!(
        last_activity_ago().await < 60,
        "the request refreshed last_activity"
    );
    // Silence beyond the idle timeout ends it.
    set_last_activity(3601).await;
    assert_eq!(
        error_code(&app.gql(ME, json!({}), Some(&token)).await),
        "UNAUTHENTICATED"
    );
    app.stop().await;
}

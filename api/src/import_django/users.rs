//! `authentication_user`: every field, the Django password hash kept verbatim (the next good
//! login upgrades it to argon2id, as for any legacy hash), new ids here, `approved_by`
//! following the map once every user is in.
//!
//! A user is matched by email (lower-cased): an account that already exists here is left as
//! it is, and the Django user's rows are attached to it. The users an import created are
//! remembered in `legacy_import_key`, so a second import tells them apart from accounts that
//! were here before (the report lists only the latter as matched).

use std::collections::{HashMap, HashSet};

use entity::{legacy_import_key, user};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
    TransactionSession, TransactionTrait, sea_query::Expr,
};

use super::{Context, key_of, report::MatchedUser, report::TableReport, why};
use crate::services::accounts::validate;

pub const TABLE: &str = "authentication_user";
const BATCH: usize = 500;

/// Where the Django users went.
#[derive(Debug, Default)]
pub struct Users {
    /// Django id → id here, for every user imported or matched.
    pub map: HashMap<i64, i64>,
    /// Django id → email (lower-cased) of the same users.
    pub emails: HashMap<i64, String>,
    /// Django ids of the users that were skipped.
    pub skipped: HashSet<i64>,
}

impl Users {
    /// The id here of a Django user a row refers to; a reference to a skipped or unknown
    /// user makes the row a skip.
    pub fn resolve(&self, legacy: Option<i64>) -> Result<Option<i64>, String> {
        match legacy {
            None => Ok(None),
            Some(id) => match self.map.get(&id) {
                Some(&target) => Ok(Some(target)),
                None if self.skipped.contains(&id) => Err(format!("references skipped user {id}")),
                None => Err(format!("references unknown user {id}")),
            },
        }
    }

    /// Like [`Users::resolve`] for a reference that must be there.
    pub fn require(&self, legacy: Option<i64>) -> Result<i64, String> {
        self.resolve(legacy)?
            .ok_or_else(|| "has no user".to_string())
    }
}

/// A Django user ready to insert.
struct NewUser {
    legacy_id: i64,
    approved_by: Option<i64>,
    model: user::ActiveModel,
    email: String,
}

fn parse(
    row: &super::source::LegacyRow,
) -> Result<(user::ActiveModel, String, String, Option<i64>), String> {
    let raw_email = row.text("email")?;
    let email = validate::email("email", &raw_email)
        .map_err(|err| format!("invalid email {raw_email:?}: {}", why(err)))?;
    let username = validate::username(&row.text("username")?).map_err(why)?;
    let password = row.text("password")?;
    if password.len() > 255 {
        return Err("password hash longer than 255 characters".into());
    }
    let first_name = validate::line(
        "first_name",
        &row.opt_text("first_name").unwrap_or_default(),
        validate::MAX_NAME_CHARS,
        false,
    )
    .map_err(why)?;
    let last_name = validate::line(
        "last_name",
        &row.opt_text("last_name").unwrap_or_default(),
        validate::MAX_NAME_CHARS,
        false,
    )
    .map_err(why)?;
    let is_superuser = row.bool("is_superuser")?;
    let role = match row.opt_text("role") {
        Some(role) if row.has("role") => super::mapping::role(&role)?,
        // A Django database without the role column: superusers are admins.
        _ if is_superuser => user::Role::Admin,
        _ => user::Role::Viewer,
    };
    let is_approved = if row.has("is_approved") {
        row.bool("is_approved")?
    } else {
        true
    };
    let login_count = match row.opt_i64("login_count")? {
        Some(n) => i32::try_from(n).map_err(|_| format!("login_count {n} is out of range"))?,
        None => 0,
    };
    let last_login_ip = row.opt_ip("last_login_ip");
    if last_login_ip.as_ref().is_some_and(|ip| ip.len() > 45) {
        return Err("last_login_ip is longer than 45 characters".into());
    }
    let date_joined = row.datetime("date_joined")?;
    let model = user::ActiveModel {
        username: Set(username.clone()),
        email: Set(email.clone()),
        password: Set(password),
        first_name: Set(first_name),
        last_name: Set(last_name),
        role: Set(role),
        is_active: Set(row.bool("is_active")?),
        is_staff: Set(row.bool("is_staff")?),
        is_superuser: Set(is_superuser),
        is_approved: Set(is_approved),
        approval_date: Set(row.opt_datetime("approval_date")?),
        approved_by: Set(None),
        rejection_reason: Set(row.opt_nonempty("rejection_reason")),
        last_login: Set(row.opt_datetime("last_login")?),
        last_login_ip: Set(last_login_ip),
        login_count: Set(login_count),
        // Recomputed from the saved results once they are in.
        saved_results_count: Set(0),
        date_joined: Set(date_joined),
        created_at: Set(row.opt_datetime("created_at")?.unwrap_or(date_joined)),
        updated_at: Set(row.opt_datetime("updated_at")?.unwrap_or(date_joined)),
        ..Default::default()
    };
    Ok((model, email, username, row.opt_i64("approved_by_id")?))
}

pub async fn import<C: ConnectionTrait + TransactionTrait>(
    ctx: &Context<'_>,
    conn: &C,
    table: &mut TableReport,
    matched: &mut Vec<MatchedUser>,
) -> anyhow::Result<Users> {
    let rows = ctx.source.all(TABLE).await?;
    table.read = rows.len() as u64;
    let bar = ctx.progress.bar(TABLE, table.read);
    let txn = conn.begin().await?;

    let existing: HashMap<String, i64> = user::Entity::find()
        .select_only()
        .columns([user::Column::Email, user::Column::Id])
        .into_tuple::<(String, i64)>()
        .all(&txn)
        .await?
        .into_iter()
        .collect();
    let mut usernames: HashSet<String> = user::Entity::find()
        .select_only()
        .column(user::Column::Username)
        .into_tuple::<String>()
        .all(&txn)
        .await?
        .into_iter()
        .collect();
    let imported_before: HashSet<String> = legacy_import_key::Entity::find()
        .select_only()
        .column(legacy_import_key::Column::NaturalKey)
        .filter(legacy_import_key::Column::Kind.eq(TABLE))
        .into_tuple::<String>()
        .all(&txn)
        .await?
        .into_iter()
        .collect();

    let mut users = Users::default();
    let mut seen: HashMap<String, i64> = HashMap::new();
    let mut fresh = Vec::new();
    for row in &rows {
        bar.inc(1);
        let (model, email, username, approved_by) = match parse(row) {
            Ok(parsed) => parsed,
            Err(reason) => {
                users.skipped.insert(row.id);
                table.skip(row.id, row.opt_text("email"), reason);
                continue;
            }
        };
        if let Some(first) = seen.get(&email) {
            users.skipped.insert(row.id);
            table.skip(
                row.id,
                Some(email),
                format!(
                    "same email as Django user {first} (emails are matched case-insensitively)"
                ),
            );
            continue;
        }
        seen.insert(email.clone(), row.id);
        if let Some(&target) = existing.get(&email) {
            table.already_present += 1;
            if !imported_before.contains(&key_of(TABLE, &email)) {
                matched.push(MatchedUser {
                    legacy_id: row.id,
                    email: email.clone(),
                    user_id: target,
                });
            }
            users.map.insert(row.id, target);
            users.emails.insert(row.id, email);
            continue;
        }
        if !usernames.insert(username.clone()) {
            users.skipped.insert(row.id);
            table.skip(
                row.id,
                Some(email),
                format!("username {username:?} is taken by another account here"),
            );
            continue;
        }
        fresh.push(NewUser {
            legacy_id: row.id,
            approved_by,
            model,
            email,
        });
    }

    for chunk in fresh.chunks(BATCH) {
        user::Entity::insert_many(chunk.iter().map(|u| u.model.clone()))
            .exec_without_returning(&txn)
            .await?;
        let ids: HashMap<String, i64> = user::Entity::find()
            .select_only()
            .columns([user::Column::Email, user::Column::Id])
            .filter(user::Column::Email.is_in(chunk.iter().map(|u| u.email.clone())))
            .into_tuple::<(String, i64)>()
            .all(&txn)
            .await?
            .into_iter()
            .collect();
        let mut keys = Vec::with_capacity(chunk.len());
        for new in chunk {
            let Some(&id) = ids.get(&new.email) else {
                anyhow::bail!(
                    "user {} was inserted but cannot be read back",
                    new.legacy_id
                );
            };
            users.map.insert(new.legacy_id, id);
            users.emails.insert(new.legacy_id, new.email.clone());
            keys.push(legacy_import_key::ActiveModel {
                kind: Set(TABLE.to_string()),
                natural_key: Set(key_of(TABLE, &new.email)),
                target_id: Set(id),
                imported_at: Set(ctx.now),
            });
        }
        legacy_import_key::Entity::insert_many(keys)
            .exec_without_returning(&txn)
            .await?;
        table.imported += chunk.len() as u64;
    }

    // `approved_by` once every user has its id here (one UPDATE per approver and batch); an
    // approver who was not imported leaves it empty.
    let mut by_approver: HashMap<i64, Vec<i64>> = HashMap::new();
    for new in &fresh {
        if let (Some(approver), Some(&id)) = (new.approved_by, users.map.get(&new.legacy_id))
            && let Some(&approver) = users.map.get(&approver)
        {
            by_approver.entry(approver).or_default().push(id);
        }
    }
    for (approver, ids) in by_approver {
        for chunk in ids.chunks(BATCH) {
            user::Entity::update_many()
                .col_expr(user::Column::ApprovedBy, Expr::value(approver))
                .filter(user::Column::Id.is_in(chunk.iter().copied()))
                .exec(&txn)
                .await?;
        }
    }
    txn.commit().await?;
    bar.finish_and_clear();
    Ok(users)
}

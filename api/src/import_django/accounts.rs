//! `authentication_invitetemplate` (matched by name, unique here), `authentication_invitetoken`
//! (the raw Django token hashed into `token_hash`, so an unused invite link still works;
//! matched by that hash) and `authentication_loginattempt` (the audit history, matched by the
//! key of the old row recorded in `legacy_import_key`).

use std::collections::HashSet;

use entity::{invite_template, invite_token, legacy_import_key, login_attempt};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QuerySelect, TransactionSession, TransactionTrait,
};

use super::{Context, key_of, mapping, report::TableReport, source::LegacyRow, users::Users, why};
use crate::{
    auth::token,
    services::accounts::{invites::MAX_MESSAGE_CHARS, validate},
};

pub const TEMPLATES: &str = "authentication_invitetemplate";
pub const INVITES: &str = "authentication_invitetoken";
pub const ATTEMPTS: &str = "authentication_loginattempt";
const BATCH: usize = 500;

fn template(row: &LegacyRow, users: &Users) -> Result<invite_template::ActiveModel, String> {
    let name = validate::line("name", &row.text("name")?, 100, true).map_err(why)?;
    let subject = validate::line("subject", &row.text("subject")?, 255, true).map_err(why)?;
    let message = validate::text(
        "message_template",
        &row.text("message_template")?,
        MAX_MESSAGE_CHARS,
        true,
    )
    .map_err(why)?;
    Ok(invite_template::ActiveModel {
        name: Set(name),
        invite_type: Set(mapping::role(&row.text("invite_type")?)?),
        subject: Set(subject),
        message_template: Set(message),
        is_active: Set(row.bool("is_active")?),
        created_at: Set(row.datetime("created_at")?),
        created_by: Set(users.resolve(row.opt_i64("created_by_id")?)?),
        ..Default::default()
    })
}

pub async fn import_templates<C: ConnectionTrait + TransactionTrait>(
    ctx: &Context<'_>,
    conn: &C,
    users: &Users,
    table: &mut TableReport,
) -> anyhow::Result<()> {
    let rows = ctx.source.all(TEMPLATES).await?;
    table.read = rows.len() as u64;
    let txn = conn.begin().await?;
    let mut names: HashSet<String> = invite_template::Entity::find()
        .select_only()
        .column(invite_template::Column::Name)
        .into_tuple::<String>()
        .all(&txn)
        .await?
        .into_iter()
        .collect();
    for row in &rows {
        match template(row, users) {
            Err(reason) => table.skip(row.id, row.opt_text("name"), reason),
            Ok(model) => {
                let name = match &model.name {
                    sea_orm::ActiveValue::Set(name) => name.clone(),
                    _ => String::new(),
                };
                if !names.insert(name) {
                    table.already_present += 1;
                    continue;
                }
                model.insert(&txn).await?;
                table.imported += 1;
            }
        }
    }
    txn.commit().await?;
    Ok(())
}

fn invite(row: &LegacyRow, users: &Users) -> Result<invite_token::ActiveModel, String> {
    let raw_email = row.text("email")?;
    let email = validate::email("email", &raw_email)
        .map_err(|err| format!("invalid email {raw_email:?}: {}", why(err)))?;
    let secret = row.text("token")?;
    if secret.trim().is_empty() {
        return Err("token is empty".into());
    }
    let message = match row.opt_nonempty("custom_message") {
        Some(m) => {
            Some(validate::text("custom_message", &m, MAX_MESSAGE_CHARS, false).map_err(why)?)
        }
        None => None,
    };
    Ok(invite_token::ActiveModel {
        email: Set(email),
        token_hash: Set(token::hash_token(secret.trim())),
        invite_type: Set(mapping::role(&row.text("invite_type")?)?),
        custom_message: Set(message),
        created_at: Set(row.datetime("created_at")?),
        expires_at: Set(row.datetime("expires_at")?),
        used_at: Set(row.opt_datetime("used_at")?),
        created_by: Set(users.resolve(row.opt_i64("created_by_id")?)?),
        email_sent_at: Set(row.opt_datetime("email_sent_at")?),
        email_bounced: Set(if row.has("email_bounced") {
            row.bool("email_bounced")?
        } else {
            false
        }),
        bounce_reason: Set(row.opt_nonempty("bounce_reason")),
        ..Default::default()
    })
}

pub async fn import_invites<C: ConnectionTrait + TransactionTrait>(
    ctx: &Context<'_>,
    conn: &C,
    users: &Users,
    table: &mut TableReport,
) -> anyhow::Result<()> {
    let rows = ctx.source.all(INVITES).await?;
    table.read = rows.len() as u64;
    let bar = ctx.progress.bar(INVITES, table.read);
    let txn = conn.begin().await?;
    let mut hashes: HashSet<String> = invite_token::Entity::find()
        .select_only()
        .column(invite_token::Column::TokenHash)
        .into_tuple::<String>()
        .all(&txn)
        .await?
        .into_iter()
        .collect();
    let mut fresh = Vec::new();
    for row in &rows {
        bar.inc(1);
        match invite(row, users) {
            Err(reason) => table.skip(row.id, row.opt_text("email"), reason),
            Ok(model) => {
                let hash = match &model.token_hash {
                    sea_orm::ActiveValue::Set(hash) => hash.clone(),
                    _ => String::new(),
                };
                if hashes.insert(hash) {
                    fresh.push(model);
                } else {
                    table.already_present += 1;
                }
            }
        }
    }
    for chunk in fresh.chunks(BATCH) {
        invite_token::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
        table.imported += chunk.len() as u64;
    }
    txn.commit().await?;
    bar.finish_and_clear();
    Ok(())
}

fn attempt(row: &LegacyRow, users: &Users) -> Result<login_attempt::ActiveModel, String> {
    // What was typed at the login form, kept as the server keeps it: trimmed, lower-cased.
    let email = validate::email_lookup("email", &row.text("email")?).map_err(why)?;
    let ip_address = row.opt_ip("ip_address");
    if ip_address.as_ref().is_some_and(|ip| ip.len() > 45) {
        return Err("ip_address is longer than 45 characters".into());
    }
    // The column here holds 64 characters; Django allowed 100. A reason is one of a few
    // codes, so a longer one is cut rather than the attempt dropped from the audit.
    let failure_reason = row
        .opt_nonempty("failure_reason")
        .map(|r| r.chars().take(64).collect::<String>());
    Ok(login_attempt::ActiveModel {
        email: Set(email),
        ip_address: Set(ip_address),
        user_agent: Set(row.opt_nonempty("user_agent")),
        success: Set(row.bool("success")?),
        failure_reason: Set(failure_reason),
        attempted_at: Set(row.datetime("attempted_at")?),
        user_id: Set(users.resolve(row.opt_i64("user_id")?)?),
        ..Default::default()
    })
}

/// The identity of a login attempt: the table has no unique column.
fn attempt_key(row: &LegacyRow) -> String {
    key_of(
        ATTEMPTS,
        &format!(
            "{}|{}|{}",
            row.id,
            row.opt_text("attempted_at").unwrap_or_default(),
            row.opt_text("email").unwrap_or_default()
        ),
    )
}

pub async fn import_attempts<C: ConnectionTrait + TransactionTrait>(
    ctx: &Context<'_>,
    conn: &C,
    users: &Users,
    table: &mut TableReport,
) -> anyhow::Result<()> {
    let Some(mut reader) = ctx.source.reader(ATTEMPTS, 5_000).await? else {
        return Ok(());
    };
    let bar = ctx
        .progress
        .bar(ATTEMPTS, ctx.source.count(ATTEMPTS).await?);
    let txn = conn.begin().await?;
    let known: HashSet<String> = legacy_import_key::Entity::find()
        .select_only()
        .column(legacy_import_key::Column::NaturalKey)
        .filter(legacy_import_key::Column::Kind.eq(ATTEMPTS))
        .into_tuple::<String>()
        .all(&txn)
        .await?
        .into_iter()
        .collect();
    while let Some(rows) = reader.next_batch().await? {
        table.read += rows.len() as u64;
        bar.inc(rows.len() as u64);
        let mut fresh = Vec::new();
        for row in &rows {
            let key = attempt_key(row);
            if known.contains(&key) {
                table.already_present += 1;
                continue;
            }
            match attempt(row, users) {
                Ok(model) => fresh.push((key, model)),
                Err(reason) => table.skip(row.id, row.opt_text("email"), reason),
            }
        }
        for chunk in fresh.chunks(BATCH) {
            // RETURNING gives the ids in the order of the VALUES on both databases; the key
            // rows only record which row an old one became.
            let ids = login_attempt::Entity::insert_many(chunk.iter().map(|(_, m)| m.clone()))
                .exec_with_returning_keys(&txn)
                .await?;
            legacy_import_key::Entity::insert_many(chunk.iter().zip(ids).map(|((key, _), id)| {
                legacy_import_key::ActiveModel {
                    kind: Set(ATTEMPTS.to_string()),
                    natural_key: Set(key.clone()),
                    target_id: Set(id),
                    imported_at: Set(ctx.now),
                }
            }))
            .exec_without_returning(&txn)
            .await?;
            table.imported += chunk.len() as u64;
        }
    }
    txn.commit().await?;
    bar.finish_and_clear();
    Ok(())
}

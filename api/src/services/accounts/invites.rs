//! Invites (single-use, expiring, bound to an email, carrying the role the new user gets) and
//! the templates admins write their messages from. Invite tokens are shown once; only their
//! SHA-256 is stored. No mail is sent by this service: the admin hands the token over.

use entity::{invite_template, invite_token, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, sea_query::Expr,
};

use super::{AccountSettings, InviteRecord, InviteTemplateRecord, map_unique, now, validate};
use crate::{
    auth::{Role, token},
    error::{ApiError, ApiResult},
};

pub const MAX_MESSAGE_CHARS: usize = 10_000;
/// `invites` lists at most this many, newest first.
pub const LIST_LIMIT: u64 = 500;

#[derive(Debug, Clone)]
pub struct NewInvite {
    pub email: String,
    /// The role of the invited user; the template's, else viewer, when not given.
    pub role: Option<Role>,
    pub custom_message: Option<String>,
    pub template_id: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteStatus {
    Pending,
    Used,
    Expired,
}

pub fn invite_status(invite: &InviteRecord) -> InviteStatus {
    if invite.used_at.is_some() {
        InviteStatus::Used
    } else if invite.expires_at <= now() {
        InviteStatus::Expired
    } else {
        InviteStatus::Pending
    }
}

/// Creates an invite; returns the token (shown once) and the record.
pub async fn create(
    db: &DatabaseConnection,
    settings: &AccountSettings,
    creator_id: i64,
    input: NewInvite,
) -> ApiResult<(String, InviteRecord)> {
    let email = validate::email("email", &input.email)?;
    let custom_message = input
        .custom_message
        .as_deref()
        .map(|m| validate::text("customMessage", m, MAX_MESSAGE_CHARS, false))
        .transpose()?
        .filter(|m| !m.is_empty());
    let template = match input.template_id {
        Some(id) => Some(
            invite_template::Entity::find_by_id(id)
                .filter(invite_template::Column::IsActive.eq(true))
                .one(db)
                .await?
                .ok_or(ApiError::NotFound("invite template"))?,
        ),
        None => None,
    };
    let role = input
        .role
        .or_else(|| template.as_ref().map(|t| t.invite_type))
        .unwrap_or(Role::Viewer);
    let message = custom_message.or_else(|| template.map(|t| t.message_template));
    let registered = user::Entity::find()
        .filter(user::Column::Email.eq(email.as_str()))
        .one(db)
        .await?;
    if registered.is_some() {
        return Err(ApiError::input(
            "email",
            "an account with this email already exists",
        ));
    }
    let secret = token::random_token();
    let at = now();
    let record = invite_token::ActiveModel {
        email: Set(email),
        token_hash: Set(token::hash_token(&secret)),
        invite_type: Set(role),
        custom_message: Set(message),
        created_at: Set(at),
        expires_at: Set(at + settings.invite_ttl),
        used_at: Set(None),
        created_by: Set(Some(creator_id)),
        email_sent_at: Set(None),
        email_bounced: Set(false),
        bounce_reason: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok((secret, record))
}

/// One invite by id (admins see every invite).
pub async fn get(db: &DatabaseConnection, id: i64) -> ApiResult<InviteRecord> {
    invite_token::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("invite"))
}

/// One invite template by id.
pub async fn get_template(db: &DatabaseConnection, id: i64) -> ApiResult<InviteTemplateRecord> {
    invite_template::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("invite template"))
}

/// Invites, newest first (at most [`LIST_LIMIT`]).
pub async fn list(db: &DatabaseConnection) -> ApiResult<Vec<InviteRecord>> {
    Ok(invite_token::Entity::find()
        .order_by_desc(invite_token::Column::Id)
        .limit(LIST_LIMIT)
        .all(db)
        .await?)
}

/// Revokes an unused invite (it expires now; the row stays for the record).
pub async fn revoke(db: &DatabaseConnection, id: i64) -> ApiResult<InviteRecord> {
    let at = now();
    let result = invite_token::Entity::update_many()
        .col_expr(invite_token::Column::ExpiresAt, Expr::value(at))
        .filter(invite_token::Column::Id.eq(id))
        .filter(invite_token::Column::UsedAt.is_null())
        .filter(invite_token::Column::ExpiresAt.gt(at))
        .exec(db)
        .await?;
    let invite = invite_token::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("invite"))?;
    if result.rows_affected == 0 {
        return Err(ApiError::input(
            "id",
            "the invite was already used or has expired",
        ));
    }
    Ok(invite)
}

#[derive(Debug, Clone, Default)]
pub struct TemplateInput {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub subject: Option<String>,
    pub message_template: Option<String>,
    pub is_active: Option<bool>,
}

const TEMPLATE_UNIQUE: [(&str, &str, &str); 1] =
    [("name", "name", "a template with this name already exists")];

pub async fn create_template(
    db: &DatabaseConnection,
    creator_id: i64,
    input: TemplateInput,
) -> ApiResult<InviteTemplateRecord> {
    let name = validate::line("name", input.name.as_deref().unwrap_or(""), 100, true)?;
    let subject = validate::line("subject", input.subject.as_deref().unwrap_or(""), 255, true)?;
    let message = validate::text(
        "messageTemplate",
        input.message_template.as_deref().unwrap_or(""),
        MAX_MESSAGE_CHARS,
        true,
    )?;
    invite_template::ActiveModel {
        name: Set(name),
        invite_type: Set(input.role.unwrap_or(Role::Viewer)),
        subject: Set(subject),
        message_template: Set(message),
        is_active: Set(input.is_active.unwrap_or(true)),
        created_at: Set(now()),
        created_by: Set(Some(creator_id)),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| map_unique(e, &TEMPLATE_UNIQUE))
}

pub async fn update_template(
    db: &DatabaseConnection,
    id: i64,
    input: TemplateInput,
) -> ApiResult<InviteTemplateRecord> {
    let existing = invite_template::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("invite template"))?;
    let unchanged = input.name.is_none()
        && input.subject.is_none()
        && input.message_template.is_none()
        && input.role.is_none()
        && input.is_active.is_none();
    if unchanged {
        return Ok(existing);
    }
    let mut model: invite_template::ActiveModel = existing.into();
    if let Some(name) = input.name {
        model.name = Set(validate::line("name", &name, 100, true)?);
    }
    if let Some(subject) = input.subject {
        model.subject = Set(validate::line("subject", &subject, 255, true)?);
    }
    if let Some(message) = input.message_template {
        model.message_template = Set(validate::text(
            "messageTemplate",
            &message,
            MAX_MESSAGE_CHARS,
            true,
        )?);
    }
    if let Some(role) = input.role {
        model.invite_type = Set(role);
    }
    if let Some(active) = input.is_active {
        model.is_active = Set(active);
    }
    model
        .update(db)
        .await
        .map_err(|e| map_unique(e, &TEMPLATE_UNIQUE))
}

pub async fn delete_template(db: &DatabaseConnection, id: i64) -> ApiResult<()> {
    let result = invite_template::Entity::delete_by_id(id).exec(db).await?;
    if result.rows_affected == 0 {
        return Err(ApiError::NotFound("invite template"));
    }
    Ok(())
}

/// Invite templates by name (at most [`LIST_LIMIT`]; a template past it is still reachable
/// by id, through `node` and the template mutations).
pub async fn list_templates(db: &DatabaseConnection) -> ApiResult<Vec<InviteTemplateRecord>> {
    Ok(invite_template::Entity::find()
        .order_by_asc(invite_template::Column::Name)
        .limit(LIST_LIMIT)
        .all(db)
        .await?)
}

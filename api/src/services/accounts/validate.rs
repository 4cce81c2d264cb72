//! Input rules shared by registration, invites and administration. Each returns the
//! normalised value or BAD_USER_INPUT naming the field.

use crate::error::{ApiError, ApiResult};

pub const MAX_EMAIL_CHARS: usize = 254;
pub const MAX_USERNAME_CHARS: usize = 150;
pub const MAX_NAME_CHARS: usize = 150;

/// Trimmed, lower-cased, plausibly an address: one `@`, a local part of 1–64 characters, a
/// dotted domain of letters, digits and hyphens, at most 254 characters, no spaces or control
/// characters.
pub fn email(field: &str, raw: &str) -> ApiResult<String> {
    let email = raw.trim().to_lowercase();
    let bad = |message: &str| Err(ApiError::input(field, message));
    if email.is_empty() {
        return bad("an email address is required");
    }
    if email.chars().count() > MAX_EMAIL_CHARS {
        return bad("the email address is longer than 254 characters");
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("the email address contains spaces or control characters");
    }
    let Some((local, domain)) = email.split_once('@') else {
        return bad("not an email address");
    };
    let domain_ok = domain.contains('.')
        && domain.len() <= 253
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.contains('@')
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
    if !(domain_ok && local_ok) {
        return bad("not an email address");
    }
    Ok(email)
}

/// A lenient form for login and filters: trimmed and lower-cased, bounded, no controls.
pub fn email_lookup(field: &str, raw: &str) -> ApiResult<String> {
    let email = raw.trim().to_lowercase();
    if email.is_empty() {
        return Err(ApiError::input(field, "an email address is required"));
    }
    if email.chars().count() > MAX_EMAIL_CHARS || email.chars().any(char::is_control) {
        return Err(ApiError::input(field, "not an email address"));
    }
    Ok(email)
}

/// 1–150 characters: letters, digits and `@ . + - _` (Django's rule), trimmed.
pub fn username(raw: &str) -> ApiResult<String> {
    let username = raw.trim();
    if username.is_empty() {
        return Err(ApiError::input("username", "a username is required"));
    }
    if username.chars().count() > MAX_USERNAME_CHARS {
        return Err(ApiError::input(
            "username",
            "the username is longer than 150 characters",
        ));
    }
    if !username
        .chars()
        .all(|c| c.is_alphanumeric() || "@.+-_".contains(c))
    {
        return Err(ApiError::input(
            "username",
            "a username may contain only letters, digits and @ . + - _",
        ));
    }
    Ok(username.to_string())
}

/// A single-line text (names, titles): trimmed, at most `max` characters, no NUL or other
/// control characters. Empty is allowed unless `required`.
pub fn line(field: &str, raw: &str, max: usize, required: bool) -> ApiResult<String> {
    let text = raw.trim();
    if text.chars().any(char::is_control) {
        return Err(ApiError::input(
            field,
            "must not contain control characters",
        ));
    }
    if text.chars().count() > max {
        return Err(ApiError::input(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if required && text.is_empty() {
        return Err(ApiError::input(field, "must not be empty"));
    }
    Ok(text.to_string())
}

/// A multi-line text (messages, reasons): like [`line`] but tabs and newlines are allowed.
pub fn text(field: &str, raw: &str, max: usize, required: bool) -> ApiResult<String> {
    let text = raw.trim();
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(ApiError::input(
            field,
            "must not contain control characters",
        ));
    }
    if text.chars().count() > max {
        return Err(ApiError::input(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if required && text.is_empty() {
        return Err(ApiError::input(field, "must not be empty"));
    }
    Ok(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(
            email("email", "  Ann.Lee@Example.COM ").unwrap(),
            "ann.lee@example.com"
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "ann@@example.com",
            "an n@example.com",
            "ann@exa_mple.com",
            "ann\0@example.com",
            "a..b@example.com",
        ] {
            assert!(email("email", bad).is_err(), "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(email("email", &long).is_err());
    }

    #[test]
    fn usernames_and_names() {
        assert_eq!(username(" ann_lee+1 ").unwrap(), "ann_lee+1");
        assert!(username("ann lee").is_err());
        assert!(username("").is_err());
        assert!(username(&"a".repeat(151)).is_err());
        assert!(line("firstName", "Ann\0", 150, false).is_err());
        assert!(line("firstName", "Ann\u{7}", 150, false).is_err());
        assert!(line("firstName", "Ann\nLee", 150, false).is_err());
        assert_eq!(line("firstName", "  Zoë ", 150, false).unwrap(), "Zoë");
        assert!(text("reason", "two\nlines", 100, true).is_ok());
        assert!(text("reason", "  ", 100, true).is_err());
    }
}

//! Secrets out of messages: connection URLs are shown with their password masked wherever
//! they reach a log line or an error.

const MASK: &str = "***";

/// `url` with the password of its user info (`scheme://user:password@host`) and the value of
/// a `password=` query parameter replaced by `***`. A URL without either comes back as is.
pub fn mask_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return mask_query(url);
    };
    // The user info ends at the last '@' of the authority; a password with an unencoded '/',
    // '?' or '#' (invalid, but it happens) hides that '@' further on, so then take the last
    // '@' of the whole rest: masking too much is fine, too little is not.
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let at = rest[..authority_end]
        .rfind('@')
        .or_else(|| rest.rfind('@').filter(|&at| rest[..at].contains(':')));
    let masked = match at {
        Some(at) => match rest[..at].split_once(':') {
            Some((user, _password)) => format!("{user}:{MASK}@{}", &rest[at + 1..]),
            None => rest.to_string(),
        },
        None => rest.to_string(),
    };
    format!("{scheme}://{}", mask_query(&masked))
}

fn mask_query(text: &str) -> String {
    let Some((head, query)) = text.split_once('?') else {
        return text.to_string();
    };
    let params: Vec<String> = query
        .split('&')
        .map(|param| match param.split_once('=') {
            Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}={MASK}"),
            _ => param.to_string(),
        })
        .collect();
    format!("{head}?{}", params.join("&"))
}

/// The password of `url` (user info or `password=` parameter), raw and percent-decoded, to
/// scrub from messages that might quote it.
fn secrets_of(url: &str) -> Vec<String> {
    let mut found = Vec::new();
    if let Some((_, rest)) = url.split_once("://") {
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let at = rest[..authority_end]
            .rfind('@')
            .or_else(|| rest.rfind('@').filter(|&at| rest[..at].contains(':')));
        if let Some(at) = at
            && let Some((_, password)) = rest[..at].split_once(':')
        {
            found.push(password.to_string());
        }
    }
    if let Some((_, query)) = url.split_once('?') {
        for param in query.split('&') {
            if let Some((key, value)) = param.split_once('=')
                && key.eq_ignore_ascii_case("password")
            {
                found.push(value.to_string());
            }
        }
    }
    let decoded: Vec<String> = found.iter().filter_map(|s| percent_decode(s)).collect();
    found.extend(decoded);
    found.retain(|s| !s.is_empty());
    found
}

fn percent_decode(text: &str) -> Option<String> {
    if !text.contains('%') {
        return None;
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `message` with every occurrence of `url`'s password replaced by `***`.
pub fn scrub(message: &str, url: &str) -> String {
    let mut secrets = secrets_of(url);
    // Longest first, so a password containing another one is replaced whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets.iter().fold(message.to_string(), |text, secret| {
        text.replace(secret, MASK)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_the_password_of_the_user_info() {
        assert_eq!(
            mask_url("postgres://margin:hunter2@db.internal:5432/margin?sslmode=require"),
            "postgres://margin:***@db.internal:5432/margin?sslmode=require"
        );
        assert_eq!(
            mask_url("redis://:s3cret@127.0.0.1:6379/0"),
            "redis://:***@127.0.0.1:6379/0"
        );
        assert_eq!(
            mask_url("postgres://u:p%40ss@h/db"),
            "postgres://u:***@h/db"
        );
    }

    #[test]
    fn leaves_urls_without_a_password_alone() {
        for url in [
            "sqlite://./var/margin.sqlite?mode=rwc",
            "postgres://postgres@127.0.0.1:5432/test",
            "redis://127.0.0.1:6379/",
            "sqlite::memory:",
        ] {
            assert_eq!(mask_url(url), url);
        }
    }

    #[test]
    fn an_at_sign_in_the_query_is_not_the_user_info() {
        assert_eq!(
            mask_url("postgres://u:pw@h/db?application_name=a@b"),
            "postgres://u:***@h/db?application_name=a@b"
        );
    }

    #[test]
    fn an_unencoded_slash_in_the_password_still_masks_it() {
        let masked = mask_url("postgres://u:pa/ss@h/db");
        assert!(
            !masked.contains("pa/ss") && !masked.contains("ss@"),
            "{masked}"
        );
        assert_eq!(masked, "postgres://u:***@h/db");
    }

    #[test]
    fn masks_a_password_parameter() {
        assert_eq!(
            mask_url("postgres://h/db?user=u&password=hunter2&sslmode=disable"),
            "postgres://h/db?user=u&password=***&sslmode=disable"
        );
    }

    #[test]
    fn scrubs_raw_and_decoded_passwords_from_messages() {
        let url = "postgres://u:p%40ss@h/db";
        assert_eq!(
            scrub("failed for p@ss and p%40ss", url),
            "failed for *** and ***"
        );
        assert_eq!(scrub("nothing here", "sqlite://x"), "nothing here");
    }
}

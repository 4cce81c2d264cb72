//! Cookie mode for browser SPAs (`MARGIN_SESSION_COOKIE=true`): `login` also sets the session
//! token in a `__Host-` cookie (Secure, HttpOnly, SameSite=Strict, Path=/, no Domain), and a
//! request without an `Authorization` header is authenticated by that cookie.
//!
//! CSRF defence, in layers: SameSite=Strict; POST /graphql accepts only JSON bodies (a
//! cross-site form cannot send one without a CORS preflight, which only allow-listed origins
//! pass); mutations are refused over GET; and the cookie is ignored whenever the request
//! carries an `Origin` that is neither the server's own host nor in `MARGIN_CORS_ORIGINS`
//! (this also covers WebSocket upgrades, which browsers send cross-site with cookies).

pub const SESSION_COOKIE: &str = "__Host-margin_session";

/// The Set-Cookie value carrying a fresh session token.
pub fn set_session(token: &str, max_age_secs: u64) -> String {
    format!(
        "{SESSION_COOKIE}={token}; Path=/; Max-Age={max_age_secs}; Secure; HttpOnly; SameSite=Strict"
    )
}

/// The Set-Cookie value that removes the session cookie.
pub fn clear_session() -> String {
    format!("{SESSION_COOKIE}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict")
}

/// The session token in a `Cookie` header, if present.
pub fn session_from_header(header: &str) -> Option<&str> {
    header.split(';').find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name.trim() == SESSION_COOKIE).then(|| value.trim())
    })
}

/// Whether a browser request from `origin` may use the cookie: no Origin (not a cross-site
/// browser request), the server's own host, or an origin in the CORS allowlist.
pub fn origin_allowed(origin: Option<&str>, host: Option<&str>, allowlist: &[String]) -> bool {
    let Some(origin) = origin.map(str::trim) else {
        return true;
    };
    if allowlist
        .iter()
        .any(|allowed| allowed.trim() == origin && allowed.trim() != "*")
    {
        return true;
    }
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_host_prefixed_and_strict() {
        let value = set_session("tok", 60);
        assert!(value.starts_with("__Host-margin_session=tok;"));
        for attribute in [
            "Secure",
            "HttpOnly",
            "SameSite=Strict",
            "Path=/",
            "Max-Age=60",
        ] {
            assert!(value.contains(attribute), "{attribute}");
        }
        assert!(!value.contains("Domain"));
        assert!(clear_session().contains("Max-Age=0"));
    }

    #[test]
    fn the_session_is_read_from_the_cookie_header() {
        assert_eq!(
            session_from_header("a=b; __Host-margin_session=xyz; c=d"),
            Some("xyz")
        );
        assert_eq!(session_from_header("margin_session=xyz"), None);
    }

    #[test]
    fn foreign_origins_cannot_use_the_cookie() {
        let allow = vec!["https://app.example.com".to_string()];
        assert!(origin_allowed(None, Some("api.example.com"), &allow));
        assert!(origin_allowed(
            Some("https://app.example.com"),
            Some("api.example.com"),
            &allow
        ));
        assert!(origin_allowed(
            Some("https://api.example.com"),
            Some("api.example.com"),
            &allow
        ));
        assert!(!origin_allowed(
            Some("https://evil.example"),
            Some("api.example.com"),
            &allow
        ));
        assert!(!origin_allowed(
            Some("https://evil.example"),
            None,
            &["*".to_string()]
        ));
        assert!(!origin_allowed(
            Some("null"),
            Some("api.example.com"),
            &allow
        ));
    }
}

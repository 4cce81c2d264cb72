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
/// browser request), the server's own origin, or an origin in the CORS allowlist. Origins are
/// compared as scheme, host and port: the cookie is `Secure`, so the server's own origin is
/// `https://` + the `Host` header (plain `http://` only for loopback hosts, which browsers
/// treat as secure), and `http://api.example.com` or `https://api.example.com:8443` is not
/// `https://api.example.com`.
pub fn origin_allowed(origin: Option<&str>, host: Option<&str>, allowlist: &[String]) -> bool {
    let Some(origin) = origin.map(str::trim) else {
        return true;
    };
    let Some(origin) = Origin::parse(origin) else {
        return false;
    };
    if allowlist
        .iter()
        .filter_map(|allowed| Origin::parse(allowed.trim()))
        .any(|allowed| allowed == origin)
    {
        return true;
    }
    let Some(host) = host.map(str::trim) else {
        return false;
    };
    let secure_context = origin.scheme == "https" || is_loopback(&origin.host);
    secure_context && Origin::parse(&format!("{}://{host}", origin.scheme)) == Some(origin)
}

/// An origin as scheme, lower-cased host and port (the scheme's default when omitted).
#[derive(Debug, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    fn parse(text: &str) -> Option<Origin> {
        let (scheme, authority) = text.split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "https" => 443,
            "http" => 80,
            _ => return None,
        };
        if authority.is_empty() || authority.contains(['/', '?', '#', '@']) {
            return None;
        }
        // `[::1]:8000`, `host:8000`, `host`.
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !port.contains(']') => (host, port.parse().ok()?),
            _ => (authority, default_port),
        };
        Some(Origin {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
        })
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host == "[::1]" || host.starts_with("127.")
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

    #[test]
    fn origins_compare_scheme_host_and_port() {
        let none: Vec<String> = vec![];
        let host = Some("api.example.com");
        assert!(origin_allowed(Some("https://API.example.com"), host, &none));
        assert!(origin_allowed(
            Some("https://api.example.com:443"),
            host,
            &none
        ));
        assert!(
            !origin_allowed(Some("http://api.example.com"), host, &none),
            "scheme"
        );
        assert!(
            !origin_allowed(Some("https://api.example.com:8443"), host, &none),
            "port"
        );
        assert!(origin_allowed(
            Some("https://api.example.com:8443"),
            Some("api.example.com:8443"),
            &none
        ));
        let allow = vec!["https://app.example.com".to_string()];
        assert!(!origin_allowed(
            Some("http://app.example.com"),
            host,
            &allow
        ));
        assert!(!origin_allowed(
            Some("https://app.example.com:444"),
            host,
            &allow
        ));
        // Loopback development servers over plain HTTP.
        assert!(origin_allowed(
            Some("http://127.0.0.1:8000"),
            Some("127.0.0.1:8000"),
            &none
        ));
        assert!(origin_allowed(
            Some("http://[::1]:8000"),
            Some("[::1]:8000"),
            &none
        ));
        assert!(!origin_allowed(
            Some("http://127.0.0.1:8001"),
            Some("127.0.0.1:8000"),
            &none
        ));
    }
}

//! Turning what a request presents into an [`AuthContext`], once per HTTP request and once per
//! WebSocket connection.

use std::net::IpAddr;

use crate::{
    auth::{AuthContext, AuthState, Caller, ClientInfo, Scope, Via, cookie, token},
    services::accounts::{AccountSettings, Touch, api_tokens, role_of, sessions},
    state::AppState,
};

/// The credentials and client facts of one request or connection.
#[derive(Debug, Clone, Default)]
pub struct Presented {
    /// The `Authorization` header, or the `authorization` of a WebSocket `connection_init`.
    pub authorization: Option<String>,
    /// The `Cookie` header (used only in cookie mode).
    pub cookie: Option<String>,
    pub origin: Option<String>,
    pub host: Option<String>,
    /// The TCP peer.
    pub peer: Option<IpAddr>,
    /// `X-Forwarded-For`, believed only when the peer is a trusted proxy.
    pub forwarded_for: Option<String>,
    pub user_agent: Option<String>,
}

/// The client address: the peer, or — when the peer is a trusted proxy — the right-most
/// `X-Forwarded-For` entry that is not itself a trusted proxy.
pub fn client_ip(
    peer: Option<IpAddr>,
    forwarded_for: Option<&str>,
    trusted: &[IpAddr],
) -> Option<IpAddr> {
    let peer = peer?;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let Some(chain) = forwarded_for else {
        return Some(peer);
    };
    for entry in chain.rsplit(',') {
        match entry.trim().parse::<IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => continue,
            Ok(ip) => return Some(ip),
            Err(_) => break,
        }
    }
    Some(peer)
}

/// Resolves the caller of a request. Never fails: a database error leaves the context
/// `Unavailable` (logged here), and guards then answer SERVICE_UNAVAILABLE while public
/// fields keep working; it is never taken for anonymous.
pub async fn authenticate(app: &AppState, presented: &Presented) -> AuthContext {
    resolve(app, presented, Touch::Yes).await
}

/// Checks the credentials of an open WebSocket again without counting as activity.
pub async fn recheck(app: &AppState, presented: &Presented) -> AuthContext {
    resolve(app, presented, Touch::No).await
}

async fn resolve(app: &AppState, presented: &Presented, touch: Touch) -> AuthContext {
    let config = &app.config;
    let ip = client_ip(
        presented.peer,
        presented.forwarded_for.as_deref(),
        &config.trusted_proxies,
    );
    let client = ClientInfo {
        ip: ip.map(|ip| ip.to_string()),
        user_agent: presented.user_agent.clone(),
    };
    let mut context = AuthContext {
        state: AuthState::Anonymous,
        client,
        via_cookie: false,
        cookie_mode: config.session_cookie,
        cookie_max_age: config.session_absolute_secs,
    };
    let header = presented
        .authorization
        .as_deref()
        .map(str::trim)
        .filter(|h| !h.is_empty());
    let secret = match header {
        Some(header) => match token::bearer(header) {
            Some(secret) => secret,
            None => {
                context.state = AuthState::Invalid;
                return context;
            }
        },
        None => {
            let from_cookie = config
                .session_cookie
                .then(|| {
                    presented
                        .cookie
                        .as_deref()
                        .and_then(cookie::session_from_header)
                })
                .flatten()
                .filter(|t| !t.is_empty());
            let Some(secret) = from_cookie else {
                return context;
            };
            if !cookie::origin_allowed(
                presented.origin.as_deref(),
                presented.host.as_deref(),
                &config.cors_origins,
            ) {
                // A cross-site request carrying the cookie: treat it as anonymous.
                return context;
            }
            context.via_cookie = true;
            secret
        }
    };
    if !token::is_well_formed(secret) {
        context.state = AuthState::Invalid;
        return context;
    }
    let settings = AccountSettings::from_config(config);
    let resolved = if secret.starts_with(token::API_TOKEN_PREFIX) {
        api_tokens::authenticate(&app.db, secret, touch)
            .await
            .map(|found| {
                found.map(|(record, user)| Caller {
                    user_id: user.id,
                    email: user.email.clone(),
                    role: role_of(&user),
                    is_approved: user.is_approved,
                    scopes: Scope::split(&record.scopes),
                    via: Via::ApiToken {
                        token_id: record.id,
                    },
                })
            })
    } else {
        sessions::authenticate(&app.db, &settings, secret, touch)
            .await
            .map(|found| {
                found.map(|(session, user)| Caller {
                    user_id: user.id,
                    email: user.email.clone(),
                    role: role_of(&user),
                    is_approved: user.is_approved,
                    scopes: vec![Scope::Read, Scope::Write],
                    via: Via::Session {
                        session_id: session.id,
                    },
                })
            })
    };
    context.state = match resolved {
        Ok(Some(caller)) => AuthState::Signed(Box::new(caller)),
        Ok(None) => AuthState::Invalid,
        Err(err) => {
            tracing::error!(error = ?err, "could not check the presented credentials");
            AuthState::Unavailable
        }
    };
    context
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let peer: IpAddr = "203.0.113.9".parse().unwrap();
        let client: IpAddr = "198.51.100.7".parse().unwrap();
        assert_eq!(client_ip(Some(peer), Some("1.2.3.4"), &[proxy]), Some(peer));
        assert_eq!(
            client_ip(Some(proxy), Some("1.2.3.4, 198.51.100.7"), &[proxy]),
            Some(client)
        );
        assert_eq!(
            client_ip(Some(proxy), Some("198.51.100.7, 10.0.0.1"), &[proxy]),
            Some(client)
        );
        assert_eq!(
            client_ip(Some(proxy), Some("garbage"), &[proxy]),
            Some(proxy)
        );
        assert_eq!(client_ip(Some(proxy), None, &[proxy]), Some(proxy));
        assert_eq!(client_ip(None, None, &[]), None);
    }
}

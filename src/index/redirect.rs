//! Which redirects the index client follows: the index's answers decide what is cached and which
//! wheel is read, so a redirect must not take them off the channel the user configured.

use ureq::http::Uri;

use super::page::resolve;

/// Redirects followed for one request.
pub const MAX_REDIRECTS: usize = 5;

/// Where a redirect from `from` to `location` leads, if it may be followed: only to `http:` or
/// `https:` (never `file:` or another scheme), never from HTTPS down to HTTP, and to another
/// host only over HTTPS (a mirror or a CDN; logged by the caller). The index's answers decide
/// what is cached and which wheel is read: a redirect must not take them off the channel the
/// user configured.
pub fn redirect_target(from: &str, location: &str) -> Result<String, String> {
    let shown = crate::input::shown(location);
    let scheme_of = |u: &str| {
        let (s, _) = u.split_once(':')?;
        (!s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c)))
            .then(|| s.to_ascii_lowercase())
    };
    if let Some(s) = scheme_of(location) {
        if s != "http" && s != "https" {
            return Err(format!("redirected to {shown}: refused, only http and https addresses are followed"));
        }
    }
    let next = resolve(from, location);
    let (was, now) = (scheme_of(from).unwrap_or_default(), scheme_of(&next).unwrap_or_default());
    if was == "https" && now != "https" {
        return Err(format!("redirected to {shown}: refused, a redirect from HTTPS to HTTP is never followed"));
    }
    if host_of(&next) != host_of(from) && now != "https" {
        return Err(format!("redirected to {shown}: refused, a redirect to another host is followed only over HTTPS"));
    }
    Ok(next)
}

/// The host and port of an address, lowercase (`None` when it has none).
pub(super) fn host_of(url: &str) -> Option<String> {
    let u: Uri = url.parse().ok()?;
    let port = u.port_u16().unwrap_or(if u.scheme_str() == Some("http") { 80 } else { 443 });
    Some(format!("{}:{port}", u.host()?.to_ascii_lowercase()))
}

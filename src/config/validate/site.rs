//! `[site]`: the customer KB site's switch and branding.
//!
//! Guarantees: the title and support label are 1–80 characters without control characters;
//! the primary color is `#rrggbb` (stored lowercase), so it can be written into the stylesheet
//! as is; the logo is an absolute `https` URL or a path on kbgate (`/…`, never `//…` or a
//! backslash, which browsers read as another host); the support link is an absolute `http(s)`
//! URL; `recent_count` is 1–50. Every problem is reported with its key path.
//! Deliberately not: fetching the logo or the support page.

use super::super::file::FileSite;
use super::super::SiteSettings;
use super::Problems;
use crate::portal::model::Branding;

/// Longest title and support label, in characters.
const MAX_TEXT_CHARS: usize = 80;
/// Longest logo or support URL, in bytes.
const MAX_URL_BYTES: usize = 2048;
/// Default and bounds of `site.recent_count`.
const DEFAULT_RECENT: u32 = 8;
const MAX_RECENT: i64 = 50;

/// Validates `[site]` (an absent section is all defaults).
pub(super) fn site(p: &mut Problems, s: &FileSite) -> SiteSettings {
    let defaults = Branding::default();
    let title = text(p, "site.title", &s.title, defaults.title);
    let support_label = text(
        p,
        "site.support_label",
        &s.support_label,
        defaults.support_label,
    );
    let primary_color = match &s.primary_color {
        None => defaults.primary_color,
        Some(c) if is_hex_color(c) => c.to_ascii_lowercase(),
        Some(c) => {
            p.add(
                "site.primary_color",
                format!("{c:?} is not a color like \"#0b5cad\" (# and six hex digits)"),
            );
            defaults.primary_color
        }
    };
    let logo_url = s.logo_url.as_ref().and_then(|url| {
        let fine = url_chars_ok(url) && (is_local_path(url) || is_web_url(url, &["https"]));
        if !fine {
            p.add(
                "site.logo_url",
                format!(
                    "{url:?} is not a logo URL: use an absolute https:// URL or a path on kbgate \
                     starting with \"/\""
                ),
            );
        }
        fine.then(|| url.clone())
    });
    let support_url = s.support_url.as_ref().and_then(|url| {
        let fine = url_chars_ok(url) && is_web_url(url, &["https", "http"]);
        if !fine {
            p.add(
                "site.support_url",
                format!(
                    "{url:?} is not an absolute http(s) URL, e.g. \
                     \"https://example.atlassian.net/servicedesk/customer/portal/1\""
                ),
            );
        }
        fine.then(|| url.clone())
    });
    let recent_count = match s.recent_count {
        None => DEFAULT_RECENT,
        Some(n) => match u32::try_from(n) {
            Ok(n) if (1..=MAX_RECENT).contains(&i64::from(n)) => n,
            _ => {
                p.add(
                    "site.recent_count",
                    format!("{n} is out of range: must be between 1 and {MAX_RECENT}"),
                );
                DEFAULT_RECENT
            }
        },
    };
    SiteSettings {
        enabled: s.enabled.unwrap_or(true),
        branding: Branding {
            title,
            logo_url,
            primary_color,
            support_url,
            support_label,
        },
        recent_count,
    }
}

/// A display text: 1–80 characters, not only spaces, no control characters.
fn text(p: &mut Problems, path: &str, value: &Option<String>, default: String) -> String {
    let Some(v) = value else { return default };
    let chars = v.chars().count();
    if v.trim().is_empty() || chars > MAX_TEXT_CHARS || v.chars().any(char::is_control) {
        p.add(
            path,
            format!("write 1 to {MAX_TEXT_CHARS} characters of plain text (no line breaks or control characters)"),
        );
        return default;
    }
    v.clone()
}

/// `#rrggbb` with hex digits.
fn is_hex_color(c: &str) -> bool {
    c.len() == 7 && c.starts_with('#') && c.bytes().skip(1).all(|b| b.is_ascii_hexdigit())
}

/// No whitespace, control characters, backslashes or quotes, and not too long.
fn url_chars_ok(url: &str) -> bool {
    !url.is_empty()
        && url.len() <= MAX_URL_BYTES
        && !url.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '\\' | '"' | '\'' | '<' | '>')
        })
}

/// A path on kbgate: `/…` but not `//…` (a scheme-relative URL to another host).
fn is_local_path(url: &str) -> bool {
    url.starts_with('/') && !url.starts_with("//")
}

/// An absolute URL with one of `schemes` and a host.
fn is_web_url(url: &str, schemes: &[&str]) -> bool {
    url.parse::<http::Uri>().is_ok_and(|u| {
        u.scheme_str().is_some_and(|s| schemes.contains(&s))
            && u.host().is_some_and(|h| !h.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::{Config, ConfigError};

    const BASE: &str = r#"
[server]
listen = "127.0.0.1:8080"
public_url = "https://kb.example.com"

[upstream]
base_url = "https://example.atlassian.net"
auth = { kind = "basic", email = "svc@example.com", token_env = "TOKEN" }

[[auth.issuers]]
issuer = "https://idp.example.com"
audiences = ["kbgate"]
jwks_url = "https://idp.example.com/jwks"

[orgs]
claim = "kb_orgs"

[policy]
spaces = ["KB"]
"#;

    fn env(name: &str) -> Option<String> {
        (name == "TOKEN").then(|| "t".to_owned())
    }

    fn load(site: &str) -> Result<Config, ConfigError> {
        Config::from_toml(
            &format!("{BASE}\n[site]\n{site}"),
            Path::new("t.toml"),
            &env,
        )
    }

    fn problems(site: &str) -> Vec<String> {
        match load(site) {
            Err(ConfigError::Invalid { problems, .. }) => {
                problems.into_iter().map(|p| p.path).collect()
            }
            other => panic!("expected problems, got {other:?}"),
        }
    }

    #[test]
    fn no_site_section_means_an_enabled_site_with_the_default_branding() {
        let config = Config::from_toml(BASE, Path::new("t.toml"), &env).unwrap();
        let site = config.site;
        assert!(site.enabled);
        assert_eq!(site.recent_count, 8);
        assert_eq!(site.branding.title, "Knowledge base");
        assert_eq!(site.branding.primary_color, "#0b5cad");
        assert_eq!(site.branding.support_label, "Contact support");
        assert!(site.branding.logo_url.is_none());
        assert!(site.branding.support_url.is_none());
    }

    #[test]
    fn a_full_site_section_is_taken_as_written_with_the_color_lowercased() {
        let site = load(
            r##"enabled = false
title = "Acme Support KB"
logo_url = "https://cdn.example.com/logo.png"
primary_color = "#AA00FF"
support_url = "https://example.atlassian.net/servicedesk/customer/portal/1"
support_label = "Ask us"
recent_count = 50"##,
        )
        .unwrap()
        .site;
        assert!(!site.enabled);
        assert_eq!(site.branding.title, "Acme Support KB");
        assert_eq!(
            site.branding.logo_url.as_deref(),
            Some("https://cdn.example.com/logo.png")
        );
        assert_eq!(site.branding.primary_color, "#aa00ff");
        assert_eq!(site.branding.support_label, "Ask us");
        assert_eq!(site.recent_count, 50);
    }

    #[test]
    fn a_logo_path_on_kbgate_is_accepted() {
        let site = load(r#"logo_url = "/logo.png""#).unwrap().site;
        assert_eq!(site.branding.logo_url.as_deref(), Some("/logo.png"));
    }

    #[test]
    fn every_site_mistake_is_reported_with_its_key() {
        let found = problems(
            r#"title = ""
logo_url = "//evil.example/logo.png"
primary_color = "blue"
support_url = "javascript:alert(1)"
support_label = "two\nlines"
recent_count = 0"#,
        );
        assert_eq!(
            found,
            [
                "site.title",
                "site.support_label",
                "site.primary_color",
                "site.logo_url",
                "site.support_url",
                "site.recent_count",
            ]
        );
    }

    #[test]
    fn unsafe_or_malformed_values_are_refused_one_by_one() {
        for (line, key) in [
            (
                r#"logo_url = "http://cdn.example.com/logo.png""#,
                "site.logo_url",
            ),
            (r#"logo_url = "/\\evil.example/logo.png""#, "site.logo_url"),
            (r#"logo_url = "javascript:alert(1)""#, "site.logo_url"),
            (r#"logo_url = "/logo.png\" onerror=\"x""#, "site.logo_url"),
            (r#"logo_url = "logo.png""#, "site.logo_url"),
            (r#"support_url = "/support""#, "site.support_url"),
            (
                r#"support_url = "mailto:help@example.com""#,
                "site.support_url",
            ),
            (
                r##"primary_color = "#0b5cad;}body{x:y""##,
                "site.primary_color",
            ),
            (r##"primary_color = "#0b5cag""##, "site.primary_color"),
            (r##"primary_color = "#fff""##, "site.primary_color"),
            (r#"title = "   ""#, "site.title"),
            (&format!("title = {:?}", "x".repeat(81)), "site.title"),
            ("recent_count = 51", "site.recent_count"),
            ("recent_count = -1", "site.recent_count"),
        ] {
            assert_eq!(problems(line), [key], "{line}");
        }
    }

    #[test]
    fn unknown_site_keys_are_refused_with_their_name() {
        let err = load(r#"colour = "red""#).unwrap_err().to_string();
        assert!(err.contains("colour"), "{err}");
    }
}

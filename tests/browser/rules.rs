//! Small pure helpers of the browser harness: what counts as a strict Content-Security-Policy,
//! the demo configuration edit that puts the tee in front of kbgate, and plain titles.
//!
//! Guarantees: each is a total function over its input (no I/O but listing a directory).
//! Deliberately not: full CSP parsing (source expressions beyond `'none'`/`'self'` are refused).

/// Whether a Content-Security-Policy forbids framing and every script: `frame-ancestors
/// 'none'`, and `script-src` (or else `default-src`) is `'none'` or `'self'` without
/// `'unsafe-inline'`, `'unsafe-eval'`, wildcards or other schemes. (Inline styles are judged
/// elsewhere: the renderer never copies a body's markup.)
pub fn strict_csp(csp: &str) -> bool {
    let directives: Vec<(&str, Vec<&str>)> = csp
        .split(';')
        .filter_map(|d| {
            let mut words = d.split_whitespace();
            Some((words.next()?, words.collect()))
        })
        .collect();
    let get = |name: &str| {
        directives
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let scripts = get("script-src").or_else(|| get("default-src"));
    let scripts_ok = scripts
        .is_some_and(|v| !v.is_empty() && v.iter().all(|s| *s == "'none'" || *s == "'self'"));
    scripts_ok && get("frame-ancestors").is_some_and(|v| v == ["'none'"])
}

#[test]
fn a_strict_csp_forbids_inline_scripts_and_framing() {
    assert!(strict_csp(
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
    ));
    assert!(strict_csp(
        "default-src 'self'; script-src 'none'; frame-ancestors 'none'"
    ));
    assert!(!strict_csp("default-src 'none'"), "framing allowed");
    assert!(!strict_csp(
        "default-src 'none'; script-src 'unsafe-inline'; frame-ancestors 'none'"
    ));
    assert!(!strict_csp("script-src *; frame-ancestors 'none'"));
    assert!(
        !strict_csp("style-src 'self'; frame-ancestors 'none'"),
        "no script rule"
    );
}

/// The names of the files in `dir`.
pub fn files_in(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The demo TOML with `[server] public_url` set to `url`.
pub fn replace_public_url(toml: &str, url: &str) -> String {
    let mut replaced = false;
    let out: Vec<String> = toml
        .lines()
        .map(|l| {
            if !replaced && l.trim_start().starts_with("public_url") {
                replaced = true;
                format!("public_url = \"{url}\"")
            } else {
                l.to_owned()
            }
        })
        .collect();
    assert!(replaced, "the demo configuration has a public_url line");
    out.join("\n") + "\n"
}

/// The title of `item` as people read it (without its canary suffix).
pub fn plain_title(item: &kbgate::sim::SimItem) -> String {
    match &item.canary {
        Some(c) => item
            .title
            .strip_suffix(&format!(" {c}"))
            .unwrap_or(&item.title)
            .to_owned(),
        None => item.title.clone(),
    }
}

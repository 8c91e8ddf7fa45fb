//! The labels a `contentbylabel` macro's `cql` parameter asks for, when that CQL is one of the
//! simple forms Confluence's macro editor writes: `label = "a"`, `label in ("a", "b")`, such
//! clauses joined by `or`, optionally with `and space = currentSpace()` before or after.
//!
//! Guarantees: anything else (other fields, `not`, functions other than `currentSpace()`,
//! escapes, nesting, a second `and`) is `None`, so the macro is removed; the result only ever
//! *names labels* — the site then lists the caller's visible pages with them.
//!
//! Deliberately not: a CQL parser (the wrapper in `policy::cql` parses customer CQL).

/// Longest CQL looked at, in bytes.
const MAX_CQL_BYTES: usize = 2048;

#[derive(Debug, PartialEq, Eq)]
enum Tok {
    Word(String),
    Str(String),
    Open,
    Close,
    Comma,
    Eq,
}

fn tokens(cql: &str) -> Option<Vec<Tok>> {
    if cql.len() > MAX_CQL_BYTES {
        return None;
    }
    let mut out = Vec::new();
    let mut chars = cql.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' | ',' | '=' => {
                chars.next();
                out.push(match c {
                    '(' => Tok::Open,
                    ')' => Tok::Close,
                    ',' => Tok::Comma,
                    _ => Tok::Eq,
                });
            }
            '"' | '\'' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next()? {
                        q if q == c => break,
                        '\\' => return None,
                        other => s.push(other),
                    }
                }
                out.push(Tok::Str(s));
            }
            c if c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':') => {
                let mut s = String::new();
                while let Some(&c) = chars.peek() {
                    if !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':')) {
                        break;
                    }
                    s.push(c);
                    chars.next();
                }
                out.push(Tok::Word(s));
            }
            _ => return None,
        }
    }
    Some(out)
}

fn is_word(t: Option<&Tok>, word: &str) -> bool {
    matches!(t, Some(Tok::Word(w)) if w.eq_ignore_ascii_case(word))
}

/// A value: a quoted string or a bare word.
fn value(t: Option<&Tok>) -> Option<String> {
    match t? {
        Tok::Str(s) | Tok::Word(s) => Some(s.clone()),
        _ => None,
    }
}

/// The label texts `cql` asks for (not yet validated as labels), or `None` when it is not one
/// of the simple forms.
pub(crate) fn labels_from_cql(cql: &str) -> Option<Vec<String>> {
    let toks = tokens(cql)?;
    let parts: Vec<&[Tok]> = toks
        .split(|t| matches!(t, Tok::Word(w) if w.eq_ignore_ascii_case("and")))
        .collect();
    if parts.len() > 2 {
        return None;
    }
    let mut labels = None;
    for part in parts {
        if is_space_clause(part) {
            continue;
        }
        if labels.is_some() {
            return None;
        }
        labels = Some(label_disjunction(part)?);
    }
    labels.filter(|l: &Vec<String>| !l.is_empty())
}

/// `space = currentSpace()` (another space would reach beyond this one, as the `spaces`
/// parameter would; it is refused the same way).
fn is_space_clause(part: &[Tok]) -> bool {
    match part {
        [Tok::Word(f), Tok::Eq, Tok::Word(func), Tok::Open, Tok::Close] => {
            f.eq_ignore_ascii_case("space") && func.eq_ignore_ascii_case("currentSpace")
        }
        _ => false,
    }
}

/// `label = v` or `label in (v, …)`, joined by `or`.
fn label_disjunction(part: &[Tok]) -> Option<Vec<String>> {
    let mut labels = Vec::new();
    let mut i = 0;
    loop {
        if !is_word(part.get(i), "label") {
            return None;
        }
        if part.get(i + 1) == Some(&Tok::Eq) {
            labels.push(value(part.get(i + 2))?);
            i += 3;
        } else if is_word(part.get(i + 1), "in") && part.get(i + 2) == Some(&Tok::Open) {
            i += 3;
            loop {
                labels.push(value(part.get(i))?);
                match part.get(i + 1)? {
                    Tok::Comma => i += 2,
                    Tok::Close => break,
                    _ => return None,
                }
            }
            i += 2;
        } else {
            return None;
        }
        match part.get(i) {
            None => return Some(labels),
            Some(t) if is_word(Some(t), "or") => i += 1,
            Some(_) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::labels_from_cql;

    fn labels(cql: &str) -> Option<Vec<String>> {
        labels_from_cql(cql)
    }

    #[test]
    fn the_forms_the_macro_editor_writes_give_their_labels() {
        assert_eq!(labels(r#"label = "org-acme""#).unwrap(), ["org-acme"]);
        assert_eq!(
            labels(r#"label in ("a", 'b') or label = c"#).unwrap(),
            ["a", "b", "c"]
        );
        assert_eq!(
            labels(r#"label = "vpn" and space = currentSpace()"#).unwrap(),
            ["vpn"]
        );
        assert_eq!(
            labels(r#"space = currentSpace() AND label = "vpn""#).unwrap(),
            ["vpn"]
        );
    }

    #[test]
    fn anything_else_is_refused() {
        for cql in [
            "",
            r#"title = "x""#,
            r#"label != "a""#,
            r#"not label = "a""#,
            r#"label = "a" and label = "b""#,
            r#"label = "a" and space = "KB" and type = page"#,
            r#"label = "a" or title ~ "b""#,
            r#"label in ("a" "b")"#,
            r#"label = "a\"b""#,
            r#"label = "unterminated"#,
            r#"label = currentUser()"#,
            r#"space = currentSpace()"#,
            r#"(label = "a")"#,
            r#"label = "a" and space = "ACME""#,
            r#"label = "a" order by title"#,
        ] {
            assert_eq!(labels(cql), None, "{cql}");
        }
        assert_eq!(labels(&"label = a or ".repeat(200)), None, "too long");
    }
}

//! The CQL pre-filter: wraps a customer's CQL so Confluence itself returns only what the caller
//! may see, which keeps paging and totals right.
//!
//! The customer's query is tokenized with a quote-aware tokenizer and re-serialized from tokens,
//! never pasted as text: unbalanced parentheses, unterminated strings, stray characters, functions
//! that run as the service account and `ORDER BY` anywhere but the end are refused. The wrapped
//! query always starts with a positive clause (Confluence refuses a leading negative one):
//!
//! ```text
//! space in ("KB") AND type in (page, blogpost) AND (<user cql>) AND <visibility> [ORDER BY …]
//! ```
//!
//! The pre-filter is an optimisation; the post-filter in `filter` is the security boundary.

use super::{OrgSet, Policy, Unmarked};

/// Longest customer CQL accepted, in bytes.
pub const MAX_USER_CQL: usize = 4096;
/// Most tokens accepted in a customer's CQL.
const MAX_TOKENS: usize = 512;
/// Functions a customer may call: date arithmetic only. Anything else (`currentUser()`,
/// `recentlyViewedContent()`, `favouriteSpaces()` …) would run as the service account.
const ALLOWED_FUNCTIONS: &[&str] = &[
    "now",
    "startofday",
    "endofday",
    "startofweek",
    "endofweek",
    "startofmonth",
    "endofmonth",
    "startofyear",
    "endofyear",
];
const KEYWORDS: &[&str] = &["and", "or", "not", "in"];

/// Why a customer's CQL was refused. Shown to the client as a 400 reason (it names no content).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CqlError {
    #[error("the cql parameter is empty")]
    Empty,
    #[error("the cql parameter is longer than {MAX_USER_CQL} bytes")]
    TooLong,
    #[error("the cql parameter has too many terms")]
    TooManyTokens,
    #[error("the cql parameter has a string that is not closed")]
    UnterminatedString,
    #[error("the cql parameter has a character kbgate does not accept: {0:?}")]
    BadCharacter(char),
    #[error("the cql parameter has unbalanced parentheses")]
    Unbalanced,
    #[error("ORDER BY is only accepted once, at the end of the query, with plain field names")]
    MisplacedOrderBy,
    #[error("the function {0}() is not allowed in kbgate searches")]
    FunctionNotAllowed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// A bare word: field name, keyword, number, unquoted value, function name.
    Word(String),
    /// A string literal, unescaped.
    Str(String),
    Op(&'static str),
    Open,
    Close,
    Comma,
}

/// A customer's query, checked and split into its filter and its sort.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCql {
    filter: Vec<Token>,
    order_by: Vec<Token>,
}

impl UserCql {
    /// Tokenizes and checks a customer's CQL.
    pub fn parse(input: &str) -> Result<Self, CqlError> {
        if input.len() > MAX_USER_CQL {
            return Err(CqlError::TooLong);
        }
        let tokens = tokenize(input)?;
        check_balance(&tokens)?;
        let (filter, order_by) = split_order_by(tokens)?;
        check_functions(&filter)?;
        if filter.is_empty() {
            return Err(CqlError::Empty);
        }
        Ok(Self { filter, order_by })
    }

    /// The filter part, re-serialized from tokens (for kbgate's own paging links).
    pub fn to_cql(&self) -> String {
        let mut out = render(&self.filter);
        if !self.order_by.is_empty() {
            out.push_str(" ORDER BY ");
            out.push_str(&render(&self.order_by));
        }
        out
    }
}

/// The query to send upstream, or the knowledge that the caller can see nothing at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wrapped {
    Query(String),
    /// `unmarked = "deny"` and the caller has no organization: answer an empty result.
    MatchesNothing,
}

/// Wraps `user` so that upstream returns only what a caller with `orgs` may see.
pub fn wrap(policy: &Policy, orgs: &OrgSet, user: &UserCql) -> Wrapped {
    let mut clauses = Vec::new();
    let spaces: Vec<String> = policy.spaces.iter().map(|s| quote(s.as_str())).collect();
    clauses.push(format!("space in ({})", spaces.join(", ")));
    clauses.push("type in (page, blogpost)".to_owned());
    clauses.push(format!("({})", render(&user.filter)));
    match visibility_clauses(policy, orgs) {
        Some(vis) => clauses.extend(vis),
        None => return Wrapped::MatchesNothing,
    }
    let mut query = clauses.join(" AND ");
    if !user.order_by.is_empty() {
        query.push_str(" ORDER BY ");
        query.push_str(&render(&user.order_by));
    }
    Wrapped::Query(query)
}

/// The CQL clauses (joined by AND) that mirror [`Policy::decide`] for `orgs`; `None` when no
/// article can be visible. A caller in several organizations sees what any one of them sees
/// (restrictions intersect per organization, DESIGN §1 rule 3), so their clause is the
/// disjunction of each organization's own clauses.
fn visibility_clauses(policy: &Policy, orgs: &OrgSet) -> Option<Vec<String>> {
    if orgs.iter().nth(1).is_none() {
        return single_org_clauses(policy, orgs);
    }
    let each: Vec<String> = orgs
        .iter()
        .filter_map(|o| single_org_clauses(policy, &OrgSet::new([o.clone()])))
        .map(|clauses| format!("({})", clauses.join(" AND ")))
        .collect();
    if each.is_empty() {
        return None;
    }
    Some(vec![format!("({})", each.join(" OR "))])
}

/// [`visibility_clauses`] for a caller in at most one organization.
fn single_org_clauses(policy: &Policy, orgs: &OrgSet) -> Option<Vec<String>> {
    let mut out = vec![format!("label not in ({})", quote(&policy.internal_label))];

    let own_labels: Vec<String> = orgs
        .iter()
        .map(|o| quote(&policy.label_of_org(o)))
        .collect();
    let other_labels: Vec<String> = policy
        .known_orgs
        .iter()
        .filter(|o| !orgs.contains(o))
        .map(|o| quote(&policy.label_of_org(o)))
        .collect();
    match (own_labels.is_empty(), other_labels.is_empty()) {
        (_, true) => {}
        (true, false) => out.push(format!("label not in ({})", other_labels.join(", "))),
        (false, false) => out.push(format!(
            "(label in ({}) OR label not in ({}))",
            own_labels.join(", "),
            other_labels.join(", ")
        )),
    }

    let (own_roots, other_roots): (Vec<_>, Vec<_>) = policy
        .subtrees
        .iter()
        .partition(|(_, allowed)| orgs.intersects(allowed.iter()));
    if !other_roots.is_empty() {
        let ids: Vec<&str> = other_roots.iter().map(|(id, _)| id.as_str()).collect();
        out.push(format!(
            "ancestor not in ({0}) AND id not in ({0})",
            ids.join(", ")
        ));
    }
    let (own_spaces, other_spaces): (Vec<_>, Vec<_>) = policy
        .space_orgs
        .iter()
        .partition(|(_, allowed)| orgs.intersects(allowed.iter()));
    if !other_spaces.is_empty() {
        let keys: Vec<String> = other_spaces
            .iter()
            .map(|(k, _)| quote(k.as_str()))
            .collect();
        out.push(format!("space not in ({})", keys.join(", ")));
    }

    if policy.unmarked == Unmarked::Deny {
        let mut any_of = Vec::new();
        if !own_labels.is_empty() {
            any_of.push(format!("label in ({})", own_labels.join(", ")));
        }
        if !own_roots.is_empty() {
            let ids: Vec<&str> = own_roots.iter().map(|(id, _)| id.as_str()).collect();
            any_of.push(format!("ancestor in ({0}) OR id in ({0})", ids.join(", ")));
        }
        if !own_spaces.is_empty() {
            let keys: Vec<String> = own_spaces.iter().map(|(k, _)| quote(k.as_str())).collect();
            any_of.push(format!("space in ({})", keys.join(", ")));
        }
        if any_of.is_empty() {
            return None;
        }
        out.push(format!("({})", any_of.join(" OR ")));
    }
    Some(out)
}

/// Quotes a value as one CQL string literal, escaping `"` and `\`.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '*' | '?' | ':')
}

fn tokenize(input: &str) -> Result<Vec<Token>, CqlError> {
    let mut tokens = Vec::new();
    let mut chars = input.chars().peekable();
    while let Some(&c) = chars.peek() {
        if tokens.len() > MAX_TOKENS {
            return Err(CqlError::TooManyTokens);
        }
        match c {
            ' ' | '\t' | '\n' | '\r' => {
                chars.next();
            }
            '(' | ')' | ',' => {
                chars.next();
                tokens.push(match c {
                    '(' => Token::Open,
                    ')' => Token::Close,
                    _ => Token::Comma,
                });
            }
            '"' | '\'' => {
                chars.next();
                let mut value = String::new();
                loop {
                    match chars.next() {
                        None => return Err(CqlError::UnterminatedString),
                        Some('\\') => match chars.next() {
                            Some(escaped) if !escaped.is_control() => value.push(escaped),
                            Some(other) => return Err(CqlError::BadCharacter(other)),
                            None => return Err(CqlError::UnterminatedString),
                        },
                        Some(q) if q == c => break,
                        Some(ch) if ch.is_control() => return Err(CqlError::BadCharacter(ch)),
                        Some(ch) => value.push(ch),
                    }
                }
                tokens.push(Token::Str(value));
            }
            '=' | '~' | '<' | '>' | '!' => {
                chars.next();
                let op = match (c, chars.peek()) {
                    ('!', Some('=')) => "!=",
                    ('!', Some('~')) => "!~",
                    ('<', Some('=')) => "<=",
                    ('>', Some('=')) => ">=",
                    ('!', _) => return Err(CqlError::BadCharacter('!')),
                    ('=', _) => "=",
                    ('~', _) => "~",
                    ('<', _) => "<",
                    _ => ">",
                };
                if op.len() == 2 {
                    chars.next();
                }
                tokens.push(Token::Op(op));
            }
            c if is_word_char(c) => {
                let mut word = String::new();
                while let Some(&w) = chars.peek() {
                    if !is_word_char(w) {
                        break;
                    }
                    word.push(w);
                    chars.next();
                }
                tokens.push(Token::Word(word));
            }
            other => return Err(CqlError::BadCharacter(other)),
        }
    }
    Ok(tokens)
}

fn check_balance(tokens: &[Token]) -> Result<(), CqlError> {
    let mut depth: i32 = 0;
    for t in tokens {
        match t {
            Token::Open => depth += 1,
            Token::Close => {
                depth -= 1;
                if depth < 0 {
                    return Err(CqlError::Unbalanced);
                }
            }
            _ => {}
        }
    }
    if depth == 0 {
        Ok(())
    } else {
        Err(CqlError::Unbalanced)
    }
}

fn check_functions(tokens: &[Token]) -> Result<(), CqlError> {
    for pair in tokens.windows(2) {
        if let [Token::Word(w), Token::Open] = pair {
            let lower = w.to_ascii_lowercase();
            if !KEYWORDS.contains(&lower.as_str()) && !ALLOWED_FUNCTIONS.contains(&lower.as_str()) {
                return Err(CqlError::FunctionNotAllowed(w.clone()));
            }
        }
    }
    Ok(())
}

fn is_word(t: &Token, word: &str) -> bool {
    matches!(t, Token::Word(w) if w.eq_ignore_ascii_case(word))
}

/// Splits off a trailing `ORDER BY field [asc|desc], …` at depth 0; refuses it anywhere else.
fn split_order_by(mut tokens: Vec<Token>) -> Result<(Vec<Token>, Vec<Token>), CqlError> {
    let mut depth = 0;
    let mut at = None;
    for (i, t) in tokens.iter().enumerate() {
        match t {
            Token::Open => depth += 1,
            Token::Close => depth -= 1,
            _ if is_word(t, "order") && tokens.get(i + 1).is_some_and(|n| is_word(n, "by")) => {
                if depth != 0 || at.is_some() {
                    return Err(CqlError::MisplacedOrderBy);
                }
                at = Some(i);
            }
            _ => {}
        }
    }
    let Some(at) = at else {
        return Ok((tokens, Vec::new()));
    };
    let order: Vec<Token> = tokens.split_off(at).into_iter().skip(2).collect();
    // field [asc|desc] (, field [asc|desc])*
    let mut expect_field = true;
    let mut after_field = false;
    for t in &order {
        match t {
            Token::Word(w)
                if expect_field && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '.') =>
            {
                expect_field = false;
                after_field = true;
            }
            Token::Word(_) if after_field && (is_word(t, "asc") || is_word(t, "desc")) => {
                after_field = false;
            }
            Token::Comma if !expect_field => {
                expect_field = true;
                after_field = false;
            }
            _ => return Err(CqlError::MisplacedOrderBy),
        }
    }
    if expect_field {
        return Err(CqlError::MisplacedOrderBy);
    }
    Ok((tokens, order))
}

fn render(tokens: &[Token]) -> String {
    let mut out = String::new();
    let mut prev_open = true;
    let mut prev_function = false;
    for t in tokens {
        let call = prev_function && matches!(t, Token::Open);
        let glue = !(prev_open || call || matches!(t, Token::Close | Token::Comma));
        if glue {
            out.push(' ');
        }
        match t {
            Token::Word(w) => out.push_str(w),
            Token::Str(s) => out.push_str(&quote(s)),
            Token::Op(op) => out.push_str(op),
            Token::Open => out.push('('),
            Token::Close => out.push(')'),
            Token::Comma => out.push(','),
        }
        prev_open = matches!(t, Token::Open);
        prev_function =
            matches!(t, Token::Word(w) if !KEYWORDS.contains(&w.to_ascii_lowercase().as_str()));
    }
    out
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_prop;

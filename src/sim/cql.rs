//! The simulator's CQL evaluator: its own tokenizer and recursive-descent parser, and an
//! evaluator over the [`Corpus`].
//!
//! Supported: fields `space` (`space.key`), `label`, `ancestor` (strict descendants), `parent`,
//! `id`/`content`, `type`, `title` (`=` exact, `~` contains; case-insensitive), `text` and
//! `siteSearch` (`~`: every word in title + body, trailing `*` wildcard, plural `s` folded),
//! `created`/`lastmodified` (`= != < > <= >=` against `yyyy-MM-dd` or `now("-4w")`-style
//! functions, relative to [`dates::SIM_NOW`]); operators `= != ~ !~ IN NOT IN`; `AND`, `OR`,
//! `NOT`, parentheses (AND binds tighter than OR); quoted strings (`"…"`, `'…'`, `\` escapes);
//! a trailing `ORDER BY title|created|lastmodified|id [asc|desc], …`. Keywords are
//! case-insensitive.
//!
//! Like Confluence, a statement whose first clause is negative (`NOT …`, `x != …`,
//! `x not in …`, `x !~ …`) is refused, as is any syntax error, unknown field or function.
//! Guarantees: bounded work (input ≤ [`MAX_CQL`] bytes, nesting ≤ [`MAX_DEPTH`]).
//! Deliberately not: Confluence's full field list, relevance ranking or stemming.

/// Longest CQL accepted, in bytes.
pub const MAX_CQL: usize = 16 * 1024;
/// Deepest nesting of parentheses / `NOT` accepted.
pub const MAX_DEPTH: usize = 64;

/// Why a CQL statement was refused (every variant answers 400 "Could not parse cql").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CqlError {
    #[error("empty cql")]
    Empty,
    #[error("cql longer than {MAX_CQL} bytes")]
    TooLong,
    #[error("unterminated string")]
    Unterminated,
    #[error("unexpected character {0:?}")]
    BadChar(char),
    #[error("unexpected {found} where {expected} was expected")]
    Unexpected {
        expected: &'static str,
        found: String,
    },
    #[error("unknown field {0:?}")]
    UnknownField(String),
    #[error("operator {op} not supported for field {field}")]
    BadOperator { field: String, op: &'static str },
    #[error("function {0}() not supported here")]
    Function(String),
    #[error("a query cannot start with a negative clause")]
    LeadingNegative,
    #[error("query nested too deeply")]
    TooDeep,
    #[error("invalid date {0:?}")]
    BadDate(String),
    #[error("cannot order by {0:?}")]
    BadOrder(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    Word(String),
    Str(String),
    Op(&'static str),
    Open,
    Close,
    Comma,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Contains,
    NotContains,
    Lt,
    Gt,
    Le,
    Ge,
    In,
    NotIn,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Contains => "~",
            Op::NotContains => "!~",
            Op::Lt => "<",
            Op::Gt => ">",
            Op::Le => "<=",
            Op::Ge => ">=",
            Op::In => "in",
            Op::NotIn => "not in",
        }
    }

    fn is_negative(self) -> bool {
        matches!(self, Op::Ne | Op::NotContains | Op::NotIn)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Space,
    Label,
    Ancestor,
    Parent,
    Id,
    Type,
    Title,
    Text,
    Created,
    LastModified,
}

impl Field {
    fn parse(word: &str) -> Result<Field, CqlError> {
        Ok(match word.to_ascii_lowercase().as_str() {
            "space" | "space.key" => Field::Space,
            "label" => Field::Label,
            "ancestor" => Field::Ancestor,
            "parent" => Field::Parent,
            "id" | "content" => Field::Id,
            "type" => Field::Type,
            "title" => Field::Title,
            "text" | "sitesearch" => Field::Text,
            "created" => Field::Created,
            "lastmodified" => Field::LastModified,
            _ => return Err(CqlError::UnknownField(word.to_owned())),
        })
    }

    fn allows(self, op: Op) -> bool {
        use Op::*;
        match self {
            Field::Space
            | Field::Label
            | Field::Ancestor
            | Field::Parent
            | Field::Id
            | Field::Type => {
                matches!(op, Eq | Ne | In | NotIn)
            }
            Field::Title => matches!(op, Eq | Ne | Contains | NotContains | In | NotIn),
            Field::Text => matches!(op, Contains | NotContains),
            Field::Created | Field::LastModified => matches!(op, Eq | Ne | Lt | Gt | Le | Ge),
        }
    }
}

/// A clause's right-hand side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    Text(String),
    Func(String, Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Clause {
    pub field: Field,
    pub op: Op,
    pub values: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Expr {
    Clause(Clause),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OrderField {
    Title,
    Created,
    LastModified,
    Id,
}

/// A parsed CQL statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub(crate) expr: Expr,
    /// `(field, descending)` keys, in order.
    pub(crate) order: Vec<(OrderField, bool)>,
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '*' | '?' | ':' | '@' | '/' | '+')
}

/// Splits CQL into tokens.
pub(crate) fn tokenize(input: &str) -> Result<Vec<Tok>, CqlError> {
    let mut out = Vec::new();
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '(' => out.push(Tok::Open),
            ')' => out.push(Tok::Close),
            ',' => out.push(Tok::Comma),
            '"' | '\'' => {
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => return Err(CqlError::Unterminated),
                        Some('\\') => s.push(chars.next().ok_or(CqlError::Unterminated)?),
                        Some(q) if q == c => break,
                        Some(ch) => s.push(ch),
                    }
                }
                out.push(Tok::Str(s));
            }
            '=' | '~' | '<' | '>' | '!' => {
                let two = chars.peek().copied();
                let op = match (c, two) {
                    ('!', Some('=')) => "!=",
                    ('!', Some('~')) => "!~",
                    ('<', Some('=')) => "<=",
                    ('>', Some('=')) => ">=",
                    ('!', _) => return Err(CqlError::BadChar('!')),
                    ('=', _) => "=",
                    ('~', _) => "~",
                    ('<', _) => "<",
                    _ => ">",
                };
                if op.len() == 2 {
                    chars.next();
                }
                out.push(Tok::Op(op));
            }
            c if is_word_char(c) => {
                let mut w = String::from(c);
                while let Some(&n) = chars.peek() {
                    if !is_word_char(n) {
                        break;
                    }
                    w.push(n);
                    chars.next();
                }
                out.push(Tok::Word(w));
            }
            other => return Err(CqlError::BadChar(other)),
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
}

fn describe(t: Option<&Tok>) -> String {
    match t {
        None => "end of query".to_owned(),
        Some(Tok::Word(w)) => format!("word {w:?}"),
        Some(Tok::Str(s)) => format!("string {s:?}"),
        Some(Tok::Op(o)) => format!("operator {o}"),
        Some(Tok::Open) => "'('".to_owned(),
        Some(Tok::Close) => "')'".to_owned(),
        Some(Tok::Comma) => "','".to_owned(),
    }
}

const KEYWORDS: &[&str] = &["and", "or", "not", "in", "order", "by"];

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn peek_keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
    }

    fn keyword_at(&self, at: usize, kw: &str) -> bool {
        matches!(self.toks.get(at), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn unexpected(&self, expected: &'static str) -> CqlError {
        CqlError::Unexpected {
            expected,
            found: describe(self.peek()),
        }
    }

    fn expect(&mut self, tok: &Tok, expected: &'static str) -> Result<(), CqlError> {
        if self.peek() == Some(tok) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected(expected))
        }
    }

    fn enter(&mut self) -> Result<(), CqlError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(CqlError::TooDeep);
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Expr, CqlError> {
        let mut left = self.and()?;
        while self.peek_keyword("or") {
            self.pos += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, CqlError> {
        let mut left = self.not()?;
        while self.peek_keyword("and") {
            self.pos += 1;
            left = Expr::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, CqlError> {
        self.enter()?;
        let out = if self.peek_keyword("not") {
            self.pos += 1;
            Expr::Not(Box::new(self.not()?))
        } else if self.peek() == Some(&Tok::Open) {
            self.pos += 1;
            let e = self.or()?;
            self.expect(&Tok::Close, "')'")?;
            e
        } else {
            Expr::Clause(self.clause()?)
        };
        self.depth -= 1;
        Ok(out)
    }

    fn clause(&mut self) -> Result<Clause, CqlError> {
        let field = match self.peek() {
            Some(Tok::Word(w)) if !KEYWORDS.contains(&w.to_ascii_lowercase().as_str()) => {
                Field::parse(w)?
            }
            _ => return Err(self.unexpected("a field name")),
        };
        let field_name = describe(self.peek());
        self.pos += 1;
        let op = match self.next() {
            Some(Tok::Op(o)) => match o {
                "=" => Op::Eq,
                "!=" => Op::Ne,
                "~" => Op::Contains,
                "!~" => Op::NotContains,
                "<" => Op::Lt,
                ">" => Op::Gt,
                "<=" => Op::Le,
                _ => Op::Ge,
            },
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("in") => Op::In,
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("not") && self.peek_keyword("in") => {
                self.pos += 1;
                Op::NotIn
            }
            _ => {
                self.pos -= 1;
                return Err(self.unexpected("an operator"));
            }
        };
        if !field.allows(op) {
            return Err(CqlError::BadOperator {
                field: field_name,
                op: op.name(),
            });
        }
        let values = if matches!(op, Op::In | Op::NotIn) {
            self.expect(&Tok::Open, "'(' after IN")?;
            let mut values = vec![self.value()?];
            while self.peek() == Some(&Tok::Comma) {
                self.pos += 1;
                values.push(self.value()?);
            }
            self.expect(&Tok::Close, "')' closing the IN list")?;
            values
        } else {
            vec![self.value()?]
        };
        Ok(Clause { field, op, values })
    }

    fn value(&mut self) -> Result<Value, CqlError> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(Value::Text(s)),
            Some(Tok::Word(w)) if !KEYWORDS.contains(&w.to_ascii_lowercase().as_str()) => {
                if self.peek() != Some(&Tok::Open) {
                    return Ok(Value::Text(w));
                }
                self.pos += 1;
                let mut args = Vec::new();
                while self.peek() != Some(&Tok::Close) {
                    match self.next() {
                        Some(Tok::Str(s) | Tok::Word(s)) => args.push(s),
                        _ => {
                            self.pos -= 1;
                            return Err(self.unexpected("a function argument"));
                        }
                    }
                    if self.peek() == Some(&Tok::Comma) {
                        self.pos += 1;
                    }
                }
                self.pos += 1;
                Ok(Value::Func(w, args))
            }
            _ => {
                self.pos -= 1;
                Err(self.unexpected("a value"))
            }
        }
    }

    fn order_by(&mut self) -> Result<Vec<(OrderField, bool)>, CqlError> {
        let mut keys = Vec::new();
        loop {
            let field = match self.next() {
                Some(Tok::Word(w)) => match w.to_ascii_lowercase().as_str() {
                    "title" => OrderField::Title,
                    "created" => OrderField::Created,
                    "lastmodified" => OrderField::LastModified,
                    "id" | "content" => OrderField::Id,
                    _ => return Err(CqlError::BadOrder(w)),
                },
                other => return Err(CqlError::BadOrder(describe(other.as_ref()))),
            };
            let desc = if self.peek_keyword("desc") {
                self.pos += 1;
                true
            } else {
                if self.peek_keyword("asc") {
                    self.pos += 1;
                }
                false
            };
            keys.push((field, desc));
            if self.peek() != Some(&Tok::Comma) {
                return Ok(keys);
            }
            self.pos += 1;
        }
    }
}

fn leftmost_negative(e: &Expr) -> bool {
    match e {
        Expr::Not(_) => true,
        Expr::And(l, _) | Expr::Or(l, _) => leftmost_negative(l),
        Expr::Clause(c) => c.op.is_negative(),
    }
}

impl Query {
    /// Parses a CQL statement, refusing what Confluence refuses.
    pub fn parse(cql: &str) -> Result<Query, CqlError> {
        if cql.len() > MAX_CQL {
            return Err(CqlError::TooLong);
        }
        let toks = tokenize(cql)?;
        if toks.is_empty() {
            return Err(CqlError::Empty);
        }
        let mut p = Parser {
            toks,
            pos: 0,
            depth: 0,
        };
        let expr = p.or()?;
        let order = if p.peek_keyword("order") && p.keyword_at(p.pos + 1, "by") {
            p.pos += 2;
            p.order_by()?
        } else {
            Vec::new()
        };
        if p.peek().is_some() {
            return Err(p.unexpected("AND, OR, ORDER BY or the end of the query"));
        }
        if leftmost_negative(&expr) {
            return Err(CqlError::LeadingNegative);
        }
        super::cql_eval::check_values(&expr)?;
        Ok(Query { expr, order })
    }
}

#[cfg(test)]
#[path = "cql_tests.rs"]
mod tests;

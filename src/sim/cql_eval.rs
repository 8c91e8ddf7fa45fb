//! Evaluation of a parsed CQL [`Query`] over the [`Corpus`]: matching, scoring, ordering and the
//! words to highlight.
//!
//! Guarantees: evaluation never fails (values were checked when parsing) and visits each item
//! once per clause. Deliberately not: Lucene — text matching is word-based with a trailing `*`
//! wildcard and plural folding, scores count term hits (title hits weigh 3).

use super::corpus::{Corpus, SimItem};
use super::cql::{CqlError, Expr, Field, Op, OrderField, Query, Value};
use super::dates;

impl Query {
    /// Whether `item` matches the statement.
    pub fn matches(&self, corpus: &Corpus, item: &SimItem) -> bool {
        eval(&self.expr, corpus, item)
    }

    /// Lower-cased words of positive `text ~` / `title ~` clauses (for highlighting, scoring).
    pub fn text_terms(&self) -> Vec<String> {
        let mut out = Vec::new();
        collect_terms(&self.expr, false, &mut out);
        out
    }

    /// Every matching item with its score, in the statement's order (default: score, then
    /// table order).
    pub fn run<'c>(&self, corpus: &'c Corpus) -> Vec<(&'c SimItem, f64)> {
        let terms = self.text_terms();
        let mut hits: Vec<(&SimItem, f64)> = corpus
            .items()
            .iter()
            .filter(|i| self.matches(corpus, i))
            .map(|i| (i, score(i, &terms)))
            .collect();
        if self.order.is_empty() {
            hits.sort_by(|a, b| b.1.total_cmp(&a.1));
            return hits;
        }
        hits.sort_by(|(a, _), (b, _)| {
            for &(field, desc) in &self.order {
                let ord = match field {
                    OrderField::Title => a.title.to_lowercase().cmp(&b.title.to_lowercase()),
                    OrderField::Created => a.created.cmp(&b.created),
                    OrderField::LastModified => a.last_modified.cmp(&b.last_modified),
                    OrderField::Id => {
                        a.id.parse::<u64>()
                            .unwrap_or(0)
                            .cmp(&b.id.parse::<u64>().unwrap_or(0))
                    }
                };
                let ord = if desc { ord.reverse() } else { ord };
                if ord.is_ne() {
                    return ord;
                }
            }
            std::cmp::Ordering::Equal
        });
        hits
    }
}

/// Rejects functions on non-date fields, unknown functions and bad dates up front, so that
/// evaluation itself cannot fail.
pub(super) fn check_values(e: &Expr) -> Result<(), CqlError> {
    match e {
        Expr::Not(inner) => check_values(inner),
        Expr::And(l, r) | Expr::Or(l, r) => check_values(l).and_then(|()| check_values(r)),
        Expr::Clause(c) => {
            for v in &c.values {
                match (c.field, v) {
                    (Field::Created | Field::LastModified, v) => {
                        date_value(v)?;
                    }
                    (_, Value::Func(name, _)) => return Err(CqlError::Function(name.clone())),
                    (_, Value::Text(_)) => {}
                }
            }
            Ok(())
        }
    }
}

pub(super) fn date_value(v: &Value) -> Result<i64, CqlError> {
    match v {
        Value::Text(t) => dates::parse_cql_date(t).ok_or_else(|| CqlError::BadDate(t.clone())),
        Value::Func(name, args) => {
            let lower = name.to_ascii_lowercase();
            let known =
                lower == "now" || lower.starts_with("startof") || lower.starts_with("endof");
            if !known || args.len() > 1 {
                return Err(CqlError::Function(name.clone()));
            }
            let offset = match args.first() {
                Some(a) => dates::parse_offset(a).ok_or_else(|| CqlError::BadDate(a.clone()))?,
                None => 0,
            };
            Ok(dates::SIM_NOW + offset)
        }
    }
}

fn text_of(v: &Value) -> &str {
    match v {
        Value::Text(t) => t,
        Value::Func(name, _) => name,
    }
}

/// Lower-cases and folds a trailing plural `s` (`Invoices` → `invoice`).
pub(crate) fn normalize_word(w: &str) -> String {
    let lower = w.to_lowercase();
    match lower.strip_suffix('s') {
        Some(stem) if stem.chars().count() >= 3 && !stem.ends_with('s') => stem.to_owned(),
        _ => lower,
    }
}

/// The words of a text, split on anything that is not alphanumeric.
pub(crate) fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

pub(crate) fn word_hit(doc_word: &str, term: &str) -> bool {
    match term.strip_suffix('*') {
        Some(prefix) => doc_word.to_lowercase().starts_with(prefix),
        None => normalize_word(doc_word) == normalize_word(term),
    }
}

fn text_matches(haystack: &str, query: &str) -> bool {
    let terms: Vec<String> = query
        .split_whitespace()
        .flat_map(|t| {
            let star = t.ends_with('*');
            let ws: Vec<String> = words(t).map(str::to_lowercase).collect();
            let last = ws.len().saturating_sub(1);
            ws.into_iter()
                .enumerate()
                .map(move |(i, w)| if star && i == last { w + "*" } else { w })
        })
        .collect();
    !terms.is_empty()
        && terms
            .iter()
            .all(|t| words(haystack).any(|w| word_hit(w, t)))
}

fn positive_hit(field: Field, op: Op, v: &Value, corpus: &Corpus, item: &SimItem) -> bool {
    let t = text_of(v);
    match field {
        Field::Space => item.space_key.eq_ignore_ascii_case(t),
        Field::Label => item.labels.iter().any(|l| l.eq_ignore_ascii_case(t)),
        Field::Ancestor => corpus.ancestors(&item.id).iter().any(|a| a.id == t),
        Field::Parent => item.parent_id.as_deref() == Some(t),
        Field::Id => item.id == t,
        Field::Type => item.kind.as_str().eq_ignore_ascii_case(t),
        Field::Title if matches!(op, Op::Contains | Op::NotContains) => {
            let needle = t.trim_end_matches('*').to_lowercase();
            item.title.to_lowercase().contains(&needle) || text_matches(&item.title, t)
        }
        Field::Title => item.title.to_lowercase() == t.to_lowercase(),
        Field::Text => text_matches(&format!("{}\n{}", item.title, item.text), t),
        Field::Created | Field::LastModified => {
            let at = if field == Field::Created {
                item.created
            } else {
                item.last_modified
            };
            let Ok(when) = date_value(v) else {
                return false;
            };
            match op {
                Op::Lt => at < when,
                Op::Gt => at > when,
                Op::Le => at <= when,
                Op::Ge => at >= when,
                _ => at.div_euclid(86_400) == when.div_euclid(86_400),
            }
        }
    }
}

fn eval(e: &Expr, corpus: &Corpus, item: &SimItem) -> bool {
    match e {
        Expr::Not(inner) => !eval(inner, corpus, item),
        Expr::And(l, r) => eval(l, corpus, item) && eval(r, corpus, item),
        Expr::Or(l, r) => eval(l, corpus, item) || eval(r, corpus, item),
        Expr::Clause(c) => {
            let any = c
                .values
                .iter()
                .any(|v| positive_hit(c.field, c.op, v, corpus, item));
            match c.op {
                Op::Ne | Op::NotContains | Op::NotIn => !any,
                Op::Eq | Op::Contains | Op::In => any,
                // Date comparisons: `any` already applied the comparison.
                Op::Lt | Op::Gt | Op::Le | Op::Ge => any,
            }
        }
    }
}

fn collect_terms(e: &Expr, negated: bool, out: &mut Vec<String>) {
    match e {
        Expr::Not(inner) => collect_terms(inner, !negated, out),
        Expr::And(l, r) | Expr::Or(l, r) => {
            collect_terms(l, negated, out);
            collect_terms(r, negated, out);
        }
        Expr::Clause(c) if !negated && c.op == Op::Contains => {
            for v in &c.values {
                for w in words(text_of(v)) {
                    let w = w.to_lowercase();
                    if !out.contains(&w) {
                        out.push(w);
                    }
                }
            }
        }
        Expr::Clause(_) => {}
    }
}

fn score(item: &SimItem, terms: &[String]) -> f64 {
    let count = |text: &str| {
        terms
            .iter()
            .map(|t| words(text).filter(|w| word_hit(w, t)).count())
            .sum::<usize>()
    };
    1.0 + 3.0 * count(&item.title) as f64 + count(&item.text) as f64
}

//! Table tests for the simulator's CQL parser and evaluator.

use super::*;
use crate::sim::corpus::Corpus;

fn corpus() -> Corpus {
    Corpus::generate(7)
}

fn ids(cql: &str) -> Vec<String> {
    let corpus = corpus();
    let q = Query::parse(cql).unwrap_or_else(|e| panic!("{cql:?} should parse: {e}"));
    q.run(&corpus)
        .into_iter()
        .map(|(i, _)| i.id.clone())
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn and_binds_tighter_than_or() {
    assert_eq!(
        ids("id = 100003 OR id = 100004 AND label = invoice"),
        strs(&["100003"])
    );
    assert_eq!(
        ids("(id = 100003 OR id = 100008) AND label = invoice"),
        strs(&["100008"])
    );
    assert_eq!(
        sorted(ids("id = 100003 or id = 100004 and label = vpn")),
        strs(&["100003", "100004"])
    );
}

#[test]
fn keywords_are_case_insensitive() {
    assert_eq!(
        sorted(ids("space = KB and type = blogpost Or id = 300005")),
        strs(&["100040", "100041", "100042", "300005"])
    );
    assert_eq!(ids("SPACE = kb AND Title = \"Billing\""), strs(&["100007"]));
}

#[test]
fn quoted_strings_honour_backslash_escapes_in_both_quote_styles() {
    let title = "100030";
    assert_eq!(
        ids(r#"title = "Using \"quotes\" & <brackets> in passwords""#),
        strs(&[title])
    );
    assert_eq!(
        ids(r#"title = 'Using "quotes" & <brackets> in passwords'"#),
        strs(&[title])
    );
    assert_eq!(
        ids(r#"title = 'Using \"quotes\" \& <brackets> in passwords'"#),
        strs(&[title])
    );
    assert!(ids(r#"title = 'it\'s'"#).is_empty());
    assert_eq!(
        Query::parse(r#"title = "open"#),
        Err(CqlError::Unterminated)
    );
    assert_eq!(
        Query::parse(r#"title = "ends in backslash\"#),
        Err(CqlError::Unterminated)
    );
}

#[test]
fn not_in_excludes_every_listed_value() {
    let got = ids(
        r#"space = KB AND label not in ("org-acme", "org-globex", org-initech, "kb-internal")"#,
    );
    assert!(
        got.contains(&"100013".to_owned()),
        "unlabelled pages match NOT IN"
    );
    let corpus = corpus();
    for id in &got {
        let item = corpus.get(id).unwrap();
        assert!(
            !item
                .labels
                .iter()
                .any(|l| l.starts_with("org-") || l == "kb-internal"),
            "{id} has an excluded label"
        );
    }
    assert!(!got.contains(&"100011".to_owned()));
    assert!(ids("space = KB AND label in (\"org-acme\")").contains(&"100011".to_owned()));
}

#[test]
fn ancestor_matches_strict_descendants_only() {
    assert_eq!(
        sorted(ids("ancestor = 100012")),
        strs(&["100013", "100014", "100015", "100016"])
    );
    let initech = ids("ancestor = 200000");
    assert!(!initech.contains(&"200000".to_owned()));
    assert_eq!(initech.len(), 5);
    assert_eq!(sorted(ids("parent = 100012")), strs(&["100013", "100015"]));
    assert!(ids("space = KB AND ancestor not in (200000, 100001)")
        .iter()
        .all(|id| id != "100005"));
}

#[test]
fn a_leading_negative_clause_is_refused_like_confluence() {
    for cql in [
        "NOT label = x",
        "label != x",
        "label not in (x, y)",
        "title !~ vpn",
        "(NOT space = KB) AND type = page",
        "(label != a OR space = KB)",
    ] {
        assert_eq!(Query::parse(cql), Err(CqlError::LeadingNegative), "{cql}");
    }
    assert!(Query::parse("space = KB AND NOT label = x").is_ok());
    assert!(Query::parse("space = KB AND label != x").is_ok());
}

#[test]
fn order_by_sorts_and_rejects_unknown_fields() {
    let by_title = ids("space = KB AND type = page ORDER BY title");
    let corpus = corpus();
    let titles: Vec<String> = by_title
        .iter()
        .map(|id| corpus.get(id).unwrap().title.to_lowercase())
        .collect();
    let mut expected = titles.clone();
    expected.sort();
    assert_eq!(titles, expected);
    let desc = ids("space = ENG order by id desc");
    assert_eq!(
        desc,
        strs(&["300005", "300004", "300003", "300002", "300001"])
    );
    let two = ids("space = KB ORDER BY lastmodified DESC, id asc");
    let stamps: Vec<i64> = two
        .iter()
        .map(|id| corpus.get(id).unwrap().last_modified)
        .collect();
    assert!(stamps.windows(2).all(|w| w[0] >= w[1]));
    assert!(matches!(
        Query::parse("space = KB ORDER BY bogus"),
        Err(CqlError::BadOrder(_))
    ));
    assert!(Query::parse("space = KB ORDER BY").is_err());
    assert!(Query::parse("space = KB ORDER BY title sideways").is_err());
}

#[test]
fn syntax_errors_unknown_fields_and_functions_are_refused() {
    for cql in [
        "",
        "   ",
        "space =",
        "space KB",
        "(space = KB",
        "space = KB)",
        "space = KB AND",
        "space = KB ORDER title",
        "foo = bar",
        "text = vpn",
        "space ~ KB",
        "label = currentUser()",
        "label in ()",
        "space = KB; DROP",
        "space = and",
        "created > now(\"-4x\")",
        "created > \"yesterday\"",
    ] {
        assert!(Query::parse(cql).is_err(), "{cql:?} should be refused");
    }
    let deep = format!(
        "{}space = KB{}",
        "(".repeat(MAX_DEPTH + 1),
        ")".repeat(MAX_DEPTH + 1)
    );
    assert_eq!(Query::parse(&deep), Err(CqlError::TooDeep));
    assert_eq!(
        Query::parse(&"x".repeat(MAX_CQL + 1)),
        Err(CqlError::TooLong)
    );
}

#[test]
fn text_search_needs_every_word_and_folds_plurals_and_wildcards() {
    let corpus = corpus();
    let both = ids(r#"text ~ "VPN password""#);
    assert!(both.contains(&"100004".to_owned()));
    for id in &both {
        let item = corpus.get(id).unwrap();
        let hay = format!("{} {}", item.title, item.text).to_lowercase();
        assert!(hay.contains("vpn") && hay.contains("password"), "{id}");
    }
    assert_eq!(ids(r#"siteSearch ~ "VPN password""#), both);
    assert!(ids(r#"text ~ "invoices""#).contains(&"100009".to_owned()));
    assert!(ids(r#"text ~ "passw*""#).contains(&"100003".to_owned()));
    assert!(ids(r#"title ~ "vpn gateway""#).contains(&"100005".to_owned()));
}

#[test]
fn date_fields_compare_against_literals_and_now() {
    let kb = ids("space = KB").len();
    assert_eq!(ids(r#"space = KB AND created >= "2024-01-01""#).len(), kb);
    assert!(ids(r#"lastmodified < "2000/01/01""#).is_empty());
    assert!(ids(r#"created > now("+1000w")"#).is_empty());
    assert_eq!(ids(r#"space = KB AND created < now()"#).len(), kb);
}

#[test]
fn kbgates_wrapper_shape_returns_exactly_what_the_audience_model_allows() {
    let corpus = corpus();
    let cql = r#"space in ("KB") AND type in (page, blogpost) AND (text ~ "vpn") AND label not in ("kb-internal") AND (label in ("org-acme") OR label not in ("org-globex", "org-initech")) AND ancestor not in (200000) AND id not in (200000)"#;
    let got = sorted(ids(cql));
    let visible = corpus.visible_ids_for(&["acme"]);
    let vpn = sorted(ids(r#"text ~ "vpn""#));
    let expected: Vec<String> = vpn.into_iter().filter(|id| visible.contains(id)).collect();
    assert_eq!(got, expected);
    assert!(got.contains(&"100005".to_owned()) && got.contains(&"100023".to_owned()));
}

#[test]
fn highlight_terms_come_from_positive_contains_clauses_only() {
    let q = Query::parse(r#"text ~ "VPN Gateway" AND NOT title ~ "acme" AND space = KB"#).unwrap();
    assert_eq!(q.text_terms(), strs(&["vpn", "gateway"]));
}

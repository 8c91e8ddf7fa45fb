//! The CQL wrapper: injection attempts never escape the wrapper, and the wrapper mirrors the policy.

use super::*;
use crate::ids::{ContentId, OrgId, SpaceKey};
use crate::policy::Unmarked;

fn org(s: &str) -> OrgId {
    OrgId::new(s).unwrap()
}

fn policy() -> Policy {
    Policy {
        spaces: [SpaceKey::new("KB").unwrap()].into(),
        label_prefix: "org-".into(),
        internal_label: "kb-internal".into(),
        unmarked: Unmarked::Shared,
        subtrees: [(ContentId::new("200000").unwrap(), vec![org("initech")])].into(),
        space_orgs: Default::default(),
        known_orgs: [org("acme"), org("globex"), org("initech")].into(),
    }
}

fn wrapped(user: &str, orgs: &[&str]) -> String {
    let cql = UserCql::parse(user).unwrap();
    match wrap(&policy(), &OrgSet::new(orgs.iter().map(|o| org(o))), &cql) {
        Wrapped::Query(q) => q,
        Wrapped::MatchesNothing => panic!("matches nothing"),
    }
}

#[test]
fn wrapper_starts_positive_and_excludes_other_orgs() {
    assert_eq!(
        wrapped("text ~ \"vpn\"", &["acme"]),
        "space in (\"KB\") AND type in (page, blogpost) AND (text ~ \"vpn\") AND \
         label not in (\"kb-internal\") AND (label in (\"org-acme\") OR label not in \
         (\"org-globex\", \"org-initech\")) AND ancestor not in (200000) AND id not in (200000)"
    );
}

#[test]
fn no_org_caller_excludes_every_org_label() {
    let q = wrapped("type = page", &[]);
    assert!(
        q.contains("label not in (\"org-acme\", \"org-globex\", \"org-initech\")"),
        "{q}"
    );
    assert!(!q.contains("label in ("), "{q}");
}

#[test]
fn subtree_owner_is_not_excluded_from_its_subtree() {
    let q = wrapped("type = page", &["initech"]);
    assert!(!q.contains("ancestor not in"), "{q}");
}

#[test]
fn order_by_is_moved_to_the_end() {
    let q = wrapped("text ~ vpn ORDER BY lastmodified desc, title", &["acme"]);
    assert!(q.ends_with(") ORDER BY lastmodified desc, title"), "{q}");
    assert!(q.contains("AND (text ~ vpn) AND"), "{q}");
}

#[test]
fn strings_are_re_escaped_as_exactly_one_literal() {
    let q = wrapped(r#"title = "a\"b\\" "#, &["acme"]);
    assert!(q.contains(r#"(title = "a\"b\\")"#), "{q}");
    let q = wrapped("title = 'it''s'", &["acme"]);
    assert!(q.contains(r#"(title = "it" "s")"#), "{q}");
}

#[test]
fn injection_attempts_are_refused() {
    let cases: &[(&str, CqlError)] = &[
        ("", CqlError::Empty),
        ("   ", CqlError::Empty),
        ("text ~ x) OR (space = ENG", CqlError::Unbalanced),
        ("(text ~ x", CqlError::Unbalanced),
        (")(", CqlError::Unbalanced),
        ("title = \"unterminated", CqlError::UnterminatedString),
        ("title = \"x\\", CqlError::UnterminatedString),
        ("text ~ x; DROP", CqlError::BadCharacter(';')),
        ("text ~ x | y", CqlError::BadCharacter('|')),
        (
            "id = 1 ORDER BY title OR label = org-globex",
            CqlError::MisplacedOrderBy,
        ),
        ("(id = 1 ORDER BY title)", CqlError::MisplacedOrderBy),
        ("ORDER BY title", CqlError::Empty),
        ("id = 1 ORDER BY", CqlError::MisplacedOrderBy),
        (
            "id = 1 ORDER BY title ORDER BY id",
            CqlError::MisplacedOrderBy,
        ),
        ("id = 1 ORDER BY (title)", CqlError::MisplacedOrderBy),
        ("id = 1 ORDER BY \"title\"", CqlError::MisplacedOrderBy),
        (
            "id in recentlyViewedContent(10)",
            CqlError::FunctionNotAllowed("recentlyViewedContent".into()),
        ),
        (
            "creator = currentUser()",
            CqlError::FunctionNotAllowed("currentUser".into()),
        ),
        ("text ~ \"a\u{0}b\"", CqlError::BadCharacter('\u{0}')),
    ];
    for (input, want) in cases {
        assert_eq!(UserCql::parse(input).unwrap_err(), *want, "{input:?}");
    }
    assert_eq!(
        UserCql::parse(&"a".repeat(MAX_USER_CQL + 1)).unwrap_err(),
        CqlError::TooLong
    );
}

#[test]
fn or_escapes_stay_inside_the_parentheses() {
    let q = wrapped(
        "text ~ vpn OR label = \"org-globex\" OR space = ENG",
        &["acme"],
    );
    assert!(
        q.contains("AND (text ~ vpn OR label = \"org-globex\" OR space = ENG) AND label not in"),
        "{q}"
    );
}

#[test]
fn date_functions_are_allowed() {
    let q = wrapped("lastmodified > startOfMonth(\"-1M\")", &["acme"]);
    assert!(q.contains("(lastmodified > startOfMonth(\"-1M\"))"), "{q}");
}

#[test]
fn unmarked_deny_without_orgs_matches_nothing() {
    let mut p = policy();
    p.unmarked = Unmarked::Deny;
    let cql = UserCql::parse("type = page").unwrap();
    assert_eq!(wrap(&p, &OrgSet::default(), &cql), Wrapped::MatchesNothing);
    match wrap(&p, &OrgSet::new([org("initech")]), &cql) {
        Wrapped::Query(q) => {
            assert!(
                q.ends_with(
                    "(label in (\"org-initech\") OR ancestor in (200000) OR id in (200000))"
                ),
                "{q}"
            )
        }
        Wrapped::MatchesNothing => panic!("initech owns a subtree"),
    }
}

#[test]
fn user_cql_round_trips_through_tokens() {
    let cql = UserCql::parse("  (type=page)and title~\"x y\" ORDER BY title asc").unwrap();
    assert_eq!(
        cql.to_cql(),
        "(type = page) and title ~ \"x y\" ORDER BY title asc"
    );
    assert_eq!(UserCql::parse(&cql.to_cql()).unwrap(), cql);
}

fn wrapped_with(cql: &UserCql) -> String {
    match wrap(&policy(), &OrgSet::new([org("acme")]), cql) {
        Wrapped::Query(q) => q,
        Wrapped::MatchesNothing => String::new(),
    }
}

proptest::proptest! {
    #[test]
    fn any_accepted_input_stays_one_parenthesized_group(input in "[ a-z0-9=~()\"',!<>\\\\]{0,60}") {
        if let Ok(cql) = UserCql::parse(&input) {
            let q = wrapped_with(&cql);
            let user = render(&cql.filter);
            let needle = format!(" AND ({user}) AND label not in (\"kb-internal\")");
            proptest::prop_assert!(q.contains(&needle), "{}", q);
            let mut depth = 0i32;
            for t in &cql.filter {
                match t { Token::Open => depth += 1, Token::Close => depth -= 1, _ => {} }
                proptest::prop_assert!(depth >= 0);
            }
            proptest::prop_assert_eq!(depth, 0);
            // Re-parsing the rendered query yields the same tokens: nothing was re-interpreted.
            proptest::prop_assert_eq!(UserCql::parse(&cql.to_cql()).unwrap(), cql);
        }
    }

    #[test]
    fn quote_yields_exactly_one_literal(value in "\\PC{0,40}") {
        let quoted = quote(&value);
        proptest::prop_assert_eq!(tokenize(&quoted).unwrap(), vec![Token::Str(value)]);
    }
}

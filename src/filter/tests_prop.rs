//! Property tests of the filter.
//!
//! 1. Random search answers (a random mix of ids, ancestors, breadcrumbs, parents, non-page
//!    results) × random visible sets: only visible ids come out, nothing visible is lost, counts
//!    are exact, and a marker planted in every hidden item's text never reaches the output.
//! 2. The scanner accepts exactly the documents serde_json accepts.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::json::Cursor;
use super::test_fixtures::{result_value, search_value, Crumb, Item, Ref, BASE, SELF};
use super::*;
use crate::ids::ContentId;
use crate::policy::Labels;

pub(super) const POOL: usize = 12;
const MARK: &str = "SECRET";

pub(super) fn pool_id(i: usize) -> String {
    (1000 + i).to_string()
}

/// What kind of upstream result to generate.
#[derive(Clone, Debug)]
enum Kind {
    Page,
    Attachment,
    SpaceResult,
}

#[derive(Clone, Debug)]
pub(super) struct GenResult {
    kind: Kind,
    id: usize,
    ancestors: Vec<usize>,
    /// `None` = space root, `Some(i)` = page `i`; by-title crumbs are added separately.
    crumbs: Vec<Option<usize>>,
    by_title_crumb: bool,
    parent: Option<usize>,
    labels: Vec<u8>,
    labels_complete: bool,
}

pub(super) fn gen_result() -> impl Strategy<Value = GenResult> {
    let kind = prop_oneof![8 => Just(Kind::Page), 1 => Just(Kind::Attachment), 1 => Just(Kind::SpaceResult)];
    let ids = || prop::collection::vec(0..POOL, 0..4);
    (
        kind,
        0..POOL,
        ids(),
        prop::collection::vec(prop::option::of(0..POOL), 0..4),
        any::<bool>(),
        prop::option::of(0..POOL),
        prop::collection::vec(any::<u8>(), 0..3),
        any::<bool>(),
    )
        .prop_map(
            |(kind, id, ancestors, crumbs, by_title_crumb, parent, labels, labels_complete)| {
                GenResult {
                    kind,
                    id,
                    ancestors,
                    crumbs,
                    by_title_crumb,
                    parent,
                    labels,
                    labels_complete,
                }
            },
        )
}

/// A title that carries the marker exactly when the id is hidden.
fn title_of(i: usize, visible: &dyn Fn(usize) -> bool) -> String {
    if visible(i) {
        format!("Visible page {i}")
    } else {
        format!("{MARK}{i}X hidden page")
    }
}

pub(super) fn build(g: &GenResult, visible: &dyn Fn(usize) -> bool) -> Value {
    let r = |i: usize| Ref {
        id: pool_id(i),
        title: title_of(i, visible),
    };
    let mut crumbs: Vec<Crumb> = g
        .crumbs
        .iter()
        .map(|c| c.map_or(Crumb::SpaceRoot, |i| Crumb::Page(r(i))))
        .collect();
    if g.by_title_crumb {
        crumbs.push(Crumb::ByTitle(format!("{MARK} by title")));
    }
    let item = Item {
        id: pool_id(g.id),
        title: match g.kind {
            Kind::Page => title_of(g.id, visible),
            _ => format!("{MARK} never a page"),
        },
        labels: g.labels.iter().map(|l| format!("label-{l}")).collect(),
        labels_complete: g.labels_complete,
        ancestors: g.ancestors.iter().map(|&i| r(i)).collect(),
        crumbs,
        parent: g.parent.map(r),
    };
    let leak = format!("{MARK}LEAK");
    match g.kind {
        Kind::Page => result_value(&item, &leak),
        Kind::Attachment => {
            let mut v = result_value(&item, &leak);
            v["content"]["type"] = json!("attachment");
            v
        }
        Kind::SpaceResult => json!({
            "space": {"key": "OTHER", "name": item.title},
            "title": item.title, "excerpt": item.title, "entityType": "space",
            "url": "/spaces/OTHER", "resultGlobalContainer": {"title": item.title, "displayUrl": "/spaces/OTHER"}
        }),
    }
}

fn ids_of(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_owned())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn only_visible_items_and_references_survive_with_exact_counts(
        gens in prop::collection::vec(gen_result(), 0..8),
        mask in any::<u16>(),
        extra_total in prop::option::of(0u64..100),
        next in any::<bool>(),
    ) {
        let visible = |i: usize| mask & (1 << i) != 0;
        let results: Vec<Value> = gens.iter().map(|g| build(g, &visible)).collect();
        let upstream_total = extra_total.map(|e| e + gens.len() as u64);
        let body = serde_json::to_vec(&search_value(results, upstream_total, next, "SECRETLEAK")).unwrap();
        let visible_ids: std::collections::HashSet<ContentId> =
            (0..POOL).filter(|&i| visible(i)).map(|i| ContentId::new(&pool_id(i)).unwrap()).collect();

        let scan = scan_search(&body).unwrap();
        prop_assert_eq!(scan.has_next(), next);
        for (g, r) in gens.iter().zip(scan.results()) {
            match (&g.kind, r.meta()) {
                (Kind::Page, Some(meta)) => {
                    let complete = matches!(meta.labels, Labels::Complete(_));
                    prop_assert_eq!(complete, g.labels_complete);
                }
                (Kind::Page, None) => prop_assert!(false, "a page result lost its metadata"),
                (_, meta) => prop_assert!(meta.is_none()),
            }
        }
        let links = SearchLinks { base: BASE, self_link: SELF, next_link: None };
        let rendered = render_search(&scan, &body, &|id| visible_ids.contains(id), &links).unwrap();
        let text = String::from_utf8(rendered.body.clone()).unwrap();
        prop_assert!(!text.contains(MARK), "marker leaked: {}", text);
        let out: Value = serde_json::from_slice(&rendered.body).unwrap();

        let expected: Vec<&GenResult> = gens.iter().filter(|g| matches!(g.kind, Kind::Page) && visible(g.id)).collect();
        let kept = out["results"].as_array().unwrap();
        prop_assert_eq!(kept.len(), expected.len());
        prop_assert_eq!((rendered.kept, rendered.removed), (expected.len(), gens.len() - expected.len()));
        prop_assert_eq!(out["size"].as_u64(), Some(expected.len() as u64));
        prop_assert_eq!(out["totalSize"].as_u64(), upstream_total.map(|t| t - (gens.len() - expected.len()) as u64));

        for (g, r) in expected.iter().zip(kept) {
            let want_id = pool_id(g.id);
            prop_assert_eq!(r["content"]["id"].as_str(), Some(want_id.as_str()));
            let want: Vec<String> = g.ancestors.iter().filter(|&&i| visible(i)).map(|&i| pool_id(i)).collect();
            prop_assert_eq!(ids_of(&r["content"]["ancestors"]), want);
            let want_crumbs = g.crumbs.iter().filter(|c| c.is_none_or(visible)).count();
            prop_assert_eq!(r["breadcrumbs"].as_array().unwrap().len(), want_crumbs);
            let parent_kept = r.get("resultParentContainer").is_some();
            prop_assert_eq!(parent_kept, g.parent.is_some_and(visible));
        }
    }

    #[test]
    fn the_scanner_accepts_exactly_what_serde_json_accepts(
        tokens in prop::collection::vec(prop::sample::select(vec![
            "{", "}", "[", "]", ",", ":", "\"a\"", "\"k\":", "\"", "\\", "\\u", "D83D", "DE00", "0041", "\\n",
            "\\x", "0", "1", "9", "-", ".", "e", "E", "+", "true", "tru", "null", " ", "\n", "\u{e9}", "\u{1}",
        ]), 0..40),
    ) {
        let doc: String = tokens.concat();
        let ours = Cursor::new(doc.as_bytes()).and_then(|mut c| {
            c.skip_value()?;
            c.finish()
        });
        let theirs = serde_json::from_str::<Value>(&doc);
        if let Err(e) = &theirs {
            prop_assume!(!e.to_string().contains("out of range"));
        }
        prop_assert_eq!(ours.is_ok(), theirs.is_ok(), "{:?}: ours {:?} theirs {:?}", doc, ours.err(), theirs.err());
    }

    #[test]
    fn the_scanner_agrees_with_serde_json_on_near_valid_documents(
        value in arb_json(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0..3u8, prop::sample::select(vec![
            '{', '}', '[', ']', ',', ':', '"', '\\', 'u', '0', '1', '-', '.', 'e', 'n', ' ', '\u{1}',
        ])), 1..3),
    ) {
        let mut chars: Vec<char> = serde_json::to_string(&value).unwrap().chars().collect();
        for (at, op, c) in edits {
            let i = at.index(chars.len() + 1);
            match op {
                0 => chars.insert(i, c),
                1 if i < chars.len() => { chars.remove(i); }
                _ if i < chars.len() => chars[i] = c,
                _ => chars.push(c),
            }
        }
        let doc: String = chars.into_iter().collect();
        let ours = Cursor::new(doc.as_bytes()).and_then(|mut c| {
            c.skip_value()?;
            c.finish()
        });
        let theirs = serde_json::from_str::<Value>(&doc);
        if let Err(e) = &theirs {
            prop_assume!(!e.to_string().contains("out of range"));
        }
        prop_assert_eq!(ours.is_ok(), theirs.is_ok(), "{:?}: ours {:?} theirs {:?}", doc, ours.err(), theirs.err());
    }

    #[test]
    fn the_scanner_accepts_every_serialized_value(value in arb_json()) {
        for doc in [serde_json::to_string(&value).unwrap(), serde_json::to_string_pretty(&value).unwrap()] {
            let mut cur = Cursor::new(doc.as_bytes()).unwrap();
            let span = cur.skip_value().unwrap();
            cur.finish().unwrap();
            prop_assert_eq!((span.start(), span.end()), (0, doc.len()));
        }
    }
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        (-1e300f64..1e300).prop_map(|f| json!(f)),
        "\\PC{0,12}".prop_map(Value::String),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(8, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("\\PC{0,6}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

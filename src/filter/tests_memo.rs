//! The scan memo (`memo.rs`) changes nothing but speed: random search and content-list answers,
//! full of repeated ancestors, spaces and label sets, compact or pretty-printed, sometimes with
//! a byte changed inside a repeat, give the same output (or the same refusal) byte for byte with
//! the memo as without it, for random visible sets.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::memo::tests::without_memo;
use super::test_fixtures::{search_value, BASE, SELF};
use super::tests_prop::{build, gen_result, pool_id, POOL};
use super::*;
use crate::ids::ContentId;
use crate::policy::ItemMeta;

/// What a caller gets from an answer: the rendered bytes and the metadata kbgate decides on,
/// or the refusal.
type Outcome = Result<(Vec<u8>, Vec<Option<ItemMeta>>), String>;

const LINKS: SearchLinks<'static> = SearchLinks {
    base: BASE,
    self_link: SELF,
    next_link: None,
};

fn search_outcome(body: &[u8], visible: &dyn Fn(&ContentId) -> bool) -> Outcome {
    let scan = scan_search(body).map_err(|e| format!("{e:?}"))?;
    let metas = scan.results().iter().map(|r| r.meta().cloned()).collect();
    let rendered = render_search(&scan, body, visible, &LINKS).map_err(|e| format!("{e:?}"))?;
    Ok((rendered.body, metas))
}

fn list_outcome(body: &[u8], visible: &dyn Fn(&ContentId) -> bool) -> Outcome {
    let scan = scan_list(body).map_err(|e| format!("{e:?}"))?;
    let metas = scan.items().cloned().map(Some).collect();
    let rendered = render_list(&scan, body, visible, &LINKS).map_err(|e| format!("{e:?}"))?;
    Ok((rendered.body, metas))
}

/// Applies byte edits: each puts one byte at a position (a near-repeat, or a broken answer).
fn edit(mut body: Vec<u8>, edits: &[(prop::sample::Index, u8)]) -> Vec<u8> {
    for (at, byte) in edits {
        if !body.is_empty() {
            let i = at.index(body.len());
            body[i] = *byte;
        }
    }
    body
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn the_memo_changes_no_byte_of_a_search_or_list_answer(
        gens in prop::collection::vec(gen_result(), 0..10),
        mask in any::<u16>(),
        pretty in any::<bool>(),
        edits in prop::collection::vec(
            (any::<prop::sample::Index>(), prop::sample::select(b"\"{}[],:1a \\".to_vec())),
            0..2,
        ),
    ) {
        let seen = |i: usize| mask & (1 << i) != 0;
        let results: Vec<Value> = gens.iter().map(|g| build(g, &seen)).collect();
        let contents: Vec<Value> =
            results.iter().filter_map(|r| r.get("content").cloned()).collect();
        let search = search_value(results, None, false, "SECRETLEAK");
        let list = json!({"results": contents, "start": 0, "limit": 25, "size": 0, "_links": {}});
        let visible_ids: std::collections::HashSet<ContentId> =
            (0..POOL).filter(|&i| seen(i)).map(|i| ContentId::new(&pool_id(i)).unwrap()).collect();
        let visible = |id: &ContentId| visible_ids.contains(id);
        let bytes = |v: &Value| {
            if pretty { serde_json::to_vec_pretty(v) } else { serde_json::to_vec(v) }.unwrap()
        };

        let body = edit(bytes(&search), &edits);
        let with = search_outcome(&body, &visible);
        let without = without_memo(|| search_outcome(&body, &visible));
        prop_assert_eq!(&with, &without);
        if edits.is_empty() {
            prop_assert!(with.is_ok(), "{:?}", with);
        }

        let body = edit(bytes(&list), &edits);
        let with = list_outcome(&body, &visible);
        let without = without_memo(|| list_outcome(&body, &visible));
        prop_assert_eq!(&with, &without);
    }
}

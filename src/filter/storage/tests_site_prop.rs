//! Property tests of the rewriter's site mode: over random bodies (text, visible and hidden
//! links, bare references, kept macros, `children` / `contentbylabel` macros stubbed or
//! removed, other listing macros, all nested in paragraphs, panels, panels removed for naming
//! a hidden page, and listing macros):
//! 1. without `children` / `contentbylabel`, the site output is the API output;
//! 2. the site output is the API output plus stubs numbered 0.. in document order, each once;
//! 3. the site mode asks about exactly the references the scanner lists.

use std::cell::RefCell;

use proptest::prelude::*;

use super::tests_site::{acme_hidden, stub};
use super::*;

/// Fragments for random bodies; `listing` adds listing macros of every kind.
fn fragment(listing: bool) -> BoxedStrategy<String> {
    let mut leaves: Vec<&'static str> = vec![
        "plain &amp; text ",
        "<![CDATA[a < b]]>",
        "<!-- c -->",
        "&nbsp;",
        "<br />",
        r#"<ac:link><ri:page ri:content-title="Shared FAQ"/><ac:link-body>faq</ac:link-body></ac:link>"#,
        r#"<ac:link><ri:page ri:content-title="Acme plan"/><ac:link-body>Acme</ac:link-body></ac:link>"#,
        r#"<ri:page ri:content-title="Acme bare"/>"#,
        r#"<ac:structured-macro ac:name="toc"><ac:parameter ac:name="x">1</ac:parameter></ac:structured-macro>"#,
    ];
    if listing {
        leaves.extend([
            r#"<ac:structured-macro ac:name="children"/>"#,
            r#"<ac:macro ac:name="children"><ac:parameter ac:name="all">true</ac:parameter></ac:macro>"#,
            r#"<ac:structured-macro ac:name="children"><ac:parameter ac:name="page"><ri:page ri:content-title="Acme x"/></ac:parameter></ac:structured-macro>"#,
            r#"<ac:structured-macro ac:name="contentbylabel"><ac:parameter ac:name="labels">faq,Acme</ac:parameter></ac:structured-macro>"#,
            r#"<ac:structured-macro ac:name="contentbylabel"><ac:parameter ac:name="cql">x</ac:parameter></ac:structured-macro>"#,
            r#"<ac:structured-macro ac:name="pagetree"><ac:parameter ac:name="root"><ri:page ri:content-title="Acme x"/></ac:parameter></ac:structured-macro>"#,
        ]);
    }
    let leaf = prop::sample::select(leaves).prop_map(str::to_owned);
    leaf.prop_recursive(4, 40, 5, |inner| {
        let kids = prop::collection::vec(inner, 0..5).prop_map(|k| k.concat());
        (prop::sample::select(&["p", "info", "doomed", "include", "children"][..]), kids)
            .prop_map(|(wrapper, kids)| match wrapper {
                "p" => format!("<p>{kids}</p>"),
                "doomed" => format!(
                    "<ac:structured-macro ac:name=\"tip\"><ac:rich-text-body>{kids}</ac:rich-text-body>\
                     <ac:parameter ac:name=\"p\"><ri:page ri:content-title=\"Acme p\"/></ac:parameter></ac:structured-macro>"
                ),
                name => format!(
                    "<ac:structured-macro ac:name=\"{name}\"><ac:rich-text-body>{kids}</ac:rich-text-body></ac:structured-macro>"
                ),
            })
            .boxed()
    })
    .boxed()
}

fn body(listing: bool) -> impl Strategy<Value = String> {
    prop::collection::vec(fragment(listing), 0..6).prop_map(|f| f.concat())
}

proptest! {
    #[test]
    fn without_children_or_contentbylabel_the_site_output_is_the_api_output(b in body(false)) {
        let api = rewrite_storage(&b, &acme_hidden).unwrap();
        let out = rewrite_storage_for_site(&b, &acme_hidden).unwrap();
        prop_assert_eq!(&out.body, &api.body);
        prop_assert!(out.listings.is_empty());
        prop_assert_eq!((out.removed_links, out.removed_macros), (api.removed_links, api.removed_macros));
    }

    #[test]
    fn the_site_output_is_the_api_output_plus_numbered_stubs(b in body(true)) {
        let api = rewrite_storage(&b, &acme_hidden).unwrap();
        let out = rewrite_storage_for_site(&b, &acme_hidden).unwrap();
        let mut without_stubs = out.body.clone();
        for (i, _) in out.listings.iter().enumerate() {
            let s = stub(i);
            prop_assert_eq!(without_stubs.matches(&s).count(), 1, "stub {} in {}", i, out.body);
            without_stubs = without_stubs.replacen(&s, "", 1);
        }
        prop_assert!(!without_stubs.contains("kbgate-listing"));
        prop_assert_eq!(&without_stubs, &api.body);
        prop_assert!(!out.body.contains("Acme"));
        // In document order: stub i comes before stub i + 1.
        let positions: Vec<usize> = (0..out.listings.len()).filter_map(|i| out.body.find(&stub(i))).collect();
        prop_assert!(positions.windows(2).all(|w| w[0] < w[1]));
        prop_assert_eq!(out.removed_links, api.removed_links);
        prop_assert_eq!(out.removed_macros + out.listings.len(), api.removed_macros);
    }

    #[test]
    fn the_site_mode_asks_about_exactly_what_the_scanner_lists(b in body(true)) {
        let asked = RefCell::new(Vec::<ContentRef>::new());
        let record = |r: &ContentRef| {
            let mut asked = asked.borrow_mut();
            if !asked.contains(r) {
                asked.push(r.clone());
            }
            acme_hidden(r)
        };
        rewrite_storage_for_site(&b, &record).unwrap();
        prop_assert_eq!(asked.into_inner(), scan_storage(&b).unwrap().refs);
    }
}

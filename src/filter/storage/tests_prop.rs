//! Property tests of the storage rewriter.
//!
//! Random bodies are assembled from fragments (text with entities, CDATA and emoji; links to
//! pages, blog posts and content ids; images of other pages' attachments; bare references;
//! listing macros; kept macros nesting more fragments) over a pool of pages, each marked
//! `MARK-k-END` in its title, link body and file name. For a random visible set:
//! 1. the output equals a model of the rules, and no hidden page's marker reaches it;
//! 2. with everything visible and no listing macro, the output equals the input;
//! 3. the rewriter asks about exactly the references the scanner lists.

use std::cell::RefCell;

use proptest::prelude::*;

use super::*;

const POOL: usize = 6;
const KEPT: &[&str] = &["info", "note", "panel", "expand"];
const LISTING: &[&str] = &[
    "children",
    "include",
    "excerpt-include",
    "contentbylabel",
    "pagetree",
];
const TEXT: &[&str] = &[
    "plain ",
    "&nbsp;",
    "&rsquo;",
    "<![CDATA[a < b & c]]>",
    "caf\u{e9} \u{1F680}",
    "<!-- note -->",
    "<br />",
    "x &amp; y",
    "\n",
    "<time datetime=\"2024-01-01\" />",
];

#[derive(Clone, Debug)]
enum Node {
    Text(&'static str),
    Link(usize),
    BlogLink(usize),
    EntityLink(usize),
    Image(usize),
    Bare(usize),
    Listing(&'static str, usize),
    ParamMacro(usize),
    Kept(&'static str, Vec<Node>),
    Para(Vec<Node>),
}

fn leaf(listing: bool) -> BoxedStrategy<Node> {
    let k = 0..POOL;
    let mut options = vec![
        prop::sample::select(TEXT).prop_map(Node::Text).boxed(),
        k.clone().prop_map(Node::Link).boxed(),
        k.clone().prop_map(Node::BlogLink).boxed(),
        k.clone().prop_map(Node::EntityLink).boxed(),
        k.clone().prop_map(Node::Image).boxed(),
        k.clone().prop_map(Node::Bare).boxed(),
        k.clone().prop_map(Node::ParamMacro).boxed(),
    ];
    if listing {
        options.push(
            (prop::sample::select(LISTING), k)
                .prop_map(|(n, k)| Node::Listing(n, k))
                .boxed(),
        );
    }
    prop::strategy::Union::new(options).boxed()
}

fn tree(listing: bool) -> impl Strategy<Value = Vec<Node>> {
    let node = leaf(listing).prop_recursive(4, 48, 5, |inner| {
        prop_oneof![
            (
                prop::sample::select(KEPT),
                prop::collection::vec(inner.clone(), 0..5)
            )
                .prop_map(|(n, c)| Node::Kept(n, c)),
            prop::collection::vec(inner, 0..5).prop_map(Node::Para),
        ]
    });
    prop::collection::vec(node, 0..8)
}

fn title(k: usize) -> String {
    format!("Page &quot;{k}&quot; &amp; MARK-{k}-END")
}

fn render(nodes: &[Node]) -> String {
    nodes.iter().map(render_one).collect()
}

fn render_one(node: &Node) -> String {
    match node {
        Node::Text(t) => (*t).to_owned(),
        Node::Link(k) => format!(
            r#"<ac:link><ri:page ri:content-title="{}" ri:space-key="KB"/><ac:plain-text-link-body><![CDATA[see MARK-{k}-END]]></ac:plain-text-link-body></ac:link>"#,
            title(*k)
        ),
        Node::BlogLink(k) => format!(
            r#"<ac:link><ri:blog-post ri:content-title="{}" ri:posting-day="2024/01/0{k}"></ri:blog-post><ac:link-body><em>MARK-{k}-END</em></ac:link-body></ac:link>"#,
            title(*k)
        ),
        Node::EntityLink(k) => format!(
            r#"<ac:link><ri:content-entity ri:content-id="900{k}" /><ac:link-body>MARK-{k}-END</ac:link-body></ac:link>"#
        ),
        Node::Image(k) => format!(
            r#"<ac:image ac:alt="MARK-{k}-END"><ri:attachment ri:filename="MARK-{k}-END.png"><ri:page ri:content-title="{}" /></ri:attachment></ac:image>"#,
            title(*k)
        ),
        Node::Bare(k) => format!(r#"<ri:page ri:content-title="{}"/>"#, title(*k)),
        Node::Listing(name, k) => format!(
            r#"<ac:structured-macro ac:name="{name}"><ac:parameter ac:name="page"><ri:page ri:content-title="{}"/></ac:parameter><ac:rich-text-body>LISTING MARK-{k}-END</ac:rich-text-body></ac:structured-macro>"#,
            title(*k)
        ),
        Node::ParamMacro(k) => format!(
            r#"<ac:structured-macro ac:name="tip"><ac:parameter ac:name="page"><ri:page ri:content-title="{}"/></ac:parameter><ac:rich-text-body><p>MARK-{k}-END</p></ac:rich-text-body></ac:structured-macro>"#,
            title(*k)
        ),
        Node::Kept(name, children) => kept(name, &render(children)),
        Node::Para(children) => format!("<p>{}</p>", render(children)),
    }
}

fn kept(name: &str, inner: &str) -> String {
    format!(
        r#"<ac:structured-macro ac:name="{name}" ac:schema-version="1"><ac:rich-text-body>{inner}</ac:rich-text-body></ac:structured-macro>"#
    )
}

/// The rules as a model: the expected output of `nodes`, and whether a hidden bare reference
/// inside them dooms the enclosing container.
fn expect(nodes: &[Node], vis: &[bool], in_container: bool) -> (String, bool) {
    let mut out = String::new();
    let mut doom = false;
    for node in nodes {
        let (s, d) = expect_one(node, vis, in_container);
        out.push_str(&s);
        doom |= d;
    }
    (out, doom)
}

fn expect_one(node: &Node, vis: &[bool], in_container: bool) -> (String, bool) {
    let shown = |k: &usize| vis.get(*k).copied().unwrap_or(false);
    match node {
        Node::Text(_) => (render_one(node), false),
        Node::Link(k)
        | Node::BlogLink(k)
        | Node::EntityLink(k)
        | Node::Image(k)
        | Node::ParamMacro(k) => (
            if shown(k) {
                render_one(node)
            } else {
                String::new()
            },
            false,
        ),
        Node::Bare(k) if shown(k) => (render_one(node), false),
        Node::Bare(_) => (String::new(), in_container),
        Node::Listing(..) => (String::new(), false),
        Node::Kept(name, children) => match expect(children, vis, true) {
            (_, true) => (String::new(), false),
            (inner, false) => (kept(name, &inner), false),
        },
        Node::Para(children) => {
            let (inner, doom) = expect(children, vis, in_container);
            (format!("<p>{inner}</p>"), doom)
        }
    }
}

/// The pool index a reference names (titles carry `MARK-k-END`, ids are `900k`).
fn index_of(r: &ContentRef) -> Option<usize> {
    let digits = match r {
        ContentRef::Page { title, .. } | ContentRef::BlogPost { title, .. } => {
            assert!(title.starts_with("Page \""), "title not decoded: {title}");
            title.split("MARK-").nth(1)?.split('-').next()?.to_owned()
        }
        ContentRef::Id(id) => id.strip_prefix("900")?.to_owned(),
    };
    digits.parse().ok()
}

proptest! {
    #[test]
    fn hidden_pages_never_reach_the_output_and_the_rest_follows_the_rules(
        nodes in tree(true),
        vis in prop::collection::vec(any::<bool>(), POOL),
    ) {
        let body = render(&nodes);
        let visible = |r: &ContentRef| index_of(r).and_then(|k| vis.get(k).copied()).unwrap_or(false);
        let out = rewrite_storage(&body, &visible).unwrap();
        prop_assert_eq!(&out.body, &expect(&nodes, &vis, false).0);
        prop_assert!(!out.body.contains("LISTING"));
        for (k, shown) in vis.iter().enumerate() {
            if !shown {
                let marker = format!("MARK-{k}-END");
                prop_assert!(!out.body.contains(&marker), "{} leaked", marker);
            }
        }
    }

    #[test]
    fn with_everything_visible_the_output_is_the_input(nodes in tree(false)) {
        let body = render(&nodes);
        let out = rewrite_storage(&body, &|_: &ContentRef| true).unwrap();
        prop_assert_eq!(&out.body, &body);
        prop_assert_eq!((out.removed_links, out.removed_macros), (0, 0));
    }

    #[test]
    fn the_rewriter_asks_about_exactly_what_the_scanner_lists(
        nodes in tree(true),
        vis in prop::collection::vec(any::<bool>(), POOL),
    ) {
        let body = render(&nodes);
        let asked = RefCell::new(Vec::<ContentRef>::new());
        let record = |r: &ContentRef| {
            let mut asked = asked.borrow_mut();
            if !asked.contains(r) {
                asked.push(r.clone());
            }
            index_of(r).and_then(|k| vis.get(k).copied()).unwrap_or(false)
        };
        rewrite_storage(&body, &record).unwrap();
        prop_assert_eq!(asked.into_inner(), scan_storage(&body).unwrap().refs);
    }
}

//! Tests of the storage-format renderer: Confluence structures, visibility through the
//! callbacks, a hostile-input corpus checked by an independent output validator, bounds, and
//! the simulator's bodies.

use super::render::*;
use crate::ids::{ContentId, SpaceKey};

/// Visible pages: titles starting with "Visible", and id 111. Everything else is hidden.
pub(super) fn article_url(t: &LinkTarget) -> Option<String> {
    match t {
        LinkTarget::ByTitle { title, .. } if title.starts_with("Visible") => {
            Some(format!("/kb/articles/{}", title.replace(' ', "-")))
        }
        LinkTarget::ById(id) if id.as_str() == "111" => Some("/kb/articles/111".to_owned()),
        _ => None,
    }
}

/// Attachments of visible pages (or this page) whose names do not start with "secret".
pub(super) fn attachment_url(a: &AttachmentRef) -> Option<String> {
    let page_ok = a.page.as_ref().is_none_or(|p| article_url(p).is_some());
    (page_ok && !a.file_name.starts_with("secret")).then(|| format!("/kb/files/{}", a.file_name))
}

fn children() -> Vec<(String, String)> {
    vec![
        (
            "Visible child one".to_owned(),
            "/kb/articles/201".to_owned(),
        ),
        (
            "Visible <child> two".to_owned(),
            "/kb/articles/202".to_owned(),
        ),
    ]
}

/// The caller's lists for listing stubs 0, 1 (empty) and 2.
pub(super) fn listings() -> Vec<Vec<(String, String)>> {
    vec![
        vec![
            (
                "Listed <one> & \"q\"".to_owned(),
                "/kb/articles/301?a=1&b=2".to_owned(),
            ),
            ("Listed two".to_owned(), "/kb/articles/302".to_owned()),
        ],
        vec![],
        vec![("Listed three".to_owned(), "/kb/articles/303".to_owned())],
    ]
}

pub(super) fn render(xhtml: &str) -> String {
    let kids = children();
    let lists = listings();
    let ctx = RenderContext {
        article_url: &article_url,
        attachment_url: &attachment_url,
        children: &kids,
        listings: &lists,
    };
    let html = render_storage(xhtml, &ctx).unwrap_or_else(|e| panic!("{e}: {xhtml}"));
    assert_safe(&html);
    html
}

pub(super) fn render_err(xhtml: &str) -> RenderError {
    let ctx = RenderContext {
        article_url: &article_url,
        attachment_url: &attachment_url,
        children: &[],
        listings: &[],
    };
    render_storage(xhtml, &ctx).expect_err("must be refused")
}

const ALLOWED: &[&str] = &[
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "strong",
    "em",
    "u",
    "s",
    "sub",
    "sup",
    "code",
    "pre",
    "blockquote",
    "br",
    "hr",
    "a",
    "img",
    "div",
    "span",
    "details",
    "summary",
];

const CLASSES: &[&str] = &[
    "kb-panel",
    "kb-panel-info",
    "kb-panel-note",
    "kb-panel-warning",
    "kb-panel-tip",
    "kb-panel-title",
    "kb-expand",
    "kb-code",
    "kb-noformat",
    "kb-children",
    "kb-listing",
    "kb-tasks",
];

/// An independent check of the output: every tag is allowlisted, every attribute is one the
/// renderer may write with a value it may write, and no raw `<`/`>` hides in a value.
pub(super) fn assert_safe(html: &str) {
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let close = after
            .find('>')
            .unwrap_or_else(|| panic!("unclosed tag in {html}"));
        let tag = &after[..close];
        rest = &after[close + 1..];
        let tag = tag.strip_prefix('/').unwrap_or(tag);
        let (name, mut attrs) = tag.split_once(' ').unwrap_or((tag, ""));
        assert!(ALLOWED.contains(&name), "tag {name:?} in {html}");
        while !attrs.is_empty() {
            let (key, value_and_rest) = attrs
                .split_once("=\"")
                .unwrap_or_else(|| panic!("bad attribute syntax {attrs:?} in {html}"));
            let end = value_and_rest.find('"').unwrap();
            let value = &value_and_rest[..end];
            attrs = value_and_rest[end + 1..].trim_start();
            assert!(!value.contains('<'), "raw < in attribute in {html}");
            let lower = value.to_ascii_lowercase();
            match key.trim() {
                "href" => assert!(
                    value.starts_with("/kb/")
                        || lower.starts_with("https://")
                        || lower.starts_with("http://")
                        || lower.starts_with("mailto:"),
                    "href {value:?} in {html}"
                ),
                "src" => assert!(value.starts_with("/kb/files/"), "src {value:?} in {html}"),
                "alt" => {}
                "colspan" | "rowspan" => assert!(value.parse::<u16>().is_ok()),
                "class" => assert!(
                    value
                        .split(' ')
                        .all(|c| CLASSES.contains(&c) || c.starts_with("language-")),
                    "class {value:?} in {html}"
                ),
                other => panic!("attribute {other:?} in {html}"),
            }
        }
    }
    assert!(!rest.contains('>'), "stray > in {html}");
}

#[test]
fn headings_paragraphs_lists_and_inline_marks_are_rebuilt_from_the_allowlist() {
    let html = render(
        "<h1>Title</h1><h3>Sub</h3><p>Hello <strong>bold</strong> <b>b</b> <em>it</em> <i>i</i> \
         <u>u</u> <s>s</s> <del>d</del> <sub>2</sub><sup>3</sup> <code>x</code><br/>next</p>\
         <ul><li>one</li></ul><ol><li>two</li></ol><blockquote><p>q</p></blockquote><hr/>",
    );
    assert_eq!(
        html,
        "<h1>Title</h1><h3>Sub</h3><p>Hello <strong>bold</strong> <strong>b</strong> <em>it</em> \
         <em>i</em> <u>u</u> <s>s</s> <s>d</s> <sub>2</sub><sup>3</sup> <code>x</code><br>next</p>\
         <ul><li>one</li></ul><ol><li>two</li></ol><blockquote><p>q</p></blockquote><hr>"
    );
}

#[test]
fn attributes_of_body_elements_are_dropped() {
    let html = render(r#"<p class="x" id="y" style="color:red" title="t">text</p>"#);
    assert_eq!(html, "<p>text</p>");
}

#[test]
fn tables_keep_only_numeric_spans() {
    let html = render(
        r#"<table class="wrapped"><colgroup><col/></colgroup><thead><tr><th colspan="2" style="x">H</th></tr></thead><tbody><tr><td rowspan="3">a</td><td colspan="x1">b</td><td colspan="0">c</td></tr></tbody></table>"#,
    );
    assert_eq!(
        html,
        "<table><thead><tr><th colspan=\"2\">H</th></tr></thead><tbody><tr><td rowspan=\"3\">a</td>\
         <td>b</td><td>c</td></tr></tbody></table>"
    );
}

#[test]
fn text_and_entities_are_decoded_then_escaped() {
    let html =
        render("<p>a &lt;b&gt; &amp; &quot;c&quot; &nbsp;&mdash; &#65;&#x42; &unknown; 5 & 6</p>");
    assert_eq!(
        html,
        "<p>a &lt;b&gt; &amp; &quot;c&quot; \u{a0}— AB &amp;unknown; 5 &amp; 6</p>"
    );
}

#[test]
fn code_macro_renders_its_cdata_body_escaped_with_a_fixed_language_class() {
    let html = render(
        r#"<ac:structured-macro ac:name="code"><ac:parameter ac:name="language">Python</ac:parameter><ac:parameter ac:name="title">ignored</ac:parameter><ac:plain-text-body><![CDATA[if a < b: print("<b>&amp;")]]></ac:plain-text-body></ac:structured-macro>"#,
    );
    assert_eq!(
        html,
        "<pre class=\"kb-code\"><code class=\"language-python\">if a &lt; b: print(&quot;&lt;b&gt;&amp;amp;&quot;)</code></pre>"
    );
}

#[test]
fn code_macro_with_an_unknown_language_gets_no_class() {
    let html = render(
        r#"<ac:structured-macro ac:name="code"><ac:parameter ac:name="language">x" onmouseover="alert(1)</ac:parameter><ac:plain-text-body><![CDATA[x]]></ac:plain-text-body></ac:structured-macro>"#,
    );
    assert_eq!(html, "<pre class=\"kb-code\"><code>x</code></pre>");
}

#[test]
fn noformat_macro_renders_a_preformatted_block() {
    let html = render(
        r#"<ac:structured-macro ac:name="noformat"><ac:plain-text-body><![CDATA[a  <b>]]></ac:plain-text-body></ac:structured-macro>"#,
    );
    assert_eq!(html, "<pre class=\"kb-noformat\">a  &lt;b&gt;</pre>");
}

#[test]
fn panel_macros_become_kbgate_panels_with_their_rich_body() {
    for (name, class) in [
        ("info", "kb-panel kb-panel-info"),
        ("note", "kb-panel kb-panel-note"),
        ("warning", "kb-panel kb-panel-warning"),
        ("tip", "kb-panel kb-panel-tip"),
        ("panel", "kb-panel"),
    ] {
        let html = render(&format!(
            "<ac:structured-macro ac:name=\"{name}\"><ac:parameter ac:name=\"title\">Heads &amp; up</ac:parameter>\
             <ac:rich-text-body><p>Body <strong>x</strong></p></ac:rich-text-body></ac:structured-macro>"
        ));
        assert_eq!(
            html,
            format!(
                "<div class=\"{class}\"><p class=\"kb-panel-title\">Heads &amp; up</p>\
                 <p>Body <strong>x</strong></p></div>"
            )
        );
    }
}

#[test]
fn expand_macro_becomes_details_with_its_title_as_summary() {
    let html = render(
        r#"<ac:structured-macro ac:name="expand"><ac:parameter ac:name="title">More <info></ac:parameter><ac:rich-text-body><p>hidden detail</p></ac:rich-text-body></ac:structured-macro>"#
            .replace("<info>", "&lt;info&gt;")
            .as_str(),
    );
    assert_eq!(
        html,
        "<details class=\"kb-expand\"><summary>More &lt;info&gt;</summary><p>hidden detail</p></details>"
    );
    let untitled = render(
        r#"<ac:structured-macro ac:name="expand"><ac:rich-text-body><p>x</p></ac:rich-text-body></ac:structured-macro>"#,
    );
    assert!(untitled
        .starts_with("<details class=\"kb-expand\"><summary>Click here to expand...</summary>"));
}

#[test]
fn link_to_a_visible_page_by_title_points_to_kbgate_with_its_body() {
    let html = render(
        r#"<p><ac:link><ri:page ri:space-key="KB" ri:content-title="Visible page"/><ac:plain-text-link-body><![CDATA[see <here>]]></ac:plain-text-link-body></ac:link></p>"#,
    );
    assert_eq!(
        html,
        "<p><a href=\"/kb/articles/Visible-page\">see &lt;here&gt;</a></p>"
    );
}

#[test]
fn link_with_an_empty_body_to_a_visible_page_shows_the_target_title() {
    let html =
        render(r#"<p><ac:link><ri:page ri:content-title="Visible &amp; fine"/></ac:link></p>"#);
    assert_eq!(
        html,
        "<p><a href=\"/kb/articles/Visible-&amp;-fine\">Visible &amp; fine</a></p>"
    );
}

#[test]
fn link_by_content_id_asks_the_callback_with_the_id() {
    let html = render(
        r#"<ac:link><ri:content-entity ri:content-id="111"/><ac:link-body>by <em>id</em></ac:link-body></ac:link>"#,
    );
    assert_eq!(html, "<a href=\"/kb/articles/111\">by <em>id</em></a>");
}

#[test]
fn link_to_a_hidden_page_keeps_its_body_as_text_without_an_anchor() {
    let html = render(
        r#"<p><ac:link><ri:page ri:space-key="ACME" ri:content-title="Secret plan"/><ac:plain-text-link-body><![CDATA[the doc]]></ac:plain-text-link-body></ac:link></p>"#,
    );
    assert_eq!(html, "<p>the doc</p>");
}

#[test]
fn link_to_a_hidden_page_with_an_empty_body_never_shows_the_title() {
    for body in [
        r#"<p><ac:link><ri:page ri:space-key="ACME" ri:content-title="Secret plan"/></ac:link></p>"#,
        r#"<p><ac:link><ri:page ri:content-title="Secret plan"/><ac:plain-text-link-body><![CDATA[ ]]></ac:plain-text-link-body></ac:link></p>"#,
        r#"<p><ac:link><ri:page ri:content-id="999" ri:content-title="Secret plan"/></ac:link></p>"#,
        r#"<p><ac:link><ri:blog-post ri:content-title="Secret plan" ri:posting-day="2024/01/01"/></ac:link></p>"#,
        r#"<p><ac:link><ri:page ri:content-title="Secret plan" ri:space-key="bad key!"/></ac:link></p>"#,
    ] {
        let html = render(body);
        assert!(!html.contains("Secret"), "{html}");
        assert!(!html.contains("<a"), "{html}");
    }
}

#[test]
fn the_callback_is_asked_with_the_decoded_title_and_space() {
    use std::cell::RefCell;
    let seen = RefCell::new(Vec::new());
    let record = |t: &LinkTarget| {
        seen.borrow_mut().push(t.clone());
        None
    };
    let ctx = RenderContext {
        article_url: &record,
        attachment_url: &attachment_url,
        children: &[],
        listings: &[],
    };
    render_storage(
        r#"<ac:link><ri:page ri:space-key="KB" ri:content-title="A &amp; B &#233;"/></ac:link>"#,
        &ctx,
    )
    .unwrap();
    assert_eq!(
        seen.into_inner(),
        vec![LinkTarget::ByTitle {
            space: Some(SpaceKey::new("KB").unwrap()),
            title: "A & B é".to_owned()
        }]
    );
}

#[test]
fn images_of_visible_attachments_go_through_kbgate_and_hidden_ones_render_nothing() {
    let own = render(
        r#"<p><ac:image ac:alt="diagram &quot;1&quot;"><ri:attachment ri:filename="net.png"/></ac:image></p>"#,
    );
    assert_eq!(
        own,
        "<p><img src=\"/kb/files/net.png\" alt=\"diagram &quot;1&quot;\"></p>"
    );
    let other_visible = render(
        r#"<ac:image><ri:attachment ri:filename="a.png"><ri:page ri:content-title="Visible other"/></ri:attachment></ac:image>"#,
    );
    assert_eq!(other_visible, "<img src=\"/kb/files/a.png\" alt=\"\">");
    let hidden_page = render(
        r#"<p><ac:image ac:alt=""><ri:attachment ri:filename="a.png"><ri:page ri:space-key="ACME" ri:content-title="Secret plan"/></ri:attachment></ac:image></p>"#,
    );
    assert_eq!(hidden_page, "<p></p>");
    let hidden_file = render(r#"<ac:image><ri:attachment ri:filename="secret.png"/></ac:image>"#);
    assert_eq!(hidden_file, "");
    let external =
        render(r#"<ac:image><ri:url ri:value="https://evil.example/x.png"/></ac:image>"#);
    assert_eq!(external, "");
}

#[test]
fn attachment_links_go_through_kbgate_or_lose_their_anchor() {
    let visible = render(r#"<ac:link><ri:attachment ri:filename="guide.pdf"/></ac:link>"#);
    assert_eq!(visible, "<a href=\"/kb/files/guide.pdf\">guide.pdf</a>");
    let hidden = render(
        r#"<ac:link><ri:attachment ri:filename="guide.pdf"><ri:page ri:content-title="Secret plan"/></ri:attachment></ac:link>"#,
    );
    assert_eq!(hidden, "");
}

#[test]
fn url_links_keep_only_web_and_mail_schemes() {
    let web = render(
        r#"<ac:link><ri:url ri:value="https://example.com/a?b=1&amp;c=2"/><ac:plain-text-link-body><![CDATA[site]]></ac:plain-text-link-body></ac:link>"#,
    );
    assert_eq!(
        web,
        "<a href=\"https://example.com/a?b=1&amp;c=2\">site</a>"
    );
    let bad = render(
        r#"<ac:link><ri:url ri:value="javascript:alert(1)"/><ac:plain-text-link-body><![CDATA[site]]></ac:plain-text-link-body></ac:link>"#,
    );
    assert_eq!(bad, "site");
    let html_a =
        render(r#"<p><a href="mailto:help@example.com">mail</a> <a href="/wiki/x">rel</a></p>"#);
    assert_eq!(
        html_a,
        "<p><a href=\"mailto:help@example.com\">mail</a> rel</p>"
    );
    let nested = render(
        r#"<ac:link><ri:page ri:content-title="Visible p"/><ac:link-body><a href="https://x.example/">in</a></ac:link-body></ac:link>"#,
    );
    assert_eq!(nested, "<a href=\"/kb/articles/Visible-p\">in</a>");
}

#[test]
fn children_macro_lists_only_the_callers_visible_children() {
    let html = render(
        r#"<p><ac:structured-macro ac:name="children"><ac:parameter ac:name="all">true</ac:parameter></ac:structured-macro></p>"#,
    );
    assert_eq!(
        html,
        "<p><ul class=\"kb-children\"><li><a href=\"/kb/articles/201\">Visible child one</a></li>\
         <li><a href=\"/kb/articles/202\">Visible &lt;child&gt; two</a></li></ul></p>"
    );
    let ctx = RenderContext {
        article_url: &article_url,
        attachment_url: &attachment_url,
        children: &[],
        listings: &[],
    };
    let none = render_storage(r#"<ac:structured-macro ac:name="children"/>"#, &ctx).unwrap();
    assert_eq!(none, "");
}

#[test]
fn listing_include_and_unknown_macros_render_nothing() {
    for name in [
        "contentbylabel",
        "pagetree",
        "recently-updated",
        "include",
        "excerpt-include",
        "html",
        "toc",
        "some-vendor-macro",
    ] {
        let html = render(&format!(
            "<p>a</p><ac:structured-macro ac:name=\"{name}\"><ac:parameter ac:name=\"\"><ac:link>\
             <ri:page ri:content-title=\"Visible leak\"/></ac:link></ac:parameter>\
             <ac:parameter ac:name=\"title\">Secret title</ac:parameter>\
             <ac:rich-text-body><p>Secret body</p></ac:rich-text-body>\
             <ac:plain-text-body><![CDATA[Secret code]]></ac:plain-text-body>\
             </ac:structured-macro><p>b</p>"
        ));
        assert_eq!(html, "<p>a</p><p>b</p>", "{name}");
    }
}

#[test]
fn confluence_layouts_and_task_lists_render_as_plain_structure() {
    let html = render(
        r#"<ac:layout><ac:layout-section ac:type="single"><ac:layout-cell><ac:task-list><ac:task><ac:task-id>1</ac:task-id><ac:task-status>complete</ac:task-status><ac:task-body>Do it</ac:task-body></ac:task></ac:task-list></ac:layout-cell></ac:layout-section></ac:layout>"#,
    );
    assert_eq!(
        html,
        "<div><div><div><ul class=\"kb-tasks\"><li>Do it</li></ul></div></div></div>"
    );
}

#[test]
fn comments_processing_instructions_and_doctypes_are_dropped() {
    let html = render("<?xml version=\"1.0\"?><!-- secret --><p>x<?pi y?></p>");
    assert_eq!(html, "<p>x</p>");
}

#[test]
fn malformed_bodies_are_refused_with_errors_that_do_not_echo_input() {
    for (body, want) in [
        ("<p>secret-xyz", RenderError::Unbalanced),
        ("<p>secret-xyz</div>", RenderError::Unbalanced),
        ("</p>secret-xyz", RenderError::Unbalanced),
        (
            "<ac:link><ri:page ri:content-title=\"secret-xyz\" ri:content-title=\"b\"/></ac:link>",
            RenderError::Syntax,
        ),
        ("<a secret-xyz>x</a>", RenderError::Syntax),
        ("<p>x</p", RenderError::Syntax),
    ] {
        let err = render_err(body);
        assert_eq!(err, want, "{body}");
        assert!(!err.to_string().contains("secret"));
        assert!(!format!("{err:?}").contains("secret"));
    }
}

#[test]
fn ids_and_space_keys_are_validated_before_asking() {
    let ctx_id = ContentId::new("111").unwrap();
    assert_eq!(
        article_url(&LinkTarget::ById(ctx_id)).as_deref(),
        Some("/kb/articles/111")
    );
    // A malformed id is never passed to the callback: unresolvable, rendered as hidden.
    let html = render(
        r#"<ac:link><ri:page ri:content-id="1 1 1"/><ac:link-body>t</ac:link-body></ac:link>"#,
    );
    assert_eq!(html, "t");
}

#[test]
fn a_page_reference_inside_a_nameless_attachment_never_becomes_a_page_link() {
    let html = render(
        r#"<ac:link><ri:attachment><ri:page ri:content-title="Visible page"/></ri:attachment><ac:link-body>t</ac:link-body></ac:link>"#,
    );
    assert_eq!(html, "t");
}

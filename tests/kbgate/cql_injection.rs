//! No customer query widens what they see: each attempt is refused with 400 or answers a subset
//! of the customer's visible articles.

use crate::search::all_pages;
use crate::support::Stack;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cql_injection_attempts_never_widen_results() {
    let stack = Stack::start().await;
    let attempts = [
        "text ~ vpn) OR (space = ENG",
        "text ~ vpn) OR label = \"org-globex\" OR (type = page",
        "type = page OR space = ENG",
        "space = ENG OR space = KB",
        "label = \"kb-internal\"",
        "label in (\"org-globex\", \"org-initech\", \"org-acme\")",
        "title ~ \"x\" OR 1 = 1",
        "title ~ \"x\\\" OR space = ENG OR title ~ \\\"y\"",
        "title ~ 'x' OR space = 'ENG'",
        "type = page ORDER BY title) OR (space = ENG",
        "(type = page",
        "type = page))",
        "NOT label = \"org-acme\"",
        "id in recentlyViewedContent(100)",
        "creator = currentUser()",
        "ancestor = 200000 OR id = 200000",
        "type = page ORDER BY title; space = ENG",
        "\"",
    ];
    let mut refused = 0;
    for c in stack.customers() {
        for cql in attempts {
            let target = format!(
                "/wiki/rest/api/search?cql={}",
                form_urlencoded::byte_serialize(cql.as_bytes()).collect::<String>()
            );
            let raw = c.get(&stack, &target).await;
            match raw.status {
                400 => refused += 1,
                200 => {
                    for id in all_pages(&stack, &c, cql, 25).await {
                        assert!(
                            c.visible.contains(&id),
                            "{} saw hidden {id} via {cql:?}",
                            c.name
                        );
                    }
                }
                other => panic!("{cql:?}: unexpected {other}"),
            }
        }
    }
    assert!(refused > 0, "unbalanced input is refused");
    stack.stop().await;
}

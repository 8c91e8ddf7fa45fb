//! `kbgate explain` reads the same metadata and runs the same policy as the proxy.

use crate::support::Stack;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_names_the_rule_behind_each_decision() {
    let stack = Stack::start().await;
    let config = &stack.inner.config;
    let explain = |orgs: &[&str], id: &str| {
        let orgs: Vec<String> = orgs.iter().map(|o| o.to_string()).collect();
        let id = id.to_owned();
        async move { kbgate::explain::explain(config, &orgs, &id).await.unwrap() }
    };
    let acme_page = explain(&["acme"], "100005").await;
    assert!(
        acme_page.contains("VISIBLE: every restriction"),
        "{acme_page}"
    );
    assert!(
        acme_page.contains("org-acme (organization acme)"),
        "{acme_page}"
    );
    let for_globex = explain(&["globex"], "100005").await;
    assert!(
        for_globex.contains("HIDDEN: its organization labels"),
        "{for_globex}"
    );
    let subtree = explain(&["acme"], "200001").await;
    assert!(subtree.contains("HIDDEN: it is in a subtree"), "{subtree}");
    let shared = explain(&[], "100024").await;
    assert!(
        shared.contains("VISIBLE: no organization restriction"),
        "{shared}"
    );
    let eng = explain(&["acme"], "300001").await;
    assert!(eng.contains("not a KB space"), "{eng}");
    let missing = explain(&["acme"], "999999").await;
    assert!(missing.contains("not found"), "{missing}");
    stack.stop().await;
}

//! `POST /_kbgate/hooks/confluence` makes kbgate forget changed pages at once; without the
//! shared secret it changes nothing.

use kbgate::ids::ContentId;

use crate::support::{send_raw, Raw, Stack};

async fn post(stack: &Stack, headers: &str, body: &str) -> Raw {
    let req = format!(
        "POST /_kbgate/hooks/confluence HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        stack.addr(),
        body.len()
    );
    send_raw(stack.addr(), req.as_bytes()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_webhook_forgets_the_pages_it_names() {
    let stack = Stack::start().await;
    let alice = stack.customer("alice");
    // Reading a deep page caches its metadata and its ancestors'.
    assert_eq!(
        alice
            .get(&stack, "/wiki/rest/api/content/100016?expand=ancestors")
            .await
            .status,
        200
    );
    let metadata = &stack.inner.app.metadata;
    let page = ContentId::new("100016").unwrap();
    let parent = ContentId::new("100012").unwrap();
    assert!(metadata.contains(&page) && metadata.contains(&parent));

    let body = r#"{"event":"page_updated","page":{"id":"100016"}}"#;
    let wrong = post(&stack, "X-Kbgate-Webhook-Token: not-the-secret\r\n", body).await;
    assert_eq!(wrong.status, 401);
    let unsigned = post(&stack, "", body).await;
    assert_eq!(unsigned.status, 401);
    assert!(metadata.contains(&page), "refused webhooks change nothing");

    let token = format!(
        "X-Kbgate-Webhook-Token: {}\r\n",
        kbgate::demo::WEBHOOK_SECRET
    );
    let ok = post(&stack, &token, body).await;
    assert_eq!(ok.status, 204, "{}", String::from_utf8_lossy(&ok.bytes));
    assert!(ok.body.is_empty());
    assert!(!metadata.contains(&page), "the named page is forgotten");
    assert!(metadata.contains(&parent), "others stay");

    let moved = post(
        &stack,
        &token,
        r#"{"event":"page_moved","page":{"id":"100013"}}"#,
    )
    .await;
    assert_eq!(moved.status, 204);
    assert!(!metadata.contains(&parent), "a move forgets everything");

    let get = stack.get("/_kbgate/hooks/confluence", &[]).await;
    assert_eq!(get.status, 405);
    // The page is still served, from fresh metadata.
    assert_eq!(
        alice
            .get(&stack, "/wiki/rest/api/content/100016")
            .await
            .status,
        200
    );
    stack.stop().await;
}

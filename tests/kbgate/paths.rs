//! Ambiguous paths, unknown routes and parameters, and other methods are refused — and never
//! reach Confluence (threats H3, H6).

use crate::support::{send_raw, Stack};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ambiguous_and_unknown_targets_are_refused_and_never_forwarded() {
    let stack = Stack::start().await;
    let alice = stack.customer("alice");
    let cases: &[(&str, &[u16])] = &[
        ("/wiki/rest/api/%2e%2e/content/100001", &[400]),
        ("/wiki/rest/api/content/%2e%2e/100001", &[400]),
        ("/wiki/rest/api/content/..%2f100001", &[400]),
        ("/wiki/rest/api/content%2F100001", &[400]),
        ("/wiki/rest/api/content%5C100001", &[400]),
        ("/wiki/rest/api/content\\100001", &[400]),
        ("/wiki//rest/api/content/100001", &[400]),
        ("/wiki/rest/api/./content/100001", &[400]),
        ("/wiki/rest/api/content/100001;jsessionid=x", &[400]),
        ("/wiki/rest/api/..;/content/100001", &[400]),
        ("/wiki/rest/api/content/100001%00", &[400]),
        ("/wiki/rest/api/content/%252e%252e", &[400]),
        ("/wiki/rest/api/content/100001/", &[400, 404]),
        ("/WIKI/rest/api/content/100001", &[404]),
        ("/wiki/rest/api/content/%c0%af", &[400]),
        ("/wiki/rest/api/content/100001%3Fexpand=body.view", &[400]),
        ("/wiki/rest/api/content/100001%23x", &[400]),
        ("/wiki/rest/api/content/abc", &[404]),
        ("/wiki/rest/api/content/100001/child/page/extra", &[404]),
        (
            "/wiki/rest/api/content/100001/child/attachment/att1000011",
            &[404],
        ),
        (
            "/wiki/rest/api/content/100001/child/attachment/x1/download",
            &[404],
        ),
        ("/wiki/rest/api/space/KB/content/comment", &[404]),
        ("/wiki/download/attachments/100001/a/b", &[404]),
        ("/wiki/rest/api/label?name=org-acme", &[404]),
        ("/wiki/rest/api/contentbody/convert/view", &[404]),
        ("/gateway/api/graphql", &[404]),
        ("/index.html", &[404]),
        ("/articles", &[404]),
        (
            "/wiki/rest/api/search?cql=type%3Dpage&cqlcontext=%7B%7D",
            &[400],
        ),
        (
            "/wiki/rest/api/search?cql=type%3Dpage&includeArchivedSpaces=true",
            &[400],
        ),
        (
            "/wiki/rest/api/search?cql=type%3Dpage&cql=space%3DENG",
            &[400],
        ),
        (
            "/wiki/rest/api/search?cql=type%3Dpage&expand=content.body.view",
            &[400],
        ),
        (
            "/wiki/rest/api/search?cql=type%3Dpage&excerpt=indexed",
            &[400],
        ),
        (
            "/wiki/rest/api/search?cql=type%3Dpage&access_token=x",
            &[400],
        ),
        (
            "/wiki/rest/api/search?cql=type%3Dpage&_method=DELETE",
            &[400],
        ),
        ("/wiki/rest/api/search", &[400]),
        ("/wiki/rest/api/content/100001?expand=body.view", &[400]),
        ("/wiki/rest/api/content/100001?status=trashed", &[400]),
    ];
    stack.inner.sim.clear_requests();
    for (target, allowed) in cases {
        let raw = alice.get(&stack, target).await;
        assert!(
            allowed.contains(&raw.status),
            "{target}: got {} {}",
            raw.status,
            String::from_utf8_lossy(&raw.body)
        );
    }
    // Raw bytes hyper would accept: non-ASCII, lowercase method, other methods, absolute form.
    let auth = alice.auth();
    let raw_cases: &[(&[u8], &[u16])] = &[
        (
            b"GET /wiki/rest/api/content/100001\xc3\xa9 HTTP/1.1\r\n",
            &[400],
        ),
        (
            b"get /wiki/rest/api/content/100001 HTTP/1.1\r\n",
            &[400, 405],
        ),
        (
            b"POST /wiki/rest/api/content/100001 HTTP/1.1\r\nContent-Length: 0\r\n",
            &[405, 400],
        ),
        (b"DELETE /wiki/rest/api/content/100001 HTTP/1.1\r\n", &[405]),
        (b"TRACE /wiki/rest/api/content/100001 HTTP/1.1\r\n", &[405]),
        (
            b"GET http://evil.example/wiki/rest/api/content/100001 HTTP/1.1\r\n",
            &[400],
        ),
        (
            b"GET /wiki/rest/api/content/100001 HTTP/1.1\r\nContent-Length: 5\r\n",
            &[400],
        ),
    ];
    for (start, allowed) in raw_cases {
        let mut req = start.to_vec();
        req.extend_from_slice(
            format!(
                "Host: {}\r\nAuthorization: {auth}\r\nConnection: close\r\n\r\n",
                stack.addr()
            )
            .as_bytes(),
        );
        if String::from_utf8_lossy(start).contains("Content-Length: 5") {
            req.extend_from_slice(b"hello");
        }
        let raw = send_raw(stack.addr(), &req).await;
        alice.oracle.assert_clean(&raw.bytes, "raw case");
        assert!(
            allowed.contains(&raw.status),
            "{}: got {}",
            String::from_utf8_lossy(start).trim(),
            raw.status
        );
    }
    let forwarded = stack.forwarded_paths();
    assert!(forwarded.is_empty(), "forwarded: {forwarded:?}");
    stack.stop().await;
}

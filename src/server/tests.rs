//! Tests of the server over real listeners on 127.0.0.1:0, with trivial handlers.
//!
//! Slow and oversized clients write raw bytes to a `TcpStream` (see `testkit`); every test is
//! bounded by [`within`]. TLS and HTTP/2 tests are in `tests_tls.rs`.

use std::io;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use super::testkit::{
    body_reader, closed_within, counting, exchange, get, read_response, sleepy, trickle, within,
    TestServer,
};
use super::{run, ConnInfo, ServerOptions};

#[tokio::test]
async fn a_get_is_served_and_keep_alive_reuses_the_connection() {
    within(async {
        let (calls, handler) = counting();
        let server = TestServer::start(ServerOptions::default(), handler).await;
        let mut stream = BufReader::new(TcpStream::connect(server.addr).await.unwrap());
        let local = stream.get_ref().local_addr().unwrap();

        stream.get_mut().write_all(&get("/one")).await.unwrap();
        let first = read_response(&mut stream).await.unwrap();
        stream.get_mut().write_all(&get("/two")).await.unwrap();
        let second = read_response(&mut stream).await.unwrap();

        assert_eq!(first.status, 200);
        assert_eq!(first.body_text(), format!("/one {local} tls=false"));
        assert_eq!(second.status, 200);
        assert_eq!(second.body_text(), format!("/two {local} tls=false"));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    })
    .await;
}

#[tokio::test]
async fn a_request_target_over_the_limit_gets_414_and_the_handler_is_not_called() {
    within(async {
        let (calls, handler) = counting();
        let server = TestServer::start(ServerOptions::default(), handler).await;

        let long = format!("/{}", "a".repeat(8 * 1024));
        let refused = exchange(server.addr, &get(&long)).await.unwrap();
        assert_eq!(refused.status, 414);
        assert_eq!(refused.header("content-type"), Some("application/json"));
        assert!(refused.body_text().contains(r#""error":"uri_too_long""#));
        assert_eq!(calls.load(Ordering::SeqCst), 0);

        let at_limit = format!("/{}", "a".repeat(8 * 1024 - 1));
        assert_eq!(
            exchange(server.addr, &get(&at_limit)).await.unwrap().status,
            200
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    })
    .await;
}

fn with_headers(count: usize, value_len: usize) -> Vec<u8> {
    let mut raw = String::from("GET / HTTP/1.1\r\nHost: kb.example\r\n");
    for i in 1..count {
        raw.push_str(&format!("X-H{i}: {}\r\n", "v".repeat(value_len)));
    }
    raw.push_str("\r\n");
    raw.into_bytes()
}

#[tokio::test]
async fn sixty_five_header_fields_get_431_and_sixty_four_pass() {
    within(async {
        let (calls, handler) = counting();
        let server = TestServer::start(ServerOptions::default(), handler).await;

        let too_many = exchange(server.addr, &with_headers(65, 1)).await.unwrap();
        assert_eq!(too_many.status, 431);
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        let at_limit = exchange(server.addr, &with_headers(64, 1)).await.unwrap();
        assert_eq!(at_limit.status, 200);
    })
    .await;
}

#[tokio::test]
async fn a_20_kib_header_gets_431_and_a_12_kib_one_passes() {
    within(async {
        let (calls, handler) = counting();
        let server = TestServer::start(ServerOptions::default(), handler).await;

        let huge = exchange(server.addr, &with_headers(2, 20 * 1024))
            .await
            .unwrap();
        assert_eq!(huge.status, 431);
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        let large = exchange(server.addr, &with_headers(2, 12 * 1024))
            .await
            .unwrap();
        assert_eq!(large.status, 200);
    })
    .await;
}

#[tokio::test]
async fn headers_trickled_one_byte_per_100ms_are_cut_off_by_the_header_timeout() {
    within(async {
        let (calls, handler) = counting();
        let opts = ServerOptions {
            header_read_timeout: Duration::from_millis(300),
            ..ServerOptions::default()
        };
        let server = TestServer::start(opts, handler).await;
        let (mut reader, writer) = TcpStream::connect(server.addr).await.unwrap().into_split();
        let slow = format!(
            "GET / HTTP/1.1\r\nHost: kb.example\r\nX-Slow: {}",
            "a".repeat(60)
        );
        trickle(writer, slow.into_bytes(), Duration::from_millis(100));

        let closed = closed_within(&mut reader, Duration::from_secs(3)).await;
        let closed = closed.expect("the slowloris connection is still open after 3 s");
        assert!(
            closed < Duration::from_millis(1500),
            "closed only after {closed:?}"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    })
    .await;
}

#[tokio::test]
async fn a_body_trickled_one_byte_per_200ms_is_answered_504_and_closed() {
    within(async {
        let opts = ServerOptions {
            idle_timeout: Duration::from_millis(300),
            request_timeout: Duration::from_secs(1),
            ..ServerOptions::default()
        };
        let server = TestServer::start(opts, body_reader).await;
        let (reader, mut writer) = TcpStream::connect(server.addr).await.unwrap().into_split();
        let start = Instant::now();
        let head = "POST / HTTP/1.1\r\nHost: kb.example\r\nContent-Length: 100\r\n\r\n";
        writer.write_all(head.as_bytes()).await.unwrap();
        trickle(writer, vec![b'x'; 100], Duration::from_millis(200));

        let mut reader = BufReader::new(reader);
        let response = read_response(&mut reader).await.unwrap();
        assert_eq!(response.status, 504);
        let closed = closed_within(&mut reader, Duration::from_secs(1)).await;
        assert!(closed.is_some(), "the connection stayed open after the 504");
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "took {:?}",
            start.elapsed()
        );
    })
    .await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    within(async {
        let (_calls, handler) = counting();
        let opts = ServerOptions {
            idle_timeout: Duration::from_millis(300),
            ..ServerOptions::default()
        };
        let server = TestServer::start(opts, handler).await;
        let mut stream = BufReader::new(TcpStream::connect(server.addr).await.unwrap());
        stream.get_mut().write_all(&get("/")).await.unwrap();
        assert_eq!(read_response(&mut stream).await.unwrap().status, 200);

        let closed = closed_within(&mut stream, Duration::from_secs(3)).await;
        let closed = closed.expect("the idle connection is still open after 3 s");
        assert!(
            closed >= Duration::from_millis(250),
            "closed too early: {closed:?}"
        );
        assert!(
            closed < Duration::from_millis(1500),
            "closed only after {closed:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_handler_slower_than_the_idle_timeout_still_gets_its_answer_out() {
    within(async {
        let (_started, handler) = sleepy(Duration::from_millis(700));
        let opts = ServerOptions {
            idle_timeout: Duration::from_millis(200),
            ..ServerOptions::default()
        };
        let server = TestServer::start(opts, handler).await;
        let response = exchange(server.addr, &get("/")).await.unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(response.body_text(), "slept");
    })
    .await;
}

#[tokio::test]
async fn a_client_that_stops_reading_the_response_is_dropped_after_the_idle_timeout() {
    within(async {
        const SIZE: usize = 64 * 1024 * 1024;
        let big = Bytes::from(vec![b'z'; SIZE]);
        let handler = move |_req: Request<Incoming>, _info: ConnInfo| {
            let big = big.clone();
            async move { Response::new(crate::response::full(big)) }
        };
        let opts = ServerOptions {
            idle_timeout: Duration::from_millis(300),
            ..ServerOptions::default()
        };
        let server = TestServer::start(opts, handler).await;
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream.write_all(&get("/big")).await.unwrap();
        tokio::time::sleep(Duration::from_millis(1500)).await;

        let mut received = 0usize;
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received += n,
            }
        }
        assert!(
            received < SIZE,
            "the whole response arrived: {received} bytes"
        );
    })
    .await;
}

#[tokio::test]
async fn a_handler_slower_than_the_request_timeout_gets_504_with_kbgates_body() {
    within(async {
        let (started, handler) = sleepy(Duration::from_secs(5));
        let opts = ServerOptions {
            request_timeout: Duration::from_millis(200),
            ..ServerOptions::default()
        };
        let server = TestServer::start(opts, handler).await;
        let start = Instant::now();
        let response = exchange(server.addr, &get("/slow")).await.unwrap();

        assert_eq!(response.status, StatusCode::GATEWAY_TIMEOUT.as_u16());
        assert_eq!(response.header("content-type"), Some("application/json"));
        assert!(response
            .body_text()
            .contains(r#""error":"gateway_timeout""#));
        assert_eq!(started.load(Ordering::SeqCst), 1);
        assert!(
            start.elapsed() < Duration::from_millis(1500),
            "took {:?}",
            start.elapsed()
        );
    })
    .await;
}

#[tokio::test]
async fn with_two_connection_slots_a_third_client_waits_until_one_closes() {
    within(async {
        let (_calls, handler) = counting();
        let opts = ServerOptions {
            max_connections: 2,
            ..ServerOptions::default()
        };
        let server = TestServer::start(opts, handler).await;
        let mut first = BufReader::new(TcpStream::connect(server.addr).await.unwrap());
        let mut second = BufReader::new(TcpStream::connect(server.addr).await.unwrap());
        for client in [&mut first, &mut second] {
            client.get_mut().write_all(&get("/")).await.unwrap();
            assert_eq!(read_response(client).await.unwrap().status, 200);
        }

        let mut third = BufReader::new(TcpStream::connect(server.addr).await.unwrap());
        third.get_mut().write_all(&get("/third")).await.unwrap();
        let waited = tokio::time::timeout(Duration::from_millis(500), read_response(&mut third));
        assert!(waited.await.is_err(), "the third connection was served");

        drop(first);
        let response = tokio::time::timeout(Duration::from_secs(3), read_response(&mut third))
            .await
            .expect("the third connection was not served after a slot freed")
            .unwrap();
        assert_eq!(response.status, 200);
        assert!(response.body_text().starts_with("/third "));
    })
    .await;
}

#[tokio::test]
async fn graceful_shutdown_finishes_in_flight_requests_and_refuses_new_connections() {
    within(async {
        let (started, handler) = sleepy(Duration::from_millis(300));
        let mut server = TestServer::start(ServerOptions::default(), handler).await;
        let addr = server.addr;
        let clients: Vec<_> = (0..20)
            .map(|_| {
                tokio::spawn(async move {
                    let mut stream = BufReader::new(TcpStream::connect(addr).await?);
                    stream.get_mut().write_all(&get("/")).await?;
                    let response = read_response(&mut stream).await?;
                    let closed = closed_within(&mut stream, Duration::from_secs(2)).await;
                    io::Result::Ok((response.status, closed.is_some()))
                })
            })
            .collect();
        while started.load(Ordering::SeqCst) < 20 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }

        let shutdown_at = Instant::now();
        server.trigger_shutdown();
        for client in clients {
            let (status, closed) = client.await.unwrap().unwrap();
            assert_eq!(status, 200);
            assert!(
                closed,
                "a connection stayed open after its response during shutdown"
            );
        }
        server.finished().await.unwrap();
        assert!(shutdown_at.elapsed() < Duration::from_secs(2));
        assert!(
            TcpStream::connect(addr).await.is_err(),
            "a new connection was accepted"
        );
    })
    .await;
}

#[tokio::test]
async fn the_drain_timeout_bounds_shutdown_when_a_handler_never_finishes() {
    within(async {
        let (started, handler) = sleepy(Duration::from_secs(60));
        let opts = ServerOptions {
            request_timeout: Duration::from_secs(60),
            drain_timeout: Duration::from_millis(300),
            ..ServerOptions::default()
        };
        let mut server = TestServer::start(opts, handler).await;
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream.write_all(&get("/")).await.unwrap();
        while started.load(Ordering::SeqCst) < 1 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }

        let shutdown_at = Instant::now();
        server.trigger_shutdown();
        server.finished().await.unwrap();
        let took = shutdown_at.elapsed();
        assert!(
            took >= Duration::from_millis(250) && took < Duration::from_millis(1500),
            "{took:?}"
        );
        let closed = closed_within(&mut stream, Duration::from_secs(1)).await;
        assert!(closed.is_some(), "the hung connection was left open");
    })
    .await;
}

#[tokio::test]
async fn an_h2c_upgrade_request_gets_a_plain_http11_answer() {
    within(async {
        let (calls, handler) = counting();
        let server = TestServer::start(ServerOptions::default(), handler).await;
        let raw = "GET /up HTTP/1.1\r\nHost: kb.example\r\nConnection: Upgrade, HTTP2-Settings\r\n\
                   Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n";
        let response = exchange(server.addr, raw.as_bytes()).await.unwrap();
        assert_eq!(response.status, 200);
        assert!(response.body_text().starts_with("/up "));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    })
    .await;
}

#[tokio::test]
async fn zero_max_connections_is_refused_at_start() {
    within(async {
        let (_calls, handler) = counting();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let opts = ServerOptions {
            max_connections: 0,
            ..ServerOptions::default()
        };
        let error = run(listener, handler, opts, std::future::pending())
            .await
            .unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
    })
    .await;
}

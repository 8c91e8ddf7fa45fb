//! `server.max_in_flight` bounds the API requests answered at once: with one slot, three
//! concurrent requests are answered one after the other; with the default, side by side. Every
//! answer is still complete and passes the leak oracle.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use kbgate::demo::DemoStack;
use kbgate::sim::{Fault, SimOptions};

use crate::support::{send_raw, token_of, LeakOracle};

/// Upstream's delay per answer: long enough to dominate every other cost in a debug build.
const DELAY: Duration = Duration::from_millis(400);

async fn stack(max_in_flight: Option<usize>) -> DemoStack {
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    DemoStack::start_edited(any, any, SimOptions::default(), |_, toml| {
        let server = "[server]\n";
        assert!(toml.contains(server), "the demo configuration has [server]");
        match max_in_flight {
            Some(n) => toml.replacen(server, &format!("{server}max_in_flight = {n}\n"), 1),
            None => toml,
        }
    })
    .await
    .expect("the demo stack starts")
}

/// Sends three searches at once as alice; returns how long until all three were answered.
async fn three_at_once(stack: &DemoStack) -> Duration {
    let token = token_of(stack, "alice");
    let oracle = LeakOracle::new(stack.sim.corpus().forbidden_canaries_for(&["acme"]));
    stack.sim.set_fault(Some(Fault::Delay(DELAY)));
    let request = format!(
        "GET /wiki/rest/api/search?cql=type%3Dpage&limit=5 HTTP/1.1\r\nHost: {}\r\n\
         Authorization: Bearer {token}\r\nConnection: close\r\n\r\n",
        stack.addr
    );
    let started = Instant::now();
    let answers =
        futures_util::future::join_all((0..3).map(|_| send_raw(stack.addr, request.as_bytes())))
            .await;
    let took = started.elapsed();
    stack.sim.set_fault(None);
    for raw in &answers {
        assert_eq!(raw.status, 200, "{}", String::from_utf8_lossy(&raw.body));
        assert!(raw.json()["size"].as_u64().unwrap_or(0) > 0, "results kept");
        oracle.assert_clean(&raw.bytes, "search under max_in_flight");
    }
    took
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_slot_answers_concurrent_requests_one_after_the_other() {
    let serial = stack(Some(1)).await;
    assert_eq!(serial.config.server.max_in_flight, 1);
    let took = three_at_once(&serial).await;
    assert!(
        took >= DELAY * 3,
        "three requests through one slot took {took:?}, less than three upstream delays"
    );
    serial.stop().await;

    let parallel = stack(None).await;
    assert_eq!(parallel.config.server.max_in_flight, 64, "the default");
    let took = three_at_once(&parallel).await;
    assert!(
        took < DELAY * 3,
        "three requests through 64 slots took {took:?}: they did not run side by side"
    );
    parallel.stop().await;
}

//! The floor for `tests/perf/compare.sh`: a plain hyper pass-through with no kbgate in it.
//!
//! Listens on 127.0.0.1, checks that the `Authorization` header is one of the allowed values
//! (a stand-in for a token-cache hit) and streams the request to the upstream through a pooled
//! hyper client, streaming the answer back. What kbgate costs on top of this is kbgate's own.
//!
//!     hyper_pass <listen-port> <upstream-base-url> <authorization-header-value>...

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response, StatusCode, Uri};
use http_body_util::{combinators::BoxBody, BodyExt, Empty};
use hyper::body::Incoming;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::{TokioExecutor, TokioIo};

type Body = BoxBody<Bytes, hyper::Error>;

struct Pass {
    upstream: String,
    allowed: HashSet<Vec<u8>>,
    client: Client<HttpConnector, Empty<Bytes>>,
}

impl Pass {
    async fn handle(&self, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
        let allowed = req
            .headers()
            .get(http::header::AUTHORIZATION)
            .is_some_and(|v| self.allowed.contains(v.as_bytes()));
        if !allowed {
            return Ok(status(StatusCode::UNAUTHORIZED));
        }
        let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
        let Ok(uri) = format!("{}{}", self.upstream, path).parse::<Uri>() else {
            return Ok(status(StatusCode::BAD_REQUEST));
        };
        let Ok(out) = Request::get(uri).body(Empty::new()) else {
            return Ok(status(StatusCode::BAD_REQUEST));
        };
        match self.client.request(out).await {
            Ok(answer) => Ok(answer.map(BodyExt::boxed)),
            Err(_) => Ok(status(StatusCode::BAD_GATEWAY)),
        }
    }
}

fn status(code: StatusCode) -> Response<Body> {
    let mut answer = Response::new(Empty::new().map_err(|never| match never {}).boxed());
    *answer.status_mut() = code;
    answer
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(port), Some(upstream)) = (args.first(), args.get(1)) else {
        eprintln!("usage: hyper_pass <listen-port> <upstream-base-url> <authorization>...");
        std::process::exit(2);
    };
    let port: u16 = port.parse().map_err(std::io::Error::other)?;
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(64)
        .build(connector);
    let pass = Arc::new(Pass {
        upstream: upstream.trim_end_matches('/').to_owned(),
        allowed: args[2..].iter().map(|a| a.as_bytes().to_vec()).collect(),
        client,
    });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        let pass = Arc::clone(&pass);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let pass = Arc::clone(&pass);
                async move { pass.handle(req).await }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

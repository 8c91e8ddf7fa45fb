//! `kbgate loadtest`: drives a running kbgate (or the embedded demo) with virtual customers of
//! several organizations, measures throughput and latency, and scans a sample of the answers
//! for other organizations' canaries — a fast run that leaks fails.
//!
//! [`run`] (or [`run_until`], with a stop signal) takes the parsed [`Args`] and returns a
//! [`Report`]; `main.rs` prints it and maps its [`Outcome`] to the exit code (0 ok, 3 leak,
//! 4 errors; 2 for bad usage, see [`LoadtestError::exit_code`]).
//!
//! # Layout
//! - [`args`]: the command-line options.
//! - `target`: `--target` parsed, resolved, loopback-only unless `--allow-remote`.
//! - `customers`: the virtual customers (demo ones, or a `--customers` TOML file) and their
//!   forbidden canaries.
//! - [`plan`]: the route mix → request targets per customer (or the `--path` list).
//! - `driver`: the connection tasks, closed loop or fixed rate.
//! - [`stats`]: HDR histograms and counters; [`oracle`]: the leak oracle, `decode`: the forms
//!   of a response it searches.
//! - [`report`]: the verdict, text and JSON; `progress`: the live line on stderr.
//!
//! Guarantees: memory is bounded by the number of connections and routes, not by the number of
//! requests; every loop ends at `--duration` or `--requests` (in-flight requests within
//! `--timeout`). Deliberately not: TLS targets, HTTP/2, scripted sessions.

pub mod args;
mod customers;
mod decode;
mod driver;
pub mod oracle;
pub mod plan;
mod progress;
pub mod report;
pub mod stats;
mod target;

#[cfg(test)]
mod plan_tests;
#[cfg(test)]
mod report_tests;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::demo::{self, DemoStack};
use crate::sim::{Corpus, SimOptions};

pub use args::Args;
pub use customers::{Customer, CustomersError};
pub use report::{Outcome, Report};
pub use target::TargetError;

use driver::{Clock, Driver, Load, Schedule};
use oracle::Oracle;
use plan::Plan;
use report::{Mode, Setup};
use stats::Stats;

/// Why a load test could not run (a run that did run always ends with a [`Report`]).
#[derive(Debug, thiserror::Error)]
pub enum LoadtestError {
    /// Options that do not fit together.
    #[error("{0}")]
    Usage(String),
    /// `--target` is unusable.
    #[error(transparent)]
    Target(#[from] TargetError),
    /// `--customers` is unusable.
    #[error(transparent)]
    Customers(#[from] CustomersError),
    /// The embedded demo did not start.
    #[error("starting the embedded demo")]
    Embedded(#[source] demo::DemoError),
    /// The leak oracle could not be built.
    #[error(transparent)]
    Oracle(#[from] oracle::OracleError),
    /// The latency histograms could not be created.
    #[error("creating the latency histograms")]
    Histogram(#[source] hdrhistogram::CreationError),
}

impl LoadtestError {
    /// 2 for bad usage (options, target, customers file), 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            LoadtestError::Usage(_) | LoadtestError::Target(_) | LoadtestError::Customers(_) => 2,
            LoadtestError::Embedded(_) | LoadtestError::Oracle(_) | LoadtestError::Histogram(_) => {
                1
            }
        }
    }
}

/// Runs the load test described by `args` to its end.
pub async fn run(args: Args) -> Result<Report, LoadtestError> {
    run_until(args, std::future::pending()).await
}

/// Like [`run`], ending early (with the figures so far) when `stop` completes, e.g. on Ctrl-C.
pub async fn run_until(
    args: Args,
    stop: impl Future<Output = ()>,
) -> Result<Report, LoadtestError> {
    if !args.embedded && args.paths.is_empty() && args.customers.is_none() {
        return Err(LoadtestError::Usage(
            "the route mix against --target needs --customers FILE (tokens and organizations); \
             or request fixed paths with --path and --header"
                .to_owned(),
        ));
    }
    if args.embedded {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        let stack = DemoStack::start_with(any, any, SimOptions::default())
            .await
            .map_err(LoadtestError::Embedded)?;
        let result = drive(&args, Some(&stack), stop).await;
        stack.stop().await;
        result
    } else {
        drive(&args, None, stop).await
    }
}

/// Sets the run up against `stack` (embedded) or `--target`, drives it, reports.
async fn drive(
    args: &Args,
    stack: Option<&DemoStack>,
    stop: impl Future<Output = ()>,
) -> Result<Report, LoadtestError> {
    let target = match (stack, &args.target) {
        (Some(s), _) => target::resolve(&s.url(), false).await?,
        (None, Some(url)) => target::resolve(url, args.allow_remote).await?,
        (None, None) => {
            return Err(LoadtestError::Usage(
                "give --target URL or --embedded".to_owned(),
            ))
        }
    };
    let corpus = match stack {
        Some(s) => s.sim.corpus().clone(),
        None => Corpus::generate(SimOptions::default().seed),
    };
    let mix_mode = args.paths.is_empty();
    let customers = customers_for(args, stack, &corpus, mix_mode)?;
    let plan = if mix_mode {
        let orgs: Vec<Vec<String>> = customers.iter().map(|c| c.orgs.clone()).collect();
        Plan::for_mix(
            &args.mix,
            &corpus,
            &orgs,
            &target.base_path,
            &args.api_prefix,
        )
    } else {
        Plan::for_paths(&target.base_path, &args.paths)
    }
    .map_err(LoadtestError::Usage)?;
    let forbidden: Vec<Vec<String>> = customers.iter().map(|c| c.forbidden.clone()).collect();
    let oracle = Oracle::new(&forbidden, &args.canaries)?;
    let connections = usize::try_from(args.connections).unwrap_or(1);
    let stats =
        Arc::new(Stats::new(plan.routes().len(), connections).map_err(LoadtestError::Histogram)?);
    let setup = Setup {
        mode: if args.rate.is_some() {
            Mode::FixedRate
        } else {
            Mode::ClosedLoop
        },
        target: target.url.clone(),
        embedded: stack.is_some(),
        connections: args.connections,
        customers: customers.iter().map(|c| c.name.clone()).collect(),
        routes: plan.routes().to_vec(),
        warmup_s: args.warmup.as_secs_f64(),
        max_error_rate: args.max_error_rate,
        oracle_sample: args.oracle_sample,
        canaries: oracle.canary_count(),
    };
    let start = Instant::now();
    let clock = Clock {
        start,
        measure: start + args.warmup,
        deadline: start + args.warmup + args.duration,
    };
    let schedule = match args.rate {
        Some(rate) => Schedule::fixed_rate(rate, args.warmup, args.duration),
        None => Schedule::Closed,
    };
    let driver = Arc::new(Driver::new(Load {
        plan,
        stats: Arc::clone(&stats),
        oracle,
        customers,
        headers: args.headers.clone(),
        target,
        clock,
        schedule,
        limit: args.requests,
        timeout: args.timeout,
        sample: args.oracle_sample,
    }));
    let (stop_tx, stop_rx) = watch::channel(false);
    let progress = (!args.quiet).then(|| {
        tokio::spawn(progress::run(
            Arc::clone(&stats),
            clock.start,
            clock.measure,
            stop_rx.clone(),
        ))
    });
    let tasks: Vec<_> = (0..connections)
        .map(|n| tokio::spawn(Arc::clone(&driver).connection(n, stop_rx.clone())))
        .collect();
    let mut all = std::pin::pin!(futures_util::future::join_all(tasks));
    tokio::select! {
        _ = &mut all => {}
        _ = stop => {
            let _ = stop_tx.send(true);
            all.await;
        }
    }
    let _ = stop_tx.send(true);
    if let Some(p) = progress {
        let _ = p.await;
    }
    let figures = stats.snapshot().map_err(LoadtestError::Histogram)?;
    let measured = match driver.measured() {
        d if d.is_zero() => Instant::now().saturating_duration_since(clock.measure),
        d => d,
    };
    let rate = args.rate.map(|rate| driver.rate_report(rate));
    Ok(Report::build(
        &setup,
        &figures,
        measured.as_secs_f64(),
        rate,
    ))
}

/// The virtual customers: the demo's (embedded), the `--customers` file's, or one anonymous
/// customer (fixed paths with `--header`). With the mix, the corpus's canaries of items a
/// customer may not see are forbidden too; `--canary` texts are added by the oracle.
fn customers_for(
    args: &Args,
    stack: Option<&DemoStack>,
    corpus: &Corpus,
    mix_mode: bool,
) -> Result<Vec<Customer>, LoadtestError> {
    let mut customers = match (stack, &args.customers) {
        (Some(stack), _) => {
            let ttl = args.warmup + args.duration + args.timeout + Duration::from_secs(3600);
            demo::customers()
                .into_iter()
                .map(|c| Customer {
                    authorization: customers::bearer(&stack.token(&c, ttl)),
                    name: c.name,
                    orgs: c.orgs,
                    forbidden: Vec::new(),
                })
                .collect()
        }
        (None, Some(path)) => customers::load(path, &|name| std::env::var(name).ok())?,
        (None, None) => vec![Customer {
            name: "anonymous".to_owned(),
            orgs: Vec::new(),
            authorization: None,
            forbidden: Vec::new(),
        }],
    };
    // The demo's corpus is what the mix requests (and what an embedded run serves).
    if mix_mode || stack.is_some() {
        for c in &mut customers {
            let orgs: Vec<&str> = c.orgs.iter().map(String::as_str).collect();
            c.forbidden.extend(corpus.forbidden_canaries_for(&orgs));
        }
    }
    Ok(customers)
}

//! The live progress line on stderr, once a second: elapsed time, recorded requests, requests
//! in the last second, p99 so far and errors. Overwritten in place (`\r`) on a terminal, one
//! plain line per second otherwise (logs, CI). `--quiet` does not start it.
//!
//! Guarantees: reads only the recorder's counters and overall histograms; stops when the run
//! does. Deliberately not: a full-screen display.

use std::io::{IsTerminal, Write};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use super::report::fmt_us;
use super::stats::Stats;

/// Prints the progress line every second until `done` turns true; on a terminal, ends the line.
pub async fn run(
    stats: Arc<Stats>,
    start: Instant,
    measure: Instant,
    mut done: watch::Receiver<bool>,
) {
    let terminal = std::io::stderr().is_terminal();
    let mut ticker =
        tokio::time::interval_at(start + Duration::from_secs(1), Duration::from_secs(1));
    let mut last = 0u64;
    let mut printed = false;
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = done.wait_for(|d| *d) => break,
        }
        let now = Instant::now();
        let requests = stats.live_requests.load(Ordering::Relaxed);
        let errors = stats.live_errors.load(Ordering::Relaxed);
        // A tick that lands on the end of the warm-up still reports the warm-up.
        let line = if now < measure + Duration::from_millis(50) {
            format!(
                "warm-up {:>5.1}s of {:.1}s",
                now.duration_since(start).as_secs_f64(),
                measure.duration_since(start).as_secs_f64()
            )
        } else {
            format!(
                "{:>6.1}s  requests {requests:>9}  {:>7} rps  p99 {:>9}  errors {errors}",
                now.duration_since(measure).as_secs_f64(),
                requests.saturating_sub(last),
                fmt_us(stats.p99_us()),
            )
        };
        last = requests;
        let mut err = std::io::stderr().lock();
        let _ = if terminal {
            write!(err, "\r{line:<78}")
        } else {
            writeln!(err, "{line}")
        };
        let _ = err.flush();
        printed = true;
    }
    if terminal && printed {
        let _ = writeln!(std::io::stderr());
    }
}

//! The matrix's figures: the test process's RSS, and the report printed and written to
//! `target/tmp/fault-matrix.log`.

use std::collections::BTreeMap;
use std::time::Duration;

use super::check::Verdict;
use super::routes::RouteCase;
use super::table::{Expect, FaultCase, EXCEPTIONS, GROUP_EXCEPTIONS};

/// The test process's resident set size (`VmRSS` of `/proc/self/status`), in KiB.
pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .expect("VmRSS in /proc/self/status")
}

/// Builds the report, writes it to `target/tmp/fault-matrix.log` and returns it.
pub fn write(
    rows: &[(FaultCase, Vec<Verdict>)],
    routes: &[RouteCase],
    (rss_before, rss_after): (u64, u64),
    (healthy, asked): (usize, usize),
    runtime: Duration,
) -> String {
    let cells = rows.iter().flat_map(|(_, v)| v);
    let counted: Vec<&Verdict> = cells
        .clone()
        .filter(|v| !matches!(v.expect, Expect::NotApplicable(_) | Expect::KnownBug { .. }))
        .collect();
    let passed = counted.iter().filter(|v| v.problems.is_empty()).count();
    let forwarded = counted.iter().filter(|v| v.upstream_bytes).count();
    let kind = |f: fn(&Expect) -> bool| {
        counted
            .iter()
            .filter(|v| f(&v.expect) && v.problems.is_empty())
            .count()
    };
    let refused = kind(|e| matches!(e, Expect::FailClosed(_)));
    let good = kind(|e| *e == Expect::GoodAnswer);
    let cut = kind(|e| *e == Expect::StreamAborted);
    let not_applicable = cells
        .clone()
        .filter(|v| matches!(v.expect, Expect::NotApplicable(_)))
        .count();
    let known = cells
        .clone()
        .filter(|v| matches!(v.expect, Expect::KnownBug { .. }))
        .count();
    let shown = cells.clone().filter(|v| v.bug_shown).count();

    let mut out = format!(
        "upstream faults: {} faults × {} routes = {passed}/{} fail closed, {forwarded} upstream bytes forwarded\n",
        rows.len(),
        routes.len(),
        counted.len()
    );
    out.push_str(&format!(
        "  {refused} kbgate's own 502/504, {good} good answers with upstream headers dropped, \
         {cut} downloads visibly cut mid-stream; {not_applicable} cells not applicable, {known} \
         cells listed as known bugs ({shown} showed their bug in this run; tables below)\n"
    ));
    out.push_str(&format!(
        "RSS before/after: {rss_before} KiB / {rss_after} KiB ({:+} KiB)\n",
        rss_after as i64 - rss_before as i64
    ));
    out.push_str(&format!(
        "after the matrix: {healthy}/{asked} routes answer 200; runtime {:.1} s\n\n",
        runtime.as_secs_f64()
    ));
    out.push_str("per fault: {status: cells}, slowest answer; failing cells marked !\n");
    for (case, verdicts) in rows {
        let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
        for v in verdicts {
            *statuses.entry(v.status).or_default() += 1;
        }
        let slowest = verdicts.iter().map(|v| v.elapsed).max().unwrap_or_default();
        let failing: Vec<&str> = routes
            .iter()
            .zip(verdicts)
            .filter(|(_, v)| !v.problems.is_empty())
            .map(|(r, _)| r.name)
            .collect();
        out.push_str(&format!(
            "  {:<28} {:<22} {:>5.1} s{}\n",
            case.name,
            format!("{statuses:?}"),
            slowest.as_secs_f64(),
            if failing.is_empty() {
                String::new()
            } else {
                format!("  ! {}", failing.join(", "))
            }
        ));
    }
    out.push_str("\ncells that differ from their fault's rule:\n");
    for (fault, route, expect) in EXCEPTIONS {
        let reason = match expect {
            Expect::NotApplicable(r) => format!("not applicable: {r}"),
            Expect::KnownBug { shows, what } => format!("KNOWN BUG (answers {shows}): {what}"),
            Expect::StreamAborted => {
                "already streaming when upstream broke: a 200 cut visibly short".to_owned()
            }
            other => format!("{other:?}"),
        };
        out.push_str(&format!("  {fault} × {route}: {reason}\n"));
    }
    for (fault, group, expect) in GROUP_EXCEPTIONS {
        let routes = if group.is_empty() {
            "every route".to_owned()
        } else {
            group.join(", ")
        };
        if let Expect::KnownBug { shows, what } = expect {
            out.push_str(&format!(
                "  {fault} × {routes}: KNOWN BUG (answers {shows}): {what}\n"
            ));
        }
    }
    let shown_cells: Vec<String> = rows
        .iter()
        .flat_map(|(case, verdicts)| {
            routes
                .iter()
                .zip(verdicts)
                .filter(|(_, v)| v.bug_shown)
                .map(move |(r, v)| format!("{} × {} ({})", case.name, r.name, v.status))
        })
        .collect();
    out.push_str(&format!(
        "known bugs shown in this run: {}\n",
        shown_cells.join(", ")
    ));
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("fault-matrix.log");
    let _ = std::fs::write(path, &out);
    out
}

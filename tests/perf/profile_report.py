#!/usr/bin/env python3
"""Turns two `perf report` listings of kbgate into "where the CPU goes" (tests/perf/profile.sh).

usage: profile_report.py CONFIG US_PER_REQ REQUESTS CHILDREN_TXT SELF_TXT

CHILDREN_TXT: `perf report --children --sort sym -g none` (inclusive share per symbol).
SELF_TXT: `perf report --no-children --sort dso,sym -g none` (exclusive share per dso and symbol).
Shares are of all of kbgate's samples (user and kernel). A part's inclusive share counts
everything it calls, so the indented parts are inside "request handling" and the parts do not
add up to 100 %.
"""

import re
import sys

# (label, indent, groups): a group's share is the largest inclusive share of the symbols its
# regexes match; a part's share is the sum of its groups' (groups never nest in each other).
PARTS = [
    ("request handling (`App::handle`, all below)", 0, [[r"^kbgate::app::App::handle\b"]]),
    ("filter: scan the upstream answer", 1,
     [[r"^kbgate::filter::search::scan_search$", r"^kbgate::filter::single::scan_content$"]]),
    ("filter: render the customer's answer", 1,
     [[r"^kbgate::filter::search::render_search_inner$",
       r"^kbgate::filter::single::render_content"]]),
    ("excerpt check (storage bodies of visible results)", 1,
     [[r"^kbgate::proxy::body_rewrite::excerpts_allowed\b"]]),
    ("metadata cache (remember, lookups)", 1,
     [[r"^kbgate::confluence::metadata::MetadataIndex::remember\b"],
      [r"^kbgate::confluence::metadata::MetadataIndex::lookup\b"]]),
    ("item decisions and audit", 1, [[r"^kbgate::audit::<impl kbgate::app::App>::decide$"]]),
    ("token check (cache hit)", 1, [[r"^kbgate::auth::Verifier::authenticate\b"]]),
    ("upstream request and body (JSON answers)", 1,
     [[r"^kbgate::confluence::Upstream::get_json_uri\b"]]),
    ("upstream request (download)", 1, [[r"^kbgate::confluence::stream::.*download\b"]]),
    ("response writes to the customer (hyper, syscall, loopback TCP)", 0,
     [[r"IdleTimeoutIo<S> as tokio::io::async_write::AsyncWrite>::poll_write_vectored$"]]),
    ("upstream connection task (hyper client, its syscalls)", 0,
     # hyper-util spawns the connection inside a `futures_util` Map; depending on inlining the
     # connection's own frame is or is not in the stack, the Map's always is.
     [[r"^<hyper::client::conn::http1::upgrades::UpgradeableConnection",
       r"^<futures_util::future::future::Map<Fut,F> as core::future::future::Future>::poll$"]]),
]
ALLOCATOR = {"malloc", "_int_malloc", "_int_free", "cfree@GLIBC_2.2.5", "free", "realloc",
             "_int_realloc", "malloc_consolidate", "unlink_chunk.constprop.0", "__libc_free",
             "__libc_malloc"}

LINE = re.compile(r"^\s+([\d.]+)%\s+([\d.]+)%\s+\[[.k]\]\s+(.*?)\s*$")
SELF_LINE = re.compile(r"^\s+([\d.]+)%\s+(\S+)\s+\[[.k]\]\s+(.*?)\s*$")


def inclusive(path):
    shares = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = LINE.match(line)
            if m:
                sym = m.group(3)
                shares[sym] = max(shares.get(sym, 0.0), float(m.group(1)))
    return shares


def largest(shares, patterns):
    best = 0.0
    for pattern in patterns:
        rx = re.compile(pattern)
        best = max([best] + [v for k, v in shares.items() if rx.search(k)])
    return best


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    config, us, requests, children, selfs = sys.argv[1:]
    us = float(us)
    shares = inclusive(children)
    kernel = user = alloc = 0.0
    with open(selfs, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = SELF_LINE.match(line)
            if not m:
                continue
            share, dso, sym = float(m.group(1)), m.group(2), m.group(3)
            if dso.startswith("[kernel"):
                kernel += share
            else:
                user += share
                if sym in ALLOCATOR:
                    alloc += share
    who = {"nginx": "nginx", "hyper": "the hyper floor"}.get(config.split("-")[0], "kbgate")
    print(f"### Where the CPU goes: {config}\n")
    print(f"{requests} requests; {who} used {us:.1f} µs of CPU per request while recorded "
          f"(perf adds a little). Shares are of {who}'s samples; indented parts are inside "
          "request handling.\n")
    print("| Part | share | µs/req |")
    print("|---|---|---|")
    for label, indent, groups in PARTS:
        share = sum(largest(shares, group) for group in groups)
        if share == 0.0:
            continue
        name = ("&nbsp;&nbsp;" * indent * 2) + label
        print(f"| {name} | {share:.1f} % | {share * us / 100:.1f} |")
    print(f"| kernel (all syscalls, loopback TCP, scheduling) | {kernel:.1f} % | {kernel * us / 100:.1f} |")
    print(f"| user space | {user:.1f} % | {user * us / 100:.1f} |")
    print(f"| &nbsp;&nbsp;&nbsp;&nbsp;of which the allocator (malloc/free) | {alloc:.1f} % | {alloc * us / 100:.1f} |")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Report of tests/perf/compare.sh: reads its raw directory, writes compare.md and compare.json.

Usage: report.py RAW OUT_MD OUT_JSON

RAW holds `env` and `configs` (written by compare.sh), `probe.json`, and per round
`round-N/{id}.wrk|.stat|.time` (+ `.fixed.json|.fixed.rc|.fixed.rate` when the fixed-rate pass
ran), and `memory/`. Per configuration the table gives medians over the rounds; ratios and
p99 differences are taken within a round (against that round's nginx proxy_pass of the same
answer), then the median of those is shown. Stdlib only.
"""

import json
import os
import re
import statistics
import sys

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def read_kv(path):
    out = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if "=" in line:
                    k, v = line.rstrip("\n").split("=", 1)
                    out[k] = v
    return out


def ms(text):
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m|h)", text)
    return float(m.group(1)) * UNITS[m.group(2)] if m else None


def parse_wrk(path):
    """rps, requests, latency percentiles (ms), error counts from wrk --latency output."""
    r = {"rps": None, "requests": 0, "non2xx": 0, "socket_errors": 0}
    if not os.path.exists(path):
        return r
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    if m := re.search(r"^Requests/sec:\s+([0-9.]+)", text, re.M):
        r["rps"] = float(m.group(1))
    if m := re.search(r"^\s*(\d+) requests in", text, re.M):
        r["requests"] = int(m.group(1))
    for pct in ("50", "75", "90", "99"):
        if m := re.search(rf"^\s+{pct}%\s+(\S+)", text, re.M):
            r[f"p{pct}_ms"] = ms(m.group(1))
    if m := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text):
        r["non2xx"] = int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text):
        r["socket_errors"] = sum(int(x) for x in m.groups())
    return r


def find_p99(value, path=()):
    """(p99 in ms, key path) from a loadtest JSON report whose exact shape is not pinned down:
    the first key named p99 / p99_us / p99_ms (not p99.9), preferring paths under `latency`."""
    found = []

    def walk(v, p):
        if isinstance(v, dict):
            for k, x in v.items():
                key = str(k).lower()
                m = re.fullmatch(r"p99(?:_(us|micros|ms|millis|ns))?", key)
                if m and isinstance(x, (int, float)):
                    unit = m.group(1) or "us"
                    scale = {"us": 1e-3, "micros": 1e-3, "ms": 1.0, "millis": 1.0, "ns": 1e-6}[unit]
                    found.append((0 if any("latency" in s for s in p) else 1, len(p), x * scale, "/".join(p + (k,))))
                else:
                    walk(x, p + (str(k),))

    walk(value, path)
    if not found:
        return None, None
    found.sort()
    return found[0][2], found[0][3]


def parse_fixed(prefix):
    if not os.path.exists(prefix + ".fixed.rc"):
        return None
    with open(prefix + ".fixed.rc", encoding="ascii") as f:
        rc = int(f.read().strip() or "-1")
    with open(prefix + ".fixed.rate", encoding="ascii") as f:
        rate = int(f.read().strip())
    report = None
    try:
        with open(prefix + ".fixed.json", encoding="utf-8") as f:
            report = json.load(f)
    except (OSError, ValueError):
        pass
    p99, key, achieved = None, None, None
    if isinstance(report, dict):
        lat = report.get("latency_us")
        if isinstance(lat, dict) and isinstance(lat.get("p99"), (int, float)):
            p99, key = lat["p99"] / 1000.0, "latency_us/p99"
        else:
            p99, key = find_p99(report)
        rate_report = report.get("rate")
        if isinstance(rate_report, dict):
            achieved = rate_report.get("achieved_rps")
    return {"rate": rate, "rc": rc, "p99_ms": p99, "p99_key": key, "achieved_rps": achieved,
            "report": report}


def run(raw, sub, cid):
    prefix = os.path.join(raw, sub, cid)
    r = parse_wrk(prefix + ".wrk")
    st = read_kv(prefix + ".stat")
    if not st or not r["requests"]:
        return None
    tck = float(st["clk_tck"])
    dur = float(st["duration"])
    n = r["requests"]
    sut_s = int(st["sut_ticks"]) / tck
    up_s = int(st["upstream_ticks"]) / tck
    client_s = float(st.get("client_user", 0)) + float(st.get("client_sys", 0))
    has_sut = st.get("has_sut") == "1"
    r.update(
        sut_cpu_us=sut_s * 1e6 / n if has_sut else None,
        upstream_cpu_us=up_s * 1e6 / n,
        rss_mb=int(st["rss_kb"]) / 1024 if has_sut else None,
        client_cpus=client_s / dur,
        # CPU 1's load implied by the per-request figures: rps x (SUT + upstream CPU per request).
        server_cpus=(r["rps"] or 0) * ((sut_s if has_sut else 0) + up_s) / n,
        # Whatever else ran on the machine meanwhile (other builds, the OS), in CPUs.
        other_cpus=max(0.0, int(st["machine_busy_ticks"]) / tck - sut_s - up_s - client_s) / dur,
        connections=int(st["connections"]),
    )
    r["fixed"] = parse_fixed(prefix)
    return r


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, spec, suffix=""):
    return "—" if v is None else f"{v:{spec}}{suffix}"


def fmt_rps(v):
    return "—" if v is None else (f"{v / 1000:.1f}k" if v >= 1000 else f"{v:.0f}")


def main():
    raw, out_md, out_json = sys.argv[1:4]
    env = read_kv(os.path.join(raw, "env"))
    with open(os.path.join(raw, "configs"), encoding="utf-8") as f:
        configs = [dict(zip(("id", "label", "server", "path", "baseline", "group"), line.rstrip("\n").split("|")))
                   for line in f if line.strip()]
    rounds = sorted(int(d.split("-")[1]) for d in os.listdir(raw) if d.startswith("round-"))
    runs = {c["id"]: [run(raw, f"round-{n}", c["id"]) for n in rounds] for c in configs}

    rows = []
    for c in configs:
        rs, base = runs[c["id"]], runs[c["baseline"]]
        ratios, deltas = [], []
        for r, b in zip(rs, base):
            if r and b and r["rps"] and b["rps"]:
                ratios.append(r["rps"] / b["rps"])
            rf, bf = (r or {}).get("fixed"), (b or {}).get("fixed")
            if rf and bf and rf["p99_ms"] is not None and bf["p99_ms"] is not None:
                deltas.append(rf["p99_ms"] - bf["p99_ms"])
        ok = [r for r in rs if r]
        fixed = [r["fixed"] for r in ok if r.get("fixed")]
        rows.append({
            "id": c["id"], "label": c["label"], "path": c["path"], "baseline": c["baseline"],
            "rounds": len(ok),
            "rps": med([r["rps"] for r in ok]),
            "ratio_to_nginx": med(ratios) if c["id"] != c["baseline"] else 1.0,
            "ratios": ratios,
            "p50_ms": med([r.get("p50_ms") for r in ok]),
            "p99_ms": med([r.get("p99_ms") for r in ok]),
            "fixed_rate": med([f["rate"] for f in fixed]),
            "fixed_p99_ms": med([f["p99_ms"] for f in fixed]),
            "fixed_achieved": med([f["achieved_rps"] for f in fixed]),
            "fixed_p99_delta_ms": med(deltas) if c["id"] != c["baseline"] else (0.0 if fixed else None),
            "sut_cpu_us": med([r["sut_cpu_us"] for r in ok]),
            "upstream_cpu_us": med([r["upstream_cpu_us"] for r in ok]),
            "rss_mb": max((r["rss_mb"] for r in ok if r["rss_mb"] is not None), default=None),
            "server_cpus": med([r["server_cpus"] for r in ok]),
            "client_cpus": med([r["client_cpus"] for r in ok]),
            "other_cpus": med([r["other_cpus"] for r in ok]),
            "non2xx": sum(r["non2xx"] for r in ok),
            "socket_errors": sum(r["socket_errors"] for r in ok),
        })
    memory = {c["id"]: run(raw, "memory", c["id"]) for c in configs}
    memory = {k: v for k, v in memory.items() if v}
    probe = {}
    if os.path.exists(os.path.join(raw, "probe.json")):
        with open(os.path.join(raw, "probe.json"), encoding="utf-8") as f:
            probe = json.load(f)

    md = []
    md.append(f"### kbgate vs nginx: {env.get('rounds')} round(s) × {env.get('duration')} s, "
              f"wrk -t1 -c32 (medians over rounds; ratios and Δ within each round)\n")
    md.append("| Configuration | rps | × nginx | p50 | p99 | p99 at fixed rate (Δ nginx) | SUT CPU µs/req | upstream CPU µs/req | SUT peak RSS |")
    md.append("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        if r["fixed_p99_ms"] is None:
            fixed = "—"
        else:
            delta = "" if r["id"] == r["baseline"] else f" ({r['fixed_p99_delta_ms']:+.2f} ms)" if r["fixed_p99_delta_ms"] is not None else ""
            fixed = f"{r['fixed_p99_ms']:.2f} ms @ {r['fixed_rate']:.0f}/s{delta}"
            if r["fixed_achieved"] is not None and r["fixed_achieved"] < 0.95 * r["fixed_rate"]:
                fixed = (f"overloaded: {r['fixed_achieved']:.0f} of {r['fixed_rate']:.0f}/s served, "
                         f"p99 {r['fixed_p99_ms']:.0f} ms")
        ratio = "1" if r["id"] == r["baseline"] else fmt(r["ratio_to_nginx"], ".2f")
        md.append(f"| {r['label']} | {fmt_rps(r['rps'])} | {ratio} | {fmt(r['p50_ms'], '.2f', ' ms')} | "
                  f"{fmt(r['p99_ms'], '.2f', ' ms')} | {fixed} | {fmt(r['sut_cpu_us'], '.1f')} | "
                  f"{fmt(r['upstream_cpu_us'], '.1f')} | {fmt(r['rss_mb'], '.1f', ' MB')} |")
    if env.get("loadtest") != "1":
        md.append("\nThe fixed-rate pass was skipped: this kbgate build has no `loadtest` subcommand.")

    md.append("\n#### Who was the ceiling?\n")
    md.append("CPU 1 holds upstream nginx and the system under test; `rps × (SUT + upstream CPU µs/req)` is how busy "
              "it was (1.00 = full: the servers were the limit). CPU 0 holds wrk alone. *Other* is whatever else "
              "ran on the machine meanwhile (other builds): above ~0.05 the figures are noisy.\n")
    md.append("| Configuration | CPU 1 busy (servers) | CPU 0 busy (wrk) | other load | limit |")
    md.append("|---|---|---|---|---|")
    for r in rows:
        s, c = r["server_cpus"] or 0, r["client_cpus"] or 0
        o = r["other_cpus"] or 0
        limit = ("servers" if s >= 0.9 else "client (wrk)" if c >= 0.9
                 else "other processes (noisy)" if o >= 0.1 else "neither saturated")
        md.append(f"| {r['label']} | {s:.2f} | {c:.2f} | {fmt(r['other_cpus'], '.2f')} | {limit} |")

    if memory:
        md.append("\n#### Memory: 1000 connections (wrk -t1 -c1000)\n")
        md.append("| Configuration | rps | p99 | SUT peak RSS | non-2xx + socket errors |")
        md.append("|---|---|---|---|---|")
        for cid, r in memory.items():
            label = next(c["label"] for c in configs if c["id"] == cid)
            md.append(f"| {label} | {fmt_rps(r['rps'])} | {fmt(r.get('p99_ms'), '.2f', ' ms')} | "
                      f"{fmt(r['rss_mb'], '.1f', ' MB')} | {r['non2xx'] + r['socket_errors']} |")

    by_id = {r["id"]: r for r in rows}
    goals = []

    def goal(name, value, ok, shown):
        goals.append(f"- {name}: {shown} — {'met' if ok else 'NOT met'}" if value is not None else f"- {name}: not measured")

    a, f25, f200 = by_id.get("kbgate-auth", {}), by_id.get("kbgate-filter-25", {}), by_id.get("kbgate-filter-200", {})
    goal("auth only ≥ 0.95× nginx", a.get("ratio_to_nginx"), (a.get("ratio_to_nginx") or 0) >= 0.95, fmt(a.get("ratio_to_nginx"), ".2f", "×"))
    goal("auth + filter (25 results) ≥ 0.60× nginx", f25.get("ratio_to_nginx"), (f25.get("ratio_to_nginx") or 0) >= 0.60, fmt(f25.get("ratio_to_nginx"), ".2f", "×"))
    goal("auth + filter (200 results) ≥ 0.50× nginx", f200.get("ratio_to_nginx"), (f200.get("ratio_to_nginx") or 0) >= 0.50, fmt(f200.get("ratio_to_nginx"), ".2f", "×"))
    for r in (a, f25):
        d = r.get("fixed_p99_delta_ms")
        shown = fmt(d, "+.2f", " ms")
        if r.get("fixed_achieved") is not None and r["fixed_achieved"] < 0.95 * r["fixed_rate"]:
            shown = f"overloaded at {r['fixed_rate']:.0f}/s (served {r['fixed_achieved']:.0f}/s)"
        goal(f"p99 at half nginx's rate within +1 ms of nginx ({r.get('id')})", d, d is not None and d <= 1.0, shown)
    m = memory.get("kbgate-filter-25")
    goal("≤ 64 MB RSS at 1000 connections", m and m["rss_mb"], bool(m) and m["rss_mb"] <= 64, fmt(m and m["rss_mb"], ".1f", " MB"))
    md.append("\n#### Goals of issue 7\n")
    md.extend(goals)

    md.append("\n#### Correctness probe\n")
    md.append("passed: no foreign canary in any filtered answer, `size == len(results)`, kept counts as expected, "
              "globex's attachment and page 404, no token 401" if probe.get("ok") else
              f"FAILED: {probe.get('failures')}")

    md.append("\n#### Machine and versions\n")
    md.append(f"- {env.get('nproc')} vCPU, {env.get('cpu_model')}, {env.get('kernel')}; "
              f"{'wrk pinned to CPU 0, upstream nginx + SUT to CPU 1' if env.get('pinned') == '1' else 'NOT pinned'}")
    md.append(f"- nginx {env.get('nginx')}, wrk {env.get('wrk')}, {env.get('rustc')}, {env.get('kbgate')} (commit {env.get('commit')})")
    md.append(f"- bodies: 25-result search {int(env.get('search25_bytes', 0)) / 1024:.1f} KiB, "
              f"200-result search {int(env.get('search200_bytes', 0)) / 1024:.1f} KiB, "
              f"attachment {int(env.get('attachment_bytes', 0)) / 1024:.1f} KiB; about half of the results foreign")
    md.append(f"- {env.get('date')}; reproduce with `tests/perf/compare.sh --rounds {env.get('rounds')} --duration {env.get('duration')}`")
    text = "\n".join(md) + "\n"
    with open(out_md, "w", encoding="utf-8") as f:
        f.write(text)
    with open(out_json, "w", encoding="utf-8") as f:
        json.dump({"env": env, "summary": rows, "memory": memory, "probe": probe,
                   "rounds": {cid: rs for cid, rs in runs.items()}}, f, indent=1)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Helpers of bench/run: parse wrk's output, and turn the rows a run
recorded into the table and the JSON report.

  report.py wrk FILE                    prints "RPS P50_MS P99_MS ERRORS" of a
                                        `wrk --latency` output
  report.py add ROWS_FILE KEY=VALUE...  appends one row (numbers stay numbers)
  report.py table ROWS_FILE OUT_JSON [--readme README] [--meta KEY=VALUE...]
                                        prints the table, writes OUT_JSON and,
                                        with --readme, replaces README's table
                                        between its bench markers

A row: row, what, ours, peer, peer_name, unit, better (higher|lower),
ours_cpu and peer_cpu (the same work per CPU-second of the server process
and its children, where measured),
target (text), target_kind (ratio_min: ours/peer at least target_value;
min: ours at least; max: ours below), target_value, note. ratio is
ours/peer; met is true, false, or null where no target applies or the row
was skipped.
"""
import datetime
import json
import os
import platform
import re
import subprocess
import sys

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def parse_wrk(text):
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    count = re.search(r"(\d+) requests in", text)
    lat = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", text, re.M))

    def ms(v):
        if not v:
            return None
        m = re.match(r"([\d.]+)(\w+)", v)
        return float(m.group(1)) * UNITS[m.group(2)]

    errors = 0
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    if m:
        errors += int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        errors += int(m.group(1)) + int(m.group(3)) + int(m.group(4))
    return (float(rps.group(1)) if rps else None, ms(lat.get("50")), ms(lat.get("99")), errors,
            int(count.group(1)) if count else 0)


def value(v):
    if v in ("", "null", "None"):
        return None
    try:
        return int(v) if re.fullmatch(r"-?\d+", v) else float(v) if re.fullmatch(r"-?[\d.]+(e-?\d+)?", v) else v
    except ValueError:
        return v


def judge(r):
    ours, peer = r.get("ours"), r.get("peer")
    r["ratio"] = round(ours / peer, 3) if isinstance(ours, (int, float)) and isinstance(peer, (int, float)) and peer else None
    kind, tv = r.get("target_kind"), r.get("target_value")
    met = None
    if ours is not None and tv is not None:
        if kind == "ratio_min":
            met = r["ratio"] is not None and r["ratio"] >= tv
        elif kind == "min":
            met = ours >= tv
        elif kind == "max":
            met = ours < tv
    r["met"] = met
    return r


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])

    def out(*cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    osr = {}
    if os.path.exists("/etc/os-release"):
        for line in open("/etc/os-release"):
            k, _, v = line.strip().partition("=")
            osr[k] = v.strip('"')
    return {
        "cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem_kb / 1048576, 1),
        "kernel": platform.release(), "os": osr.get("PRETTY_NAME", ""),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": out("git", "rev-parse", "--short", "HEAD"),
    }


def fmt(v):
    if v is None:
        return "—"
    if isinstance(v, float):
        if v >= 1000:
            return f"{v:,.0f}"
        if v >= 100:
            return f"{v:.0f}"
        if v >= 10:
            return f"{v:.1f}"
        return f"{v:.2f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def cpu(r):
    """Work per CPU-second of the server (ours / peer), and their ratio."""
    o, p = r.get("ours_cpu"), r.get("peer_cpu")
    if o is None and p is None:
        return ""
    text = f"{fmt(o)} / {fmt(p)}"
    if isinstance(o, (int, float)) and isinstance(p, (int, float)) and p:
        text += f" ({o / p:.2f}×)"
    return text


def table(rows):
    head = ["#", "what", "ours", "peer", "ratio", "unit", "per CPU-s: ours / peer", "target", "met"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        peer = fmt(r.get("peer")) + (f" ({r['peer_name']})" if r.get("peer_name") and r.get("peer") is not None else "")
        what = r["what"] + (f" — {r['note']}" if r.get("note") else "")
        met = {True: "yes", False: "**no**", None: ""}[r.get("met")]
        lines.append("| " + " | ".join([str(r["row"]), what, fmt(r.get("ours")), peer,
                                         fmt(r.get("ratio")) + ("×" if r.get("ratio") is not None else ""),
                                         r.get("unit", ""), cpu(r), r.get("target") or "", met]) + " |")
    return "\n".join(lines)


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "wrk":
        rps, p50, p99, errors, count = parse_wrk(open(sys.argv[2]).read())
        print(*(("" if v is None else round(v, 3)) for v in (rps, p50, p99)), errors, count)
    elif cmd == "add":
        row = {}
        for kv in sys.argv[3:]:
            k, _, v = kv.partition("=")
            row[k] = v if k in ("what", "note", "target", "peer_name", "unit") else value(v)
        with open(sys.argv[2], "a") as f:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    elif cmd == "table":
        rows = [judge(json.loads(l)) for l in open(sys.argv[2]) if l.strip()] if os.path.exists(sys.argv[2]) else []
        rows.sort(key=lambda r: r.get("row", 0))  # stable: a row's lines keep their order
        rest = sys.argv[4:]
        readme = rest[rest.index("--readme") + 1] if "--readme" in rest else None
        meta = dict(kv.partition("=")[::2] for kv in rest[rest.index("--meta") + 1:]) if "--meta" in rest else {}
        info = machine()
        report = {"machine": info, "run": meta, "rows": rows}
        with open(sys.argv[3], "w") as f:
            json.dump(report, f, indent=1, ensure_ascii=False)
            f.write("\n")
        md = table(rows)
        where = (f"Machine: {info['cpu']}, {info['cores']} cores, {info['memory_gib']} GiB, "
                 f"{info['os']} (kernel {info['kernel']}); commit {info['commit']}, {info['date']}"
                 + (f"; {meta.get('mode', '')} run, {meta.get('seconds', '?')} s" if meta else "")
                 + (f"; load average {meta['load_before']} before, {meta['load_after']} after" if meta.get("load_before") else "")
                 + ".")
        print(md)
        print()
        print(where)
        if readme and os.path.exists(readme):
            text = open(readme).read()
            begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
            if begin in text and end in text:
                pre, _, tail = text.partition(begin)
                _, _, post = tail.partition(end)
                with open(readme, "w") as f:
                    f.write(pre + begin + "\n" + md + "\n\n" + where + "\n" + end + post)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()

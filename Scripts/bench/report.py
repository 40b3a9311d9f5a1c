#!/usr/bin/env python3
"""Turns the raw benchmark measurements into the table, Documentation/benchmarks.md and benchmarks.png.

report.py [--job JOBDIR [--job JOBDIR2]] [--monitor-job JOBDIR] --host OUTDIR --doc DOCDIR [--only PARTS]

JOBDIR: a VM job folder (results.tsv, checks.tsv, meta.txt, stdout); the second is the per-packet VM's (its
meta.txt is read under the prefix packets_). OUTDIR: host-results.tsv, host-meta.txt.
--monitor-job JOBDIR: the health-check VM's job folder (monitor.tsv, checks.tsv, meta.txt, read under the prefix
monitor_): the section "Health checks".
--only: the parts the run measured (BENCH_ONLY; empty = all). `--only nft` rewrites only the nftables block of
DOCDIR/benchmarks.md (its goal rows, the note under the goal table and the section "nftables backend") and leaves
every other figure as it was; `--only monitor` rewrites only the section "Health checks" (between its markers, or
inserted before "Checks"); any other partial run prints the table and writes no document.
Every ratio compares two tools measured in the same run: the ratio of their medians, with the range of the
per-repetition ratios (tools paired by repetition number) in brackets.
"""
import argparse
import os
import statistics
import subprocess
import sys
from collections import defaultdict


def read_tsv(path):
    rows = []
    if not os.path.exists(path):
        return rows
    with open(path) as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) == 7:
                rows.append({"test": p[0], "tool": p[1], "n": int(p[2]), "rep": int(p[3]),
                             "ms": float(p[4]), "rss": int(p[5]), "rc": int(p[6])})
    return rows


def read_meta(path):
    m = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                if "\t" in line:
                    k, v = line.rstrip("\n").split("\t", 1)
                    m[k] = v
    return m


class Data:
    def __init__(self, rows):
        self.meta = {}
        self.ms = defaultdict(dict)   # (test, tool, n) -> {rep: ms}
        self.rss = defaultdict(dict)
        for r in rows:
            if r["rep"] < 1:
                continue  # warm-up
            k = (r["test"], r["tool"], r["n"])
            self.ms[k][r["rep"]] = r["ms"]
            self.rss[k][r["rep"]] = r["rss"]
        # the two restores of the bundle tests (firewall restore + ipvsadm -R), added per repetition
        for test, fw in (("bundles", "iptables-restore"), ("nft-bundles", "nft-f"), ("nft-bundles-cpu", "nft-f")):
            a, b = self.ms.get((test, fw, 1000), {}), self.ms.get((test, "ipvsadm-R", 1000), {})
            both = {rep: a[rep] + b[rep] for rep in a if rep in b}
            if both:
                self.ms[(test, "restores", 1000)] = both

    def has(self, test, tool, n):
        return bool(self.ms.get((test, tool, n)))

    def stat(self, test, tool, n, what="ms"):
        v = list((self.ms if what == "ms" else self.rss).get((test, tool, n), {}).values())
        if not v:
            return None
        return statistics.median(v), min(v), max(v), len(v)

    def ratio(self, test, num, den, n, den_test=None, n_den=None):
        """median(num) / median(den), and the range of the per-repetition ratios."""
        a = self.ms.get((test, num, n), {})
        b = self.ms.get((den_test or test, den, n if n_den is None else n_den), {})
        if not a or not b:
            return None
        r = statistics.median(a.values()) / statistics.median(b.values())
        per = [a[k] / b[k] for k in a if k in b and b[k] > 0]
        return r, (min(per) if per else r), (max(per) if per else r)


def fmt_ms(s):
    if s is None:
        return "n/a"
    med, lo, hi, n = s
    return f"{med:,.0f} ms [{lo:,.0f}-{hi:,.0f}]" if med >= 100 else f"{med:,.1f} ms [{lo:,.1f}-{hi:,.1f}]"


def fmt_ratio(r):
    if r is None:
        return "n/a"
    return f"{r[0]:.2f}x [{r[1]:.2f}-{r[2]:.2f}]"


# Tests and checks of the nftables block (its own section of the document; BENCH_ONLY=nft measures only these).
NFT_TESTS = ("nft-bundles", "nft-bundles-cpu", "packets")
NFT_BEGIN, NFT_END = "<!-- nft-bench: begin -->", "<!-- nft-bench: end -->"
NOTE_BEGIN, NOTE_END = "<!-- nft-bench-note: begin -->", "<!-- nft-bench-note: end -->"
PARTS = ("load", "list", "bundles", "small", "mem", "nft", "monitor")


def is_nft_check(c):
    return c[0].startswith("nft ") or c[0].startswith("packets")


def fmt_us(x):
    return f"{x:,.1f} us" if abs(x) < 100 else f"{x:,.0f} us"


def nft_goals(d):
    """The goal rows of the nftables block: (work, compared with, measured, ratio, goal, met). d.meta: the run's."""
    goals = []
    st = lambda tool: d.stat("nft-bundles", tool, 1000)
    r = d.ratio("nft-bundles", "rclocal", "lvsctl", 1000)
    goals.append(("1,000 bundles, nftables", "4 nft add + 1,000 nft add element + 1,000 ipvsadm -A",
                  f"{fmt_ms(st('lvsctl'))} vs {fmt_ms(st('rclocal'))}", f"{fmt_ratio(r)} faster", ">= 50x faster",
                  None if r is None else r[0] >= 50))
    r = d.ratio("nft-bundles", "lvsctl", "restores", 1000)
    goals.append(("1,000 bundles, nftables", "nft -f + ipvsadm -R",
                  f"{fmt_ms(st('lvsctl'))} vs {fmt_ms(st('restores'))}", f"lvsctl/other {fmt_ratio(r)}", "<= 1.2x",
                  None if r is None else r[0] <= 1.2))
    packets = int(d.meta.get("packets_packets", "10000"))
    for tool, label, goal, ok in (("nftables", "marking per packet, nftables", "<= 1.1x (does not grow)", lambda x: x <= 1.1),
                                  ("legacy", "marking per packet, iptables-legacy", "> 1.1x (grows)", lambda x: x > 1.1)):
        r = d.ratio("packets", tool, tool, 1000, n_den=1)
        a, b = d.stat("packets", tool, 1000), d.stat("packets", tool, 1)
        measured = "n/a" if not (a and b) else \
            f"{a[0] * 1e6 / packets:,.0f} vs {b[0] * 1e6 / packets:,.0f} instructions per packet (median)"
        goals.append((label, "the same packets with 1 bundle", measured, f"1,000/1 {fmt_ratio(r)}", goal,
                      None if r is None else ok(r[0])))
    return goals


def nft_section(d, meta, checks, reps_packets, packets):
    """The section "nftables backend" (between its markers)."""
    L = []
    w = L.append
    w(NFT_BEGIN)
    w("## nftables backend")
    w("")
    w(f"Run: {meta.get('date', '?')}, lvsctl {meta.get('lvsctl_commit', '?')}, "
      + (f"VM part {int(meta.get('vm_seconds', '0')) // 60} min {int(meta.get('vm_seconds', '0')) % 60} s"
         if meta.get("only") != "nft" else
         f"`BENCH_ONLY=nft make bench` (only this block), VM part {int(meta.get('vm_seconds', '0')) // 60} min "
         f"{int(meta.get('vm_seconds', '0')) % 60} s")
      + f"; {meta.get('nftables_version', 'nft ?')}, guest kernel {meta.get('guest_kernel', '?')} (TCG); host "
      f"{meta.get('host_cpu_model', '?')}, {meta.get('host_cpus', '?')} CPUs, load {meta.get('host_load', '?')}.")
    w("")
    w("### 1,000 bundles")
    w("")
    w("| tool | command | median [min-max] | reps | peak RSS (median) |")
    w("|---|---|---:|---:|---:|")
    rows = [("lvsctl", "`lvsctl restore --firewall nftables bundles.lvsctl`"),
            ("nft-f", "`nft -f nft.rules` (`nft list table ip lvsctl` of what lvsctl built)"),
            ("ipvsadm-R", "`ipvsadm -R < fwmark.ipvsadm` (`ipvsadm -Sn` of what lvsctl built)"),
            ("restores", "`nft -f` + `ipvsadm -R`, added per repetition"),
            ("rclocal", "`bash nft-rclocal.sh`: 4 `nft add` (table, map, chain, rule), 1,000 `nft add element` "
                        "(one per bundle, its 2 ports), 1,000 `ipvsadm -A -f M -s wlc`"),
            ("lvsctl-legacy", "`lvsctl restore --firewall iptables-legacy bundles.lvsctl` (context)")]
    for tool, cmd in rows:
        s, r = d.stat("nft-bundles", tool, 1000), d.stat("nft-bundles", tool, 1000, "rss")
        if s is None:
            continue
        rss = f"{r[0] / 1024:.1f} MiB" if r and r[0] > 0 else ""
        w(f"| {tool} | {cmd} | {fmt_ms(s)} | {s[3]} | {rss} |")
    w("")
    for num, den, what in (("lvsctl", "restores", "lvsctl / (nft -f + ipvsadm -R)"),
                           ("lvsctl", "nft-f", "lvsctl / nft -f alone (lvsctl also adds the 1,000 services)"),
                           ("rclocal", "lvsctl", "rc.local way / lvsctl"),
                           ("lvsctl", "lvsctl-legacy", "lvsctl on nftables / lvsctl on iptables-legacy (same run)")):
        r = d.ratio("nft-bundles", num, den, 1000)
        if r:
            w(f"- {what}: {fmt_ratio(r)}")
    cpu = {t: d.stat("nft-bundles-cpu", t, 1000) for t in ("lvsctl", "nft-f", "ipvsadm-R", "restores")}
    r = d.ratio("nft-bundles-cpu", "lvsctl", "restores", 1000)
    if r and all(cpu.values()):
        w(f"- The same load counted in instructions (user + system CPU time of each command in the per-packet VM, "
          f"whose clock counts instructions; {cpu['lvsctl'][3]} repetitions; work the kernel does later, outside the "
          f"command, is not counted): lvsctl {fmt_ms(cpu['lvsctl'])}, `nft -f` {fmt_ms(cpu['nft-f'])} + "
          f"`ipvsadm -R` {fmt_ms(cpu['ipvsadm-R'])} = {fmt_ms(cpu['restores'])}; lvsctl / (nft -f + ipvsadm -R) "
          f"{fmt_ratio(r)}.")
    w("")
    w("### Marking cost per packet")
    w("")
    base = d.stat("packets", "none", 0)
    w(f"Bursts of {packets:,} TCP SYNs to the last bundle's VIP:port (192.0.2.80:10002, mark 1000), "
      f"{reps_packets} bursts per configuration, all configurations interleaved, in a VM whose clock counts "
      f"instructions ({meta.get('packet_vm', 'qemu -icount shift=0')}; VM part "
      f"{int(meta.get('vm_packets_seconds', '0')) // 60} min {int(meta.get('vm_packets_seconds', '0')) % 60} s). "
      "A burst's figure is the CPU time of the send loop (which includes the receive path, run in the sender's "
      "softirq) plus what ksoftirqd ran meanwhile; 1 ms of that guest time = 1 million guest instructions, "
      "whatever the host's load, so the figures below are instruction counts, not real time.")
    w("")
    w("| director's firewall | bundles | burst: median [min-max] | per packet | marking per packet (above no firewall) | burst 1,000 / 1 |")
    w("|---|---:|---:|---:|---:|---:|")
    labels = (("none", "none (no firewall)"),
              ("legacy", "iptables-legacy (lvsctl): 1 MARK rule per bundle, one chain"),
              ("nftables", "nftables (lvsctl): 2 elements per bundle in one map with intervals, one lookup"),
              ("nft-hash", "reference: the same map without `flags interval` (a hash), loaded with `nft -f`"))
    marking = {}
    for tool, label in labels:
        for n in ((0,) if tool == "none" else (1, 1000)):
            s = d.stat("packets", tool, n)
            if s is None:
                continue
            per = s[0] * 1e6 / packets
            above = ""
            if base and tool != "none":
                marking[(tool, n)] = (s[0] - base[0]) * 1e6 / packets
                above = f"{marking[(tool, n)]:,.0f} instructions"
            ratio = fmt_ratio(d.ratio("packets", tool, tool, 1000, n_den=1)) if n == 1000 else ""
            w(f"| {label} | {n:,} | {fmt_ms(s)} | {per:,.0f} instructions | {above} | {ratio} |")
    w("")
    for tool, name in (("legacy", "iptables-legacy"), ("nftables", "nftables"), ("nft-hash", "the hash reference")):
        if (tool, 1) in marking and (tool, 1000) in marking:
            m1, m2 = marking[(tool, 1)], marking[(tool, 1000)]
            w(f"- {name}: marking costs {m1:,.0f} instructions per packet with 1 bundle and {m2:,.0f} with 1,000 "
              f"({m2 - m1:+,.0f}" + (f", {m2 / m1:.1f}x" if m1 > 0 else "") + ").")
    w("")
    nft_checks = [c for c in checks if len(c) == 3 and is_nft_check(c)]
    bad = [c for c in nft_checks if c[1] != c[2]]
    w(f"Checks: {len(nft_checks) - len(bad)} of {len(nft_checks)} passed"
      + (":" if not bad else "; FAILED:"))
    for c in bad:
        w(f"- {c[0]}: wanted `{c[1]}`, got `{c[2]}`")
    if not bad:
        w("lvsctl built the table `ip lvsctl` alone, with 2,000 elements, and 1,000 fwmark services; `nft -f` + "
          "`ipvsadm -R` and the rc.local way built exactly the same table (`nft list table ip lvsctl`, byte for byte) "
          "and the same IPVS table (`ipvsadm -Sn`); in the per-packet test every director held the rules it should "
          "(1 or 1,000 MARK rules; 2 or 2,000 map elements, with intervals or, for the reference, without) and, after "
          "its hooks, exactly the 100 packets of a probe burst carried mark 1000 (none without a firewall), counted "
          "by an nft counter at priority mangle + 10; every director received every packet of every burst.")
    w("")
    w("Method:")
    w("")
    w("- The same `bundles.lvsctl` as the legacy bundle rows (1,000 `bundle add NAME --vip V --ports P,P+1 --mark M "
      "-s wlc` lines). A scratch namespace gets `lvsctl restore --firewall nftables` of it; `nft list table ip lvsctl` "
      "and `ipvsadm -Sn` of the result are the inputs of the other ways, as `iptables-legacy-save` is for the legacy "
      "rows. In the main VM (wall clock, like every figure above): every timed run gets a fresh namespace, timed by "
      "`timeit` inside it, tools in rotating order, CPUs idle in between (as above); a warm-up (not counted) loads "
      "`nft` and libnftables into the page cache; lvsctl and the restores: "
      f"{len(d.ms.get(('nft-bundles', 'lvsctl', 1000), {}))} repetitions (`BENCH_NFT_REPS`), the rc.local way: "
      f"{len(d.ms.get(('nft-bundles', 'rclocal', 1000), {}))} (`BENCH_RCLOCAL_REPS`; about 1,000 `nft` processes "
      "each reading the growing map, minutes under emulation). The fair comparison is lvsctl against `nft -f` + "
      "`ipvsadm -R`: both build the firewall table and the 1,000 fwmark services. The goal rows use these "
      "wall-clock medians; the instruction counts are the check that host load did not decide them.")
    w("- Per packet (Scripts/bench/guest.sh, part `packets`, in its own boot: `qemu -icount shift=0,sleep=off`, one "
      "vCPU, so the guest clock advances by 1 ns per instruction executed and a burst's time is the guest's work, "
      "not the host's load; two vCPUs do not boot in that mode): seven director namespaces at once: no firewall; "
      "iptables-legacy with 1 and with 1,000 bundles; nftables with 1 and with 1,000 bundles (`lvsctl restore "
      "--firewall ...`; the 1-bundle file is the last bundle alone, so the packets, the VIP:port and the mark are the "
      "same everywhere); and, as a reference that lvsctl does not build, lvsctl's nftables table reloaded by `nft -f` "
      "without `flags interval` (the same elements in a hash map). Each has a client namespace on a veth pair; the "
      "director blackholes 192.0.2.0/24, so a packet costs ip_rcv, the PREROUTING hooks (the marking) and a route "
      "lookup, and nothing comes back; the client's neighbour entry is permanent (no ARP). `pktburst` "
      "(Scripts/bench/pktburst.c: static, a raw socket, sendmmsg) sends the burst from the client; without XDP the "
      "veth peer processes each packet in the sender's softirq, and Debian's kernel (no CONFIG_IRQ_TIME_ACCOUNTING) "
      "charges that work to the sender, so the burst's cost is pktburst's CPU time around its send loop "
      "(CLOCK_PROCESS_CPUTIME_ID) plus the CPU time of ksoftirqd/0 meanwhile (receive work deferred to it). CPU time, "
      "not the guest clock: while the vCPU waits, `sleep=off` jumps the clock ahead, which in trial runs made single "
      "wall-clock bursts many times too long; `packets.log` in the job folder keeps the wall time of every burst. "
      "Every burst also checks that the director received all its packets. On iptables-legacy the packet walks the "
      "chain rule by rule (the last bundle's rule is the 1,000th, and MARK does not end the walk); on nftables the "
      "chain has one rule and one lookup in the map, a pipapo set (concatenated key with intervals) whose lookup "
      "ANDs bitmaps with one bit per element, so it too grows with the number of elements, far more slowly; a hash "
      "lookup does not. `marking per packet` = (burst - burst without a firewall) / packets.")
    w(NFT_END)
    return L


def update_nft_block(path, goals, section, note):
    """Rewrites only the nftables block of an existing document: goal rows, the note under the goal table, the section."""
    with open(path) as f:
        lines = f.read().split("\n")
    def strip_block(lines, begin, end):
        if begin in lines and end in lines:
            i, j = lines.index(begin), lines.index(end)
            del lines[i:j + 1]
            if i < len(lines) and lines[i] == "" and i > 0 and lines[i - 1] == "":
                del lines[i]
        return lines
    lines = strip_block(lines, NFT_BEGIN, NFT_END)
    lines = strip_block(lines, NOTE_BEGIN, NOTE_END)
    g = lines.index("## Goals")
    start = next(i for i in range(g, len(lines)) if lines[i].startswith("|"))
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    names = {x[0] for x in goals}
    table = [l for l in lines[start:end] if l.split("|")[1].strip() not in names]
    table += [f"| {x[0]} | {x[1]} | {x[2]} | {x[3]} | {x[4]} | {verdict(x[5])} |" for x in goals]
    lines[start:end] = table + [""] + note
    end = start + len(table) + 1 + len(note)
    while end < len(lines) - 1 and lines[end] == "" and lines[end + 1] == "":
        del lines[end]
    c = lines.index("## Checks")
    lines[c:c] = section + [""]
    with open(path, "w") as f:
        f.write("\n".join(lines))


# ---------- health checks (part monitor: keepalived against lvsctl monitor) ----------
MON_BEGIN, MON_END = "<!-- monitor-bench: begin -->", "<!-- monitor-bench: end -->"


def is_monitor_check(c):
    return c[0].startswith("monitor ")


def read_monitor(path):
    """monitor.tsv: KIND TOOL N INTERVAL key=value... -> (windows {(tool, n, iv): [{...}, ...]} (a daemon is measured in
    more than one window: rounds), deaths {(tool, n, iv): [...]})."""
    windows, deaths = defaultdict(list), defaultdict(list)
    if not os.path.exists(path):
        return windows, deaths
    with open(path) as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) < 4:
                continue
            kv = dict(x.split("=", 1) for x in p[4:] if "=" in x)
            key = (p[1], int(p[2]), float(p[3]))
            if p[0] == "window":
                windows[key].append(kv)
            elif p[0] == "death":
                deaths[key].append(kv)
    return windows, deaths


def parse_tasks(s):
    """"PID/TID:USER:SYS,..." -> {(pid, tid): (user, sys)} in clock ticks."""
    out = {}
    for x in (s or "").split(","):
        if x.count(":") == 2:
            ids, u, k = x.split(":")
            pid, tid = ids.split("/")
            out[(pid, tid)] = (int(u), int(k))
    return out


class MonRun:
    """One daemon at one size: its windows (summed: each round restarts the daemon, and the rounds alternate the two
    daemons, so a change of the host's load over the run weighs on both) and the deaths."""
    def __init__(self, tool, n, iv, ws, deaths):
        self.tool, self.n, self.iv = tool, n, iv
        self.windows = len(ws)
        self.seconds = sum(float(w.get("seconds", "0") or 0) for w in ws)
        self.user = sum(float(w.get("user", 0)) for w in ws)
        self.sys = sum(float(w.get("sys", 0)) for w in ws)
        self.cpu = self.user + self.sys
        self.accepts = sum(int(w.get("accepts", 0)) for w in ws)
        self.rate = self.accepts / self.seconds if self.seconds else 0.0
        self.cpu_min = 60 * self.cpu / self.seconds if self.seconds else 0.0
        self.per_k = 1000 * self.cpu / self.accepts * 1000 if self.accepts else None   # ms of CPU per 1,000 checks
        # per window: the CPU per check, to show the spread
        self.per_k_windows = [1e6 * (float(w.get("user", 0)) + float(w.get("sys", 0))) / int(w["accepts"])
                              for w in ws if int(w.get("accepts", 0) or 0)]
        hwms = [[(x.split(":")[0], int(x.split(":")[1] or 0)) for x in w.get("hwm", "").split(",") if ":" in x]
                for w in ws]
        self.hwm = max(hwms, key=lambda h: sum(k for _, k in h)) if hwms else []
        self.fds = " + ".join(x.split(":")[1] for x in ws[0].get("fds", "").split(",") if ":" in x) if ws else ""
        self.downs = sum(int(w.get("downs", 0)) for w in ws)
        self.zero = sum(int(w.get("zero", 0)) for w in ws)
        self.busy = statistics.mean(float(w.get("busy", 0)) for w in ws) if ws else 0.0
        self.acceptor = sum(float(w.get("acceptor", 0)) for w in ws)
        self.warmup = ws[0].get("warmup", "?") if ws else "?"
        self.tasks = []   # (label, user s, sys s), summed over the windows
        for w in ws:
            hz = int(w.get("hz", "100") or 100)
            t0, t1 = parse_tasks(w.get("tasks0")), parse_tasks(w.get("tasks1"))
            pids = sorted({p for p, _ in t1}, key=int)
            for (pid, tid), (u, k) in sorted(t1.items(), key=lambda x: (int(x[0][0]), int(x[0][1]))):
                u0, k0 = t0.get((pid, tid), (0, 0))
                if tool == "keepalived":
                    label = "parent" if pid == pids[0] else "checker child"
                else:
                    label = "main thread" if pid == tid else "check engine thread"
                for i, (lab, uu, kk) in enumerate(self.tasks):
                    if lab == label:
                        self.tasks[i] = (lab, uu + (u - u0) / hz, kk + (k - k0) / hz)
                        break
                else:
                    self.tasks.append((label, (u - u0) / hz, (k - k0) / hz))
        self.deaths = []   # (death -> quiesce s, since the first failed check s or None)
        self.unmeasured = 0
        for d in deaths:
            try:
                t0d, t1d = float(d["t0"]), float(d["t1"])
            except (KeyError, ValueError):
                self.unmeasured += 1
                continue
            react = None
            if d.get("last", "-") not in ("-", ""):
                period = float(d["period"]) if d.get("period", "-") not in ("-", "") else iv
                first_fail = max(t0d, float(d["last"]) + period)
                react = t1d - first_fail
            self.deaths.append((t1d - t0d, react))

    def rss_total(self):
        return sum(k for _, k in self.hwm)

    def death_median(self):
        v = [x for x, _ in self.deaths]
        return (statistics.median(v), min(v), max(v), len(v)) if v else None

    def react_median(self):
        v = [r for _, r in self.deaths if r is not None]
        return statistics.median(v) if v else None


def monitor_runs(mjob):
    windows, deaths = read_monitor(os.path.join(mjob, "monitor.tsv")) if mjob else ({}, {})
    runs = {}
    for key, ws in windows.items():
        runs[key] = MonRun(key[0], key[1], key[2], ws, deaths.get(key, []))
    return runs


def fmt_iv(iv):
    return f"{iv:g} s"


def fmt_death(r):
    m = r.death_median() if r else None
    if not m:
        return "not measured" + (f" ({r.unmeasured} tried)" if r and r.unmeasured else "")
    s = f"{m[0]:.2f} s [{m[1]:.2f}-{m[2]:.2f}] ({m[3]}"
    return s + (f" of {m[3] + r.unmeasured})" if r.unmeasured else ")")


def fmt_mib(kib):
    return f"{kib / 1024:.1f} MiB"


def monitor_goals(runs):
    """The issue's three goals, per size: (goal text, met?, detail)."""
    sizes = sorted({(n, iv) for (_, n, iv) in runs})
    out = []
    cpu_ok, cpu_txt, rss_ok, rss_txt, d_ok, d_txt = True, [], True, [], True, []
    for n, iv in sizes:
        k, l = runs.get(("keepalived", n, iv)), runs.get(("lvsctl", n, iv))
        if not (k and l):
            continue
        # The same checks: CPU per check made (keepalived lets its rounds slip under load, so in one window it makes
        # fewer checks than configured while lvsctl keeps the interval), and at least 95 % of keepalived's checks.
        full = l.accepts >= 0.95 * k.accepts
        ok = full and l.per_k is not None and k.per_k is not None and l.per_k <= k.per_k
        cpu_ok &= ok
        cpu_txt.append(f"{n:,} @ {fmt_iv(iv)}: {l.per_k:,.0f} vs {k.per_k:,.0f} ms of CPU per 1,000 checks "
                       f"({l.cpu_min:.1f} vs {k.cpu_min:.1f} CPU s/min for {100 * l.accepts / k.accepts:.0f} % of "
                       f"keepalived's checks)" if l.per_k and k.per_k else f"{n:,} @ {fmt_iv(iv)}: no checks counted")
        rss_ok &= l.rss_total() < 64 * 1024
        rss_txt.append(f"{n:,}: {fmt_mib(l.rss_total())}")
        lm, km = l.death_median(), k.death_median()
        ok = bool(lm and km and not l.unmeasured and lm[0] <= km[0])
        d_ok &= ok
        d_txt.append(f"{n:,}: " + (f"{lm[0]:.2f} vs {km[0]:.2f} s" if lm and km else
                                   f"lvsctl {fmt_death(l)}, keepalived {fmt_death(k)}"))
    if not cpu_txt:
        return []
    out.append(("lvsctl's CPU time at most keepalived's for the same checks (per check made, with at least 95 % of keepalived's checks made)", cpu_ok, "; ".join(cpu_txt)))
    out.append(("lvsctl's peak RSS under 64 MiB", rss_ok, "; ".join(rss_txt)))
    out.append(("death to quiescing no worse than keepalived's (median)", d_ok, "; ".join(d_txt)))
    return out


def monitor_section(runs, meta, checks):
    """The section "Health checks" (between its markers)."""
    L = []
    w = L.append
    w(MON_BEGIN)
    w("## Health checks")
    w("")
    secs = int(meta.get("vm_monitor_seconds", "0"))
    w(f"Run: {meta.get('date', '?')}, lvsctl {meta.get('lvsctl_commit', '?')}, "
      + ("`BENCH_ONLY=monitor make bench` (only this block), " if meta.get("only") == "monitor" else "")
      + f"VM part {secs // 60} min {secs % 60} s; {meta.get('monitor_keepalived_version', 'keepalived ?')} "
      f"(Debian's package), guest kernel {meta.get('monitor_guest_kernel', '?')} (TCG, "
      f"{meta.get('monitor_guest_cpus', '?')} vCPUs, clocksource {meta.get('monitor_clocksource', '?')}); host "
      f"{meta.get('host_cpu_model', '?')}, {meta.get('host_cpus', '?')} CPUs, load {meta.get('host_load', '?')}.")
    w("")
    w("keepalived (checkers only, TCP_CHECK) and `lvsctl monitor` (`check ... --type tcp`) checking the same real "
      f"servers, never both at once, in the same VM: {meta.get('monitor_monitor_rounds', '1')} rounds per size that "
      "alternate the daemons (keepalived, lvsctl, then lvsctl, keepalived, or the reverse: a drift of the host's "
      "load weighs on both), each round a fresh start of the daemon and a "
      f"{meta.get('monitor_monitor_window', '?')} s window after its warm-up; the figures are the rounds' sums. "
      "CPU = user + system time of every process of the daemon (keepalived: parent and checker child); "
      "checks/s = connections the real servers accepted in the window (the checks that really ran); RSS = VmHWM; "
      "death to quiescing = from the `iptables ... -j REJECT --reject-with tcp-reset` that kills a server to the first "
      "netlink read showing its weight 0 (median [min-max] of the deaths measured).")
    w("")
    w("| servers | interval | checks/s (target): keepalived / lvsctl | CPU s per minute: keepalived / lvsctl (ratio) "
      "| CPU per 1,000 checks: keepalived / lvsctl | peak RSS: keepalived (parent + checker) / lvsctl "
      "| death to quiescing: keepalived / lvsctl |")
    w("|---:|---:|---|---|---|---|---|")
    sizes = sorted({(n, iv) for (_, n, iv) in runs})
    for n, iv in sizes:
        k, l = runs.get(("keepalived", n, iv)), runs.get(("lvsctl", n, iv))
        if not (k and l):
            continue
        ratio = f"{l.cpu / k.cpu:.2f}x" if k.cpu else "n/a"
        perk = lambda r: f"{r.per_k:,.0f} ms" if r.per_k is not None else "n/a"
        w(f"| {n:,} | {fmt_iv(iv)} | {k.rate:,.0f} / {l.rate:,.0f} ({n / iv:,.0f}) | {k.cpu_min:.1f} / "
          f"{l.cpu_min:.1f} ({ratio}) | {perk(k)} / {perk(l)} | "
          f"{' + '.join(fmt_mib(x) for _, x in k.hwm)} / {fmt_mib(l.rss_total())} | {fmt_death(k)} / {fmt_death(l)} |")
    w("")
    goals = monitor_goals(runs)
    if goals:
        w("**Verdict against the issue's goals:** " + "; ".join(
            f"{g[0]}: **{verdict(g[1])}** ({g[2]})" for g in goals) + ".")
        w("")
    w("Details (per daemon and size, over its windows):")
    w("")
    w("| servers | daemon | CPU user + sys | CPU per 1,000 checks, by window | CPU by process or thread (user + sys) | guest busy | acceptor CPU "
      "| quiesced at the end / state changes to down in the window | open fds | after the first failed check "
      "(median) | warm-up |")
    w("|---:|---|---:|---|---|---:|---:|---|---|---:|---:|")
    for n, iv in sizes:
        for tool in ("keepalived", "lvsctl", "lvsctl-idle"):
            r = runs.get((tool, n, iv))
            if not r:
                continue
            split = ", ".join(f"{lab} {u:.1f} + {s:.1f} s" for lab, u, s in r.tasks)
            rm = r.react_median()
            name = "lvsctl, no check lines" if tool == "lvsctl-idle" else tool
            byw = ", ".join(f"{x:,.0f} ms" for x in r.per_k_windows) or "n/a"
            w(f"| {n:,} @ {fmt_iv(iv)} | {name} | {r.user:.1f} + {r.sys:.1f} s in {r.seconds:.0f} s | {byw} | {split} | "
              f"{r.busy:.0f} % | {r.acceptor:.1f} s | {r.zero:,} / {r.downs:,} | {r.fds} | "
              f"{'' if rm is None else f'{rm:.2f} s'} | {r.warmup} s |")
    w("")
    mchecks = [c for c in checks if len(c) == 3 and is_monitor_check(c)]
    bad = [c for c in mchecks if c[1] != c[2]]
    w(f"Checks: {len(mchecks) - len(bad)} of {len(mchecks)} passed" + (":" if not bad else "; FAILED:"))
    for c in bad:
        w(f"- {c[0]}: wanted `{c[1]}`, got `{c[2]}`")
    if not bad:
        w("every table held its services and servers before the daemon started; keepalived ran as a parent and one "
          "checker child; no server was quiesced at the end of a window; every killed server was quiesced and got "
          "its weight back once its rule was gone.")
    w("")
    w("Method:")
    w("")
    w("- `Scripts/bench/gen.py OUT --monitor N:INTERVAL:DEATHS` writes, for N real servers, `mon-N.lvsctl` (`vs add`, "
      "`rs add ... -m -w W` and one `check -t VIP:80 -r ADDR:PORT --type tcp --interval I --timeout 1 --fall 1 "
      "--rise 1` per server), `mon-N.keepalived.conf` (the same services and servers, each with `TCP_CHECK { "
      "connect_timeout 1; retry 0; delay_before_retry I }`, `delay_loop I` and `inhibit_on_failure` per virtual "
      "server) and the servers to kill. Server i is 203.0.113.(1 + i / 40) port 10000 + i % 40 (10,000 = 250 "
      "addresses x 40 ports); services are 198.51.100.x:80, wrr, NAT, 10 servers each up to 1,000 servers (100 "
      "services) and 40 beyond (250 services); weights 1-5.")
    w("- The same failure semantics: lvsctl `--fall F --rise R --timeout T --interval I` = keepalived `retry F-1`, "
      "`delay_before_retry I` (its retries come at the pace of lvsctl's checks), up again after one pass (keepalived "
      "has no rise count: R = 1), `connect_timeout T`, `delay_loop I`, `inhibit_on_failure` (weight 0 on failure: "
      "lvsctl's default `--on-fail quiesce`). keepalived spreads its first checks over the interval (`warmup`, by "
      "default up to `delay_loop`); lvsctl starts every check at once.")
    w("- Each daemon and size gets a fresh network namespace (Scripts/bench/guest.sh, part `monitor`, in a VM of its "
      "own): a dummy interface with the servers' addresses, one `acceptor` (Scripts/bench/acceptor.c: epoll, listens "
      "on the 40 ports of the wildcard address, accepts and closes every connection, counts them) and the table "
      "loaded with `lvsctl restore mon-N.lvsctl` (which skips the check lines). keepalived: `keepalived -n -l -D -G "
      "-C -I -f mon-N.keepalived.conf -p PIDFILE -c CHECKERPIDFILE` (foreground, console log, no syslog, checkers "
      "only: no VRRP; it finds the services and servers already there and logs `already exists` for each, then "
      "checks them); lvsctl: `lvsctl monitor mon-N.lvsctl` (LVSCTL_MONITOR_STATE in the guest's /tmp). Warm-up: "
      "lvsctl until its log says `first round done`, keepalived until the acceptor counted N connections, then two "
      "intervals more. CPU from /proc/PID/stat (utime + stime, all threads) of the daemon's processes at both ends of "
      "the window; guest busy from /proc/stat.")
    w("- Deaths (in the first round): one server after another (spread over the services), the k-th at a fixed phase "
      "of its own check cycle, k x 0.618 intervals (modulo one interval) after one of its checks as the acceptor logged "
      "it (`weightwatch -a`), so both daemons' servers die at the same phases and the median compares the daemons, "
      "not where in an interval each death happened to fall: `weightwatch` (Scripts/bench/weightwatch.c) "
      "reads that service's destinations over generic netlink, runs the `iptables-legacy -I INPUT ... -j REJECT "
      f"--reject-with tcp-reset` for the server and polls every {meta.get('monitor_monitor_poll_ms', '?')} ms until "
      "its weight is 0. *After the first failed check* (an estimate) = quiesced time minus max(death, the server's "
      "last accepted check before its death + its recent period, the mean of its last 5 intervals between checks): "
      "the daemon's own reaction, without the wait for the next check. Then "
      "the rules go and each killed server must get its weight back.")
    w("- `lvsctl, no check lines`: the same file without its `check` lines under `lvsctl monitor`: the daemon's cost "
      "besides the checks (it reads the monitored services back from the kernel every second).")
    w("- The VM boots with `tsc=reliable clocksource=tsc` (`BENCH_MONITOR_APPEND`): under TCG the kernel finds the "
      "vCPUs' TSCs unsynchronized and falls back to the HPET, and every `clock_gettime` becomes a system call and an "
      "emulated HPET read instead of a vDSO call, as on any real director. libcurl reads the clock dozens of times "
      "per transfer (strace: about 67 `clock_gettime` calls per lvsctl check against 2 per keepalived check), so "
      "on the HPET the figures would measure that artifact.")
    w(MON_END)
    return L


def update_block(path, begin, end, section):
    """Replaces the block between begin and end (markers included) with section, or inserts it before ## Checks."""
    with open(path) as f:
        lines = f.read().split("\n")
    if begin in lines and end in lines:
        i, j = lines.index(begin), lines.index(end)
        lines[i:j + 1] = section
    else:
        c = lines.index("## Checks")
        lines[c:c] = section + [""]
    with open(path, "w") as f:
        f.write("\n".join(lines))


def verdict(ok):
    return "n/a" if ok is None else ("met" if ok else "MISSED")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--job", action="append", default=[])
    ap.add_argument("--monitor-job", default="")
    ap.add_argument("--host", required=True)
    ap.add_argument("--doc", required=True)
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    only = sorted({p for p in a.only.replace(" ", ",").split(",") if p})
    if set(only) == set(PARTS):
        only = []
    rows = read_tsv(os.path.join(a.host, "host-results.tsv"))
    for j in a.job:
        rows += read_tsv(os.path.join(j, "results.tsv"))
    d = Data(rows)
    meta = read_meta(os.path.join(a.job[0], "meta.txt")) if a.job else {}
    for j in a.job[1:]:
        meta.update({"packets_" + k: v for k, v in read_meta(os.path.join(j, "meta.txt")).items()})
    if a.monitor_job:
        meta.update({"monitor_" + k: v for k, v in read_meta(os.path.join(a.monitor_job, "meta.txt")).items()})
    meta.update(read_meta(os.path.join(a.host, "host-meta.txt")))
    d.meta = meta
    checks = []
    for j in a.job + ([a.monitor_job] if a.monitor_job else []):
        if os.path.exists(os.path.join(j, "checks.tsv")):
            with open(os.path.join(j, "checks.tsv")) as f:
                checks += [l.rstrip("\n").split("\t") for l in f if l.strip()]
    failed_checks = [c for c in checks if len(c) == 3 and c[1] != c[2]]
    meta["only"] = ",".join(only)
    packets = int(meta.get("packets_packets", "10000"))
    reps_packets = len(d.ms.get(("packets", "nftables", 1000), {}))
    nonzero = [r for r in rows if r["rc"] != 0 and not (r["test"] == "start-host" and r["tool"] == "ipvsadm")]
    sizes = sorted({r["n"] for r in rows if r["test"] == "load"})
    big = 10000 if 10000 in sizes else (sizes[-1] if sizes else 0)

    # ---------- the goal table ----------
    goals = []  # (work, compared with, measured, goal text, met?)

    def speedup(label, test, other, n, goal, other_label):
        r = d.ratio(test, other, "lvsctl", n)
        goals.append((label, other_label, f"{fmt_ms(d.stat(test, 'lvsctl', n))} vs {fmt_ms(d.stat(test, other, n))}",
                      f"{fmt_ratio(r)} faster", f">= {goal}x faster", None if r is None else r[0] >= goal))

    def within(label, test, other, n, goal, other_label, inverse_word="of"):
        r = d.ratio(test, "lvsctl", other, n)
        goals.append((label, other_label, f"{fmt_ms(d.stat(test, 'lvsctl', n))} vs {fmt_ms(d.stat(test, other, n))}",
                      f"lvsctl/other {fmt_ratio(r)}", f"<= {goal}x", None if r is None else r[0] <= goal))

    speedup(f"load {big:,} x 4", "load", "ipvsadm", big, 5, "ipvsadm -R")
    within(f"load {big:,} x 4", "load", "floor", big, 1.25, "raw netlink floor (ipvs-floor)")
    speedup(f"list {big:,} x 4", "list", "ipvsadm", big, 3, "ipvsadm -Ln")
    speedup(f"save {big:,} x 4", "save", "ipvsadm", big, 3, "ipvsadm -Sn")
    speedup("1,000 bundles", "bundles", "rclocal", 1000, 50, "1,000 iptables-legacy -A + 1,000 ipvsadm -A")
    within("1,000 bundles", "bundles", "restores", 1000, 1.2, "iptables-legacy-restore + ipvsadm -R")
    within("one vs add", "vsadd", "ipvsadm", 1, 1.0, "ipvsadm -A")
    within("lvsctl --version (host)", "start-host", "ipvsadm", 0, 1.5, "ipvsadm -v (host)")
    goals += nft_goals(d) if (not only or "nft" in only) else []
    if only:   # a partial run: only the rows it measured
        goals = [g for g in goals if g[5] is not None]
    mem = d.stat("mem", "lvsctl", big, "rss") if d.has("mem", "lvsctl", big) else None
    mem_ip = d.stat("mem", "ipvsadm", big, "rss") if d.has("mem", "ipvsadm", big) else None
    if mem:
        goals.append((f"peak RSS, load {big:,} x 4", "ipvsadm -R",
                      f"{mem[0] / 1024:.1f} MiB [{mem[1] / 1024:.1f}-{mem[2] / 1024:.1f}] vs "
                      + (f"{mem_ip[0] / 1024:.1f} MiB" if mem_ip else "n/a"),
                      f"{mem[0] / 1024:.1f} MiB", "< 64 MiB", mem[0] < 64 * 1024))

    # ---------- console table ----------
    print()
    print(f"{'work':<28} {'compared with':<44} {'ratio (median [per-rep range])':<34} {'goal':<16} result")
    for g in goals:
        print(f"{g[0]:<28} {g[1]:<44} {g[3]:<34} {g[4]:<16} {verdict(g[5])}")
    print()
    print(f"{'test':<10} {'tool':<20} {'N':>7}  median [min-max] over reps")
    for (test, tool, n) in sorted(d.ms, key=lambda k: (k[0], k[2], k[1])):
        print(f"{test:<10} {tool:<20} {n:>7}  {fmt_ms(d.stat(test, tool, n))} (x{len(d.ms[(test, tool, n)])})")
    if failed_checks:
        print(f"\n{len(failed_checks)} FAILED CHECKS:")
        for c in failed_checks:
            print("  " + " | ".join(c))
    if nonzero:
        print(f"\n{len(nonzero)} measurements exited non-zero")

    runs = monitor_runs(a.monitor_job)
    if runs:
        print()
        for line in monitor_section(runs, meta, checks):
            if line.startswith("|") or line.startswith("**Verdict"):
                print(line)
    if only and set(only) <= {"nft", "monitor"}:
        path = os.path.join(a.doc, "benchmarks.md")
        if "monitor" in only:
            update_block(path, MON_BEGIN, MON_END, monitor_section(runs, meta, checks))
            print(f"\nupdated the health-check block of {path}")
        if "nft" not in only:
            return
        note = [NOTE_BEGIN,
                f"The rows on nftables and on marking per packet come from a later run of only that part "
                f"(`BENCH_ONLY=nft make bench`, {meta.get('date', '?')}, lvsctl {meta.get('lvsctl_commit', '?')}); "
                "see [nftables backend](#nftables-backend). The other rows are from the run named at the top.",
                NOTE_END]
        update_nft_block(path, nft_goals(d), nft_section(d, meta, checks, reps_packets, packets), note)
        print(f"\nupdated the nftables block of {path}")
        return
    if only:
        print(f"\npartial run ({','.join(only)}): no document written (only BENCH_ONLY=nft and BENCH_ONLY=monitor "
              "update it in place)")
        return

    # ---------- plot ----------
    os.makedirs(a.doc, exist_ok=True)
    dat = os.path.join(a.host, "scaling.dat")
    tools = {"load": ["lvsctl", "ipvsadm", "floor"], "list": ["lvsctl", "ipvsadm", "floor"],
             "save": ["lvsctl", "lvsctl-ipvsadmfmt", "ipvsadm"]}
    with open(dat, "w") as f:
        for test, ts in tools.items():
            for t in ts:
                f.write(f"# {test} {t}\n")
                for n in sizes:
                    s = d.stat(test, t, n)
                    if s:
                        f.write(f"{n} {s[0] / 1000:.4f} {s[1] / 1000:.4f} {s[2] / 1000:.4f}\n")
                f.write("\n\n")
    names = {"lvsctl": "lvsctl", "ipvsadm": "ipvsadm", "floor": "raw netlink floor",
             "lvsctl-ipvsadmfmt": "lvsctl save --format ipvsadm"}
    cmds = {"load": ("lvsctl restore", "ipvsadm -R", "ipvs-floor"), "list": ("lvsctl list -n", "ipvsadm -Ln", "ipvs-floor --dump"),
            "save": ("lvsctl save", "lvsctl save --format ipvsadm", "ipvsadm -Sn")}
    png = os.path.join(a.doc, "benchmarks.png")
    gp = [
        "set terminal pngcairo size 1500,520 font 'DejaVu Sans,10'",
        f"set output '{png}'",
        "set multiplot layout 1,3 title 'lvsctl vs ipvsadm in the IPVS VM (TCG): median of the repetitions, bars = min..max'",
        "set key top left", "set grid", "set xlabel 'services (x 4 real servers)'", "set ylabel 'seconds'",
        "set logscale xy", "set xrange [700:28000]", "set xtics (1000, 2000, 5000, 10000, 20000)", "set format x '%.0s%c'",
    ]
    idx = 0
    for test, ts in tools.items():
        title = {"load": "load the table", "list": "list it numerically", "save": "save it"}[test]
        plots = []
        for i, t in enumerate(ts):
            plots.append(f"'{dat}' index {idx} using 1:2:3:4 with yerrorlines lw 2 pt 7 title '{cmds[test][i]}'")
            idx += 1
        gp.append(f"set title '{title}'")
        gp.append("plot " + ", ".join(plots))
    gp.append("unset multiplot")
    gpfile = os.path.join(a.host, "scaling.gp")
    with open(gpfile, "w") as f:
        f.write("\n".join(gp) + "\n")
    try:
        subprocess.run(["gnuplot", gpfile], check=True)
    except Exception as e:  # the table and the document still get written
        print(f"report: gnuplot failed: {e}", file=sys.stderr)

    # ---------- the document ----------
    L = []
    w = L.append
    w("# Benchmarks")
    w("")
    w("Generated by `make bench` (`Scripts/bench/run`); do not edit by hand. "
      f"Run: {meta.get('date', '?')}, lvsctl {meta.get('lvsctl_commit', '?')}, "
      f"VM part {int(meta.get('vm_seconds', '0')) // 60} min {int(meta.get('vm_seconds', '0')) % 60} s.")
    w("")
    w("Absolute times are from a software-emulated VM (qemu TCG) on a shared 2-core host and mean little; "
      "every comparison below is a ratio of two tools measured in the same VM run, with their runs interleaved. "
      "A ratio is the ratio of the medians; the bracket holds the smallest and largest ratio of single "
      "repetitions paired by number.")
    w("")
    w("## Goals")
    w("")
    w("| work | compared with | lvsctl vs other: median [min-max] | ratio | goal | result |")
    w("|---|---|---|---|---|---|")
    for g in goals:
        w(f"| {g[0]} | {g[1]} | {g[2]} | {g[3]} | {g[4]} | {verdict(g[5])} |")
    w("")
    ceil = []
    for test, other, label in [("load", "ipvsadm", "`ipvsadm -R`"), ("list", "ipvsadm", "`ipvsadm -Ln`")]:
        r = d.ratio(test, other, "floor", big)
        if r:
            ceil.append(f"{r[0]:.2f}x faster than {label}")
    if ceil:
        w(f"For scale: at {big:,} services the raw netlink floor (the same kernel requests with no user-space work) "
          f"is {' and '.join(ceil)}; no tool can beat that ratio by much in this VM.")
        w("")
    w("## How cost grows with the table")
    w("")
    w("![load, list and save time against table size](benchmarks.png)")
    w("")
    w("| N services (x 4) | lvsctl restore | ipvsadm -R | floor | ipvsadm / lvsctl | lvsctl / floor |"
      " lvsctl list -n | ipvsadm -Ln | ipvsadm / lvsctl | lvsctl save | ipvsadm -Sn | ipvsadm / lvsctl |")
    w("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        w(f"| {n:,} | {fmt_ms(d.stat('load', 'lvsctl', n))} | {fmt_ms(d.stat('load', 'ipvsadm', n))} | "
          f"{fmt_ms(d.stat('load', 'floor', n))} | {fmt_ratio(d.ratio('load', 'ipvsadm', 'lvsctl', n))} | "
          f"{fmt_ratio(d.ratio('load', 'lvsctl', 'floor', n))} | {fmt_ms(d.stat('list', 'lvsctl', n))} | "
          f"{fmt_ms(d.stat('list', 'ipvsadm', n))} | {fmt_ratio(d.ratio('list', 'ipvsadm', 'lvsctl', n))} | "
          f"{fmt_ms(d.stat('save', 'lvsctl', n))} | {fmt_ms(d.stat('save', 'ipvsadm', n))} | "
          f"{fmt_ratio(d.ratio('save', 'ipvsadm', 'lvsctl', n))} |")
    w("")
    w("## Every measurement")
    w("")
    w("| test | tool | N | median [min-max] | reps | peak RSS (median) |")
    w("|---|---|---:|---:|---:|---:|")
    for (test, tool, n) in sorted(d.ms, key=lambda k: (k[0], k[2], k[1])):
        if test in NFT_TESTS:
            continue
        if test == "mem":
            s = d.stat(test, tool, n, "rss")
            w(f"| {test} | {tool} | {n:,} | {s[0] / 1024:.1f} MiB [{s[1] / 1024:.1f}-{s[2] / 1024:.1f}] | {s[3]} | |")
            continue
        s, r = d.stat(test, tool, n), d.stat(test, tool, n, "rss")
        rss = f"{r[0] / 1024:.1f} MiB" if r and r[0] > 0 else ""
        w(f"| {test} | {tool} | {n:,} | {fmt_ms(s)} | {s[3]} | {rss} |")
    w("")
    w("Tools: `lvsctl` = `lvsctl restore FILE` (load), `lvsctl list -n`, `lvsctl save` (its own format, which also "
      "reads the mangle table and the dr state); `lvsctl-ipvsadmfmt` = `lvsctl save --format ipvsadm`; "
      "`lvsctl-ipvsadmfile` = `lvsctl restore` of the ipvsadm-save file; `floor` = `ipvs-floor` "
      "(load) or `ipvs-floor --dump` (list); bundles: `rclocal` = one process per rule and per service, "
      "`iptables-restore` + `ipvsadm-R` = the two restores (`restores` is their sum per repetition); "
      "`start-vm` = process start inside the VM (extra row); `mem` = `/usr/bin/time -v` maximum resident set size.")
    w("")
    if any(k[0] in NFT_TESTS for k in d.ms):
        L.extend(nft_section(d, meta, checks, reps_packets, packets))
        w("")
    if runs:
        L.extend(monitor_section(runs, meta, checks))
        w("")
    main_checks = [c for c in checks if not is_nft_check(c) and not is_monitor_check(c)]
    main_failed = [c for c in failed_checks if not is_nft_check(c) and not is_monitor_check(c)]
    w("## Checks")
    w("")
    w(f"{len(main_checks) - len(main_failed)} of {len(main_checks)} checks passed"
      + (":" if not main_failed else "; FAILED:"))
    for c in main_failed:
        w(f"- {c[0]}: wanted `{c[1]}`, got `{c[2]}`")
    if not main_failed:
        w("every load left exactly N services and 4N real servers; the first repetition of every tool left the same "
          "table (`ipvsadm -Sn` digest); `lvsctl list -n` printed exactly what `ipvsadm -Ln` printed and "
          "`lvsctl save --format ipvsadm` exactly what `ipvsadm -Sn` printed; the three bundle methods built the same "
          "mangle table and the same 1,000 fwmark services.")
    if nonzero:
        w(f"\n{len(nonzero)} measurement(s) exited non-zero.")
    w("")
    w("## Method")
    w("")
    w("- `make bench` runs `Scripts/bench/run` on the host: `swift build -c release`; `cc -O2` of "
      "`Scripts/bench/timeit.c` and of the raw netlink floor `ipvs-floor.c` (from `IPVS_FLOOR_SRC`); "
      "`Scripts/bench/gen.py` writes each table twice, as `vs add`/`rs add` lines for lvsctl and as ipvsadm-save "
      "lines for `ipvsadm -R` and the floor: N TCP services (VIPs in 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, "
      "ports from 1000), wlc, each with 4 NAT real servers (198.51.100.0/24, 203.0.113.0/24, port 8080, weights 1-4).")
    w("- Process start (`lvsctl --version` against `ipvsadm -v`) is timed on the HOST, "
      f"{len(d.ms.get(('start-host', 'lvsctl', 0), {}))} alternating repetitions. The host kernel has no IPVS, so "
      "`ipvsadm -v` there runs `modprobe ip_vs`, fails and exits 2; that is what it costs on this host. The same pair "
      "inside the VM, where `ipvsadm -v` succeeds, is the `start-vm` row.")
    w("- Everything else runs in one boot of the IPVS VM (`Scripts/vm/run Scripts/bench/guest.sh`, Debian kernel "
      f"{meta.get('guest_kernel', '?')}, {meta.get('guest_cpus', '?')} vCPUs, TCG). The inputs are copied to the "
      "guest's tmpfs first. Every command is timed by `timeit` (fork/exec/wait4, CLOCK_MONOTONIC) started *inside* "
      "the namespace (`ip netns exec NS timeit ... -- CMD`), so namespace entry is not timed.")
    w(f"- Load: {meta.get('reps', '3')} repetitions per size and tool; each run gets a FRESH network namespace "
      "(`ip netns add`, `lo` up), which is deleted afterwards; namespaces are never reused. After each deletion the "
      "script waits until the guest CPUs are idle (under 15 % busy over 0.2 s) so the kernel's asynchronous "
      "namespace cleanup does not overlap the next run. The order of the tools rotates with the repetition. "
      "A warm-up round (repetition 0, not counted) loads the binaries and libraries into the page cache.")
    w("- List and save: one fresh namespace per size, loaded with `ipvsadm -R` (untimed), then the list and save "
      "commands of every tool in rotating order, output to /dev/null.")
    w("- Bundles: `lvsctl restore` of 1,000 `bundle add NAME --vip V --ports P,P+1 --mark M -s wlc` lines. The "
      "equivalents are taken from what lvsctl built in a scratch namespace (`iptables-legacy-save -t mangle`, "
      "`ipvsadm -Sn`), so every method builds the same chain, PREROUTING jump, 1,000 MARK rules and 1,000 fwmark "
      "services: the rc.local way is a bash script of one `iptables-legacy -t mangle ...` per rule and one "
      "`ipvsadm -A -f M -s wlc` per service; the restore way is `iptables-legacy-restore` then `ipvsadm -R`, timed "
      "separately in the same namespace and added. "
      f"lvsctl and the restores: {len(d.ms.get(('bundles', 'lvsctl', 1000), {}))} repetitions; the rc.local way: "
      f"{len(d.ms.get(('bundles', 'rclocal', 1000), {}))} (BENCH_RCLOCAL_REPS; one run is 2,000 processes and takes "
      "minutes under emulation, so more would not move a ratio that far from its goal).")
    w("- One `vs add`: `lvsctl vs add -t 192.0.2.1:80 -s wlc` and `ipvsadm -A -t 192.0.2.2:80 -s wlc` in the same "
      f"fresh namespace, {len(d.ms.get(('vsadd', 'lvsctl', 1), {}))} repetitions.")
    w(f"- Peak memory: `/usr/bin/time -v` (maximum resident set size) of `lvsctl restore` and `ipvsadm -R` of the "
      f"{big:,} x 4 table, each in a fresh namespace.")
    w("")
    w("## Environment")
    w("")
    for k in ["host_cpu_model", "host_cpus", "host_kernel", "host_load", "qemu_version", "guest_kernel", "guest_cpus",
              "guest_mem_mib", "ipvsadm_version", "iptables_version", "lvsctl_version", "lvsctl_commit", "swift_version"]:
        if k in meta:
            w(f"- {k}: {meta[k]}")
    w("")
    with open(os.path.join(a.doc, "benchmarks.md"), "w") as f:
        f.write("\n".join(L))
    print(f"\nwrote {os.path.join(a.doc, 'benchmarks.md')} and {png}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Generates the benchmark inputs: the same table in the lvsctl format and in ipvsadm-save format.

gen.py OUTDIR [N...]     writes OUTDIR/svc-N.lvsctl and OUTDIR/svc-N.ipvsadm for every N (N services x 4 real
                         servers, NAT, wlc), OUTDIR/bundles.lvsctl (1,000 two-port fwmark bundles) and
                         OUTDIR/bundle-last.lvsctl (the last of those bundles alone, for the per-packet test).
gen.py OUTDIR --monitor N:INTERVAL[:DEATHS]...
                         the health-check part (guest.sh part monitor): for N real servers checked every INTERVAL
                         seconds, OUTDIR/mon-N.lvsctl (vs, rs and check lines for `lvsctl monitor`),
                         OUTDIR/mon-N.keepalived.conf (the same services and TCP_CHECKs for keepalived) and
                         OUTDIR/mon-N.victims (DEATHS servers, default 8, spread over the services, to be killed one
                         after the other: "ADDR:PORT VIP:PORT" per line).

Only documentation addresses are used: VIPs from 192.0.2.0/24, 198.51.100.0/24 and 203.0.113.0/24 (hosts .1-.254,
762 addresses) with ports 1000, 1001, ... so that up to 762 x 64,535 services fit; real servers from 198.51.100.0/24
and 203.0.113.0/24 on port 8080. The output is deterministic.
"""
import os
import sys

NETS = ["192.0.2", "198.51.100", "203.0.113"]
HOSTS = 254
VIPS = [f"{n}.{h}" for h in range(1, HOSTS + 1) for n in NETS]  # interleaved so small tables use all three nets
RS_NETS = ["198.51.100", "203.0.113"]
REALS_PER_SERVICE = 4
BUNDLES = 1000


def service(i):
    return f"{VIPS[i % len(VIPS)]}:{1000 + i // len(VIPS)}"


def reals(i):
    for j in range(REALS_PER_SERVICE):
        k = i * REALS_PER_SERVICE + j
        # 4 consecutive k differ in the host part (k % 254 differs for consecutive k), so they are distinct
        yield f"{RS_NETS[(k // HOSTS) % 2]}.{1 + k % HOSTS}:8080", 1 + j


def write_table(outdir, n):
    lv, ip = [], []
    for i in range(n):
        s = service(i)
        lv.append(f"vs add -t {s} -s wlc\n")
        ip.append(f"-A -t {s} -s wlc\n")
        for r, w in reals(i):
            lv.append(f"rs add -t {s} -r {r} -m -w {w}\n")
            ip.append(f"-a -t {s} -r {r} -m -w {w}\n")
    with open(os.path.join(outdir, f"svc-{n}.lvsctl"), "w") as f:
        f.write(f"# benchmark table: {n} services x {REALS_PER_SERVICE} real servers\n")
        f.writelines(lv)
    with open(os.path.join(outdir, f"svc-{n}.ipvsadm"), "w") as f:
        f.writelines(ip)


def write_bundles(outdir):
    lines = []
    for i in range(BUNDLES):
        vip = VIPS[i % len(VIPS)]
        p = 10000 + 2 * (i // len(VIPS))
        lines.append(f"bundle add b{i + 1:04d} --vip {vip} --ports {p},{p + 1} --mark {i + 1} -s wlc\n")
    with open(os.path.join(outdir, "bundles.lvsctl"), "w") as f:
        f.write(f"# benchmark: {BUNDLES} two-port bundles (MARK rule + fwmark service each)\n")
        f.writelines(lines)
    with open(os.path.join(outdir, "bundle-last.lvsctl"), "w") as f:
        f.write(f"# benchmark: the last of the {BUNDLES} bundles alone\n")
        f.write(lines[-1])


# ---------- the health-check part ----------
# Real server i is 203.0.113.(1 + i // 40) on port 10000 + i % 40 (250 addresses x 40 ports = 10,000: the one
# acceptor process of the benchmark listens on the 40 ports of the wildcard address). Services are VIPs
# 198.51.100.(1 + j):80, wrr, NAT, with 10 real servers each up to 1,000 servers and 40 beyond (1,000: 100 services;
# 10,000: 250 services); weights 1-5.
MON_PORT, MON_PORTS, MON_MAX = 10000, 40, 250 * 40
# The failure semantics of both daemons: a server is down after FALL failed checks in a row and up again after
# RISE passes; each check connects with a TIMEOUT. keepalived's TCP_CHECK: `retry FALL-1` more attempts, each
# `delay_before_retry INTERVAL` after the failure (so failures are counted at the same pace as lvsctl's), up again
# on its first pass (RISE 1), `connect_timeout TIMEOUT`, `inhibit_on_failure` = lvsctl's quiesce.
MON_FALL, MON_RISE, MON_TIMEOUT = 1, 1, 1


def mon_server(i):
    return f"203.0.113.{1 + i // MON_PORTS}", MON_PORT + i % MON_PORTS


def mon_per_service(n):
    return 10 if n <= 1000 else 40


def write_monitor(outdir, n, interval, deaths):
    if n > MON_MAX:
        sys.exit(f"gen.py: at most {MON_MAX} monitored servers fit the address plan")
    per = mon_per_service(n)
    services = (n + per - 1) // per
    lv = [f"# health-check benchmark: {n} real servers in {services} services, tcp checks every {interval} s\n"]
    ka = ["# health-check benchmark (keepalived, checkers only: keepalived -C): the same services, servers and",
          f"# checks as mon-{n}.lvsctl. lvsctl --fall {MON_FALL} --rise {MON_RISE} --timeout {MON_TIMEOUT} --interval "
          f"{interval} = retry {MON_FALL - 1}, delay_before_retry {interval}, connect_timeout {MON_TIMEOUT}, "
          f"delay_loop {interval}",
          "global_defs {", "    router_id lvsctl-bench", "}"]
    for j in range(services):
        vip = f"198.51.100.{1 + j}"
        lv.append(f"vs add -t {vip}:80 -s wrr\n")
        ka += [f"virtual_server {vip} 80 {{", f"    delay_loop {interval}", "    lb_algo wrr", "    lb_kind NAT",
               "    protocol TCP", "    inhibit_on_failure"]
        for i in range(j * per, min(n, (j + 1) * per)):
            a, p = mon_server(i)
            w = 1 + i % 5
            lv.append(f"rs add -t {vip}:80 -r {a}:{p} -m -w {w}\n")
            ka += [f"    real_server {a} {p} {{", f"        weight {w}", "        TCP_CHECK {",
                   f"            connect_timeout {MON_TIMEOUT}", f"            retry {MON_FALL - 1}",
                   f"            delay_before_retry {interval}", "        }", "    }"]
        ka.append("}")
    for j in range(services):
        vip = f"198.51.100.{1 + j}"
        for i in range(j * per, min(n, (j + 1) * per)):
            a, p = mon_server(i)
            lv.append(f"check -t {vip}:80 -r {a}:{p} --type tcp --interval {interval} --timeout {MON_TIMEOUT} "
                      f"--fall {MON_FALL} --rise {MON_RISE}\n")
    with open(os.path.join(outdir, f"mon-{n}.lvsctl"), "w") as f:
        f.writelines(lv)
    with open(os.path.join(outdir, f"mon-{n}.keepalived.conf"), "w") as f:
        f.write("\n".join(ka) + "\n")
    # victims: spread over the services and over the ports, distinct, deterministic
    victims, k = [], 0
    while len(victims) < min(deaths, n):
        i = (k * 7919 + n // 3) % n
        k += 1
        if i in victims:
            continue
        victims.append(i)
    with open(os.path.join(outdir, f"mon-{n}.victims"), "w") as f:
        for i in victims:
            a, p = mon_server(i)
            f.write(f"{a}:{p} 198.51.100.{1 + i // per}:80\n")


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: gen.py OUTDIR [N...] | gen.py OUTDIR --monitor N:INTERVAL[:DEATHS]...")
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    if len(sys.argv) > 2 and sys.argv[2] == "--monitor":
        for spec in sys.argv[3:]:
            p = spec.split(":")
            write_monitor(outdir, int(p[0]), p[1], int(p[2]) if len(p) > 2 else 8)
        return
    for n in map(int, sys.argv[2:]):
        if n > len(VIPS) * (65535 - 1000):
            sys.exit(f"gen.py: {n} services do not fit the address plan")
        write_table(outdir, n)
    write_bundles(outdir)


if __name__ == "__main__":
    main()

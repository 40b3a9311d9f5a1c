#!/usr/bin/env python3
"""Generates the benchmark inputs: the same table in the lvsctl format and in ipvsadm-save format.

gen.py OUTDIR [N...]     writes OUTDIR/svc-N.lvsctl and OUTDIR/svc-N.ipvsadm for every N (N services x 4 real
                         servers, NAT, wlc), OUTDIR/bundles.lvsctl (1,000 two-port fwmark bundles) and
                         OUTDIR/bundle-last.lvsctl (the last of those bundles alone, for the per-packet test).

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


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: gen.py OUTDIR [N...]")
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    for n in map(int, sys.argv[2:]):
        if n > len(VIPS) * (65535 - 1000):
            sys.exit(f"gen.py: {n} services do not fit the address plan")
        write_table(outdir, n)
    write_bundles(outdir)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Turn raw strace captures from Scripts/vm/golden-guest.sh into golden fixtures.

usage: golden.py RAW_DIR OUT_DIR [DATE]

RAW_DIR holds NAME.strace / NAME.meta pairs plus `kernel` and
`ipvsadm-version`. For every case, writes OUT_DIR/NAME.txt:

    # provenance: captured from ipvsadm v1.31 with `strace -f -xx -s 65536` in the lvsctl test VM (Debian kernel KVER), DATE
    # setup: <ipvsadm commands run before, or none>
    command: ipvsadm ...
    direction: sent|received
    hex: <one complete netlink message, nlmsghdr included>

The bytes come from strace's hex dumps (-e write=all -e read=all), which show
the exact iovec contents. Messages of the generic netlink controller
(nlmsg_type 0x10, family lookup) and the ACKs of those requests are skipped;
recvmsg calls with MSG_PEEK are skipped (libnl peeks, then reads again).
Received messages are kept only for MODE "both" cases. Also writes INDEX.md.
"""
import datetime
import os
import re
import struct
import sys

SYSCALL_RE = re.compile(r'^(\d+\s+)?(sendmsg|sendto|recvmsg|recvfrom)\(')
BYTES_RE = re.compile(r'^ \* (\d+) bytes in buffer (\d+)')
DUMP_RE = re.compile(r'^ \| ([0-9a-f]{5,})  ')
GENL_ID_CTRL = 0x10
NLMSG_ERROR = 2
NLMSG_DONE = 3


def parse_strace(path):
    """Yield (direction, bytes) for every completed syscall's data buffer."""
    calls = []  # [direction, peek, bytearray]
    cur = None
    with open(path, encoding='utf-8', errors='replace') as f:
        for line in f:
            line = line.rstrip('\n')
            m = SYSCALL_RE.match(line)
            if m:
                name = m.group(2)
                direction = 'sent' if name.startswith('send') else 'received'
                peek = 'MSG_PEEK' in line
                cur = [direction, peek, bytearray()]
                calls.append(cur)
                continue
            if BYTES_RE.match(line):
                continue
            m = DUMP_RE.match(line)
            if m and cur is not None:
                start = 3 + len(m.group(1)) + 2
                hexpart = line[start:start + 48]
                off = int(m.group(1), 16)
                if off != len(cur[2]):
                    raise SystemExit(f'{path}: dump offset {off:#x} != {len(cur[2]):#x}')
                cur[2].extend(bytes.fromhex(''.join(hexpart.split())))
    for direction, peek, data in calls:
        if not peek and data:
            yield direction, bytes(data)


def split_netlink(buf):
    msgs = []
    off = 0
    while off + 16 <= len(buf):
        (length,) = struct.unpack_from('<I', buf, off)
        if length < 16 or off + length > len(buf):
            raise ValueError(f'bad nlmsg_len {length} at {off} in {len(buf)}-byte buffer')
        msgs.append(buf[off:off + length])
        off += (length + 3) & ~3
    return msgs


def is_controller(msg):
    (mtype,) = struct.unpack_from('<H', msg, 4)
    if mtype == GENL_ID_CTRL:
        return True
    if mtype == NLMSG_ERROR and len(msg) >= 20 + 16:
        (orig_type,) = struct.unpack_from('<H', msg, 24)
        return orig_type == GENL_ID_CTRL
    return False


def main():
    raw, out = sys.argv[1], sys.argv[2]
    date = sys.argv[3] if len(sys.argv) > 3 else datetime.date.today().isoformat()
    kver = open(os.path.join(raw, 'kernel')).read().strip()
    version = open(os.path.join(raw, 'ipvsadm-version')).read()
    m = re.search(r'ipvsadm (v[0-9.]+)', version)
    ipvsadm_ver = m.group(1) if m else 'unknown'
    os.makedirs(out, exist_ok=True)
    metas = {}
    for f in os.listdir(raw):
        if f.endswith('.meta'):
            meta = {}
            for line in open(os.path.join(raw, f)):
                k, _, v = line.rstrip('\n').partition('=')
                meta[k] = v
            metas[f[:-5]] = meta
    # keep the order of the case table in golden-guest.sh
    names = sorted(metas, key=lambda n: int(metas[n].get('index', 0)))
    index = []
    failed = []
    for name in names:
        meta = metas[name]
        if meta.get('rc') != '0' or meta.get('setup_rc') != '0':
            failed.append(f"{name}: rc={meta.get('rc')} setup_rc={meta.get('setup_rc')}")
        keep_received = meta['mode'] == 'both'
        setup = [s for s in meta['setup'].split(';') if s]
        setup_text = '; '.join('ipvsadm ' + s for s in setup) if setup else 'none'
        lines = [
            f'# provenance: captured from ipvsadm {ipvsadm_ver} with `strace -f -xx -s 65536` '
            f'in the lvsctl test VM (Debian kernel {kver}), {date}',
            f'# setup: {setup_text}',
            f"command: {meta['command']}",
        ]
        counts = {'sent': 0, 'received': 0}
        for direction, data in parse_strace(os.path.join(raw, name + '.strace')):
            if direction == 'received' and not keep_received:
                continue
            for msg in split_netlink(data):
                if is_controller(msg):
                    continue
                lines.append(f'direction: {direction}')
                lines.append(f'hex: {msg.hex()}')
                counts[direction] += 1
        with open(os.path.join(out, name + '.txt'), 'w') as f:
            f.write('\n'.join(lines) + '\n')
        index.append((name, meta['command'], setup_text, counts))
    with open(os.path.join(out, 'INDEX.md'), 'w') as f:
        f.write('# Golden netlink captures of ipvsadm\n\n')
        f.write(f'Captured from ipvsadm {ipvsadm_ver} in the lvsctl test VM '
                f'(Debian kernel {kver}) on {date} by `Scripts/vm/capture-golden`.\n')
        f.write('Each case ran in a fresh network namespace after its setup commands. '
                'Generic netlink controller (family lookup) messages are omitted. '
                'nlmsg_seq / nlmsg_pid and the IPVS family id (nlmsg_type) are '
                'run-specific: compare with them masked.\n\n')
        f.write('| fixture | command | setup | sent | received |\n|---|---|---|---|---|\n')
        for name, cmd, setup_text, c in index:
            f.write(f'| {name}.txt | `{cmd}` | {setup_text} | {c["sent"]} | {c["received"]} |\n')
    for line in failed:
        print('golden: warning: command failed in', line, file=sys.stderr)
    print(f'golden: wrote {len(index)} fixtures to {out}', file=sys.stderr)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())

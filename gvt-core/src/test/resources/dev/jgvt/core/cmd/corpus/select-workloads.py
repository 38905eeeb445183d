#!/usr/bin/env python3
"""Keeps the workloads of a scan dump (docs/command-scanner.md, "Scan dump") that bring something new, and writes
them unchanged (same format, same records, same bytes) to another dump.

Rejected workloads are left out: the record of a batch a rejection stopped in holds what the scanner had copied of
it, which runs past the rejected command into bytes that are not commands, and CorpusIgtDifferentialTest decodes
every record to its end. Of the others, a workload is kept when its engine is new, or when one of its records has a shape not seen before:
(engine, level, address space, the sequence of command opcodes, a run of MI_NOOPs as one). The opcodes are read
with the generic length rules (MI 0x00-0x0f one dword, everything else the 8-bit length field plus 2), which is
only a selection heuristic: GuestStreamCorpusTest decodes every kept byte with the real tables.

usage: select-workloads.py IN.dump OUT.dump
"""
import sys


def records(data):
    pos = data.index(b"\n") + 1
    magic = data[:pos]
    out = []
    while pos < len(data):
        end = data.index(b"\n", pos)
        header = data[pos:end].decode("ascii")
        fields = dict(part.split("=", 1) for part in header.split())
        n = int(fields["bytes"])
        out.append((fields, data[pos:end + 1 + n], data[end + 1:end + 1 + n]))
        pos = end + 1 + n
    return magic, out


def shape(fields, payload):
    ops = []
    i = 0
    while i + 4 <= len(payload):
        dw = int.from_bytes(payload[i:i + 4], "little")
        kind = dw >> 29
        if dw == 0:
            if not ops or ops[-1] != 0:
                ops.append(0)
            i += 4
            continue
        if kind == 0:
            op = dw & 0xFF800000
            length = 1 if ((dw >> 23) & 0x3F) < 0x10 else (dw & 0xFF) + 2
        elif kind == 2:
            op = dw & 0xFFC00000
            length = (dw & 0xFF) + 2
        else:
            op = dw & 0xFFFF0000
            length = (dw & 0xFF) + 2
        ops.append(op)
        i += 4 * length
    return (fields["engine"], fields["level"], fields["space"], tuple(ops))


def main(src, dst):
    magic, recs = records(open(src, "rb").read())
    workloads = {}
    order = []
    for fields, raw, payload in recs:
        w = fields["workload"]
        if w not in workloads:
            workloads[w] = []
            order.append(w)
        workloads[w].append((fields, raw, payload))
    seen = set()
    kept = 0
    with open(dst, "wb") as out:
        out.write(magic)
        for w in order:
            recs_w = workloads[w]
            if recs_w[0][0]["verdict"] != "accepted":
                continue
            keys = {("verdict", recs_w[0][0]["engine"], recs_w[0][0]["verdict"])}
            keys |= {shape(f, p) for f, _, p in recs_w}
            if keys - seen:
                seen |= keys
                kept += 1
                for _, raw, _ in recs_w:
                    out.write(raw)
    print(f"{kept} of {len(order)} workloads kept (rejected ones left out)", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The ATC'08 paper's Table 3 from bench/table3.sh's measurements.

    table3.py CSV OUT.md --machine M --command C --memory M --seconds S --size B
"""
import argparse
import csv

# ATC'08 Table 3 (TCP stream): CPU % total, protection; reuse % TX, RX; HC/DMA.
PAPER = {
    "txonly": {
        "None": (41, 0, None, None, 0),
        "Direct-map": (41, 0, None, None, 0),
        "Single-use": (64, 23, None, None, .88),
        "Shared": (58, 17, 39, 0, .55),
        "Persistent": (43, 2, 100, 100, 0),
        "Software": (56, 15, None, None, .90),
    },
    "rxonly": {
        "None": (53, 0, None, None, 0),
        "Direct-map": (54, 0, None, None, 0),
        "Single-use": (79, 26, None, None, .37),
        "Shared": (73, 20, 39, 0, .10),
        "Persistent": (59, 5, 100, 100, 0),
        "Software": (64, 11, None, None, .39),
    },
}
ROW = {
    "passthrough": "None",
    "software": "Software",
    "direct-map": "Direct-map",
    "single-use": "Single-use",
    "shared": "Shared",
    "persistent": "Persistent",
}
MAPS = ("single-use", "shared", "persistent")


def pct(a, b):
    return "n/a" if b == 0 else "%.0f" % (100.0 * a / b)


def reuse(st, req, reused):
    if st not in MAPS:
        return "N/A"
    return pct(reused, reused + req) if req + reused else "n/a"


def paper_cell(v):
    return "N/A" if v is None else ("%g" % v)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("out")
    for k in ("machine", "command", "memory", "seconds", "size"):
        ap.add_argument("--" + k, required=True)
    a = ap.parse_args()
    rows = list(csv.DictReader(open(a.csv)))
    lines = [
        "# Table 3, regenerated",
        "",
        "Command: `%s`. Machine: %s. Memory: %s. %s s per cell, %s-byte frames, "
        "one run each (a single window on a shared machine: compare within a "
        "table, not across runs)." % (a.command, a.machine, a.memory, a.seconds,
                                        a.size),
        "",
        "Ours: Mpps from the guest's port statistics; *vmm busy* is the share "
        "of cdna-vmm's lcore in rounds that moved anything, *vmm prot.* the "
        "share spent protecting (software: validate, claim, post, reclaim; "
        "mapping strategies: the map channel and its page-table writes and "
        "flushes); *guest prot.* the share of the guest's lcore spent "
        "mapping (waits included); *reuse* the buffer pages that found a "
        "mapping already held; *HC/DMA* mediator invocations (a batch of "
        "requests or map requests served) per DMA. The guest polls, so its "
        "total CPU is 100 % in every row: the paper's *Total* has no "
        "counterpart. Paper: its Table 3 (TCP stream, Xen, real IOMMUs); "
        "passthrough stands for its *None* (cdna's passthrough still bounds "
        "DMA by the region table).",
        "",
    ]
    for cost in sorted({r["cost"] for r in rows}, key=lambda c: c != "none"):
        for wl, title in (("txonly", "transmit (testpmd txonly)"),
                          ("rxonly", "receive (testpmd rxonly)")):
            sel = [r for r in rows if r["cost"] == cost and r["workload"] == wl]
            if not sel:
                continue
            lines += [
                "## Stream %s, IOMMU cost model: %s" % (title, cost),
                "",
                "| strategy | Mpps | vmm busy % | vmm prot. % | guest prot. % "
                "| reuse TX % | reuse RX % | HC/DMA | paper: CPU total / prot. % "
                "| paper: reuse TX / RX % | paper: HC/DMA |",
                "|---|---|---|---|---|---|---|---|---|---|---|",
            ]
            for r in sel:
                st = r["strategy"]
                loop = int(r["cyc_loop"])
                dmas = int(r["dmas"])
                hz = float(r["tsc_hz"])
                gsec = float(r["guest_seconds"])
                gprot = "0" if st not in MAPS else \
                    "%.0f" % (100.0 * int(r["guest_map_cycles"]) / (hz * gsec))
                p = PAPER[wl][ROW[st]]
                lines.append(
                    "| %s | %s | %s | %s | %s | %s | %s | %s | %s / %s | %s / %s | %s |" % (
                        st, r["mpps"], pct(int(r["cyc_busy"]), loop),
                        pct(int(r["cyc_prot"]), loop), gprot,
                        reuse(st, int(r["tx_map_requests"]), int(r["tx_reused"])),
                        reuse(st, int(r["rx_map_requests"]), int(r["rx_reused"])),
                        "%.2f" % (int(r["batches"]) / dmas) if dmas else "n/a",
                        paper_cell(p[0]), paper_cell(p[1]), paper_cell(p[2]),
                        paper_cell(p[3]), paper_cell(p[4])))
            lines.append("")
    open(a.out, "w").write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

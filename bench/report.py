#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Turns bench/run.sh's results.csv into table.md and plots (gnuplot).

    report.py RESULTS_CSV OUT_DIR --machine M --command C --memory M
              --seconds S --passes N

The table gives, per workload and frame size, each configuration's median
Mpps over the passes, and cdna's ratio to passthrough, vhost-user and
memif: the median of the per-pass ratios, so that both sides of a ratio come from the
same pass (the machine is shared and drifts), with their range.
"""
import argparse
import csv
import os
import statistics
import subprocess
import sys
from collections import defaultdict

WORKLOADS = {
    "txonly": "guest txonly -> sink",
    "rxonly": "source -> guest rxonly",
    "io": "io forwarding",
}
CONFIGS = ["null", "cdna", "passthrough", "direct-map", "vhost-user", "memif",
           "nic", "nic-cdna"]


def num(s):
    try:
        v = float(s)
    except ValueError:
        return None
    return None if v != v else v


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("out")
    ap.add_argument("--machine", default="?")
    ap.add_argument("--command", default="?")
    ap.add_argument("--memory", default="?")
    ap.add_argument("--seconds", default="?")
    ap.add_argument("--passes", default="?")
    ap.add_argument("--costs", default=None)
    ap.add_argument("--nic", default="no NIC compared")
    ap.add_argument("--iommu-cost", default="none")
    a = ap.parse_args()

    cells = defaultdict(dict)  # (wl, size, cfg) -> {pass: mpps}
    with open(a.csv) as f:
        for r in csv.DictReader(f):
            v = num(r["mpps"])
            if v is not None:
                cells[(r["workload"], int(r["size"]), r["config"])][r["pass"]] = v
    wls = [w for w in WORKLOADS if any(k[0] == w for k in cells)]
    sizes = sorted({k[1] for k in cells})
    cfgs = [c for c in CONFIGS if any(k[2] == c for k in cells)]

    def med(wl, size, cfg):
        v = cells.get((wl, size, cfg), {})
        return statistics.median(v.values()) if v else None

    def ratio(wl, size, peer, me="cdna"):
        mine = cells.get((wl, size, me), {})
        theirs = cells.get((wl, size, peer), {})
        rs = [mine[p] / theirs[p] for p in mine if p in theirs and theirs[p] > 0]
        if not rs:
            return "-"
        if len(rs) == 1:
            return f"{rs[0]:.2f}"
        return f"{statistics.median(rs):.2f} ({min(rs):.2f}-{max(rs):.2f})"

    lines = [
        "# cdna against its peers",
        "",
        f"- command: `{a.command}`",
        f"- machine: {a.machine}",
        f"- memory: {a.memory}; host side (cdna-vmm, or host testpmd) on CPU 1, "
        "guest testpmd on CPU 0 (2 lcores)",
        f"- {a.passes} pass(es) of {a.seconds} s per cell, configurations interleaved; "
        "Mpps from the guest's own port statistics; medians over passes",
        "- ratios: cdna / peer per pass, median (range); above 1.00 cdna is faster",
        "- passthrough (DESIGN.md section 5): net_cdna mode=passthrough, the same "
        "NIC model and wire with no mediator on the data path (the cost of "
        "mediation is cdna / passthrough)",
        ("- direct-map: net_cdna strategy=direct-map, guest-written descriptors "
         "translated by the emulated IOMMU (page tables and IOTLB); Table 2 cost "
         f"model in force: {a.iommu_cost}" if "direct-map" in cfgs else
         "- direct-map: not in this run"),
        f"- real NIC: {a.nic}",
        "",
    ]
    peers = [p for p in ("passthrough", "direct-map", "vhost-user", "memif")
             if p in cfgs]
    for wl in wls:
        lines.append(f"## {WORKLOADS[wl]} (Mpps)")
        lines.append("")
        # The NIC configurations run txonly only.
        wcfgs = [c for c in cfgs if any((wl, s, c) in cells for s in sizes)]
        nic = "nic" in wcfgs and "nic-cdna" in wcfgs
        hdr = ("| frame | " + " | ".join(wcfgs) + " | " +
               " | ".join(f"cdna / {p}" for p in peers) +
               (" | nic-cdna / nic" if nic else "") + " |")
        lines.append(hdr)
        lines.append("|" + "---|" * (len(wcfgs) + len(peers) + 1 + nic))
        for s in sizes:
            row = [f"{s} B"]
            for c in wcfgs:
                m = med(wl, s, c)
                row.append("-" if m is None else f"{m:.2f}")
            for p in peers:
                row.append(ratio(wl, s, p))
            if nic:
                row.append(ratio(wl, s, "nic", "nic-cdna"))
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
    lines += cost_table(a.costs)
    lines += strategy_table(a.costs)
    lines.append("Plots: mpps.png, gbps.png; raw data: results.csv, costs.csv.")
    with open(os.path.join(a.out, "table.md"), "w") as f:
        f.write("\n".join(lines) + "\n")

    # One data file per workload and config, for gnuplot.
    for wl in wls:
        for c in cfgs:
            with open(os.path.join(a.out, f"{wl}-{c}.dat"), "w") as f:
                for s in sizes:
                    m = med(wl, s, c)
                    if m is not None:
                        f.write(f"{s} {m:.4f} {m * s * 8 / 1e3:.4f}\n")
    for col, name, unit in ((2, "mpps", "Mpps"), (3, "gbps", "Gb/s")):
        plot = []
        for i, wl in enumerate(wls):
            for j, c in enumerate(cfgs):
                plot.append(f"'{wl}-{c}.dat' using 1:{col} with linespoints "
                            f"dt {i + 1} lc {j + 1} title '{c}, {wl}'")
        script = "\n".join([
            "set terminal pngcairo size 1100,700" if has_cairo() else "set terminal png size 1100,700",
            f"set output '{name}.png'",
            "set logscale x 2",
            "set xtics (64, 128, 256, 512, 1024, 1518)",
            "set xlabel 'frame size (bytes)'",
            f"set ylabel '{unit}'",
            "set key outside right",
            "set grid",
            f"set title 'cdna and its peers: {unit} by frame size'",
            "plot " + ", \\\n     ".join(plot),
        ])
        r = subprocess.run(["gnuplot"], input=script, text=True, cwd=a.out,
                           capture_output=True)
        if r.returncode != 0:
            print(f"report.py: gnuplot failed: {r.stderr.strip()}", file=sys.stderr)
            return 1
    # The .dat files only fed gnuplot: results.csv holds the data.
    for wl in wls:
        for c in cfgs:
            os.remove(os.path.join(a.out, f"{wl}-{c}.dat"))
    return 0


def cost_table(path):
    """The ATC'08 paper's Table 3, for cdna: where cdna-vmm's lcore goes."""
    if path is None or not os.path.exists(path):
        return []
    rows = defaultdict(list)
    with open(path) as f:
        for r in csv.DictReader(f):
            # Runs before the strategies had cdna's rows only, and no config.
            if r.get("config", "cdna") == "cdna":
                rows[(r["workload"], int(r["size"]))].append(r)
    if not rows:
        return []
    out = [
        "## Where cdna-vmm's data-path lcore goes (cdna cells, medians over passes)",
        "",
        "Cycles per descriptor (a TX packet or an RX buffer: io forwarding takes two per packet) of each stage, from the vmm's telemetry (/cdna/vmm), "
        "over the rounds that moved anything: mediate = request fetch + validate "
        "+ claim + post; NIC = the NIC model's DMA (a copy) + switch + wire; "
        "reclaim = status check + claim release + scrub + completion. "
        "Protection = mediate + reclaim, as a share of all the lcore's cycles "
        "(idle polling included); mediator invocations = request batches per "
        "descriptor.",
        "",
        "| workload | frame | mediate cyc/desc | NIC cyc/desc | reclaim cyc/desc | protection % of lcore | invocations / descriptor |",
        "|---|---|---|---|---|---|---|",
    ]
    for (wl, size) in sorted(rows, key=lambda k: (list(WORKLOADS).index(k[0]), k[1])):
        vals = defaultdict(list)
        for r in rows[(wl, size)]:
            req = float(r["requests"]) or 1.0
            vals["m"].append(float(r["cyc_mediate"]) / req)
            vals["n"].append(float(r["cyc_nic"]) / req)
            vals["r"].append(float(r["cyc_reclaim"]) / req)
            loop = float(r["cyc_loop"]) or 1.0
            vals["p"].append(100.0 * (float(r["cyc_mediate"]) + float(r["cyc_reclaim"])) / loop)
            vals["b"].append(float(r["batches"]) / req)
        med = {k: statistics.median(v) for k, v in vals.items()}
        out.append(f"| {WORKLOADS[wl]} | {size} B | {med['m']:.0f} | {med['n']:.0f} | "
                   f"{med['r']:.0f} | {med['p']:.1f} | {med['b']:.3f} |")
    out.append("")
    return out


def strategy_table(path):
    """Table 3's columns for each strategy measured: cdna-vmm's lcore per frame."""
    if path is None or not os.path.exists(path):
        return []
    rows = defaultdict(list)
    with open(path) as f:
        for r in csv.DictReader(f):
            if "config" in r:
                rows[(r["workload"], int(r["size"]), r["config"])].append(r)
    strategies = [c for c in ("cdna", "direct-map", "passthrough")
                  if any(k[2] == c for k in rows)]
    if len(strategies) < 2:
        return []
    out = [
        "## The strategies side by side (medians over passes)",
        "",
        "Per frame the NIC moved, from cdna-vmm's telemetry over the rounds that "
        "moved anything: its lcore's cycles in all (mediator + NIC model), of "
        "which the mediator's (validation, claims, posting, reclaim: the "
        "software strategy's protection; a guest-written strategy has none, "
        "its protection is the NIC's address stage, inside the NIC's cycles); "
        "mediator invocations (request batches); for direct-map, IOTLB hits "
        "and page walks (misses) per translation.",
        "",
        "| workload | frame | strategy | vmm cyc/frame | mediator cyc/frame | invocations / frame | IOTLB hit % | walks / translation |",
        "|---|---|---|---|---|---|---|---|",
    ]
    keys = sorted({(k[0], k[1]) for k in rows},
                  key=lambda k: (list(WORKLOADS).index(k[0]), k[1]))
    for (wl, size) in keys:
        for c in strategies:
            rs = rows.get((wl, size, c), [])
            if not rs:
                continue
            vals = defaultdict(list)
            for r in rs:
                fr = float(r["frames"]) or 1.0
                med = float(r["cyc_mediate"]) + float(r["cyc_reclaim"])
                vals["t"].append((med + float(r["cyc_nic"])) / fr)
                vals["m"].append(med / fr)
                vals["b"].append(float(r["batches"]) / fr)
                tr = float(r.get("iommu_translations") or 0)
                hits = float(r.get("iotlb_hits") or 0)
                miss = float(r.get("iotlb_misses") or 0)
                if tr > 0:
                    vals["h"].append(100.0 * hits / max(hits + miss, 1.0))
                    vals["w"].append(miss / tr)
            m = {k: statistics.median(v) for k, v in vals.items()}
            out.append(f"| {WORKLOADS[wl]} | {size} B | {c} | {m['t']:.0f} | "
                       f"{m['m']:.0f} | {m['b']:.3f} | "
                       + (f"{m['h']:.1f} | {m['w']:.3f} |" if "h" in m else "- | - |"))
    out.append("")
    return out


def has_cairo():
    r = subprocess.run(["gnuplot", "-e", "set terminal"], capture_output=True, text=True)
    return "pngcairo" in (r.stdout + r.stderr)


if __name__ == "__main__":
    sys.exit(main())

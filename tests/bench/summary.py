#!/usr/bin/env python3
"""make bench's table across boots (scripts/bench): reads the output of each boot's run
(files named on the command line) and prints, per row, the median of the per-round Rust/C
ratios in each boot and what every boot agrees on. A row claims a difference only where
every round of every boot shows it: otherwise it says that no difference was shown."""
import re
import sys

NS = r"\d+ \( *\d+\.\. *\d+\)"
RATIO = r"(\d+\.\d+) \((\d+\.\d+)\.\.(\d+\.\d+)\)"
KIND = re.compile(rf"^(.*?) +{NS} +{NS} {RATIO}")
MULTI = re.compile(rf"^hand mix on (\d+) CPUs, (.*?), \d+ packets each: .* Rust/C per round {RATIO}")


def rows(path):
    """{label: (median, lo, hi, higher_is_better)} of one boot, in the order printed."""
    out, kind = {}, ""
    for line in open(path, errors="replace"):
        line = line.rstrip("\n")
        m = KIND.match(line)
        if m:
            name = m.group(1).rstrip()
            if name.startswith("  "):
                name = f"{kind}: {name.strip()}"
            else:
                kind = name
            out[name] = (*map(float, m.group(2, 3, 4)), False)
            continue
        m = MULTI.match(line)
        if m:
            out[f"{m.group(1)} CPUs, {m.group(2)} (pkt/s)"] = (*map(float, m.group(3, 4, 5)), True)
    return out


def verdict(boots, higher):
    """What every round of every boot agrees on."""
    if all(hi < 1.0 for _, _, hi, _ in boots):
        return "C more pkt/s in every round" if higher else "Rust cheaper in every round"
    if all(lo > 1.0 for _, lo, _, _ in boots):
        return "Rust more pkt/s in every round" if higher else "C cheaper in every round"
    n = sum(lo <= 1.0 <= hi for _, lo, hi, _ in boots)
    if n:
        return f"no difference shown (the rounds disagree in {n} of {len(boots)} boots)"
    return "no difference shown (the boots disagree)"


def main(paths):
    runs = [rows(p) for p in paths]
    labels = [k for k in runs[0] if all(k in r for r in runs)]
    missing = sorted(set().union(*runs) - set(labels))
    print(f"Rust/C across {len(runs)} boots: the median of each boot's per-round ratios "
          "(lower is cheaper; pkt/s rows: higher is more), and what every round of every boot agrees on")
    heads = "".join(f"  boot {i + 1}" for i in range(len(runs)))
    print(f"{'row':62s}{heads}  verdict")
    for k in labels:
        boots = [r[k] for r in runs]
        meds = "".join(f"  {b[0]:6.3f}" for b in boots)
        print(f"{k:62s}{meds}  {verdict(boots, boots[0][3])}")
    if missing:
        print("rows missing from some boot: " + ", ".join(missing))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

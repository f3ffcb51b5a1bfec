#!/usr/bin/env python3
"""Checks a failed build's rustc output against the `// error: E…` lines of a case file.

  expect.py CASES LOG

Passes when each `// error: CODE` line of CASES has an error CODE whose report names the
line after it (CASES:LINE:), and every error reported belongs to one of them: an error
nobody expected (a typo in CASES, an API that changed) fails, so no case can pass for a
reason other than its own.
"""
import os
import re
import sys


def main():
    cases, log = sys.argv[1], sys.argv[2]
    name = os.path.basename(cases)
    expected = {}  # line -> code
    with open(cases) as f:
        for n, text in enumerate(f, 1):
            m = re.match(r"\s*// error: (E\d{4})\s*$", text)
            if m:
                expected[n + 1] = m.group(1)
    if not expected:
        sys.exit(f"{cases}: no '// error: E…' line")

    # rustc's report: a header line 'error[CODE]: message' (or 'error: message'), then
    # lines up to the next header; the report names the places it is about (FILE:LINE:COL).
    reports = []
    with open(log, errors="replace") as f:
        for text in f:
            m = re.match(r"error(\[(E\d{4})\])?: (.*)", text)
            if m:
                if m.group(3).startswith("aborting due to"):
                    continue
                reports.append({"code": m.group(2), "head": text.rstrip(), "lines": set()})
            elif reports and text.startswith(("warning", "make")):
                reports.append(None)  # the report ended; what follows is no error's
            elif reports and reports[-1] is not None:
                reports[-1]["lines"].update(int(x) for x in re.findall(re.escape(name) + r":(\d+):", text))
    reports = [r for r in reports if r is not None and not r["head"].startswith("error: could not compile")]

    if not reports:
        with open(log, errors="replace") as f:
            tail = f.readlines()[-20:]
        sys.exit("FAIL: the build failed without any rustc error (a set-up problem?):\n" + "".join(tail))

    failed = False
    matched = set()
    for line, code in sorted(expected.items()):
        hits = [i for i, r in enumerate(reports) if r["code"] == code and line in r["lines"]]
        if hits:
            matched.update(hits)
            print(f"ok: {name}:{line}: {code}")
        else:
            print(f"FAIL: {name}:{line}: no {code} reported (the misuse compiled)")
            failed = True
    for i, r in enumerate(reports):
        if i not in matched:
            print(f"FAIL: an error no case expects: {r['head']} (lines {sorted(r['lines'])})")
            failed = True
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

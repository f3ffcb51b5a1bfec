#!/usr/bin/env python3
"""Checks a failed build's rustc output against the `// error: E…` lines of a case file.

  expect.py CASES LOG

Passes when each `// error: CODE [TEXT]` line of CASES has an error CODE whose primary
location (the report's first `-->`) is the line after it, with TEXT in its message where
given (for E0080, which assertion panicked), and every error reported belongs to one of
them: an error nobody expected (a typo in CASES, an API that changed) fails, so no case can
pass for a reason other than its own. A failed compile-time evaluation (E0080) is where its
evaluation started: older rustc (1.85, the stock kernels') reports it at the assertion that
panicked, inside a const fn, and lists the frames down to the static being evaluated as
notes, the last one the static's own line; newer rustc reports it at that line.
"""
import os
import re
import sys


def main():
    cases, log = sys.argv[1], sys.argv[2]
    name = os.path.basename(cases)
    expected = {}  # line -> (code, text or "")
    with open(cases) as f:
        for n, text in enumerate(f, 1):
            m = re.match(r"\s*// error: (E\d{4})(?: (.*?))?\s*$", text)
            if m:
                expected[n + 1] = (m.group(1), m.group(2) or "")
    if not expected:
        sys.exit(f"{cases}: no '// error: E…' line")

    # rustc's report: a header line 'error[CODE]: message' (or 'error: message'), then
    # lines up to the next header; its first '--> FILE:LINE:COL' is where the error is.
    reports = []
    with open(log, errors="replace") as f:
        for text in f:
            m = re.match(r"error(\[(E\d{4})\])?: (.*)", text)
            if m:
                if m.group(3).startswith("aborting due to"):
                    continue
                reports.append({"code": m.group(2), "head": text.rstrip(), "line": None,
                                "last": None, "text": text})
            elif reports and text.startswith(("warning", "make")):
                reports.append(None)  # the report ended; what follows is no error's
            elif reports and reports[-1] is not None:
                r = reports[-1]
                r["text"] += text
                at = re.match(r"\s*--> (\S+):(\d+):\d+", text)
                if at:
                    where = int(at.group(2)) if os.path.basename(at.group(1)) == name else 0
                    if r["line"] is None:
                        r["line"] = where
                    r["last"] = where
    for r in reports:
        # The evaluation's outermost frame, for rustc that reports E0080 inside a const fn.
        if r is not None and r["code"] == "E0080" and r["line"] == 0 and "note: inside `" in r["text"]:
            r["line"] = r["last"]
    reports = [r for r in reports if r is not None and not r["head"].startswith("error: could not compile")]

    if not reports:
        with open(log, errors="replace") as f:
            tail = f.readlines()[-20:]
        sys.exit("FAIL: the build failed without any rustc error (a set-up problem?):\n" + "".join(tail))

    failed = False
    matched = set()
    for line, (code, text) in sorted(expected.items()):
        hits = [i for i, r in enumerate(reports)
                if r["code"] == code and r["line"] == line and text in r["text"]]
        if hits:
            matched.update(hits)
            print(f"ok: {name}:{line}: {code}{' ' + text if text else ''}")
        else:
            print(f"FAIL: {name}:{line}: no {code}{' (' + text + ')' if text else ''} reported there (the misuse compiled)")
            failed = True
    for i, r in enumerate(reports):
        if i not in matched:
            print(f"FAIL: an error no case expects: {r['head']} (at line {r['line']} of {name}, 0: elsewhere)")
            failed = True
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

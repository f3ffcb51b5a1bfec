"""Host tests of scripts/ktap-summary: it must pass good KTAP and fail bad or empty KTAP."""
import os
import subprocess
import tempfile
import unittest

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "ktap-summary")

GOOD = """KTAP version 1
# Subtest: demo
# module: nf_conntrack_ftp_rs
1..2
    ok 1 first
    ok 2 second # SKIP not here
ok 1 demo
"""

BAD = """KTAP version 1
# Subtest: demo
1..2
    ok 1 first
    not ok 2 second
not ok 1 demo
"""


def run(*texts):
    with tempfile.TemporaryDirectory() as d:
        paths = []
        for i, text in enumerate(texts):
            p = os.path.join(d, f"{i}.ktap")
            with open(p, "w") as f:
                f.write(text)
            paths.append(p)
        r = subprocess.run([SCRIPT, *paths], capture_output=True, text=True)
        return r.returncode, r.stdout


class KtapSummary(unittest.TestCase):
    def test_all_ok_passes(self):
        rc, out = run(GOOD)
        self.assertEqual(rc, 0, out)
        self.assertIn("kunit: 1 passed, 0 failed, 1 skipped", out)

    def test_a_failed_case_fails(self):
        rc, out = run(GOOD, BAD)
        self.assertEqual(rc, 1, out)
        self.assertIn("NOT OK demo.second", out)
        self.assertIn("kunit: 2 passed, 2 failed, 1 skipped", out)

    def test_no_suite_fails(self):
        rc, out = run("KTAP version 1\n1..0\n")
        self.assertEqual(rc, 1, out)
        self.assertIn("kunit: 0 suites", out)


if __name__ == "__main__":
    unittest.main()

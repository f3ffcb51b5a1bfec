"""Host tests of README.md: every nft ruleset and every command block an operator is told to
run is preceded by a marker naming the VM test that loads (or runs) it, and that test does."""
import os
import re
import unittest

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
MARKER = re.compile(r"<!-- (ruleset|commands|flows|config)( [a-z-]+)?: tests/vm/(test-[a-z0-9-]+\.sh) (loads|runs) this block -->")


def blocks(text):
    """(marker line or None, the block's text) for each ```sh block."""
    lines = text.split("\n")
    out = []
    i = 0
    while i < len(lines):
        if lines[i] == "```sh":
            j = lines.index("```", i + 1)
            prev = lines[i - 1] if i > 0 else ""
            out.append((prev if prev.startswith("<!--") else None, "\n".join(lines[i + 1 : j])))
            i = j
        i += 1
    return out


class ReadmeBlocks(unittest.TestCase):
    def setUp(self):
        with open(os.path.join(ROOT, "README.md")) as f:
            self.blocks = blocks(f.read())

    def test_every_ruleset_and_operator_command_has_its_test(self):
        checked = 0
        for marker, body in self.blocks:
            # An nft ruleset, Open vSwitch flows, a conntrackd.conf.
            loads = "nft -f" in body or "ovs-ofctl" in body or "conntrackd" in body
            if not loads:
                continue
            self.assertIsNotNone(marker, "a README block loads a ruleset without a test marker:\n" + body)
            m = MARKER.fullmatch(marker)
            self.assertIsNotNone(m, "malformed marker: " + marker)
            kind, name, test = m.group(1), (m.group(2) or "").strip(), m.group(3)
            path = os.path.join(ROOT, "tests", "vm", test)
            self.assertTrue(os.path.exists(path), marker + ": no " + test)
            with open(path) as f:
                script = f.read()
            call = {"ruleset": "readme_ruleset ", "commands": "readme_commands "}.get(
                kind, "readme_heredoc " + kind + " "
            ) + test
            if name:
                call += " " + name
            self.assertRegex(script, re.escape(call) + r"(\)|$|\s)", test + " does not call '" + call + "'")
            checked += 1
        # The stateful firewall, by address, NAT gateway, the replacement of the C helper,
        # Open vSwitch's flows, conntrackd's configuration and its takeover.
        self.assertGreaterEqual(checked, 7)

    def test_markers_precede_blocks(self):
        with open(os.path.join(ROOT, "README.md")) as f:
            text = f.read()
        markers = MARKER.findall(text)
        with_block = [m for m, _ in self.blocks if m]
        self.assertEqual(len(markers), len(with_block), "a marker is not followed by a ```sh block")


if __name__ == "__main__":
    unittest.main()

"""Runs the client's tests (unittest discovery under tests/), prints one closing line
"python-client: N passed, N failed, N skipped", and with --trx FILE writes the counts as a TRX summary so that
scripts/test-summary.sh adds them to the run's total. Exits 1 when a test failed or none ran."""

import argparse
import sys
import unittest
import uuid
from pathlib import Path
from xml.sax.saxutils import quoteattr

HERE = Path(__file__).resolve().parent


def write_trx(path: Path, total: int, executed: int, passed: int, failed: int) -> None:
    outcome = "Completed" if failed == 0 else "Failed"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<TestRun id="{uuid.uuid4()}" name={quoteattr("python-client")} '
        'xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010">\n'
        f'  <ResultSummary outcome="{outcome}">\n'
        f'    <Counters total="{total}" executed="{executed}" passed="{passed}" failed="{failed}" error="0" />\n'
        '  </ResultSummary>\n'
        '</TestRun>\n', encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trx", type=Path, help="write a TRX summary of the counts here")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()

    sys.path.insert(0, str(HERE))
    suite = unittest.defaultTestLoader.discover(str(HERE / "tests"), top_level_dir=str(HERE))
    result = unittest.TextTestRunner(verbosity=2 if args.verbose else 1, stream=sys.stdout).run(suite)
    skipped = len(result.skipped)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    executed = result.testsRun - skipped
    passed = max(0, executed - failed)
    if args.trx:
        write_trx(args.trx, result.testsRun, executed, passed, failed)
    print(f"python-client: {passed} passed, {failed} failed, {skipped} skipped")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())

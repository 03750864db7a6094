"""Agreement of snp-triage with the hand-read labels of the real-capture corpus (tests/corpus/real/).

    python bench/real_corpus.py            # figures per fact kind, then every miss
    python bench/real_corpus.py --quiet    # figures only

Prints, per fact kind (boots, report, frames, message, rule, not_rule), how many label facts agree,
the captures that hold a kernel report or an AMD-Vi/SEV message but gave no event, and each miss
with what the tool found instead.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.realcorpus import CORPUS, NOT_SNP_PLATFORMS, evaluate_all, silent, snp_on_other_platforms, summary  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quiet", action="store_true", help="figures only, no list of misses")
    parser.add_argument("--dir", type=Path, default=CORPUS, help="corpus folder (default: tests/corpus/real)")
    options = parser.parse_args()
    results = evaluate_all(options.dir)
    figures = summary(results)
    print(f"{len(results)} captures in {options.dir}")
    for kind in ("boots", "report", "frames", "message", "rule", "not_rule", "all"):
        agree, total = figures.get(kind, (0, 0))
        share = f"{agree / total:.1%}" if total else "-"
        print(f"  {kind:9} {agree:5}/{total:<5} {share}")
    quiet = silent(results)
    print(f"captures with a labelled report or message but no event: {len(quiet)} {' '.join(quiet)}")
    others = [r for r in results if r.platform in NOT_SNP_PLATFORMS]
    wrong = snp_on_other_platforms(results)
    print(f"SNP findings on {len(others)} Intel/ARM/client-AMD/guest captures: {len(wrong)} {wrong}")
    errors = [r for r in results if r.error]
    for r in errors:
        print(f"  error: {r.capture}: {r.error}")
    if not options.quiet:
        print("misses:")
        for result in results:
            for fact in result.facts:
                if not fact.agrees:
                    print(f"  {fact.capture}  [{fact.kind}] {fact.what}  -- {fact.detail}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

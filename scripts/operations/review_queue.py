"""Print the most frequent unanswered questions (fallback, clarification, out of scope), grouped,
so a curator can add training examples or answers. Usage: make review [ARGS="--top 30"]"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

from scripts.runtime.profile import profile
from stores import review_queue


def normalise(question: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s\[\]]", " ", question.lower())).strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, help="a SQLite file (default: REVIEW_DB_URL, REVIEW_DB, var/)")
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args()
    profile(dict(os.environ))  # the production profile's queue (PostgreSQL) needs its variables
    rows = review_queue.rows(args.db)
    where = args.db or "the review queue"
    if not rows:
        print(f"No review queue yet ({where}): nothing has gone unanswered.")
        return 0
    groups = defaultdict(list)
    for row in rows:
        groups[normalise(row[1]) or "(empty message)"].append(row)
    print(f"{len(rows)} unanswered turns, {len(groups)} distinct questions ({where})\n")
    print(f"{'count':>5}  {'bot did':<22} {'NLU guess':<28} question")
    for _question, items in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))[: args.top]:
        did = ",".join(sorted({i[2] for i in items}))
        guess = Counter(i[3] or "-" for i in items).most_common(1)[0][0]
        print(f"{len(items):>5}  {did:<22} {guess:<28} {items[-1][1]}")
    print("\nBy NLU guess (where to add training examples or a new answer):")
    for guess, count in Counter(r[3] or "-" for r in rows).most_common(10):
        print(f"{count:>5}  {guess}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

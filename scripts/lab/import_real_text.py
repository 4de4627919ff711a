"""Add collected rows of real patient text to corpus/real/ (curators' tool).

    python -m scripts.lab.import_real_text ROWS.jsonl [ROWS.jsonl ...]

Each input row is a JSON object: kind "question" (text, url, answer, sections) or "symptom"
(text, url, level, why, lookalike). Beside each ROWS.jsonl, ROWS.excerpts.jsonl holds the page
excerpts the rows were cut from ({"url", "excerpt"}): a row whose text is not, word for word, in
an excerpt of its own page is refused (verbatim only). Rows already in the corpus are skipped. A
page group seen for the first time gets its split now (assistant/corpus.py), before any model
reads the row.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Dict, List

import yaml

from assistant import content, corpus, paths

QUOTES = str.maketrans("\u2019\u2018\u201c\u201d", "''\"\"")


def squeeze(text: str) -> str:
    """Text compared for "word for word": white space folded, typographic quotes as plain."""
    text = text.translate(QUOTES)
    return re.sub(r"\s+", " ", text).strip()


def problems_of(row: Dict[str, Any], excerpts: Dict[str, List[str]]) -> List[str]:
    problems = []
    if not any(squeeze(row["text"]) in squeeze(e) for e in excerpts.get(row["url"], [])):
        problems.append("not found word for word in an excerpt of its page")
    if row["kind"] == "question":
        answers = content.answers()
        if row["answer"] != corpus.OUT_OF_SCOPE and row["answer"] not in answers:
            problems.append(f"unknown answer {row['answer']!r}")
        if set(row.get("sections") or ()) - set(content.sections()):
            problems.append(f"unknown sections {row.get('sections')}")
    elif row["kind"] == "symptom":
        if row["level"] not in corpus.LEVELS:
            problems.append(f"unknown level {row['level']!r}")
    else:
        problems.append(f"unknown kind {row.get('kind')!r}")
    return problems


def dump(path: Path, header: str, key: str, rows: List[Dict[str, Any]]) -> None:
    body = yaml.safe_dump({key: rows}, sort_keys=False, allow_unicode=True, width=100)
    path.write_text(header + body, encoding="utf-8")


def header_of(path: Path) -> str:
    """The file's leading comment lines, kept as they are."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    header = list(itertools.takewhile(lambda line: line.startswith("#"), lines))
    return "".join(f"{line}\n" for line in header)


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", nargs="+", type=Path)
    args = parser.parse_args(argv)

    questions = yaml.safe_load(paths.REAL_QUESTIONS.read_text(encoding="utf-8"))["questions"] or []
    symptoms = yaml.safe_load(paths.REAL_SYMPTOMS.read_text(encoding="utf-8"))["symptoms"] or []
    pages = yaml.safe_load(paths.REAL_PAGES.read_text(encoding="utf-8"))
    groups: Dict[str, str] = pages["groups"] or {}
    seen = {squeeze(r["text"]).lower() for r in questions + symptoms}
    added: Counter = Counter()
    refused: List[str] = []
    for rows_path in args.rows:
        excerpts: Dict[str, List[str]] = defaultdict(list)
        evidence = rows_path.with_suffix(".excerpts.jsonl")
        for line in evidence.read_text(encoding="utf-8").splitlines() if evidence.exists() else []:
            if line.strip():
                item = json.loads(line)
                excerpts[item["url"]].append(item["excerpt"])
        for line in rows_path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            problems = problems_of(row, excerpts)
            if problems:
                refused.append(f"{rows_path.name}: {row.get('text', '')[:70]!r}: {'; '.join(problems)}")
                continue
            key = squeeze(row["text"]).lower()
            if key in seen:
                continue
            seen.add(key)
            group = corpus.page_group(row["url"])
            groups.setdefault(group, corpus.assign_split(group))
            if row["kind"] == "question":
                questions.append(
                    {
                        "text": row["text"],
                        "url": row["url"],
                        "answer": row["answer"],
                        "sections": row["sections"],
                    }
                )
            else:
                entry = {
                    "text": row["text"],
                    "url": row["url"],
                    "level": row["level"],
                    "why": row.get("why", ""),
                }
                if row["level"] == "not_urgent" and row.get("lookalike"):
                    entry["lookalike"] = row["lookalike"]
                symptoms.append(entry)
            added[row["kind"]] += 1
    pages["groups"] = dict(sorted(groups.items()))
    dump(paths.REAL_QUESTIONS, header_of(paths.REAL_QUESTIONS), "questions", questions)
    dump(paths.REAL_SYMPTOMS, header_of(paths.REAL_SYMPTOMS), "symptoms", symptoms)
    paths.REAL_PAGES.write_text(
        header_of(paths.REAL_PAGES) + yaml.safe_dump(pages, sort_keys=False, width=100), encoding="utf-8"
    )
    print(f"added {dict(added)}; refused {len(refused)}", file=sys.stderr)
    for line in refused:
        print("  refused", line, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

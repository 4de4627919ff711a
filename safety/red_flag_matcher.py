"""Red-flag symptoms in a message, read clause by clause: the deterministic layer of our safety
check (nlu/red_flag_detector.py runs it in the Rasa server; tests and evaluation use it
directly, on any spaCy pipeline).

The symptoms, their urgency levels (`emergency` or `same_day`) and the words that change their
meaning are in red_flags.yml. A symptom the patient denies ("no fever"), asks about as a risk or
hypothetical ("what if I get a fever"), tells as someone else's story, says has gone, or has had
for years before the operation is not a report; the denial or the question covers only its own
clause, never a report elsewhere in the message. One pass over the tokens: linear in the length
of the message.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, NamedTuple, Set, Tuple

import yaml
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from assistant.names import URGENCY_LEVELS
from spacy_pipeline import english_words

PATTERNS_FILE = Path(__file__).parent / "data" / "red_flags.yml"
EMERGENCY, SAME_DAY = URGENCY_LEVELS  # most urgent first

SENTENCE_END = {".", "!", "?", ";"}
# Between a denial and a persistence word ("hasn't really stopped", "not even touching it").
PERSISTENCE_GAP = {
    "been",
    "really",
    "even",
    "yet",
    "fully",
    "completely",
    "actually",
    "at",
    "all",
    "properly",
    "totally",
    "much",
    "any",
}
# A verbal denial ("can't sleep", "don't want") stops at a new subject ("... the pain is so bad"),
# unless the verb takes it as its object ("don't have the pain").
NEW_SUBJECT = {
    "the",
    "my",
    "his",
    "her",
    "it",
    "its",
    "i",
    "he",
    "she",
    "they",
    "their",
    "this",
    "that",
    "there",
    "we",
    "our",
}
TAKES_OBJECT = {
    "have",
    "has",
    "had",
    "got",
    "get",
    "feel",
    "felt",
    "notice",
    "noticed",
    "see",
    "seen",
    "any",
    "been",
}
# What follows these is affirmed, not denied: "can't sit up without a crushing headache".
DENIAL_STOPS = {"without", "except", "apart"}
# "it went away", "that settled": the symptom named before has gone.
REFERS_BACK = {"it", "that", "this", "they", "which", "both"}
# After "gone", these keep the sense "has gone away" ("it's gone now"); any other word means a
# change of state ("gone numb", "gone red").
AFTER_GONE = {
    "now",
    "away",
    "completely",
    "totally",
    "since",
    "thankfully",
    "though",
    "already",
    "entirely",
    "altogether",
    "by",
    "after",
    "overnight",
}
# Readings that count as a temperature: "38.5", "101", "39c", "101.2f" (see red_flags.yml).
_NUMBER = re.compile(r"^(\d{2,3}(?:\.\d+)?)(°?[cf])?$")
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"'})


@dataclass(frozen=True)
class RedFlag:
    """A red flag found in a message: which, at which level, and where (character offsets)."""

    name: str
    level: str
    start: int
    end: int


@dataclass
class Findings:
    flags: List[RedFlag] = field(default_factory=list)

    @property
    def level(self) -> str | None:
        levels = {f.level for f in self.flags}
        return next((level for level in URGENCY_LEVELS if level in levels), None)


class _Mention(NamedTuple):
    flag: str
    part: str  # "any", "where", "all0", "all1", ...
    start: int  # token offsets
    end: int


def typo_distance(a: str, b: str) -> int:
    """Edits between two words: insertions, deletions, substitutions, swaps of neighbours."""
    previous2: List[int] = []
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, y in enumerate(b, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y))
            if i > 1 and j > 1 and x == b[j - 2] and a[i - 2] == y:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def allowed_typos(word: str) -> int:
    """How many slips a word of this length may have and still be read as itself."""
    return 0 if len(word) < 4 else 1 if len(word) < 8 else 2


def deletions(word: str, times: int) -> Set[str]:
    """The word with up to `times` letters taken out (a typo index: two words within n edits
    share a key with up to n letters out of each)."""
    keys = {word}
    for _ in range(times):
        keys |= {k[:i] + k[i + 1 :] for k in keys for i in range(len(k))}
    return keys


class RedFlagMatcher:
    """The deterministic layer, usable on its own (tests, evaluation): `find(text)`."""

    def __init__(self, nlp: Any, config_path: Path = PATTERNS_FILE) -> None:
        config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
        self.nlp = nlp
        self.levels: Dict[str, str] = {}
        self.chronic_ok: Set[str] = set()
        self.urgent_even_if_gone: Set[str] = set()
        self.groups: Dict[str, int] = {}  # flag -> number of `all` lists
        self.has_where: Set[str] = set()
        self.celsius = tuple(config["temperature_ranges"]["celsius"])
        self.fahrenheit = tuple(config["temperature_ranges"]["fahrenheit"])
        self.english_words = english_words.of_pipeline(nlp)
        self.denial_reach = int(config["denial_reach"])

        self.matcher = PhraseMatcher(nlp.vocab, attr="NORM")
        symptom_words: List[str] = []
        for name, spec in config["flags"].items():
            if spec["level"] not in URGENCY_LEVELS:
                raise ValueError(f"red flag {name}: unknown level {spec['level']!r}")
            self.levels[name] = spec["level"]
            if spec.get("chronic_ok"):
                self.chronic_ok.add(name)
            if spec.get("urgent_even_if_gone"):
                self.urgent_even_if_gone.add(name)
            parts: Dict[str, List[str]] = {}
            if "any" in spec:
                parts["any"] = spec["any"]
            for index, phrases in enumerate(spec.get("all", [])):
                parts[f"all{index}"] = phrases
            self.groups[name] = len(spec.get("all", []))
            if "where" in spec:
                parts["where"] = spec["where"]
                self.has_where.add(name)
            if "not" in spec:
                parts["not"] = spec["not"]
            for part, phrases in parts.items():
                if part != "not":
                    symptom_words += [str(p) for p in phrases]
                self._add(f"flag|{name}|{part}", phrases)
        # Typo correction targets: the words of the symptoms and places (not of the markers).
        self.keywords = self._keywords(symptom_words)
        self.deletion_index: Dict[str, Set[str]] = defaultdict(set)
        for word in self.keywords:
            for key in deletions(word, allowed_typos(word)):
                self.deletion_index[key].add(word)
        marker_words: List[str] = []
        for kind in (
            "not_symptoms",
            "denials",
            "persistence",
            "clause_breaks",
            "contrasts",
            "unchanged",
            "subordinate_breaks",
            "subject_starts",
            "not_a_report",
            "asked_if_normal",
            "current",
            "report_anyway",
            "still",
            "back",
            "gone",
            "chronic",
            "new",
        ):
            self._add(f"marker|{kind}", config.get(kind, []))
            marker_words += [str(p) for p in config.get(kind, [])]
        # A word of a marker is read as written, never as a symptom word it resembles ("poss").
        self.marker_words = {t.norm_ for p in marker_words for t in self._pattern_doc(p)} - self.keywords

    # --- building -----------------------------------------------------------------------------
    def _pattern_doc(self, phrase: Any) -> Doc:
        doc = self.nlp.make_doc(str(phrase).lower().translate(_QUOTES))
        for token in doc:
            token.norm_ = self._temperature(token.norm_) or token.norm_
        return doc

    def _add(self, label: str, phrases: Iterable[Any]) -> None:
        docs = [self._pattern_doc(p) for p in phrases]
        if docs:
            self.matcher.add(label, docs)

    def _keywords(self, phrases: Iterable[str]) -> Set[str]:
        words = {t.norm_ for p in phrases for t in self._pattern_doc(p)}
        return {w for w in words if len(w) >= 4 and w.isalpha()}

    # --- reading a message ---------------------------------------------------------------------
    def _temperature(self, word: str) -> str | None:
        match = _NUMBER.match(word)
        if not match:
            return None
        value = float(match.group(1))
        low_c, high_c = self.celsius
        low_f, high_f = self.fahrenheit
        if low_c <= value <= high_c or low_f <= value <= high_f:
            return "tempreading" if match.group(2) else "tempnumber"
        return None

    def _normalise(self, word: str) -> str:
        """A temperature reading as "tempnumber", a year as "yearnumber", a misspelt symptom word
        as the word, else as is."""
        temperature = self._temperature(word)
        if temperature:
            return temperature
        if len(word) == 4 and word.isdigit() and 1950 <= int(word) <= 2100:
            return "yearnumber"  # "after his op in 2015": a story from the past
        if (
            word in self.keywords
            or not word.isalpha()
            or word in self.english_words
            or word in self.marker_words
        ):
            return word
        slips = allowed_typos(word)
        if not slips:
            return word
        distances = {
            k: typo_distance(word, k)
            for key in deletions(word, slips)
            for k in self.deletion_index.get(key, ())
        }
        distances = {k: d for k, d in distances.items() if d <= min(slips, allowed_typos(k))}
        if not distances:
            return word
        best = min(distances.values())
        closest = [k for k, d in distances.items() if d == best]
        return closest[0] if len(closest) == 1 else word  # a tie: not sure which word was meant

    def tokens(self, text: str) -> Doc:
        # Lower case letter by letter, so that offsets into the text stay the same ("WONT STOP").
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text.translate(_QUOTES))
        doc = self.nlp.make_doc(lowered)
        for token in doc:
            token.norm_ = self._normalise(token.norm_)
        return doc

    def find(self, text: str) -> Findings:
        doc = self.tokens(text or "")
        n = len(doc)
        markers: Dict[str, List[Tuple[int, int]]] = defaultdict(list)
        mentions: List[_Mention] = []
        exceptions: Dict[str, List[Tuple[int, int]]] = defaultdict(list)  # flag -> `not` spans
        for match_id, start, end in self.matcher(doc):
            label = self.nlp.vocab.strings[match_id]
            kind, _, rest = label.partition("|")
            if kind == "marker":
                markers[rest].append((start, end))
            else:
                flag, part = rest.split("|")
                if part == "not":
                    exceptions[flag].append((start, end))
                else:
                    mentions.append(_Mention(flag, part, start, end))

        # A question whether it is normal is a question like the others, unless its sentence
        # says the patient has it now (see red_flags.yml, asked_if_normal).
        markers["not_a_report"] = self._unless_current(doc, markers)
        masked = [False] * n
        for start, end in markers["not_symptoms"]:
            for i in range(start, end):
                masked[i] = True
        kept = [
            m
            for m in mentions
            if not any(masked[m.start : m.end])
            and not any(s <= m.start < e or m.start <= s < m.end for s, e in exceptions[m.flag])
        ]
        mentions = kept

        sentence, clause, subordinate = self._segments(doc, markers)
        in_symptom = [False] * n
        for m in mentions:
            if m.part != "where":
                for i in range(m.start, m.end):
                    in_symptom[i] = True
        in_denial = self._denials(doc, markers, in_symptom, clause)
        # A clause and the clauses hanging on it ("my pain is worse | than before the op", "is
        # a leak | after surgery common?") are read together: a question or a "new" covers all.
        group = list(range(max(clause, default=0) + 1))
        sentence_of_clause = [0] * len(group)
        for i, c in enumerate(clause):
            sentence_of_clause[c] = sentence[i]
        for c in sorted(subordinate):
            group[c] = group[c - 1]
        asked = {
            group[c] for c in self._clauses_with(markers["not_a_report"], clause, markers["report_anyway"])
        }
        not_report = {c for c in range(len(group)) if group[c] in asked}
        # Clauses that name a symptom: a phrase of its own, or one part of a symptom whose other
        # parts the sentence also names ("warm" alone, without a wound or a leg, is not one).
        parts_named: Dict[Tuple[str, int], Set[str]] = defaultdict(set)
        for m in mentions:
            parts_named[(m.flag, sentence[m.start])].add(m.part)
            if m.part == "where":  # "How long should the headache last? Mine is worse sitting up."
                parts_named[(m.flag, sentence[m.start] + 1)].add(m.part)
        symptom_clauses = {
            clause[m.start]
            for m in mentions
            if m.part != "where"
            and (m.part == "any" or self._complete(m.flag, parts_named[(m.flag, sentence[m.start])]))
        }
        gone = self._gone_clauses(doc, markers, clause, subordinate, symptom_clauses)
        chronic = bool(markers["chronic"])
        # "new", "worse", "since the op" speak for their sentence up to a contrast ("my leg pain
        # before surgery was agony, but since the op it's 2/10").
        contrast_starts = {clause[s] for s, _ in markers["contrasts"]}
        segment, current = [0] * len(group), 0
        for c in range(len(group)):
            if c in contrast_starts or (c > 0 and sentence_of_clause[c] != sentence_of_clause[c - 1]):
                current += 1
            segment[c] = current
        in_chronic = {i for s, e in markers["chronic"] for i in range(s, e)}  # "nothing new"
        new_segments = {
            segment[clause[s]]
            for s, e in markers["new"]
            if clause[s] not in not_report and not in_chronic & set(range(s, e)) and not in_denial[s]
        }  # "not worse"
        unchanged_segments = {segment[clause[s]] for s, _ in markers["unchanged"]}

        def reported(m: _Mention) -> bool:
            c = clause[m.start]
            return (
                not denied(m)
                and c not in not_report
                and (c not in gone or m.flag in self.urgent_even_if_gone)
            )

        def denied(m: _Mention) -> bool:
            return in_denial[m.start]

        by_sentence: Dict[Tuple[str, int], Dict[str, List[_Mention]]] = defaultdict(lambda: defaultdict(list))
        for m in mentions:
            if m.part == "where":
                # A place counts wherever it is named in the sentence ("could my wound be
                # infected, it's red"), except inside a denial ("no chest pain, but my calf...").
                if not denied(m):  # the place counts in its sentence and the next one
                    by_sentence[(m.flag, sentence[m.start])]["where"].append(m)
                    by_sentence[(m.flag, sentence[m.start] + 1)]["where"].append(m)
                continue
            if m.flag in self.chronic_ok and (
                segment[clause[m.start]] in unchanged_segments
                or (chronic and segment[clause[m.start]] not in new_segments)
            ):
                continue  # the long-standing symptom the surgery is for, or one that is unchanged
            if reported(m):
                by_sentence[(m.flag, sentence[m.start])][m.part].append(m)

        flags: Dict[str, RedFlag] = {}
        for (flag, _sentence), parts in sorted(by_sentence.items(), key=lambda kv: kv[0][1]):
            if flag in flags:
                continue
            found = parts.get("any", [])
            if not found and self._complete(flag, {p for p, ms in parts.items() if ms}):
                found = [m for i in range(self.groups[flag]) for m in parts[f"all{i}"]]
            if found:
                first = min(found, key=lambda m: m.start)
                last = max(found, key=lambda m: m.end)
                flags[flag] = RedFlag(
                    flag,
                    self.levels[flag],
                    doc[first.start].idx,
                    doc[last.end - 1].idx + len(doc[last.end - 1]),
                )
        return Findings(list(flags.values()))

    # --- the parts of `find` -------------------------------------------------------------------
    def _complete(self, flag: str, parts: Set[str]) -> bool:
        """Whether `parts` has every list of the flag's `all` (and its `where`, if it has one)."""
        groups = self.groups[flag]
        return (
            bool(groups)
            and all(f"all{i}" in parts for i in range(groups))
            and (flag not in self.has_where or "where" in parts)
        )

    @staticmethod
    def _segments(
        doc: Doc, markers: Dict[str, List[Tuple[int, int]]]
    ) -> Tuple[List[int], List[int], Set[int]]:
        """Sentence and clause number of each token, in one pass, and the clauses that hang on
        the one before ("when I stand", "because ...")."""
        n = len(doc)
        question_ends = {e for _, e in markers["not_a_report"]}
        inside_question = {i for s, e in markers["not_a_report"] for i in range(s + 1, e)}
        clause_starts = [False] * n
        subordinate_starts = [False] * n
        for kind in ("clause_breaks", "subordinate_breaks"):
            for start, _ in markers[kind]:
                # "how likely is it that ..." is one question, not two clauses
                if doc[start].is_alpha and (
                    start in question_ends or start - 1 in question_ends or start in inside_question
                ):
                    continue
                if (
                    doc[start].is_punct
                    and start > 0
                    and not doc[start - 1].whitespace_
                    and (not doc[start].whitespace_)
                ):
                    continue  # a hyphen inside a word: "sister-in-law", "post-op"
                clause_starts[start] = True
                subordinate_starts[start] = kind == "subordinate_breaks"
        for start, _ in markers["subject_starts"]:  # ", my ..." / "and it ..." / "or the ..."
            if start > 0 and doc[start - 1].norm_ in {",", "and", "or", "&", "n"}:
                clause_starts[start - 1] = True
        sentence, clause = RedFlagMatcher._sentence_numbers(doc), [0] * n
        subordinate: Set[int] = set()
        c = 0
        for i in range(n):
            if clause_starts[i] and i > 0:
                c += 1
                if subordinate_starts[i]:
                    subordinate.add(c)
            if i > 0 and sentence[i] != sentence[i - 1]:
                c += 1
            clause[i] = c
        return sentence, clause, subordinate

    @staticmethod
    def _sentence_numbers(doc: Doc) -> List[int]:
        """The sentence number of each token: a sentence ends at ".", "!", "?", or a new line."""
        numbers, s = [0] * len(doc), 0
        for i, token in enumerate(doc):
            numbers[i] = s
            if (
                token.text in SENTENCE_END
                or "\n" in token.text
                or (token.is_punct and any(ch in token.text for ch in "!?."))
            ):
                s += 1
        return numbers

    def _denials(
        self, doc: Doc, markers: Dict[str, List[Tuple[int, int]]], in_symptom: List[bool], clause: List[int]
    ) -> List[bool]:
        """Which tokens a real denial covers. A cue that is part of a symptom phrase ("can't
        pee") or followed by a persistence word ("won't stop", "hasn't gone away") denies
        nothing; a denial reaches `denial_reach` tokens into its own clause at most."""
        n = len(doc)
        persistence_at = [False] * n
        for start, _ in markers["persistence"]:
            persistence_at[start] = True
        in_denial = [False] * n
        for start, end in markers["denials"]:
            if any(in_symptom[start:end]):
                continue
            nxt = end
            while nxt < n and nxt < end + 3 and doc[nxt].norm_ in PERSISTENCE_GAP:
                nxt += 1
            if nxt < n and persistence_at[nxt]:
                continue
            verbal = doc[end - 1].norm_ == "not"
            for i in range(end, min(n, end + self.denial_reach)):
                word = doc[i].norm_
                if (
                    clause[i] != clause[start]
                    or word in DENIAL_STOPS
                    or (verbal and word in NEW_SUBJECT and doc[i - 1].norm_ not in TAKES_OBJECT)
                ):
                    break
                in_denial[i] = True
        return in_denial

    @staticmethod
    def _unless_current(doc: Doc, markers: Dict[str, List[Tuple[int, int]]]) -> List[Tuple[int, int]]:
        """The question markers that stand: every `not_a_report` one, and each `asked_if_normal`
        one (with the question words inside it) whose sentence has no sign of a current report:
        a `current` marker or a temperature reading."""
        sentence = RedFlagMatcher._sentence_numbers(doc)
        now = {sentence[s] for s, _ in markers["current"]} | {
            sentence[t.i] for t in doc if t.norm_ in ("tempnumber", "tempreading")
        }
        overruled = [(s, e) for s, e in markers["asked_if_normal"] if sentence[s] in now]
        inside = {i for s, e in overruled for i in range(s, e)}
        standing = [*markers["not_a_report"], *markers["asked_if_normal"]]
        return [(s, e) for s, e in standing if (s, e) not in overruled and not set(range(s, e)) <= inside]

    @staticmethod
    def _clauses_with(
        spans: List[Tuple[int, int]], clause: List[int], overriding: List[Tuple[int, int]]
    ) -> Set[int]:
        covered = {i for s, e in overriding for i in range(s, e)}
        return {clause[s] for s, e in spans if not any(i in covered for i in range(s, e))}

    def _gone_clauses(
        self,
        doc: Doc,
        markers: Dict[str, List[Tuple[int, int]]],
        clause: List[int],
        subordinate: Set[int],
        symptom_clauses: Set[int],
    ) -> Set[int]:
        """Clauses whose symptoms are said to have gone: the marker's own clause, or the one
        before it (with the clauses hanging on it) when the marker's clause names no symptom
        ("had a fever for a day after the op, it's gone now")."""

        def with_previous(c: int) -> Set[int]:
            """The last clause before `c` that names a symptom, with the clauses hanging on it."""
            t = c - 1
            while t > 0 and t not in symptom_clauses:
                t -= 1
            group = {t}
            while t in subordinate:
                t -= 1
                group.add(t)
            return group

        n = len(doc)
        denial_words = {"not", "no", "never", "nothing"}
        gone: Set[int] = set()
        for start, end in markers["gone"]:
            if any(doc[j].norm_ in denial_words for j in range(max(0, start - 3), start)):
                continue  # "hasn't gone away", "not settled": still there
            if (
                doc[end - 1].norm_ == "gone"
                and end < n
                and clause[end] == clause[start]
                and (doc[end].is_alpha and doc[end].norm_ not in AFTER_GONE)
            ):
                continue  # "gone numb", "gone all red": a change, not a recovery
            c = clause[start]
            refers_back = any(doc[j].norm_ in REFERS_BACK for j in range(max(0, start - 3), start))
            if c not in symptom_clauses or refers_back:
                gone |= with_previous(c) if c > 0 else set()
            if c in symptom_clauses:
                gone.add(c)
        for start, _ in markers["still"]:
            gone.discard(clause[start])
        gone_tokens = {i for s, e in markers["gone"] for i in range(s, e)}
        for start, end in markers["back"]:
            if any(i in gone_tokens for i in range(start, end)):
                continue  # "it's back to normal"
            gone -= {clause[start]} | with_previous(clause[start])
        return gone

"""Likely-duplicate matching of people: one rule for adding a person, CAD intake and the people search.

Two records are compared on names and date of birth (docs/decisions/007-person-matching.md):

- a name pair scores 1.0 when equal (ignoring case, accents, spaces and punctuation), 0.95 when one
  is a nickname of the other (NICKNAMES, our own short table), else its Jaro-Winkler similarity,
  raised to 0.9 when the two sound alike (Metaphone key) or differ by one edit (Damerau-Levenshtein:
  one letter wrong, missing, extra or two letters swapped). A compound name ("Garcia Lopez")
  scores 0.9 against one of its parts;
- first and last names are compared straight and swapped (a last name written as the first), and the
  better of the two counts, a little lower when swapped;
- dates of birth score 1.0 when equal, 0.85 when two adjacent digits are swapped or day and month are
  swapped, 0.7 when one digit differs, 0 otherwise; unknown when either is missing.

A pair is *likely* the same person when both names score at least NAME_LIKELY and the dates agree
at least DOB_LIKELY (or one date is missing and both names score at least NAME_LIKELY_NO_DOB).
It is *strong* (what CAD intake may link without a person looking) when the dates are equal and both
names score at least NAME_STRONG. tests/cases/test_matching.py holds the table these were set on.

The phonetic keys and distances come from jellyfish. Candidates are every active person of the
user's program (one query of five columns): who is then hidden from the user is counted, never named.
"""

import functools
import itertools
import unicodedata
from dataclasses import dataclass
from datetime import date

import jellyfish

NAME_LIKELY = 0.85
NAME_LIKELY_NO_DOB = 0.93
NAME_STRONG = 0.9
DOB_LIKELY = 0.7
SWAP_PENALTY = 0.02

# Names and their usual short forms: every name of a group matches every other name of it.
NICKNAME_GROUPS: tuple[tuple[str, ...], ...] = (
    ("robert", "bob", "bobby", "rob", "robbie", "bert"),
    ("william", "will", "bill", "billy", "willie", "liam"),
    ("elizabeth", "liz", "lizzie", "beth", "betty", "eliza", "libby", "betsy", "elisabeth"),
    ("margaret", "maggie", "meg", "peggy", "marge", "greta"),
    ("richard", "rick", "ricky", "dick", "rich"),
    ("james", "jim", "jimmy", "jamie"),
    ("john", "jack", "johnny", "jon"),
    ("jonathan", "jon", "jonny", "nathan"),
    ("michael", "mike", "mikey", "mick"),
    ("joseph", "joe", "joey"),
    ("thomas", "tom", "tommy"),
    ("charles", "charlie", "chuck"),
    ("christopher", "chris", "kit"),
    ("christina", "chris", "tina", "christine"),
    ("daniel", "dan", "danny"),
    ("david", "dave", "davey"),
    ("edward", "ed", "eddie", "ted", "ned"),
    ("anthony", "tony"),
    ("andrew", "andy", "drew"),
    ("alexander", "alex", "xander", "sasha"),
    ("alexandra", "alex", "lexi", "sandra", "sasha"),
    ("katherine", "catherine", "kathryn", "kate", "katie", "kathy", "cathy", "kat", "kay"),
    ("patricia", "pat", "patty", "trish", "tricia"),
    ("patrick", "pat", "paddy"),
    ("jennifer", "jen", "jenny"),
    ("rebecca", "becky", "becca"),
    ("susan", "sue", "susie", "suzanne"),
    ("deborah", "debra", "deb", "debbie"),
    ("samuel", "sam", "sammy"),
    ("samantha", "sam", "sammie"),
    ("benjamin", "ben", "benny"),
    ("nicholas", "nick", "nicky"),
    ("matthew", "matt"),
    ("steven", "stephen", "steve"),
    ("francisco", "paco", "pancho", "frank"),
    ("francis", "frank", "fran"),
    ("jose", "pepe"),
    ("guadalupe", "lupe"),
    ("jessica", "jess", "jessie"),
    ("victoria", "vicky", "tori"),
    ("theodore", "ted", "teddy", "theo"),
    ("gregory", "greg"),
    ("ronald", "ron", "ronnie"),
    ("donald", "don", "donnie"),
    ("kenneth", "ken", "kenny"),
    ("lawrence", "larry"),
    ("timothy", "tim", "timmy"),
    ("abigail", "abby"),
    ("dorothy", "dot", "dottie"),
    ("antonio", "tony", "toño"),
    ("manuel", "manny"),
    ("josephine", "jo", "josie"),
    ("raymond", "ray"),
    ("virginia", "ginny"),
)


def _nicknames() -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = {}
    for group in NICKNAME_GROUPS:
        names = {normalize(name) for name in group}
        for name in names:
            table.setdefault(name, set()).update(names)
    return {name: frozenset(names) for name, names in table.items()}


@functools.lru_cache(maxsize=65536)
def normalize(value: str) -> str:
    """Lower case ASCII letters and single spaces: "José  O'Neil-Ruiz" -> "jose oneil ruiz"."""
    if value.isascii():
        letters = value.lower()
    else:
        decomposed = unicodedata.normalize("NFKD", value)
        letters = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    kept = "".join(ch if ch.isalpha() else (" " if ch in " -" else "") for ch in letters)
    return " ".join(kept.split())


@functools.lru_cache(maxsize=65536)
def _metaphone(word: str) -> str:
    return jellyfish.metaphone(word)


_NICKNAMES = _nicknames()


def _one_word_similarity(a: str, b: str) -> float:
    if a == b:
        return 1.0
    if b in _NICKNAMES.get(a, ()):
        return 0.95
    score = jellyfish.jaro_winkler_similarity(a, b)
    if min(len(a), len(b)) >= 3 and _metaphone(a) == _metaphone(b):
        score = max(score, 0.9)
    if min(len(a), len(b)) >= 4 and jellyfish.damerau_levenshtein_distance(a, b) == 1:
        score = max(score, 0.9)
    return score


def name_similarity(a: str, b: str) -> float:
    """How alike two names are, 0..1 (see the module docstring)."""
    a, b = normalize(a or ""), normalize(b or "")
    if not a or not b:
        return 0.0
    whole = _one_word_similarity(a.replace(" ", ""), b.replace(" ", ""))
    parts_a, parts_b = a.split(), b.split()
    if len(parts_a) == 1 and len(parts_b) == 1:
        return whole
    # a compound name against one of its parts ("garcia lopez" / "garcia"): the best part pair
    best_part = max(_one_word_similarity(x, y) for x, y in itertools.product(parts_a, parts_b))
    return max(whole, min(best_part, 0.9))


def nicknames_of(name: str) -> frozenset[str]:
    """The name and the names our table holds as the same (normalized)."""
    word = normalize(name or "")
    return _NICKNAMES.get(word, frozenset()) | {word} if word else frozenset()


def initials(*names: str) -> frozenset[str]:
    """First letters a likely match's names may start with: each word's, and its nicknames'."""
    found = set()
    for name in names:
        for word in normalize(name or "").split():
            found.update(nick[0] for nick in nicknames_of(word))
    return frozenset(found)


def dob_variants(born: date) -> set[date]:
    """Every date that dob_similarity scores at least DOB_LIKELY against `born` (for a database filter)."""
    text = f"{born.year:04d}{born.month:02d}{born.day:02d}"
    texts = {text}
    for i in range(len(text)):
        texts.update(text[:i] + digit + text[i + 1 :] for digit in "0123456789")
        if i + 1 < len(text):
            texts.add(text[:i] + text[i + 1] + text[i] + text[i + 2 :])
    found = {born.replace(month=born.day, day=born.month)} if born.day <= 12 else set()
    for candidate in texts:
        try:
            found.add(date(int(candidate[:4]), int(candidate[4:6]), int(candidate[6:])))
        except ValueError:
            continue
    return found


def dob_similarity(a: date | None, b: date | None) -> float | None:
    """1.0 equal, 0.85 two digits or day/month swapped, 0.7 one digit off, 0 otherwise; None if unknown."""
    if a is None or b is None:
        return None
    if a == b:
        return 1.0
    if (a.year, a.month, a.day) == (b.year, b.day, b.month):
        return 0.85
    x, y = f"{a.year:04d}{a.month:02d}{a.day:02d}", f"{b.year:04d}{b.month:02d}{b.day:02d}"
    differ = [i for i in range(len(x)) if x[i] != y[i]]
    if (
        len(differ) == 2
        and differ[1] == differ[0] + 1
        and x[differ[0]] == y[differ[1]]
        and x[differ[1]] == y[differ[0]]
    ):
        return 0.85
    if len(differ) == 1:
        return 0.7
    return 0.0


@dataclass(frozen=True)
class Person:
    """What matching looks at: names and a date of birth."""

    first_name: str
    last_name: str
    date_of_birth: date | None = None
    preferred_name: str = ""


@dataclass(frozen=True)
class Match:
    first: float  # the first-name score of the better orientation
    last: float
    dob: float | None
    swapped: bool

    @property
    def name(self) -> float:
        return min(self.first, self.last)

    @property
    def is_likely(self) -> bool:
        if self.dob is None:
            return self.name >= NAME_LIKELY_NO_DOB
        return self.name >= NAME_LIKELY and self.dob >= DOB_LIKELY

    @property
    def is_strong(self) -> bool:
        return self.dob == 1.0 and self.name >= NAME_STRONG

    @property
    def score(self) -> float:
        """For ordering: names count most, an agreeing date of birth next."""
        return round(0.6 * (self.first + self.last) / 2 + 0.4 * (self.dob if self.dob is not None else 0.5), 3)


def compare(a: Person, b: Person) -> Match:
    """How alike two people's names and dates of birth are."""

    def first_score(name: str, other: Person) -> float:
        scores = [name_similarity(name, other.first_name)]
        if other.preferred_name:
            scores.append(name_similarity(name, other.preferred_name))
        return max(scores)

    straight_first = max(first_score(a.first_name, b), first_score(a.preferred_name, b) if a.preferred_name else 0)
    straight_last = name_similarity(a.last_name, b.last_name)
    swapped_first = name_similarity(a.first_name, b.last_name) - SWAP_PENALTY
    swapped_last = first_score(a.last_name, b) - SWAP_PENALTY
    dob = dob_similarity(a.date_of_birth, b.date_of_birth)
    if min(swapped_first, swapped_last) > min(straight_first, straight_last):
        return Match(swapped_first, swapped_last, dob, swapped=True)
    return Match(straight_first, straight_last, dob, swapped=False)


def ranked(query: Person, people: list[tuple[int, Person]]) -> list[tuple[int, Match]]:
    """(id, match) of the likely duplicates of `query` among `people`, best first."""
    found = []
    for pk, person in people:
        dob = dob_similarity(query.date_of_birth, person.date_of_birth)
        if dob is not None and dob < DOB_LIKELY:
            continue  # dates of birth too far apart: not likely, whatever the names (and names cost more)
        match = compare(query, person)
        if match.is_likely:
            found.append((pk, match))
    return sorted(found, key=lambda row: (-row[1].score, row[0]))

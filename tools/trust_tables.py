"""Write the class tables of docs/trust.md from the committed models' evaluation artifacts
(`ecg_core.evaluation.new_patient_tables`, the tables the Home page shows), between its two
markers. Run after a model or one of its artifacts changes; a test checks that the page
agrees with the artifacts.

    python tools/trust_tables.py            # rewrite docs/trust.md
    python tools/trust_tables.py --check    # exit 1 if it is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ecg_core.evaluation import new_patient_tables  # noqa: E402

PAGE = ROOT / "docs" / "trust.md"
BEGIN = "<!-- class tables: written by tools/trust_tables.py from the evaluation artifacts -->"
END = "<!-- end of the class tables -->"
#: The committed models, in the order the page gives them, with what each is for.
MODELS = (
    ("aami/ecgnet", "aami/ecgnet.keras",
     "the model for records of new patients (five AAMI classes; the Record page's choice "
     "for a new person)"),
    ("record/ecgnet", "record/ecgnet.keras",
     "eight classes, trained with patients kept apart"),
    ("ecgnet", "ecgnet.keras",
     "eight classes, trained under the beat split (the default for beat images)"),
)


def tables_markdown(models_dir: Path = ROOT / "models") -> str:
    """The generated part of the page: per model, its purpose and its class tables."""
    parts = []
    for name, file, purpose in MODELS:
        parts.append(f"### `{name}`: {purpose}")
        tables = new_patient_tables(models_dir / file)
        if not tables:
            parts.append("No figures on patients it never saw are committed with it.")
        for t in tables:
            parts.append(f"**{t['title']}**\n\n{t['markdown']}")
    return "\n\n".join(parts)


def page_with_tables(text: str, tables: str) -> str:
    """``text`` with the part between :data:`BEGIN` and :data:`END` replaced by ``tables``.

    Raises:
        ValueError: if the markers are missing.
    """
    head, sep, rest = text.partition(BEGIN)
    _, sep2, tail = rest.partition(END)
    if not sep or not sep2:
        raise ValueError(f"{PAGE.name} lacks its markers {BEGIN!r} and {END!r}.")
    return f"{head}{BEGIN}\n\n{tables}\n\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="only say whether the page agrees with the artifacts")
    args = parser.parse_args(argv)
    text = PAGE.read_text()
    new = page_with_tables(text, tables_markdown())
    if args.check:
        if new != text:
            print(f"{PAGE.relative_to(ROOT)} is out of date: run python tools/trust_tables.py")
            return 1
        print(f"{PAGE.relative_to(ROOT)} agrees with the evaluation artifacts")
        return 0
    PAGE.write_text(new)
    print(f"wrote {PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

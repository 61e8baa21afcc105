"""Drops fake daily dumps into <root>/dumps/, as the outside system would.

    python examples/make_dumps.py --root data --end 2024-03-31 --days 23 --skip 2024-03-27
"""

from __future__ import annotations

import argparse
import datetime
import os
import random


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", default="data")
    parser.add_argument("--end", type=datetime.date.fromisoformat, default=datetime.date.today())
    parser.add_argument("--days", type=int, default=23, help="how many days back from --end")
    parser.add_argument("--skip", type=datetime.date.fromisoformat, action="append", default=[],
                        help="a day whose dump has not arrived yet (repeatable)")
    args = parser.parse_args()
    os.makedirs(os.path.join(args.root, "dumps"), exist_ok=True)
    written = 0
    for back in range(args.days):
        day = args.end - datetime.timedelta(days=back)
        path = os.path.join(args.root, "dumps", f"{day:%Y-%m-%d}.txt")
        if day in args.skip or os.path.exists(path):
            continue
        rng = random.Random(day.toordinal())
        tmp = path + ".tmp"
        with open(tmp, "w") as out:
            out.writelines(f"{rng.randint(0, 1000)}\n" for _ in range(100))
        os.replace(tmp, path)
        written += 1
    print(f"wrote {written} dumps under {args.root}/dumps")


if __name__ == "__main__":
    main()

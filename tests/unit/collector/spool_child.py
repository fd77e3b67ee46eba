"""Child process for the spool crash test: appends groups of beats forever, reporting each commit.

Usage: python spool_child.py SPOOL_PATH GROUP_SIZE. Prints "committed <group>" after each
``Spool.append`` has returned (i.e. after COMMIT), flushing stdout, until it is killed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from collector.beats import Beat, Gap
from collector.spool import Spool


def main() -> None:
    path, group_size = Path(sys.argv[1]), int(sys.argv[2])
    spool = Spool(path)
    group = 0
    while True:
        base = 1_790_000_000_000 + group * group_size * 1000
        beats = [Beat(t_ms=base + j * 1000, rr_ticks=1000 + j) for j in range(group_size)]
        gaps = [Gap(start_ms=base - 500, end_ms=base)] if group % 10 == 0 else []
        spool.append(beats, gaps, dropped=1)
        sys.stdout.write(f"committed {group}\n")
        sys.stdout.flush()
        group += 1


if __name__ == "__main__":
    main()

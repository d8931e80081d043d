"""A sync run's report: per entry what was fetched, and the exit code that sums it up.

Written as ``dest_root/os_downloads_sync_report.json`` (for tools) and
``.txt`` (for people) after every run that is not a dry run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Tuple

from ..atomic import atomic_write_text
from ..safe_text import safe_line

EXIT_UPDATED = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NOTHING_NEW = 10
EXIT_LOCKED = 11

REPORT_JSON = "os_downloads_sync_report.json"
REPORT_TEXT = "os_downloads_sync_report.txt"

UPDATED, UP_TO_DATE, WOULD_UPDATE, FAILED, NOT_RUN = (
    "updated",
    "up to date",
    "would update",
    "failed",
    "not run",
)


@dataclass
class EntryReport:
    key: str
    kind: str
    label: str
    status: str = NOT_RUN
    fetched: List[Dict[str, str]] = field(default_factory=list)  # version, description, folder
    pending: List[str] = field(default_factory=list)  # steps planned but not done
    notes: List[str] = field(default_factory=list)
    error: str = ""


@dataclass
class SyncReport:
    config: str
    dest_root: str
    dry_run: bool
    started: str
    finished: str = ""
    entries: List[EntryReport] = field(default_factory=list)
    error: str = ""  # a run-level failure (lock held, bad config)
    locked: bool = False

    def count(self, status: str) -> int:
        return sum(1 for e in self.entries if e.status == status)

    @property
    def failed(self) -> bool:
        return bool(self.error) or any(e.status in (FAILED, NOT_RUN) for e in self.entries)

    @property
    def exit_code(self) -> int:
        if self.locked:
            return EXIT_LOCKED
        if self.failed:
            return EXIT_FAILED
        if self.count(UPDATED) or self.count(WOULD_UPDATE):
            return EXIT_UPDATED
        return EXIT_NOTHING_NEW

    @property
    def outcome(self) -> str:
        return {
            EXIT_LOCKED: "locked",
            EXIT_FAILED: "failed",
            EXIT_UPDATED: "would update" if self.dry_run else "updated",
            EXIT_NOTHING_NEW: "nothing new",
        }[self.exit_code]

    def to_json(self) -> Dict[str, Any]:
        return {
            "outcome": self.outcome,
            "exit_code": self.exit_code,
            "config": self.config,
            "dest_root": self.dest_root,
            "dry_run": self.dry_run,
            "started": self.started,
            "finished": self.finished,
            "error": self.error,
            "counts": {
                s.replace(" ", "_"): self.count(s)
                for s in (UPDATED, UP_TO_DATE, WOULD_UPDATE, FAILED, NOT_RUN)
            },
            "entries": [vars(e) for e in self.entries],
        }

    def to_text(self) -> str:
        """The report for people; every piece one safe line (server text may be in it)."""
        mode = " (dry run: nothing downloaded)" if self.dry_run else ""
        lines = [f"OS Downloads sync {self.started}{mode}", f"config: {safe_line(self.config)}"]
        lines.append(f"into:   {safe_line(self.dest_root)}")
        if self.error:
            lines.append(f"ERROR: {safe_line(self.error)}")
        for e in self.entries:
            lines.append(f"{e.status.upper():<13}{safe_line(e.label)}")
            for item in e.fetched:
                lines.append(
                    f"    fetched {safe_line(item['description'])} -> {safe_line(item['folder'])}"
                )
            for step in e.pending:
                doing = "would fetch" if self.dry_run else "not fetched"
                lines.append(f"    {doing} {safe_line(step)}")
            for note in e.notes:
                lines.append(f"    {safe_line(note)}")
            if e.error:
                lines.append(f"    error: {safe_line(e.error)}")
        counts = ", ".join(
            f"{self.count(s)} {s}"
            for s in (UPDATED, WOULD_UPDATE, UP_TO_DATE, FAILED, NOT_RUN)
            if self.count(s)
        )
        lines.append(
            f"Outcome: {self.outcome} ({counts or 'no entries'}); exit code {self.exit_code}."
        )
        return "\n".join(lines)


def write_report(report: SyncReport, dest_root: Path) -> Tuple[Path, Path]:
    """The last run's report beside the state: JSON for tools, text for people."""
    dest_root.mkdir(parents=True, exist_ok=True)
    json_path, text_path = dest_root / REPORT_JSON, dest_root / REPORT_TEXT
    atomic_write_text(json_path, json.dumps(report.to_json(), indent=2) + "\n")
    atomic_write_text(text_path, report.to_text() + "\n")
    return json_path, text_path

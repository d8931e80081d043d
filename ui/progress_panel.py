"""The strip at the bottom of the dock: what is downloading, how far, and Cancel."""

from __future__ import annotations

from typing import List, Optional

from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from ..i18n import tr
from ..integration.task import JobTask


class ProgressPanel(QWidget):
    """Follows the most recent running task; hidden when nothing runs."""

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.title_label = QLabel()
        self.title_label.setWordWrap(True)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 100)
        self.bar.setTextVisible(True)
        self.cancel_button = QPushButton(tr("Cancel"))
        row = QHBoxLayout()
        row.addWidget(self.bar, 1)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.title_label)
        layout.addLayout(row)
        layout.addWidget(self.status_label)
        self._tasks: List[JobTask] = []
        self.cancel_button.clicked.connect(self.cancel_current)
        # Core reports progress only when bytes arrive: a stall is seen by asking.
        self._clock = QTimer(self)
        self._clock.setInterval(1000)
        self._clock.timeout.connect(lambda: self.current and self._update(self.current))
        self.setVisible(False)

    @property
    def current(self) -> Optional[JobTask]:
        return self._tasks[-1] if self._tasks else None

    def track(self, task: JobTask) -> None:
        self._tasks.append(task)
        task.progressChanged.connect(lambda _value, t=task: self._update(t))
        self._show(task)

    def bring_forward(self, task: JobTask) -> None:
        """Show an already tracked task (a second click on its button)."""
        if task in self._tasks:
            self._tasks.remove(task)
            self._tasks.append(task)
            self._show(task)
        else:
            self.track(task)

    def untrack(self, task: JobTask) -> None:
        if task in self._tasks:
            self._tasks.remove(task)
        if self.current is not None:
            self._show(self.current)
        else:
            self._clock.stop()
            self.setVisible(False)

    def cancel_current(self) -> None:
        task = self.current
        if task is not None:
            self.status_label.setText(tr("Cancelling…"))
            self.cancel_button.setEnabled(False)
            task.cancel()

    def _show(self, task: JobTask) -> None:
        others = len(self._tasks) - 1
        title = task.title
        if others:
            title += " " + tr("(+{count} more in the task manager)").format(count=others)
        self.title_label.setText(title)
        self.cancel_button.setEnabled(not task.cancel_event.is_set())
        self.setVisible(True)
        self._clock.start()
        self._update(task)

    def _update(self, task: JobTask) -> None:
        if task is not self.current:
            return
        fraction = getattr(task.latest_progress, "fraction", None)
        if fraction is None:
            self.bar.setRange(0, 0)  # busy: size not known yet
        else:
            self.bar.setRange(0, 100)
            self.bar.setValue(int(task.progress()))
        if not task.cancel_event.is_set():
            self.status_label.setText(task.current_status())

"""A dismissable, word-wrapped notice at the top of the dock.

QgsMessageBar shows one line with scroll arrows; in a 400 px dock an error
and its "what to do next" would be cut to a few words. This wraps instead.
"""

from __future__ import annotations

from typing import Optional

from qgis.core import Qgis
from qgis.PyQt.QtCore import Qt, QTimer
from qgis.PyQt.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

from ..i18n import tr

_STYLES = {
    Qgis.MessageLevel.Info: ("#e8f0fb", "#7a9cc6"),
    Qgis.MessageLevel.Warning: ("#fff4cc", "#d9a400"),
    Qgis.MessageLevel.Critical: ("#fde2e1", "#c0392b"),
    Qgis.MessageLevel.Success: ("#e3f4e1", "#5a9e4b"),
}


class Notice(QFrame):
    """``show_message(title, text, level, seconds)``; ``text()`` is what the user reads."""

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("os_downloads_notice")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.close_button = QToolButton()
        self.close_button.setText("×")
        self.close_button.setToolTip(tr("Dismiss"))
        self.close_button.setAutoRaise(True)
        self.close_button.clicked.connect(self.dismiss)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 2, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.dismiss)
        self._plain = ""
        self.setVisible(False)

    def show_message(
        self, title: str, text: str, level: Qgis.MessageLevel, seconds: int = 0
    ) -> None:
        background, border = _STYLES.get(level, _STYLES[Qgis.MessageLevel.Info])
        self.setStyleSheet(
            f"#os_downloads_notice {{ background: {background}; border: 1px solid {border};"
            " border-radius: 3px; } QLabel { color: #202020; }"
        )
        self._plain = f"{title}: {text}" if title else text
        self.label.setText(f"<b>{_escape(title)}</b> {_escape(text)}" if title else _escape(text))
        self.setVisible(True)
        if seconds > 0:
            self._timer.start(seconds * 1000)
        else:
            self._timer.stop()

    def text(self) -> str:
        """What is shown (title and text), empty when dismissed."""
        return self._plain if self.isVisibleTo(self.parentWidget()) else ""

    def dismiss(self) -> None:
        self._timer.stop()
        self._plain = ""
        self.setVisible(False)


def _escape(text: str) -> str:
    import html

    return html.escape(text)

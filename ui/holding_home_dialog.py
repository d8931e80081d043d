"""Where to keep a data package's holding: a GeoPackage file, or a PostGIS schema.

Asked once per package (then remembered; "Change where…" asks again). The
PostGIS choice lists the user's saved QGIS PostgreSQL connections; the
connection's own login is used (Authentication Manager, service file or
pgpass), and only its name and the schema are remembered.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

from qgis.PyQt.QtCore import QRegularExpression
from qgis.PyQt.QtGui import QRegularExpressionValidator
from qgis.PyQt.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from ..i18n import tr
from ..integration.holding_homes import HoldingHome, is_valid_schema
from ..integration.postgres_connections import SavedConnection


class HoldingHomeDialog(QDialog):
    """``home()`` after ``exec()`` returned Accepted: the chosen ``HoldingHome``."""

    def __init__(
        self,
        package_name: str,
        *,
        suggested_path: str,
        suggested_schema: str,
        connections: Sequence[SavedConnection],
        current: Optional[HoldingHome] = None,
        parent: Optional[QWidget] = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Where to keep {name}").format(name=package_name))
        self.connections = list(connections)

        intro = QLabel(
            tr(
                "The holding is one copy of {name} kept current: built from the newest "
                "full supply, then each change-only update applied in order."
            ).format(name=package_name)
        )
        intro.setWordWrap(True)

        self.geopackage_choice = QRadioButton(tr("In a GeoPackage file (just for you)"))
        self.path_edit = QLineEdit(suggested_path)
        self.browse_button = QPushButton(tr("Browse…"))
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.browse_button)

        self.postgis_choice = QRadioButton(tr("In a PostGIS database (shared with your team)"))
        self.connection_combo = QComboBox()
        for connection in self.connections:
            self.connection_combo.addItem(connection.label, connection.name)
        self.schema_edit = QLineEdit(suggested_schema)
        self.schema_edit.setValidator(
            QRegularExpressionValidator(QRegularExpression("[a-z_][a-z0-9_]{0,62}"), self)
        )
        self.schema_edit.setPlaceholderText(tr("lower case letters, digits and _"))
        postgis_form = QFormLayout()
        postgis_form.addRow(tr("Connection"), self.connection_combo)
        postgis_form.addRow(tr("Schema"), self.schema_edit)
        self.postgis_note = QLabel()
        self.postgis_note.setWordWrap(True)
        if self.connections:
            self.postgis_note.setText(
                tr(
                    "Uses the connection's own login (Authentication Manager, service file "
                    "or pgpass): only its name and the schema are remembered, never a "
                    "password."
                )
            )
        else:
            self.postgis_note.setText(
                tr(
                    "No saved PostgreSQL connections. Add one in the Browser panel "
                    "(PostgreSQL > New Connection…), then choose it here."
                )
            )
            self.postgis_choice.setEnabled(False)

        indent = 22
        path_box = QWidget()
        path_box.setLayout(path_row)
        path_box.setContentsMargins(indent, 0, 0, 0)
        postgis_box = QWidget()
        postgis_layout = QVBoxLayout(postgis_box)
        postgis_layout.setContentsMargins(indent, 0, 0, 0)
        postgis_layout.addLayout(postgis_form)
        postgis_layout.addWidget(self.postgis_note)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(tr("Keep it here"))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addSpacing(6)
        layout.addWidget(self.geopackage_choice)
        layout.addWidget(path_box)
        layout.addSpacing(6)
        layout.addWidget(self.postgis_choice)
        layout.addWidget(postgis_box)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

        self.choices = QButtonGroup(self)
        self.choices.addButton(self.geopackage_choice)
        self.choices.addButton(self.postgis_choice)
        self._path_box, self._postgis_box = path_box, postgis_box
        self.geopackage_choice.toggled.connect(self._update)
        self.postgis_choice.toggled.connect(self._update)
        self.path_edit.textChanged.connect(self._update)
        self.schema_edit.textChanged.connect(self._update)
        self.browse_button.clicked.connect(self._browse)
        self._select(current)
        self.setMinimumWidth(540)

    def _select(self, current: Optional[HoldingHome]) -> None:
        if current is not None and current.is_postgis and self.connections:
            index = self.connection_combo.findData(current.connection)
            if index >= 0:
                self.connection_combo.setCurrentIndex(index)
            if current.schema:
                self.schema_edit.setText(current.schema)
            self.postgis_choice.setChecked(True)
        else:
            if current is not None and current.path:
                self.path_edit.setText(current.path)
            self.geopackage_choice.setChecked(True)
        self._update()

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, tr("GeoPackage to keep the holding in"), self.path_edit.text(), "*.gpkg"
        )
        if path:
            self.path_edit.setText(path)

    def _update(self) -> None:
        postgis = self.postgis_choice.isChecked()
        self._path_box.setEnabled(not postgis)
        for widget in (self.connection_combo, self.schema_edit):
            widget.setEnabled(postgis)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(self.home() is not None)

    def home(self) -> Optional[HoldingHome]:
        """The choice, or None while it is incomplete (no file name, a bad schema name)."""
        if self.postgis_choice.isChecked():
            name = self.connection_combo.currentData()
            schema = self.schema_edit.text().strip()
            if not name or not is_valid_schema(schema):
                return None
            return HoldingHome.postgis(str(name), schema)
        path = self.path_edit.text().strip()
        if not path:
            return None
        if not path.lower().endswith(".gpkg"):
            path += ".gpkg"
        return HoldingHome.geopackage(str(Path(path)))

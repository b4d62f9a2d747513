"""A holder for a label whose text changes many times a second, so that the window is not
laid out again at each change.

Why: ``QLabel.setText`` asks the layouts above it to lay the window out again, whether its
size changed or not. The training tab's progress line (every tick) and its curves in words
(every epoch) then laid out the whole window and repainted most of it: about 3.5 ms a change
on two cores, 3 % of a core during a run, which the training lacked. Here the label lives in
a holder without a layout, which catches those requests. The holder asks for a new layout
only when the text needs more lines than it has had: it grows and never shrinks, so a text
that goes from one line to two and back does not resize the plots beside it each time
(each resize repainted them in full).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


class SteadyLabel(QWidget):
    """Holds ``label`` (kept as it is: its text, accessible name and flags) at the full width
    it is given, as tall as its text has needed so far."""

    def __init__(self, label: QLabel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = label
        label.setParent(self)
        self._height = 0
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self._fit()

    def sizeHint(self) -> QSize:
        return QSize(self.label.sizeHint().width(), self._height)

    def minimumSizeHint(self) -> QSize:
        return QSize(0, self._height)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:  # from the label's setText
            self._fit()
            return True
        return super().event(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.label.setGeometry(self.rect())
        self._fit()  # narrower: more lines

    def _fit(self) -> None:
        label = self.label
        if label.wordWrap() and self.width() > 0:
            needed = label.heightForWidth(self.width())
        else:
            needed = label.sizeHint().height()
        if needed > self._height:
            self._height = needed
            self.updateGeometry()  # the one change that lays the window out again

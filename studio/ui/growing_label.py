"""A word-wrapped label that grows with its text but never shrinks.

Why: a label under the live plots whose text changes every epoch went from one line to two
and back at each run, and each change of height resized the plots above it, which then
repainted in full (tens of milliseconds each on the window's thread, while it trains).
"""

from __future__ import annotations

from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QWidget


class GrowingLabel(QLabel):
    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setWordWrap(True)

    def setText(self, text: str) -> None:
        super().setText(text)
        self._grow()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._grow()  # narrower: more lines

    def _grow(self) -> None:
        if self.width() > 0:
            needed = self.heightForWidth(self.width())
            if needed > self.minimumHeight():
                self.setMinimumHeight(needed)

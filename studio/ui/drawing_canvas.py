"""A small square to draw on with the mouse: thick white strokes on black, like the digits.

The strokes go into a greyscale QImage as they are drawn (antialiased, round caps), so
reading the drawing back is a copy of its pixels, whatever the widget's size on screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRect, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

if TYPE_CHECKING:
    import numpy as np

#: 168 = 8 x 21 = 28 x 6: the 8x8 digits and MNIST's 28x28 divide it into whole blocks.
SIZE = 168
#: About a tenth of the width, as the strokes of the digit datasets.
STROKE = 16


class DrawingCanvas(QWidget):
    changed = Signal()  # the drawing changed (while a stroke is drawn, too)
    stroke_finished = Signal()  # the mouse button was released

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image = QImage(SIZE, SIZE, QImage.Format.Format_Grayscale8)
        self._image.fill(QColor("black"))
        self._last: QPointF | None = None
        self._blank = True
        self.setFixedSize(SIZE, SIZE)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setAccessibleName("Drawing area")
        self.setAccessibleDescription("Draw with the mouse; the model's prediction follows.")
        self.setToolTip("Draw a sample with the mouse (white on black)")

    @property
    def blank(self) -> bool:
        return self._blank

    def clear(self) -> None:
        self._image.fill(QColor("black"))
        self._blank = True
        self.update()
        self.changed.emit()

    def pixels(self) -> np.ndarray:
        """The drawing as a (SIZE, SIZE) uint8 array, 0 black to 255 white."""
        import numpy as np

        image = self._image
        rows = np.frombuffer(image.constBits(), dtype=np.uint8,
                             count=image.bytesPerLine() * image.height())
        return rows.reshape(image.height(), image.bytesPerLine())[:, :image.width()].copy()

    def draw_line(self, start: QPointF, end: QPointF) -> None:
        """Draw one stroke segment in image coordinates (what the mouse does)."""
        painter = QPainter(self._image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor("white"), STROKE, Qt.PenStyle.SolidLine,
                            Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin))
        painter.drawLine(start, end)
        painter.end()
        self._blank = False
        self.update()
        self.changed.emit()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._last = event.position()
            self.draw_line(self._last, self._last)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._last is not None:  # pressed here and not yet released
            point = event.position()
            self.draw_line(self._last, point)
            self._last = point

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._last is not None:
            self._last = None
            self.stroke_finished.emit()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.drawImage(QRect(0, 0, self.width(), self.height()), self._image)
        painter.end()

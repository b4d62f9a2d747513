"""Render resources/icons/app.svg to the 256 px app.png that desktop entries and bundles use.

Run after editing app.svg: ``.venv/bin/python packaging/render_app_icon.py``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
SIZE = 256


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    _app = QGuiApplication(sys.argv)
    renderer = QSvgRenderer(str(ICONS / "app.svg"))
    if not renderer.isValid():
        print(f"{ICONS / 'app.svg'}: not a valid SVG", file=sys.stderr)
        return 1
    image = QImage(SIZE, SIZE, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, SIZE, SIZE))
    painter.end()
    target = ICONS / "app.png"
    if not image.save(str(target), "PNG"):
        print(f"{target}: could not write the PNG", file=sys.stderr)
        return 1
    print(f"wrote {target} ({SIZE}x{SIZE})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

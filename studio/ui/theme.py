"""Light, dark or the system's colours: a QPalette for the widgets, matching plot colours.

"system" gives back the palette (and style) the application started with, which is the
platform's. Plots (pyqtgraph) are restyled when the theme changes and when a view shows
plots made since (``style_plots`` is cheap and skips plots already styled).
"""

from __future__ import annotations

import sys

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory, QWidget

_system: tuple[QPalette, str] | None = None  # the application's own palette and style name
_plots_restyled = False  # whether any plot was ever given other than its own light colours
#: Native styles that ignore much of a custom palette; an explicit theme uses Fusion there.
_PALETTE_BLIND_STYLES = {"windowsvista", "windows11", "macos"}

_DARK = {  # the usual dark Fusion palette: check boxes and frames stay visible
    QPalette.ColorRole.Window: (53, 53, 53), QPalette.ColorRole.WindowText: (230, 230, 230),
    QPalette.ColorRole.Base: (35, 35, 35), QPalette.ColorRole.AlternateBase: (53, 53, 53),
    QPalette.ColorRole.ToolTipBase: (66, 66, 66), QPalette.ColorRole.ToolTipText: (230, 230, 230),
    QPalette.ColorRole.PlaceholderText: (150, 150, 150), QPalette.ColorRole.Text: (230, 230, 230),
    QPalette.ColorRole.Button: (53, 53, 53), QPalette.ColorRole.ButtonText: (230, 230, 230),
    QPalette.ColorRole.BrightText: (255, 90, 90), QPalette.ColorRole.Light: (90, 90, 90),
    QPalette.ColorRole.Midlight: (70, 70, 70), QPalette.ColorRole.Mid: (45, 45, 45),
    QPalette.ColorRole.Dark: (30, 30, 30), QPalette.ColorRole.Shadow: (0, 0, 0),
    QPalette.ColorRole.Highlight: (42, 130, 218),
    QPalette.ColorRole.HighlightedText: (255, 255, 255),
    QPalette.ColorRole.Link: (100, 170, 255), QPalette.ColorRole.LinkVisited: (180, 140, 255),
}
_DARK_DISABLED = (130, 130, 130)

#: (background, text and titles, axes) of plots in each effective theme.
PLOT_COLOURS = {"light": ("w", "k", None), "dark": ((35, 35, 35), (225, 225, 225),
                                                   (165, 165, 165))}


def dark_palette() -> QPalette:
    palette = QPalette()
    for role, rgb in _DARK.items():
        palette.setColor(role, QColor(*rgb))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text,
                 QPalette.ColorRole.ButtonText, QPalette.ColorRole.HighlightedText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(*_DARK_DISABLED))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Highlight,
                     QColor(80, 80, 80))
    return palette


def light_palette() -> QPalette:
    """Fusion's light palette: the same on every platform."""
    style = QStyleFactory.create("Fusion")
    return style.standardPalette() if style is not None else QPalette()


def system_is_dark() -> bool:
    scheme = QGuiApplication.styleHints().colorScheme()
    if scheme != Qt.ColorScheme.Unknown:
        return scheme == Qt.ColorScheme.Dark
    palette = _system[0] if _system else QGuiApplication.palette()
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def effective(theme: str) -> str:
    """"light" or "dark": what ``theme`` ("system", "light", "dark") means right now."""
    if theme in ("light", "dark"):
        return theme
    return "dark" if system_is_dark() else "light"


def apply_theme(theme: str) -> str:
    """Set the application's palette for ``theme``; returns the effective theme."""
    global _system
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return effective(theme)
    if _system is None:
        _system = (QApplication.palette(), app.style().name())
    palette, style_name = _system
    if theme == "system":
        if app.style().name() == style_name and QApplication.palette() == palette:
            return effective(theme)  # nothing to change (every window starts this way)
        if app.style().name() != style_name:
            app.setStyle(style_name)
        app.setPalette(palette)
    else:
        if app.style().name().lower() in _PALETTE_BLIND_STYLES:
            app.setStyle("Fusion")
        app.setPalette(dark_palette() if theme == "dark" else light_palette())
    return effective(theme)


def style_plots(root: QWidget, theme: str) -> int:
    """Give every pyqtgraph plot below ``root`` the theme's colours; returns how many changed.

    Without pyqtgraph imported there are no plots (it is imported when the first is made).
    """
    if "pyqtgraph" not in sys.modules:
        return 0
    import pyqtgraph as pg

    global _plots_restyled
    name = effective(theme)
    if name == "light" and not _plots_restyled:
        return 0  # plots are made light: nothing to look at
    _plots_restyled = True
    background, text, axis_pen = PLOT_COLOURS[name]
    changed = 0
    for plot in root.findChildren(pg.PlotWidget):
        # Plots are made light: one never restyled is still light.
        if (plot.property("studioPlotTheme") or "light") == name:
            continue
        plot.setProperty("studioPlotTheme", name)
        changed += 1
        plot.setBackground(background)
        item = plot.getPlotItem()
        for axis_name in ("left", "bottom", "right", "top"):
            axis = item.getAxis(axis_name) if axis_name in item.axes else None
            if axis is None:
                continue
            if axis_pen is None:
                axis.setPen()
                axis.setTextPen()
            else:
                axis.setPen(axis_pen)
                axis.setTextPen(text)
            if hasattr(axis, "paper"):  # live_plot's opaque grid blends with the background
                axis.paper = pg.mkColor(background)
        title = item.titleLabel
        if title.text:
            title.setText(title.text, color=text)
        legend = item.legend
        if legend is not None:
            legend.setLabelTextColor(text)
            for _sample, label in legend.items:
                label.setText(label.text)
    return changed

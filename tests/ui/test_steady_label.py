"""SteadyLabel: a label's text changes without laying the window out again."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from studio.ui.steady_label import SteadyLabel


class _Counter(QObject):
    def __init__(self, watched: QWidget, kind: QEvent.Type) -> None:
        super().__init__()
        self.count = 0
        self._kind = kind
        watched.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == self._kind:
            self.count += 1
        return False


def _window(qtbot, label: QLabel, steady: bool) -> tuple[QWidget, QWidget]:
    window = QWidget()
    qtbot.addWidget(window)
    layout = QVBoxLayout(window)
    neighbour = QWidget()  # what the label's layout changes would move and repaint
    layout.addWidget(neighbour, 1)
    layout.addWidget(SteadyLabel(label) if steady else label)
    window.resize(400, 300)
    window.show()
    qtbot.waitExposed(window)
    return window, neighbour


def _relayouts(qtbot, window: QWidget, change) -> int:
    qtbot.wait(20)  # showing it laid it out: not counted
    requests = _Counter(window, QEvent.Type.LayoutRequest)
    change()
    qtbot.wait(20)  # the posted requests are delivered
    return requests.count


def test_new_text_of_the_same_size_does_not_lay_the_window_out(qtbot):
    label = QLabel("Epoch 1/8 · batch 3/45")
    window, _ = _window(qtbot, label, steady=True)

    def ticks() -> None:
        for step in range(4, 40):
            label.setText(f"Epoch 1/8 · batch {step}/45 · {1000 + step * 37:,} samples/s")

    assert _relayouts(qtbot, window, ticks) == 0
    assert label.text().startswith("Epoch 1/8 · batch 39/45")

    plain = QLabel("Epoch 1/8 · batch 3/45")  # the check can fail: a bare label does
    bare_window, _ = _window(qtbot, plain, steady=False)
    assert _relayouts(qtbot, bare_window, lambda: plain.setText("Epoch 1/8 · batch 4/45")) > 0


def test_a_wrapped_text_grows_its_holder_and_never_shrinks_it(qtbot):
    label = QLabel("One line.")
    label.setWordWrap(True)
    _, neighbour = _window(qtbot, label, steady=True)
    holder = label.parentWidget()
    one_line = holder.height()
    label.setText("A much longer text that needs several lines at this width. " * 4)
    qtbot.waitUntil(lambda: holder.height() > one_line)
    assert label.height() == holder.height() and label.width() == holder.width()
    grown, room = holder.height(), neighbour.height()
    label.setText("One line again.")
    qtbot.wait(20)
    assert holder.height() == grown and neighbour.height() == room

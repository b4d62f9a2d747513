"""Warnings are given when the curves show the problem, and only then."""

from __future__ import annotations

from studio.core.training_advice import not_finite, plateau, widening_gap


def _rows(losses, val_losses):
    return [{"loss": a, "val_loss": b} for a, b in zip(losses, val_losses, strict=True)]


def test_plateau_after_five_epochs_without_improvement():
    improving = _rows([1.0] * 8, [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3])
    assert plateau(improving) is None
    flat = _rows([1.0] * 8, [1.0, 0.6, 0.5, 0.5, 0.55, 0.52, 0.51, 0.5])
    assert "has not improved for 5 epochs" in plateau(flat)
    assert plateau(flat[:5]) is None


def test_widening_gap_means_over_fitting():
    healthy = _rows([1.0, 0.8, 0.6, 0.5, 0.45], [1.1, 0.9, 0.7, 0.6, 0.55])
    assert widening_gap(healthy) is None
    over = _rows([1.0, 0.7, 0.5, 0.3, 0.2], [1.0, 0.8, 0.75, 0.8, 0.9])
    assert "over-fitting" in widening_gap(over)


def test_not_finite_names_what_to_do():
    assert not_finite({"loss": 0.3}) is None
    assert "Lower the learning rate" in not_finite({"loss": float("nan")})

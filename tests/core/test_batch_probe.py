"""The sizes the batch search tries, and how its verdict reads."""

from __future__ import annotations

import pytest

from studio.core.batch_probe import BatchProbeResult, BatchTrial, batch_sizes, format_rate


def _fits(size, rate):
    return BatchTrial(size, True, rate)


OOM = BatchTrial(1024, False, None, "ran out of GPU memory")


def test_sizes_double_from_the_start_and_end_at_the_cap():
    assert batch_sizes(16, 128) == [16, 32, 64, 128]
    assert batch_sizes(16, 1437) == [16, 32, 64, 128, 256, 512, 1024, 1437]
    assert batch_sizes(16, 16) == [16]
    assert batch_sizes(8, 8) == [8]
    assert batch_sizes(16, 10) == [10], "a split smaller than the start is tried whole"
    with pytest.raises(ValueError):
        batch_sizes(0, 10)


def test_largest_fit_and_fastest_ignore_what_did_not_fit():
    result = BatchProbeResult((_fits(256, 41_000.0), _fits(512, 39_000.0), OOM))
    assert result.largest_fit == 512
    assert result.fastest == _fits(256, 41_000.0)
    assert result.first_failure is OOM
    none_fit = BatchProbeResult((BatchTrial(16, False, None, "ran out of memory"),))
    assert none_fit.largest_fit is None and none_fit.fastest is None
    untimed = BatchProbeResult((BatchTrial(16, True, None),))
    assert untimed.largest_fit == 16 and untimed.fastest is None


def test_summary_names_the_largest_fit_and_the_size_that_ran_out():
    result = BatchProbeResult((_fits(256, 41_234.0), _fits(512, 39_000.0), OOM))
    assert result.summary() == (
        "The largest batch that fits is 512 (tried up to 1024, which ran out of GPU "
        "memory). Fastest: 256 at 41,200 samples/s.")


def test_summary_says_when_the_training_split_is_the_limit():
    result = BatchProbeResult((_fits(1024, 900.0), _fits(1437, 950.0)), training_samples=1437)
    assert result.summary() == (
        "Every size up to 1437 fits (the training split has 1,437 samples, the most a batch "
        "can use). Fastest: 1437 at 950 samples/s.")
    capped = BatchProbeResult((_fits(4096, 2.5),), training_samples=60_000)
    assert capped.summary().startswith("Every size up to 4096 fits (the largest this search")
    assert "2.5 samples/s" in capped.summary()


def test_summary_when_nothing_fits_or_the_search_was_cancelled():
    nothing = BatchProbeResult((BatchTrial(16, False, None, "ran out of GPU memory"),))
    assert nothing.summary().startswith("Not even a batch of 16 fits: it ran out of GPU memory.")
    cancelled = BatchProbeResult((_fits(16, 100.0), _fits(32, 200.0)), cancelled=True,
                                 training_samples=1000)
    assert cancelled.summary().startswith(
        "Cancelled after 32: the largest batch that fits so far is 32.")
    assert BatchProbeResult((), cancelled=True).summary() == (
        "Cancelled before any batch size was tried.")


def test_rates_are_rounded_to_three_significant_figures():
    assert format_rate(41_234.0) == "41,200"
    assert format_rate(123.4) == "123"
    assert format_rate(2.345) == "2.35"

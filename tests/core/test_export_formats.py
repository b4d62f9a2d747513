"""The export registry, its options and results: pure Python, no TensorFlow."""

from __future__ import annotations

import sys

import pytest

from studio.core.errors import ExportError
from studio.core.export_formats import (
    FORMAT_NAMES,
    FORMATS,
    ONNX_INSTALL,
    ExportOptions,
    export_format,
)
from studio.core.export_result import Verification


def test_every_format_the_issue_names_is_registered_once():
    assert FORMAT_NAMES == ("keras", "savedmodel", "tflite", "onnx", "weights", "python",
                            "history")
    for fmt in FORMATS:
        assert fmt.title and fmt.description
        assert fmt.folder == (fmt.suffix == "")
    assert export_format("onnx").suffix == ".onnx"
    assert export_format("weights").default_name("digits") == "digits.weights.h5"
    assert export_format("savedmodel").default_name("digits") == "digits_saved_model"


def test_an_unknown_format_lists_the_known_ones():
    with pytest.raises(ExportError, match=r"Unknown export format 'pickle'; choose one of "
                                          r"keras, savedmodel"):
        export_format("pickle")


def test_a_missing_converter_makes_only_its_format_unavailable(monkeypatch):
    monkeypatch.setitem(sys.modules, "tf2onnx", None)  # as if it were not installed
    onnx = export_format("onnx")
    assert not onnx.available
    assert onnx.missing() == ("tf2onnx",)
    assert onnx.unavailable_reason() == (
        f"ONNX export needs tf2onnx, which is not installed: {ONNX_INSTALL}")
    assert ONNX_INSTALL == "pip install 'training-studio[onnx]'"
    assert all(f.available for f in FORMATS if f.name != "onnx")


def test_the_path_must_have_the_format_suffix():
    export_format("tflite").check_path_name("out/model.tflite")
    export_format("savedmodel").check_path_name("out/anything")  # a folder: any name
    with pytest.raises(ExportError, match=r"model\.h5: a Keras weights file must end in "
                                          r"\.weights\.h5"):
        export_format("weights").check_path_name("model.h5")


@pytest.mark.parametrize("options, fmt, message", [
    (ExportOptions("int4"), "tflite", "Unknown quantisation 'int4'"),
    (ExportOptions("int8"), "onnx", r"applies to the tflite format only, not to onnx"),
    (ExportOptions(opset=7), "onnx", "opset 7 is too old"),
])
def test_options_a_format_cannot_use_are_refused(options, fmt, message):
    with pytest.raises(ExportError, match=message):
        options.check(export_format(fmt))


def test_only_unquantised_exports_must_be_exact():
    assert ExportOptions().exact
    assert not ExportOptions("float16").exact
    ExportOptions("int8").check(export_format("tflite"))


def test_a_float_verification_line_and_its_tolerance():
    ok = Verification("onnxruntime", samples=64, max_abs_diff=3.1e-8, class_agreement=1.0,
                      accuracy=0.9, reference_accuracy=0.9, tolerance=1e-5)
    assert ok.passed
    assert ok.line() == ("verified in onnxruntime: max abs difference 3.1e-08 on 64 samples, "
                         "predicted classes agree on 100.0%")
    assert not Verification("onnxruntime", max_abs_diff=2e-3, tolerance=1e-5).passed


def test_a_quantised_verification_reports_the_accuracy_change():
    result = Verification("LiteRT", samples=100, max_abs_diff=0.004, class_agreement=0.98,
                          accuracy=0.95, reference_accuracy=0.96)
    assert result.passed  # nothing is enforced, the numbers are reported
    assert result.accuracy_change == pytest.approx(-0.01)
    assert result.line().endswith("predicted classes agree on 98.0%, accuracy 0.9500 "
                                  "(model 0.9600, change -0.0100)")


def test_a_verification_without_predictions_says_what_was_checked():
    line = Verification("Python's csv reader", detail="3 epoch(s) read back identical").line()
    assert line == "verified in Python's csv reader: 3 epoch(s) read back identical"

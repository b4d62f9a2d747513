"""Background TensorFlow loading and summaries with stale requests dropped."""

from __future__ import annotations

import keras

from studio.core.dataset_catalog import BUILTIN_DATASETS
from studio.core.defaults import default_project
from studio.core.model_spec import LayerSpec
from studio.workers.ml_service import MlService, _MlWorker


def test_loads_tensorflow_then_summarises_only_the_latest_request(qtbot, tmp_path):
    service = MlService()
    try:
        with qtbot.waitSignal(service.loaded, timeout=60000) as loaded:
            service.start()
        assert service.ready
        assert loaded.args[0].tensorflow_version.startswith("2.21")
        spec = default_project().model
        info = BUILTIN_DATASETS["digits"]
        answered = []
        failures = []
        service.summarized.connect(lambda gen, summary: answered.append((gen, summary)))
        service.summary_failed.connect(lambda gen, message: failures.append(message))
        # Queue several edits at once: only the newest must be analysed.
        for units in (11, 12, 13):
            service.request_summary(spec.replaced(6, LayerSpec.create("Dense", units=units,
                                                                       activation="softmax")),
                                    info)
        last = service.request_summary(spec, info)
        qtbot.waitUntil(lambda: any(gen == last for gen, _ in answered) or bool(failures),
                        timeout=30000)
        assert not failures
        assert answered[-1][0] == last
        assert answered[-1][1].valid
        assert answered[-1][1].rows[-1].output_shape == (10,)

        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        with qtbot.waitSignal(service.saved, timeout=10000):
            service.save_model(model, str(tmp_path / "m.keras"))
        assert (tmp_path / "m.keras").is_file()
        with qtbot.waitSignal(service.save_failed, timeout=10000) as failed:
            service.save_model(model, str(tmp_path / "m.h5"))
        assert "must end in .keras" in failed.args[0]
    finally:
        service.shutdown()


def test_worker_skips_a_request_that_a_newer_one_superseded(qtbot):
    worker = _MlWorker()  # called directly on this thread: deterministic
    answered = []
    worker.summarized.connect(lambda gen, summary: answered.append(gen))
    spec, info = default_project().model, BUILTIN_DATASETS["digits"]
    worker.latest_generation = 5
    worker.summarize(4, spec, info)
    assert answered == []
    worker.summarize(5, spec, info)
    assert answered == [5]


def test_shutdown_finishes_a_queued_save_first(qtbot, tmp_path):
    service = MlService()
    with qtbot.waitSignal(service.loaded, timeout=60000):
        service.start()
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    saved = []
    service.saved.connect(saved.append)
    spec, info = default_project().model, BUILTIN_DATASETS["digits"]
    for _ in range(3):  # work queued ahead of the save
        service.request_summary(spec, info)
    service.save_model(model, str(tmp_path / "late.keras"))
    service.shutdown()  # as when the window closes right after "Save model"
    assert (tmp_path / "late.keras").is_file()

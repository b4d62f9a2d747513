"""Templates adapt to the dataset; image templates explain when they do not apply."""

from __future__ import annotations

from studio.core.dataset_catalog import BUILTIN_DATASETS
from studio.core.templates import TEMPLATES


def test_every_template_ends_with_one_softmax_unit_per_class():
    for info in BUILTIN_DATASETS.values():
        for template in TEMPLATES.values():
            if template.unavailable_reason(info):
                continue
            last = template.build(info).layers[-1]
            assert last.params["units"] == info.num_classes
            assert last.params["activation"] == "softmax"


def test_image_templates_say_why_they_do_not_fit_tabular_data():
    reason = TEMPLATES["lenet"].unavailable_reason(BUILTIN_DATASETS["iris"])
    assert reason and "needs image samples" in reason and "1-D samples" in reason
    assert TEMPLATES["lenet"].unavailable_reason(BUILTIN_DATASETS["digits"]) is None

"""The datasets the studio knows by name, and what a model needs to know about any dataset.

Only the facts that shape a model live here (input shape, task, classes), so the builder can
validate a stack before the data is loaded. Loading is ``studio.ml.datasets``' job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Task = Literal["classification", "regression"]

DIGIT_NAMES = tuple(str(d) for d in range(10))


@dataclass(frozen=True)
class DatasetInfo:
    """What a dataset looks like, without loading it.

    For regression ``num_classes`` is 0 and ``outputs`` is the number of values predicted
    per sample; for classification ``outputs`` equals ``num_classes``.
    """

    name: str
    title: str
    task: Task
    input_shape: tuple[int, ...]
    num_classes: int
    samples: int
    description: str
    class_names: tuple[str, ...] = ()
    outputs: int = 0

    def __post_init__(self) -> None:
        if self.outputs == 0:
            object.__setattr__(self, "outputs", self.num_classes or 1)

    @property
    def target_text(self) -> str:
        """e.g. "10 classes" or "1 value (regression)"."""
        if self.task == "classification":
            return f"{self.num_classes} classes"
        plural = "s" if self.outputs > 1 else ""
        return f"{self.outputs} value{plural} (regression)"


BUILTIN_DATASETS: Mapping[str, DatasetInfo] = {
    info.name: info
    for info in (
        DatasetInfo("digits", "Handwritten digits (8x8)", "classification", (8, 8, 1), 10, 1797,
                    "1,797 grey 8x8 images of the digits 0-9 (ships with scikit-learn).",
                    DIGIT_NAMES),
        DatasetInfo("iris", "Iris flowers", "classification", (4,), 3, 150,
                    "150 flowers, 4 measurements, 3 species (ships with scikit-learn).",
                    ("setosa", "versicolor", "virginica")),
        DatasetInfo("wine", "Wine cultivars", "classification", (13,), 3, 178,
                    "178 wines, 13 chemical measurements, 3 cultivars (ships with "
                    "scikit-learn).", ("class_0", "class_1", "class_2")),
        DatasetInfo("breast_cancer", "Breast cancer (Wisconsin)", "classification", (30,), 2,
                    569, "569 tumours, 30 features, benign or malignant (ships with "
                    "scikit-learn).", ("malignant", "benign")),
    )
}


@dataclass(frozen=True)
class GeneratedKind:
    """A synthetic dataset that shows what a network can learn (drawn from a seed)."""

    name: str
    title: str
    task: Task
    description: str
    default_noise: float

    def info(self, samples: int) -> DatasetInfo:
        classes = 2 if self.task == "classification" else 0
        names = ("0", "1") if classes else ()
        return DatasetInfo(self.name, self.title, self.task, (2,) if classes else (1,),
                           classes, samples, self.description, names)


GENERATED_DATASETS: Mapping[str, GeneratedKind] = {
    kind.name: kind
    for kind in (
        GeneratedKind("spirals", "Two spirals", "classification",
                      "Two interleaved spiral arms in the plane: needs a few hidden layers.",
                      0.2),
        GeneratedKind("circles", "Concentric circles", "classification",
                      "A ring around a disc: not separable by a straight line.", 0.08),
        GeneratedKind("xor", "XOR quadrants", "classification",
                      "Points labelled by the sign of x times y: the classic XOR problem.",
                      0.1),
        GeneratedKind("moons", "Two moons", "classification",
                      "Two interleaving half circles (scikit-learn's make_moons).", 0.15),
        GeneratedKind("sine", "Noisy sine (regression)", "regression",
                      "y = sin(x) plus noise for x in [-2π, 2π]: fit a curve.", 0.1),
    )
}

_FASHION = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
            "Sneaker", "Bag", "Ankle boot")
_CIFAR = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
          "truck")

#: The classic Keras datasets: read from the Keras cache, downloaded once when missing.
KERAS_DATASETS: Mapping[str, DatasetInfo] = {
    info.name: info
    for info in (
        DatasetInfo("mnist", "MNIST digits (28x28)", "classification", (28, 28, 1), 10, 70000,
                    "70,000 grey 28x28 handwritten digits (11 MB download).", DIGIT_NAMES),
        DatasetInfo("fashion_mnist", "Fashion-MNIST (28x28)", "classification", (28, 28, 1),
                    10, 70000, "70,000 grey 28x28 images of 10 kinds of clothing (30 MB "
                    "download).", _FASHION),
        DatasetInfo("cifar10", "CIFAR-10 (32x32 colour)", "classification", (32, 32, 3), 10,
                    60000, "60,000 colour 32x32 photos in 10 classes (170 MB download).",
                    _CIFAR),
    )
}

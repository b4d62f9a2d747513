"""The deployment files stay in step with the command line they run."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from studio.cli import _train_parser

PACKAGING = Path(__file__).resolve().parent.parent / "packaging"


def _tfjob_args():
    lines = (PACKAGING / "kubernetes" / "tfjob.yaml").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "args:")
    args = []
    for line in lines[start + 1:]:
        item = re.match(r"\s*- (.*)$", line)
        if item is None:
            break
        args.append(item[1].strip().strip('"'))
    return args


def test_the_tfjob_runs_a_valid_multiworker_train_command():
    args = _tfjob_args()
    assert args[0] == "train"
    options = _train_parser().parse_args(args[1:])
    assert options.strategy == "multiworker"
    assert options.cluster is None  # the operator's TF_CONFIG gives the cluster
    assert options.output.startswith("/runs/")
    text = (PACKAGING / "kubernetes" / "tfjob.yaml").read_text()
    assert "kind: TFJob" in text and "- name: tensorflow" in text
    assert "containerPort: 2222" in text and "EXPOSE 2222" in (PACKAGING / "Dockerfile").read_text()


def test_the_image_holds_the_package_and_runs_studio():
    dockerfile = (PACKAGING / "Dockerfile").read_text()
    for copied in ("pyproject.toml", "studio", "resources"):
        assert re.search(rf"^COPY .*\b{copied}\b", dockerfile, re.MULTILINE), copied
    assert 'ENTRYPOINT ["studio"]' in dockerfile
    ignored = (PACKAGING / "Dockerfile.dockerignore").read_text().splitlines()
    for kept in ("!pyproject.toml", "!studio/", "!resources/", "!README.md"):
        assert kept in ignored


def _guide_commands():
    text = (PACKAGING / "DEPLOY.md").read_text()
    commands = []
    for line in text.splitlines():
        line = re.sub(r"^TF_CONFIG='[^']*' \\$", "", line).strip()
        if line.startswith("studio train"):
            commands.append(shlex.split(line.split("#")[0])[2:])
    return commands


@pytest.mark.parametrize("args", _guide_commands())
def test_every_train_command_of_the_guide_parses(args):
    options = _train_parser().parse_args(args)
    assert options.project == "project.json"


def test_the_guide_has_the_three_setups():
    assert len(_guide_commands()) >= 5
    text = (PACKAGING / "DEPLOY.md").read_text()
    for heading in ("## One machine with several GPUs", "## Two machines by hand",
                    "## Kubernetes (Kubeflow TFJob)", "## Watching a run live"):
        assert heading in text

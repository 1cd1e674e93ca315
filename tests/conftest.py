"""Shared fixtures: where the shared data lives, and skips that say why."""

import os
from pathlib import Path

import pytest


def _home():
    home = os.environ.get("W2VX_HOME")
    return Path(home) if home else None


def _shared_file(*parts):
    home = _home()
    if home is None:
        pytest.skip("W2VX_HOME is not set (it should point at a folder holding data/ and models/)")
    path = home.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (W2VX_HOME={home})")
    return path


@pytest.fixture(scope="session")
def corpus_path():
    """The 17M-token shared text corpus (text8 format, gzip)."""
    return _shared_file("data", "text", "english-17M.txt.gz")


@pytest.fixture(scope="session")
def flickr8k_dir():
    """The Flickr8k folder (images/, Flickr8k.token.txt, split files)."""
    return _shared_file("data", "flickr8k")


@pytest.fixture(scope="session")
def resnet_path():
    """The real ResNet-50 ONNX model."""
    return _shared_file("models", "resnet50-imagenet-fp16w.onnx")

"""``python -m retrieval`` in a subprocess: the fast demo, search, and clear input errors."""

import json
import os
import subprocess
import sys

import pytest

from retrieval.__main__ import main

pytestmark = pytest.mark.slow


def run_cli(*arguments, cache, env_extra=None):
    env = {**os.environ, "W2VX_CACHE": str(cache), **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "retrieval", *arguments],
        capture_output=True, text=True, env=env, timeout=600,
    )


@pytest.fixture(scope="module")
def demo(flickr8k_dir, resnet_path, corpus_path, tmp_path_factory):
    """One fast demo run; the feature cache is shared with test_retriever's slice."""
    cache = tmp_path_factory.getbasetemp() / "w2vx-cache"
    out = tmp_path_factory.mktemp("demo-out")
    report = out / "metrics.json"
    result = run_cli(
        "demo", "--out", str(out), "--json", str(report), "--no-progress",
        cache=cache, env_extra={"W2VX_FAST": "1"},
    )
    return result, cache, out, report


def test_fast_demo_writes_metrics_grids_and_model(demo):
    result, cache, out, report = demo
    assert result.returncode == 0, result.stderr
    metrics = json.loads(report.read_text())
    assert set(metrics) == {"image_to_text", "text_to_image", "config"}
    for direction in ("image_to_text", "text_to_image"):
        assert set(metrics[direction]) >= {"R@1", "R@5", "R@10", "medR"}
        assert metrics[direction]["R@10"] > 20  # chance: 10 % over 100 test images
    assert metrics["config"]["fast"] is True and metrics["config"]["n_test"] == 100
    assert "Klein et al. 2015, Mean-Vec | 22.6 | 48.8 | 61.2 | 6 |" in result.stdout
    grids = sorted(path.name for path in out.glob("*.png"))
    assert grids == ["image_to_text_0000.png", "text_to_image_0000.png"]
    assert (out / grids[0]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (cache / "model" / "retriever.npz").is_file()


def test_search_by_text_prints_ranked_images_and_saves_a_grid(demo, tmp_path):
    _, cache, _, _ = demo
    grid = tmp_path / "grid.png"
    result = run_cli("search", "a dog runs on the beach", "-k", "3", "--out", str(grid),
                     cache=cache)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert [line.split(".")[0] for line in lines] == ["1", "2", "3"]
    assert all(line.rstrip().endswith(".jpg") for line in lines)
    assert grid.read_bytes()[:4] == b"\x89PNG"


def test_unknown_query_words_are_one_clear_line(demo):
    _, cache, _, _ = demo
    result = run_cli("search", "qqzx zzyq", cache=cache)
    assert result.returncode == 2
    assert "unknown words: ['qqzx', 'zzyq']" in result.stderr
    assert "Traceback" not in result.stderr


# In-process from here (same main(), no interpreter start-up per case).


def run_main(capsys, monkeypatch, *arguments, cache, home=None):
    monkeypatch.setenv("W2VX_CACHE", str(cache))
    if home is not None:
        monkeypatch.setenv("W2VX_HOME", str(home))
    status = main(list(arguments))
    return status, capsys.readouterr()


def test_search_by_image_prints_captions(demo, flickr8k_dir, capsys, monkeypatch):
    _, cache, _, _ = demo
    image = sorted((flickr8k_dir / "images").iterdir())[0]
    status, output = run_main(capsys, monkeypatch, "search", "--image", str(image), "-k", "2",
                              cache=cache)
    assert status == 0, output.err
    lines = output.out.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("1. ")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("search", "--image", "/nonexistent/photo.jpg"), "/nonexistent/photo.jpg"),
        (("search",), "give a text query or --image PATH"),
        (("search", "a dog", "--image", "x.jpg"), "give a text query or --image PATH"),
    ],
)
def test_bad_search_input_is_refused(demo, arguments, message, capsys, monkeypatch):
    _, cache, _, _ = demo
    status, output = run_main(capsys, monkeypatch, *arguments, cache=cache)
    assert status == 2 and message in output.err


def test_search_without_a_demo_run_says_what_to_do(tmp_path, capsys, monkeypatch):
    status, output = run_main(capsys, monkeypatch, "search", "a dog", cache=tmp_path)
    assert status == 2
    assert "run `python -m retrieval demo` first" in output.err


def test_unknown_split_is_named(flickr8k_dir, tmp_path, capsys, monkeypatch):
    status, output = run_main(capsys, monkeypatch, "demo", "--fast", "--split", "validation",
                              cache=tmp_path)
    assert status == 2
    assert "unknown split 'validation'" in output.err


def test_missing_caption_file_is_named(tmp_path, capsys, monkeypatch):
    (tmp_path / "data" / "flickr8k" / "images").mkdir(parents=True)
    status, output = run_main(capsys, monkeypatch, "demo", "--fast", cache=tmp_path,
                              home=tmp_path)
    assert status == 2
    assert "Flickr8k.token.txt does not exist" in output.err

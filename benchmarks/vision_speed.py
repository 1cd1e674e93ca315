"""How close ImageEncoder.encode comes to onnxruntime alone, measured in the same run.

For each batch size, two numbers over the same Flickr8k images, same model session and
threads, interleaved in every repeat (so background load hits both alike):

- model-only ceiling: ``session.run`` on tensors decoded and stacked beforehand;
- end-to-end: ``ImageEncoder.encode(paths)``: read, decode, preprocess, batch and run.

The ratio end-to-end / ceiling says what the pipeline costs on top of the model
(1.0 = decoding fully hidden behind inference). Also the latency of one image at batch 1.

    W2VX_HOME=/work/shared python benchmarks/vision_speed.py [--images 512] [--repeats 3]

Prints a markdown table and writes it to benchmarks/results/vision_speed.md.
"""

import argparse
import os
import statistics
import time
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

import numpy as np
import onnxruntime
import PIL
from _report import machine_description, write_report

from vision import ImageEncoder, load_model
from vision.encoder import load_tensor
from vision.model import default_thread_count

RESULTS = Path(__file__).parent / "results" / "vision_speed.md"



def load_average():
    """The 1-minute load average (other processes competing for the CPUs), or "n/a"."""
    return f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "n/a"


def seconds(action):
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def model_only(model, batches):
    for batch in batches:
        model.run(model.feature_output, batch)


def measure_batch_size(model, paths, tensors, batch_size, repeats):
    """Median images/s of the model-only ceiling and of end-to-end encoding, and the median
    of the ratios of each repeat's pair (which run first alternates between repeats)."""
    batches = [np.stack(tensors[i : i + batch_size]) for i in range(0, len(tensors), batch_size)]
    encoder = ImageEncoder(model, batch_size=batch_size, progress=False)
    model_only(model, batches[:1])  # warm-up
    ceiling, end_to_end = [], []
    for repeat in range(repeats):
        pair = [
            ("ceiling", partial(model_only, model, batches)),
            ("end_to_end", partial(encoder.encode, paths)),
        ]
        if repeat % 2:
            pair.reverse()  # neither side always runs first
        rates = {name: len(paths) / seconds(run) for name, run in pair}
        ceiling.append(rates["ceiling"])
        end_to_end.append(rates["end_to_end"])
    ratios = [e / c for e, c in zip(end_to_end, ceiling, strict=True)]
    return statistics.median(ceiling), statistics.median(end_to_end), statistics.median(ratios)


def measure_latency(model, paths, tensors):
    """Median milliseconds for one image at batch 1: model only, and end-to-end."""
    encoder = ImageEncoder(model, batch_size=1, progress=False)
    model_ms, end_to_end_ms = [], []
    for path, tensor in zip(paths, tensors, strict=True):
        model_ms.append(1e3 * seconds(partial(model.run, model.feature_output, tensor[np.newaxis])))
        end_to_end_ms.append(1e3 * seconds(partial(encoder.encode, [path])))
    return statistics.median(model_ms), statistics.median(end_to_end_ms)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--latency-images", type=int, default=32)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[8, 16, 32, 64])
    parser.add_argument("--threads", type=int, default=None, help="default: ImageEncoder's")
    args = parser.parse_args()

    image_folder = Path(os.environ["W2VX_HOME"]) / "data" / "flickr8k" / "images"
    paths = [str(p) for p in sorted(image_folder.glob("*.jpg"))[: args.images]]
    model = load_model(intra_op_threads=args.threads)
    threads = args.threads or default_thread_count()
    tensors = [load_tensor(p) for p in paths]  # decoded once, outside every timing

    started = datetime.now(timezone.utc)
    description = machine_description(Pillow=PIL.__version__, onnxruntime=onnxruntime.__version__)
    rows = [
        "| batch size | model-only img/s | end-to-end img/s "
        "| end-to-end / model-only (median of paired ratios) | load average before |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    best = None
    for batch_size in args.batch_sizes:
        load = load_average()
        ceiling, end_to_end, ratio = measure_batch_size(
            model, paths, tensors, batch_size, args.repeats
        )
        rows.append(f"| {batch_size} | {ceiling:.1f} | {end_to_end:.1f} | {ratio:.2f}x | {load} |")
        best = max(best or (end_to_end, batch_size), (end_to_end, batch_size))
        print(rows[-1], flush=True)
    n_latency = args.latency_images
    latency_load = load_average()
    model_ms, end_to_end_ms = measure_latency(model, paths[:n_latency], tensors[:n_latency])

    report = "\n".join(
        [
            "# vision speed: end-to-end encoding vs the onnxruntime model-only ceiling",
            "",
            f"{started:%Y-%m-%d %H:%M} UTC. {description}; onnxruntime intra-op threads {threads}.",
            f"{len(paths)} Flickr8k JPEGs (224x224); median of {args.repeats} repeats, "
            "ceiling and end-to-end paired in each repeat (order alternating). "
            "A load average above the core count means other processes shared the CPUs: "
            "the rates are then low and noisy, the paired ratios less so.",
            "Command: `W2VX_HOME=/work/shared python benchmarks/vision_speed.py`",
            "",
            *rows,
            "",
            f"Best batch size: {best[1]} ({best[0]:.1f} images/s end-to-end).",
            "",
            f"Latency of one image at batch 1 (median of {n_latency}): model only "
            f"{model_ms:.1f} ms, end-to-end {end_to_end_ms:.1f} ms "
            f"({model_ms / end_to_end_ms:.2f}x of the ceiling's speed; load average before "
            f"{latency_load}).",
            "",
        ]
    )
    print(report)
    write_report(RESULTS, report)


if __name__ == "__main__":
    main()

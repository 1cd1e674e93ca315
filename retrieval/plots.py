"""Result grids (a caption with its top images, an image with its top captions) and the
k-occurrence histogram of hubness.

Figures are built with :class:`matplotlib.figure.Figure` directly (no pyplot: no GUI
backend, no global state) and saved as PNG atomically.
"""

import io
import textwrap

import numpy as np
from PIL import Image

from retrieval.metrics import skewness
from vision.atomic import atomic_write

FOUND_COLOUR = "tab:green"
OTHER_COLOUR = "tab:gray"


def caption_query_grid(query, results, relevant_paths=()):
    """A text query above its top images, the relevant ones framed in green.

    Parameters
    ----------
    query : str
    results : list of (image path, score)
        Best first, as :meth:`CrossModalRetriever.search_images` returns them.
    relevant_paths : collection of str
        The query's own image(s), if known.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    figure = Figure(figsize=(2.6 * len(results), 3.8), layout="constrained")
    axes = figure.subplots(1, len(results), squeeze=False)[0]
    for rank, (ax, (path, score)) in enumerate(zip(axes, results, strict=True), start=1):
        found = str(path) in relevant_paths
        with Image.open(path) as image:
            ax.imshow(image.convert("RGB"))
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_color(FOUND_COLOUR if found else OTHER_COLOUR)
            spine.set_linewidth(4 if found else 1)
        ax.set_xlabel(f"#{rank}  score {score:.3f}" + ("  (own image)" if found else ""))
    figure.suptitle("text -> image: " + textwrap.shorten(query, 110))
    if relevant_paths:
        figure.legend(
            handles=[Patch(facecolor="none", edgecolor=FOUND_COLOUR, linewidth=4,
                           label="the query's own image"),
                     Patch(facecolor="none", edgecolor=OTHER_COLOUR, label="another image")],
            loc="outside lower center", ncols=2,
        )
    return figure


def image_query_grid(image_path, results, relevant_image=None):
    """A query image beside its top captions, its own captions in green.

    Parameters
    ----------
    image_path : str or Path
    results : list of (caption, gallery image index, score)
        Best first, as :meth:`CrossModalRetriever.search_captions` returns them.
    relevant_image : int, optional
        The gallery index of the query image, if it is in the gallery.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 3.6), layout="constrained")
    image_axes, text_axes = figure.subplots(1, 2, width_ratios=[1, 2.2])
    with Image.open(image_path) as image:
        image_axes.imshow(image.convert("RGB"))
    image_axes.set_axis_off()
    image_axes.set_title("query image")
    text_axes.set_axis_off()
    text_axes.set_title("image -> text: top captions")
    text_axes.text(0.0, -0.02, "green: a caption written for this image; black: another"
                   " image's caption", color="dimgray", fontsize=9, va="top",
                   transform=text_axes.transAxes)
    for rank, (caption, image_index, score) in enumerate(results, start=1):
        own = relevant_image is not None and image_index == relevant_image
        text_axes.text(
            0.0, 1.0 - (rank - 0.5) / len(results),
            f"#{rank} ({score:.3f}) " + textwrap.shorten(caption, 80) + ("  [own]" if own else ""),
            color=FOUND_COLOUR if own else "black", va="center", fontsize=10,
            transform=text_axes.transAxes,
        )
    return figure


def k_occurrence_histogram(occurrences, k=10, title=None, ax=None):
    """Histogram of the k-occurrence ``N_k`` of one or more rankings, to compare hubness.

    One step line per entry of ``occurrences``, on a logarithmic count axis (hubs are the
    long right tail); each legend label gives the skewness and the largest ``N_k``.

    Parameters
    ----------
    occurrences : dict of str to array-like of shape (n_items,)
        ``N_k`` of every item (:func:`retrieval.metrics.k_occurrence`), by label.
    k : int
        The ``k`` the counts were made with (for the axis label).
    title : str, optional
    ax : matplotlib Axes, optional
        Draw into these axes; default a new figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not occurrences:
        raise ValueError("occurrences must hold at least one labelled N_k array")
    if ax is None:
        from matplotlib.figure import Figure

        ax = Figure(figsize=(6, 4), layout="constrained").add_subplot()
    arrays = {label: np.asarray(counts) for label, counts in occurrences.items()}
    largest = max(int(counts.max()) for counts in arrays.values())
    width = -(-(largest + 1) // 40)  # integer bin width: at most 40 bins from 0 to the largest
    bins = np.arange(0, largest + width + 1, width) - 0.5  # each bin holds whole counts
    for label, counts in arrays.items():
        ax.hist(counts, bins=bins, histtype="step", linewidth=1.8,
                label=f"{label} (skewness {skewness(counts):.2f}, max {counts.max()})")
    ax.set_yscale("log")
    ax.set_xlabel(f"N_{k}: number of queries that have the item in their top {k}")
    ax.set_ylabel("number of items")
    ax.set_title(title or f"k-occurrence N_{k} (hubness)")
    ax.legend(fontsize=8)
    return ax.figure


def save_png(figure, path):
    """Write a figure to ``path`` as PNG, atomically."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    atomic_write(path, lambda file: file.write(buffer.getvalue()))

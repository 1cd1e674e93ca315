"""The demo's results table, beside the published word2vec-based numbers."""

#: Klein, Lev, Sadeh, Wolf (2015), "Associating neural word embeddings with deep image
#: representations using Fisher vectors", Flickr8k test: (R@1, R@5, R@10, medR).
KLEIN_MEAN_VEC = {"image_to_text": (22.6, 48.8, 61.2, 6), "text_to_image": (19.1, 45.3, 60.4, 7)}
KLEIN_BEST_FISHER = {
    "image_to_text": (31.0, 59.3, 73.7, None),
    "text_to_image": (21.2, 50.0, 64.8, None),
}


def results_table(rows):
    """A markdown table of R@1/5/10 and medR in both directions.

    Parameters
    ----------
    rows : list of (name, metrics)
        ``metrics[direction]`` is a dict with R@1, R@5, R@10, medR or a 4-tuple.

    Returns
    -------
    str
    """
    lines = [
        "| method | i->t R@1 | R@5 | R@10 | medR | t->i R@1 | R@5 | R@10 | medR |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, metrics in rows:
        cells = []
        for direction in ("image_to_text", "text_to_image"):
            values = metrics[direction]
            if isinstance(values, dict):
                values = (values["R@1"], values["R@5"], values["R@10"], values["medR"])
            cells += [f"{v:.1f}" for v in values[:3]]
            cells.append("-" if values[3] is None else f"{values[3]:g}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def klein_rows():
    """The two reference rows of Klein et al. (2015)."""
    return [("Klein et al. 2015, Mean-Vec", KLEIN_MEAN_VEC),
            ("Klein et al. 2015, best Fisher vector", KLEIN_BEST_FISHER)]

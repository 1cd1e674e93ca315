"""CrossModalRetriever: synthetic ground truth, the metrics module as reference, and an
end-to-end run on a slice of Flickr8k with the real ResNet-50 and freshly trained vectors."""

import warnings
from types import SimpleNamespace

import numpy as np
import pytest

from retrieval import metrics
from retrieval.cache import load_retriever, save_retriever
from retrieval.cca import CCA
from retrieval.flickr8k import Flickr8k, Flickr8kAnomalyWarning, Flickr8kSplit
from retrieval.pipeline import (
    CrossModalRetriever,
    first_images,
    image_to_text_ranks_by_counting,
    prepare_image_features,
    text_to_image_ranks_by_counting,
)
from retrieval.ridge import RidgeProjection
from w2v_scratch import KeyedVectors

# ---------------------------------------------------------------------- synthetic data

N_WORDS, WORD_DIM, IMAGE_DIM = 40, 48, 24


def synthetic_world(n_images, seed):
    """Captions made of 'topic words'; image features a fixed non-negative function of
    the topics, so a linear map from caption space to image space exists."""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(N_WORDS)]
    kv = SimpleNamespace(
        vectors=rng.normal(size=(N_WORDS, WORD_DIM)).astype(np.float32),
        key_to_index={w: i for i, w in enumerate(words)},
    )
    topics = [rng.choice(N_WORDS, size=3, replace=False) for _ in range(n_images)]
    captions = [
        " ".join(words[t] for t in rng.permutation(topic)) for topic in topics for _ in range(5)
    ]
    mixing = rng.random((N_WORDS, IMAGE_DIM))
    features = np.stack([mixing[topic].sum(axis=0) for topic in topics])  # (n_images, IMAGE_DIM)
    split = Flickr8kSplit(
        name=f"synthetic{seed}", image_ids=[f"{i}.jpg" for i in range(n_images)],
        image_paths=[f"{i}.jpg" for i in range(n_images)], captions=captions,
        caption_image=np.repeat(np.arange(n_images), 5),
    )
    return kv, split, features


# ---------------------------------------------------------------------- ranks by counting


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_counting_ranks_equal_sorting_ranks_with_ties(seed):
    rng = np.random.default_rng(seed)
    scores = np.round(rng.random((30, 150)), 1)  # many ties
    caption_image = rng.permutation(np.repeat(np.arange(30), 5))
    np.testing.assert_array_equal(
        image_to_text_ranks_by_counting(scores, caption_image),
        metrics.image_to_text_ranks(scores, caption_image),
    )
    np.testing.assert_array_equal(
        text_to_image_ranks_by_counting(scores, caption_image),
        metrics.text_to_image_ranks(scores, caption_image),
    )


# ---------------------------------------------------------------------- closed-form parts


def test_ridge_set_alpha_equals_a_fresh_fit():
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(80, 10)) + 1, rng.normal(size=(80, 4))
    model = RidgeProjection(alpha=[0.1, 1.0]).fit(X, Y).set_alpha(7.0)
    fresh = RidgeProjection(alpha=7.0).fit(X, Y)
    np.testing.assert_allclose(model.coef_, fresh.coef_, rtol=0, atol=1e-10)
    np.testing.assert_allclose(model.intercept_, fresh.intercept_, rtol=0, atol=1e-10)
    assert model.alpha_ == 7.0


def inverse_sqrt(C):
    eigenvalues, vectors = np.linalg.eigh(C)
    return vectors @ np.diag(eigenvalues**-0.5) @ vectors.T


def test_cca_matches_the_explicit_whitened_svd():
    rng = np.random.default_rng(0)
    latent = rng.normal(size=(400, 3))
    X = latent @ rng.normal(size=(3, 7)) + rng.normal(size=(400, 7))
    Y = latent @ rng.normal(size=(3, 5)) + rng.normal(size=(400, 5))
    alpha = 0.05
    model = CCA(alpha=alpha, power=0.0).fit(X, Y)
    Xc, Yc = X - X.mean(axis=0), Y - Y.mean(axis=0)
    Cxx, Cyy, Cxy = Xc.T @ Xc / 400, Yc.T @ Yc / 400, Xc.T @ Yc / 400
    Kx = inverse_sqrt(Cxx + alpha * np.trace(Cxx) / 7 * np.eye(7))
    Ky = inverse_sqrt(Cyy + alpha * np.trace(Cyy) / 5 * np.eye(5))
    A, rho, Bt = np.linalg.svd(Kx @ Cxy @ Ky)
    np.testing.assert_allclose(model.correlations_, rho, rtol=1e-10)
    # directions are defined up to sign
    signs = np.sign(np.sum(model.x_weights_ * (Kx @ A[:, :5]), axis=0))
    np.testing.assert_allclose(model.x_weights_, Kx @ A[:, :5] * signs, atol=1e-10)
    np.testing.assert_allclose(model.y_weights_, Ky @ Bt.T * signs, atol=1e-10)


def test_cca_set_alpha_equals_a_fresh_fit():
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(50, 6)), rng.normal(size=(50, 4))
    refitted = CCA(alpha=0.01, power=2.0).fit(X, Y).set_alpha(0.3)
    fresh = CCA(alpha=0.3, power=2.0).fit(X, Y)
    np.testing.assert_allclose(np.abs(refitted.x_weights_), np.abs(fresh.x_weights_), atol=1e-10)


# ---------------------------------------------------------------------- synthetic retrieval


@pytest.fixture(scope="module")
def synthetic():
    """Train/dev/test from one world: same words, same image model, different images."""
    kv, split, features = synthetic_world(420, seed=0)
    parts = {"train": range(0, 300), "dev": range(300, 360), "test": range(360, 420)}
    sliced = {}
    for name, images in parts.items():
        images = np.asarray(images)
        keep = np.isin(split.caption_image, images)
        sliced[name] = (
            Flickr8kSplit(
                name=name, image_ids=[split.image_ids[i] for i in images],
                image_paths=[split.image_paths[i] for i in images],
                captions=[c for c, k in zip(split.captions, keep, strict=True) if k],
                caption_image=split.caption_image[keep] - images[0],
            ),
            features[images],
        )
    return kv, sliced


@pytest.mark.parametrize("direction", ["text_to_image", "image_to_text", "shared"])
@pytest.mark.parametrize("scoring", ["cosine", "csls", "inverted_softmax"])
@pytest.mark.parametrize("training_pairs", ["caption", "image"])
def test_every_direction_retrieves_a_linear_world(synthetic, direction, scoring, training_pairs):
    kv, parts = synthetic
    retriever = CrossModalRetriever(kv, direction=direction, scoring=scoring, csls_k=5,
                                    training_pairs=training_pairs, cca_power=0.0)
    retriever.fit(*parts["train"], eval_set=parts["dev"])
    result = retriever.evaluate(*parts["test"])
    # 60 test images: chance R@5 is 8 %; the world is (almost) linear
    assert result["image_to_text"]["R@5"] > 80
    assert result["text_to_image"]["R@5"] > 60
    assert set(result["image_to_text"]) == {"R@1", "R@5", "R@10", "medR", "meanR"}
    assert retriever.alpha_ in retriever.dev_recall_sums_


def test_evaluate_agrees_with_the_metrics_module(synthetic):
    kv, parts = synthetic
    retriever = CrossModalRetriever(kv, direction="text_to_image", alpha="gcv",
                                    scoring="cosine")
    retriever.fit(*parts["train"])
    test, features = parts["test"]
    scores = retriever.embed_images(features) @ retriever.embed_captions(test.captions).T
    norms = np.outer(
        np.linalg.norm(retriever.embed_images(features), axis=1),
        np.linalg.norm(retriever.embed_captions(test.captions), axis=1),
    )
    cosine = scores / norms
    expected = metrics.recall_at_k(metrics.text_to_image_ranks(cosine, test.caption_image))
    result = retriever.evaluate(test, features)["text_to_image"]
    assert [result[f"R@{k}"] for k in (1, 5, 10)] == pytest.approx(list(expected.values()))
    assert retriever.dev_recall_sums_ is None


@pytest.mark.parametrize(
    "parameters", [{"scoring": "csls", "csls_k": 5, "reference": "dev"}, {}]
)
def test_search_finds_the_own_image_and_survives_save_and_load(synthetic, tmp_path, parameters):
    kv, parts = synthetic
    retriever = CrossModalRetriever(kv, direction="shared", **parameters).fit(
        *parts["train"], eval_set=parts["dev"]
    )
    test, features = parts["test"]
    retriever.index(test, features)
    caption = test.captions[5 * 7]
    found = retriever.search_images(caption, k=5)
    assert test.image_paths[7] in [path for path, _ in found]
    assert len(found) == 5 and found[0][1] >= found[-1][1]
    kv_path = tmp_path / "kv.npz"
    KeyedVectors(kv.vectors, list(kv.key_to_index)).save(kv_path)
    save_retriever(retriever, tmp_path, kv_path)
    loaded, config = load_retriever(tmp_path)
    assert config["direction"] == "shared"
    reloaded = loaded.search_images(caption, k=5)
    assert [path for path, _ in reloaded] == [path for path, _ in found]
    np.testing.assert_allclose([s for _, s in reloaded], [s for _, s in found], rtol=1e-6)
    np.testing.assert_allclose(
        [s for *_, s in loaded.search_captions(features[3], k=4)],
        [s for *_, s in retriever.search_captions(features[3], k=4)], rtol=1e-6,
    )


def test_caption_pairs_fit_the_cca_of_the_repeated_pairs(synthetic):
    """training_pairs='caption' (CCA with y_index) is CCA on the materialised pairs."""
    kv, parts = synthetic
    train, features = parts["train"]
    retriever = CrossModalRetriever(kv, alpha=0.1).fit(*parts["train"], eval_set=parts["dev"])
    retriever.set_alpha(0.1)
    images = prepare_image_features(features)
    captions = retriever._caption_vectors(train.captions)
    expected = CCA(alpha=0.1, power=1.0).fit(captions, images[train.caption_image])
    signs = np.sign(np.sum(expected.x_weights_ * retriever.text_weights_, axis=0))  # (k,)
    np.testing.assert_allclose(retriever.text_weights_ * signs, expected.x_weights_,
                               atol=1e-8)
    np.testing.assert_allclose(retriever.image_weights_ * signs, expected.y_weights_,
                               atol=1e-8)
    np.testing.assert_allclose(retriever.image_mean_, expected.y_mean_, atol=1e-12)


def test_cca_y_index_equals_the_repeated_rows_with_unequal_counts():
    rng = np.random.default_rng(3)
    Y = rng.normal(size=(15, 6))
    y_index = rng.permutation(np.r_[np.arange(15), rng.integers(0, 15, 25)])  # 1 to ~5 each
    X = rng.normal(size=(len(y_index), 4))
    expected = CCA(alpha=0.05, power=2.0).fit(X, Y[y_index])
    fitted = CCA(alpha=0.05, power=2.0).fit(X, Y, y_index=y_index)
    signs = np.sign(np.sum(expected.x_weights_ * fitted.x_weights_, axis=0))
    np.testing.assert_allclose(fitted.correlations_, expected.correlations_, atol=1e-12)
    np.testing.assert_allclose(fitted.x_weights_ * signs, expected.x_weights_, atol=1e-10)
    np.testing.assert_allclose(fitted.y_weights_ * signs, expected.y_weights_, atol=1e-10)
    with pytest.raises(ValueError, match="every row of Y must be paired"):
        CCA().fit(X[:3], Y, y_index=np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"y_index must lie in \[0, 15\)"):
        CCA().fit(X[:2], Y, y_index=np.array([0, 15]))


def test_inverted_softmax_scores_by_brute_force(synthetic):
    """score_matrices = cos - (1/beta) logsumexp(beta cos) over the split's other modality."""
    from scipy.special import logsumexp

    kv, parts = synthetic
    retriever = CrossModalRetriever(kv, beta=7.0).fit(*parts["train"], eval_set=parts["dev"])
    test, features = parts["test"]
    images = retriever.embed_images(features).astype(np.float64)
    captions = retriever.embed_captions(test.captions).astype(np.float64)
    cosine = (images / np.linalg.norm(images, axis=1, keepdims=True)) @ (
        captions / np.linalg.norm(captions, axis=1, keepdims=True)).T  # (n_images, n_captions)
    caption_penalty = logsumexp(7.0 * cosine, axis=0) / 7.0  # over image queries
    image_penalty = logsumexp(7.0 * cosine, axis=1) / 7.0  # over caption queries
    image_query, caption_query = retriever.score_matrices(test, features)
    np.testing.assert_allclose(image_query, cosine - caption_penalty[None, :], atol=1e-5)
    np.testing.assert_allclose(caption_query, cosine - image_penalty[:, None], atol=1e-5)


# ---------------------------------------------------------------------- clear errors


def test_unknown_query_words_are_listed(synthetic):
    kv, parts = synthetic
    retriever = CrossModalRetriever(kv, direction="text_to_image", alpha=1.0).fit(*parts["train"])
    retriever.index(*parts["test"])
    with pytest.raises(ValueError, match=r"unknown words: \['qqq', 'zebra'\]"):
        retriever.search_images("zebra qqq", k=3)


def test_bad_features_are_refused(synthetic):
    kv, parts = synthetic
    train, features = parts["train"]
    retriever = CrossModalRetriever(kv, direction="image_to_text", alpha=1.0).fit(train, features)
    with pytest.raises(ValueError, match="dimension 23, but the retriever was fitted on 24"):
        retriever.evaluate(parts["test"][0], parts["test"][1][:, :23])
    broken = features.copy()
    broken[4, 2] = np.nan
    with pytest.raises(ValueError, match=r"NaN or infinity in 1 rows \(first: \[4\]\)"):
        CrossModalRetriever(kv, alpha=1.0, direction="image_to_text").fit(train, broken)
    with pytest.raises(ValueError, match="300 images and 1500 captions, but 299"):
        CrossModalRetriever(kv, alpha=1.0, direction="image_to_text").fit(train, features[:299])


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"direction": "sideways"}, "direction must be one of"),
        ({"direction": "shared", "alpha": "gcv"}, "ridge criterion"),
        ({}, "alpha='dev' needs eval_set"),
        ({"alpha": 1.0, "scoring": "softmax"}, "scoring must be one of"),
        ({"alpha": 1.0, "reference": "test"}, "reference must be one of"),
        ({"alpha": 1.0, "training_pairs": "all"}, "training_pairs must be one of"),
        ({"alpha": 1.0, "scoring": "csls", "csls_k": 0}, "positive int csls_k"),
        ({"alpha": 1.0, "beta": -1.0}, "finite beta > 0"),
    ],
)
def test_bad_parameters_are_refused_at_fit(synthetic, parameters, message):
    kv, parts = synthetic
    with pytest.raises(ValueError, match=message):
        CrossModalRetriever(kv, **parameters).fit(*parts["train"])


def test_prepare_image_features_l2_hellinger_and_none():
    features = np.array([[4.0, 0.0, 9.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(
        prepare_image_features(features, "hellinger"),
        [[2 / np.sqrt(13), 0, 3 / np.sqrt(13)], [0, 0, 0]],
    )
    np.testing.assert_allclose(
        prepare_image_features(features), [[4 / np.sqrt(97), 0, 9 / np.sqrt(97)], [0, 0, 0]]
    )
    np.testing.assert_array_equal(prepare_image_features(features, "none"), features)
    with pytest.raises(ValueError, match="preprocessing must be one of"):
        prepare_image_features(features, "sqrt")


# ---------------------------------------------------------------------- real Flickr8k slice


@pytest.mark.slow
def test_end_to_end_on_a_flickr8k_slice(flickr8k_dir, resnet_path, tmp_path_factory):
    """300 training images, 100 dev, 100 test; real ResNet-50 features; word vectors
    trained here on the training captions. Chance: R@10 = 10 % over 100 images."""
    from vision import FeatureCache, ImageEncoder
    from w2v_scratch import Word2Vec, tokenize

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Flickr8kAnomalyWarning)
        dataset = Flickr8k(flickr8k_dir)
    train_all = dataset.split("train")
    splits = {
        "train": first_images(train_all, 300),
        "dev": first_images(dataset.split("dev"), 100),
        "test": first_images(dataset.split("test"), 100),
    }
    cache = FeatureCache(tmp_path_factory.getbasetemp() / "w2vx-cache" / "features")
    encoder = ImageEncoder(resnet_path, progress=False)
    features = {name: encoder.encode(s.image_paths, cache=cache) for name, s in splits.items()}
    sentences = [tokenize(caption) for caption in train_all.captions]
    kv = Word2Vec(vector_size=50, epochs=3, min_count=2, workers=1, seed=3).fit(sentences).wv
    retriever = CrossModalRetriever(kv, direction="shared").fit(
        splits["train"], features["train"], eval_set=(splits["dev"], features["dev"])
    )
    result = retriever.evaluate(splits["test"], features["test"])
    assert result["image_to_text"]["R@10"] > 30, result
    assert result["text_to_image"]["R@10"] > 25, result
    assert result["text_to_image"]["medR"] < 40, result

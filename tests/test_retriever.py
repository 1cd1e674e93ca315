"""CrossModalRetriever: synthetic ground truth, the metrics module as reference, save and
load over every parameter value, and an end-to-end run on a slice of Flickr8k with the real
ResNet-50 and freshly trained vectors."""

import warnings
from types import SimpleNamespace

import numpy as np
import pytest

from retrieval import metrics
from retrieval.cca import CCA
from retrieval.flickr8k import Flickr8k, Flickr8kAnomalyWarning, Flickr8kSplit, first_images
from retrieval.image_features import prepare_image_features
from retrieval.retriever import CrossModalRetriever
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
    assert retriever.regularization_ in retriever.dev_recall_sums_


def test_evaluate_agrees_with_the_metrics_module(synthetic):
    kv, parts = synthetic
    retriever = CrossModalRetriever(kv, direction="text_to_image", regularization="gcv",
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


def test_search_finds_the_own_image(synthetic):
    kv, parts = synthetic
    retriever = CrossModalRetriever(kv).fit(*parts["train"], eval_set=parts["dev"])
    test, features = parts["test"]
    retriever.index(test, features)
    found = retriever.search_images(test.captions[5 * 7], k=5)
    assert test.image_paths[7] in [path for path, _ in found]
    assert len(found) == 5 and found[0][1] >= found[-1][1]
    captions = retriever.search_captions(features[7], k=5)
    assert 7 in [image for _, image, _ in captions]


#: Every value of every constructor parameter appears in at least one configuration.
ROUND_TRIP_CONFIGURATIONS = [
    {},
    {"direction": "text_to_image", "pooling": "sif", "regularization": "gcv",
     "scoring": "csls", "csls_k": 3, "image_preprocessing": "hellinger"},
    {"direction": "image_to_text", "regularization": 0.5, "scoring": "cosine",
     "training_pairs": "image", "image_preprocessing": "none"},
    {"direction": "shared", "regularization": 0.05, "reference": "dev", "beta": 4.0,
     "n_components": 6, "cca_power": 2.0, "training_pairs": "image"},
    {"direction": "text_to_image", "reference": "dev", "scoring": "csls", "csls_k": 7},
    {"direction": "image_to_text", "pooling": "sif", "image_preprocessing": "hellinger"},
]


@pytest.mark.parametrize("parameters", ROUND_TRIP_CONFIGURATIONS)
def test_save_and_load_keep_every_parameter_and_every_ranking(synthetic, tmp_path, parameters):
    kv, parts = synthetic
    retriever = CrossModalRetriever(kv, **parameters).fit(*parts["train"], eval_set=parts["dev"])
    test, features = parts["test"]
    retriever.index(test, features)
    retriever.save(tmp_path / "model")
    loaded = CrossModalRetriever.load(tmp_path / "model")

    for name, value in vars(CrossModalRetriever(kv, **parameters)).items():
        if name != "word_vectors":
            assert getattr(loaded, name) == value, name
    np.testing.assert_array_equal(loaded.word_vectors.vectors, kv.vectors)
    for before, after in zip(retriever.score_matrices(test, features),
                             loaded.score_matrices(test, features), strict=True):
        np.testing.assert_array_equal(after, before)
    assert loaded.evaluate(test, features) == retriever.evaluate(test, features)
    for caption in test.captions[::37]:
        assert loaded.search_images(caption, k=4) == retriever.search_images(caption, k=4)
    for row in (0, 17, 59):
        assert (loaded.search_captions(features[row], k=4)
                == retriever.search_captions(features[row], k=4))
    # the factorisation comes along: another penalty gives the same maps as the original's
    value = 2.0 * retriever.regularization_
    loaded.set_regularization(value)
    retriever.set_regularization(value)
    np.testing.assert_array_equal(loaded.embed_captions(test.captions[:9]),
                                  retriever.embed_captions(test.captions[:9]))
    np.testing.assert_array_equal(loaded.embed_images(features[:9]),
                                  retriever.embed_images(features[:9]))


def test_a_hellinger_model_does_not_reload_as_l2(synthetic, tmp_path):
    """The bug that made save/load part of the retriever: preprocessing was not stored."""
    kv, parts = synthetic
    retriever = CrossModalRetriever(kv, image_preprocessing="hellinger").fit(
        *parts["train"], eval_set=parts["dev"])
    retriever.save(tmp_path)
    loaded = CrossModalRetriever.load(tmp_path)
    assert loaded.image_preprocessing == "hellinger"
    features = parts["test"][1]
    np.testing.assert_array_equal(loaded.embed_images(features),
                                  retriever.embed_images(features))


def test_referenced_word_vectors_are_checked_by_sha256(synthetic, tmp_path):
    kv, parts = synthetic
    kv_path = tmp_path / "kv.npz"
    KeyedVectors(kv.vectors, list(kv.key_to_index)).save(kv_path)
    retriever = CrossModalRetriever(kv, regularization=0.1).fit(*parts["train"])
    retriever.save(tmp_path / "model", word_vectors_path=kv_path)
    assert not (tmp_path / "model" / "word_vectors.npz").exists()
    loaded = CrossModalRetriever.load(tmp_path / "model")
    np.testing.assert_array_equal(loaded.word_vectors.vectors, kv.vectors)

    KeyedVectors(kv.vectors + 1, list(kv.key_to_index)).save(kv_path)  # replaced since
    with pytest.raises(ValueError, match="kv.npz changed since .*retriever.json was written"):
        CrossModalRetriever.load(tmp_path / "model")
    kv_path.unlink()
    with pytest.raises(FileNotFoundError, match="kv.npz\\) are gone"):
        CrossModalRetriever.load(tmp_path / "model")
    with pytest.raises(ValueError, match="does not hold this model's word vectors"):
        other = tmp_path / "other.npz"
        KeyedVectors(kv.vectors * 2, list(kv.key_to_index)).save(other)
        retriever.save(tmp_path / "model2", word_vectors_path=other)


def test_files_that_do_not_belong_together_are_refused(synthetic, tmp_path):
    kv, parts = synthetic
    for name, regularization in (("a", 0.1), ("b", 0.2)):
        CrossModalRetriever(kv, regularization=regularization).fit(*parts["train"]).save(
            tmp_path / name)
    (tmp_path / "b" / "retriever.npz").replace(tmp_path / "a" / "retriever.npz")
    with pytest.raises(ValueError, match="retriever.npz does not match retriever.json"):
        CrossModalRetriever.load(tmp_path / "a")


def test_caption_pairs_fit_the_cca_of_the_repeated_pairs(synthetic):
    """training_pairs='caption' (CCA with y_index) is CCA on the materialised pairs."""
    kv, parts = synthetic
    train, features = parts["train"]
    retriever = CrossModalRetriever(kv, regularization=0.1).fit(*parts["train"])
    alignment = retriever.alignment_
    images = prepare_image_features(features)
    captions = retriever._caption_vectors(train.captions)
    expected = CCA(regularization=0.1, power=1.0).fit(captions, images[train.caption_image])
    signs = np.sign(np.sum(expected.x_weights_ * alignment.text_weights_, axis=0))  # (k,)
    np.testing.assert_allclose(alignment.text_weights_ * signs, expected.x_weights_, atol=1e-8)
    np.testing.assert_allclose(alignment.image_weights_ * signs, expected.y_weights_, atol=1e-8)
    np.testing.assert_allclose(alignment.image_mean_, expected.y_mean_, atol=1e-12)


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
    retriever = CrossModalRetriever(kv, direction="text_to_image", regularization=1.0).fit(
        *parts["train"])
    retriever.index(*parts["test"])
    with pytest.raises(ValueError, match=r"unknown words: \['qqq', 'zebra'\]"):
        retriever.search_images("zebra qqq", k=3)


def test_bad_features_are_refused(synthetic):
    kv, parts = synthetic
    train, features = parts["train"]
    retriever = CrossModalRetriever(kv, direction="image_to_text", regularization=1.0).fit(
        train, features)
    with pytest.raises(ValueError, match="dimension 23, but the retriever was fitted on 24"):
        retriever.evaluate(parts["test"][0], parts["test"][1][:, :23])
    broken = features.copy()
    broken[4, 2] = np.nan
    with pytest.raises(ValueError, match=r"NaN or infinity in 1 rows \(first: \[4\]\)"):
        CrossModalRetriever(kv, regularization=1.0, direction="image_to_text").fit(train, broken)
    with pytest.raises(ValueError, match="300 images and 1500 captions, but 299"):
        CrossModalRetriever(kv, regularization=1.0, direction="image_to_text").fit(
            train, features[:299])


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"direction": "sideways"}, "direction must be one of"),
        ({"direction": "shared", "regularization": "gcv"}, "ridge criterion"),
        ({}, "regularization='dev' needs eval_set"),
        ({"regularization": 1.0, "scoring": "softmax"}, "scoring must be one of"),
        ({"regularization": 1.0, "reference": "test"}, "reference must be one of"),
        ({"regularization": 1.0, "training_pairs": "all"}, "training_pairs must be one of"),
        ({"regularization": 1.0, "scoring": "csls", "csls_k": 0}, "positive int csls_k"),
        ({"regularization": 1.0, "beta": -1.0}, "finite beta > 0"),
    ],
)
def test_bad_parameters_are_refused_at_fit(synthetic, parameters, message):
    kv, parts = synthetic
    with pytest.raises(ValueError, match=message):
        CrossModalRetriever(kv, **parameters).fit(*parts["train"])


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

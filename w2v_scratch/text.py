"""The one tokeniser of the project (shared by w2v_scratch and retrieval).

Captions and free text are lowercased, accents are folded (``café`` -> ``cafe``) and
everything that is not a letter or a digit separates words, so ``"A dog's ball!"``
becomes ``["a", "dog", "s", "ball"]`` -- the text8 convention the shared corpus
was built with, so that caption words and corpus words meet in one vocabulary.
"""

import re
import unicodedata

_NON_WORD = re.compile(r"[^a-z0-9]+")

#: A small English stop-word list (function words only), for optional filtering.
STOP_WORDS = frozenset(
    """a an and are as at be been but by for from has have he her his i in is it its
    of on or she that the their them they this to was were with""".split()
)


def tokenize(text, stop_words=None):
    """Split ``text`` into lowercase ASCII word tokens.

    Parameters
    ----------
    text : str
        Any Unicode text.
    stop_words : collection of str, optional
        Tokens to drop (for example :data:`STOP_WORDS`).

    Returns
    -------
    list of str
    """
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    tokens = _NON_WORD.sub(" ", folded).split()
    if stop_words:
        tokens = [t for t in tokens if t not in stop_words]
    return tokens

"""The demo as an app on top of the library: its settings, its caches and the command line.

* :mod:`retrieval.app.settings` -- every setting the demo's numbers depend on, in one place;
* :mod:`retrieval.app.cache` -- where the demo keeps word vectors and its fitted model;
* :mod:`retrieval.app.demo` -- data, word vectors and image features for the demo;
* :mod:`retrieval.app.report` -- the results table beside Klein et al. (2015);
* :mod:`retrieval.app.cli` -- ``python -m retrieval demo|search``.

The library classes (:mod:`retrieval`) save and load themselves and never print; only
this layer writes to the terminal.
"""

"""Run by w2v_vs_gensim.py in a fresh process: train once, print the memory used as JSON.

    python benchmarks/_memory_child.py ours|gensim SG LOSS WORKERS CORPUS_FILE SETTINGS_JSON

Only the library under test is imported. Prints {"baseline_mib": RSS after the imports,
"peak_mib": the process's high-water RSS}, both read from /proc/self/status (VmRSS,
VmHWM: unlike ``ru_maxrss``, VmHWM does not carry over the parent's peak across exec).
"""

import json
import sys
from pathlib import Path


def status_mib(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024  # the kernel reports kB
    raise RuntimeError(f"{field} is not in /proc/self/status (Linux only)")


def main():
    library, sg, loss, workers, corpus_file, settings = sys.argv[1:]
    sg, workers, settings = int(sg), int(workers), json.loads(settings)
    hs = loss == "hierarchical"
    if library == "ours":
        from w2v_scratch import Word2Vec
        baseline = status_mib("VmRSS")
        Word2Vec(sg=sg, loss=loss, negative=5, workers=workers, progress=False,
                 **settings).fit(corpus_file)
    else:
        from gensim.models import Word2Vec
        from gensim.models.word2vec import LineSentence
        baseline = status_mib("VmRSS")
        Word2Vec(LineSentence(corpus_file), sg=sg, hs=int(hs), negative=0 if hs else 5,
                 workers=workers, **settings)
    print(json.dumps({"baseline_mib": baseline, "peak_mib": status_mib("VmHWM")}))


if __name__ == "__main__":
    main()

"""Data sets. ``real``: the real-speech set made from Debian's packages, labelled by pocketsphinx,
and the figures of a model on it (the corpus modules join this package in the house of
../shared/DESIGN.md, issue 26)."""

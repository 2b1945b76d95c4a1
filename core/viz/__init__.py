"""What charts and pages show, as opposed to what core computes (DESIGN.md: ``core/viz/``): data in,
``alt.Chart`` (or a picture) out, no maths. ``format`` (number formats, the one place), ``maps`` (the
square maps of a phoneme and of a pair, profiles, densities), ``units`` (units, filters, pruning
curves), ``voice`` (one recording on one time axis), ``trust`` (the method comparison), ``findings``
(the Findings cards), ``home_picture`` (the home page's "how to read a map"). The tables the maps
draw are built in ``core.importance.pairs``."""

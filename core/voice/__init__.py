"""A user's own voice: forced alignment of a recording (``align``), vocal tract length
normalisation at test time (``vtln``), adapting a model to a voice (``adapt``), and a student's
frames compared with the corpus (``compare``).

Voice reads models (``core.models.inference`` runs a model on a recording), features and phones;
nothing below it imports it.
"""

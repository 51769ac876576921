"""The bundled sentence embedder: French and English paraphrases land close, unrelated sentences far."""

from __future__ import annotations

import numpy as np

from accueil.knowledge.embedder import DIMENSIONS, encode


def test_paraphrases_across_french_and_english_are_close_and_vectors_are_normalised():
    vectors = encode(["Où est ma commande ?", "Where is my order?", "Je veux résilier mon abonnement", "  "])
    assert vectors.shape == (4, DIMENSIONS) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors[:3], axis=1), 1.0, atol=1e-3)
    similar, unrelated = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    assert similar > 0.7 and similar - unrelated > 0.2
    assert encode([]).shape == (0, DIMENSIONS)

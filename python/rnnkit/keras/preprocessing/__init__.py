"""keras.preprocessing: text (Tokenizer) and sequence (pad_sequences)."""
from rnnkit.keras.preprocessing import sequence, text

__all__ = ["sequence", "text"]

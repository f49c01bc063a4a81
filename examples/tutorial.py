# The README's Python example whole: a sentiment classifier on made-up data, written as tf.keras 2.x code with
# only the imports changed. Run: PYTHONPATH=build/python /usr/bin/python3 examples/tutorial.py
import numpy as np
from rnnkit.keras.models import Sequential
from rnnkit.keras.layers import Embedding, Bidirectional, LSTM, Dense
from rnnkit.keras.callbacks import EarlyStopping

# Reviews of 32 token ids; positive ones (y = 1) mention token 7.
rng = np.random.default_rng(0)
x = rng.integers(1, 100, size=(256, 32))
y = (x == 7).any(axis=1).astype("float32")

model = Sequential()
model.add(Embedding(100, 3, input_length=32))
model.add(Bidirectional(LSTM(32)))
model.add(Dense(1, activation="sigmoid"))
model.summary()                                       # tf.keras 2.12's table; summary(print_fn=...) too
model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
history = model.fit(x, y, epochs=20, batch_size=32, validation_split=0.1,
                    callbacks=[EarlyStopping(monitor="val_loss", patience=3)])
print(history.history["val_accuracy"])
model.save("sentiment.keras")

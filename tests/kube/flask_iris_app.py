"""The seed's Flask model server: `POST /predict` with the iris features by name, answering
`{"result": [class]}` from a pickled scikit-learn model. Run as `python flask_iris_app.py MODEL.pkl PORT`.

Beside the seed's route, for the tests: `PUT /predict` too, `/predict-text` answering plain text, and
`GET /requests` listing the requests the model routes received: method, path and body as it came."""

from __future__ import annotations

import pickle
import sys
import threading

import numpy as np
from flask import Flask, jsonify, request

FEATURES = ("sepal_length", "sepal_width", "petal_length", "petal_width")
NAMES = ("setosa", "versicolor", "virginica")

with open(sys.argv[1], "rb") as fh:
    model = pickle.load(fh)
app = Flask(__name__)
seen: list[tuple[str, str, str]] = []  # (method, path, body as received) of every request to a model route
lock = threading.Lock()


def _predict() -> int:
    # as the seed: a missing feature is a KeyError, which Flask answers with a 500 page
    body = request.get_json(force=True)
    x = np.array([body[name] for name in FEATURES]).reshape(1, -1)
    return int(model.predict(x)[0])


@app.route("/predict", methods=["POST", "PUT"])
def make_predict():
    with lock:
        seen.append((request.method, request.path, request.get_data(as_text=True)))
    return jsonify(result=[_predict()])


@app.route("/predict-text", methods=["POST"])
def predict_text():
    with lock:
        seen.append((request.method, request.path, request.get_data(as_text=True)))
    return NAMES[_predict()], 200, {"Content-Type": "text/plain; charset=utf-8"}


@app.route("/requests")
def requests_seen():
    with lock:
        return jsonify(requests=[list(r) for r in seen])


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[2]), threaded=True)

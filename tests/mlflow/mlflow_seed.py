"""Build an MLflow store the way the seed's ``train_diabetes`` example fills one.

Run as a script (``python mlflow_seed.py TRACKING_URI OUT_JSON``) so MLflow's process-wide state
stays out of the test process. ElasticNet on scikit-learn's bundled diabetes data with the seven
alpha / l1_ratio pairs of the seed; logs params, rmse / r2 / mae, a train_rmse curve over steps,
the model with its signature, the training dataset and an artifact; then registers two versions
of the best models and sets an alias. Writes what it built (run ids, metrics) to OUT_JSON.
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
import warnings
from pathlib import Path

PAIRS = [(0.01, 0.01), (0.01, 0.75), (0.01, 1.0), (0.05, 1.0), (0.05, 0.01), (0.5, 0.8), (0.8, 1.0)]
EXPERIMENT = "diabetes"
MODEL_NAME = "diabetes-elasticnet"
GIT_COMMIT = "3fba1072c0ffee5eed0123456789abcdef012345"
STEPS = 8


def main(uri: str, out: str) -> None:
    warnings.filterwarnings("ignore")
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    import numpy as np
    import pandas as pd
    from mlflow.entities import Metric
    from mlflow.models import infer_signature
    from sklearn import datasets
    from sklearn.linear_model import ElasticNet
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
    from sklearn.model_selection import train_test_split

    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(uri)
    client = MlflowClient(uri)
    exp = mlflow.set_experiment(EXPERIMENT)
    diabetes = datasets.load_diabetes()
    data = pd.DataFrame(diabetes.data, columns=diabetes.feature_names)
    np.random.seed(40)
    x_train, x_test, y_train, y_test = train_test_split(data, diabetes.target, random_state=40)
    dataset = mlflow.data.from_pandas(x_train, name="diabetes-train")
    built = {"experiment_id": exp.experiment_id, "runs": []}
    for alpha, l1_ratio in PAIRS:
        with mlflow.start_run(run_name=f"enet-{alpha}-{l1_ratio}") as run:
            run_id = run.info.run_id
            curve = []
            for step in range(STEPS):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    partial = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, random_state=42, max_iter=step + 1)
                    partial.fit(x_train, y_train)
                value = float(np.sqrt(mean_squared_error(y_train, partial.predict(x_train))))
                curve.append(Metric("train_rmse", value, 1_700_000_000_000 + step * 1000, step))
            lr = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, random_state=42)
            lr.fit(x_train, y_train)
            predicted = lr.predict(x_test)
            rmse = float(np.sqrt(mean_squared_error(y_test, predicted)))
            mae = float(mean_absolute_error(y_test, predicted))
            r2 = float(r2_score(y_test, predicted))
            mlflow.log_param("alpha", alpha)
            mlflow.log_param("l1_ratio", l1_ratio)
            client.log_batch(run_id, metrics=curve + [
                Metric("rmse", rmse, 1_700_000_100_000, 0),
                Metric("r2", r2, 1_700_000_100_000, 0),
                Metric("mae", mae, 1_700_000_100_000, 0),
            ])
            mlflow.set_tag("mlflow.source.git.commit", GIT_COMMIT)
            mlflow.log_input(dataset, context="training")
            with tempfile.TemporaryDirectory() as tmp:
                coef = Path(tmp) / "coefficients.json"
                coef.write_text(json.dumps(dict(zip(diabetes.feature_names, lr.coef_.tolist())), indent=1))
                mlflow.log_artifact(str(coef), artifact_path="report")
                (Path(tmp) / "notes.txt").write_text(f"alpha={alpha} l1_ratio={l1_ratio}\n")
                mlflow.log_artifact(str(Path(tmp) / "notes.txt"))
            info = mlflow.sklearn.log_model(
                lr, name="model", signature=infer_signature(x_train, lr.predict(x_train)),
                pip_requirements=["scikit-learn"],
            )
            built["runs"].append({
                "run_id": run_id, "run_name": f"enet-{alpha}-{l1_ratio}", "alpha": alpha,
                "l1_ratio": l1_ratio, "rmse": rmse, "r2": r2, "mae": mae,
                "train_rmse": [m.value for m in curve], "model_uri": info.model_uri,
            })
    ranked = sorted(built["runs"], key=lambda r: r["rmse"])
    for r in (ranked[1], ranked[0]):
        mlflow.register_model(r["model_uri"], MODEL_NAME)
    client.set_registered_model_alias(MODEL_NAME, "champion", "2")
    built["model_name"] = MODEL_NAME
    built["versions"] = {"1": ranked[1]["run_id"], "2": ranked[0]["run_id"]}
    built["git_commit"] = GIT_COMMIT
    Path(out).write_text(json.dumps(built, indent=1))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

# mypy: disable-error-code="import-untyped"
# (scikit-learn ships no type information)
"""The demo's runs: the seven ElasticNet alpha / l1_ratio pairs of MLflow's diabetes example, trained on each
data version through the demo's tracking server; the best of each version registered as model ``diabetes``,
the best of all with alias ``champion``.

Run as ``python -m console.demo.train TRACKING_URI WORKSPACE`` (a process of its own, so that the console never
imports mlflow for it). It downloads the champion's model folder to ``WORKSPACE/serving/champion`` for the model
servers and writes the runs and the champion to ``WORKSPACE/mlflow/trained.json`` last, so that file's presence
says the training finished."""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

from console.demo import workspace as ws

EXPERIMENT = "diabetes"
MODEL_NAME = "diabetes"
ALIAS = "champion"
PAIRS = ((0.01, 0.01), (0.01, 0.75), (0.01, 1.0), (0.05, 1.0), (0.05, 0.01), (0.5, 0.8), (0.8, 1.0))
STEPS = 10  # coordinate-descent passes whose test rmse is logged per step


def train(tracking_uri: str, workspace: Path) -> dict:
    import mlflow.sklearn
    import numpy as np
    import pandas as pd
    import sklearn
    from mlflow.entities import Metric, Param
    from mlflow.models import infer_signature
    from mlflow.tracking import MlflowClient
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import ElasticNet
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
    from sklearn.model_selection import train_test_split

    import mlflow

    warnings.filterwarnings("ignore")
    mlflow.set_tracking_uri(tracking_uri)
    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    experiment_id = experiment.experiment_id if experiment else client.create_experiment(EXPERIMENT)
    requirements = [f"scikit-learn=={sklearn.__version__}", f"numpy=={np.__version__}"]
    runs = []
    for version in ws.versions(workspace):
        frame = pd.read_csv(ws.cached_file(workspace, version.md5))
        X, y = frame.drop(columns="target"), frame["target"]
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=42)
        for alpha, l1_ratio in PAIRS:
            run = client.create_run(experiment_id, run_name=f"{version.tag} alpha={alpha} l1={l1_ratio}", tags={
                "data.version": version.tag, "data.git_commit": version.commit, "data.dvc_md5": version.md5,
                "data.path": ws.DATA_FILE, "mlflow.source.git.commit": version.commit,
                "mlflow.source.name": "console/demo/train.py", "mlflow.source.type": "LOCAL",
                "model.family": "ElasticNet"})
            run_id = run.info.run_id
            stepwise = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, max_iter=1, tol=0, warm_start=True,
                                  random_state=42)
            metrics = []
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                for step in range(1, STEPS + 1):
                    stepwise.fit(X_train, y_train)
                    rmse = float(np.sqrt(mean_squared_error(y_test, stepwise.predict(X_test))))
                    metrics.append(Metric("rmse", rmse, 0, step))
            model = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, random_state=42).fit(X_train, y_train)
            pred = model.predict(X_test)
            scores = {"rmse": float(np.sqrt(mean_squared_error(y_test, pred))), "r2": float(r2_score(y_test, pred)),
                      "mae": float(mean_absolute_error(y_test, pred))}
            metrics += [Metric(k, v, 0, STEPS + 1 if k == "rmse" else 0) for k, v in scores.items()]
            client.log_batch(run_id, metrics=metrics, params=[
                Param("alpha", str(alpha)), Param("l1_ratio", str(l1_ratio)),
                Param("n_features", str(X.shape[1])), Param("n_rows", str(len(frame)))])
            with mlflow.start_run(run_id=run_id):
                # a pickle, not skops: MLServer's scikit-learn runtime loads the same file with joblib
                info = mlflow.sklearn.log_model(model, name="model", signature=infer_signature(X_test, pred),
                                                input_example=X_test.head(2), pip_requirements=requirements,
                                                serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE)
            runs.append({"run_id": run_id, "version": version.tag, "alpha": alpha, "l1_ratio": l1_ratio,
                         "model_uri": info.model_uri, **scores})
            client.set_tag(run_id, "mlflow.runName", run.info.run_name)
    best_by_version: dict[str, dict] = {}
    for r in runs:
        if r["version"] not in best_by_version or r["rmse"] < best_by_version[r["version"]]["rmse"]:
            best_by_version[r["version"]] = r
    champion = min(best_by_version.values(), key=lambda r: r["rmse"])
    for r in best_by_version.values():
        mv = mlflow.register_model(r["model_uri"], MODEL_NAME, tags={"data.version": r["version"]})
        r["model_version"] = mv.version
        client.set_model_version_tag(MODEL_NAME, mv.version, "source_run", r["run_id"])
    client.set_registered_model_alias(MODEL_NAME, ALIAS, champion["model_version"])
    client.update_registered_model(MODEL_NAME, description="ElasticNet on the diabetes data set; `champion` is "
                                   "the version with the lowest test rmse.")
    serving = champion_dir(workspace)
    serving.parent.mkdir(parents=True, exist_ok=True)
    mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{MODEL_NAME}@{ALIAS}", dst_path=str(serving))
    return {"runs": runs, "champion": champion}


def champion_dir(workspace: Path) -> Path:
    return workspace / "serving" / "champion"


def result_file(workspace: Path) -> Path:
    return workspace / "mlflow" / "trained.json"


def main() -> int:
    tracking_uri, workspace = sys.argv[1], Path(sys.argv[2])
    result = train(tracking_uri, workspace)
    result_file(workspace).write_text(json.dumps(result, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

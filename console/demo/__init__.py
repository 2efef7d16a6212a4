"""`mlops-console demo`: a local workspace (git + DVC data, MLflow runs, served models, Prometheus) built and
started on 127.0.0.1, and the console opened on it."""

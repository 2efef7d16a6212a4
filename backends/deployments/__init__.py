"""The Deployments pane's backends: the contract (``contract.py``), SeldonDeployments, InferenceServices and
Seldon Core 2 resources on Kubernetes (``kube.py``),
plain endpoints (``endpoints.py``), the test requests they share (``inference.py``) and the in-memory ``fake``.

The contract's names are importable from here too (``from backends.deployments import ...``); importing this
package imports nothing else.
"""

from backends.deployments.contract import (
    ADDED as ADDED,
    AVAILABLE as AVAILABLE,
    CREATING as CREATING,
    DELETED as DELETED,
    ENDPOINT as ENDPOINT,
    FAILED as FAILED,
    INFERENCE_SERVICE as INFERENCE_SERVICE,
    KIND_SHORT as KIND_SHORT,
    MODIFIED as MODIFIED,
    PROBLEM as PROBLEM,
    PROTOCOLS as PROTOCOLS,
    RELISTED as RELISTED,
    SELDON_CORE_2 as SELDON_CORE_2,
    SELDON_DEPLOYMENT as SELDON_DEPLOYMENT,
    SELDON_EXPERIMENT as SELDON_EXPERIMENT,
    SELDON_MODEL as SELDON_MODEL,
    SELDON_PIPELINE as SELDON_PIPELINE,
    UNKNOWN as UNKNOWN,
    Condition as Condition,
    Deployment as Deployment,
    DeploymentList as DeploymentList,
    Deployments as Deployments,
    Event as Event,
    Exchange as Exchange,
    ModelServer as ModelServer,
    ModelServers as ModelServers,
    Pod as Pod,
    PredictionRequest as PredictionRequest,
    PredictionResponse as PredictionResponse,
    Predictor as Predictor,
    RequestTemplate as RequestTemplate,
    Revision as Revision,
    RevisionRequests as RevisionRequests,
    WatchEvent as WatchEvent,
    WatchStream as WatchStream,
)

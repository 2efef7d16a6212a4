"""Running inside a pod: the service account's token and CA, and KUBERNETES_SERVICE_HOST/PORT,
against the fake API server serving HTTPS as a real one does."""

from __future__ import annotations

import subprocess

import pytest

from backends.deployments import RELISTED
from backends.deployments.kube import KubernetesDeployments
from backends.errors import Forbidden, Unreachable
from fake_kube_api import FakeKubeAPI, seldon_deployment
from tests.tls_cert import self_signed

TOKEN = "in-cluster-sa-token"


@pytest.fixture()
def pod(tmp_path, monkeypatch):
    """A pod's view of the cluster: env vars, a token file and the cluster CA; no kubeconfig anywhere."""
    try:
        cert, key = self_signed(tmp_path)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"openssl could not make a test certificate: {exc}")
    api = FakeKubeAPI(token=TOKEN, tls=(cert, key)).start()
    secrets = tmp_path / "serviceaccount"
    secrets.mkdir()
    (secrets / "token").write_text(TOKEN)
    (secrets / "ca.crt").write_text(cert.read_text())
    from kubernetes.config import incluster_config

    monkeypatch.setattr(incluster_config, "SERVICE_TOKEN_FILENAME", str(secrets / "token"))
    monkeypatch.setattr(incluster_config, "SERVICE_CERT_FILENAME", str(secrets / "ca.crt"))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/.kube/config either
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(api.port))
    yield api, secrets
    api.stop()


def test_in_cluster_lists_and_watches_with_the_service_account(pod):
    api, _ = pod
    api.store.create("seldondeployments", "models", seldon_deployment("iris", "models"))
    backend = KubernetesDeployments.from_settings({"timeout": 5.0})
    assert backend.in_cluster
    listed = backend.list_deployments()
    assert [(d.namespace, d.name) for d in listed.items] == [("models", "iris")]
    assert backend.endpoint == f"https://127.0.0.1:{api.port}"
    watch = backend.watch()
    try:
        first = next(iter(watch))
        assert first.kind == RELISTED and [d.name for d in first.deployments] == ["iris"]
    finally:
        watch.stop()
    assert any("/seldondeployments" in path for _, path in api.requests)


def test_a_refused_token_names_the_service_account(pod):
    _, secrets = pod
    (secrets / "token").write_text("some-other-token")
    backend = KubernetesDeployments.from_settings({"timeout": 3.0})
    with pytest.raises(Forbidden) as err:
        backend.list_deployments()
    assert err.value.status == 401 and "service account token was refused" in str(err.value)


def test_a_wrong_ca_is_refused_with_a_message(pod, tmp_path):
    """TLS is verified against the pod's CA file: another CA's certificate does not pass."""
    api, secrets = pod
    other = tmp_path / "other"
    other.mkdir()
    cert, _ = self_signed(other)
    (secrets / "ca.crt").write_text(cert.read_text())
    backend = KubernetesDeployments.from_settings({"timeout": 3.0})
    with pytest.raises(Unreachable) as err:
        backend.list_deployments()
    assert str(err.value).startswith("the Kubernetes API's certificate was not trusted (list seldondeployments)")
    assert f"(https://127.0.0.1:{api.port})" in str(err.value)
    assert "the service account's ca.crt" in str(err.value)
    assert "CERTIFICATE_VERIFY_FAILED" in err.value.detail

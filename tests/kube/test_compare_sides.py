"""`:compare`: canary vs main on real systems. A SeldonDeployment with two predictors (main 75 / canary 25) in the
fake Kubernetes API; one real MLServer per predictor, each under its own load (the canary's with some bad requests);
a real Prometheus scraping both, each target labelled with the namespace and pod name a cluster's scrape gives."""

from __future__ import annotations

import io
import threading

import httpx
import pytest
from rich.console import Console

from backends.deployments import INFERENCE_SERVICE
from backends.deployments.kube import KubernetesDeployments
from console.compare_sides import side_expr, sides_of
from console.linking import jump
from console.links import metrics_ref
from console.panes.deployments.compare import SidesCompareView
from fake_kube_api import GROUP, HOLD, KSERVE_GROUP, KSERVE_VERSION, NO_SERVER, inference_service, seldon_deployment
from kube_helpers import GOOD_ROW
from prom.conftest import PrometheusServer, free_port, wait_for as wait_until
from test_deployments_pane import make, pane, status, wait_for

NS = "shop-ns"
MAIN_POD, CANARY_POD = "shop-main-0-classifier-7d9f2", "shop-canary-0-classifier-5c4b1"
MAIN_RATE, CANARY_RATE = 6, 2  # requests a second each side is sent; one canary request in four is bad


def predictor(name: str, traffic: int) -> dict:
    return {"name": name, "traffic": traffic, "replicas": 1,
            "graph": {"name": "classifier", "implementation": "SKLEARN_SERVER", "modelUri": "gs://models/iris"}}


@pytest.fixture(scope="module")
def canary_server(start_model_server, iris_model_dir, tmp_path_factory):
    server = start_model_server(tmp_path_factory.mktemp("mlserver-canary"), iris_model_dir)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def serving(mlserver, canary_server, kube_cluster, tmp_path_factory):
    """Prometheus scraping both servers as the predictors' pods, while a thread sends each its load."""
    workdir = tmp_path_factory.mktemp("prom-compare")
    jobs = {"main": (mlserver.metrics_address, MAIN_POD), "canary": (canary_server.metrics_address, CANARY_POD)}
    scrape = "".join(f"  - job_name: {job}\n    static_configs:\n      - targets: ['{target}']\n"
                     f"        labels: {{namespace: {NS}, pod: {pod}}}\n" for job, (target, pod) in jobs.items())
    (workdir / "prom.yml").write_text("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                                      f"scrape_configs:\n{scrape}")
    prometheus = PrometheusServer(free_port(), workdir)
    prometheus.start()
    kube_cluster[0].add_namespace(NS)
    stop = threading.Event()
    good = {"inputs": [{"name": "input-0", "datatype": "FP64", "shape": [1, 4], "data": GOOD_ROW}]}
    bad = {"inputs": [{"name": "input-0", "datatype": "FP64", "shape": [1, 3], "data": GOOD_ROW[:3]}]}

    def load() -> None:
        with httpx.Client(timeout=5) as client:
            tick = 0
            while not stop.wait(1 / MAIN_RATE):
                tick += 1
                try:
                    client.post(f"{mlserver.url}/v2/models/iris/infer", json=good)
                    if tick % (MAIN_RATE // CANARY_RATE) == 0:
                        body = bad if tick % (4 * MAIN_RATE // CANARY_RATE) == 0 else good
                        client.post(f"{canary_server.url}/v2/models/iris/infer", json=body)
                except httpx.HTTPError:
                    pass  # a slow answer on a busy machine: the next tick sends again

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    yield prometheus
    stop.set()
    thread.join(10)
    prometheus.stop()


def create(kube_client, name: str, predictors: list[dict]) -> None:
    kube_client.create_namespaced_custom_object(GROUP, "v1", NS, "seldondeployments", seldon_deployment(
        name, NS, predictors=predictors, annotations={NO_SERVER: "true"}))


def view_of(app) -> SidesCompareView | None:
    return app.screen if isinstance(app.screen, SidesCompareView) else None


def measured(app) -> bool:
    """Both sides' last request rates and error ratios are in, and each side got its own load."""
    view = view_of(app)
    if view is None or not {"main", "canary"} <= set(view.answers):
        return False
    main, canary = view.answers["main"], view.answers["canary"]
    rates = main.last("rate"), canary.last("rate")
    return None not in rates and rates[0] > rates[1] > 0 and (canary.last("errors") or 0) > 0


def help_text(app) -> str:
    console = Console(width=160, file=io.StringIO(), record=True)
    console.print(app.help_table())
    return console.export_text()


async def command(pilot, line: str) -> None:
    await pilot.press(":")
    await pilot.press(*line, "enter")


async def select(pilot, app, name: str) -> None:
    table = pane(app).query_one("#deployments")
    table.move_cursor(row=pane(app)._rows.index((NS, name)))
    await pilot.pause()


async def test_the_sides_are_charted_with_their_difference_live(kube_client, kubeconfig, serving, screen_text):
    create(kube_client, "shop", [predictor("main", 75), predictor("canary", 25)])
    create(kube_client, "ghost", [predictor("blue", 50), predictor("green", 50)])  # no pod of it is scraped
    create(kube_client, "solo", [predictor("default", 100)])
    app = make(kubeconfig=str(kubeconfig), namespaces=(NS,), prometheus_url=serving.url, refresh_interval=1.0)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: len(pane(app)._rows) == 3, 30, "the three deployments listed")
        assert app.complete_line("compare ") == ["compare ghost", "compare shop"]  # those with two sides
        assert app.complete_line("comp") == ["compare"]
        assert ":compare [NAME]" in help_text(app)
        # one predictor: said why, nothing opens
        await select(pilot, app, "solo")
        await command(pilot, "compare")
        await wait_for(pilot, lambda: "compare:" in status(app), what="the refusal")
        assert "solo has one predictor taking traffic (default:100%): nothing to compare" in status(app)
        assert view_of(app) is None

        await select(pilot, app, "shop")
        await command(pilot, "compare")
        await wait_for(pilot, lambda: view_of(app), 30, "the view")
        await wait_for(pilot, lambda: measured(app), 90, "both sides measured under their loads")
        view = view_of(app)
        text = screen_text(app)
        assert "main: predictor main, 75% of the traffic" in text
        assert "canary: predictor canary, 25% of the traffic" in text
        assert 'pod=~"shop-canary-[0-9]+-.*" (MLServer), namespace shop-ns' in text
        assert 'predictor_name="main" (Seldon executor)' in text
        # the difference of the last values: the canary takes a third of main's requests, and fails some
        rows = {signal: (value, delta) for _side, signal, value, delta in view.differences()}
        assert rows["request rate"][1].startswith("-") and rows["request rate"][1].endswith("%)")
        assert rows["error ratio"][1].startswith("+") and "pts" in rows["error ratio"][1]
        header = next(line for line in text.splitlines() if "canary - main" in line)
        assert "main 75%" in header and "canary 25%" in header
        rate_line = next(line for line in text.splitlines() if line.strip().startswith("request rate"))
        assert rows["request rate"][1] in rate_line
        polls = view.polls
        await wait_for(pilot, lambda: view.polls > polls, 30, "a live refresh")
        # narrow: the sides stack, the differences stay on top
        await pilot.resize_terminal(80, 24)
        await wait_for(pilot, lambda: view.has_class("-stacked"), what="stacked below 100 columns")
        assert "canary - main" in screen_text(app) and "Close" in screen_text(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: view_of(app) is None, what="escape closes the view")

        # a deployment whose pods no series names: said so, not drawn as zero
        await command(pilot, "compare ghost")
        await wait_for(pilot, lambda: view_of(app) and view_of(app).polls, 30, "ghost's first poll")
        selectors = [str(s.render()) for s in view_of(app).query(".selector")]
        assert selectors[0].startswith('no series for predictor blue: predictor_name="blue"')
        assert view_of(app).differences()[0][3] == "no series"
        await pilot.press("escape")
        await wait_for(pilot, lambda: view_of(app) is None, what="closed")

        # from the Metrics pane, on the dashboard a link opened for shop
        shop = pane(app).deployments[(NS, "shop")]
        await jump(app, None, metrics_ref(shop))
        await wait_for(pilot, lambda: app.current_pane().PANE == "metrics" and app.current_pane().link_subject(),
                       30, "the linked dashboard")
        await command(pilot, "compare")
        await wait_for(pilot, lambda: view_of(app), 30, "the view from the Metrics pane")
        assert view_of(app).plan.deployment.name == "shop"


async def test_without_a_metrics_backend_compare_says_so(kube_client, kubeconfig, kube_cluster):
    kube_cluster[0].add_namespace(NS)
    if kube_cluster[0].store.get("seldondeployments", NS, "pair") is None:
        create(kube_client, "pair", [predictor("main", 90), predictor("canary", 10)])
    app = make(kubeconfig=str(kubeconfig), namespaces=(NS,))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: (NS, "pair") in pane(app)._rows, 30, "pair listed")
        await command(pilot, "compare pair")
        await wait_for(pilot, lambda: "compare:" in status(app), what="the answer")
        assert "no metrics backend to read pair's sides from" in status(app)
        assert view_of(app) is None


def test_a_kserve_canary_compares_its_revisions(kube_client, kubeconfig, kserve_controller, namespace):
    for name in ("flowers", "single"):
        kube_client.create_namespaced_custom_object(KSERVE_GROUP, KSERVE_VERSION, namespace, "inferenceservices",
                                                    inference_service(name, namespace, annotations={HOLD: "true"}))
    prev, latest = "flowers-predictor-00001", "flowers-predictor-00002"
    traffic = {"flowers": [{"tag": "prev", "revisionName": prev, "percent": 90},
                           {"tag": "latest", "revisionName": latest, "percent": 10, "latestRevision": True}],
               "single": [{"revisionName": "single-predictor-00001", "percent": 100, "latestRevision": True}]}
    for name, targets in traffic.items():
        kube_client.patch_namespaced_custom_object_status(KSERVE_GROUP, KSERVE_VERSION, namespace,
                                                          "inferenceservices", name,
                                                          {"status": {"components": {"predictor": {
                                                              "traffic": targets}}}})
    backend = KubernetesDeployments(kubeconfig=str(kubeconfig), namespaces=(namespace,))
    try:
        def listed() -> list:
            items = [d for d in backend.list_deployments().items if d.kind == INFERENCE_SERVICE
                     and d.predictors and d.predictors[0].traffic is not None]
            return items if len(items) == 2 else []

        found = {d.name: d for d in wait_until(listed, what="both traffic splits")}
    finally:
        backend.close()
    sides, why = sides_of(found["flowers"])
    assert not why
    assert [(s.name, s.tag, s.traffic, s.main) for s in sides] == [(prev, "prev", 90, True),
                                                                   (latest, "latest", 10, False)]
    query = side_expr('sum(rate(model_infer_request_success_total{namespace=~"$namespace", '
                      'pod=~"$deployment.*"}[$__rate_interval]))', found["flowers"], sides[1], 15, 900)
    assert f'pod=~"{latest}-deployment-.*"' in query and f'namespace=~"{namespace}"' in query
    assert sides[1].selector_text(namespace) == f'pod=~"{latest}-deployment-.*" (MLServer), namespace {namespace}'
    sides, why = sides_of(found["single"])
    assert sides == [] and why.startswith("single has one revision taking traffic")


async def test_every_key_of_the_view(kube_client, kubeconfig, kube_cluster, serving):
    """The key contract (tests/keycontract.py) in the view: each key its footer and help show, pressed there."""
    from keycontract import State, check_state

    if kube_cluster[0].store.get("seldondeployments", NS, "shop") is None:
        create(kube_client, "shop", [predictor("main", 75), predictor("canary", 25)])

    async def opened(pilot) -> None:
        app = pilot.app
        await wait_for(pilot, lambda: (NS, "shop") in pane(app)._rows, 30, "shop listed")
        await select(pilot, app, "shop")
        await command(pilot, "compare")
        await wait_for(pilot, lambda: measured(app), 90, "both sides measured")

    state = State("compare view", opened, holds=lambda app: view_of(app) is not None,
                  silent={"r": "reads the same answers again within the second the view says it was updated"})
    pressed = await check_state(lambda: make(kubeconfig=str(kubeconfig), namespaces=(NS,), prometheus_url=serving.url,
                                             refresh_interval=1.0), "deployments", state, size=(80, 24))
    assert {"space", "left_square_bracket", "right_square_bracket", "r", "j", "k"} <= set(pressed), pressed


def test_a_kind_without_sides_says_what_it_is():
    from backends.deployments import Deployment, Predictor
    from backends.deployments.contract import ENDPOINT, SELDON_MODEL

    url = Deployment("endpoints", "scorer", kind=ENDPOINT, predictors=(Predictor("scorer"),))
    model = Deployment("seldon-mesh", "iris", kind=SELDON_MODEL, predictors=(Predictor("iris"),))
    assert sides_of(url) == ([], "scorer is a model server's URL (kind url): only a SeldonDeployment's predictors "
                                 "and an InferenceService's revisions have sides to compare")
    assert sides_of(model)[1].startswith("iris is a Model (kind mlm): only")

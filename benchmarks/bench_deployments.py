"""Deployments pane benchmarks; prints ratios against baselines measured in the same run.

1. 500 SeldonDeployments in 20 namespaces (fake Kubernetes API server, official client): the pane's first
   full table vs a bare ``list_cluster_custom_object`` call (goal <= 1.5x). The two alternate, each from the
   same state (no watch open, after the same short pause). Then 500 resources of mixed kinds (200
   SeldonDeployments, 150 InferenceServices, 100 Models, 30 Pipelines, 20 Experiments in 20 namespaces, with
   the statuses their controllers write, some failed, one canary) on a fake API serving every kind: the first
   full table vs the bare calls the same client makes for them (the discovery call, then one
   ``list_cluster_custom_object`` per kind, one after the other), measured the same way (goal <= 1.5x).
2. Time from a status change in the API to the screen (goal < 1 s).
3. A test request round trip through the console (ctrl+s in the editor until the answer is shown) vs the
   same request posted by a plain ``httpx.Client`` (goal: the console adds at most 1 ms, whatever the ratio),
   against a real MLServer. The two are interleaved and each follows the same short pause, so both meet the
   server and the machine in the same state. Also printed: the time until the answer's history row is in
   too (it follows the frame that draws the answer).

Run: .venv/bin/python benchmarks/bench_deployments.py [--quick] [--only table|mixed|requests]
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "kube"))

from fake_kube_api import (  # noqa: E402
    GROUP,
    HOLD,
    KSERVE_GROUP,
    KSERVE_VERSION,
    MLOPS_GROUP,
    MLOPS_VERSION,
    FakeKubeAPI,
    SimulatedSeldonController,
    SimulatedSeldonCore2Controller,
    inference_service,
    now_rfc3339,
    sc2_experiment,
    sc2_model,
    sc2_pipeline,
    seldon_deployment,
)

N_DEPLOYMENTS = 500
N_NAMESPACES = 20
#: the mixed cluster: how many of each kind (500 in all), as (group, version, plural)
MIXED = {("seldondeployments", GROUP, "v1"): 200, ("inferenceservices", KSERVE_GROUP, KSERVE_VERSION): 150,
         ("models", MLOPS_GROUP, MLOPS_VERSION): 100, ("pipelines", MLOPS_GROUP, MLOPS_VERSION): 30,
         ("experiments", MLOPS_GROUP, MLOPS_VERSION): 20}


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def seed(api: FakeKubeAPI) -> None:
    for i in range(N_DEPLOYMENTS):
        ns = f"team-{i % N_NAMESPACES:02d}"
        obj = seldon_deployment(f"model-{i:03d}", ns, protocol="seldon" if i % 2 else "v2",
                                model_uri=f"gs://models/m{i}/v{i % 7}", annotations={})
        api.store.create("seldondeployments", ns, obj)


def isvc_status(name: str, ns: str, i: int, canary: bool) -> dict:
    """What KServe's controller writes: ready (with a traffic split for a canary), or a failed revision."""
    ts, rev = now_rfc3339(), f"{name}-predictor-{2 if canary else 1:05d}"
    if i % 10 == 3:
        why = f'Revision "{rev}" failed with message: model load failed: no model at gs://models/i{i}.'
        return {"conditions": [
            {"type": t, "status": "False", "reason": "RevisionFailed", "message": why, "lastTransitionTime": ts}
            for t in ("LatestDeploymentReady", "PredictorConfigurationReady", "PredictorReady", "Ready")] + [
            {"type": t, "status": "Unknown", "reason": "RevisionMissing", "lastTransitionTime": ts}
            for t in ("IngressReady", "RoutesReady")],
            "modelStatus": {"transitionStatus": "BlockedByFailedLoad",
                            "states": {"activeModelState": "", "targetModelState": "FailedToLoad"}}}
    component: dict = {"latestCreatedRevision": rev, "latestReadyRevision": rev,
                       "url": f"http://{name}-predictor.{ns}.example.com",
                       "address": {"url": f"http://{name}-predictor.{ns}.svc.cluster.local"}}
    if canary:
        prev = f"{name}-predictor-00001"
        component.update(previousRolledoutRevision=prev, traffic=[
            {"tag": "prev", "revisionName": prev, "percent": 90, "latestRevision": False},
            {"tag": "latest", "revisionName": rev, "percent": 10, "latestRevision": True}])
    else:
        component.update(latestRolledoutRevision=rev,
                         traffic=[{"revisionName": rev, "percent": 100, "latestRevision": True}])
    return {"url": f"http://{name}.{ns}.example.com", "address": {"url": f"http://{name}.{ns}.svc.cluster.local"},
            "components": {"predictor": component}, "observedGeneration": 2 if canary else 1,
            "conditions": [{"type": t, "status": "True", "lastTransitionTime": ts}
                           for t in ("IngressReady", "LatestDeploymentReady", "PredictorConfigurationReady",
                                     "PredictorReady", "PredictorRouteReady", "Ready", "RoutesReady")],
            "modelStatus": {"transitionStatus": "UpToDate", "copies": {"failedCopies": 0, "totalCopies": 1},
                            "states": {"activeModelState": "Loaded", "targetModelState": "Loaded"}},
            "deploymentMode": "Serverless"}


def seed_mixed(api: FakeKubeAPI) -> None:
    """500 resources of every kind, with the statuses their controllers would have written by now."""
    conds = SimulatedSeldonCore2Controller._conds
    counts = {plural: n for (plural, _, _), n in MIXED.items()}
    for i in range(counts["seldondeployments"]):
        ns = f"team-{i % N_NAMESPACES:02d}"
        obj = seldon_deployment(f"sdep-{i:03d}", ns, protocol="seldon" if i % 2 else "v2",
                                model_uri=f"gs://models/s{i}/v{i % 7}",
                                annotations={HOLD: "true"} if i % 25 == 7 else {})  # a few still Creating
        api.store.create("seldondeployments", ns, obj)
    for i in range(counts["inferenceservices"]):
        ns, name = f"team-{i % N_NAMESPACES:02d}", f"isvc-{i:03d}"
        obj = inference_service(name, ns, storage_uri=f"gs://models/i{i}", model_format="sklearn",
                                protocol_version="v2" if i % 3 else "v1", canary_traffic_percent=10 if i == 5 else None)
        obj["status"] = isvc_status(name, ns, i, canary=i == 5)
        api.store.create("inferenceservices", ns, obj)
    for i in range(counts["models"]):
        ns, name = f"team-{i % N_NAMESPACES:02d}", f"model-{i:03d}"
        obj = sc2_model(name, ns, storage_uri=f"gs://models/m{i}", replicas=1 + i % 2)
        ok = i % 9 != 4
        obj["status"] = {"conditions": conds([("ModelReady", ok, "ModelAvailable" if ok else "ModelFailed",
                                               "" if ok else f"failed to load {name}: rpc error")]),
                         "replicas": 1 + i % 2, "availableReplicas": (1 + i % 2) if ok else 0,
                         "selector": "server=mlserver", "modelgwReady": "ModelAvailable" if ok else "ModelFailed"}
        api.store.create("models", ns, obj)
    for i in range(counts["pipelines"]):
        ns = f"team-{i % N_NAMESPACES:02d}"
        obj = sc2_pipeline(f"pipe-{i:03d}", [f"model-{i % N_NAMESPACES + k * N_NAMESPACES:03d}" for k in (0, 1)], ns)
        ok = i % 6 != 1
        obj["status"] = {"conditions": conds([
            ("PipelineGwReady", True, "PipelineReady", "Created pipeline"),
            ("PipelineReady", True, "PipelineReady", "Created pipeline"),
            ("ModelsReady", ok, "", "Models all available" if ok else "Some models are not available")])}
        api.store.create("pipelines", ns, obj)
    for i in range(counts["experiments"]):
        ns = f"team-{i % N_NAMESPACES:02d}"
        a, b = f"model-{i % N_NAMESPACES:03d}", f"model-{i % N_NAMESPACES + N_NAMESPACES:03d}"
        obj = sc2_experiment(f"exp-{i:03d}", {a: 50, b: 50}, ns, default=a)
        obj["status"] = {"conditions": conds([("CandidatesReady", True, "Candidates ready", ""),
                                              ("ExperimentReady", True, "Experiment ready", "")])}
        api.store.create("experiments", ns, obj)


def bare_client(kubeconfig: Path):
    from kubernetes import client, config

    cfg = client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig), client_configuration=cfg, persist_config=False)
    api = client.CustomObjectsApi(client.ApiClient(cfg))
    api.list_cluster_custom_object(GROUP, "v1", "seldondeployments")  # warm the connection
    return api


def bare_list(kubeconfig: Path, runs: int, api=None) -> list[float]:
    api = api or bare_client(kubeconfig)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        data = api.list_cluster_custom_object(GROUP, "v1", "seldondeployments")
        samples.append(time.perf_counter() - start)
        assert len(data["items"]) == N_DEPLOYMENTS
    return samples


def make_app(**ctx):
    from console.app import make_app as factory
    from console.config import Config, Context

    context = Context(name="bench", **ctx)
    config = Config(default_context="bench", contexts={"bench": context})
    return factory(config, config.context(None, environ={}), initial_pane="deployments", cursor_blink=False)


async def wait(pilot, cond, timeout=30.0):
    """Poll ``cond`` on the app's own event loop (no Pilot settling, which would add its own delay)."""
    deadline = time.perf_counter() + timeout
    while not cond():
        if time.perf_counter() > deadline:
            raise RuntimeError("timed out")
        await asyncio.sleep(0.0005)


def bare_mixed(api) -> list[float]:
    """The calls the backend's first list makes, one after the other: discovery, then each kind's list."""
    from kubernetes.client import ApisApi

    apis = ApisApi(api.api_client)
    start = time.perf_counter()
    apis.get_api_versions()
    n = sum(len(api.list_cluster_custom_object(group, version, plural)["items"])
            for (plural, group, version) in MIXED)
    took = time.perf_counter() - start
    assert n == N_DEPLOYMENTS
    return [took]


async def console_table(kubeconfig: Path, runs: int, changes: int,
                        mixed: bool = False) -> tuple[list[float], list[float], list[float], list[float]]:
    from kubernetes import client, config

    app = make_app(kubeconfig=str(kubeconfig))
    bare_api = bare_client(kubeconfig)
    if mixed:
        bare_mixed(bare_api)  # warm
    bare: list[float] = []
    firsts: list[float] = []
    painted: list[float] = []
    to_screen: list[float] = []
    async with app.run_test(size=(160, 40)) as pilot:
        pane = app.current_pane()
        table = pane.query_one("#deployments")

        def full() -> bool:
            return pane.loaded and not pane._rebuild_pending and table.row_count == N_DEPLOYMENTS

        await wait(pilot, full)
        # the moment the pane's rebuild has put every row in the table, taken without polling for it
        # (a polling loop would compete with the listing thread for the interpreter)
        done = asyncio.Event()
        stamp = [0.0]
        rebuild = pane._rebuild

        def timed_rebuild():
            rebuild()
            if full():
                stamp[0] = time.perf_counter()
                done.set()

        pane._rebuild = timed_rebuild
        for i in range(runs):
            # interleaved, in alternating order, and each from the same state: no watch open (the pane's
            # previous watch is stopped first, as it would be for a namespace switch) after the same pause
            for who in ("bare", "console") if i % 2 == 0 else ("console", "bare"):
                pane._stop_watch()
                await asyncio.sleep(0.05)
                if who == "bare":
                    bare.extend(bare_mixed(bare_api) if mixed else bare_list(kubeconfig, 1, api=bare_api))
                    continue
                pane.deployments = {}
                pane.loaded = False
                table.clear()
                await pilot.pause()
                done.clear()
                start = time.perf_counter()
                pane.reload()
                await asyncio.wait_for(done.wait(), 30)
                firsts.append(stamp[0] - start)
                await pilot.pause()  # until Textual has painted it (includes Pilot's own settling wait)
                painted.append(time.perf_counter() - start)
        if not changes:
            return bare, firsts, painted, to_screen
        pane.reload()  # watching again, for the status changes below
        await wait(pilot, full)
        await asyncio.sleep(0.5)  # until the watch request (after the list) is in place
        cfg = client.Configuration()
        config.load_kube_config(config_file=str(kubeconfig), client_configuration=cfg, persist_config=False)
        kube = client.CustomObjectsApi(client.ApiClient(cfg))
        for i in range(changes):
            name, ns = f"model-{i:03d}", f"team-{i % N_NAMESPACES:02d}"
            state = "Failed" if i % 2 == 0 else "Creating"
            row = f"{ns}/{name}"

            def shown(row: str = row, state: str = state) -> bool:
                return str(table.get_cell(row, "state")).startswith(state)

            start = time.perf_counter()
            kube.patch_namespaced_custom_object_status(GROUP, "v1", ns, "seldondeployments", name, {
                "status": {"state": state, "description": "bench"}})
            await wait(pilot, shown)
            to_screen.append(time.perf_counter() - start)
    return bare, firsts, painted, to_screen


def start_mlserver(workdir: Path) -> tuple[subprocess.Popen, str]:
    import joblib
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    from kube_helpers import free_port

    X, y = load_iris(return_X_y=True)
    (workdir / "iris").mkdir(parents=True)
    joblib.dump(LogisticRegression(max_iter=300).fit(X, y), workdir / "iris" / "model.joblib")
    (workdir / "iris" / "model-settings.json").write_text(json.dumps({
        "name": "iris", "implementation": "mlserver_sklearn.SKLearnModel", "parameters": {"uri": "./model.joblib"},
        "inputs": [{"name": "input-0", "datatype": "FP64", "shape": [-1, 4]}]}))
    port = free_port()
    (workdir / "settings.json").write_text(json.dumps({"host": "127.0.0.1", "http_port": port,
                                                       "grpc_port": free_port(), "metrics_port": free_port(),
                                                       "parallel_workers": 0}))
    log = open(workdir / "server.log", "wb")
    proc = subprocess.Popen([str(Path(sys.executable).parent / "mlserver"), "start", str(workdir)], stdout=log,
                            stderr=subprocess.STDOUT, cwd=workdir, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/v2/models/iris/ready", timeout=1) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("MLServer did not start")


def bare_requests(url: str, body: str, runs: int) -> list[float]:
    import httpx

    samples = []
    with httpx.Client(timeout=10) as c:
        c.post(f"{url}/v2/models/iris/infer", content=body, headers={"Content-Type": "application/json"})
        for _ in range(runs):
            start = time.perf_counter()
            r = c.post(f"{url}/v2/models/iris/infer", content=body, headers={"Content-Type": "application/json"})
            samples.append(time.perf_counter() - start)
            assert r.status_code == 200
    return samples


async def console_requests(url: str, body: str, runs: int) -> tuple[list[float], list[float], list[float]]:
    """Console round trips and, interleaved with them, bare httpx ones: each request of either kind
    follows the same 20 ms pause (a server and a client that have just been idle answer slower than
    back-to-back requests, so both sides get the same rhythm)."""
    import httpx

    from console.config import Endpoint
    from console.panes.deployments.views import HISTORY_ENTRIES, RequestView
    from widgets.request_editor import RequestEditor

    app = make_app(deployments_backend="endpoints", endpoints=(Endpoint("iris", url, "v2", "iris"),))
    samples: list[float] = []
    bare: list[float] = []
    with_row: list[float] = []
    bare_client = httpx.Client(timeout=10)
    headers = {"Content-Type": "application/json"}
    bare_client.post(f"{url}/v2/models/iris/infer", content=body, headers=headers)
    async with app.run_test(size=(160, 40)) as pilot:
        pane = app.current_pane()
        await wait(pilot, lambda: pane.loaded and pane._rows)
        await pilot.press("t")
        await wait(pilot, lambda: isinstance(app.screen, RequestView))
        view = app.screen
        editor = view.query_one("#editor", RequestEditor)
        editor.load_text(body)
        await pilot.press("ctrl+s")  # warm
        await wait(pilot, lambda: len(view.history) == 1)
        await pilot.pause()
        # the moment the view's handler has shown the answer, and the moment its history row is in
        # (the row follows the frame that draws the answer), taken without polling for them (a polling
        # loop would compete with the sending thread for the interpreter and inflate the figure)
        shown, settled = asyncio.Event(), asyncio.Event()
        stamp = [0.0, 0.0]
        answered = view._answered  # the handler: shows the answer, then has its history row added
        add_row = view._add_history_row

        def timed_answered(key, message):
            answered(key, message)
            stamp[0] = time.perf_counter()
            shown.set()

        def timed_add_row(*args):
            add_row(*args)
            stamp[1] = time.perf_counter()
            settled.set()

        view._answered, view._add_history_row = timed_answered, timed_add_row
        for i in range(runs):
            await pilot.pause()
            await asyncio.sleep(0.02)
            start = time.perf_counter()
            r = bare_client.post(f"{url}/v2/models/iris/infer", content=body, headers=headers)
            bare.append(time.perf_counter() - start)
            assert r.status_code == 200
            await pilot.pause()  # from a settled screen, as a person presses ctrl+s (not timed)
            await asyncio.sleep(0.02)
            shown.clear()
            settled.clear()
            stamp[0] = 0.0
            guard = asyncio.get_running_loop().call_later(30, shown.set)  # cheaper than wait_for's task
            start = time.perf_counter()
            editor.action_send()  # what ctrl+s runs: validate, post, send in a worker, show the answer
            await shown.wait()
            guard.cancel()
            assert stamp[0], "no answer within 30 s"
            samples.append(stamp[0] - start)
            await asyncio.wait_for(settled.wait(), 30)
            with_row.append(stamp[1] - start)
            kept = min(i + 2, HISTORY_ENTRIES)  # the history holds the last HISTORY_ENTRIES
            assert len(view.history) == kept and view.history[-1].response.status == 200
            assert view._history_table.row_count == kept
    bare_client.close()
    return samples, bare, with_row


def serve(workdir: Path, mixed: bool = False) -> None:
    """The fake API server with 500 deployments (of mixed kinds, when ``mixed``), in its own process (no GIL
    shared with the console)."""
    api = FakeKubeAPI().start()
    api.kserve = api.seldon2 = mixed
    controller = SimulatedSeldonController(api, start_servers=False, workdir=workdir / "ctl")
    if mixed:
        seed_mixed(api)
    else:
        seed(api)
    while not controller.queue.empty():  # let the simulated controller settle every status
        time.sleep(0.2)
    time.sleep(0.5)
    api.write_kubeconfig(workdir / "kubeconfig")
    print("ready", flush=True)
    sys.stdin.read()  # until the benchmark closes our stdin
    controller.stop()
    api.stop()


def main() -> None:
    if "--serve" in sys.argv:
        serve(Path(sys.argv[sys.argv.index("--serve") + 1]), mixed="--mixed" in sys.argv)
        return
    quick = "--quick" in sys.argv
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else ""
    runs = 6 if quick else 30
    tmp = Path(tempfile.mkdtemp(prefix="bench-deploy-"))
    if only in ("", "table"):
        table_section(tmp, runs, 10 if quick else 30)
    if only in ("", "table", "mixed"):
        mixed_section(tmp / "mixed", runs)
    if only in ("", "requests"):
        requests_section(tmp, 20 if quick else 60)


def table_section(tmp: Path, runs: int, changes: int) -> None:
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(tmp)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout.readline().strip() == "ready"
        kubeconfig = tmp / "kubeconfig"
        os.environ["KUBECONFIG"] = str(kubeconfig)
        bare, firsts, painted, to_screen = asyncio.run(console_table(kubeconfig, runs, changes))
        print(f"{N_DEPLOYMENTS} SeldonDeployments in {N_NAMESPACES} namespaces (fake API server in its own process)")
        print(f"  bare list_cluster_custom_object: {median_ms(bare):8.1f} ms (median of {runs}, interleaved)")
        print(f"  console first full table:        {median_ms(firsts):8.1f} ms "
              f"(median of {runs}; all rows in the table)")
        print(f"  ... and painted:                 {median_ms(painted):8.1f} ms (incl. Pilot's settling wait)")
        print(f"  ratio: {statistics.median(firsts) / statistics.median(bare):.2f}x (goal <= 1.5x); "
              f"the console adds {median_ms(firsts) - median_ms(bare):.1f} ms (parse + table of {N_DEPLOYMENTS} rows)")
        print(f"status change in the API -> screen: median {median_ms(to_screen):.1f} ms, "
              f"max {max(to_screen) * 1000:.1f} ms over {len(to_screen)} changes (goal < 1000 ms)")
    finally:
        server.stdin.close()
        server.wait(10)


def mixed_section(tmp: Path, runs: int) -> None:
    tmp.mkdir(parents=True, exist_ok=True)
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(tmp), "--mixed"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout.readline().strip() == "ready"
        kubeconfig = tmp / "kubeconfig"
        os.environ["KUBECONFIG"] = str(kubeconfig)
        bare, firsts, painted, _ = asyncio.run(console_table(kubeconfig, runs, 0, mixed=True))
        kinds = ", ".join(f"{n} {plural}" for (plural, _, _), n in MIXED.items())
        print(f"{N_DEPLOYMENTS} resources of mixed kinds ({kinds}) in {N_NAMESPACES} namespaces")
        print(f"  bare discovery + {len(MIXED)} list_cluster_custom_object: {median_ms(bare):8.1f} ms "
              f"(median of {runs}, interleaved; one after the other)")
        print(f"  console first full table:        {median_ms(firsts):8.1f} ms "
              f"(median of {runs}; all rows in the table)")
        print(f"  ... and painted:                 {median_ms(painted):8.1f} ms (incl. Pilot's settling wait)")
        print(f"  ratio: {statistics.median(firsts) / statistics.median(bare):.2f}x (goal <= 1.5x); "
              f"the console adds {median_ms(firsts) - median_ms(bare):.1f} ms (parse + table of {N_DEPLOYMENTS} rows)")
    finally:
        server.stdin.close()
        server.wait(10)


def requests_section(tmp: Path, n: int) -> None:
    proc, url = start_mlserver(tmp / "mlserver")
    try:
        body = json.dumps({"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP64",
                                       "data": [5.1, 3.5, 1.4, 0.2]}]})
        back_to_back = bare_requests(url, body, n)
        console_rt, bare_rt, with_row = asyncio.run(console_requests(url, body, n))
        added = median_ms(console_rt) - median_ms(bare_rt)
        print("test request round trip (real MLServer, v2)")
        print(f"  bare httpx, back to back: {median_ms(back_to_back):6.2f} ms (median of {n}; for reference)")
        print(f"  bare httpx:         {median_ms(bare_rt):6.2f} ms (median of {n}; interleaved, 20 ms after the last)")
        print(f"  through the console: {median_ms(console_rt):6.2f} ms (median of {n}; ctrl+s to answer shown)")
        print(f"  the console adds {added:.2f} ms per request (goal <= 1 ms over bare httpx); "
              f"ratio {statistics.median(console_rt) / statistics.median(bare_rt):.2f}x")
        print(f"  ... and its history row in: {median_ms(with_row):6.2f} ms (median; the row follows the frame "
              f"that draws the answer, {median_ms(with_row) - median_ms(console_rt):.1f} ms later)")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)


if __name__ == "__main__":
    main()

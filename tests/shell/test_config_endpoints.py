"""`[[contexts.X.endpoints]]` tables: the json protocol's method and example keys, and one clear error for each
thing wrong in them."""

from __future__ import annotations

import pytest

from console.config import ConfigError, load_config, parse_config

JSON_ENDPOINTS = """\
[contexts.local]
deployments_backend = "endpoints"

[[contexts.local.endpoints]]
name = "iris-flask"
url = "http://127.0.0.1:5000/predict"
protocol = "json"
method = "put"
example_file = "examples/iris.json"

[[contexts.local.endpoints]]
name = "inline"
url = "http://127.0.0.1:5000/predict"
protocol = "json"
example = '{"sepal_length": 5.9}'
"""


def test_json_endpoints_with_their_method_and_example(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(JSON_ENDPOINTS)
    # the example file does not exist: the config is still read (the file is read at each test request)
    first, second = load_config(path).contexts["local"].as_settings()["endpoints"]
    assert first["protocol"] == "json" and first["method"] == "PUT"
    assert first["example_file"] == str(tmp_path / "examples" / "iris.json")  # beside the config file
    assert first["example"] is None
    assert second["method"] == "POST" and second["example"] == '{"sepal_length": 5.9}'
    absolute = JSON_ENDPOINTS.replace('"examples/iris.json"', f'"{tmp_path / "elsewhere.json"}"')
    assert parse_config(absolute, path).contexts["local"].endpoints[0].example_file == str(tmp_path / "elsewhere.json")


@pytest.mark.parametrize(("change", "line", "words"), [
    (('protocol = "json"\nmethod', 'protocol = "grpc"\nmethod'), 7,
     "unknown protocol 'grpc' (known: seldon, v2, mlflow, json, kserve)"),
    (('method = "put"', 'method = "GET"'), 8, "method must be POST or PUT, not 'GET'"),
    (('protocol = "json"\nmethod', 'protocol = "v2"\nmethod'), 8, "method PUT is for json endpoints only"),
    (("""example = '{"sepal_length": 5.9}'""", """example = '{"sepal_length": 5.9,}'"""), 15,
     "endpoint 'inline': example is not valid JSON"),
    (('example_file = "examples/iris.json"', 'example_file = "x.json"\nexample = "{}"'), 9,
     "give example or example_file, not both"),
])
def test_a_wrong_endpoint_key_is_named_with_its_line(tmp_path, change, line, words):
    path = tmp_path / "config.toml"
    text = JSON_ENDPOINTS.replace(*change)
    assert text != JSON_ENDPOINTS
    with pytest.raises(ConfigError) as err:
        parse_config(text, path)
    assert words in str(err.value) and err.value.line == line, str(err.value)

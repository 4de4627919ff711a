"""deploy/ (deploy/README.md) agrees with Kubernetes and with the rest of the project.

- Every manifest in deploy/k8s/, and the ConfigMap kustomization.yaml generates from haproxy.cfg, is
  valid against the Kubernetes schemas that kubernetes-validate bundles, in strict mode (an unknown
  or misspelt field fails), with the network shut off: nothing is downloaded.
- Every environment variable a container is given is read by the code that container runs (ours,
  Rasa's, deploy/endpoints.production.yml's ${...}, haproxy.cfg's, or a Kubernetes $(...)), every
  $(...) names a variable defined before it, and every variable endpoints.production.yml needs
  comes from the ConfigMap or the Secret. Secrets come only from the Secret, whose template holds
  placeholders only.
- The probes ask the servers' own health endpoints on the ports the servers listen on.
- HAProxy has one server line per StatefulSet replica, each at that pod's stable DNS name, and
  `haproxy -c` accepts haproxy.cfg with the Deployment's environment (when haproxy is installed).
- The images: bases pinned by digest, the model where MODEL_PATH says, the lean action image
  installs every package that actions/ and assistant/ import, the user the pods run as.
- `kubectl kustomize deploy/` renders a valid set whose references resolve (when kubectl is
  installed).
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any, Dict, Iterator, List, Set, Tuple
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import SchemaNotFoundError
from packaging.requirements import Requirement

from tests.helpers import PROJECT_ROOT

# kubernetes-validate 1.28.3 (requirements.lock) bundles the schemas up to Kubernetes 1.28: its
# later releases need attrs and jsonschema versions past the ones Rasa 3.6 pins.
KUBERNETES_VERSION = "1.28.0"

DEPLOY = PROJECT_ROOT / "deploy"
K8S = DEPLOY / "k8s"
KUSTOMIZATION = DEPLOY / "kustomization.yaml"
SECRET_TEMPLATE = K8S / "secret.example.yaml"
ENDPOINTS = DEPLOY / "endpoints.production.yml"
HAPROXY_CFG = DEPLOY / "haproxy.cfg"
RASA_DOCKERFILE = DEPLOY / "rasa.Dockerfile"
ACTIONS_DOCKERFILE = DEPLOY / "actions.Dockerfile"
MANIFEST_FILES = sorted(K8S.glob("*.yaml"))

RASA_PORT = 5005  # `rasa run --port`, README
ACTION_PORT = 5055  # `python -m actions.server --port`, README
CLUSTER_DOMAIN = "svc.cluster.local"

# What each container runs: our packages, the libraries that read their own variables, and files
# with ${...}. The Rasa image also serves the operators' commands (scripts/: purge, review queue),
# which import stores/.
CODE = {
    "rasa": (
        ("assistant", "nlu", "safety", "stores", "rasa_patches", "channels", "actions", "scripts"),
        ("rasa",),
        (ENDPOINTS,),
    ),
    "actions": (
        ("actions", "assistant", "stores/__init__.py", "stores/review_queue.py", "stores/redaction.py"),
        ("rasa_sdk",),
        (),
    ),
    "haproxy": ((), (), (HAPROXY_CFG,)),
}
# Names that say "secret": they must come from the Secret.
SECRET_NAME = re.compile(r"PASSWORD|TOKEN|SECRET|_KEY$|^REDIS_URL$")
EXPANSION = re.compile(r"\$\((\w+)\)")  # Kubernetes' $(VAR) in env values, command and args
PLACEHOLDER = re.compile(r"\$\{(\w+)\}")  # ${VAR} in endpoints.production.yml and haproxy.cfg


# --- Reading the manifests ---------------------------------------------------------------------


def documents(path: Path) -> List[Dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc is not None]


def resources() -> List[Dict[str, Any]]:
    return [doc for path in MANIFEST_FILES if path != SECRET_TEMPLATE for doc in documents(path)]


def the(kind: str, name: str | None = None) -> Dict[str, Any]:
    found = [r for r in resources() if r["kind"] == kind and (name is None or r["metadata"]["name"] == name)]
    assert len(found) == 1, f"expected one {kind} {name or ''} in deploy/k8s/, found {len(found)}"
    return found[0]


def kustomization() -> Dict[str, Any]:
    return yaml.safe_load(KUSTOMIZATION.read_text(encoding="utf-8"))


def secret_template() -> Dict[str, Any]:
    (secret,) = documents(SECRET_TEMPLATE)
    return secret


def secret_keys() -> Set[str]:
    return set(secret_template()["stringData"])


def configmaps() -> Dict[str, Dict[str, str]]:
    return {r["metadata"]["name"]: r.get("data", {}) for r in resources() if r["kind"] == "ConfigMap"}


def statefulset() -> Dict[str, Any]:
    return the("StatefulSet", "assistant")


def haproxy_deployment() -> Dict[str, Any]:
    return the("Deployment", "haproxy")


def workloads() -> List[Dict[str, Any]]:
    return [r for r in resources() if r["kind"] in ("StatefulSet", "Deployment")]


def container(workload: Dict[str, Any], name: str) -> Dict[str, Any]:
    (found,) = [c for c in workload["spec"]["template"]["spec"]["containers"] if c["name"] == name]
    return found


def all_containers() -> Iterator[Tuple[Dict[str, Any], Dict[str, Any]]]:
    for workload in workloads():
        for c in workload["spec"]["template"]["spec"]["containers"]:
            yield workload, c


def env_from(c: Dict[str, Any]) -> Dict[str, str]:
    """The variables a container gets whole from a ConfigMap or the Secret (envFrom)."""
    env: Dict[str, str] = {}
    for source in c.get("envFrom", []):
        if "configMapRef" in source:
            env.update(dict.fromkeys(configmaps()[source["configMapRef"]["name"]], "configmap"))
        if "secretRef" in source:
            env.update(dict.fromkeys(secret_keys(), "secret"))
    return env


def container_env(c: Dict[str, Any]) -> Dict[str, str]:
    """Each variable a container gets, with where it comes from: value, configmap, secret, field."""
    env = env_from(c)
    for variable in c.get("env", []):
        reference = variable.get("valueFrom", {})
        kinds = {"configMapKeyRef": "configmap", "secretKeyRef": "secret", "fieldRef": "field"}
        env[variable["name"]] = next((kinds[k] for k in kinds if k in reference), "value")
    return env


def env_value(c: Dict[str, Any], name: str) -> str:
    (value,) = [v["value"] for v in c.get("env", []) if v["name"] == name]
    return value


def command_line(c: Dict[str, Any]) -> List[str]:
    return [*c.get("command", []), *c.get("args", [])]


def option(c: Dict[str, Any], flag: str) -> str:
    words = command_line(c)
    assert flag in words, f"container {c['name']} is not started with {flag}"
    return words[words.index(flag) + 1]


def port_number(c: Dict[str, Any], port: int | str) -> int:
    if isinstance(port, int):
        return port
    (number,) = [p["containerPort"] for p in c.get("ports", []) if p["name"] == port]
    return number


def kubernetes_expanded(c: Dict[str, Any], value: str, namespace: str) -> str:
    """An env value as Kubernetes sets it, the namespace standing for the downward API's."""
    fields = {
        v["name"]: namespace
        for v in c.get("env", [])
        if v.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.namespace"
    }
    values = {v["name"]: v["value"] for v in c.get("env", []) if "value" in v}
    return EXPANSION.sub(lambda m: {**values, **fields}.get(m.group(1), m.group(0)), value)


# --- Reading the code --------------------------------------------------------------------------


def string_constants(path: Path) -> Set[str]:
    """The string literals of a module, docstrings left out (they only mention names)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            docstrings.add(id(body[0].value))
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    }


@cache
def our_files(package: str) -> List[Path]:
    """A package's modules, or one module ("stores/review_queue.py": what an image copies)."""
    path = PROJECT_ROOT / package
    return [path] if path.suffix == ".py" else sorted(path.rglob("*.py"))


def names_in_our_package(package: str) -> Set[str]:
    return {s for path in our_files(package) for s in string_constants(path)}


@cache
def names_in_library(module: str) -> Set[str]:
    """Upper-case names quoted anywhere in an installed library's source."""
    spec = importlib.util.find_spec(module)
    assert spec and spec.submodule_search_locations, f"{module} is not installed"
    names: Set[str] = set()
    for location in spec.submodule_search_locations:
        for path in Path(location).rglob("*.py"):
            names |= set(re.findall(r"[\"']([A-Z][A-Z0-9_]+)[\"']", path.read_text(encoding="utf-8")))
    return names


def names_read(code: Tuple[Tuple[str, ...], Tuple[str, ...], Tuple[Path, ...]]) -> Set[str]:
    packages, libraries, files = code
    names: Set[str] = set()
    for package in packages:
        names |= names_in_our_package(package)
    for library in libraries:
        names |= names_in_library(library)
    for file in files:
        names |= set(PLACEHOLDER.findall(file.read_text(encoding="utf-8")))
    return names


def kubernetes_references(c: Dict[str, Any]) -> Set[str]:
    values = [v.get("value", "") for v in c.get("env", [])] + command_line(c)
    return {name for value in values for name in EXPANSION.findall(value)}


# --- Reading haproxy.cfg and the Dockerfiles ---------------------------------------------------


def haproxy_servers(backend: str) -> List[str]:
    """The address variables of a backend's `server` lines, in order."""
    servers, current = [], None
    for line in HAPROXY_CFG.read_text(encoding="utf-8").splitlines():
        if line.strip().startswith("#") or not line.strip():
            continue
        if not line[0].isspace():
            current = line.split()
            continue
        if current == ["backend", backend] and line.split()[0] == "server":
            (variable,) = PLACEHOLDER.findall(line)
            servers.append(variable)
    return servers


def dockerfile_instructions(path: Path) -> List[Tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments left out."""
    text = re.sub(r"\\\n(\s*#.*\n)*", " ", path.read_text(encoding="utf-8"))
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def dockerfile_env(path: Path) -> Dict[str, str]:
    env: Dict[str, str] = {}
    for instruction, arguments in dockerfile_instructions(path):
        if instruction == "ENV":
            env.update(word.partition("=")[::2] for word in shlex.split(arguments))
    return env


def dockerfile_copies(path: Path) -> Dict[str, str]:
    """Source -> destination of each COPY from the build context (not from another stage)."""
    copies = {}
    for instruction, arguments in dockerfile_instructions(path):
        words = shlex.split(arguments)
        if instruction == "COPY" and not any(w.startswith("--from") for w in words):
            for source in words[:-1]:
                copies[source.rstrip("/")] = words[-1]
    return copies


def dockerfile_runs(path: Path) -> str:
    return "\n".join(
        arguments for instruction, arguments in dockerfile_instructions(path) if instruction == "RUN"
    )


# --- Helpers for the assertions ----------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: Any) -> None:
        raise AssertionError("the schema validation tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


def assert_valid(resource: Dict[str, Any], where: str) -> None:
    label = f"{where}: {resource.get('kind')} {resource.get('metadata', {}).get('name')}"
    try:
        kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        path = "/".join(str(p) for p in error.path)
        pytest.fail(f"{label} is not valid Kubernetes {KUBERNETES_VERSION} at {path or '/'}: {error.message}")
    except SchemaNotFoundError as error:
        pytest.fail(f"{label}: {error.message}")


def generated_configmaps() -> List[Dict[str, Any]]:
    """The ConfigMaps kustomization.yaml's configMapGenerator makes (before its name hash)."""
    made = []
    for generator in kustomization().get("configMapGenerator", []):
        data = {}
        for entry in generator.get("files", []):
            key, _, file = entry.rpartition("=")
            data[key or Path(file).name] = (DEPLOY / file).read_text(encoding="utf-8")
        made.append(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": generator["name"]}, "data": data}
        )
    return made


def canonical(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


# --- The manifests are valid Kubernetes --------------------------------------------------------


def test_kustomization_applies_every_manifest_but_the_secret_template():
    listed = [DEPLOY / path for path in kustomization()["resources"]]
    assert sorted(listed) == [p for p in MANIFEST_FILES if p != SECRET_TEMPLATE]
    assert SECRET_TEMPLATE.exists(), "the Secret's template documents its keys"
    for generated in generated_configmaps():
        assert generated["data"], f"the generated ConfigMap {generated['metadata']['name']} is empty"


@pytest.mark.parametrize("path", MANIFEST_FILES, ids=lambda p: p.name)
def test_manifest_is_valid_kubernetes(path, no_network):
    resources_in_file = documents(path)
    assert resources_in_file, f"{path.name} holds no resource"
    for resource in resources_in_file:
        assert_valid(resource, path.name)


def test_generated_configmap_is_valid_kubernetes(no_network):
    for generated in generated_configmaps():
        assert_valid(generated, "kustomization.yaml's configMapGenerator")


def test_an_unknown_field_fails_the_validation(no_network):
    """Strict mode is on: a misspelt field is an error, not silently dropped by the cluster."""
    service = the("Service", "assistant")
    misspelt = {**service, "spec": {**service["spec"], "publishNotReadyAdresses": True}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(misspelt, KUBERNETES_VERSION, strict=True)


# --- Environment variables -----------------------------------------------------------------------


def containers_with_code() -> List[Tuple[str, Dict[str, Any]]]:
    return [
        ("rasa", container(statefulset(), "rasa")),
        ("actions", container(statefulset(), "actions")),
        ("haproxy", container(haproxy_deployment(), "haproxy")),
    ]


@pytest.mark.parametrize("name", ["rasa", "actions", "haproxy"])
def test_every_variable_given_to_a_container_is_read_by_what_it_runs(name):
    c = dict(containers_with_code())[name]
    unread = set(container_env(c)) - names_read(CODE[name]) - kubernetes_references(c)
    assert not unread, f"the {name} container is given variables nothing in it reads: {sorted(unread)}"


def test_every_kubernetes_expansion_names_a_variable_defined_before_it():
    """Kubernetes leaves an unknown $(NAME) as it is: a typo would reach the server verbatim."""
    for workload, c in all_containers():
        defined = set(env_from(c))
        for variable in c.get("env", []):
            unknown = set(EXPANSION.findall(variable.get("value", ""))) - defined
            assert not unknown, (
                f"{workload['metadata']['name']}/{c['name']}: {variable['name']} uses {unknown}"
            )
            defined.add(variable["name"])
        unknown = {n for word in command_line(c) for n in EXPANSION.findall(word)} - defined
        assert not unknown, f"{workload['metadata']['name']}/{c['name']}: its command uses {unknown}"


def test_endpoints_variables_come_from_the_configmap_or_the_secret():
    needed = set(PLACEHOLDER.findall(ENDPOINTS.read_text(encoding="utf-8")))
    rasa = container(statefulset(), "rasa")
    env = container_env(rasa)
    missing = {n for n in needed if env.get(n) not in ("configmap", "secret")}
    assert not missing, (
        f"deploy/endpoints.production.yml needs {sorted(missing)}, not given by ConfigMap/Secret"
    )
    optional = {
        v["name"]
        for v in rasa.get("env", [])
        if v.get("valueFrom", {}).get("secretKeyRef", {}).get("optional")
    }
    assert not needed & optional, f"the Rasa server cannot start without {sorted(needed & optional)}"


def test_every_configmap_and_secret_key_referred_to_exists_and_every_key_is_used():
    used_config: Set[str] = set()
    used_secret: Set[str] = set()
    for _, c in all_containers():
        for source in c.get("envFrom", []):
            if "configMapRef" in source:
                used_config |= set(configmaps()[source["configMapRef"]["name"]])
        for variable in c.get("env", []):
            reference = variable.get("valueFrom", {})
            if "configMapKeyRef" in reference:
                ref = reference["configMapKeyRef"]
                assert ref["key"] in configmaps()[ref["name"]], (
                    f"no key {ref['key']} in ConfigMap {ref['name']}"
                )
                used_config.add(ref["key"])
            if "secretKeyRef" in reference:
                ref = reference["secretKeyRef"]
                assert ref["name"] == secret_template()["metadata"]["name"], f"no Secret {ref['name']}"
                assert ref["key"] in secret_keys(), f"{ref['key']} is not in secret.example.yaml"
                used_secret.add(ref["key"])
    assert set(configmaps()["assistant-config"]) == used_config, "a ConfigMap key no container gets"
    assert secret_keys() == used_secret, "a key of secret.example.yaml no container gets"


def test_secrets_come_only_from_the_secret():
    assert not set(configmaps()["assistant-config"]) & secret_keys(), "a secret in the ConfigMap"
    for key in configmaps()["assistant-config"]:
        assert not SECRET_NAME.search(key), f"{key} looks secret: it belongs in the Secret"
    for workload, c in all_containers():
        for name, source in container_env(c).items():
            if SECRET_NAME.search(name):
                assert source == "secret", (
                    f"{workload['metadata']['name']}/{c['name']}: {name} is not from the Secret"
                )


def test_the_secret_template_holds_placeholders_only():
    secret = secret_template()
    assert "data" not in secret, "use stringData with placeholders: base64 hides what is committed"
    for key, value in secret["stringData"].items():
        assert "replace" in value.lower(), f"{key} in secret.example.yaml looks like a real value"


# --- Probes and ports ----------------------------------------------------------------------------


def test_rasa_server_probes_ask_its_health_endpoint_on_its_port():
    rasa = container(statefulset(), "rasa")
    assert option(rasa, "--port") == str(RASA_PORT)
    for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
        probe = rasa[kind]["httpGet"]
        assert probe["path"] == "/", f"{kind}: the Rasa server's health is GET /"
        assert port_number(rasa, probe["port"]) == RASA_PORT, f"{kind} asks another port"
    startup = rasa["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 120, "the model takes 20-40 s to load"
    # HAProxy reaches it on the pod's address: it must not listen on loopback only.
    assert option(rasa, "--interface") == "$(RASA_INTERFACE)"
    assert configmaps()["assistant-config"]["RASA_INTERFACE"] == "0.0.0.0"
    service = the("Service", statefulset()["spec"]["serviceName"])
    assert [port_number(rasa, p["targetPort"]) for p in service["spec"]["ports"]] == [RASA_PORT]
    assert str(RASA_PORT) in dict(dockerfile_instructions(RASA_DOCKERFILE))["EXPOSE"].split()


def server_routes() -> Set[Tuple[str, str]]:
    """(method, path) of the action server's routes (actions/server.py)."""
    source = (PROJECT_ROOT / "actions" / "server.py").read_text(encoding="utf-8")
    return {(m.upper(), p) for m, p in re.findall(r"@app\.(get|post)\(\"([^\"]+)\"\)", source)}


def test_action_server_probes_ask_its_health_endpoint_on_loopback():
    actions = container(statefulset(), "actions")
    assert option(actions, "--port") == str(ACTION_PORT)
    # It listens on 127.0.0.1 (no ACTION_SERVER_HOST): the kubelet cannot reach it, so the
    # probes run in the container, and nothing else in the cluster can call it.
    assert "ACTION_SERVER_HOST" not in container_env(actions) and not actions.get("ports")
    for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
        command = actions[kind]["exec"]["command"]
        assert command[:2] == ["python", "-c"], f"{kind}: runs a Python one-liner"
        compile(command[2], kind, "exec")
        (url,) = re.findall(r"'(http://[^']+)'", command[2])
        address = urlsplit(url)
        assert (address.hostname, address.port) == ("127.0.0.1", ACTION_PORT), f"{kind} asks {url}"
        assert ("GET", address.path) in server_routes(), (
            f"{kind}: the action server has no GET {address.path}"
        )
    # The Rasa server calls it there (ACTION_SERVER_URL, deploy/endpoints.production.yml).
    url = urlsplit(configmaps()["assistant-config"]["ACTION_SERVER_URL"])
    assert (url.hostname, url.port) == ("127.0.0.1", ACTION_PORT)
    assert ("POST", url.path) in server_routes()


def test_the_rasa_pods_run_one_sanic_worker_and_are_stamped_with_their_name():
    rasa = container(statefulset(), "rasa")
    assert env_value(rasa, "SANIC_WORKERS") == "1", "Rasa's socket.io channel needs one worker per server"
    (instance,) = [v for v in rasa["env"] if v["name"] == "RASA_INSTANCE"]
    assert instance["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"


# --- HAProxy in front of the StatefulSet --------------------------------------------------------


def test_haproxy_has_one_server_per_replica_at_each_pods_stable_name():
    sts = statefulset()
    replicas, service_name = sts["spec"]["replicas"], sts["spec"]["serviceName"]
    namespace = kustomization()["namespace"]
    proxy = container(haproxy_deployment(), "haproxy")
    for backend in ("by_conversation", "web_chat"):
        servers = haproxy_servers(backend)
        assert len(servers) == replicas, (
            f"haproxy.cfg's {backend} has {len(servers)} servers for {replicas} pods"
        )
        addresses = [
            kubernetes_expanded(proxy, env_value(proxy, variable), namespace) for variable in servers
        ]
        expected = [
            f"{sts['metadata']['name']}-{i}.{service_name}.{namespace}.{CLUSTER_DOMAIN}:{RASA_PORT}"
            for i in range(replicas)
        ]
        assert addresses == expected, f"{backend}'s servers are not the StatefulSet's pods"
    service = the("Service", service_name)
    assert service["spec"]["clusterIP"] == "None", "the pods' own DNS names need a headless Service"
    labels = sts["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert sts["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_haproxy_listens_where_its_service_and_the_ingress_send():
    deployment = haproxy_deployment()
    proxy = container(deployment, "haproxy")
    bind_port = int(env_value(proxy, "PROXY_BIND").rpartition(":")[2])
    service = the("Service", "haproxy")
    assert service["spec"]["selector"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    assert [port_number(proxy, p["targetPort"]) for p in service["spec"]["ports"]] == [bind_port]
    for rule in the("Ingress")["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            assert backend["name"] == "haproxy"
            assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}
    # The config file HAProxy reads is the generated ConfigMap's haproxy.cfg.
    (volume,) = deployment["spec"]["template"]["spec"]["volumes"]
    (mount,) = proxy["volumeMounts"]
    assert mount["name"] == volume["name"]
    generated = {g["metadata"]["name"]: g["data"] for g in generated_configmaps()}
    assert volume["configMap"]["name"] in generated
    config_file = option(proxy, "-f")
    assert Path(config_file).parent == Path(mount["mountPath"])
    assert generated[volume["configMap"]["name"]].get(Path(config_file).name) == HAPROXY_CFG.read_text(
        encoding="utf-8"
    )


def test_haproxy_accepts_its_config_with_the_deployments_environment():
    if not shutil.which("haproxy"):
        pytest.skip("haproxy is not installed (apt-get install haproxy): its config check was not run")
    proxy = container(haproxy_deployment(), "haproxy")
    namespace = kustomization()["namespace"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PROXY_", "RASA_"))}
    env.update(
        {v["name"]: kubernetes_expanded(proxy, v["value"], namespace) for v in proxy["env"] if "value" in v}
    )
    result = subprocess.run(
        ["haproxy", "-c", "-f", str(HAPROXY_CFG)], env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_disruption_budgets_keep_one_pod_of_each():
    budgets = [r for r in resources() if r["kind"] == "PodDisruptionBudget"]
    assert len(budgets) == len(workloads())
    for budget in budgets:
        selector = budget["spec"]["selector"]["matchLabels"]
        (workload,) = [
            w for w in workloads() if selector.items() <= w["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert budget["spec"]["minAvailable"] == 1 < workload["spec"]["replicas"]


# --- Security --------------------------------------------------------------------------------------


def test_every_container_runs_unprivileged_on_a_read_only_root():
    for workload, c in all_containers():
        where = f"{workload['metadata']['name']}/{c['name']}"
        pod = workload["spec"]["template"]["spec"].get("securityContext", {})
        own = c.get("securityContext", {})
        assert own.get("runAsNonRoot", pod.get("runAsNonRoot")) is True, where
        assert own.get("runAsUser", pod.get("runAsUser", 0)) != 0, f"{where}: a numeric non-root user"
        assert own.get("seccompProfile", pod.get("seccompProfile")) == {"type": "RuntimeDefault"}, where
        assert own.get("allowPrivilegeEscalation") is False, where
        assert own.get("readOnlyRootFilesystem") is True, where
        assert own.get("capabilities") == {"drop": ["ALL"]}, where
        for kind in ("requests", "limits"):
            assert "memory" in c.get("resources", {}).get(kind, {}), f"{where}: no memory {kind}"


@pytest.mark.parametrize(
    ("name", "dockerfile"),
    [("rasa", RASA_DOCKERFILE), ("actions", ACTIONS_DOCKERFILE)],
    ids=["rasa", "actions"],
)
def test_the_servers_can_write_where_they_write(name, dockerfile):
    """With a read-only root, HOME (Rasa, Keras and matplotlib settings) and var/ must be mounted."""
    c = container(statefulset(), name)
    mounted = {m["mountPath"] for m in c["volumeMounts"] if not m.get("readOnly")}
    image_env = dockerfile_env(dockerfile)
    assert image_env["HOME"] in mounted, f"{name}: HOME={image_env['HOME']} is not writable"
    assert env_value(c, "ASSISTANT_VAR") == image_env["ASSISTANT_VAR"]
    assert image_env["ASSISTANT_VAR"] in mounted, f"{name}: var/ is not writable"
    user = dict(dockerfile_instructions(dockerfile))["USER"]
    pod = statefulset()["spec"]["template"]["spec"]["securityContext"]
    assert user == f"{pod['runAsUser']}:{pod['runAsGroup']}", "the pods run as the images' user"


# --- The images ------------------------------------------------------------------------------------


def test_base_images_are_pinned_by_digest():
    pinned = re.compile(r"@sha256:[0-9a-f]{64}$")
    for dockerfile in (RASA_DOCKERFILE, ACTIONS_DOCKERFILE):
        for instruction, arguments in dockerfile_instructions(dockerfile):
            if instruction == "FROM":
                assert pinned.search(arguments.split()[0]), f"{dockerfile.name}: FROM {arguments}"
    for workload, c in all_containers():
        if not c["image"].startswith("spine-faq-"):  # ours are set in kustomization.yaml's images
            assert pinned.search(c["image"]), f"{workload['metadata']['name']}/{c['name']}: {c['image']}"


def test_the_model_is_where_model_path_says():
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    (model,) = re.findall(r"^MODEL\s*:=\s*(\S+)", makefile, re.M)
    destination = dockerfile_copies(RASA_DOCKERFILE)[model]
    assert configmaps()["assistant-config"]["MODEL_PATH"] == destination
    assert dockerfile_env(RASA_DOCKERFILE)["MODEL_PATH"] == destination
    assert option(container(statefulset(), "rasa"), "--model") == "$(MODEL_PATH)"


def test_the_rasa_image_holds_what_its_command_reads():
    rasa = container(statefulset(), "rasa")
    copied = dockerfile_copies(RASA_DOCKERFILE)
    for flag in ("--endpoints", "--credentials"):
        assert option(rasa, flag) in copied, f"{option(rasa, flag)} is not copied into the image"
    config = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))
    (spacy,) = [c["model"] for c in config["pipeline"] if c["name"] == "SpacyNLP"]
    assert f"python -m spacy_pipeline.build {spacy}" in dockerfile_runs(RASA_DOCKERFILE)
    for package in CODE["rasa"][0]:
        assert package in copied, f"{package}/ is not in the Rasa image"


def imported_distributions(packages: Tuple[str, ...]) -> Dict[str, Set[str]]:
    """Third-party modules imported (at module level or in functions) -> their distributions."""
    ours = set(CODE["rasa"][0]) | {"spacy_pipeline"}
    modules: Set[str] = set()
    for package in packages:
        for path in our_files(package):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    modules |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    modules.add(node.module.split(".")[0])
    third_party = modules - set(sys.stdlib_module_names) - ours - {"__future__"}
    known = module_distributions()
    return {module: known.get(module, set()) for module in third_party}


@cache
def module_distributions() -> Dict[str, Set[str]]:
    """Top-level module -> installed distributions that provide it: from top_level.txt or, for
    distributions built without one (rasa-sdk), from the files they installed."""
    found: Dict[str, Set[str]] = {}
    for distribution in metadata.distributions():
        modules = set((distribution.read_text("top_level.txt") or "").split())
        for file in distribution.files or []:
            if len(file.parts) > 1 and not file.parts[0].endswith((".dist-info", ".data", "..")):
                modules.add(file.parts[0])
            elif len(file.parts) == 1 and file.suffix == ".py":
                modules.add(file.stem)
        for module in modules:
            found.setdefault(module, set()).add(canonical(distribution.metadata["Name"]))
    return found


def closure(distributions: List[str]) -> Set[str]:
    """The distributions pip installs for these (their dependencies, markers evaluated here)."""
    seen: Set[str] = set()
    todo = [canonical(d) for d in distributions]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for requirement in metadata.requires(name) or []:
            parsed = Requirement(requirement)
            if parsed.marker is None or parsed.marker.evaluate({"extra": ""}):
                todo.append(canonical(parsed.name))
    return seen


def test_the_action_image_installs_what_the_actions_import():
    (install,) = re.findall(
        r"pip install -c requirements\.lock ([^\\&\n]+)", dockerfile_runs(ACTIONS_DOCKERFILE)
    )
    installed = closure(install.split())
    lock = {
        canonical(line.split("==")[0])
        for line in (PROJECT_ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines()
        if "==" in line and not line.startswith("#")
    }
    assert installed <= lock, f"not pinned by requirements.lock: {sorted(installed - lock)}"
    missing = {m: d for m, d in imported_distributions(CODE["actions"][0]).items() if not d & installed}
    assert not missing, (
        f"actions/ or assistant/ import what deploy/actions.Dockerfile does not install: {missing}"
    )
    production = configmaps()["assistant-config"].get("ASSISTANT_PROFILE") == "production"
    if production and "ASSISTANT_PROFILE" in container_env(container(statefulset(), "actions")):
        assert "psycopg2-binary" in installed, "SQLAlchemy needs psycopg2 for the PostgreSQL review queue"


# --- What kubectl applies ------------------------------------------------------------------------


def test_kustomize_renders_valid_resources_whose_references_resolve(no_network):
    if not shutil.which("kubectl"):
        pytest.skip("kubectl is not installed: `kubectl kustomize deploy/` was not run")
    rendered = subprocess.run(
        ["kubectl", "kustomize", str(DEPLOY)], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    output = [doc for doc in yaml.safe_load_all(rendered) if doc]
    namespace = kustomization()["namespace"]
    rendered_configmaps = {r["metadata"]["name"] for r in output if r["kind"] == "ConfigMap"}
    for resource in output:
        assert_valid(resource, "kubectl kustomize deploy/")
        if resource["kind"] != "Namespace":
            assert resource["metadata"]["namespace"] == namespace
        if resource["kind"] not in ("StatefulSet", "Deployment"):
            continue
        pod = resource["spec"]["template"]["spec"]
        names = [v["configMap"]["name"] for v in pod.get("volumes", []) if "configMap" in v]
        for c in pod["containers"]:
            names += [s["configMapRef"]["name"] for s in c.get("envFrom", []) if "configMapRef" in s]
            names += [
                v["valueFrom"]["configMapKeyRef"]["name"]
                for v in c.get("env", [])
                if "configMapKeyRef" in v.get("valueFrom", {})
            ]
        assert set(names) <= rendered_configmaps, (
            f"{resource['metadata']['name']} refers to a missing ConfigMap"
        )


def test_the_rasa_pods_get_the_server_defaults_make_run_sets():
    from scripts.runtime.supervise import SERVER_DEFAULTS

    rasa = container(statefulset(), "rasa")
    for name, value in SERVER_DEFAULTS.items():
        assert env_value(rasa, name) == value, (
            f"{name} differs from scripts/runtime/supervise.py SERVER_DEFAULTS"
        )


def test_retention_is_scheduled_with_the_rasa_image_and_the_configured_window():
    """Issue 19 item 6: the purge runs by itself, nightly, from the image that holds it."""
    cron = the("CronJob", "purge")
    [job] = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert job["image"] == container(statefulset(), "rasa")["image"]
    assert job["command"][:3] == ["python", "-m", "scripts.operations.purge"]
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    assert float(configmaps()["assistant-config"]["RETENTION_DAYS"]) > 0
    assert {"configMapRef": {"name": "assistant-config"}} in job["envFrom"]


def test_only_the_proxy_reaches_the_assistant_and_it_reaches_only_its_stores():
    """Issue 19 (low): no NetworkPolicy, so any pod could call the Rasa server (and its REST
    channel) directly, and a compromised pod could reach anything."""
    policy = the("NetworkPolicy", "assistant")
    assert policy["spec"]["podSelector"]["matchLabels"] == statefulset()["spec"]["selector"]["matchLabels"]
    assert set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    [ingress] = policy["spec"]["ingress"]
    proxy_labels = haproxy_deployment()["spec"]["template"]["metadata"]["labels"]
    assert ingress["from"] == [
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": proxy_labels["app.kubernetes.io/name"]}}}
    ]
    rasa_port = container(statefulset(), "rasa")["ports"][0]["containerPort"]
    assert ingress["ports"] == [{"protocol": "TCP", "port": rasa_port}]
    allowed = {(p["protocol"], p["port"]) for rule in policy["spec"]["egress"] for p in rule["ports"]}
    assert allowed == {
        ("TCP", int(configmaps()["assistant-config"]["DB_PORT"])),
        ("TCP", 6379),
        ("UDP", 53),
        ("TCP", 53),
    }
    assert all("to" not in rule or rule["to"] for rule in policy["spec"]["egress"])

#!/usr/bin/env python3
"""The deployment files name only what metricsd really has.

Parses every YAML file under deploy/ (all documents), then checks the Kubernetes manifests,
the Compose files, the Dockerfile and the systemd unit against the built binary:
  - every flag they pass to metricsd is one `metricsd -help` lists;
  - every MC_* and HOST_* variable they (or docs/deployment.md) mention is one `metricsd -help`
    lists (the option table prints them all);
  - paths agree: the -config file is what the config volume provides, HOST_PROC/HOST_SYS/
    HOST_ROOT are read-only mounts of the host's /proc, /sys and /, MC_DATA_DIR is a writable
    volume (the root filesystems are read-only);
  - probes and health checks use /health (liveness) and /ready (readiness) on the port the
    configuration really listens on, and every embedded config.json passes -check-config
    (without warnings) with the container's environment;
  - the Kubernetes pods run as non-root with a read-only root filesystem and no capabilities.

usage: manifests_test.py SOURCE_DIR METRICSD_BINARY
"""
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

import yaml

# Variables the manifests use ahead of the loader: each entry must go once metricsd -help
# lists the variable (the test then fails to say so).
# Variables the manifests may use before metricsd implements them (none at the moment).
PENDING_ENV: dict = {}
ENDPOINTS = {"/health", "/ready", "/metrics"}
HOST_MOUNTS = {"HOST_PROC": "/proc", "HOST_SYS": "/sys", "HOST_ROOT": "/"}
ENV_TOKEN = re.compile(r"\b(MC_[A-Z0-9_]+|HOST_[A-Z]+)\b")

errors = []


def error(where, message):
    errors.append(f"{where}: {message}")


class Metricsd:
    def __init__(self, binary):
        self.binary = binary
        help_text = subprocess.run([binary, "-help"], check=True, capture_output=True,
                                   text=True).stdout
        self.flags = set(re.findall(r"^\s+-([a-z][a-z0-9-]*)", help_text, re.M)) | {"h"}
        self.env = set(ENV_TOKEN.findall(help_text))
        if not {"config", "check-config"} <= self.flags or "MC_SERVER_PORT" not in self.env:
            raise SystemExit(f"cannot read flags and variables from `{binary} -help`")

    def check_flags(self, where, args):
        """args: what follows the binary. Returns the -config value, if any."""
        config = None
        i = 0
        while i < len(args):
            arg = args[i]
            i += 1
            if not arg.startswith("-"):
                continue
            name, eq, value = arg.lstrip("-").partition("=")
            if name not in self.flags:
                error(where, f"metricsd has no flag -{name}")
                continue
            if name in ("config", "log-level") and not eq:
                value = args[i] if i < len(args) else ""
                i += 1
            if name == "config":
                config = value
        return config

    def check_env_names(self, where, text):
        for name in sorted(set(ENV_TOKEN.findall(text))):
            if name.endswith("_") and any(v.startswith(name) for v in self.env):
                continue  # a family written as MC_TLS_*
            if name in self.env:
                if name in PENDING_ENV:
                    error(where, f"{name} is implemented now: remove it from PENDING_ENV")
                continue
            if name in PENDING_ENV:
                print(f"note: {where}: {name} is not in metricsd yet (requested: "
                      f"{PENDING_ENV[name]})")
                continue
            error(where, f"metricsd knows no variable {name}")

    def check_config(self, where, text, env):
        """Runs -check-config on text with env; returns the effective configuration."""
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            f.write(text)
            path = f.name
        try:
            clean = {k: v for k, v in os.environ.items() if not k.startswith(("MC_", "HOST_"))}
            clean.update(env)
            out = subprocess.run([self.binary, "-check-config", "-config", path], env=clean,
                                 capture_output=True, text=True, cwd=tempfile.gettempdir())
        finally:
            os.unlink(path)
        if out.returncode != 0:
            error(where, f"-check-config rejects the configuration: {out.stderr.strip()}")
            return None
        if "warning" in out.stderr:
            error(where, f"-check-config warns: {out.stderr.strip()}")
        return json.loads(out.stdout)


def under(path, mount):
    return path == mount or path.startswith(mount.rstrip("/") + "/")


def k8s_env(container):
    """Literal variables; $(VAR) references become a placeholder (Kubernetes expands them)."""
    env = {}
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", "placeholder",
                                      str(var["value"]))
    return env


def check_pod(metricsd, where, pod, configmaps):
    spec = pod["spec"]
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    pod_security = spec.get("securityContext", {})
    for container in spec["containers"]:
        cwhere = f"{where} container {container['name']}"
        if container.get("command"):
            error(cwhere, "overrides the image's ENTRYPOINT; pass flags with args")
        config_path = metricsd.check_flags(cwhere, [str(a) for a in container.get("args", [])])
        if not config_path:
            error(cwhere, "does not pass -config")
            continue
        env = k8s_env(container)
        mounts = container.get("volumeMounts", [])
        security = container.get("securityContext", {})

        if not (security.get("runAsNonRoot") or pod_security.get("runAsNonRoot")):
            error(cwhere, "runAsNonRoot is not set")
        if not security.get("readOnlyRootFilesystem"):
            error(cwhere, "readOnlyRootFilesystem is not set")
        if security.get("allowPrivilegeEscalation") is not False:
            error(cwhere, "allowPrivilegeEscalation is not false")
        if security.get("capabilities", {}).get("drop") != ["ALL"]:
            error(cwhere, "capabilities are not dropped (drop: [ALL])")
        if security.get("capabilities", {}).get("add"):
            error(cwhere, "adds capabilities")

        # -config names a file the config volume provides.
        config_text = None
        for mount in mounts:
            if not under(config_path, mount["mountPath"]):
                continue
            relative = os.path.relpath(config_path, mount["mountPath"])
            volume = volumes.get(mount["name"], {})
            sources = volume.get("projected", {}).get("sources", [])
            if "configMap" in volume:
                sources = [{"configMap": volume["configMap"]}]
            for source in sources:
                cm = source.get("configMap")
                if not cm:
                    continue
                items = cm.get("items") or [{"key": k, "path": k}
                                            for k in configmaps.get(cm["name"], {})]
                for item in items:
                    if item["path"] == relative:
                        data = configmaps.get(cm["name"])
                        if data is None or item["key"] not in data:
                            error(cwhere, f"ConfigMap {cm['name']} has no key {item['key']}")
                        else:
                            config_text = data[item["key"]]
        if config_text is None:
            error(cwhere, f"no ConfigMap volume provides -config {config_path}")
            continue
        effective = metricsd.check_config(cwhere, config_text, env)
        if effective is None:
            continue

        # Host paths: read-only mounts of the host's own directories.
        for name, host_path in HOST_MOUNTS.items():
            if name not in env:
                continue
            mount = next((m for m in mounts if m["mountPath"] == env[name]), None)
            if mount is None:
                error(cwhere, f"{name}={env[name]} is not a volume mount")
                continue
            volume = volumes.get(mount["name"], {})
            if volume.get("hostPath", {}).get("path") != host_path:
                error(cwhere, f"{name} must be the host's {host_path} (a hostPath volume)")
            if not mount.get("readOnly"):
                error(cwhere, f"the {name} mount is not read-only")
        if any(n in env for n in HOST_MOUNTS) and not spec.get("hostPID"):
            error(cwhere, "host metrics without hostPID")

        # data_dir must be writable under a read-only root filesystem.
        data_dir = env.get("MC_DATA_DIR")
        if not data_dir:
            error(cwhere, "MC_DATA_DIR is not set (the root filesystem is read-only)")
        else:
            mount = next((m for m in mounts if m["mountPath"] == data_dir), None)
            if mount is None or mount.get("readOnly"):
                error(cwhere, f"MC_DATA_DIR={data_dir} is not a writable volume mount")
            elif "emptyDir" not in volumes.get(mount["name"], {}) and \
                    "persistentVolumeClaim" not in volumes.get(mount["name"], {}):
                error(cwhere, f"MC_DATA_DIR={data_dir} is not an emptyDir or a claim")

        # Probes on the port metricsd really listens on.
        port = effective["server"]["port"]
        ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
        if port not in ports.values():
            error(cwhere, f"metricsd listens on {port}, the container declares {ports}")
        for probe, path in (("livenessProbe", "/health"), ("readinessProbe", "/ready")):
            get = container.get(probe, {}).get("httpGet")
            if not get:
                error(cwhere, f"no {probe} with httpGet")
                continue
            if get.get("path") != path:
                error(cwhere, f"{probe} must check {path}, checks {get.get('path')}")
            probe_port = ports.get(get["port"], get["port"])
            if probe_port != port:
                error(cwhere, f"{probe} checks port {get['port']}, metricsd listens on {port}")
        return ports
    return {}


def check_kubernetes(metricsd, where, documents):
    configmaps = {d["metadata"]["name"]: d.get("data", {}) for d in documents
                  if d.get("kind") == "ConfigMap"}
    pod_ports = {}
    for doc in documents:
        kind = doc.get("kind")
        if kind in ("Deployment", "DaemonSet", "StatefulSet"):
            template = doc["spec"]["template"]
            selector = doc["spec"]["selector"]["matchLabels"]
            labels = template["metadata"]["labels"]
            if any(labels.get(k) != v for k, v in selector.items()):
                error(where, f"{kind} selector does not match its pod labels")
            ports = check_pod(metricsd, f"{where} {kind} {doc['metadata']['name']}", template,
                              configmaps)
            pod_ports[tuple(sorted(labels.items()))] = ports
    for doc in documents:
        if doc.get("kind") != "Service":
            continue
        selector = tuple(sorted(doc["spec"]["selector"].items()))
        ports = next((p for labels, p in pod_ports.items() if set(selector) <= set(labels)),
                     None)
        if ports is None:
            error(where, f"Service {doc['metadata']['name']} selects no pod in this file")
            continue
        for port in doc["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            if target not in ports and target not in ports.values():
                error(where, f"Service targetPort {target} is not a container port")


def dockerfile_stage(path):
    instructions, current = [], ""
    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not current and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if line.endswith("\\"):
                current += line[:-1] + " "
                continue
            keyword, _, argument = (current + line).strip().partition(" ")
            instructions.append((keyword.upper(), argument.strip()))
            current = ""
    last_from = max(i for i, (k, _) in enumerate(instructions) if k == "FROM")
    return instructions[last_from:]


def check_dockerfile(metricsd, path, default_config):
    stage = dockerfile_stage(path)
    get = lambda key: [a for k, a in stage if k == key]
    entrypoint = json.loads(get("ENTRYPOINT")[-1])
    cmd = json.loads(get("CMD")[-1])
    if entrypoint != ["/usr/bin/metricsd"]:
        error(path, f"ENTRYPOINT is {entrypoint}")
    config = metricsd.check_flags(path, cmd)
    if config != "/etc/metricsd/config.json":
        error(path, f"CMD does not pass -config /etc/metricsd/config.json: {cmd}")
    port = default_config["server"]["port"]
    if get("EXPOSE") != [str(port)]:
        error(path, f"EXPOSE {get('EXPOSE')} is not the default configuration's port {port}")
    probe = get("HEALTHCHECK")[-1].split(" CMD ", 1)[1]
    if "-I" not in probe.split() or "/health" not in probe:
        error(path, "the HEALTHCHECK must send HEAD /health")
    if f":-{port}}}" not in probe:
        error(path, f"the HEALTHCHECK does not default to port {port}")
    return probe


def check_compose(metricsd, where, doc, healthcheck, directory):
    for name, service in doc.get("services", {}).items():
        swhere = f"{where} service {name}"
        command = service.get("command", [])
        if isinstance(command, str):
            command = shlex.split(command)
        config = metricsd.check_flags(swhere, command)
        env = service.get("environment", {})
        if isinstance(env, list):
            env = dict(e.split("=", 1) for e in env)
        env = {k: str(v) for k, v in env.items()}
        mounts = {}
        for volume in service.get("volumes", []):
            # ${VAR:-default} is Compose interpolation: take the default.
            volume = re.sub(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?-([^}]*)\}", r"\1", volume)
            parts = volume.split(":")
            source, target = parts[0], parts[1]
            mounts[target] = (source, parts[2].split(",") if len(parts) > 2 else [])
        if config not in mounts:
            error(swhere, f"-config {config} is not a mounted file")
        elif not os.path.isfile(os.path.join(directory, mounts[config][0])):
            error(swhere, f"the default configuration {mounts[config][0]} does not exist")
        for var, host_path in HOST_MOUNTS.items():
            if var not in env:
                continue
            source, options = mounts.get(env[var], (None, []))
            if source != host_path or "ro" not in options:
                error(swhere, f"{var}={env[var]} is not a read-only mount of {host_path}")
        if any(v in env for v in HOST_MOUNTS) and (
                service.get("pid") != "host" or service.get("network_mode") != "host"):
            error(swhere, "host metrics need pid: host and network_mode: host")
        data_dir = env.get("MC_DATA_DIR", "/var/lib/metricsd")  # the image's ENV
        if service.get("read_only") and data_dir not in mounts:
            error(swhere, f"read-only container without a volume on data_dir {data_dir}")
        test = service.get("healthcheck", {}).get("test", [])
        if test[:1] != ["CMD-SHELL"] or test[1].replace("$$", "$") != healthcheck:
            error(swhere, f"healthcheck differs from the Dockerfile's: {test}")
        if service.get("cap_add"):
            error(swhere, "adds capabilities")


def check_systemd(metricsd, path):
    with open(path) as f:
        text = f.read()
    exec_start = re.search(r"^ExecStart=(\S+)(.*)$", text, re.M)
    if not exec_start or exec_start.group(1) != "/usr/bin/metricsd":
        error(path, "ExecStart does not run /usr/bin/metricsd")
        return
    config = metricsd.check_flags(path, shlex.split(exec_start.group(2)))
    if config != "/etc/metricsd/config.json":
        error(path, "ExecStart does not pass -config /etc/metricsd/config.json")
    metricsd.check_env_names(path, text)


def check_tree(metricsd, source_dir):
    """Every check over source_dir's deploy/ (and docs/); returns the errors."""
    errors.clear()
    deploy = os.path.join(source_dir, "deploy")
    with open(os.path.join(deploy, "config", "config.json")) as f:
        default_text = f.read()
    default_config = metricsd.check_config("deploy/config/config.json", default_text, {})
    if default_config is None:
        default_config = {"server": {"port": 8080}}

    yaml_files = []
    for root, _, files in os.walk(deploy):
        yaml_files += [os.path.join(root, f) for f in files if f.endswith((".yaml", ".yml"))]
    if not yaml_files:
        error(deploy, "no YAML files")
    healthcheck = check_dockerfile(metricsd, os.path.join(deploy, "docker", "Dockerfile"),
                                   default_config)

    for path in sorted(yaml_files):
        where = os.path.relpath(path, source_dir)
        with open(path) as f:
            text = f.read()
        try:
            documents = [d for d in yaml.safe_load_all(text) if d is not None]
        except yaml.YAMLError as e:
            error(where, f"does not parse: {e}")
            continue
        metricsd.check_env_names(where, text)
        if any("apiVersion" in d for d in documents):
            check_kubernetes(metricsd, where, [d for d in documents if "kind" in d])
        for doc in documents:
            if "services" in doc:
                check_compose(metricsd, where, doc, healthcheck, os.path.dirname(path))

    check_systemd(metricsd, os.path.join(deploy, "systemd", "metricsd.service"))
    for extra in ("deploy/docker/Dockerfile", "docs/deployment.md"):
        path = os.path.join(source_dir, extra)
        if os.path.exists(path):
            with open(path) as f:
                metricsd.check_env_names(extra, f.read())
    return list(errors)


# Each mutation breaks one thing the checks promise to catch: (file, old, new, expected error).
MUTATIONS = [
    ("deploy/kubernetes/deployment.yaml", '"-config"', '"-configfile"', "no flag -configfile"),
    ("deploy/kubernetes/deployment.yaml", "name: MC_DATA_DIR", "name: MC_DATADIR",
     "no variable MC_DATADIR"),
    ("deploy/kubernetes/deployment.yaml", "path: /ready", "path: /health",
     "readinessProbe must check /ready"),
    ("deploy/kubernetes/deployment.yaml", "mountPath: /etc/metricsd\n",
     "mountPath: /etc/metricsd-conf\n", "no ConfigMap volume provides"),
    ("deploy/kubernetes/deployment.yaml", '"interval_seconds": 60', '"interval_second": 60',
     "-check-config"),
    ("deploy/kubernetes/deployment.yaml", "readOnlyRootFilesystem: true",
     "readOnlyRootFilesystem: false", "readOnlyRootFilesystem"),
    ("deploy/kubernetes/daemonset.yaml", "mountPath: /host/sys\n              readOnly: true",
     "mountPath: /host/sys\n              readOnly: false", "HOST_SYS mount is not read-only"),
    ("deploy/kubernetes/daemonset.yaml", "containerPort: 9110", "containerPort: 8080",
     "listens on 9110"),
    ("deploy/docker/compose.host.yml", "/sys:/host/sys:ro", "/sys:/host/sys",
     "HOST_SYS=/host/sys is not a read-only mount"),
    ("deploy/docker/compose.yml", "/health", "/healthz", "healthcheck differs"),
    ("deploy/docker/Dockerfile", "-I ", "", "HEAD /health"),
    ("deploy/systemd/metricsd.service", "-config /etc", "-c /etc", "no flag -c"),
    ("deploy/kubernetes/namespace.yaml", "name: monitoring", "name: [monitoring",
     "does not parse"),
]


def check_mutations(metricsd, source_dir):
    with tempfile.TemporaryDirectory(prefix="metricsd-manifests.") as work:
        for relative in ("deploy", "docs"):
            if os.path.isdir(os.path.join(source_dir, relative)):
                shutil.copytree(os.path.join(source_dir, relative), os.path.join(work, relative))
        for path, old, new, expected in MUTATIONS:
            target = os.path.join(work, path)
            with open(target) as f:
                original = f.read()
            if old not in original:
                errors.clear()
                return [f"mutation of {path}: {old!r} no longer occurs; update MUTATIONS"]
            with open(target, "w") as f:
                f.write(original.replace(old, new, 1))
            found = check_tree(metricsd, work)
            with open(target, "w") as f:
                f.write(original)
            if not any(expected in e for e in found):
                return [f"breaking {path} ({old!r} -> {new!r}) went unnoticed; expected "
                        f"{expected!r}, got {found}"]
            print(f"caught: {path}: {old!r} -> {new!r}")
    return []


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    source_dir, binary = sys.argv[1], os.path.abspath(sys.argv[2])
    metricsd = Metricsd(binary)
    found = check_tree(metricsd, source_dir)
    if not found:
        found = check_mutations(metricsd, source_dir)
    if found:
        for e in found:
            print(f"FAIL: {e}", file=sys.stderr)
        sys.exit(1)
    print("PASS")


if __name__ == "__main__":
    main()

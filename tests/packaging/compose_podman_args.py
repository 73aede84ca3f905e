#!/usr/bin/env python3
"""The `podman run` arguments that run a Compose file's service with the file's settings.

For container_test.sh: podman-compose (Debian 12 has 1.0.3) cannot run compose.host.yml (it
adds its project network to network_mode: host, which podman refuses, and drops pid: host),
so the service is run by hand instead. Every key the service uses must be one this script
knows: a setting added to a Compose file and not run here fails the test.

Changes to the file as written, and why: the image comes from the test's own store (no build);
the host side of published ports is a free loopback port; with network_mode: host metricsd
listens on 127.0.0.1 and a free port (MC_SERVER_HOST/MC_SERVER_PORT); named volumes are
prefixed with the test's name; ${METRICSD_CONFIG:-...} becomes CONFIG.

usage: compose_podman_args.py COMPOSE_FILE SERVICE NAME PORT CONFIG
Prints one argument per line, image and command last.
"""
import re
import shlex
import sys

import yaml

KNOWN = {"build", "image", "restart", "command", "network_mode", "pid", "ports",
         "environment", "volumes", "read_only", "cap_drop", "security_opt", "healthcheck"}


def interpolate(value, config):
    value = re.sub(r"\$\{METRICSD_CONFIG:-[^}]*\}", config, value)
    if re.search(r"(?<!\$)\$\{", value):
        sys.exit(f"unhandled variable in {value!r}")
    return value.replace("$$", "$")


def main():
    path, service, name, port, config = sys.argv[1:]
    doc = yaml.safe_load(open(path))
    svc = doc["services"][service]
    unknown = set(svc) - KNOWN
    if unknown:
        sys.exit(f"{path}: service {service} uses {sorted(unknown)}, which this test does not run")
    args = ["--name", name, "-d"]
    env = dict(svc.get("environment", {}))
    if svc.get("network_mode"):
        args += ["--network", svc["network_mode"]]
        if svc["network_mode"] == "host":
            env["MC_SERVER_HOST"] = "127.0.0.1"
            env["MC_SERVER_PORT"] = port
    if svc.get("pid"):
        args += ["--pid", svc["pid"]]
    for mapping in svc.get("ports", []):
        container_port = str(mapping).split(":")[-1]
        args += ["-p", f"127.0.0.1:{port}:{container_port}"]
    for key, value in env.items():
        args += ["-e", f"{key}={value}"]
    named = set(doc.get("volumes") or {})
    for volume in svc.get("volumes", []):
        volume = interpolate(volume, config)
        source = volume.split(":", 1)[0]
        if source in named:
            volume = f"{name}-{volume}"
        args += ["-v", volume]
    if svc.get("read_only"):
        args.append("--read-only")
    for cap in svc.get("cap_drop", []):
        args += ["--cap-drop", cap]
    for opt in svc.get("security_opt", []):
        # Compose's "no-new-privileges:true" is podman's "no-new-privileges".
        args += ["--security-opt", "no-new-privileges" if opt == "no-new-privileges:true" else opt]
    if svc.get("restart"):
        args += ["--restart", svc["restart"]]
    check = svc.get("healthcheck")
    if check:
        test = check["test"]
        if test[0] == "CMD-SHELL":
            args += ["--health-cmd", interpolate(test[1], config)]
        elif test[0] == "CMD":
            args += ["--health-cmd", shlex.join(interpolate(t, config) for t in test[1:])]
        else:
            sys.exit(f"unhandled healthcheck test {test!r}")
        for key, flag in (("interval", "--health-interval"), ("timeout", "--health-timeout"),
                          ("start_period", "--health-start-period"),
                          ("retries", "--health-retries")):
            if key in check:
                args += [flag, str(check[key])]
    args.append(svc["image"])
    command = svc.get("command", [])
    args += shlex.split(command) if isinstance(command, str) else command
    print("\n".join(args))


if __name__ == "__main__":
    main()

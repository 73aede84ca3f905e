#!/usr/bin/env python3
"""What the container image does, checked without a Docker engine.

Runs deploy/docker/build.sh, rootfs.sh and minimal_rootfs.sh (the steps of
deploy/docker/Dockerfile) into a temporary directory, checks the runtime tree, that the stage
running minimal_rootfs.sh installs every package whose shared libraries the binary links, and
that the minimal tree (the image FROM scratch) holds every library each of its ELF files needs,
then starts the binary the way the image's ENTRYPOINT and CMD do and runs the HEALTHCHECK
command exactly as written in the Dockerfile. As root both run inside the minimal tree
(chroot, as the image's user), so a file missing from the image fails here too.

usage: docker_scripts_test.py SOURCE_DIR BUILD_DIR
"""
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time

SKIP = 77
IMAGE_ID = 10001
# In debian:bookworm-slim already (apt itself needs them).
BASE_IMAGE_PACKAGES = {"libc6", "libstdc++6", "libgcc-s1"}
# Where the dynamic loader looks in the minimal tree (no ld.so.cache there).
LIBRARY_DIRS = ("usr/lib/x86_64-linux-gnu", "usr/lib/aarch64-linux-gnu", "usr/lib", "usr/lib64")
# Sanitizer runtimes exist only in the ASan test build, never in the image.
SANITIZER_LIBS = re.compile(r"^lib(a|ub|t|l)san\.so")


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def run(argv, **kwargs):
    print("+", " ".join(argv), flush=True)
    return subprocess.run(argv, check=True, **kwargs)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dockerfile_instructions(path):
    """(keyword, argument) pairs with continuation lines joined and comments dropped."""
    lines, current = [], ""
    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not current and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if line.endswith("\\"):
                current += line[:-1] + " "
                continue
            current += line
            lines.append(current.strip())
            current = ""
    out = []
    for line in lines:
        keyword, _, argument = line.partition(" ")
        out.append((keyword.upper(), argument.strip()))
    return out


def runtime_stage(instructions):
    """The instructions of the last stage (the image that ships)."""
    last_from = max(i for i, (k, _) in enumerate(instructions) if k == "FROM")
    return instructions[last_from:]


def collecting_stage(instructions):
    """The stage that runs minimal_rootfs.sh (its packages are what the image holds)."""
    froms = [i for i, (k, _) in enumerate(instructions) if k == "FROM"] + [len(instructions)]
    for start, end in zip(froms, froms[1:]):
        stage = instructions[start:end]
        if any(k == "RUN" and "minimal_rootfs.sh" in a for k, a in stage):
            return stage
    fail("no stage of the Dockerfile runs minimal_rootfs.sh")


def elf_needed(path):
    """(interpreter, [NEEDED sonames]) of an ELF file; None if it is not one."""
    with open(path, "rb") as f:
        if f.read(4) != b"\x7fELF":
            return None
    out = subprocess.run(["readelf", "-d", "-l", path], check=True, capture_output=True,
                         text=True).stdout
    interp = re.search(r"Requesting program interpreter: ([^\]]+)\]", out)
    return (interp.group(1) if interp else None,
            re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out))


def check_closure(tree):
    """Every ELF file in tree finds its interpreter and each library it needs inside tree."""
    count = 0
    for root, _, files in os.walk(tree):
        for name in files:
            path = os.path.join(root, name)
            if os.path.islink(path):
                continue
            needed = elf_needed(path)
            if needed is None:
                continue
            count += 1
            interp, sonames = needed
            rel = os.path.relpath(path, tree)
            if interp and not os.path.isfile(os.path.join(tree, interp.lstrip("/"))):
                fail(f"the minimal tree lacks /{rel}'s interpreter {interp}")
            for soname in sonames:
                if SANITIZER_LIBS.match(soname):
                    continue
                if not any(os.path.isfile(os.path.join(tree, d, soname)) for d in LIBRARY_DIRS):
                    fail(f"the minimal tree lacks {soname}, which /{rel} needs")
    return count


def apt_packages(stage):
    packages = set()
    for keyword, argument in stage:
        if keyword != "RUN" or "apt-get install" not in argument:
            continue
        install = argument.split("apt-get install", 1)[1].split("&&", 1)[0]
        packages.update(w for w in install.split() if not w.startswith("-"))
    return packages


def needed_packages(binary):
    """Debian packages providing the binary's DT_NEEDED libraries (None: no dpkg here)."""
    if not shutil.which("dpkg") or not shutil.which("readelf"):
        return None
    dynamic = subprocess.run(["readelf", "-d", binary], check=True, capture_output=True,
                             text=True).stdout
    sonames = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dynamic)
    ldd = subprocess.run(["ldd", binary], check=True, capture_output=True, text=True).stdout
    paths = dict(re.findall(r"^\s*(\S+) => (\S+)", ldd, re.M))
    result = {}
    for soname in sonames:
        if SANITIZER_LIBS.match(soname):
            continue
        if soname.startswith("ld-linux"):
            continue  # the dynamic loader itself (libc6); ldd prints no "=>" for it
        path = paths.get(soname)
        if not path:
            fail(f"ldd cannot resolve {soname}")
        candidates = [path, "/usr" + path, os.path.realpath(path)]
        package = None
        for candidate in candidates:
            found = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
            if found.returncode == 0:
                package = found.stdout.split(":", 1)[0].strip()
                break
        if package is None:
            fail(f"no Debian package owns {path} ({soname})")
        result[soname] = package
    return result


def wait_until(predicate, what, deadline_s=30, process=None):
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if predicate():
            return
        if process is not None and process.poll() is not None:
            fail(f"metricsd exited with {process.returncode} before {what}")
        time.sleep(0.2)
    fail(f"timed out waiting for {what}")


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    source_dir, build_dir = (os.path.abspath(a) for a in sys.argv[1:])
    if not shutil.which("curl"):
        print("SKIP: curl (the HEALTHCHECK's client) is not installed")
        sys.exit(SKIP)
    docker_dir = os.path.join(source_dir, "deploy", "docker")
    dockerfile = os.path.join(docker_dir, "Dockerfile")
    instructions = dockerfile_instructions(dockerfile)
    stage = runtime_stage(instructions)
    as_root = os.geteuid() == 0

    work = tempfile.mkdtemp(prefix="metricsd-docker-test.")
    os.chmod(work, 0o755)  # the image's user must reach the tree below
    daemon = None
    try:
        prefix = os.path.join(work, "prefix")
        run(["sh", os.path.join(docker_dir, "build.sh"), build_dir, prefix])
        binary = os.path.join(prefix, "bin", "metricsd")
        sections = subprocess.run(["readelf", "-S", binary], check=True, capture_output=True,
                                  text=True).stdout
        if ".symtab" in sections:
            fail("build.sh installed an unstripped binary")

        rootfs = os.path.join(work, "rootfs")
        if as_root:
            # What the base image brings: the account files useradd edits.
            os.makedirs(os.path.join(rootfs, "etc"))
            for name, text in (("passwd", "root:x:0:0:root:/root:/bin/sh\n"),
                               ("group", "root:x:0:\n"), ("shadow", "root:*:19000:0:99999:7:::\n"),
                               ("gshadow", "root:*::\n")):
                with open(os.path.join(rootfs, "etc", name), "w") as f:
                    f.write(text)
        run(["sh", os.path.join(docker_dir, "rootfs.sh"), rootfs, prefix])
        minimal = os.path.join(work, "minimal")
        run(["sh", os.path.join(docker_dir, "minimal_rootfs.sh"), rootfs, minimal])

        image_binary = os.path.join(rootfs, "usr/bin/metricsd")
        image_config = os.path.join(rootfs, "etc/metricsd/config.json")
        data_dir = os.path.join(rootfs, "var/lib/metricsd")
        if not os.access(image_binary, os.X_OK):
            fail("rootfs.sh did not install an executable /usr/bin/metricsd")
        if not os.path.isdir(os.path.join(rootfs, "etc/metricsd/certs")):
            fail("rootfs.sh did not create /etc/metricsd/certs")
        if stat.S_IMODE(os.stat(data_dir).st_mode) != 0o750:
            fail("/var/lib/metricsd is not mode 0750")
        if as_root:
            with open(os.path.join(rootfs, "etc/passwd")) as f:
                if not re.search(rf"^metricsd:x:{IMAGE_ID}:{IMAGE_ID}:", f.read(), re.M):
                    fail(f"rootfs.sh did not add the metricsd user with id {IMAGE_ID}")
            st = os.stat(data_dir)
            if (st.st_uid, st.st_gid) != (IMAGE_ID, IMAGE_ID):
                fail("/var/lib/metricsd is not owned by the image's user")

        # The image FROM scratch: what minimal_rootfs.sh put there.
        for path, what in (("usr/bin/metricsd", "the binary"),
                           ("usr/lib/metricsd/metricsd-net.so", "the network module"),
                           ("etc/metricsd/config.json", "the configuration"),
                           ("bin/sh", "the HEALTHCHECK's shell"),
                           ("usr/bin/curl", "the HEALTHCHECK's client"),
                           ("etc/ssl/certs/ca-certificates.crt", "libcurl's default CA bundle"),
                           ("etc/nsswitch.conf", "name service configuration"),
                           ("etc/passwd", "the account files"), ("etc/group", "the account files")):
            if not os.path.isfile(os.path.join(minimal, path)):
                fail(f"minimal_rootfs.sh did not provide /{path} ({what})")
        if not os.path.isdir(os.path.join(minimal, "etc/metricsd/certs")):
            fail("minimal_rootfs.sh did not provide /etc/metricsd/certs")
        if stat.S_IMODE(os.stat(os.path.join(minimal, "tmp")).st_mode) != 0o1777:
            fail("/tmp in the minimal tree is not mode 1777")
        minimal_data = os.path.join(minimal, "var/lib/metricsd")
        if stat.S_IMODE(os.stat(minimal_data).st_mode) != 0o750:
            fail("/var/lib/metricsd in the minimal tree is not mode 0750")
        if as_root:
            with open(os.path.join(minimal, "etc/passwd")) as f:
                if not re.search(rf"^metricsd:x:{IMAGE_ID}:{IMAGE_ID}:", f.read(), re.M):
                    fail(f"the minimal tree's /etc/passwd lacks the metricsd user {IMAGE_ID}")
            st = os.stat(minimal_data)
            if (st.st_uid, st.st_gid) != (IMAGE_ID, IMAGE_ID):
                fail("/var/lib/metricsd in the minimal tree is not owned by the image's user")
        elf_count = check_closure(minimal)
        print(f"minimal tree: {elf_count} ELF files, each finds every library it needs")

        # USER must be numeric (runAsNonRoot) and the one rootfs.sh creates.
        users = [a for k, a in stage if k == "USER"]
        if users != [f"{IMAGE_ID}:{IMAGE_ID}"]:
            fail(f"the runtime stage must say USER {IMAGE_ID}:{IMAGE_ID}, says {users}")

        module = os.path.join(prefix, "lib", "metricsd", "metricsd-net.so")
        image_module = os.path.join(rootfs, "usr/lib/metricsd/metricsd-net.so")
        if not os.path.isfile(image_module):
            fail("rootfs.sh did not install the network module /usr/lib/metricsd/metricsd-net.so")

        # The binary's libraries and the network module's (libcurl, OpenSSL), which it loads
        # when the configuration ships or scrapes.
        packages = needed_packages(binary)
        if packages is not None:
            packages.update(needed_packages(module))
        if packages is None:
            print("note: no dpkg/readelf here; the runtime library list is not checked")
        else:
            listed = apt_packages(collecting_stage(instructions))
            for soname, package in sorted(packages.items()):
                if package not in listed and package not in BASE_IMAGE_PACKAGES:
                    fail(f"the stage running minimal_rootfs.sh does not install {package} "
                         f"(for {soname})")
                print(f"{soname}: {package} (installed by the stage running minimal_rootfs.sh)")

        # ENTRYPOINT + CMD, with the image's paths mapped into the temporary tree.
        entrypoint = json.loads([a for k, a in stage if k == "ENTRYPOINT"][-1])
        cmd = json.loads([a for k, a in stage if k == "CMD"][-1])

        def in_tree(arg):
            return os.path.join(rootfs, arg.lstrip("/")) if arg.startswith("/") else arg

        argv = [in_tree(a) for a in entrypoint + cmd]
        if argv[:3] != [image_binary, "-config", image_config]:
            fail(f"ENTRYPOINT/CMD do not run /usr/bin/metricsd -config "
                 f"/etc/metricsd/config.json: {entrypoint + cmd}")
        # As root, everything below runs inside the minimal tree as the image's user, with the
        # image's paths; otherwise from the rootfs.sh tree with this system's libraries.
        # A sanitizer build needs its runtime (libasan ...), which is never part of the image.
        needed = elf_needed(image_binary)
        sanitized = needed is not None and any(SANITIZER_LIBS.match(n) for n in needed[1])
        in_image = as_root and shutil.which("chroot") is not None and not sanitized

        def image_argv(args):
            if in_image:
                return ["chroot", f"--userspec={IMAGE_ID}:{IMAGE_ID}", minimal] + args
            return [in_tree(a) for a in args]

        if in_image:
            # What the container engine provides in /dev (the HEALTHCHECK writes to /dev/null).
            os.makedirs(os.path.join(minimal, "dev"))
            os.mknod(os.path.join(minimal, "dev/null"), 0o666 | stat.S_IFCHR, os.makedev(1, 3))
            os.chmod(os.path.join(minimal, "dev/null"), 0o666)
        else:
            print("note: " + ("a sanitizer build" if sanitized else "not root") +
                  "; the binary runs outside the minimal tree")
        run(image_argv(["/usr/bin/metricsd", "-check-config", "-config",
                        "/etc/metricsd/config.json"]), capture_output=True)
        # A configuration with a shipper makes the image's binary load its network module.
        shipping_config = os.path.join(minimal if in_image else work, "tmp", "shipping.json")
        os.makedirs(os.path.dirname(shipping_config), exist_ok=True)
        with open(shipping_config, "w") as f:
            json.dump({"shipper": {"type": "prometheus_remote_write",
                                   "endpoint": "http://127.0.0.1:9/api/v1/write"}}, f)
        os.chmod(shipping_config, 0o644)
        if in_image:
            run(image_argv(["/usr/bin/metricsd", "-check-config", "-config", "/tmp/shipping.json"]),
                capture_output=True)
        else:  # the file is outside the tree: not a path to map into it
            run([image_binary, "-check-config", "-config", shipping_config], capture_output=True)

        healthcheck = [a for k, a in stage if k == "HEALTHCHECK"][-1]
        probe = healthcheck.split(" CMD ", 1)[1]

        def healthy(port):
            env = dict(os.environ, MC_SERVER_PORT=str(port))
            shell = image_argv(["/bin/sh"]) if in_image else ["sh"]
            return subprocess.run(shell + ["-c", probe], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL).returncode == 0

        if healthy(free_port()):
            fail("the HEALTHCHECK command passes with nothing listening")

        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MC_", "HOST_"))}
        for k, a in stage:
            if k == "ENV":
                name, _, value = a.partition("=")
                env[name] = in_tree(value) if name == "MC_DATA_DIR" and not in_image else value
        env.update(MC_SERVER_HOST="127.0.0.1", MC_SERVER_PORT=str(port))
        prefix_argv = []
        if in_image:
            argv = image_argv(entrypoint + cmd)
            data_dir = minimal_data
        elif as_root and shutil.which("setpriv"):
            prefix_argv = ["setpriv", f"--reuid={IMAGE_ID}", f"--regid={IMAGE_ID}",
                           "--clear-groups", "--"]
        log = open(os.path.join(work, "daemon.log"), "w+")
        print("+", " ".join(prefix_argv + argv), flush=True)
        daemon = subprocess.Popen(prefix_argv + argv, env=env, cwd=data_dir, stdout=log,
                                  stderr=subprocess.STDOUT)
        try:
            wait_until(lambda: healthy(port), "the HEALTHCHECK command to pass", process=daemon)
        except SystemExit:
            log.seek(0)
            print(log.read(), file=sys.stderr)
            raise
        print(f"HEALTHCHECK passes: {probe}")
        daemon.terminate()
        code = daemon.wait(timeout=30)
        daemon = None
        if code != 0:
            log.seek(0)
            print(log.read(), file=sys.stderr)
            fail(f"metricsd exited {code} on SIGTERM")
        print("PASS")
    finally:
        if daemon is not None and daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

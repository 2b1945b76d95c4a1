#!/usr/bin/env bash
# Build the dnnlens image with Podman on a machine without an image registry whose pip finds the
# packages through its own configuration (docs/DEPLOY.md, "Docker / Podman").
#   scripts/podman_build.sh [TAG]        (default TAG: dnnlens; BASE=... to change the base image)
# The effective `pip config list` (files and PIP_* variables) is written to one pip.conf, mounted
# read-only at /etc/pip.conf for the build's RUN steps, together with every local path it names
# (find-links folders, file:// indexes, the constraint file, the CA bundle). Nothing of it stays in
# the image. Podman runs with runc and cgroupfs and the host's network (../shared/NOTES.md).
set -euo pipefail
cd "$(dirname "$0")/.."
TAG=${1:-dnnlens}
BASE=${BASE:-localhost/bookworm-base}
PODMAN=(podman --runtime runc --cgroup-manager cgroupfs)

say() { printf 'podman_build: %s\n' "$*" >&2; }
if ! "${PODMAN[@]}" image exists "$BASE"; then
  say "no base image $BASE; make it from Debian's packages first (docs/DEPLOY.md):"
  say "  debootstrap --variant=minbase bookworm ROOTFS http://deb.debian.org/debian"
  say "  tar -C ROOTFS -c . | podman import - $BASE"
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - "$tmp/pip.conf" >"$tmp/mounts" <<'PY'
import configparser, os, subprocess, sys

listed = subprocess.run([sys.executable, "-m", "pip", "config", "list"],
                        capture_output=True, text=True, check=True).stdout
conf = configparser.ConfigParser(interpolation=None)
env = {}
for line in listed.splitlines():
    key, _, value = line.partition("=")
    section, _, name = key.rpartition(".")
    value = value.strip().strip("'\"")
    if section == ":env:":  # PIP_* variables override the files
        env[name] = value
        continue
    if not conf.has_section(section):
        conf.add_section(section)
    conf[section][name] = value
if not conf.has_section("global"):
    conf.add_section("global")
for name, value in env.items():
    conf["global"][name] = value

# A folder is mounted at its own path (a find-links folder; a file:// index with the folder above
# "simple", where its relative links point); a file (CA bundle, constraints) under /mnt/host-pip,
# so that it cannot cover a file of the image, and the setting is rewritten to that path.
mounts = {}
for section in conf.sections():
    for name, value in conf[section].items():
        tokens = []
        for token in value.split():
            url = token.startswith("file://")
            path = token.removeprefix("file://")
            if path.startswith("/") and os.path.isdir(path):
                top = os.path.dirname(path.rstrip("/")) if url and path.rstrip("/").endswith("/simple") else path
                mounts[os.path.realpath(top)] = top
            elif path.startswith("/") and os.path.isfile(path):
                host = os.path.realpath(path)
                inside = mounts.setdefault(host, f"/mnt/host-pip/{len(mounts)}-{os.path.basename(path)}")
                token = ("file://" if url else "") + inside
            tokens.append(token)
        conf[section][name] = " ".join(tokens)
with open(sys.argv[1], "w") as f:
    conf.write(f)
for host, inside in sorted(mounts.items()):
    print(f"{host}:{inside}:ro")
PY
args=(-v "$tmp/pip.conf:/etc/pip.conf:ro")
while read -r m; do args+=(-v "$m"); done <"$tmp/mounts"
say "pip configuration for the build: $(tr '\n' ' ' <"$tmp/pip.conf")"
say "building $TAG from $BASE"
"${PODMAN[@]}" build --format docker --network host --build-arg BASE="$BASE" "${args[@]}" -t "$TAG" .

"""Run a process of the image the way a container runtime would, on a machine without a Docker
engine (tests/deploy/test_process_model.py).

What a container of ``deploy/Dockerfile`` under ``docker-compose.yml`` gets, and so what this
gives each process:

* the image's environment (the Dockerfile's ``ENV``) plus the compose service's ``environment``,
  with only the network addresses (database, broker, JWKS, listen ports) pointed at this machine;
* a root filesystem of its own: an overlay of this machine's ``/`` with the image's paths on top
  (``/app`` owned by root, ``/app/var`` owned by the image's user, the entrypoint as
  ``/usr/local/bin/ekinerja``, the user in ``/etc/passwd``), remounted **read-only** when the
  compose service says ``read_only``;
* a fresh tmpfs on every path of the service's ``tmpfs``, the data volume bound on ``/app/var``
  (shared by the containers of one service, as the named volume is; an empty anonymous one where
  compose mounts none, as Docker does for the image's ``VOLUME``), the compose secrets as files
  under ``/run/secrets``;
* the image's unprivileged uid (``USER``), no capabilities, ``WORKDIR`` as its directory, and the
  entrypoint of the image as its command.

The network is this machine's (as ``network_mode: host``); the Python is the project's .venv,
made reachable for the unprivileged user in the overlay (in the image it is /usr/local/bin/python).
Every piece is a private mount namespace that ends with the process: nothing of it is visible
outside, and nothing outside changes.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from .stack import ROOT

DOCKERFILE = ROOT / "deploy" / "Dockerfile"
ENTRYPOINT = ROOT / "deploy" / "docker-entrypoint.sh"


@dataclass(frozen=True)
class Image:
    env: dict[str, str]
    workdir: str
    uid: int
    user: str
    volumes: tuple[str, ...]

    @classmethod
    def from_dockerfile(cls, path: Path = DOCKERFILE) -> "Image":
        text = re.sub(r"\\\n", " ", path.read_text())
        env: dict[str, str] = {}
        workdir, user, volumes = "/", "root", ()
        for line in text.splitlines():
            line = line.strip()
            if line.startswith("ENV "):
                for pair in shlex.split(line[4:]):
                    key, _, value = pair.partition("=")
                    env[key] = value
            elif line.startswith("WORKDIR "):
                workdir = line.split(None, 1)[1]
            elif line.startswith("USER "):
                user = line.split(None, 1)[1]
            elif line.startswith("VOLUME "):
                import json

                volumes = tuple(json.loads(line.split(None, 1)[1]))
        m = re.search(rf"useradd .*--uid (\d+) .*\b{re.escape(user)}\b", text)
        if not m:
            raise ValueError(f"{path}: no useradd line for USER {user}")
        return cls(env, workdir, int(m.group(1)), user, volumes)


@dataclass
class Container:
    """One process of the image (``ekinerja SERVICE KIND ARGS``) in its own mount namespace."""

    name: str
    args: list[str]
    env: Mapping[str, str]
    image: Image
    scratch: Path                      # this container's private folder (overlay layers, mount points)
    volume: Path | None = None         # host folder mounted on the image's volume (/app/var)
    read_only: bool = True
    tmpfs: tuple[str, ...] = ("/tmp",)
    secrets: Mapping[str, str] = field(default_factory=dict)  # name -> content, under /run/secrets
    log: Path | None = None
    # A shell command run instead of the entrypoint, in the same container (tests' probes).
    command_override: str | None = None
    popen: subprocess.Popen | None = None

    @staticmethod
    def _code_paths() -> list[Path]:
        """The host folders the processes run from: the checkout and, when it lies elsewhere, the venv."""
        repo = Path(__file__).resolve().parents[2]
        prefix = Path(sys.prefix).resolve()
        return [repo] if prefix.is_relative_to(repo) else [repo, prefix]

    def _script(self) -> str:
        merged = self.scratch / "root"
        layer = self.scratch / "layer"
        q = shlex.quote
        venv_python = Path(sys.prefix) / "bin" / "python"
        real_python = Path(os.path.realpath(venv_python))
        lines = [
            "set -eu",
            f"mount -t tmpfs -o mode=0755 tmpfs {q(str(layer))}",
            f"mkdir {q(str(layer / 'upper'))} {q(str(layer / 'work'))}",
            f"mount -t overlay overlay -o lowerdir=/,upperdir={q(str(layer / 'upper'))},workdir={q(str(layer / 'work'))} {q(str(merged))}",
            f"cd {q(str(merged))}",
            # The image's own paths and files.
            f"mkdir -p .{q(self.image.workdir)} usr/local/bin run/secrets",
            f"chown 0:0 .{q(self.image.workdir)} && chmod 0755 .{q(self.image.workdir)}",
            f"cp {q(str(ENTRYPOINT))} usr/local/bin/ekinerja && chmod 0755 usr/local/bin/ekinerja",
            f"echo '{self.image.user}:x:{self.image.uid}:{self.image.uid}::{self.image.workdir}:/usr/sbin/nologin' >> etc/passwd",
            f"echo '{self.image.user}:x:{self.image.uid}:' >> etc/group",
        ]
        # The venv's interpreter may live under a private home (/root is 0700): open the way to it
        # in this overlay only, as the image has its Python in /usr/local.
        parts = real_python.parents
        for parent in reversed(parts[:-1]):
            lines.append(f"chmod o+x .{q(str(parent))} 2>/dev/null || true")
        for vol in self.image.volumes:
            lines.append(f"mkdir -p .{q(vol)} && chown {self.image.uid}:{self.image.uid} .{q(vol)}")
        for name, content in self.secrets.items():
            path = f"run/secrets/{name}"
            lines.append(f"printf %s {q(content)} > {path} && chmod 0444 {path}")
        lines += ["mount -t proc proc proc", "mount --rbind /dev dev", "mount --rbind /sys sys"]
        if self.read_only:
            lines.append(f"mount -o remount,ro {q(str(merged))}")
        for path in self.tmpfs:
            lines.append(f"mount -t tmpfs -o mode=1777 tmpfs .{q(path)}")
            # A checkout or venv that lives under this path (a CI clone in /tmp) stays visible
            # through the fresh tmpfs, read-only, as the image keeps its code and Python apart.
            for host in self._code_paths():
                if host.is_relative_to(path):
                    lines += [f"mkdir -p .{q(str(host))}", f"mount --bind {q(str(host))} .{q(str(host))}",
                              f"mount -o remount,bind,ro .{q(str(host))}"]
        if self.image.volumes:
            # A named volume if compose mounts one, else the anonymous volume Docker makes for
            # every VOLUME of the image (empty, owned as the image made the folder).
            source = self.volume or self.scratch / "anonymous-volume"
            lines.append(f"mount --bind {q(str(source))} .{q(self.image.volumes[0])}")
        env = " ".join(q(f"{k}={v}") for k, v in self.env.items())
        argv = " ".join(q(a) for a in self.args)
        command = self.command_override or f"exec /usr/local/bin/ekinerja {argv}"
        lines.append(
            f"exec chroot {q(str(merged))} setpriv --reuid={self.image.uid} --regid={self.image.uid} --clear-groups "
            f"--inh-caps=-all --bounding-set=-all env -i {env} "
            f"sh -c {q('cd ' + self.image.workdir + ' && ' + command)}"
        )
        return "\n".join(lines)

    def start(self) -> "Container":
        (self.scratch / "root").mkdir(parents=True, exist_ok=True)
        (self.scratch / "layer").mkdir(exist_ok=True)
        for vol in (self.volume, self.scratch / "anonymous-volume"):
            if vol is not None:
                vol.mkdir(parents=True, exist_ok=True)
                os.chown(vol, self.image.uid, self.image.uid)
        self.log = self.log or self.scratch / "output.log"
        with open(self.log, "ab") as out:
            self.popen = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh", "-c", self._script()],
                                          stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                          start_new_session=True)
        return self

    def wait(self, timeout: float | None = None) -> int:
        assert self.popen is not None
        return self.popen.wait(timeout=timeout)

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self, timeout: float = 30.0) -> int | None:
        import signal

        if self.popen is None or self.popen.poll() is not None:
            return self.popen.returncode if self.popen else None
        try:
            os.killpg(self.popen.pid, signal.SIGTERM)
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            return self.popen.wait()
        except ProcessLookupError:
            return self.popen.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log and self.log.exists() else ""


def available() -> str | None:
    """Why containers cannot be reproduced here (None if they can)."""
    if os.geteuid() != 0:
        return "needs root (mount namespaces, overlay, setpriv)"
    for tool in ("unshare", "setpriv", "chroot"):
        if not shutil.which(tool):
            return f"{tool} is not installed (util-linux / coreutils)"
    probe = subprocess.run(["unshare", "--mount", "sh", "-c", "mount -t tmpfs tmpfs /mnt 2>&1 || mount -t tmpfs tmpfs /media"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        return f"cannot make a private mount namespace: {probe.stdout or probe.stderr}"
    return None

"""Renders deploy/gateway/nginx.conf.template for a gateway that runs as a plain process."""
from __future__ import annotations

import os
import re
import shutil
import string
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "gateway" / "nginx.conf.template"


class NginxTemplate(string.Template):
    # Only ${UPPER_CASE} is a placeholder: nginx's $lower_case variables must pass through
    # untouched, and a misspelt or missing placeholder must fail the render (KeyError) instead
    # of reaching nginx.
    flags = 0
    pattern = r"""
        \$(?:
            (?P<escaped>(?!))
          | (?P<named>(?!))
          | \{(?P<braced>[A-Z][A-Z0-9_]*)\}
          | (?P<invalid>(?!))
        )
    """


def placeholders(text: str | None = None) -> set[str]:
    """Every ${NAME} the template expects (the compose file must provide the same set)."""
    text = TEMPLATE.read_text() if text is None else text
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)\}", text))


def render(values: dict[str, object], template: Path = TEMPLATE) -> str:
    return NginxTemplate(template.read_text()).substitute({k: str(v) for k, v in values.items()})


def write_config(nginx_dir: Path, values: dict[str, object]) -> Path:
    """Render into ``nginx_dir/nginx.conf`` (nginx creates the temp directories itself)."""
    nginx_dir.mkdir(parents=True, exist_ok=True)
    conf = nginx_dir / "nginx.conf"
    conf.write_text(render(values))
    return conf


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
    if not found:
        raise FileNotFoundError("nginx is not installed; run deploy/local/bootstrap.sh run")
    return found


def nginx_argv(nginx_dir: Path) -> list[str]:
    """``nginx -p DIR -c DIR/nginx.conf`` in the foreground: the runner owns the process."""
    directives = "daemon off;"
    if os.geteuid() == 0:
        # Started by root, nginx would hand requests to workers running as "nobody", who cannot
        # read a web root or run directory under a private (0700) home or temp directory. The
        # workers get what every other process of the stack has: the invoking user.
        import grp
        import pwd

        directives += f" user {pwd.getpwuid(os.geteuid()).pw_name} {grp.getgrgid(os.getegid()).gr_name};"
    return [nginx_binary(), "-p", str(nginx_dir), "-c", str(nginx_dir / "nginx.conf"), "-g", directives]


def local_values(*, run_dir: Path, logs_dir: Path, web_root: Path, host: str, gateway_port: int, status_port: int,
                 service_ports: dict[str, int], login_rate: str = "20r/s", login_burst: int = 400) -> dict[str, object]:
    """Template values for a gateway on this machine, in front of services on 127.0.0.1."""
    values: dict[str, object] = {
        "RUN_DIR": run_dir,
        "ERROR_LOG": logs_dir / "gateway.error.log",
        "ACCESS_LOG": logs_dir / "gateway.access.log",
        "WEB_ROOT": web_root,
        "GATEWAY_LISTEN": f"{host}:{gateway_port}",
        "STATUS_LISTEN": f"127.0.0.1:{status_port}",
        "STATUS_ALLOW": "127.0.0.1",
        "LOGIN_RATE": login_rate,
        "LOGIN_BURST": login_burst,
    }
    for service, port in service_ports.items():
        values[f"{service.upper()}_UPSTREAM"] = f"127.0.0.1:{port}"
    return values

"""Draws a dashboard's panels from a Prometheus server's data, where Grafana itself is not at hand
(this machine has no Grafana package): the same expressions, the same time range, one plot per
panel, into a PNG. The README's picture of the overview comes from the end-to-end test's
Prometheus through this (``EKINERJA_DASHBOARD_PNG=docs/img/overview.png``).

    python -m deploy.grafana.render http://127.0.0.1:9090 deploy/grafana/dashboards/ekinerja-overview.json out.png
"""
from __future__ import annotations

import json
import math
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests

WIB = timezone(timedelta(hours=7))


def expand(expr: str, rate_interval: str = "1m") -> str:
    """Grafana's variables, as Grafana would fill them for this range."""
    return expr.replace("$__rate_interval", rate_interval).replace("$service", ".*")


def query_range(base: str, expr: str, start: float, end: float, step: float) -> list[dict]:
    s = requests.Session()
    s.trust_env = False
    r = s.get(f"{base}/api/v1/query_range", params={"query": expr, "start": start, "end": end, "step": step}, timeout=30)
    body = r.json()
    if body.get("status") != "success":
        raise ValueError(f"{expr}: {body.get('error')}")
    return body["data"]["result"]


def legend(fmt: str, labels: dict) -> str:
    out = fmt
    for k, v in labels.items():
        out = out.replace("{{" + k + "}}", v)
    return out.replace("{{", "").replace("}}", "") or ", ".join(f"{k}={v}" for k, v in labels.items())


def render(base: str, dashboard: dict, out: Path, start: float, end: float, rate_interval: str = "1m",
           columns: int = 3) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    rows = math.ceil(len(panels) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(6 * columns, 3.2 * rows), squeeze=False)
    step = max(1.0, (end - start) / 240)
    for ax, panel in zip(axes.flat, panels):
        drawn = 0
        for target in panel["targets"]:
            for series in query_range(base, expand(target["expr"], rate_interval), start, end, step):
                xs = [datetime.fromtimestamp(float(t), WIB) for t, _ in series["values"]]
                ys = [float(v) for _, v in series["values"]]
                if any(math.isfinite(y) for y in ys):
                    ax.plot(xs, ys, linewidth=1.4, label=legend(target.get("legendFormat", ""), series["metric"]))
                    drawn += 1
        ax.set_title(panel["title"], fontsize=10, loc="left")
        unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "")
        if unit and unit != "short":
            ax.set_ylabel(unit, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_xlim(datetime.fromtimestamp(start, WIB), datetime.fromtimestamp(end, WIB))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz=WIB))
        ax.grid(alpha=0.3)
        if drawn:
            ax.legend(fontsize=6, loc="upper left", ncol=2)
        else:
            ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes, color="grey")
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    span = f"{datetime.fromtimestamp(start, WIB):%Y-%m-%d %H:%M:%S} – {datetime.fromtimestamp(end, WIB):%H:%M:%S} WIB"
    fig.suptitle(f"{dashboard['title']}   ({span}, data of an end-to-end test run)", fontsize=13, x=0.01, ha="left")
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=80)
    plt.close(fig)
    return out


def main(argv: list[str]) -> int:
    base, board, out = argv[:3]
    end = time.time()
    start = end - float(argv[3]) if len(argv) > 3 else end - 600
    render(base.rstrip("/"), json.loads(Path(board).read_text()), Path(out), start, end)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""One "today" (issue 12): the regency's calendar day is defined once, in ``ekinerja_common.clock``
(WIB), and no service or script defines its own or asks the machine's local clock for a date."""
import ast
import pathlib
from datetime import datetime, timezone

from ekinerja_common import clock

ROOT = pathlib.Path(__file__).resolve().parents[3]
# Where code runs that decides dates (tests may build fixed dates as they like).
CODE = [*ROOT.glob("services/*/*/*.py"), *ROOT.glob("bench/*.py"), *ROOT.glob("deploy/local/*.py"),
        *(p for p in ROOT.glob("libs/ekinerja_common/*.py") if p.name != "clock.py")]


# Approval's views read the day through the app (``create_app(today_fn=...)``, defaulting to
# ekinerja_common.clock.today) so a test can steer one app: that delegates, it defines nothing.
DELEGATES = {("services/approval/approval/http.py", "today")}


def _problems(path: pathlib.Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in ("today", "local_today") \
                and (str(path.relative_to(ROOT)), node.name) not in DELEGATES:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} defines {node.name}()")
        if isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
            if name == "ZoneInfo":
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} builds its own time zone")
            if (isinstance(f, ast.Attribute) and f.attr == "today" and isinstance(f.value, ast.Name)
                    and f.value.id in ("date", "datetime")):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} asks the machine's local clock for today")
            if isinstance(f, ast.Attribute) and f.attr == "now" and not node.args and not node.keywords:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} calls now() without a time zone")
    return found


def test_today_is_defined_once_and_nowhere_else():
    assert CODE, "no code found"
    assert [p for path in CODE for p in _problems(path)] == []


def test_today_is_the_wib_day_not_the_utc_one():
    # 18:30 UTC on 30 November is 01:30 on 1 December in Jakarta.
    assert clock.wib_date(datetime(2026, 11, 30, 18, 30, tzinfo=timezone.utc)).isoformat() == "2026-12-01"
    assert clock.wib_date(datetime(2026, 11, 30, 16, 59)).isoformat() == "2026-11-30"  # naive = UTC
    assert clock.today() == clock.wib_date(datetime.now(timezone.utc))

"""DIGINETICA purchases + sampled views as interaction tuples, read independently of the TS
loader (packages/graph/test/support/diginetica.ts) but with the same conventions:
user = u<userId> or s<sessionId> when NA; ts = eventdate (UTC) + timeframe ms; eventId =
p<line>/v<line>; sorted by (ts, eventId)."""
import calendar
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _day_ms(date: str) -> int:
    return calendar.timegm(time.strptime(date, "%Y-%m-%d")) * 1000


def load(root: Path = ROOT):
    """Returns [(ts, event_id, type, user, item)]."""
    out = []
    lines = (root / "data/diginetica/train-purchases.csv").read_text().split("\n")
    for i, line in enumerate(lines[1:], start=1):
        line = line.strip()
        if not line:
            continue
        session, user, timeframe, date, _order, item = line.split(";")
        u = f"s{session}" if user == "NA" else f"u{user}"
        out.append((_day_ms(date) + int(timeframe), f"p{i}", "purchase", u, item))
    lines = (root / "data/diginetica/sample_train-item-views.csv").read_text().split("\n")
    for i, line in enumerate(lines[1:], start=1):
        line = line.strip()
        if not line:
            continue
        session, user, item, timeframe, date = line.split(";")
        u = f"s{session}" if user == "NA" else f"u{user}"
        out.append((_day_ms(date) + int(timeframe), f"v{i}", "view", u, item))
    out.sort(key=lambda e: (e[0], e[1]))
    return out

"""The report of `make bench`: each result's ratios to the baseline and its validity, the
table, and the notes and warnings under it. The groups' own summary lines (ops board, care team,
outbox, race) are printed by their modules' `report` functions; bench/run.py writes results.json.
"""
from __future__ import annotations

from typing import Any

from runner import answers_text


def ratio(value: float | None, base: float | None) -> float | None:
    if value is None or not base:
        return None
    return round(value / base, 3)


def score(results: list[dict[str, Any]]) -> None:
    """Adds to each result its ratios to the first one (the baseline) and whether it is valid."""
    base = results[0]
    for r in results:
        r["rps_ratio"] = ratio(r["requests_per_sec"], base["requests_per_sec"])
        r["p50_ratio"] = ratio(r["latency_ms"]["p50"], base["latency_ms"]["p50"])
        r["p95_ratio"] = ratio(r["latency_ms"].get("p95"), base["latency_ms"].get("p95"))
        r["p99_ratio"] = ratio(r["latency_ms"]["p99"], base["latency_ms"]["p99"])
        errors = sum(r["socket_errors"].values())
        if r["valid_answers"] is None:
            r["valid"] = r["non_2xx_3xx"] == 0 and errors == 0
        else:  # the script counted every answer; each must be one of the valid ones
            counted = r["answers"] or {}
            r["valid"] = (errors == 0 and sum(counted.values()) == r["requests"]
                          and all(key in r["valid_answers"] for key in counted))


def print_table(results: list[dict[str, Any]]) -> None:
    header = ("scenario", "req/s", "p50 ms", "p95 ms", "p99 ms", "req/s vs bare", "p50 vs bare", "p95 vs bare",
              "SQL/req", "non-2xx")
    rows = []
    for r in results:
        rows.append((
            r["name"],
            f"{r['requests_per_sec']:.0f}",
            f"{r['latency_ms']['p50']:.2f}",
            f"{r['latency_ms']['p95']:.2f}" if "p95" in r["latency_ms"] else "-",
            f"{r['latency_ms']['p99']:.2f}",
            f"{r['rps_ratio']:.2f}x" if r["rps_ratio"] is not None else "-",
            f"{r['p50_ratio']:.2f}x" if r["p50_ratio"] is not None else "-",
            f"{r['p95_ratio']:.2f}x" if r.get("p95_ratio") is not None else "-",
            str(r.get("queries_per_request", "-")),
            str(r["non_2xx_3xx"]),
        ))
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    fmt = "  ".join(["{:<%d}" % widths[0]] + ["{:>%d}" % w for w in widths[1:]])
    print(fmt.format(*header))
    print(fmt.format(*("-" * w for w in widths)))
    for row in rows:
        print(fmt.format(*row))


def print_notes(results: list[dict[str, Any]]) -> None:
    """Under the table: counted answers, and why a result is not valid (WARNING) or repeated itself."""
    for r in results:
        if r["valid_answers"] is not None:
            print(f"{r['name']}: answers {answers_text(r['answers'] or {})} "
                  f"(valid: {', '.join(r['valid_answers'])})")
            if not r["valid"] and not any(r["socket_errors"].values()):
                print(f"WARNING: {r['name']}: answers other than {', '.join(r['valid_answers'])} (or not all "
                      "counted); this result is not valid")
        elif r["non_2xx_3xx"]:
            print(f"WARNING: {r['name']}: {r['non_2xx_3xx']} non-2xx/3xx responses; this result is not valid")
        if r["distinct_requests"] is not None and (r["requests"] or 0) > r["distinct_requests"]:
            print(f"note: {r['name']}: {r['requests']} requests for {r['distinct_requests']} different ones: "
                  "the list ran out and the rest repeated it (for booking: 409s; raise "
                  "BOOKINGS_PER_WORKER_SECOND in bench/scenarios.py)")
        if any(r["socket_errors"].values()):
            errs = ", ".join(f"{k} {v}" for k, v in r["socket_errors"].items())
            print(f"WARNING: {r['name']}: socket errors ({errs}); this result is not valid")

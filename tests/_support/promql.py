"""Metric names referenced by the Grafana dashboards and the Prometheus alerting rules.

``metric_names_in_dashboards(repo)`` maps each source file (a path relative to ``repo``) to the metric
names its PromQL expressions select: every Grafana panel target's ``expr`` (rows and nested panels
included, plus the metric inside ``label_values(...)``/``query_result(...)`` template variables) and
every rule's ``expr`` in ``dashboards/prometheus/*.yml`` files that hold rule groups.

The extraction is a small PromQL tokenizer rather than a regex over the whole text, so that these are
never mistaken for metric names: function and aggregation names, keywords (``by``, ``without``, ``on``,
``ignoring``, ``group_left``, ``group_right``, ``bool``, ``offset``, ``and``/``or``/``unless``,
``inf``/``nan``), label names and values inside ``{...}``, the label lists of ``by/without/on/ignoring/
group_left/group_right (...)``, range and subquery brackets ``[5m]``/``[1h:1m]``, durations, numbers,
string literals, comments, and Grafana variables (``$__rate_interval``, ``${var}``, ``[[var]]``).
A selector written as ``{__name__="metric"}`` yields ``metric``.

``catalogue_series_names(module)`` lists the series names a module of prometheus_client metric objects
exposes (``_total`` for counters, ``_bucket``/``_sum``/``_count`` for histograms, ...), to compare
against. Recording rules are not resolved: Hypercare's rule files define none.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

DASHBOARD_GLOB = "dashboards/grafana/dashboards/*.json"
RULES_GLOB = "dashboards/prometheus/*.yml"

# Keywords that look like identifiers but never name a metric (PromQL is case-insensitive for these).
KEYWORDS = frozenset(
    {
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "bool",
        "offset",
        "and",
        "or",
        "unless",
        "atan2",
        "inf",
        "nan",
        "start",
        "end",
    }
)
# Keywords followed by a parenthesised list of label names.
LABEL_LIST_KEYWORDS = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})
# Aggregation operators: ``sum by (x) (...)`` puts the grouping before the parentheses.
AGGREGATIONS = frozenset(
    {
        "sum",
        "min",
        "max",
        "avg",
        "group",
        "stddev",
        "stdvar",
        "count",
        "count_values",
        "bottomk",
        "topk",
        "quantile",
        "limitk",
        "limit_ratio",
    }
)

_IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_NUMBER = re.compile(r"0[xX][0-9a-fA-F]+|(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?(?:(?:ms|[smhdwy])\d*)*")
_GRAFANA_VAR = re.compile(r"\$\{[^}]*\}|\[\[[^\]]*\]\]|\$[A-Za-z_][A-Za-z0-9_]*")
_NAME_MATCHER = re.compile(r"""__name__\s*=\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|`([^`]*)`)""")
_TEMPLATE_CALL = re.compile(r"^\s*(label_values|query_result|label_names|metrics)\s*\((.*)\)\s*$", re.DOTALL)


def _skip_string(text: str, i: int) -> int:
    """Index just past the string literal starting at ``text[i]`` (a quote character)."""
    quote = text[i]
    i += 1
    while i < len(text):
        if text[i] == "\\" and quote != "`":
            i += 2
            continue
        if text[i] == quote:
            return i + 1
        i += 1
    return i


def _skip_balanced(text: str, i: int, open_: str, close: str) -> tuple[int, str]:
    """From ``text[i] == open_`` to just past its matching ``close``; returns (end, inner text)."""
    depth = 0
    start = i
    while i < len(text):
        char = text[i]
        if char in "\"'`":
            i = _skip_string(text, i)
            continue
        if char == open_:
            depth += 1
        elif char == close:
            depth -= 1
            if depth == 0:
                return i + 1, text[start + 1 : i]
        i += 1
    return i, text[start + 1 :]


def _next_significant(text: str, i: int) -> int:
    while i < len(text) and text[i].isspace():
        i += 1
    return i


def metric_names_in_expr(expr: str) -> set[str]:
    """Metric names selected by one PromQL expression (Grafana variables allowed)."""
    text = _GRAFANA_VAR.sub(" ", expr)
    names: set[str] = set()
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
        elif char == "#":  # comment to the end of the line
            newline = text.find("\n", i)
            i = len(text) if newline < 0 else newline + 1
        elif char in "\"'`":
            i = _skip_string(text, i)
        elif char == "{":  # label matchers: only a __name__ matcher names a metric
            i, inner = _skip_balanced(text, i, "{", "}")
            for match in _NAME_MATCHER.finditer(inner):
                names.add(next(group for group in match.groups() if group is not None))
        elif char == "[":  # range or subquery: durations, steps, variables
            i, _ = _skip_balanced(text, i, "[", "]")
        elif char.isdigit() or (char == "." and i + 1 < len(text) and text[i + 1].isdigit()):
            number = _NUMBER.match(text, i)
            i = number.end() if number else i + 1
        elif ident := _IDENT.match(text, i):
            word = ident.group(0)
            i = ident.end()
            after = _next_significant(text, i)
            lower = word.lower()
            following = _IDENT.match(text, after)
            if lower in LABEL_LIST_KEYWORDS:
                if after < len(text) and text[after] == "(":
                    i, _ = _skip_balanced(text, after, "(", ")")
            elif lower in KEYWORDS:
                pass
            elif after < len(text) and text[after] == "(":
                pass  # a function or an aggregation called with parentheses
            elif lower in AGGREGATIONS and following and following.group(0).lower() in ("by", "without"):
                pass  # ``sum by (label) (expr)``
            else:
                names.add(word)
        else:
            i += 1
    return names


def metric_names_in_template_query(query: str) -> set[str]:
    """Metric names in a Grafana Prometheus template-variable query."""
    match = _TEMPLATE_CALL.match(query)
    if not match:
        return metric_names_in_expr(query)
    function, args = match.group(1), match.group(2)
    if function == "query_result":
        return metric_names_in_expr(args)
    if function == "label_values":
        # label_values(label) or label_values(series_selector, label): only the selector names a metric.
        depth = 0
        for index, char in enumerate(args):
            if char in "({[":
                depth += 1
            elif char in ")}]":
                depth -= 1
            elif char == "," and depth == 0:
                return metric_names_in_expr(args[:index])
        return set()
    return set()  # label_names(), metrics(regex): no metric selected


def _panels(panels: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels") or [])


def dashboard_exprs(dashboard: dict[str, Any]) -> list[str]:
    """Every panel target's ``expr`` (rows' nested panels included)."""
    exprs = []
    for panel in _panels(dashboard.get("panels") or []):
        for target in panel.get("targets") or []:
            expr = target.get("expr")
            if isinstance(expr, str) and expr.strip():
                exprs.append(expr)
    return exprs


def dashboard_template_queries(dashboard: dict[str, Any]) -> list[str]:
    queries = []
    for variable in (dashboard.get("templating") or {}).get("list") or []:
        if variable.get("type") != "query":
            continue
        query = variable.get("query")
        if isinstance(query, dict):
            query = query.get("query")
        if isinstance(query, str) and query.strip():
            queries.append(query)
    return queries


def rule_exprs(document: Any) -> list[str]:
    """Every rule's ``expr`` in a Prometheus rule file (alerting and recording rules)."""
    if not isinstance(document, dict):
        return []
    exprs = []
    for group in document.get("groups") or []:
        for rule in group.get("rules") or []:
            expr = rule.get("expr")
            if isinstance(expr, str) and expr.strip():
                exprs.append(expr)
    return exprs


def metric_names_in_dashboards(repo: Path) -> dict[str, set[str]]:
    """Source file (relative to ``repo``) -> metric names referenced by its PromQL expressions."""
    repo = Path(repo)
    found: dict[str, set[str]] = {}
    for path in sorted(repo.glob(DASHBOARD_GLOB)):
        dashboard = json.loads(path.read_text(encoding="utf-8"))
        names: set[str] = set()
        for expr in dashboard_exprs(dashboard):
            names |= metric_names_in_expr(expr)
        for query in dashboard_template_queries(dashboard):
            names |= metric_names_in_template_query(query)
        found[path.relative_to(repo).as_posix()] = names
    for path in sorted(repo.glob(RULES_GLOB)):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not (isinstance(document, dict) and "groups" in document):
            continue  # prometheus.yml and other non-rule files
        names = set()
        for expr in rule_exprs(document):
            names |= metric_names_in_expr(expr)
        found[path.relative_to(repo).as_posix()] = names
    return found


def all_exprs(repo: Path) -> dict[str, list[str]]:
    """Source file -> the raw PromQL expressions (dashboard targets and rules), for syntax checks."""
    repo = Path(repo)
    found: dict[str, list[str]] = {}
    for path in sorted(repo.glob(DASHBOARD_GLOB)):
        found[path.relative_to(repo).as_posix()] = dashboard_exprs(json.loads(path.read_text(encoding="utf-8")))
    for path in sorted(repo.glob(RULES_GLOB)):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(document, dict) and "groups" in document:
            found[path.relative_to(repo).as_posix()] = rule_exprs(document)
    return found


_SUFFIXES = {
    "counter": ("_total",),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count"),
    "summary": ("", "_sum", "_count"),
    "info": ("_info",),
    "stateset": ("",),
    "enum": ("",),
}


def catalogue_series_names(module: ModuleType) -> set[str]:
    """Series names exposed by the prometheus_client metrics defined in ``module``.

    Counter objects keep their name without ``_total`` (``_name``); their ``_created`` series and a
    histogram's ``_created`` are left out on purpose: dashboards should not use them.
    """
    from prometheus_client.metrics import MetricWrapperBase

    names: set[str] = set()
    for value in vars(module).values():
        if not isinstance(value, MetricWrapperBase):
            continue
        base: str = value._name
        kind: str = value._type or ""
        names.update(base + suffix for suffix in _SUFFIXES.get(kind, ("",)))
    return names

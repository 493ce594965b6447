"""Numbers for the Quality and Escalations pages that the core tables do not give directly.

Pure functions over a :class:`~tsdash.dataset.Dataset` and a :class:`~tsdash.metrics.Filter`
(no Streamlit). Everything is built from the engine's own populations and tables, so a count
here always adds up to the engine's count:

- :func:`qa_agents` -- the ``qa-agents`` report: per agent QA mean score and pass rate with
  estimates shrunk toward the team (empirical Bayes; the definitions ``qa_mean_shrunk`` and
  ``qa_pass_rate_shrunk`` in docs/METRICS.md). The math is in :func:`normal_shrinkage` and
  :func:`beta_binomial_shrinkage`.
- :func:`criterion_gaps` -- agent x criterion mean against the team's criterion mean.
- :func:`speed_vs_quality` / :func:`escalation_vs_quality` -- per agent, two engine numbers side by side.
- :func:`escalations_by_reason` -- the escalated cases (the escalation rate's numerator) split by
  ``escalation_reason``; :func:`open_escalations` -- open escalations oldest first.
- Drill-downs the engine's ``cases_behind`` cannot select on: :func:`escalated_cases_by_reason`,
  :func:`criterion_reviews`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from tsdash.dataset import Dataset
from tsdash.metrics import tables as t
from tsdash.metrics.core import MetricError, check_by, empty_table, finish, pin, view, with_time_keys
from tsdash.metrics.filters import Filter

F64 = pl.Float64()
I64 = pl.Int64()
NO_REASON = "(no reason given)"

# --------------------------------------------------------------------------------------------
# shrinkage (empirical Bayes)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pooling:
    """What the team's agents say about each other.

    ``center``: the team value (mean of all reviews / share of all reviews that pass);
    ``within``: the variance of one review (pooled within-agent variance sigma^2 for scores,
    p(1 - p) for pass/fail); ``between``: tau^2, the variance of the agents' true values around
    the center (DerSimonian-Laird); ``prior_n`` (pass rates only): the prior's weight in reviews,
    M = p(1 - p) / tau^2 - 1 (``inf`` when tau^2 = 0: every agent gets the team rate).
    ``shrunk`` is False when there was nothing to pool (one agent, or no spread to estimate).
    """

    center: float | None
    within: float | None
    between: float | None
    prior_n: float | None = None
    shrunk: bool = True


def _dl_tau2(n: Sequence[float], values: Sequence[float], center: float, within: float) -> float:
    """DerSimonian-Laird between-agent variance: w_i = n_i / within, Q = sum w_i (v_i - c)^2,
    tau^2 = max(0, (Q - (k - 1)) / (sum w - sum w^2 / sum w))."""
    k = len(n)
    w = [ni / within for ni in n]
    w1 = sum(w)
    w2 = sum(wi * wi for wi in w)
    q = sum(wi * (v - center) ** 2 for wi, v in zip(w, values, strict=True))
    denom = w1 - w2 / w1
    if denom <= 0:
        return 0.0
    return max(0.0, (q - (k - 1)) / denom)


def normal_shrinkage(
    n: Sequence[int], mean: Sequence[float], var: Sequence[float | None]
) -> tuple[list[float], list[float], Pooling]:
    """Shrink each agent's mean score toward the team mean (normal-normal empirical Bayes).

    mu = sum n_i m_i / sum n_i; sigma^2 = sum (n_i - 1) s_i^2 / sum (n_i - 1) over agents with
    n_i >= 2; tau^2 by DerSimonian-Laird with w_i = n_i / sigma^2; weight B_i = tau^2 / (tau^2 +
    sigma^2 / n_i); shrunk_i = mu + B_i (m_i - mu). With one agent, no agent with two reviews, or
    sigma^2 = 0, nothing is pooled (B_i = 1). Returns (shrunk, weights, pooling).

    >>> s, b, p = normal_shrinkage([2, 1, 1], [90.0, 70.0, 80.0], [50.0, None, None])
    >>> [round(x, 2) for x in s], p.between
    ([88.03, 75.21, 81.04], 70.0)
    """
    k = len(n)
    if k == 0:
        return [], [], Pooling(None, None, None, shrunk=False)
    total = sum(n)
    mu = sum(ni * mi for ni, mi in zip(n, mean, strict=True)) / total
    df = sum(ni - 1 for ni in n if ni >= 2)
    ss = sum((ni - 1) * (vi or 0.0) for ni, vi in zip(n, var, strict=True) if ni >= 2)
    sigma2 = ss / df if df > 0 else None
    if k == 1 or sigma2 is None or sigma2 <= 0:
        return list(mean), [1.0] * k, Pooling(mu, sigma2, None, shrunk=False)
    tau2 = _dl_tau2(n, mean, mu, sigma2)
    # tau^2 = 0: the spread is what chance gives, B_i = 0 (written out: with a sigma^2 so small
    # that sigma^2 / n_i underflows to 0, the ratio would be 0 / 0)
    weights = [tau2 / (tau2 + sigma2 / ni) if tau2 > 0 else 0.0 for ni in n]
    shrunk = [mu + b * (mi - mu) for b, mi in zip(weights, mean, strict=True)]
    return shrunk, weights, Pooling(mu, sigma2, tau2)


def beta_binomial_shrinkage(x: Sequence[int], n: Sequence[int]) -> tuple[list[float], list[float], Pooling]:
    """Shrink each agent's pass rate toward the team's (beta-binomial empirical Bayes).

    p = sum x_i / sum n_i; tau^2 by DerSimonian-Laird with w_i = n_i / (p (1 - p)); the prior is
    Beta(M p, M (1 - p)) with M = p (1 - p) / tau^2 - 1 (at least 0), so the posterior mean is
    shrunk_i = (x_i + M p) / (n_i + M), weight n_i / (n_i + M). tau^2 = 0 (the spread is what
    chance alone gives) means M = inf: every agent gets p. With one agent or p in {0, 1} nothing
    is pooled. Returns (shrunk, weights, pooling).

    >>> s, b, p = beta_binomial_shrinkage([1, 0, 1], [2, 1, 1])
    >>> s, p.prior_n
    ([0.5, 0.5, 0.5], inf)
    """
    k = len(n)
    if k == 0:
        return [], [], Pooling(None, None, None, shrunk=False)
    rates = [xi / ni for xi, ni in zip(x, n, strict=True)]
    p = sum(x) / sum(n)
    v = p * (1 - p)
    if k == 1 or v <= 0:
        return rates, [1.0] * k, Pooling(p, v, None, shrunk=False)
    tau2 = _dl_tau2(n, rates, p, v)
    if tau2 <= 0:
        return [p] * k, [0.0] * k, Pooling(p, v, 0.0, math.inf)
    m = max(0.0, v / tau2 - 1.0)
    shrunk = [(xi + m * p) / (ni + m) for xi, ni in zip(x, n, strict=True)]
    weights = [ni / (ni + m) for ni in n]
    return shrunk, weights, Pooling(p, v, tau2, m)


# --------------------------------------------------------------------------------------------
# qa-agents report
# --------------------------------------------------------------------------------------------

QA_AGENTS_BY = ("agent_id",)
QA_AGENTS_VALUES = ("reviews", "mean_score", "mean_score_shrunk", "pass_rate", "pass_rate_shrunk")


def qa_agents(
    ds: Dataset,
    f: Filter,
    by: Sequence[str] | None = None,
    *,
    detail: bool = False,
    pass_mark: float = t.DEFAULT_PASS_MARK,
) -> pl.DataFrame:
    """Per reviewed agent: QA reviews, mean score and pass rate (as the ``quality`` table) and
    both shrunk toward the team of agents shown (see :func:`normal_shrinkage`,
    :func:`beta_binomial_shrinkage`). ``detail`` adds passes, critical errors, the 95 % intervals
    of the raw values, the shrinkage weights and the team values."""
    by = check_by("qa-agents", QA_AGENTS_BY if by is None else by, QA_AGENTS_BY)
    if by != QA_AGENTS_BY:
        raise MetricError("qa-agents: it is per agent; use --by agent_id")
    values: dict[str, pl.DataType] = dict.fromkeys(QA_AGENTS_VALUES, F64) | {"reviews": I64}
    if detail:
        values |= {
            "passes": I64,
            "critical_errors": I64,
            "mean_score_ci_low": F64,
            "mean_score_ci_high": F64,
            "pass_rate_ci_low": F64,
            "pass_rate_ci_high": F64,
            "mean_score_weight": F64,
            "pass_rate_weight": F64,
            "team_mean_score": F64,
            "team_pass_rate": F64,
        }
    f = pin(f)
    q = t.quality(ds, f, by, detail=True, pass_mark=pass_mark)
    if q.height == 0:
        return empty_table(by, values)
    var = (
        t.pop_reviews(view(ds, f))
        .group_by("agent_id")
        .agg(pl.col("score").var(ddof=1).alias("_var"))
        .collect()
    )
    q = q.join(var, on="agent_id", how="left")
    n, mean, passes = q["reviews"].to_list(), q["mean_score"].to_list(), q["passes"].to_list()
    ms, mw, mp = normal_shrinkage(n, mean, q["_var"].to_list())
    ps, pw, pp = beta_binomial_shrinkage(passes, n)
    out = q.with_columns(
        pl.Series("mean_score_shrunk", ms, dtype=F64),
        pl.Series("pass_rate_shrunk", ps, dtype=F64),
        pl.Series("mean_score_weight", mw, dtype=F64),
        pl.Series("pass_rate_weight", pw, dtype=F64),
        pl.lit(mp.center, dtype=F64).alias("team_mean_score"),
        pl.lit(pp.center, dtype=F64).alias("team_pass_rate"),
    )
    return finish(out, by, values)


def qa_pooling(ds: Dataset, f: Filter, *, pass_mark: float = t.DEFAULT_PASS_MARK) -> tuple[Pooling, Pooling]:
    """The (mean score, pass rate) :class:`Pooling` behind :func:`qa_agents` (for help texts)."""
    f = pin(f)
    q = t.quality(ds, f, ("agent_id",), detail=True, pass_mark=pass_mark)
    if q.height == 0:
        return Pooling(None, None, None, shrunk=False), Pooling(None, None, None, shrunk=False)
    var = (
        t.pop_reviews(view(ds, f))
        .group_by("agent_id")
        .agg(pl.col("score").var(ddof=1).alias("_var"))
        .collect()
    )
    q = q.join(var, on="agent_id", how="left")
    _, _, mp = normal_shrinkage(q["reviews"].to_list(), q["mean_score"].to_list(), q["_var"].to_list())
    _, _, pp = beta_binomial_shrinkage(q["passes"].to_list(), q["reviews"].to_list())
    return mp, pp


# --------------------------------------------------------------------------------------------
# per-agent comparisons
# --------------------------------------------------------------------------------------------


def criterion_gaps(ds: Dataset, f: Filter) -> pl.DataFrame:
    """Agent x criterion: agent_id, criterion, scores, mean_score (the ``qa-criteria`` table by
    agent and criterion), team_mean (the criterion's mean over all agents shown) and
    gap = mean_score - team_mean (negative: the criterion pulls the agent down)."""
    f = pin(f)
    cell = t.qa_criteria(ds, f, ("agent_id", "criterion"))
    team = t.qa_criteria(ds, f, ("criterion",)).select("criterion", pl.col("mean_score").alias("team_mean"))
    return (
        cell.join(team, on="criterion", how="left")
        .with_columns((pl.col("mean_score") - pl.col("team_mean")).alias("gap"))
        .sort("agent_id", "criterion")
    )


def speed_vs_quality(ds: Dataset, f: Filter, *, pass_mark: float = t.DEFAULT_PASS_MARK) -> pl.DataFrame:
    """Per agent with QA reviews in the window: cases and aht_s (``handle-time`` by agent) beside
    reviews, mean_score, pass_rate and critical_errors (``quality`` by agent). Agents without
    resolved cases with a handle time have null AHT."""
    f = pin(f)
    q = t.quality(ds, f, ("agent_id",), pass_mark=pass_mark)
    h = t.handle_time(ds, f, ("agent_id",)).select("agent_id", "cases", "aht_s")
    return q.join(h, on="agent_id", how="left").sort("agent_id")


def escalation_vs_quality(
    ds: Dataset,
    f: Filter,
    *,
    pass_mark: float = t.DEFAULT_PASS_MARK,
    min_cases: int = 30,
    min_reviews: int = 5,
) -> pl.DataFrame:
    """Per agent: escalation rate (``escalations`` by agent, with Wilson interval) beside the QA
    mean score (``quality`` by agent). Agents with cases but no reviews have a null score.
    ``few`` marks agents with fewer than ``min_cases`` created cases or fewer than ``min_reviews``
    reviews: their position on either axis is mostly chance. Unassigned cases are left out."""
    f = pin(f)
    e = t.escalations(ds, f, ("agent_id",), detail=True).filter(pl.col("agent_id").is_not_null())
    q = t.quality(ds, f, ("agent_id",), pass_mark=pass_mark).select(
        "agent_id", "reviews", "mean_score", "pass_rate"
    )
    out = e.join(q, on="agent_id", how="full", coalesce=True).with_columns(
        pl.col("created", "escalated", "reviews").fill_null(0)
    )
    return out.with_columns(
        ((pl.col("created") < min_cases) | (pl.col("reviews") < min_reviews)).alias("few")
    ).sort("agent_id")


def medians(df: pl.DataFrame, *cols: str, where: pl.Expr | None = None) -> dict[str, float | None]:
    """The median of each column over the rows (optionally those matching ``where``), nulls ignored."""
    d = df.filter(where) if where is not None else df
    return {c: (d[c].drop_nulls().median() if d.height else None) for c in cols}


# --------------------------------------------------------------------------------------------
# escalations
# --------------------------------------------------------------------------------------------

REASON_BY = ("date", "week", "queue", "priority", "case_type", "channel", "team", "agent_id")


def escalations_by_reason(ds: Dataset, f: Filter, by: Sequence[str] = ("week",)) -> pl.DataFrame:
    """The escalated cases of the escalation rate (cases created in the period and escalated
    before as-of), split by escalation_reason: ``by`` keys, escalation_reason (null reasons read
    as :data:`NO_REASON`), escalated, created (all cases created in the group, the rate's
    denominator) and share = escalated / created. Rows only for reasons with escalations; the
    escalated counts of a group add up to the ``escalations`` table's ``escalated``."""
    by = check_by("escalations-by-reason", by, REASON_BY)
    f = pin(f)
    v = view(ds, f)
    pop = with_time_keys(t.pop_created(v), "ts", by, v.tz)
    keys = list(by)
    created = (
        pop.group_by(keys).agg(pl.len().cast(pl.Int64).alias("created"))
        if keys
        else pop.select(pl.len().cast(pl.Int64).alias("created"))
    ).collect()
    esc = (
        pop.filter(pl.col("escalated"))
        .with_columns(pl.col("escalation_reason").fill_null(NO_REASON))
        .group_by([*keys, "escalation_reason"])
        .agg(pl.len().cast(pl.Int64).alias("escalated"))
        .collect()
    )
    schema = {**{k: pl.Date() if k in ("date", "week") else pl.String() for k in keys}}
    schema |= {"escalation_reason": pl.String(), "escalated": I64, "created": I64, "share": F64}
    if esc.height == 0:
        return pl.DataFrame(schema=schema)
    out = esc.join(created, on=keys, how="left", nulls_equal=True) if keys else esc.join(created, how="cross")
    out = out.with_columns((pl.col("escalated") / pl.col("created")).alias("share"))
    return out.select([pl.col(c).cast(dt_) for c, dt_ in schema.items()]).sort(
        [*keys, "escalation_reason"], nulls_last=True
    )


def reason_totals(ds: Dataset, f: Filter) -> pl.DataFrame:
    """Escalated cases per reason over the whole window, most frequent first (for legend order)."""
    df = escalations_by_reason(ds, f, ())
    return df.sort(["escalated", "escalation_reason"], descending=[True, False])


def open_escalations(ds: Dataset, f: Filter) -> pl.DataFrame:
    """Cases open at as-of with an unresolved escalation (the ``open_escalations`` measure of
    ``backlog-now``), oldest escalation first, with escalation_age_s = as-of - escalated_at and
    the case's age_s. The date window does not apply (a snapshot)."""
    from tsdash.metrics.overview import cases_behind

    f = pin(f)
    df = cases_behind(ds, f, "backlog-now", "open_escalations")
    as_of = f.resolved_as_of()
    return df.with_columns(t.seconds(pl.lit(as_of), "escalated_at").alias("escalation_age_s")).sort(
        ["escalated_at", "case_id"], nulls_last=True
    )


def escalated_cases_by_reason(ds: Dataset, f: Filter, reason: str | None, **selection: Any) -> pl.DataFrame:
    """The escalated cases behind one (reason, group) element of :func:`escalations_by_reason`:
    ``cases_behind(ds, f, "escalations", "escalated", **selection)`` with the given reason
    (:data:`NO_REASON` or None selects cases without a reason)."""
    from tsdash.metrics.overview import cases_behind

    df = cases_behind(ds, f, "escalations", "escalated", **selection)
    if reason is None or reason == NO_REASON:
        return df.filter(pl.col("escalation_reason").is_null())
    return df.filter(pl.col("escalation_reason") == reason)


def criterion_reviews(
    ds: Dataset, f: Filter, *, agent_id: str | None = None, criterion: str | None = None, **selection: Any
) -> pl.DataFrame:
    """The reviews behind an agent x criterion cell: the ``qa-criteria`` rows (review_id, criterion,
    criterion score as ``criterion_score``) joined to their review (case_id, overall score,
    critical_error, comment, reviewer), oldest first."""
    from tsdash.metrics.overview import cases_behind

    sel = dict(selection)
    if agent_id is not None:
        sel["agent_id"] = agent_id
    if criterion is not None:
        sel["criterion"] = criterion
    crit = cases_behind(ds, f, "qa-criteria", **sel).select(
        "review_id", "criterion", pl.col("score").alias("criterion_score")
    )
    reviews = ds.qa_reviews.select(
        "review_id", "case_id", "agent_id", "reviewed_at", "score", "critical_error", "reviewer_id", "comment"
    ).unique("review_id", keep="first")
    return (
        crit.join(reviews, on="review_id", how="left")
        .select(
            "review_id",
            "case_id",
            "agent_id",
            "reviewed_at",
            "criterion",
            "criterion_score",
            "score",
            "critical_error",
            "reviewer_id",
            "comment",
        )
        .sort("reviewed_at", "review_id")
    )

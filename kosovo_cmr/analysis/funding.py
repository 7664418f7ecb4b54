"""Money and capacity, year by year: what the teams clear, what it costs, what is missing.

The engine of the forecast's named scenarios (:func:`kosovo_cmr.analysis.forecast.scenarios`),
on a :func:`kosovo_cmr.analysis.effort.clearance_effort` table. Every figure comes from a
data file: teams from ``layers/capacity.csv``, unit costs from ``layers/costs.csv``,
money from ``layers/scenarios.toml`` (:mod:`kosovo_cmr.programme`).

1. **Capacity** (:func:`capacity_plan`): teams per operator and year, from a capacity
   year's teams and the scenario's changes ("HALO has no team from 2026").
2. **Work** (:func:`run_programme`): each season, each operator's teams work its own
   hazards one after the other, high priority first, then medium, then low (ties by
   ``hazard_id``), all its teams on one task at a time, as
   :func:`kosovo_cmr.analysis.schedule.schedule` does with a constant capacity: *T* teams
   have *T* x ``working_days`` team-days a season.
3. **Money**: a *pot* pays a group of operators up to so many EUR a year. Where the work
   they would do in a season costs more than the pot holds, every team of the pot works
   the same share of the season, the share whose work costs exactly the pot's money.
   Money never adds a team: capacity is the most it pays for.
4. **Handover**: an operator left with no team, or no money, for every later year passes
   its open hazards to the ``handover`` operator, whose list is sorted again by priority.
5. **Cost**: team-days worked times the EUR per team-day of the operator that works them
   and the method (:func:`kosovo_cmr.programme.unit_cost`). An operator whose list is
   empty stands its teams down: idle teams cost nothing here.
6. **Funding gap** of a year: for each confirmed pot, what its operators' work costs
   beyond its money, plus the cost of the operators no confirmed pot pays.

Time is counted in seasons from the first day of the first season, as in
:mod:`kosovo_cmr.analysis.schedule`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kosovo_cmr.analysis.effort import ForecastWarning
from kosovo_cmr.analysis.schedule import PRIORITIES, season_to_year
from kosovo_cmr.errors import InputError
from kosovo_cmr.programme import unit_cost

__all__ = ["capacity_plan", "pot_budget", "run_programme", "ProgrammeRun", "year_ranges"]

#: A hazard whose remaining team-days fall under this share of its own is done.
_DONE = 1e-9
#: Steps of the bisection that finds the share of a season a pot's money pays for.
_BISECT = 80


def capacity_plan(teams: dict, *, changes=(), first_year: int, last_year: int) -> pd.DataFrame:
    """Teams per operator and year: a capacity year's teams and a scenario's changes.

    Parameters
    ----------
    teams : dict
        Operator -> teams at the start.
    changes : iterable of (operator, from_year, teams)
        From ``from_year`` on, the operator has ``teams`` (0: it has left).
    first_year, last_year : int
        The years of the plan.

    Returns
    -------
    pandas.DataFrame
        Index ``year``, one column of teams (float) per operator.

    Examples
    --------
    >>> plan = capacity_plan({"HALO": 9, "NPA": 5}, changes=[("HALO", 2026, 0)],
    ...                      first_year=2025, last_year=2027)
    >>> plan["HALO"].tolist(), plan["NPA"].tolist()
    ([9.0, 0.0, 0.0], [5.0, 5.0, 5.0])
    """
    years = pd.Index(range(int(first_year), int(last_year) + 1), name="year")
    plan = pd.DataFrame({op: float(n) for op, n in teams.items()}, index=years)
    for op, since, n in sorted(changes, key=lambda c: c[1]):
        plan.loc[plan.index >= since, op] = float(n)
    return plan.fillna(0.0)


def pot_budget(pot: dict, year: int) -> float:
    """Money a pot holds in a year: its ``eur_per_year`` between its first and last year.

    Examples
    --------
    >>> pot = {"eur_per_year": 1e6, "first_year": 2025, "last_year": 2025}
    >>> pot_budget(pot, 2025), pot_budget(pot, 2026)
    (1000000.0, 0.0)
    """
    first, last = pot.get("first_year") or 0, pot.get("last_year")
    if year < first or (last is not None and year > last):
        return 0.0
    return float(pot["eur_per_year"])


def _pot_operators(pot: dict, operators) -> list[str]:
    ops = list(pot["operators"])
    return list(operators) if "*" in ops else [op for op in ops if op in operators]


@dataclass
class ProgrammeRun:
    """What :func:`run_programme` computed.

    Attributes
    ----------
    schedule : DataFrame
        The work table in the first year's working order, with ``queue`` (the operator
        that finished it), ``handed_over`` (the operator it came from, or empty),
        ``teams`` (the queue's teams when the hazard started), ``working_days`` (elapsed
        working days from start to finish), ``start_season``, ``finish_season``,
        ``finish`` (decimal year), ``finish_year`` (NA: never done) and ``cost_eur``.
    years : DataFrame
        Per year and operator: ``teams`` (planned), ``funded_share`` (share of the season
        the money paid for), ``team_days``, ``area_m2`` and ``cost_eur`` of the work done.
    money : DataFrame
        Per year: ``cost_eur``, ``confirmed_eur`` (the confirmed pots' money),
        ``gap_eur`` (cost beyond the confirmed money each pot may pay) and ``binds``
        (whether a pot's money cut the capacity).
    """

    schedule: pd.DataFrame
    years: pd.DataFrame
    money: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    @property
    def binding_years(self) -> list[int]:
        """Years in which money cut the capacity."""
        return [int(y) for y in self.money.loc[self.money["binds"], "year"]]


class _State:
    """The open work: remaining team-days, times and cost per hazard, one list per operator."""

    def __init__(self, work: pd.DataFrame, costs: pd.DataFrame, operators):
        self.work = work
        self.total = work["team_days"].to_numpy(float)
        self.rem = self.total.copy()
        self.area = work["area_to_clear_m2"].to_numpy(float)
        self.methods = work["method"].astype(str).to_numpy()
        self.rank = (
            work["priority"]
            .map(lambda p: PRIORITIES.index(p) if p in PRIORITIES else len(PRIORITIES))
            .to_numpy()
        )
        self.ids = work["hazard_id"].astype(str).to_numpy()
        n = len(work)
        self.start, self.finish = np.full(n, np.nan), np.full(n, np.nan)
        self.cost, self.teams = np.zeros(n), np.full(n, np.nan)
        self.from_op = np.array([""] * n, dtype=object)
        self.done_by = np.array([""] * n, dtype=object)
        own = work["operator"].fillna("(none)").astype(str).to_numpy()
        self.queues = {op: [] for op in operators}
        for i in range(n):
            self.queues.setdefault(own[i], []).append(i)
        for op in self.queues:
            self.sort(op)
        self._unit = {}
        self.costs = costs

    def sort(self, op: str) -> None:
        self.queues[op].sort(key=lambda i: (self.rank[i], self.ids[i]))

    def unit(self, op: str, i: int) -> float:
        key = (op, self.methods[i])
        if key not in self._unit:
            self._unit[key] = unit_cost(self.costs, op, self.methods[i])
        return self._unit[key]

    def cost_of(self, op: str, capacity: float) -> float:
        """Cost of the work ``op``'s list would take from ``capacity`` team-days (no change)."""
        left, cost = capacity, 0.0
        for i in self.queues[op]:
            if left <= 0:
                break
            take = min(self.rem[i], left)
            cost += take * self.unit(op, i)
            left -= take
        return cost

    def work_season(self, op: str, capacity: float, k: int, teams: float) -> tuple:
        """Work ``op``'s list for season ``k`` with ``capacity`` team-days; return the totals."""
        used, cost, area = 0.0, 0.0, 0.0
        for i in list(self.queues[op]):
            if capacity <= 0 or used >= capacity * (1 - _DONE):
                break
            if np.isnan(self.start[i]):
                self.start[i], self.teams[i] = k + used / capacity, teams
            take = min(self.rem[i], capacity - used)
            used += take
            self.rem[i] -= take
            cost += take * self.unit(op, i)
            self.cost[i] += take * self.unit(op, i)
            area += self.area[i] * (take / self.total[i] if self.total[i] > 0 else 1.0)
            if self.rem[i] <= _DONE * max(self.total[i], 1.0):
                self.rem[i] = 0.0
                self.finish[i] = k + used / capacity
                self.done_by[i] = op
                self.queues[op].remove(i)
        return used, cost, area

    def close_empty(self, k: int) -> None:
        """Hazards with no work at all are done when the work starts."""
        for op, queue in self.queues.items():
            for i in [i for i in queue if self.total[i] <= 0]:
                self.start[i] = self.finish[i] = float(k)
                self.done_by[i] = op
                queue.remove(i)

    def hand_over(self, op: str, to: str) -> None:
        moved = self.queues[op]
        for i in moved:
            if not self.from_op[i]:
                self.from_op[i] = op
        self.queues.setdefault(to, []).extend(moved)
        self.queues[op] = []
        self.sort(to)

    @property
    def open(self) -> bool:
        return any(self.queues.values())


def _funded_share(state: _State, ops: list[str], capacity: dict, budget: float) -> float:
    """Share of the season (0-1) that ``budget`` pays for ``ops``' teams: bisection on cost."""

    def cost(share: float) -> float:
        return sum(state.cost_of(op, share * capacity[op]) for op in ops)

    if cost(1.0) <= budget * (1 + 1e-12):
        return 1.0
    if budget <= 0:
        return 0.0
    lo, hi = 0.0, 1.0
    for _ in range(_BISECT):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if cost(mid) <= budget else (lo, mid)
    return lo


def _capacity_later(op, k, *, plan, pots, start_year, last_k) -> bool:
    """Whether ``op`` has teams and money in some season after ``k``."""
    for j in range(k + 1, last_k + 1):
        year = start_year + j
        teams = _teams(plan, year, op)
        capped = [p for p in pots if op in _pot_operators(p, [op])]
        if teams > 0 and all(pot_budget(p, year) > 0 for p in capped):
            return True
    return False


def _teams(plan: pd.DataFrame, year: int, op: str) -> float:
    if op not in plan.columns:
        return 0.0
    row = plan.loc[min(max(year, plan.index.min()), plan.index.max())]
    return float(row[op])


def _season(state, plan, *, year, k, days, pots) -> tuple[list[dict], bool]:
    """Work one season: money shares per pot, then each operator's list."""
    capacity = {op: _teams(plan, year, op) * days for op in state.queues}
    share = dict.fromkeys(state.queues, 1.0)
    binds = False
    for pot in pots:
        ops = _pot_operators(pot, state.queues)
        f = _funded_share(state, ops, capacity, pot_budget(pot, year))
        for op in ops:
            share[op] = f
        binds |= f < 1.0 and any(capacity[op] > 0 and state.queues[op] for op in ops)
    rows = []
    for op in list(state.queues):
        teams = capacity[op] / days
        used, cost, area = state.work_season(op, capacity[op] * share[op], k, teams * share[op])
        rows.append(
            dict(
                year=year,
                operator=op,
                teams=teams,
                funded_share=share[op],
                team_days=used,
                area_m2=area,
                cost_eur=cost,
            )
        )
    return rows, binds


def _gap(rows: list[dict], confirmed: list[dict], year: int) -> tuple[float, float]:
    """Return the confirmed money of a year and the cost beyond it (a pot pays its operators)."""
    cost = {r["operator"]: r["cost_eur"] for r in rows}
    paid_by_pot, money = set(), 0.0
    gap = 0.0
    for pot in confirmed:
        ops = _pot_operators(pot, cost)
        budget = pot_budget(pot, year)
        money += budget
        gap += max(0.0, sum(cost[op] for op in ops) - budget)
        paid_by_pot.update(ops)
    gap += sum(c for op, c in cost.items() if op not in paid_by_pot)
    return money, gap


def run_programme(
    work: pd.DataFrame,
    *,
    capacity: pd.DataFrame,
    working_days: int,
    start_year: int,
    costs: pd.DataFrame,
    pots: list[dict] | None = None,
    confirmed: list[dict] | None = None,
    handover: str | None = None,
    season: dict | None = None,
    horizon_years: int = 100,
) -> ProgrammeRun:
    """Work a programme out year by year: teams, money, handover, cost and funding gap.

    Parameters
    ----------
    work : DataFrame
        :func:`kosovo_cmr.analysis.effort.clearance_effort` output: ``hazard_id``,
        ``priority``, ``operator``, ``method``, ``area_to_clear_m2``, ``team_days``.
    capacity : DataFrame
        :func:`capacity_plan` (years past its last row keep the last row's teams).
    working_days : int
        Working days a season.
    start_year : int
        The first season.
    costs : DataFrame
        :func:`kosovo_cmr.programme.read_costs`.
    pots : list of dict, optional
        Money that caps the spending: each ``operators`` (``"*"``: all),
        ``eur_per_year``, ``first_year``, ``last_year`` (see :func:`pot_budget`); an
        operator belongs to one pot at most. None: money follows the teams.
    confirmed : list of dict, optional
        The confirmed pots, for the funding gap (same keys).
    handover : str, optional
        The operator that takes over the hazards of one left with no team or no money.
    season : dict, optional
        ``first_month`` and ``last_month`` (default April and November), for the
        decimal years.
    horizon_years : int, optional
        Seasons worked at most; a hazard still open then is never done (NA).

    Returns
    -------
    ProgrammeRun

    Raises
    ------
    kosovo_cmr.errors.InputError
        On a non-positive ``working_days``, or an operator in two pots.
    """
    if working_days <= 0:
        raise InputError(f"working_days must be positive, got {working_days}")
    pots, confirmed = list(pots or []), list(confirmed or [])
    _check_pots(pots, capacity.columns)
    state = _State(work.reset_index(drop=True), costs, capacity.columns)
    state.close_empty(0)
    year_rows, money_rows, k = [], [], 0
    while state.open and k < horizon_years:
        year = start_year + k
        rows, binds = _season(state, capacity, year=year, k=k, days=working_days, pots=pots)
        confirmed_eur, gap = _gap(rows, confirmed, year)
        cost = sum(r["cost_eur"] for r in rows)
        year_rows += rows
        money_rows.append(
            dict(year=year, cost_eur=cost, confirmed_eur=confirmed_eur, gap_eur=gap, binds=binds)
        )
        _hand_over(
            state,
            k=k,
            plan=capacity,
            pots=pots,
            to=handover,
            start_year=start_year,
            last_k=horizon_years - 1,
        )
        k += 1
    notes = _unscheduled_notes(state)
    return ProgrammeRun(
        schedule=_schedule_table(
            state, season=season or {}, start_year=start_year, days=working_days
        ),
        years=pd.DataFrame(
            year_rows,
            columns=[
                "year",
                "operator",
                "teams",
                "funded_share",
                "team_days",
                "area_m2",
                "cost_eur",
            ],
        ),
        money=pd.DataFrame(
            money_rows, columns=["year", "cost_eur", "confirmed_eur", "gap_eur", "binds"]
        ),
        notes=notes,
    )


def _check_pots(pots: list[dict], operators) -> None:
    seen: dict[str, str] = {}
    for pot in pots:
        for op in _pot_operators(pot, operators):
            if op in seen:
                raise InputError(
                    f"operator {op} is in two funding pots ({seen[op]}, {pot.get('name')})"
                )
            seen[op] = str(pot.get("name", "pot"))


def _hand_over(state, *, k, plan, pots, to, start_year, last_k) -> None:
    if to is None:
        return
    for op in list(state.queues):
        if op == to or not state.queues[op]:
            continue
        if not _capacity_later(op, k, plan=plan, pots=pots, start_year=start_year, last_k=last_k):
            state.hand_over(op, to)


def _unscheduled_notes(state: _State) -> list[str]:
    left = sorted({op for op, q in state.queues.items() if q})
    if not left:
        return []
    message = (
        f"hazards of {', '.join(left)} are never finished: no team (or no money) is left "
        "to work them"
    )
    warnings.warn(message, ForecastWarning, stacklevel=3)
    return [message]


def _schedule_table(state: _State, *, season: dict, start_year: int, days: int) -> pd.DataFrame:
    out = state.work.copy()
    queue = state.done_by.copy()
    for op, members in state.queues.items():  # never finished: the list it waits in
        queue[members] = op
    out["queue"] = queue.astype(str)
    out["handed_over"] = state.from_op.astype(str)
    out["teams"] = state.teams
    out["start_season"], out["finish_season"] = state.start, state.finish
    out["working_days"] = (state.finish - state.start) * days
    fm, lm = season.get("first_month", 4), season.get("last_month", 11)
    out["finish"] = season_to_year(
        state.finish, start_year=start_year, first_month=fm, last_month=lm
    )
    fin = state.finish
    fy = np.where(np.isfinite(fin), start_year + np.ceil(np.maximum(fin, 1e-12)) - 1, np.nan)
    out["finish_year"] = pd.array(fy, dtype="Float64").astype("Int64")
    out["cost_eur"] = state.cost
    order = np.lexsort((state.ids, state.rank))
    return out.iloc[order].reset_index(drop=True)


def year_ranges(years) -> str:
    """Write years as ranges: ``[2025, 2026, 2027, 2030]`` -> ``"2025-2027, 2030"``.

    Examples
    --------
    >>> year_ranges([2025, 2026, 2027, 2030])
    '2025-2027, 2030'
    >>> year_ranges([])
    ''
    """
    years = sorted(int(y) for y in years)
    parts, i = [], 0
    while i < len(years):
        j = i
        while j + 1 < len(years) and years[j + 1] == years[j] + 1:
            j += 1
        parts.append(str(years[i]) if i == j else f"{years[i]}-{years[j]}")
        i = j + 1
    return ", ".join(parts)

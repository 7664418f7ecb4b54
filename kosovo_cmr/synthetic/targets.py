"""What the synthetic layers reproduce: the published figures, and the generator's choices.

The figures come from the published-figures file (``layers/published/``, read with
:func:`kosovo_cmr.report.published.read_published`), the one transcription of the Mine
Action Review 2025 Kosovo chapter in the package:

* Table 1: the hazards open at the end of 2024 per KMAC region and kind, to the m2;
* Tables 5, 6 and 7: the 2024 cancellations (NTS), reductions (TS) and clearances by
  reporting district and operator, with the items destroyed; Table 8 (area cleared with
  no CMR found) is checked against Table 7;
* the text: 8.78 km2 at the end of 2023 (taken as exactly 8,780,000 m2), 196
  submunitions destroyed in 2023 and 1 per 9,813 m2, 0.31 km2 reduced by TS in 2023;
* Table 9: clearance per year, in km2 to two decimals.

What the publication does not print, the generator chooses. Those choices are the
``GENERATOR_*`` constants and :data:`HAZARD_MUNICIPALITIES` / :data:`OPERATOR_BY_REGION`
below, and :func:`read_targets` checks each against the printed figure it must round
to: where each district's releases are placed, how many areas each NTS district and TS
release has, the exact m2 cleared each year before 2024 (each rounds to Table 9), the
submunitions destroyed 2020-2022, the technical survey of 2023, and the area added by
survey in 2024 (151,914 m2, quoted in the report's text but not transcribed).
"""

from __future__ import annotations

from dataclasses import dataclass

from kosovo_cmr.errors import InputError
from kosovo_cmr.report.published import figures, read_published

__all__ = [
    "Targets",
    "read_targets",
    "TABLE1",
    "RELEASES_2024",
    "CLEARANCE_BY_YEAR",
    "TS_2023",
    "START_2024_M2",
    "ADDED_2024_M2",
    "HAZARD_MUNICIPALITIES",
    "OPERATOR_BY_REGION",
]

# --- the generator's own choices (the publication does not print them) -------------------

#: Generator's choice: region -> municipalities where the demo places hazards (the
#: report: CMR found in Leposavic, Zubin Potok and Zvecan in the north, none in North
#: Mitrovica).
HAZARD_MUNICIPALITIES = {
    "North": ["Leposaviq", "Zubin Potok", "Zveçan", "Mitrovicë", "Skënderaj", "Vushtrri"],
    "Centre": ["Prishtinë", "Podujevë", "Drenas", "Lipjan", "Graçanicë", "Obiliq"],
    "East": ["Gjilan", "Viti", "Kamenicë", "Novobërdë"],
    "West": ["Pejë", "Gjakovë", "Deçan", "Istog", "Klinë", "Rahovec", "Malishevë", "Junik"],
    "South": ["Prizren", "Suharekë", "Dragash", "Ferizaj", "Kaçanik", "Shtërpcë"],
}

#: Generator's choice: the operator of the hazards of each region.
OPERATOR_BY_REGION = {
    "North": "NPA",
    "Centre": "HALO",
    "East": "KSF",
    "West": "HALO",
    "South": "HALO",
}

#: Generator's choice: the municipality where the releases of each reporting district
#: (as Tables 5-7 print it: a municipality in either spelling, or a region) are placed.
GENERATOR_DISTRICT_MUNICIPALITY = {
    "Mitrovica": "Mitrovicë",
    "Gracanica": "Graçanicë",
    "Leposavic": "Leposaviq",
    "Zubin Potok": "Zubin Potok",
    "Pejë": "Pejë",
    "Prizren": "Prizren",
    "East": "Kamenicë",
    "South": "Kaçanik",
    "Prishtina": "Prishtinë",
    "Gjakovë": "Gjakovë",
    "Prishtinë": "Prishtinë",
}

#: Generator's choice: how many areas each district's NTS cancellations of 2024 cover
#: (Table 5 prints only the m2). Each TS reduction of Table 6 is one area.
GENERATOR_NTS_AREAS = {"Mitrovica": 4, "Gracanica": 1, "Leposavic": 3, "Zubin Potok": 2}

#: Generator's choice: clearance before 2024, year -> (areas, m2). Table 9 prints km2 to
#: two decimals; each m2 here rounds to it, and 2023's gives 1 submunition per 9,813 m2.
GENERATOR_CLEARANCE_BEFORE_2024 = {
    2020: (3, 340_118),
    2021: (7, 1_301_734),
    2022: (7, 1_318_905),
    2023: (10, 1_923_348),
}

#: Generator's choice: submunitions destroyed 2020-2022 (2023's 196 is printed).
GENERATOR_SUBMUNITIONS_BEFORE_2023 = {2020: 21, 2021: 112, 2022: 96}

#: Generator's choice: technical survey in 2023, (areas, m2); rounds to the printed 0.31 km2.
TS_2023 = (2, 309_874)

#: Area added by survey in 2024 (NPA's NTS in the north), m2: quoted in the report's text,
#: not transcribed in ``layers/published/`` (the layers have no computed counterpart).
ADDED_2024_M2 = 151_914


# --- the targets read from the publication ----------------------------------------------


@dataclass(frozen=True)
class Targets:
    """The figures the synthetic layers reproduce.

    Attributes
    ----------
    table1 : dict
        Region -> (CHA count, CHA m2, SHA count, SHA m2) open at the end of 2024.
    releases_2024 : list of tuple
        (method, district label, operator, municipality, areas, m2, submunitions, AP
        mines, other UXO, CMR found): the NTS rows of Table 5, the TS rows of Table 6,
        the clearance rows of Table 7, in their printed order.
    clearance_by_year : dict
        Year -> (areas, m2, submunitions) cleared before 2024.
    ts_2023 : tuple
        (areas, m2) reduced by technical survey in 2023.
    start_2024_m2 : int
        The estimate at the end of 2023.
    added_2024_m2 : int
        The area added by survey in 2024.
    """

    table1: dict
    releases_2024: list
    clearance_by_year: dict
    ts_2023: tuple
    start_2024_m2: int
    added_2024_m2: int


def _table(published: dict, table_id: str) -> list[dict]:
    """Return the printed rows of a table as dicts of its row keys and fields."""
    for t in published["table"]:
        if t["id"] == table_id:
            names = [*t.get("row_keys", []), *t["fields"]]
            return [dict(zip(names, row, strict=True)) for row in t["rows"]]
    raise InputError(f"published figures {published.get('path', '')}: no table {table_id!r}")


def _within(figs: dict, figure_id: str, value: float, what: str) -> None:
    """Refuse a generator's choice that the printed figure's rounding does not allow."""
    lo, hi = figs[figure_id]["interval"]
    if not lo <= value <= hi:
        raise InputError(
            f"the synthetic {what} ({value:,.1f}) does not match the printed {figure_id} "
            f"({figs[figure_id]['printed']} {figs[figure_id]['unit']}); change the "
            "generator's choice in kosovo_cmr.synthetic.targets"
        )


def _table1(published: dict) -> dict:
    return {
        row["region"]: (row["cha_count"], row["cha_area_m2"], row["sha_count"], row["sha_area_m2"])
        for row in _table(published, "table1")
    }


def _releases_2024(published: dict) -> list[tuple]:
    place = GENERATOR_DISTRICT_MUNICIPALITY
    out = []
    for row in _table(published, "table5"):
        district = row["district"]
        n = GENERATOR_NTS_AREAS[district]
        m2 = row["area_m2"]
        out.append(("cancellation_nts", district, row["operator"], place[district], n, m2))
    for row in _table(published, "table6"):
        district = row["district"]
        out.append(("reduction_ts", district, row["operator"], place[district], 1, row["area_m2"]))
    out = [(*r, 0, 0, 0, False) for r in out]
    for row in _table(published, "table7"):
        district, subs = row["district"], row["submunitions"]
        out.append(
            ("clearance", district, row["operator"], place[district], row["areas_cleared"])
            + (row["area_m2"], subs, row["ap_mines"], row["other_uxo"], subs > 0)
        )
    return out


def _check_no_cmr(published: dict, releases: list[tuple]) -> None:
    """Table 8 (cleared with no CMR found, by operator) against the clearances' flags."""
    no_cmr: dict[str, int] = {}
    for method, _, operator, _, _, m2, *_, cmr_found in releases:
        if method == "clearance" and not cmr_found:
            no_cmr[operator] = no_cmr.get(operator, 0) + m2
    printed = {row["operator"]: row["area_m2"] for row in _table(published, "table8")}
    if no_cmr != printed:
        raise InputError(
            f"Table 7's clearances with no submunition ({no_cmr}) are not Table 8's area "
            f"cleared with no CMR found ({printed})"
        )


def _clearance_by_year(published: dict, figs: dict) -> dict:
    subs = dict(GENERATOR_SUBMUNITIONS_BEFORE_2023)
    subs[2023] = int(figs["text.submunitions_2023"]["printed"])
    out = {}
    for year, (areas, m2) in GENERATOR_CLEARANCE_BEFORE_2024.items():
        _within(figs, f"table9.{year}.area_m2", m2, f"clearance of {year}")
        out[year] = (areas, m2, subs[year])
    per_item = out[2023][1] / out[2023][2]
    _within(figs, "text.per_submunition_2023", per_item, "m2 cleared per submunition in 2023")
    return out


def read_targets(published: dict | str | None = None) -> Targets:
    """Read the figures the synthetic layers reproduce from a published-figures file.

    Parameters
    ----------
    published : dict or str, optional
        A :func:`kosovo_cmr.report.published.read_published` result or what it reads
        (default the shipped Mine Action Review 2025 file).

    Returns
    -------
    Targets

    Raises
    ------
    kosovo_cmr.errors.InputError
        If a table is missing, or a generator's choice does not round to the figure
        the publication prints for it.
    """
    if not isinstance(published, dict):
        published = read_published(published)
    figs = figures(published)
    releases = _releases_2024(published)
    _check_no_cmr(published, releases)
    _within(figs, "text.ts_2023_km2", TS_2023[1], "technical survey of 2023")
    return Targets(
        table1=_table1(published),
        releases_2024=releases,
        clearance_by_year=_clearance_by_year(published, figs),
        ts_2023=TS_2023,
        start_2024_m2=round(figs["text.end_2023_km2"]["printed"] * 1e6),
        added_2024_m2=ADDED_2024_M2,
    )


_SHIPPED = read_targets()

#: Table 1 (end 2024): region -> (CHA count, CHA m2, SHA count, SHA m2), as published.
TABLE1: dict = _SHIPPED.table1
#: The 2024 releases (see :attr:`Targets.releases_2024`), as published.
RELEASES_2024: list = _SHIPPED.releases_2024
#: Clearance per year before 2024: year -> (areas, m2, submunitions).
CLEARANCE_BY_YEAR: dict = _SHIPPED.clearance_by_year
#: Start-of-2024 estimate (the report's 8.78 km2), m2.
START_2024_M2: int = _SHIPPED.start_2024_m2

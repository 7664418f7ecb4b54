"""The priority model: scores and parts worked out by hand, the sensitivity, the CLI on the demo."""

from __future__ import annotations

import hashlib
import json
import warnings

import geopandas as gpd
import numpy as np
import pytest
from click.testing import CliRunner
from shapely.geometry import Point, box

from kosovo_cmr._resources import layer_file
from kosovo_cmr.analysis.priority import PriorityWarning, priority_scores, read_model
from kosovo_cmr.cli.main import cli
from kosovo_cmr.errors import InputError

X0, Y0 = 7_480_000, 4_720_000

#: A model of three criteria over four layers, whose scores are worked out below.
HAND_MODEL = """
[model]
name = "hand"
[classes]
high = 50
medium = 25

[[criterion]]
name = "people"
weight = 2.0
  [[criterion.indicator]]
  layer = "settlements"
  measure = "distance"
  full = 0
  zero = 1000
  [[criterion.indicator]]
  layer = "population"
  measure = "zonal"
  stat = "sum"
  zero = 0
  full = 200

[[criterion]]
name = "land"
weight = 1.0
  [[criterion.indicator]]
  layer = "farmland"
  measure = "overlap"

[[criterion]]
name = "poverty"
weight = 1.0
  [[criterion.indicator]]
  layer = "poverty"
  measure = "attribute"
  column = "rate"
  zero = 0.2
  full = 0.4
"""


@pytest.fixture
def hand(tmp_path):
    """Two 100 m squares, P1 and P2 (10 km apart), and the four context layers."""
    import rasterio
    from rasterio.transform import from_origin

    crs = "EPSG:9141"
    hazards = gpd.GeoDataFrame(
        {"hazard_id": ["P1", "P2"], "priority": ["low", "medium"]},
        geometry=[box(X0, Y0, X0 + 100, Y0 + 100), box(X0 + 10_000, Y0, X0 + 10_100, Y0 + 100)],
        crs=crs,
    )
    settlements = gpd.GeoDataFrame(
        geometry=[Point(X0 + 600, Y0 + 50), Point(X0 + 12_100, Y0 + 50)], crs=crs
    )  # 500 m from P1's edge, 2,000 m from P2's
    farmland = gpd.GeoDataFrame(
        geometry=[box(X0 - 100, Y0 - 100, X0 + 60, Y0 + 200)], crs=crs
    ).to_crs(4326)  # 60 % of P1, any CRS
    poverty = gpd.GeoDataFrame(
        {"rate": [0.30, 0.40]},
        geometry=[
            box(X0 - 5_000, Y0 - 5_000, X0 + 5_000, Y0 + 5_000),
            box(X0 + 5_000, Y0 - 5_000, X0 + 15_000, Y0 + 5_000),
        ],
        crs=crs,
    )
    raster = tmp_path / "population.tif"  # 1 person per 10 m cell around P1 only
    profile = dict(
        driver="GTiff",
        width=100,
        height=100,
        count=1,
        dtype="float32",
        crs=crs,
        transform=from_origin(X0 - 500, Y0 + 500, 10, 10),
    )
    with rasterio.open(raster, "w", **profile) as dst:
        dst.write(np.ones((1, 100, 100), dtype="float32"))
    model_path = tmp_path / "hand.toml"
    model_path.write_text(HAND_MODEL)
    layers = {
        "settlements": settlements,
        "population": raster,
        "farmland": farmland,
        "poverty": poverty,
    }
    return hazards, layers, model_path


def scores_of(hazards, layers, model):
    with pytest.warns(PriorityWarning, match="lack a value of population"):
        return priority_scores(hazards, layers, model=model)


def test_scores_and_parts_by_hand(hand):
    hazards, layers, model = hand
    result = scores_of(hazards, layers, model)
    t = result.table.set_index("hazard_id")
    # P1: people = mean(distance 500 m of 0-1000 -> 0.5, 100 cells of 200 -> 0.5) = 0.5;
    #     land = 0.6 (overlap); poverty = (0.30 - 0.2) / 0.2 = 0.5.
    #     score = 100 x (2 x 0.5 + 1 x 0.6 + 1 x 0.5) / 4 = 52.5: parts 25 + 15 + 12.5.
    # P2: people = mean(2,000 m -> 0, outside the raster -> missing, 0) = 0; land 0;
    #     poverty = 1.0: score 25, all of it poverty's.
    assert t.loc["P1", ["part_people", "part_land", "part_poverty"]].tolist() == pytest.approx(
        [25.0, 15.0, 12.5]
    )
    assert t.loc["P2", ["part_people", "part_land", "part_poverty"]].tolist() == pytest.approx(
        [0.0, 0.0, 25.0]
    )
    assert t["score"].tolist() == pytest.approx([52.5, 25.0])
    parts = t[[c for c in t.columns if c.startswith("part_")]].sum(axis=1)
    np.testing.assert_allclose(parts, t["score"], rtol=0, atol=1e-12)
    assert t["class"].tolist() == ["high", "medium"]
    assert t["changed"].tolist() == [True, False]  # P1 was recorded low
    assert t.loc["P2", "missing"] == "population" and t.loc["P1", "missing"] == ""
    raw = result.indicators.set_index(["hazard_id", "layer"])["value"]
    assert raw[("P1", "settlements")] == pytest.approx(500.0)
    assert raw[("P2", "settlements")] == pytest.approx(2000.0)
    assert raw[("P1", "population")] == pytest.approx(100.0)
    assert np.isnan(raw[("P2", "population")])
    sha = hashlib.sha256(model.read_bytes()).hexdigest()
    assert set(t["model_sha256"]) == {sha} and set(t["model"]) == {"hand"}


def test_sensitivity_by_hand(hand):
    hazards, layers, model = hand
    sens = scores_of(hazards, layers, model).sensitivity.set_index("criterion")
    # P1 stays high under every move (52.1 to 52.9). P2 (25.0, on the medium threshold):
    # people 2 -> 2.4: 100 / 4.4 = 22.7 (low); land 1 -> 1.2: 100 / 4.2 = 23.8 (low);
    # poverty 1 -> 0.8: 80 / 3.8 = 21.1 (low); the other moves keep it medium.
    assert sens[["changed_down", "changed_up"]].to_dict("index") == {
        "people": {"changed_down": 0, "changed_up": 1},
        "land": {"changed_down": 0, "changed_up": 1},
        "poverty": {"changed_down": 1, "changed_up": 0},
    }
    assert sens.loc["land", "hazards_up"] == "P2: medium->low"
    assert sens.loc["people", "weight_up"] == pytest.approx(2.4)


def test_changing_one_weight_in_the_file_does_what_the_table_says(hand, tmp_path):
    hazards, layers, model = hand
    before = scores_of(hazards, layers, model)
    text = model.read_text().replace('name = "land"\nweight = 1.0', 'name = "land"\nweight = 1.2')
    moved = tmp_path / "moved.toml"
    moved.write_text(text)
    after = scores_of(hazards, layers, moved)
    t = after.table.set_index("hazard_id")
    assert t.loc["P2", "score"] == pytest.approx(100 / 4.2)  # poverty's 1.0 over 4.2 weights
    assert t.loc["P1", "score"] == pytest.approx(100 * (1.0 + 1.2 * 0.6 + 0.5) / 4.2)
    changes = [
        f"{h}: {a}->{b}"
        for h, a, b in zip(
            before.table["hazard_id"], before.table["class"], after.table["class"], strict=True
        )
        if a != b
    ]
    assert ", ".join(changes) == before.sensitivity.set_index("criterion").loc["land", "hazards_up"]
    assert after.model["sha256"] != before.model["sha256"]


def test_override_raises_the_class(hand, tmp_path):
    hazards, layers, model = hand
    text = model.read_text() + '\n[[override]]\ncriterion = "poverty"\nmin_score = 1.0\n'
    path = tmp_path / "override.toml"
    path.write_text(text + 'class = "high"\n')
    t = scores_of(hazards, layers, path).table.set_index("hazard_id")
    assert t.loc["P2", "class"] == "high" and t.loc["P2", "score"] == pytest.approx(25.0)
    assert t.loc["P2", "class_reason"] == "score 25.0; override: poverty >= 1"


def test_shipped_models():
    default = read_model()
    assert default["name"] == "kmac-2025"
    assert default["layers"] == [
        "farmland",
        "population",
        "poverty",
        "protected_areas",
        "roads",
        "settlements",
        "water",
    ]
    assert (
        default["sha256"]
        == hashlib.sha256(layer_file("priority", "kmac-2025.toml").read_bytes()).hexdigest()
    )
    weights = {c["name"]: c["weight"] for c in default["criteria"]}
    assert max(weights, key=weights.get) == "climate"  # "given the highest priority"
    assert "risk reduction, development, environmental protection" in default["source"]
    first = read_model("kmac-2025-climate-first")
    assert len({c["weight"] for c in first["criteria"]}) == 1
    assert first["overrides"] == [{"criterion": "climate", "min_score": 0.5, "class": "high"}]


@pytest.mark.parametrize(
    "change, message",
    [
        (("weight = 2.0", "weight = -1"), "weight of 'people'"),
        (('measure = "overlap"', 'measure = "nearness"'), "measure of an indicator"),
        (("full = 200", "full = 0"), "needs full != zero"),
        (("high = 50", "high = 20"), "medium <= high"),
        (('name = "land"', 'name = "people"'), "unique"),
    ],
)
def test_bad_models_are_refused(hand, tmp_path, change, message):
    _, _, model = hand
    bad = tmp_path / "bad.toml"
    bad.write_text(model.read_text().replace(*change, 1))
    with pytest.raises(InputError, match=message):
        read_model(bad)


def test_missing_or_wrong_layers_are_refused(hand):
    hazards, layers, model = hand
    with pytest.raises(InputError, match="needs context layer 'farmland'"):
        priority_scores(hazards, {k: v for k, v in layers.items() if k != "farmland"}, model=model)
    with pytest.raises(InputError, match="zonal needs a raster"):
        priority_scores(hazards, {**layers, "population": layers["farmland"]}, model=model)
    with pytest.raises(InputError, match="no column 'rate'"):
        priority_scores(
            hazards, {**layers, "poverty": layers["poverty"].drop(columns="rate")}, model=model
        )


# --- on the demo, through kcmr prioritise -------------------------------------------------------


@pytest.fixture(scope="module")
def demo_context(tmp_path_factory, boundaries_path):
    from kosovo_cmr.demo import load_layers, run_demo, step_context, step_priority

    out = tmp_path_factory.mktemp("priority")
    steps = [load_layers, step_context, step_priority]
    return run_demo(out, boundaries=boundaries_path, steps=steps)


def layer_args(ctx) -> list[str]:
    args = []
    for name, (path, layer) in ctx.results["context"].items():
        args += ["--layer", f"{name}={path}" + (f":{layer}" if layer else "")]
    return args


def prioritise(ctx, *args):
    return CliRunner().invoke(
        cli, ["--store", ctx.store.uri, "prioritise", *layer_args(ctx), *args]
    )


def test_cli_prioritise_on_the_demo(demo_context, tmp_path):
    sens_path = tmp_path / "sens.csv"
    res = prioritise(demo_context, "--format", "json", "--sensitivity", str(sens_path))
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    sha = hashlib.sha256(layer_file("priority", "kmac-2025.toml").read_bytes()).hexdigest()
    assert doc["model"]["sha256"] == sha and doc["model"]["name"] == "kmac-2025"
    assert len(doc["scores"]) == 35
    for row in doc["scores"]:
        parts = [v for k, v in row.items() if k.startswith("part_")]
        assert len(parts) == 5
        assert sum(parts) == pytest.approx(row["score"], abs=1e-9)
        assert row["model_sha256"] == sha and row["class"] in ("high", "medium", "low")
    assert {r["class"] for r in doc["scores"]} == {"high", "medium", "low"}
    assert [r["criterion"] for r in doc["sensitivity"]] == [
        "risk_reduction",
        "development",
        "environment",
        "poverty",
        "climate",
    ]
    assert sens_path.read_text().startswith("criterion,weight,weight_down,changed_down,")
    # the demo step wrote the same scores
    demo = json.loads((demo_context.out_dir / "priority.json").read_text())
    assert demo["scores"] == doc["scores"]
    assert "SYNTHETIC" in demo_context.out_dir.joinpath("context-synthetic.gpkg").name.upper()


def test_cli_a_weight_moved_in_the_toml_changes_what_the_table_says(demo_context, tmp_path):
    doc = json.loads(prioritise(demo_context, "--format", "json").stdout)
    sens = {r["criterion"]: r for r in doc["sensitivity"]}
    moved = next(c for c, r in sens.items() if r["changed_up"] > 0)
    text = layer_file("priority", "kmac-2025.toml").read_text(encoding="utf-8")
    weight = sens[moved]["weight"]
    old = f'name = "{moved}"'
    head, _, tail = text.partition(old)
    line = next(x for x in tail.splitlines() if x.startswith("weight ="))
    new_tail = tail.replace(line, f"weight = {sens[moved]['weight_up']!r}", 1)
    model = tmp_path / "moved.toml"
    model.write_text(head + old + new_tail)
    res = prioritise(demo_context, "--format", "json", "--model", str(model))
    assert res.exit_code == 0, res.output
    after = json.loads(res.stdout)
    before = {r["hazard_id"]: r["class"] for r in doc["scores"]}
    changes = [
        f"{r['hazard_id']}: {before[r['hazard_id']]}->{r['class']}"
        for r in after["scores"]
        if r["class"] != before[r["hazard_id"]]
    ]
    assert len(changes) == sens[moved]["changed_up"] > 0
    assert ", ".join(changes) == sens[moved]["hazards_up"]
    assert after["model"]["sha256"] != doc["model"]["sha256"]
    assert after["model"]["weights"][moved] == pytest.approx(weight * 1.2)


def test_cli_prioritise_table_and_errors(demo_context, tmp_path):
    res = prioritise(demo_context)
    assert res.exit_code == 0, res.output
    assert "Scores (0-100; the parts add up to the score):" in res.stdout
    assert "Sensitivity" in res.stdout and "sha256" in res.stdout
    missing = CliRunner().invoke(cli, ["--store", demo_context.store.uri, "prioritise"])
    assert missing.exit_code == 1 and "needs context layer(s)" in missing.output
    bad = CliRunner().invoke(
        cli, ["--store", demo_context.store.uri, "prioritise", "--layer", "roads"]
    )
    assert bad.exit_code == 1 and "NAME=PATH" in bad.output
    store_out = prioritise(demo_context, "-o", demo_context.store.uri, "--overwrite")
    assert store_out.exit_code == 1 and "is the store" in store_out.output
    csv_out = tmp_path / "scores.csv"
    assert prioritise(demo_context, "--format", "csv", "-o", str(csv_out)).exit_code == 0
    assert csv_out.read_text().startswith("hazard_id,recorded,score,part_risk_reduction,")
    again = prioritise(demo_context, "--format", "csv", "-o", str(csv_out))
    assert again.exit_code == 1 and "--overwrite" in again.output


def test_context_layers_are_synthetic_and_reproducible(demo_context, tmp_path):
    import pyogrio
    import rasterio

    from kosovo_cmr.synthetic.context import CONTEXT_LAYERS, synthetic_context

    gpkg, _ = demo_context.results["context"]["settlements"]
    for name in CONTEXT_LAYERS:
        layer = pyogrio.read_dataframe(gpkg, layer=name)
        assert layer["synthetic"].all() and layer["id"].str.startswith("DEMO-").all(), name
    tif, _ = demo_context.results["context"]["population"]
    with rasterio.open(tif) as src:
        assert src.tags()["SYNTHETIC"] == "yes" and src.crs.to_epsg() == 9141
    hazards = demo_context.store.read("hazards")
    again = synthetic_context(
        tmp_path,
        boundaries=demo_context.store.read("boundaries"),
        hazards=hazards[hazards["status"] == "active"],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = pyogrio.read_dataframe(gpkg, layer="farmland")
        b = pyogrio.read_dataframe(again["farmland"][0], layer="farmland")
    assert a.geometry.equals(b.geometry)  # same seed, same layers

"""The report page: self-contained HTML with every figure, caption, table and divergence."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from PIL import Image

import optbench
from optbench.cli import cli
from optbench.errors import OptbenchError
from optbench.reporting.html import (
    ANIMATION_CAPTION,
    CAPTIONS,
    GENERIC_CAPTION,
    MAX_TABLE_ROWS,
    caption_for,
    write_report,
)

VOID = {"meta", "img", "br", "hr", "link", "input", "source", "wbr"}
CHROMIUM = Path("/usr/bin/chromium")


class Page(HTMLParser):
    """Parses a page strictly: every element closed in order; collects what the tests check."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []  # (tag, name, value)
        self.images: list[dict[str, str]] = []
        self.ids: list[str] = []
        self.captions: list[str] = []
        self.sections: dict[str, str] = {}
        self.doctype = ""
        self._caption: list[str] | None = None
        self._section: str | None = None
        self.feed(text)
        self.close()
        assert not self.stack, f"unclosed elements: {self.stack}"

    def handle_decl(self, decl):
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        values = {k: v or "" for k, v in attrs}
        self.attrs += [(tag, k, v) for k, v in values.items()]
        if "id" in values:
            self.ids.append(values["id"])
        if tag == "img":
            self.images.append(values)
        if tag == "section":
            self._section = values.get("id", "")
            self.sections[self._section] = ""
        if tag == "figcaption":
            self._caption = []
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()
        if tag == "figcaption":
            self.captions.append("".join(self._caption or []))
            self._caption = None
        if tag == "section":
            self._section = None

    def handle_data(self, data):
        if self._caption is not None:
            self._caption.append(data)
        if self._section is not None:
            self.sections[self._section] += data


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A run where sgd diverges (a huge lr on rosenbrock), plus what sweeps and users add."""
    out = tmp_path_factory.mktemp("report") / "run"
    result = optbench.run(
        ["sgd", "adam"], "rosenbrock", lr={"sgd": 0.5, "adam": 0.02}, steps=150, out=out
    )
    assert result.runs["diverged"].tolist() == [True, False]
    shutil.copy(out / "loss.png", out / "mystery_plot.png")  # a figure with an unknown name
    shutil.copy(out / "loss.png", out / "lr_sensitivity-beale.png")  # a planned, suffixed one
    best = pd.DataFrame(
        {
            "problem": ["rosenbrock", "rosenbrock"],
            "optimizer": ["adam", "<b>odd & name</b>"],
            "final_gap_geomean": [1.5e-4, 0.25],  # as sweeps write it (the page shows these)
            "final_gap_geo_ci_low": [1.1e-4, 0.2],
            "final_gap_geo_ci_high": [1.9e-4, 0.3],
        }
    )
    best.to_csv(out / "best.csv", index=False)
    pd.DataFrame({"k": range(MAX_TABLE_ROWS + 5)}).to_csv(out / "long.csv", index=False)
    return out


@pytest.fixture(scope="module")
def page(folder):
    path = optbench.report(folder)
    assert path == folder / "report.html"
    text = path.read_text(encoding="utf-8")
    return text, Page(text)


def test_report_is_one_well_formed_page(page):
    _, parsed = page
    assert parsed.doctype.lower() == "doctype html"
    for tag in ("html", "head", "body", "title", "style", "main"):
        assert parsed.tags.count(tag) == 1, tag
    assert {"setup", "results", "divergences", "figures"} <= set(parsed.sections)
    links = [v for tag, name, v in parsed.attrs if name == "href"]
    assert links and all(link[1:] in parsed.ids for link in links)  # in-page anchors only


def test_report_makes_no_outside_request(page):
    text, parsed = page
    assert not {"script", "link", "iframe", "object", "embed"} & set(parsed.tags)
    for _tag, name, value in parsed.attrs:
        if name in ("src", "href", "srcset", "action", "poster"):
            assert not value.lower().startswith(("http:", "https:", "//")), value
    assert "http://" not in text and "https://" not in text
    style = text[text.index("<style>") : text.index("</style>")]
    assert "url(" not in style and "@import" not in style and "@font-face" not in style


def test_report_embeds_every_image_of_the_folder(folder, page):
    _, parsed = page
    pngs = sorted(folder.glob("*.png"))
    embedded = [img for img in parsed.images if img["src"].startswith("data:image/png;base64,")]
    assert len(embedded) == len(parsed.images) == len(pngs) == 4
    for img in embedded:
        name = img["alt"].split(":", 1)[0]
        data = base64.b64decode(img["src"].split(",", 1)[1], validate=True)
        assert data == (folder / name).read_bytes()


def test_every_figure_has_its_caption(page):
    _, parsed = page
    captions = {c.split(" — ", 1)[0]: c.split(" — ", 1)[1] for c in parsed.captions}
    assert captions["trajectories.png"] == CAPTIONS["trajectories"]
    assert captions["loss.png"] == CAPTIONS["loss"]
    assert captions["lr_sensitivity-beale.png"] == CAPTIONS["lr_sensitivity"]
    assert captions["mystery_plot.png"] == GENERIC_CAPTION
    assert list(captions)[:2] == ["trajectories.png", "loss.png"]  # caption-table order


def test_divergences_are_listed_with_their_step(folder, page):
    _, parsed = page
    runs = pd.read_csv(folder / "runs.csv")
    sgd = runs[runs["optimizer"] == "sgd"].iloc[0]
    listed = parsed.sections["divergences"]
    assert "1 of 2 runs diverged" in listed
    assert sgd["run_id"] in listed and str(int(sgd["diverged_step"])) in listed
    assert runs[runs["optimizer"] == "adam"].iloc[0]["run_id"] not in listed


def test_setup_shows_the_manifest(folder, page):
    _, parsed = page
    manifest = json.loads((folder / "manifest.json").read_text())
    setup = parsed.sections["setup"]
    for value in (
        manifest["versions"]["numpy"],
        manifest["versions"]["numba"],
        manifest["versions"]["optbench"],
        manifest["machine"]["cpu"],
        manifest["started_utc"],
        manifest["finished_utc"],
        manifest["git_commit"] or "not run from a git checkout",
    ):
        assert value in setup
    assert "lr=0.5" in setup and "lr=0.02" in setup  # each optimizer's settings


def test_tables_are_rendered_and_escaped(page):
    text, parsed = page
    results = parsed.sections["results"]
    assert results.index("best.csv") < results.index("long.csv") < results.index("runs.csv")
    assert "<b>odd & name</b>" in results  # the text survives …
    assert "<b>odd" not in text and "&lt;b&gt;odd &amp; name&lt;/b&gt;" in text  # … escaped
    assert f"The first {MAX_TABLE_ROWS} of {MAX_TABLE_ROWS + 5} rows" in results
    assert "0.00015" in results  # 4 significant digits


def test_an_animation_is_embedded_after_its_figure(folder, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    frames = [Image.new("RGB", (8, 8), color) for color in ("white", "black")]
    frames[0].save(copy / "trajectories.gif", save_all=True, append_images=frames[1:])
    parsed = Page(write_report(copy).read_text())
    gifs = [img for img in parsed.images if img["src"].startswith("data:image/gif;base64,")]
    assert len(gifs) == 1
    names = [c.split(" — ", 1)[0] for c in parsed.captions]
    assert names[:2] == ["trajectories.png", "trajectories.gif"]
    assert parsed.captions[1].endswith(ANIMATION_CAPTION)


def test_report_function_stays_callable(folder):
    optbench.report(folder)
    assert callable(optbench.report)  # the module is not named report.py for this reason


def test_report_without_manifest_says_so(tmp_path):
    out = tmp_path / "run"
    optbench.run("adam", "bowl", steps=5, out=out, plots=False)
    (out / "manifest.json").unlink()
    text = write_report(out).read_text()
    assert "no manifest.json" in text
    Page(text)


@pytest.mark.parametrize(
    ("stem", "key"),
    [
        ("loss-beale", "loss"),
        ("tuned_loss", "tuned_loss"),
        ("tuned_loss-beale", "tuned_loss"),
        ("trajectories-rosenbrock_b=1", "trajectories"),
        ("trajectory_grid", "trajectory_grid"),
        ("performance_profile", "performance_profile"),
        ("ecdf", "ecdf"),
        ("accuracy-moons", "accuracy"),
        ("decision_boundary", "decision_boundary"),
        ("weight_trajectory", "weight_trajectory"),
    ],
)
def test_caption_keys(stem, key):
    assert caption_for(Path(f"{stem}.png")) == CAPTIONS[key]


def test_unknown_figure_gets_the_generic_caption():
    assert caption_for(Path("lossy.png")) == GENERIC_CAPTION  # a prefix is not enough


def test_cli_report(folder):
    done = CliRunner().invoke(cli, ["report", str(folder)])
    assert done.exit_code == 0, done.output
    assert f"wrote {folder / 'report.html'}" in done.output


def test_cli_report_on_a_file_is_a_one_line_error(tmp_path):
    target = tmp_path / "notes.txt"
    target.write_text("hello")
    done = CliRunner().invoke(cli, ["report", str(target)])
    assert done.exit_code == 2
    assert done.output.count("\n") == 1 and done.output.startswith("Error:")


def test_cli_report_on_a_folder_without_results(tmp_path):
    done = CliRunner().invoke(cli, ["report", str(tmp_path)])
    assert done.exit_code == 2
    assert "not an optbench results folder" in done.output
    assert done.output.count("\n") == 1
    with pytest.raises(OptbenchError, match="is not a folder"):
        write_report(tmp_path / "missing")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("runs.csv", "", "is not a readable CSV table"),
        ("runs.csv", "run_id,problem\nabc,bowl\n", "lacks the column(s) optimizer, lr"),
        ("manifest.json", "{not json", "is not valid JSON"),
    ],
)
def test_cli_report_on_damaged_files_is_a_one_line_error(folder, tmp_path, name, content, message):
    damaged = tmp_path / "damaged"
    shutil.copytree(folder, damaged)
    (damaged / name).write_text(content)
    done = CliRunner().invoke(cli, ["report", str(damaged)])
    assert done.exit_code == 2
    assert message in done.output and done.output.count("\n") == 1


def test_an_unreadable_extra_table_is_noted_not_fatal(folder, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    (copy / "broken.csv").write_bytes(b"\xff\xfe\x00bad")
    text = write_report(copy).read_text()
    assert "broken.csv" in text and "is not a readable CSV table" in text
    Page(text)


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (make test-browser)")
def test_report_renders_in_headless_chromium(page, folder, tmp_path):
    shot = tmp_path / "report.png"
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                str(CHROMIUM),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                f"--screenshot={shot}",
                "--window-size=1280,2000",
                (folder / "report.html").as_uri(),
            ],
            capture_output=True,
            timeout=120,
            check=True,
        )
    with Image.open(shot) as image:
        assert image.size == (1280, 2000)
        pixels = image.convert("RGB").resize((320, 500))
    colors = pixels.getcolors(maxcolors=320 * 500)
    white = sum(n for n, rgb in colors if min(rgb) >= 245)
    assert len(colors) > 200  # text, tables and figures, not a blank or error page
    assert 0.05 < 1 - white / (320 * 500) < 0.9
    assert shot.stat().st_size > 50_000


def test_best_view_drops_the_cell_settings_that_do_not_vary(monkeypatch):
    from optbench import analysis
    from optbench.reporting.html import _best_view

    monkeypatch.setattr(analysis, "CELL", [*analysis.CELL, "activation", "hidden"])
    best = pd.DataFrame(
        {"problem": ["xor", "xor", "bowl"], "preset": "torch", "noise": 0.0, "steps": 40,
         "optimizer": ["sgd", "sgd", "adam"], "activation": ["relu", "tanh", None],
         "hidden": [4.0, 4.0, None], "lr": 0.1, "final_gap_median": 1.0}
    )  # fmt: skip
    assert list(_best_view(best, best).columns) == [
        "problem", "optimizer", "lr", "median gap", "activation"
    ]  # fmt: skip

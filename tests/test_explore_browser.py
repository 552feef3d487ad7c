"""The explorer page in real headless Chromium, driven over WebDriver (chromedriver): sliders,
a click on the contour, hover, and that what it draws is what ``optbench run`` writes."""

from __future__ import annotations

import re

import numpy as np
import pytest
from webdriver import CHROMEDRIVER, CHROMIUM, KEYS, chromium

import optbench
from optbench.explorer.encode import LOSS_QUANTUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="needs /usr/bin/chromium and /usr/bin/chromedriver (make test-browser)",
    ),
]

SETTINGS = {
    "problem": "bowl",
    "optimizers": ["sgd", "momentum", "adam"],
    "lr": "0.01..1:5",
    "hp": {"momentum.momentum": "0,0.5,0.9"},
    "steps": 40,
    "starts": "3x3",
}
READY = "return document.body.dataset.ready === '1'"
REGION_IMAGES = (
    "return [...document.querySelectorAll('#regions image')].map(i => i.getAttribute('href'))"
)
LOSS_RELATIVE = 10 ** (LOSS_QUANTUM / 2) - 1  # the page's stated loss precision


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    return optbench.explore(out=tmp_path_factory.mktemp("explore") / "page.html", **SETTINGS)


def run_history(optimizer: str, lr: float, hp: dict, start, steps: int):
    """The same setting through ``optbench run``: its history.csv, every step."""
    result = optbench.run(
        [optimizer], "bowl", lr=lr, hp=hp, start=start, steps=steps, record_every=1, plots=False,
        save=False,
    )  # fmt: skip
    return result.history.sort_values("step").reset_index(drop=True)


def test_sliders_click_and_hover_show_what_run_computes(page, tmp_path):
    with chromium() as browser:
        browser.open(page.as_uri())
        browser.wait_for(READY)
        # the lr slider with the keyboard: to the end, then two steps left
        lr = browser.find("#lr")
        browser.keys(lr, KEYS["end"])
        assert browser.script("return state.lr") == 4
        browser.keys(lr, KEYS["left"] * 2)
        assert browser.script("return state.lr") == 2
        assert "= 0.1" in browser.text(browser.find("#lr-out"))  # 0.01, 0.0316, 0.1, ...
        # the second slider, to momentum 0.5
        browser.keys(browser.find("#second"), KEYS["home"] + KEYS["right"])
        assert browser.script("return state.second") == 1
        # a click on the contour next to start 5 picks start 5
        target = browser.script(
            "const c = document.querySelector('circle[data-start=\"5\"]').getBoundingClientRect();"
            "return [c.x + c.width / 2 + 3, c.y + c.height / 2 - 2];"
        )
        browser.call(
            "POST",
            "/actions",
            {"actions": [{"type": "pointer", "id": "mouse", "actions": [
                {"type": "pointerMove", "duration": 0, "origin": "viewport",
                 "x": round(target[0]), "y": round(target[1])},
                {"type": "pointerDown", "button": 0}, {"type": "pointerUp", "button": 0}]}]},
        )  # fmt: skip
        assert browser.script("return state.start") == 5
        # the step slider, to step 25
        browser.keys(browser.find("#step"), KEYS["home"] + KEYS["right"] * 25)
        assert browser.script("return state.step") == 25
        assert browser.text(browser.find("#step-out")).startswith("25 of 40")

        start = browser.script("return META.starts[5]")
        meta = browser.script("return META")
        quantum = meta["quantum"]
        for o, spec in enumerate(meta["optimizers"]):
            lr_value = spec["lr"][2]
            hp = {}
            if spec["second"]:
                hp = {spec["second"]["name"]: spec["second"]["values"][1]}
            history = run_history(spec["name"], lr_value, hp, tuple(start), SETTINGS["steps"])
            points = browser.script(
                'return document.querySelector(`polyline[data-optimizer="${arguments[0]}"]`)'
                ".getAttribute('points')",
                spec["name"],
            )
            drawn = np.array([[float(v) for v in p.split(",")] for p in points.split()])
            assert len(drawn) == 26, spec["name"]  # the start and 25 steps
            expected = history[["x", "y"]].to_numpy()[:26]
            assert np.abs(drawn - expected).max() <= quantum / 2 * (1 + 1e-9), spec["name"]
            assert o == 0 or not np.allclose(drawn, drawn[0])  # the paths move

        # hover over momentum's point at step 10 (the others hidden by their checkboxes):
        # the tooltip names a step and its loss
        browser.click(browser.find("#opt-sgd"))
        browser.click(browser.find("#opt-adam"))
        assert browser.script("return document.querySelectorAll('#paths polyline').length") == 1
        xy = browser.script(
            "const p = pathIndex(1), i = data.offsets[p] + 10;"
            "const [px, py] = toPx(data.x[i], data.y[i]);"
            "const m = map.getScreenCTM();"
            "return [m.a * px + m.e, m.d * py + m.f];"
        )
        browser.move_to(*xy)
        tip = browser.wait_for(
            "const t = document.getElementById('tip');"
            "return t.style.display === 'block' && t.textContent"
        )
        step = int(re.search(r"momentum, step (\d+)", tip).group(1))
        shown = float(re.search(r"loss = (\S+)", tip).group(1))
        exact = float(browser.script("return Number(document.getElementById('tip').dataset.loss)"))
        history = run_history(
            "momentum", meta["optimizers"][1]["lr"][2], {"momentum": 0.5}, tuple(start), 40
        )
        truth = history["loss"].iloc[step]
        assert abs(exact - truth) <= LOSS_RELATIVE * abs(truth) * (1 + 1e-6)
        assert abs(shown - truth) <= (5e-4 + LOSS_RELATIVE) * abs(truth)  # 4 digits shown
        assert abs(step - 10) <= 2  # the nearest point to the pointer
        # nothing left the page: no resource was loaded, and the policy forbids any
        assert browser.script("return performance.getEntriesByType('resource').length") == 0
        policy = browser.script(
            "return document.querySelector('meta[http-equiv=\"Content-Security-Policy\"]').content"
        )
        assert "default-src 'none'" in policy


def test_space_plays_and_checkboxes_hide_paths(page):
    with chromium() as browser:
        browser.open(page.as_uri())
        browser.wait_for(READY)
        browser.keys(browser.find("#step"), KEYS["home"])
        assert browser.script("return state.step") == 0
        browser.keys(browser.find("#step"), KEYS["space"])  # space plays
        browser.wait_for("return state.step >= 3")
        browser.keys(browser.find("#step"), KEYS["space"])  # and pauses
        assert browser.script("return state.timer") is None
        browser.click(browser.find("#opt-adam"))
        assert browser.script("return document.querySelectorAll('#paths polyline').length") == 2


def test_divergence_is_marked_where_it_happens(tmp_path):
    page = optbench.explore(
        out=tmp_path / "div.html", problem="bowl", optimizers=["sgd"], lr="0.5,1.5", hp={},
        steps=30, starts="1x1",
    )  # fmt: skip
    with chromium() as browser:
        browser.open(page.as_uri())
        browser.wait_for(READY)
        browser.keys(browser.find("#lr"), KEYS["end"])  # lr 1.5 > 1: sgd diverges on bowl
        status = browser.text(browser.find("#status"))
        assert re.fullmatch(r"sgd diverged at step \d+", status)
        assert browser.script("return document.querySelectorAll('#marks .diverged').length") == 1


def test_default_page_load_time_and_screenshots(tmp_path, capsys):
    """Measured, printed, never asserted: how long the default page takes to be usable, and
    screenshots at desktop and phone width (saved beside the page, printed)."""
    page = optbench.explore(out=tmp_path / "explore-bowl.html")
    size = page.stat().st_size
    assert size < 3e6
    with chromium(1280, 900) as browser:
        timings = []
        for _ in range(3):
            browser.open(page.as_uri())
            browser.wait_for(READY)
            timings.append(
                browser.script(
                    "return [performance.getEntriesByName('explorer-ready')[0].startTime,"
                    " performance.getEntriesByType('navigation')[0].loadEventEnd]"
                )
            )
        wide = browser.screenshot(tmp_path / "explore-1280.png")
        browser.resize(390, 844)
        browser.open(page.as_uri())
        browser.wait_for(READY)
        phone = browser.screenshot(tmp_path / "explore-390.png")
        width = browser.script("return document.documentElement.scrollWidth")
    assert width <= 400  # nothing sticks out sideways at phone width
    with capsys.disabled():
        ready = ", ".join(f"{r:.0f}" for r, _ in timings)
        print(f"\ndefault page {size / 1e6:.2f} MB; ready after {ready} ms (3 loads)")
        print(f"screenshots: {wide} {phone}")


def test_network_page_regions_follow_the_epoch_slider(tmp_path):
    """The epoch slider picks the last checkpoint reached; each panel's title states its
    epoch and the test accuracy there, which is run's history.csv value."""
    page = optbench.explore(
        out=tmp_path / "net.html", problem="spirals:n=200", optimizers=["sgd", "adam"],
        lr="0.03,0.3", epochs=6,
    )  # fmt: skip
    with chromium() as browser:
        browser.open(page.as_uri())
        browser.wait_for(READY)
        assert browser.script("return META.checkpoints") == [0, 1, 2, 3, 6]
        step = browser.find("#step")
        browser.keys(step, KEYS["home"] + KEYS["right"] * 5)  # epoch 5: the regions of epoch 3
        titles = browser.script(
            "return [...document.querySelectorAll('#regions .panel h2')].map(h => h.textContent)"
        )
        hrefs = browser.script(REGION_IMAGES)
        assert all(h.startswith("data:image/png") for h in hrefs)
        lr = browser.script("return META.optimizers[0].lr[state.lr]")
        for name, title in zip(["sgd", "adam"], titles, strict=True):
            assert title.startswith(f"{name} · regions at epoch 3")
            history = optbench.run([name], "spirals:n=200", lr=lr, epochs=6, save=False,
                                   plots=False).history  # fmt: skip
            accuracy = history.loc[history["epoch"] == 3, "test_accuracy"].iloc[0]
            assert f"test accuracy {float(f'{accuracy:.3g}'):g}" in title
        browser.keys(step, KEYS["end"])
        later = browser.script(REGION_IMAGES)
        assert later != hrefs  # epoch 6 has regions of its own
        assert browser.script("return performance.getEntriesByType('resource').length") == 0

"""Tests of pgbook.interactive: frames, the static HTML slider, the live widget, show() and validation."""

from __future__ import annotations

import base64
import io
import json
import threading
from html.parser import HTMLParser

import ipywidgets
import numpy as np
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from matplotlib import _pylab_helpers
from matplotlib.figure import Figure
from PIL import Image
from traitlets.config import Config

from pgbook.interactive import MAX_FRAMES, MAX_STATIC_BYTES, STATIC_ENV, Range, SliderFigure, compact_png

SLIDERS = {"slope": [-1.0, 0.0, 2.0], "label": ["a", "b"]}


def draw_line(fig: Figure, *, slope: float, label: str) -> None:
    """A line whose slope and legend follow the sliders."""
    ax = fig.add_subplot()
    x = np.linspace(0.0, 1.0, 20)
    ax.plot(x, slope * x, label=label)
    ax.set_ylim(-2.5, 2.5)
    ax.legend(loc="upper left")


def small(draw=draw_line, sliders=SLIDERS, **kwargs) -> SliderFigure:
    """A tiny figure, so the tests stay fast."""
    kwargs = {"figsize": (2.0, 1.5), "dpi": 50, "layout": None, **kwargs}
    return SliderFigure(draw, sliders, **kwargs)


def png_pixels(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("RGB"), dtype=int)


class SliderPage(HTMLParser):
    """Collects the elements of a static slider: root divs, range inputs, frame images, ids, frames."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.roots: list[dict] = []
        self.inputs: list[dict] = []
        self.images: list[dict] = []
        self.ids: list[str] = []
        self.frames: list[list[str]] = []
        self._in_frames = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "div" and "pgbook-slider" in classes:
            self.roots.append(a)
        if tag == "input" and "pgbook-slider-input" in classes:
            self.inputs.append(a)
        if tag == "img" and "pgbook-slider-frame" in classes:
            self.images.append(a)
        self._in_frames = tag == "script" and "pgbook-slider-frames" in classes

    def handle_data(self, data: str) -> None:
        if self._in_frames:
            self.frames.append(json.loads(data))
            self._in_frames = False


# --- frames ---------------------------------------------------------------------------------


def test_frames_differ_between_parameters_and_repeat_for_the_same():
    sf = small()
    frames = [sf.render(**p) for p in sf.grid()]
    assert len(set(frames)) == len(frames) == 6
    assert sf.render(**sf.grid()[0]) == frames[0]  # same bytes after drawing other frames


def test_frames_carry_no_metadata_and_have_the_requested_size():
    png = small().render(slope=2.0, label="b")
    assert b"Software" not in png and b"tIME" not in png
    with Image.open(io.BytesIO(png)) as image:
        assert image.size == (100, 75)
        assert not {k for k in image.info if k.lower() in ("software", "creation time", "date")}


def test_render_uses_initial_values_for_missing_parameters():
    sf = small(initial={"slope": 2.0})
    assert sf.render(label="a") == sf.render(slope=2.0, label="a")
    assert sf.render() == sf.render(slope=2.0, label="a")


def test_compact_png_is_smaller_keeps_white_and_stays_close():
    png = SliderFigure(draw_line, SLIDERS, dpi=100).render(slope=2.0, label="b")
    compact = compact_png(png)
    assert len(compact) < 0.6 * len(png)
    original, quantized = png_pixels(png), png_pixels(compact)
    assert quantized.shape == original.shape
    assert tuple(quantized[0, 0]) == (255, 255, 255)
    assert np.abs(quantized - original).mean() < 1.0  # mean channel error below one grey level


# --- static HTML ------------------------------------------------------------------------------


def test_static_html_has_one_frame_per_grid_point_in_row_major_order():
    sf = small(labels={"slope": "slope m"}, initial={"slope": 0.0, "label": "b"})
    page = SliderPage(sf.static_html())
    assert len(page.roots) == 1 and len(page.images) == 1 and len(page.frames) == 1
    frames = page.frames[0]
    assert len(frames) == sf.n_frames == 6
    expected = [base64.b64encode(compact_png(sf.render(**p))).decode() for p in sf.grid()]
    assert frames == expected
    start = sf.grid().index({"slope": 0.0, "label": "b"})
    assert start == 3
    assert page.images[0]["src"] == "data:image/png;base64," + frames[start]
    assert "slope m = 0" in page.images[0]["alt"] and "label = b" in page.images[0]["alt"]


def test_static_html_inputs_index_the_values_and_label_them():
    sf = small(labels={"slope": "slope m"}, initial={"slope": 2.0})
    text = sf.static_html()
    page = SliderPage(text)
    assert [(i["type"], i["min"], i["max"], i["value"]) for i in page.inputs] == [
        ("range", "0", "2", "2"),
        ("range", "0", "1", "0"),
    ]
    assert [json.loads(i["data-values"]) for i in page.inputs] == [["-1", "0", "2"], ["a", "b"]]
    assert all(i["oninput"] for i in page.inputs)
    assert '>slope m</label><output for="' in text
    assert [i["aria-valuetext"] for i in page.inputs] == ["2", "a"]
    assert "http" not in text and "<link" not in text  # nothing external


def test_static_html_ids_are_unique_across_sliders():
    sf = small()
    page = SliderPage(sf.static_html() + sf.static_html())
    assert len(page.roots) == 2 and len(page.inputs) == 4
    assert len(page.ids) == len(set(page.ids)) == 2 * (1 + 2 + 1)
    for i in page.inputs:  # every label points at an existing input
        assert i["id"] in page.ids


# --- show() -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shell() -> InteractiveShell:
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    return InteractiveShell.instance(config=config)


def test_show_static_emits_only_html(shell, monkeypatch):
    monkeypatch.setenv(STATIC_ENV, "1")
    with capture_output() as captured:
        small().show()
    assert [set(o.data) for o in captured.outputs] == [{"text/html"}]
    assert 'class="pgbook-slider"' in captured.outputs[0].data["text/html"]


@pytest.mark.parametrize("value", [None, "0", ""])
def test_show_live_emits_a_widget(shell, monkeypatch, value):
    if value is None:
        monkeypatch.delenv(STATIC_ENV, raising=False)
    else:
        monkeypatch.setenv(STATIC_ENV, value)
    with capture_output() as captured:
        small().show()
    assert len(captured.outputs) == 1
    data = captured.outputs[0].data
    assert "application/vnd.jupyter.widget-view+json" in data and "text/html" not in data
    # Without a kernel a front end shows the initial frame, not the widget's repr.
    assert base64.b64decode(data["image/png"]) == small().render()
    assert "run the cell to move the sliders" in data["text/plain"] and "VBox" not in data["text/plain"]


def test_show_rejects_an_unclear_static_setting(shell, monkeypatch):
    monkeypatch.setenv(STATIC_ENV, "yes")
    with pytest.raises(ValueError, match=f"^{STATIC_ENV}"):
        small().show()


# --- live widget --------------------------------------------------------------------------------


def test_live_widget_redraws_the_same_figure_in_place():
    figures = []

    def draw(fig, *, slope, label):
        figures.append(fig)
        draw_line(fig, slope=slope, label=label)

    managers_before = _pylab_helpers.Gcf.get_num_fig_managers()
    sf = small(draw=draw, initial={"label": "b"})
    widget = sf.live()
    *sliders, image = widget.children
    assert [s.description for s in sliders] == ["slope", "label"]
    assert [s.value for s in sliders] == [-1.0, "b"] and isinstance(image, ipywidgets.Image)
    assert image.value == sf.render(slope=-1.0, label="b")

    sliders[0].value = 2.0
    widget.wait()
    assert image.value == sf.render(slope=2.0, label="b")
    first_move = image.value
    sliders[1].value = "a"
    widget.wait()
    assert image.value != first_move and image.value == sf.render(slope=2.0, label="a")

    assert len(figures) > 3 and all(f is sf.figure for f in figures)
    assert _pylab_helpers.Gcf.get_num_fig_managers() == managers_before  # pyplot saw nothing


def test_frames_are_drawn_once_per_grid_point_and_shared_by_both_renderers():
    calls = []

    def draw(fig, *, slope, label):
        calls.append((slope, label))
        draw_line(fig, slope=slope, label=label)

    sf = small(draw=draw)
    widget = sf.live(prefetch=False)
    slope_slider = widget.children[0]
    for value in [2.0, -1.0, 2.0, -1.0]:  # back and forth: the second visits are not redrawn
        slope_slider.value = value
        widget.wait()
    assert calls == [(-1.0, "a"), (2.0, "a")]
    assert sf.frame(slope=2.0, label="a") == sf.render(slope=2.0, label="a")  # the memo holds the true frame
    calls.clear()
    sf.static_html()
    assert sorted(calls) == sorted(p for p in [(s, l) for s in SLIDERS["slope"] for l in SLIDERS["label"]]
                                   if p not in [(-1.0, "a"), (2.0, "a")])


def test_live_slider_offers_exactly_the_given_values():
    sf = small(labels={"label": "legend text"})
    sliders = sf.live().children[:-1]
    assert [list(s.options) for s in sliders] == [
        [("-1", -1.0), ("0", 0.0), ("2", 2.0)],
        [("a", "a"), ("b", "b")],
    ]
    assert sliders[1].description == "legend text"


# --- validation -----------------------------------------------------------------------------------


def draw_failing(fig, *, slope, label):
    if slope > 0:
        raise RuntimeError("negative slopes only")
    draw_line(fig, slope=slope, label=label)


@pytest.mark.parametrize(
    ("kwargs", "arg", "detail"),
    [
        ({"draw": "not a function"}, "draw", "function"),
        ({"draw": lambda fig, slope: None}, "draw", "cannot be called"),
        ({"sliders": [("slope", [1, 2])]}, "sliders", "dict"),
        ({"sliders": {}}, "sliders", "at least one"),
        ({"sliders": {"slope": [], "label": ["a"]}}, "sliders", "'slope' has no values"),
        ({"sliders": {"slope": [1.0], "label": "ab"}}, "sliders", "list of values"),
        ({"sliders": {"slope": [1.0, 2.0, 1.0], "label": ["a"]}}, "sliders", "1.0 twice"),
        ({"sliders": {"slope": [1.0], "label": ["a"], "not valid": [1]}}, "sliders", "identifier"),
        ({"sliders": {"slope": list(range(MAX_FRAMES + 1)), "label": ["a"]}}, "sliders", f"{MAX_FRAMES + 1} points"),
        ({"sliders": {"slope": list(range(129)), "label": ["a", "b"]}}, "sliders", "129 x 2 = 258"),
        ({"sliders": {"slope": Range(0.0, 1.0, 0.1, static=[0.25]), "label": ["a"]}}, "sliders", "not on the slider"),
        ({"sliders": {"slope": Range(1.0, 0.0), "label": ["a"]}}, "sliders", "low < high"),
        ({"sliders": {"slope": Range(0.0, 1.0, 0.3), "label": ["a"]}}, "sliders", "whole number of steps"),
        ({"sliders": {"slope": Range(0.0, 1.0, -0.1), "label": ["a"]}}, "sliders", "0 < step"),
        ({"sliders": {"slope": Range("0", 1.0), "label": ["a"]}}, "sliders", "needs numbers"),
        ({"sliders": {"slope": Range(0, 10, static=20), "label": ["a"]}}, "sliders", "between 1 and 11"),
        ({"sliders": {"slope": Range(0.0, 1.0, 0.1), "label": ["a"]}, "initial": {"slope": 0.3}},
         "initial", "not among the slider's static values"),
        ({"initial": {"slope": 5.0}}, "initial", "slope=5.0 is not among"),
        ({"initial": {"slop": 0.0}}, "initial", "unknown slider"),
        ({"labels": {"slop": "m"}}, "labels", "unknown slider"),
        ({"labels": {"slope": 3}}, "labels", "string"),
        ({"figsize": (2.0, -1.0)}, "figsize", "positive"),
        ({"figsize": 3.0}, "figsize", "width, height"),
        ({"dpi": 0}, "dpi", "positive"),
        ({"layout": "sideways"}, "layout", "sideways"),
        ({"alt": ""}, "alt", "non-empty"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(kwargs, arg, detail):
    with pytest.raises(ValueError, match=f"^{arg}: ") as info:
        small(**kwargs)
    assert detail in str(info.value)


def test_exactly_max_frames_is_allowed():
    sf = small(draw=lambda fig, *, slope, label: None,
               sliders={"slope": list(range(MAX_FRAMES)), "label": ["a"]})
    assert sf.n_frames == MAX_FRAMES


def test_draw_errors_name_the_parameter_values():
    sf = small(draw=draw_failing)
    assert sf.render(slope=-1.0, label="a")
    with pytest.raises(ValueError, match=r"^draw: raised RuntimeError at slope = 2, label = b: negative slopes only"):
        sf.render(slope=2.0, label="b")
    with pytest.raises(ValueError, match="^draw: .*slope = 2"):
        sf.static_html()


@pytest.mark.parametrize(
    ("params", "detail"),
    [({"slop": 0.0}, "unknown slider"), ({"slope": 0.5}, "slope=0.5 is not among the slider's values")],
)
def test_render_rejects_parameters_outside_the_grid(params, detail):
    with pytest.raises(ValueError, match="^params: ") as info:
        small().render(**params)
    assert detail in str(info.value)


# --- continuous sliders, the live thread, static budgets ------------------------------------------


def draw_curve(fig: Figure, *, p: float, n: int) -> None:
    """A curve that depends on a continuous p and an integer n."""
    ax = fig.add_subplot()
    x = np.linspace(0.0, 1.0, 50)
    ax.plot(x, x**n * p)
    ax.set_ylim(0, 1)


RANGES = {"p": Range(0.1, 0.9, 0.05, static=[0.2, 0.5, 0.8]), "n": Range(1, 16, static=4)}


def test_range_sliders_are_continuous_live_and_coarse_static():
    sf = small(draw=draw_curve, sliders=RANGES, initial={"p": 0.5})
    assert sf.values == {"p": [0.2, 0.5, 0.8], "n": [1, 6, 11, 16]} and sf.n_frames == 12
    widget = sf.live(prefetch=False)
    p_slider, n_slider = widget.controls.values()
    assert isinstance(p_slider, ipywidgets.FloatSlider) and isinstance(n_slider, ipywidgets.IntSlider)
    assert (p_slider.min, p_slider.max, p_slider.step, p_slider.value) == (0.1, 0.9, 0.05, 0.5)
    assert (n_slider.min, n_slider.max, n_slider.step, n_slider.value) == (1, 16, 1, 1)
    assert p_slider.readout_format == ".2f"
    p_slider.value = 0.35  # between static values: live sliders are not tied to the static grid
    n_slider.value = 7
    widget.wait()
    assert widget.image.value == sf.render(p=0.35, n=7)
    # values are snapped to the step lattice, so float noise cannot create distinct frames
    assert sf.frame(p=0.1 + 0.25) == sf.frame(p=0.35)
    with pytest.raises(ValueError, match="^params: p=0.33 is not among the slider's range 0.1 to 0.9 in steps of 0.05"):
        sf.render(p=0.33)
    with pytest.raises(ValueError, match="^params: n=17 is not among"):
        sf.render(n=17)


def test_a_slow_frame_never_queues_a_backlog_of_stale_redraws():
    drawn = []

    def slow(fig, *, p, n):
        drawn.append((p, n))
        import time
        time.sleep(0.05)
        draw_curve(fig, p=p, n=n)

    sf = small(draw=slow, sliders=RANGES, initial={"p": 0.5})
    widget = sf.live(prefetch=False)
    drawn.clear()
    p_slider = widget.controls["p"]
    for k in range(1, 11):  # ten moves in quick succession, each faster than a frame
        p_slider.value = round(0.5 + 0.02 * k * 2.5, 2)
    widget.wait()
    assert widget.image.value == sf.frame(p=p_slider.value, n=1)  # the last position is shown
    assert len(drawn) <= 3 and drawn[-1] == (p_slider.value, 1)  # positions passed over were skipped


def test_idle_time_draws_the_neighbouring_positions_ahead():
    sf = small(draw=draw_curve, sliders=RANGES, initial={"p": 0.5})
    widget = sf.live(prefetch=True)
    widget.controls["p"].value = 0.55
    widget.wait()
    import time
    deadline = time.time() + 10
    while widget._has_prefetch_work() and time.time() < deadline:
        time.sleep(0.01)
    # two steps on in the direction of the move, the step back, and n's neighbour are ready
    assert sf.cached(p=0.6, n=1) and sf.cached(p=0.65, n=1) and sf.cached(p=0.5, n=1)
    assert sf.cached(p=0.55, n=2)
    assert not sf.cached(p=0.7, n=1)  # no further
    # a move to a position drawn ahead is shown at once, before the call returns
    widget.controls["p"].value = 0.6
    assert widget.image.value == sf.frame(p=0.6, n=1) and widget.shown_log[-1][1] == {"p": 0.6, "n": 1}


def test_a_frame_finished_after_the_reader_moved_on_is_not_shown():
    import time
    release = threading.Event()

    def slow_at_03(fig, *, p, n):
        if p == 0.3:
            release.wait(5)
        draw_curve(fig, p=p, n=n)

    sf = small(draw=slow_at_03, sliders=RANGES, initial={"p": 0.5})
    sf.frame(p=0.8, n=1)  # already drawn
    widget = sf.live(prefetch=False)
    widget.controls["p"].value = 0.3      # the thread starts drawing 0.3 (slow)
    time.sleep(0.05)
    widget.controls["p"].value = 0.8      # drawn: shown at once
    release.set()
    widget.wait()
    assert widget.image.value == sf.frame(p=0.8, n=1)
    assert [pos["p"] for _, pos in widget.shown_log] == [0.8]  # 0.3 finished late and was dropped


def test_static_html_over_budget_is_refused(monkeypatch):
    import pgbook.interactive as interactive
    sf = small()
    monkeypatch.setattr(interactive, "MAX_STATIC_BYTES", 1000)
    with pytest.raises(ValueError, match=r"^sliders: the static slider takes .* MB for 6 frames"):
        sf.static_html()


def test_four_sliders_of_three_values_fit_the_static_budgets():
    def draw(fig, *, a, b, c, d):
        ax = fig.add_subplot()
        x = np.linspace(0, 1, 100)
        ax.plot(x, a * np.sin(8 * b * x) + c * x - d, label=f"a={a}, b={b}")
        ax.set_ylim(-4, 4)
        ax.legend(loc="upper right")

    sliders = {name: Range(0.5, 1.5, 0.05, static=3) for name in "abcd"}
    sf = SliderFigure(draw, sliders, figsize=(6.0, 3.0), dpi=80, layout=None)
    assert sf.n_frames == 81 <= MAX_FRAMES
    text = sf.static_html()
    page = SliderPage(text)
    assert len(page.frames[0]) == 81 and len(page.inputs) == 4
    assert len(text) < MAX_STATIC_BYTES / 4


def test_closing_the_widget_stops_its_drawing_thread():
    sf = small(draw=draw_curve, sliders=RANGES, initial={"p": 0.5})
    widget = sf.live()
    widget.controls["p"].value = 0.55
    widget.wait()
    widget.close()
    assert not widget._thread.is_alive()
    widget.stop()  # stopping twice is harmless

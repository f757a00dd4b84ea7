"""Slider figures: one pure drawing function, two renderers.

A figure is a function ``draw(fig, **params)`` that draws into a cleared matplotlib ``Figure``.
:class:`SliderFigure` gives it a slider per parameter and renders it two ways:

* **live**, in a kernel: ipywidgets sliders that move freely over their range (a :class:`Range`
  slider moves in small steps over an interval, as ``interact`` does; a list of values is stepped
  through); a background thread redraws one reused Agg figure and swaps the PNG of an
  ``ipywidgets.Image``. The thread always draws the *latest* slider position, so a slow frame never
  queues a backlog of stale redraws, and while the reader pauses it draws the neighbouring positions
  ahead of time, so the next step is usually ready before it is asked for. Frames are memoized
  (``draw`` is pure), so returning to a position costs a look-up.
* **static**, on the site (environment variable ``PGBOOK_STATIC=1``): every point of a coarser grid
  (each slider's ``static`` values, combined) is rendered once, and a self-contained HTML slider
  swaps those precomputed frames, so a reader without a kernel can still move every slider. The
  sliders are native range inputs: reachable with Tab, moved with the arrow keys, and announcing
  their value (``aria-valuetext``) to screen readers.

Static frames are palette-quantized PNGs (64 colours): for line and histogram plots this cuts their
size about 3x with no visible loss. A figure may have up to :data:`MAX_FRAMES` static frames, and its
static HTML must stay under :data:`MAX_STATIC_BYTES`; a figure with four sliders of three values each
(81 frames) fits with room to spare.

Before a notebook is run, a live figure's output shows the PNG of its initial frame: the widget's
output carries that PNG as a fallback that any Jupyter front end can display without a kernel.
"""

from __future__ import annotations

import atexit
import base64
import html
import inspect
import io
import itertools
import json
import math
import numbers
import os
import threading
import time
import weakref
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import ipywidgets
from IPython.display import display
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

STATIC_ENV = "PGBOOK_STATIC"
"""Environment variable: ``1`` makes :meth:`SliderFigure.show` emit the static HTML slider."""

MAX_FRAMES = 256
"""Largest static grid (number of precomputed frames) a slider figure may have."""

MAX_STATIC_BYTES = 8 * 1024**2
"""Largest static HTML slider (frames included) a figure may produce."""

MAX_CACHED_FRAMES = 512
"""Live frames kept in memory (least recently shown are dropped first)."""

PALETTE_COLORS = 64
"""Colours kept in a static frame's palette."""

DEFAULT_STATIC_POINTS = 5
"""Static values of a :class:`Range` slider when none are given."""

_slider_ids = itertools.count()

Draw = Callable[..., None]


def static_mode() -> bool:
    """Whether the site build asked for static output (``PGBOOK_STATIC=1``)."""
    value = os.environ.get(STATIC_ENV, "")
    if value not in ("", "0", "1"):
        raise ValueError(f"{STATIC_ENV}: expected '0' or '1' (or unset), got {value!r}")
    return value == "1"


def format_value(value: Any) -> str:
    """The text shown for a slider value: floats in ``%g`` form, anything else with ``str``."""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def compact_png(png: bytes, colors: int = PALETTE_COLORS) -> bytes:
    """Re-encode a PNG with a palette of at most ``colors`` colours (no dithering), optimized.

    Opaque images use median cut, which keeps a white background exactly white; images with
    transparency use the fast octree, the one built-in method that keeps alpha.
    """
    with Image.open(io.BytesIO(png)) as image:
        image = image.convert("RGBA")
        if image.getchannel("A").getextrema() == (255, 255):
            quantized = image.convert("RGB").quantize(colors, method=Image.Quantize.MEDIANCUT,
                                                      dither=Image.Dither.NONE)
        else:
            quantized = image.quantize(colors, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    out = io.BytesIO()
    quantized.save(out, format="PNG", optimize=True)
    return out.getvalue()


# --------------------------------------------------------------------------------------------------
# Slider specifications


@dataclass(frozen=True)
class Range:
    """A slider over an interval: live it moves over ``[low, high]`` in steps of ``step``.

    Integers throughout (``low``, ``high`` and ``step`` all ints) give an integer slider. ``step``
    defaults to 1 for integers and to a hundredth of the interval otherwise. ``static`` is the
    coarser grid of values precomputed for the static site: a list of values on the step lattice, or
    a number of evenly spaced values (default :data:`DEFAULT_STATIC_POINTS`, ends included).
    """

    low: float
    high: float
    step: float | None = None
    static: Sequence[float] | int | None = None


class _Spec:
    """One slider, normalized: its static values, its live widget and how to validate a value."""

    def __init__(self, name: str, spec: Any) -> None:
        self.name = name
        if isinstance(spec, Range):
            self._init_range(spec)
        else:
            self._init_list(spec)

    def _init_list(self, values: Any) -> None:
        if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
            raise ValueError(f"sliders: values of {self.name!r} must be a list of values or a Range, got {values!r}")
        values = list(values)
        if not values:
            raise ValueError(f"sliders: slider {self.name!r} has no values")
        for i, j in itertools.combinations(range(len(values)), 2):
            if _same(values[i], values[j]):
                raise ValueError(f"sliders: slider {self.name!r} lists the value {values[i]!r} twice")
        self.range: Range | None = None
        self.static = values

    def _init_range(self, spec: Range) -> None:
        name = self.name
        ends = (spec.low, spec.high, spec.step)
        if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in ends if v is not None):
            raise ValueError(f"sliders: Range of {name!r} needs numbers for low, high and step, got {spec!r}")
        if not all(math.isfinite(v) for v in ends if v is not None) or not spec.low < spec.high:
            raise ValueError(f"sliders: Range of {name!r} needs finite low < high, got {spec!r}")
        self.integer = all(isinstance(v, numbers.Integral) for v in ends if v is not None)
        step = spec.step if spec.step is not None else (1 if self.integer else (spec.high - spec.low) / 100)
        if not step > 0 or step > spec.high - spec.low:
            raise ValueError(f"sliders: Range of {name!r} needs 0 < step <= high - low, got step {step!r}")
        self.range = Range(spec.low, spec.high, step, spec.static)
        self.n_steps = round((spec.high - spec.low) / step)
        if abs(self.n_steps * step - (spec.high - spec.low)) > 1e-9 * step * max(1, self.n_steps):
            raise ValueError(f"sliders: Range of {name!r}: high - low must be a whole number of steps, got {spec!r}")
        static = spec.static if spec.static is not None else DEFAULT_STATIC_POINTS
        if isinstance(static, numbers.Integral) and not isinstance(static, bool):
            if not 1 <= static <= self.n_steps + 1:
                raise ValueError(f"sliders: static of {name!r} must be between 1 and {self.n_steps + 1} points, got {static}")
            picks = [round(i * self.n_steps / max(static - 1, 1)) for i in range(static)]
            self.static = [self._at(k) for k in dict.fromkeys(picks)]
        else:
            self.static = _Spec(name, static).static
            for value in self.static:
                if self.snap(value) is None:
                    raise ValueError(f"sliders: static value {value!r} of {name!r} is not on the slider "
                                     f"({spec.low:g} to {spec.high:g} in steps of {step:g})")
            self.static = [self.snap(v) for v in self.static]

    def _at(self, k: int) -> float | int:
        """The ``k``-th point of the lattice ``low + k step``, rounded so that it prints cleanly."""
        value = self.range.low + k * self.range.step
        return int(round(value)) if self.integer else float(f"{value:.12g}")

    def snap(self, value: Any) -> Any:
        """``value`` as the slider represents it, or None if the slider cannot take it."""
        if self.range is None:
            return next((v for v in self.static if _same(v, value)), None)
        if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value):
            return None
        k = (value - self.range.low) / self.range.step
        if abs(k - round(k)) > 1e-6 or not 0 <= round(k) <= self.n_steps:
            return None
        return self._at(round(k))

    def describe(self) -> str:
        if self.range is None:
            return f"the slider's values {self.static}"
        return f"the slider's range {self.range.low:g} to {self.range.high:g} in steps of {self.range.step:g}"

    def widget(self, label: str, value: Any) -> ipywidgets.Widget:
        """The live control: a float or integer slider for a Range, a selection slider for a list."""
        common = {"description": label, "value": value, "continuous_update": True,
                  "style": {"description_width": "initial"}, "layout": {"width": "30em", "max_width": "100%"}}
        if self.range is None:
            return ipywidgets.SelectionSlider(options=[(format_value(v), v) for v in self.static], **common)
        bounds = {"min": self.range.low, "max": self.range.high, "step": self.range.step}
        if self.integer:
            return ipywidgets.IntSlider(**bounds, **common)
        decimals = max(0, -math.floor(math.log10(self.range.step) + 1e-12))
        return ipywidgets.FloatSlider(**bounds, readout_format=f".{decimals}f", **common)


# --------------------------------------------------------------------------------------------------
# The figure


class SliderFigure:
    """A figure ``draw(fig, **params)`` with one slider per parameter.

    ``sliders`` maps each parameter name to a list of values (a slider that steps through them, live
    and static) or to a :class:`Range` (a slider that moves over an interval live, and over the
    Range's coarser ``static`` values on the site). The static grid, every combination of static
    values, has at most :data:`MAX_FRAMES` points. ``labels`` optionally renames sliders for display,
    ``initial`` picks starting values (default: each slider's first static value; an initial value
    must be a static value, so the site shows the same first frame as the kernel). ``figsize``
    (inches) and ``dpi`` fix the frame's pixel size; ``layout`` is the matplotlib layout engine of
    the reused figure (``None`` is faster, ``"constrained"`` keeps labels inside the frame). ``alt``
    describes the figure for the static image's alt text (default: first line of ``draw``'s docstring).
    """

    def __init__(
        self,
        draw: Draw,
        sliders: Mapping[str, Sequence[Any] | Range],
        *,
        figsize: tuple[float, float] = (7.0, 3.5),
        dpi: float = 100.0,
        labels: Mapping[str, str] | None = None,
        initial: Mapping[str, Any] | None = None,
        layout: str | None = "constrained",
        alt: str | None = None,
    ) -> None:
        if not callable(draw):
            raise ValueError(f"draw: expected a function draw(fig, **params), got {draw!r}")
        self.draw = draw
        self.specs = _check_sliders(sliders)
        self.values = {name: spec.static for name, spec in self.specs.items()}
        _check_draw_signature(draw, self.values)
        self.labels = {name: name for name in self.specs}
        self.labels.update(_check_labels(labels, self.specs))
        self.initial = {name: values[0] for name, values in self.values.items()}
        self.initial.update(_check_initial(initial, self.specs))
        self.alt = _check_alt(alt, draw)
        self.dpi = _check_positive("dpi", dpi)
        width, height = _check_figsize(figsize)
        try:
            self.figure = Figure(figsize=(width, height), dpi=self.dpi, layout=layout)
        except (TypeError, ValueError) as err:
            raise ValueError(f"layout: not a matplotlib layout engine name, got {layout!r} ({err})") from None
        FigureCanvasAgg(self.figure)  # an Agg canvas of our own: pyplot never sees this figure
        self._frames: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()  # memo: draw is pure
        self._lock = threading.RLock()  # one figure: the live thread and the caller take turns

    @property
    def n_frames(self) -> int:
        """Number of static grid points, i.e. of static frames."""
        return math.prod(len(values) for values in self.values.values())

    def grid(self) -> list[dict[str, Any]]:
        """Every static parameter combination, in row-major order (the last slider varies fastest)."""
        names = list(self.values)
        return [dict(zip(names, combo)) for combo in itertools.product(*self.values.values())]

    def render(self, **params: Any) -> bytes:
        """One frame as PNG: clear the reused figure, call ``draw`` on it, rasterize and encode it.

        Parameters not given take their initial values; every value must be one its slider can take.
        """
        full = self._complete(params)
        with self._lock:
            self.figure.clear()
            try:
                self.draw(self.figure, **full)
            except Exception as err:
                raise ValueError(f"draw: raised {type(err).__name__} at {_describe(full)}: {err}") from err
            canvas = self.figure.canvas
            canvas.draw()
            rgba = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
            out = io.BytesIO()
            rgba.convert("RGB").save(out, format="PNG", compress_level=1)  # fast; static frames are re-packed
        return out.getvalue()

    def frame(self, **params: Any) -> bytes:
        """Like :meth:`render`, but each parameter combination is drawn once and then reused.

        ``draw`` is a pure function of the slider values, so a frame never changes: moving a live
        slider back to a value it has shown, or building the static slider after the live one,
        costs a dictionary look-up instead of a redraw.
        """
        full = self._complete(params)
        key = tuple(full[name] for name in self.specs)
        with self._lock:
            if key in self._frames:
                self._frames.move_to_end(key)
                return self._frames[key]
            png = self.render(**full)
            self._frames[key] = png
            if len(self._frames) > MAX_CACHED_FRAMES:
                self._frames.popitem(last=False)
            return png

    def cached(self, **params: Any) -> bool:
        """Whether the frame at ``params`` is already drawn."""
        return self.cached_frame(**params) is not None

    def cached_frame(self, **params: Any) -> bytes | None:
        """The frame at ``params`` if it is already drawn, else None (never draws)."""
        full = self._complete(params)
        return self._frames.get(tuple(full[name] for name in self.specs))

    def live(self, prefetch: bool = True) -> LiveFigure:
        """The live widget: one slider per parameter, then the image, redrawn by a background thread.

        With ``prefetch`` (default), the thread draws the neighbouring slider positions while the
        reader pauses.
        """
        return LiveFigure(self, prefetch=prefetch)

    def static_html(self) -> str:
        """A self-contained HTML slider over every static grid point, frames inlined as data URIs.

        The initial frame is the ``<img>``'s ``src``, so it shows without any script; each
        ``<input type="range">`` indexes its slider's static values, and its ``oninput`` handler
        recomputes the frame index (row-major), swaps the image source and updates the value shown
        and announced (``aria-valuetext``).
        """
        frames = [base64.b64encode(compact_png(self.frame(**p))).decode("ascii") for p in self.grid()]
        uid = f"pgbook-slider-{next(_slider_ids)}"
        controls = "\n".join(self._html_control(uid, i, name) for i, name in enumerate(self.values))
        start = self.grid().index(self.initial)
        width = round(self.figure.get_figwidth() * self.dpi)
        height = round(self.figure.get_figheight() * self.dpi)
        text = (
            f'<div class="pgbook-slider" id="{uid}" data-alt="{html.escape(self.alt)}">\n'
            f'<div class="pgbook-slider-controls" style="{_CONTROLS_STYLE}">\n{controls}\n</div>\n'
            f'<img class="pgbook-slider-frame" id="{uid}-frame" width="{width}" height="{height}"'
            f' style="display:block;max-width:100%;height:auto"'
            f' alt="{html.escape(self._alt_text(self.initial))}"'
            f' src="data:image/png;base64,{frames[start]}">\n'
            f'<script type="application/json" class="pgbook-slider-frames">{json.dumps(frames)}</script>\n'
            f"</div>"
        )
        if len(text) > MAX_STATIC_BYTES:
            raise ValueError(
                f"sliders: the static slider takes {len(text) / 1024**2:.1f} MB for {len(frames)} frames, "
                f"more than the {MAX_STATIC_BYTES / 1024**2:.0f} MB allowed; use fewer static values, "
                "a smaller figsize or a lower dpi"
            )
        return text

    def show(self) -> None:
        """Display the figure: the static HTML slider if ``PGBOOK_STATIC=1``, else the live widget."""
        if static_mode():
            display({"text/html": self.static_html()}, raw=True)
        else:
            display(self.live())

    def _complete(self, params: Mapping[str, Any]) -> dict[str, Any]:
        unknown = [name for name in params if name not in self.specs]
        if unknown:
            raise ValueError(f"params: unknown slider(s) {unknown}; the sliders are {list(self.specs)}")
        full = {**self.initial, **params}
        for name, value in full.items():
            snapped = self.specs[name].snap(value)
            if snapped is None:
                raise ValueError(f"params: {name}={value!r} is not among {self.specs[name].describe()}")
            full[name] = snapped
        return full

    def _alt_text(self, params: Mapping[str, Any]) -> str:
        return f"{self.alt} at " + ", ".join(f"{self.labels[n]} = {format_value(v)}" for n, v in params.items())

    def _html_control(self, uid: str, index: int, name: str) -> str:
        values = self.values[name]
        shown = [format_value(v) for v in values]
        input_id = f"{uid}-input-{index}"
        current = _index(values, self.initial[name])
        label = html.escape(self.labels[name])
        width = max(len(s) for s in shown) + 1
        return (
            f'<label for="{input_id}" style="grid-column:1">{label}</label>'
            f'<output for="{input_id}" class="pgbook-slider-value" style="grid-column:2;'
            f'min-width:{width}ch;font-variant-numeric:tabular-nums">{html.escape(shown[current])}</output>'
            f'<input type="range" class="pgbook-slider-input" id="{input_id}" min="0" max="{len(values) - 1}"'
            f' step="1" value="{current}" style="grid-column:3;width:100%;min-width:6em;margin:0"'
            f' aria-valuetext="{html.escape(shown[current])}" data-name="{html.escape(name)}"'
            f' data-label="{label}" data-values="{html.escape(json.dumps(shown))}"'
            f' oninput="{html.escape(_ONINPUT)}">'
        )


# Three columns (label, value, track); the value column has a fixed width in `ch` and tabular
# digits, so the track does not move when the value's text changes.
_CONTROLS_STYLE = ("display:grid;grid-template-columns:minmax(0,max-content) max-content minmax(6em,1fr);"
                   "gap:0.2em 0.75em;align-items:center;max-width:40em;margin-bottom:0.4em")

# The handler of every static range input. It needs no global function, so it also works where
# inline <script> elements are not executed (HTML inserted with innerHTML).
_ONINPUT = " ".join("""
var root = this.closest('.pgbook-slider');
var inputs = root.querySelectorAll('input.pgbook-slider-input');
var k = 0, parts = [];
for (var i = 0; i < inputs.length; i++) {
  k = k * (Number(inputs[i].max) + 1) + Number(inputs[i].value);
  parts.push(inputs[i].dataset.label + ' = ' + JSON.parse(inputs[i].dataset.values)[inputs[i].value]);
}
var shown = JSON.parse(this.dataset.values)[this.value];
root.querySelector('output[for=' + JSON.stringify(this.id) + ']').textContent = shown;
this.setAttribute('aria-valuetext', shown);
if (!root.pgbookFrames) root.pgbookFrames = JSON.parse(root.querySelector('script.pgbook-slider-frames').textContent);
var img = root.querySelector('img.pgbook-slider-frame');
img.src = 'data:image/png;base64,' + root.pgbookFrames[k];
img.alt = root.dataset.alt + ' at ' + parts.join(', ');
""".split())


# --------------------------------------------------------------------------------------------------
# The live widget


class LiveFigure(ipywidgets.VBox):
    """The live widget of a :class:`SliderFigure`: its sliders, then its image.

    A slider move whose frame is already drawn shows it at once. Otherwise it records the wanted
    position and returns, and a background thread draws the latest wanted position: positions
    passed over while it was busy are skipped, never queued. A frame is shown when it is finished
    unless a frame for a later move is already on screen, so the picture keeps up with a fast drag
    without ever going back. While nothing new is wanted, the thread draws ahead of the reader's
    position: the next two positions of the slider moved last, in the direction it moved, then one
    step back, then one step either way along the other sliders. Without a kernel, the widget's
    output shows the initial frame (``image/png`` beside the widget view).
    """

    def __init__(self, figure: SliderFigure, prefetch: bool = True) -> None:
        self.figure = figure
        self.prefetch = bool(prefetch)
        self.controls = {name: spec.widget(figure.labels[name], figure.initial[name])
                         for name, spec in figure.specs.items()}
        self._initial_png = figure.frame(**figure.initial)
        width = round(figure.figure.get_figwidth() * figure.dpi)  # shown at its own size, not stretched
        self.image = ipywidgets.Image(value=self._initial_png, format="png",
                                      layout={"width": f"{width}px", "max_width": "100%", "height": "auto"})
        super().__init__([*self.controls.values(), self.image])
        self._wanted: dict[str, Any] | None = None
        self._moves = 0  # counts slider moves
        self._shown_move = 0  # the move whose frame is on screen; older frames are never shown
        self._latest = dict(figure.initial)  # the reader's position, which the thread draws ahead of
        self._shown = dict(figure.initial)
        self.shown_log: deque[tuple[float, dict[str, Any]]] = deque(maxlen=10_000)
        """(time.perf_counter(), position) of every frame shown, for benchmarks."""
        self._direction: dict[str, int] = {}
        self._last_moved: str | None = None
        self._busy = False
        self._stopped = False
        self._error: BaseException | None = None
        self._condition = threading.Condition()
        for name, control in self.controls.items():
            control.observe(self._moved, names="value")
        self._thread = threading.Thread(target=self._run, name="pgbook-slider", daemon=True)
        self._thread.start()
        _LIVE.add(self)

    def close(self) -> None:
        """Stop the drawing thread (after the frame it is drawing, if any) and close the widget."""
        self.stop()
        super().close()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the drawing thread and wait for it; the sliders no longer redraw."""
        with self._condition:
            self._stopped = True
            self._condition.notify_all()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def position(self) -> dict[str, Any]:
        """The sliders' current values."""
        return {name: control.value for name, control in self.controls.items()}

    def wait(self, timeout: float = 10.0) -> None:
        """Block until the frame of the current position is shown (for tests and benchmarks)."""
        with self._condition:
            done = self._condition.wait_for(lambda: self._wanted is None and not self._busy, timeout)
        if self._error is not None:
            raise self._error
        if not done:
            raise TimeoutError(f"the slider figure did not finish drawing within {timeout} s")

    def _moved(self, change: Any) -> None:
        with self._condition:
            name = next(key for key, control in self.controls.items() if control is change["owner"])
            old, new = change["old"], change["new"]
            if isinstance(new, numbers.Real) and isinstance(old, numbers.Real):
                self._direction[name] = 1 if new >= old else -1
            self._last_moved = name
            self._moves += 1
            position = self.position()
            self._latest = position
            drawn = self.figure.cached_frame(**position)
            if drawn is not None:  # drawn ahead (or before): show it now, from this thread
                self._wanted = None
                self._show(drawn, position, self._moves)
            else:
                self._wanted = position
            self._condition.notify_all()

    def _show(self, png: bytes, position: dict[str, Any], move: int) -> None:
        """Display the frame answering ``move``, unless a later move's frame is on screen already;
        the caller holds the condition's lock."""
        if move < self._shown_move:
            return
        self.image.value = png
        self._shown, self._shown_move = position, move
        self.shown_log.append((time.perf_counter(), position))

    def _run(self) -> None:
        while True:
            with self._condition:
                self._condition.wait_for(lambda: self._stopped or self._wanted is not None
                                         or self._has_prefetch_work())
                if self._stopped:
                    return
                wanted, self._wanted = self._wanted, None
                moves = self._moves
                self._busy = wanted is not None
            try:
                if wanted is not None:
                    png = self.figure.frame(**wanted)
                    with self._condition:
                        self._show(png, wanted, moves)
                else:
                    self._prefetch_one()
            except Exception as err:  # keep the widget alive; report through wait() and the image's tooltip
                self._error = err
                self.image.tooltip = f"{type(err).__name__}: {err}"
            finally:
                with self._condition:
                    self._busy = False
                    self._condition.notify_all()

    def _neighbours(self) -> list[dict[str, Any]]:
        """Positions to draw ahead of the reader's, most likely first: two steps on along the slider
        moved last (in the direction it moved), one step back, then one step either way along the
        others."""
        out = []
        names = sorted(self.figure.specs, key=lambda n: n != self._last_moved)
        here = self._latest
        for name in names:
            spec = self.figure.specs[name]
            value = here[name]
            ahead = self._direction.get(name, 1)
            steps = [ahead, 2 * ahead, -ahead] if name == self._last_moved else [ahead, -ahead]
            if spec.range is not None:
                candidates = [spec.snap(value + s * spec.range.step) for s in steps]
            else:
                i = _index(spec.static, value)
                candidates = [spec.static[i + s] for s in steps if 0 <= i + s < len(spec.static)]
            out.extend({**here, name: c} for c in candidates if c is not None)
        return out

    def _has_prefetch_work(self) -> bool:
        return self.prefetch and any(not self.figure.cached(**p) for p in self._neighbours())

    def _prefetch_one(self) -> None:
        for params in self._neighbours():
            if not self.figure.cached(**params):
                self.figure.frame(**params)
                return

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle["image/png"] = base64.b64encode(self._initial_png).decode("ascii")
        bundle["text/plain"] = (f"{self.figure.alt} at " + ", ".join(
            f"{self.figure.labels[n]} = {format_value(v)}" for n, v in self.figure.initial.items())
            + " (run the cell to move the sliders)")
        return bundle


_LIVE: weakref.WeakSet[LiveFigure] = weakref.WeakSet()


@atexit.register
def _stop_live_figures() -> None:
    """At interpreter exit, let each drawing thread finish its frame and stop, rather than be killed
    in the middle of rasterizing (which aborts the process)."""
    for live in list(_LIVE):
        live.stop(timeout=5.0)


# --------------------------------------------------------------------------------------------------
# Argument checks


def _describe(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{name} = {format_value(value)}" for name, value in params.items())


def _index(values: Sequence[Any], value: Any) -> int:
    return next(i for i, v in enumerate(values) if _same(v, value))


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except (TypeError, ValueError):  # e.g. an array compared elementwise
        return a is b


def _check_sliders(sliders: Any) -> dict[str, _Spec]:
    if not isinstance(sliders, Mapping):
        raise ValueError(f"sliders: expected a dict mapping parameter names to lists of values or Ranges, got {sliders!r}")
    if not sliders:
        raise ValueError("sliders: expected at least one slider, got an empty mapping")
    checked: dict[str, _Spec] = {}
    for name, spec in sliders.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"sliders: parameter name {name!r} is not a valid Python identifier")
        checked[name] = _Spec(name, spec)
    n_frames = math.prod(len(spec.static) for spec in checked.values())
    if n_frames > MAX_FRAMES:
        sizes = " x ".join(str(len(spec.static)) for spec in checked.values())
        raise ValueError(f"sliders: the static grid has {sizes} = {n_frames} points, more than the "
                         f"{MAX_FRAMES} static frames allowed; use fewer static values")
    return checked


def _check_draw_signature(draw: Draw, values: Mapping[str, list[Any]]) -> None:
    try:
        signature = inspect.signature(draw)
    except (TypeError, ValueError):  # some builtins have no signature; calls will tell
        return
    try:
        signature.bind(None, **{name: vals[0] for name, vals in values.items()})
    except TypeError as err:
        raise ValueError(f"draw: cannot be called as draw(fig, {', '.join(f'{n}=...' for n in values)}): {err}") from None


def _check_labels(labels: Any, specs: Mapping[str, _Spec]) -> dict[str, str]:
    labels = _check_keys("labels", labels, specs)
    for name, label in labels.items():
        if not isinstance(label, str):
            raise ValueError(f"labels: label of {name!r} must be a string, got {label!r}")
    return labels


def _check_initial(initial: Any, specs: Mapping[str, _Spec]) -> dict[str, Any]:
    initial = _check_keys("initial", initial, specs)
    checked = {}
    for name, value in initial.items():
        snapped = specs[name].snap(value)
        if snapped is None or not any(_same(snapped, v) for v in specs[name].static):
            raise ValueError(f"initial: {name}={value!r} is not among the slider's static values "
                             f"{specs[name].static} (the site starts from the same frame as the kernel)")
        checked[name] = snapped
    return checked


def _check_keys(arg: str, mapping: Any, specs: Mapping[str, _Spec]) -> dict[str, Any]:
    if mapping is None:
        return {}
    if not isinstance(mapping, Mapping):
        raise ValueError(f"{arg}: expected a dict keyed by slider name, got {mapping!r}")
    unknown = [name for name in mapping if name not in specs]
    if unknown:
        raise ValueError(f"{arg}: unknown slider(s) {unknown}; the sliders are {list(specs)}")
    return dict(mapping)


def _check_alt(alt: Any, draw: Draw) -> str:
    if alt is None:  # the first line of draw's docstring, else its name
        doc = (inspect.getdoc(draw) or "").strip()
        return doc.splitlines()[0] if doc else f"Figure {getattr(draw, '__name__', 'draw')}"
    if not isinstance(alt, str) or not alt.strip():
        raise ValueError(f"alt: expected a non-empty description of the figure, got {alt!r}")
    return alt


def _check_positive(name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a positive number, got {value!r}") from None
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"{name}: expected a positive number, got {value!r}")
    return number


def _check_figsize(figsize: Any) -> tuple[float, float]:
    if isinstance(figsize, (str, bytes)) or not isinstance(figsize, Sequence) or len(figsize) != 2:
        raise ValueError(f"figsize: expected (width, height) in inches, got {figsize!r}")
    return _check_positive("figsize", figsize[0]), _check_positive("figsize", figsize[1])

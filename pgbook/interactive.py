"""Slider figures: one pure drawing function, two renderers.

A figure is a function ``draw(fig, **params)`` that draws into a cleared matplotlib ``Figure``.
:class:`SliderFigure` gives it a slider per parameter, over a finite list of values per slider, and
renders it two ways:

* live, in a kernel: ipywidgets sliders redraw one reused Agg figure and swap the PNG shown by an
  ``ipywidgets.Image`` in place (no new figure per move, nothing registered with pyplot);
* static, on the site (environment variable ``PGBOOK_STATIC=1``): every point of the grid (the
  cartesian product of the sliders' values) is rendered once, and a self-contained HTML slider swaps
  those precomputed frames, so a reader without a kernel can still move it.

Static frames are palette-quantized PNGs (64 colours): for typical line and histogram plots this
cuts the size by about 3x with no visible loss, which keeps the site small.
"""

from __future__ import annotations

import base64
import html
import inspect
import io
import itertools
import json
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import ipywidgets
from IPython.display import display
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

STATIC_ENV = "PGBOOK_STATIC"
"""Environment variable: ``1`` makes :meth:`SliderFigure.show` emit the static HTML slider."""

MAX_FRAMES = 64
"""Largest grid (number of static frames) a slider figure may have."""

PALETTE_COLORS = 64
"""Colours kept in a static frame's palette."""

_PNG_METADATA = {"Software": None}  # no software/version stamp: frames are byte-for-byte reproducible
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


class SliderFigure:
    """A figure ``draw(fig, **params)`` with one slider per parameter.

    ``sliders`` maps each parameter name to the list of values its slider steps through; the
    grid of all combinations (at most :data:`MAX_FRAMES` points) is what the static renderer
    precomputes. ``labels`` optionally renames sliders for display, ``initial`` picks starting
    values (default: each slider's first value). ``figsize`` (inches) and ``dpi`` fix the frame's
    pixel size; ``layout`` is the matplotlib layout engine of the reused figure (``None`` is
    faster, ``"constrained"`` keeps labels inside the frame). ``alt`` describes the figure for
    the static image's alt text (default: first line of ``draw``'s docstring).
    """

    def __init__(
        self,
        draw: Draw,
        sliders: Mapping[str, Sequence[Any]],
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
        self.values = _check_sliders(sliders)
        _check_draw_signature(draw, self.values)
        self.labels = {name: name for name in self.values}
        self.labels.update(_check_labels(labels, self.values))
        self.initial = {name: values[0] for name, values in self.values.items()}
        self.initial.update(_check_initial(initial, self.values))
        self.alt = _check_alt(alt, draw)
        self.dpi = _check_positive("dpi", dpi)
        width, height = _check_figsize(figsize)
        try:
            self.figure = Figure(figsize=(width, height), dpi=self.dpi, layout=layout)
        except (TypeError, ValueError) as err:
            raise ValueError(f"layout: not a matplotlib layout engine name, got {layout!r} ({err})") from None
        FigureCanvasAgg(self.figure)  # an Agg canvas of our own: pyplot never sees this figure
        self._frames: dict[tuple[Any, ...], bytes] = {}  # memo of frame(): draw is pure, so frames repeat

    @property
    def n_frames(self) -> int:
        """Number of grid points, i.e. of static frames."""
        return math.prod(len(values) for values in self.values.values())

    def grid(self) -> list[dict[str, Any]]:
        """Every parameter combination, in row-major order (the last slider varies fastest)."""
        names = list(self.values)
        return [dict(zip(names, combo)) for combo in itertools.product(*self.values.values())]

    def render(self, **params: Any) -> bytes:
        """One frame as PNG: clear the reused figure, call ``draw`` on it, encode it.

        Parameters not given take their initial values; every value must be one of its slider's.
        """
        full = self._complete(params)
        self.figure.clear()
        try:
            self.draw(self.figure, **full)
        except Exception as err:
            raise ValueError(f"draw: raised {type(err).__name__} at {_describe(full)}: {err}") from err
        out = io.BytesIO()
        self.figure.savefig(out, format="png", dpi=self.dpi, metadata=_PNG_METADATA)
        return out.getvalue()

    def frame(self, **params: Any) -> bytes:
        """Like :meth:`render`, but each grid point is drawn once and then reused.

        ``draw`` is a pure function of the slider values, so a frame never changes: moving a live
        slider back to a value it has shown, or building the static slider after the live one,
        costs a dictionary look-up instead of a redraw.
        """
        full = self._complete(params)
        key = tuple(full[name] for name in self.values)
        if key not in self._frames:
            self._frames[key] = self.render(**full)
        return self._frames[key]

    def live(self) -> ipywidgets.VBox:
        """A widget: one ``SelectionSlider`` per parameter, then an ``Image`` redrawn in place.

        The returned box's children are the sliders (in the order of ``sliders``) followed by
        the image; moving a slider renders the new frame into the same figure and replaces the
        image's PNG bytes.
        """
        controls = {
            name: ipywidgets.SelectionSlider(
                options=[(format_value(v), v) for v in values],
                value=self.initial[name],
                description=self.labels[name],
                style={"description_width": "initial"},
                layout={"width": "28em"},
            )
            for name, values in self.values.items()
        }
        image = ipywidgets.Image(value=self.frame(**self.initial), format="png")

        def update(_change: Any) -> None:
            image.value = self.frame(**{name: c.value for name, c in controls.items()})

        for control in controls.values():
            control.observe(update, names="value")
        return ipywidgets.VBox([*controls.values(), image])

    def static_html(self) -> str:
        """A self-contained HTML slider over every grid point, frames inlined as data URIs.

        The initial frame is the ``<img>``'s ``src``, so it shows without any script; each
        ``<input type="range">`` indexes its slider's values, and its ``oninput`` handler
        recomputes the frame index (row-major) and swaps the image source.
        """
        frames = [base64.b64encode(compact_png(self.frame(**p))).decode("ascii") for p in self.grid()]
        uid = f"pgbook-slider-{next(_slider_ids)}"
        inputs = "\n".join(self._html_input(uid, i, name) for i, name in enumerate(self.values))
        start = self.grid().index(self.initial)
        width = round(self.figure.get_figwidth() * self.dpi)
        height = round(self.figure.get_figheight() * self.dpi)
        return (
            f'<div class="pgbook-slider" id="{uid}" data-alt="{html.escape(self.alt)}">\n'
            f"{inputs}\n"
            f'<img class="pgbook-slider-frame" id="{uid}-frame" width="{width}" height="{height}"'
            f' style="display:block;max-width:100%;height:auto"'
            f' alt="{html.escape(self._alt_text(self.initial))}"'
            f' src="data:image/png;base64,{frames[start]}">\n'
            f'<script type="application/json" class="pgbook-slider-frames">{json.dumps(frames)}</script>\n'
            f"</div>"
        )

    def show(self) -> None:
        """Display the figure: the static HTML slider if ``PGBOOK_STATIC=1``, else the live widget."""
        if static_mode():
            display({"text/html": self.static_html()}, raw=True)
        else:
            display(self.live())

    def _complete(self, params: Mapping[str, Any]) -> dict[str, Any]:
        unknown = [name for name in params if name not in self.values]
        if unknown:
            raise ValueError(f"params: unknown slider(s) {unknown}; the sliders are {list(self.values)}")
        full = {**self.initial, **params}
        for name, value in full.items():
            if not _contains(self.values[name], value):
                raise ValueError(f"params: {name}={value!r} is not among the slider's values {self.values[name]}")
        return full

    def _alt_text(self, params: Mapping[str, Any]) -> str:
        return f"{self.alt} at " + ", ".join(f"{self.labels[n]} = {format_value(v)}" for n, v in params.items())

    def _html_input(self, uid: str, index: int, name: str) -> str:
        values = self.values[name]
        shown = [format_value(v) for v in values]
        input_id = f"{uid}-input-{index}"
        current = _index(values, self.initial[name])
        label = html.escape(self.labels[name])
        return (
            f'<div class="pgbook-slider-control" style="display:flex;align-items:center;gap:0.5em">'
            f'<label for="{input_id}" style="min-width:12em">{label} = '
            f'<span class="pgbook-slider-value">{html.escape(shown[current])}</span></label> '
            f'<input type="range" class="pgbook-slider-input" id="{input_id}" min="0" max="{len(values) - 1}"'
            f' step="1" value="{current}" data-name="{html.escape(name)}" data-label="{label}"'
            f' data-values="{html.escape(json.dumps(shown))}" oninput="{html.escape(_ONINPUT)}"></div>'
        )


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
this.parentNode.querySelector('.pgbook-slider-value').textContent = JSON.parse(this.dataset.values)[this.value];
if (!root.pgbookFrames) root.pgbookFrames = JSON.parse(root.querySelector('script.pgbook-slider-frames').textContent);
var img = root.querySelector('img.pgbook-slider-frame');
img.src = 'data:image/png;base64,' + root.pgbookFrames[k];
img.alt = root.dataset.alt + ' at ' + parts.join(', ');
""".split())


def _describe(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{name} = {format_value(value)}" for name, value in params.items())


def _contains(values: Sequence[Any], value: Any) -> bool:
    return any(_same(v, value) for v in values)


def _index(values: Sequence[Any], value: Any) -> int:
    return next(i for i, v in enumerate(values) if _same(v, value))


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except (TypeError, ValueError):  # e.g. an array compared elementwise
        return a is b


def _check_sliders(sliders: Any) -> dict[str, list[Any]]:
    if not isinstance(sliders, Mapping):
        raise ValueError(f"sliders: expected a dict mapping parameter names to lists of values, got {sliders!r}")
    if not sliders:
        raise ValueError("sliders: expected at least one slider, got an empty mapping")
    checked: dict[str, list[Any]] = {}
    for name, values in sliders.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"sliders: parameter name {name!r} is not a valid Python identifier")
        if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
            raise ValueError(f"sliders: values of {name!r} must be a list of values, got {values!r}")
        values = list(values)
        if not values:
            raise ValueError(f"sliders: slider {name!r} has no values")
        for i, j in itertools.combinations(range(len(values)), 2):
            if _same(values[i], values[j]):
                raise ValueError(f"sliders: slider {name!r} lists the value {values[i]!r} twice")
        checked[name] = values
    n_frames = math.prod(len(values) for values in checked.values())
    if n_frames > MAX_FRAMES:
        sizes = " x ".join(str(len(values)) for values in checked.values())
        raise ValueError(f"sliders: the grid has {sizes} = {n_frames} points, more than the "
                         f"{MAX_FRAMES} static frames allowed; use fewer values")
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


def _check_labels(labels: Any, values: Mapping[str, list[Any]]) -> dict[str, str]:
    labels = _check_keys("labels", labels, values)
    for name, label in labels.items():
        if not isinstance(label, str):
            raise ValueError(f"labels: label of {name!r} must be a string, got {label!r}")
    return labels


def _check_initial(initial: Any, values: Mapping[str, list[Any]]) -> dict[str, Any]:
    initial = _check_keys("initial", initial, values)
    for name, value in initial.items():
        if not _contains(values[name], value):
            raise ValueError(f"initial: {name}={value!r} is not among the slider's values {values[name]}")
    return initial


def _check_keys(arg: str, mapping: Any, values: Mapping[str, list[Any]]) -> dict[str, Any]:
    if mapping is None:
        return {}
    if not isinstance(mapping, Mapping):
        raise ValueError(f"{arg}: expected a dict keyed by slider name, got {mapping!r}")
    unknown = [name for name in mapping if name not in values]
    if unknown:
        raise ValueError(f"{arg}: unknown slider(s) {unknown}; the sliders are {list(values)}")
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

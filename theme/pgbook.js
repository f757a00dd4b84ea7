// Policy Gradients, Executably: scale display equations down to the text column's width.
//
// MathJax 3 does not break long display equations across lines. The book splits its long
// equations by hand; on a narrow screen an equation that is still wider than the column is shown
// at a smaller size (down to MIN_SCALE of the text size) instead of overflowing the page. The
// browser test fails on any equation that still overflows at that size.
(function () {
  "use strict";
  var MIN_SCALE = 0.6;

  function fit(container) {
    container.style.fontSize = "";
    container.classList.remove("pgbook-fitted");
    var parent = container.parentElement;
    if (!parent) return;
    var available = parent.clientWidth;
    var needed = container.scrollWidth;
    if (available > 0 && needed > available + 1) {
      var scale = Math.max(MIN_SCALE, (available - 2) / needed);
      container.style.fontSize = (100 * scale).toFixed(1) + "%";
      container.classList.add("pgbook-fitted");
    }
  }

  function fitAll() {
    document.querySelectorAll('mjx-container[display="true"]').forEach(fit);
  }

  function whenTypeset() {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      MathJax.startup.promise.then(fitAll);
    } else {
      setTimeout(whenTypeset, 50);
    }
  }

  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(fitAll, 100);
  });
  // Label each cell of a prose table with its column header, for the stacked phone layout.
  function labelTableCells() {
    document.querySelectorAll("article table.table").forEach(function (table) {
      var headers = Array.from(table.querySelectorAll("thead th")).map(function (th) {
        return th.textContent.trim();
      });
      table.querySelectorAll("tbody tr").forEach(function (row) {
        Array.from(row.children).forEach(function (cell, i) {
          if (headers[i]) cell.setAttribute("data-label", headers[i]);
        });
      });
    });
  }

  window.pgbookFitMath = fitAll;
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", labelTableCells);
  } else {
    labelTableCells();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", whenTypeset);
  } else {
    whenTypeset();
  }
})();

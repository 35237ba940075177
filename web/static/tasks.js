/* The task grid, keyboard-first: Enter moves down the column, focusing a cell selects its text
   (typing replaces it), and a cell the filler is typing into keeps her text when htmx swaps it. */
(function () {
  "use strict";

  function isTextInput(el) {
    return el && el.matches && el.matches(".task-grid input[type=text], .task-grid input[type=date]");
  }

  document.addEventListener("keydown", function (event) {
    var el = event.target;
    if (event.key !== "Enter" || event.isComposing || !el.closest || !el.closest(".task-grid")) return;
    if (!el.matches("input, select")) return;
    var td = el.closest("td[data-field]");
    var tr = td && td.closest("tr");
    if (!td) return;
    event.preventDefault();
    // Leaving the cell saves it (its change event); then move to the same column one row down.
    var next = tr;
    do { next = next.nextElementSibling; }
    while (next && !next.querySelector('td[data-field="' + td.dataset.field + '"] input:not([type=hidden]), td[data-field="' + td.dataset.field + '"] select'));
    if (!next) { el.blur(); return; }
    var target = next.querySelector('td[data-field="' + td.dataset.field + '"] input:not([type=hidden]), td[data-field="' + td.dataset.field + '"] select');
    target.focus();
  });

  document.addEventListener("focusin", function (event) {
    if (isTextInput(event.target)) event.target.select();
  });

  // A swap must not wipe what the filler is typing into the element that has the focus.
  var typing = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var el = document.activeElement;
    var source = event.detail.requestConfig && event.detail.requestConfig.elt;
    typing = el && el.id && !(source && source.contains(el)) && el.matches("input, textarea") && el.value !== el.defaultValue
      ? { id: el.id, value: el.value, start: el.selectionStart, end: el.selectionEnd } : null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!typing) return;
    var el = document.getElementById(typing.id);
    if (el && el !== document.activeElement) {
      el.value = typing.value;
      el.focus();
      try { el.setSelectionRange(typing.start, typing.end); } catch (e) { /* date inputs */ }
    } else if (el && el.value !== typing.value) {
      el.value = typing.value;
    }
    typing = null;
  });
})();

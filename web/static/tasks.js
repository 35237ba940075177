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
    var cell = 'td[data-field="' + td.dataset.field + '"] ';
    var editable = cell + "input:not([type=hidden]):not(.cell-correct *), " + cell + "select:not(.cell-correct *)";
    do { next = next.nextElementSibling; }
    while (next && !next.querySelector(editable));
    if (!next) { el.blur(); return; }
    var target = next.querySelector(editable);
    target.focus();
  });

  document.addEventListener("focusin", function (event) {
    if (isTextInput(event.target)) event.target.select();
  });

  // Pasting a block copied from Excel (tab-separated columns, one line per row) fills the cells
  // to the right and below, each saved like a typed cell; masked, computed and choice-button
  // cells are left alone. A single value pastes as usual.
  var FILLABLE = ["input[type=text]", "input[type=date]", "textarea", "select"];

  function fillable(row, field) {
    var td = row.querySelector('td[data-field="' + field + '"]');
    if (!td) return null;
    for (var i = 0; i < FILLABLE.length; i++) {
      var el = td.querySelector(FILLABLE[i]);
      // A masked cell's correction box is opened on purpose, never filled by a paste.
      if (el && !el.closest(".cell-correct")) return el;
    }
    return null;
  }

  function nextRow(row) {
    var next = row.nextElementSibling;
    while (next && !next.matches(".task-row")) next = next.nextElementSibling;
    return next;
  }

  document.addEventListener("paste", function (event) {
    var el = event.target;
    if (!el.closest || !el.closest(".task-grid") || !el.matches("input, select, textarea")) return;
    var text = (event.clipboardData || window.clipboardData).getData("text");
    if (!text || (text.indexOf("\t") < 0 && text.indexOf("\n") < 0)) return;
    event.preventDefault();
    var td = el.closest("td[data-field]");
    var row = td.closest("tr");
    var fields = Array.prototype.map.call(row.querySelectorAll("td[data-field]"), function (c) {
      return c.dataset.field;
    });
    var start = fields.indexOf(td.dataset.field);
    text.replace(/\r/g, "").replace(/\n$/, "").split("\n").forEach(function (line) {
      if (!row) return;
      line.split("\t").forEach(function (value, j) {
        var input = fields[start + j] && fillable(row, fields[start + j]);
        if (!input) return;
        input.value = value.trim();
        input.dispatchEvent(new Event("change", { bubbles: true }));
      });
      row = nextRow(row);
    });
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

// linres report: sorting and filtering of the tables marked `sortable`. Without scripts the tables
// stay in grid order. URL fragment: #sort=COLUMN (ascending) or #sort=-COLUMN (descending), and
// #filter=TEXT, joined by '&' (e.g. #sort=-final_rel_excess&filter=status=diverged).
(function () {
  'use strict';

  // The sort key of a cell: its data-v (numbers as numbers, Infinity included) or its text.
  function key(cell) {
    var v = cell.hasAttribute('data-v') ? cell.getAttribute('data-v') : cell.textContent;
    if (v.trim() === '' || v === 'NaN') { return { kind: 2, v: '' }; }  // empty or NaN: always last
    var n = Number(v);
    if (!isNaN(n)) { return { kind: 0, v: n }; }                       // numbers before text
    return { kind: 1, v: v.toLowerCase() };
  }

  function compare(a, b) {
    if (a.kind !== b.kind) { return a.kind - b.kind; }
    if (a.v < b.v) { return -1; }
    if (a.v > b.v) { return 1; }
    return 0;
  }

  function columnIndex(table, name) {
    var heads = table.tHead.rows[0].cells;
    for (var i = 0; i < heads.length; i++) {
      if (heads[i].getAttribute('data-col') === name) { return i; }
    }
    return -1;
  }

  // Stable sort of the body rows by column `col`; empty cells stay last in either direction.
  function sortBy(table, col, descending) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var keyed = rows.map(function (row, i) { return { row: row, key: key(row.cells[col]), i: i }; });
    keyed.sort(function (a, b) {
      var c = compare(a.key, b.key);
      if (c !== 0 && descending && a.key.kind !== 2 && b.key.kind !== 2) { c = -c; }
      return c !== 0 ? c : a.i - b.i;
    });
    keyed.forEach(function (k) { body.appendChild(k.row); });
    var heads = table.tHead.rows[0].cells;
    for (var i = 0; i < heads.length; i++) {
      if (i === col) { heads[i].setAttribute('aria-sort', descending ? 'descending' : 'ascending'); }
      else { heads[i].removeAttribute('aria-sort'); }
    }
  }

  // Shows the rows matching every whitespace-separated term: `field=value` (exact, on a column by
  // its data-col name) or free text (anywhere in the row, case-insensitive).
  function filter(table, text) {
    var terms = text.trim().split(/\s+/).filter(function (t) { return t !== ''; });
    var shown = 0;
    var rows = table.tBodies[0].rows;
    for (var r = 0; r < rows.length; r++) {
      var row = rows[r];
      var ok = terms.every(function (term) {
        var eq = term.indexOf('=');
        if (eq > 0) {
          var col = columnIndex(table, term.slice(0, eq));
          if (col >= 0) { return row.cells[col].textContent.trim() === term.slice(eq + 1); }
        }
        return row.textContent.toLowerCase().indexOf(term.toLowerCase()) >= 0;
      });
      row.hidden = !ok;
      if (ok) { shown++; }
    }
    var counter = document.querySelector('span.shown[data-table="' + table.id + '"]');
    var unit = table.getAttribute('data-rows') || 'runs';
    if (counter) { counter.textContent = shown + ' of ' + rows.length + ' ' + unit + ' shown'; }
  }

  function fragment() {
    var out = {};
    location.hash.replace(/^#/, '').split('&').forEach(function (part) {
      var eq = part.indexOf('=');
      if (eq > 0) { out[part.slice(0, eq)] = decodeURIComponent(part.slice(eq + 1)); }
    });
    return out;
  }

  var tables = document.querySelectorAll('table.sortable');
  Array.prototype.forEach.call(tables, function (table) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      th.title = 'sort by this column';
      th.addEventListener('click', function () {
        sortBy(table, col, th.getAttribute('aria-sort') === 'ascending');
      });
    });
    var box = document.querySelector('input.filter[data-table="' + table.id + '"]');
    if (box) { box.addEventListener('input', function () { filter(table, box.value); }); }
  });

  // A fragment that sorts or filters a table also brings it into view (its filter box at the top
  // of the window): the first table it applies to.
  var wanted = fragment();
  var shown = null;
  Array.prototype.forEach.call(tables, function (table) {
    var applied = false;
    if (wanted.sort) {
      var descending = wanted.sort.charAt(0) === '-';
      var col = columnIndex(table, descending ? wanted.sort.slice(1) : wanted.sort);
      if (col >= 0) { sortBy(table, col, descending); applied = true; }
    }
    var box = document.querySelector('input.filter[data-table="' + table.id + '"]');
    if (box) {
      if (wanted.filter) { box.value = wanted.filter; applied = true; }
      filter(table, box.value);
    }
    if (applied && !shown) { shown = box ? box.closest('p') || box : table; }
  });
  if (shown) { shown.scrollIntoView({ block: 'start' }); }
  document.documentElement.setAttribute('data-js', 'ready');
}());

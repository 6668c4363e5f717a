/* summaryplus report: folding, sorting within a level, a path filter, runs of
   identical blocks folded under their first, and keyboard navigation (arrows,
   Enter, Home/End, "/" to filter) over the static table the page already holds
   (it works without this script). */
(function (script) {
  "use strict";
  var scope = (script && script.parentNode) || document;
  var roots = scope.querySelectorAll(".sp-r:not([data-ready])");
  for (var k = 0; k < roots.length; k++) init(roots[k]);

  function init(root) {
    var source = root.querySelector("script.sp-data");
    if (!source) return; // a comparison's or diff's header: nothing to fold
    var data = JSON.parse(source.textContent);
    var rows = data.rows; // [parent, depth, path, sort key per column (the name's: class)...]
    var n = rows.length;
    var tbody = root.querySelector("tbody");
    var trs = Array.prototype.slice.call(tbody.rows);
    // Per row: open (children shown), shown, and the classes last written
    // (1: "op", 2: "hit"), so a refresh touches only the rows that change.
    var kids = [], tops = [], open = new Uint8Array(n), vis = new Uint8Array(n);
    var marks = new Uint8Array(n), text = [], i;
    // Runs of identical blocks: each member's first block, and whether it is unfolded.
    var repOf = new Int32Array(n).fill(-1), repOpen = new Uint8Array(n);
    (data.repeats || []).forEach(function (run) {
      run[1].forEach(function (member) { repOf[member] = run[0]; });
    });
    for (i = 0; i < n; i++) kids.push([]);
    for (i = 0; i < n; i++) {
      (rows[i][0] < 0 ? tops : kids[rows[i][0]]).push(i);
      open[i] = rows[i][1] < data.depth ? 1 : 0;
      vis[i] = trs[i].classList.contains("f") ? 0 : 1;
      marks[i] = trs[i].classList.contains("op") ? 1 : 0;
      trs[i].spIndex = i;
      text.push((rows[i][2] + " " + rows[i][3]).toLowerCase());
    }
    var query = "", sortCol = -1, sortDir = 0;
    var heads = root.querySelectorAll("thead th");
    var input = root.querySelector(".sp-tools input");
    var counter = root.querySelector(".sp-n");
    root.classList.add("sp-js");

    function refresh() {
      var hit = null, shown = 0, j, p, v;
      if (query) {
        hit = new Uint8Array(n);
        for (j = n - 1; j >= 0; j--) {
          if (text[j].indexOf(query) >= 0) hit[j] |= 2;
          p = rows[j][0];
          if (hit[j] && p >= 0) hit[p] |= 1;
        }
      }
      for (j = 0; j < n; j++) {
        p = rows[j][0];
        v = hit ? (hit[j] ? 1 : 0) : (p < 0 || (vis[p] && open[p]) ? 1 : 0);
        if (!hit && repOf[j] >= 0 && !repOpen[repOf[j]]) v = 0;
        if (v !== vis[j]) { vis[j] = v; trs[j].classList.toggle("f", !v); }
        var opened = kids[j].length && (hit ? (hit[j] & 1) > 0 : open[j] > 0) ? 1 : 0;
        var m = opened | (hit && hit[j] & 2 ? 2 : 0);
        if (m !== marks[j]) {
          if ((m ^ marks[j]) & 1) trs[j].classList.toggle("op", !!(m & 1));
          if ((m ^ marks[j]) & 2) trs[j].classList.toggle("hit", !!(m & 2));
          marks[j] = m;
        }
        shown += v;
      }
      if (counter) counter.textContent = shown + " of " + n + " rows shown";
      for (j = 0; j < n; j++) {
        if (kids[j].length) trs[j].setAttribute("aria-expanded", marks[j] & 1 ? "true" : "false");
      }
    }

    function order() {
      var out = [], stack = [], col = sortCol, dir = sortDir;
      function sorted(list) {
        if (col < 0) return list;
        return list.slice().sort(function (a, b) {
          var x = rows[a][3 + col], y = rows[b][3 + col];
          var c = typeof x === "number" ? x - y : String(x).localeCompare(String(y));
          return c * dir || a - b;
        });
      }
      var first = sorted(tops);
      for (var j = first.length - 1; j >= 0; j--) stack.push(first[j]);
      while (stack.length) {
        var r = stack.pop();
        out.push(r);
        var below = sorted(kids[r]);
        for (var m = below.length - 1; m >= 0; m--) stack.push(below[m]);
      }
      // Empty the body at once, then put the rows back in one fragment: moving
      // them one by one within the table costs time quadratic in their number.
      tbody.textContent = "";
      var frag = document.createDocumentFragment();
      for (var q = 0; q < out.length; q++) frag.appendChild(trs[out[q]]);
      tbody.appendChild(frag);
    }

    function sortBy(col) {
      var numeric = data.numeric[col];
      // Numbers sort largest first, names A to Z; a third click restores call order.
      var start = numeric ? -1 : 1;
      if (sortCol !== col) { sortCol = col; sortDir = start; }
      else if (sortDir === start) sortDir = -start;
      else { sortCol = -1; sortDir = 0; }
      for (var h = 0; h < heads.length; h++) {
        var on = h === sortCol;
        if (on) heads[h].setAttribute("aria-sort", sortDir < 0 ? "descending" : "ascending");
        else heads[h].removeAttribute("aria-sort");
      }
      order();
    }

    function toggleRun(j) {
      repOpen[j] = repOpen[j] ? 0 : 1;
      trs[j].classList.toggle("ro", !!repOpen[j]);
      refresh();
    }
    function toggle(j) {
      if (j === undefined || !kids[j].length || query) return;
      open[j] = open[j] ? 0 : 1;
      refresh();
    }
    tbody.addEventListener("click", function (event) {
      var cell = event.target.closest("td");
      if (!cell || cell.cellIndex !== 0) return;
      var j = cell.parentNode.spIndex;
      if (event.target.closest(".rp")) { toggleRun(j); return; }
      toggle(j);
    });

    // Keyboard: rows take focus (one at a time in the tab order); Up/Down move
    // between shown rows, Right unfolds or goes to the first child, Left folds
    // or goes to the parent, Enter/Space fold, "+" shows a run's other blocks.
    for (i = 0; i < n; i++) trs[i].tabIndex = -1;
    trs[0] && (trs[0].tabIndex = 0);
    function focusRow(j) {
      if (j === undefined || j < 0) return;
      for (var q = 0; q < n; q++) if (trs[q].tabIndex === 0) trs[q].tabIndex = -1;
      trs[j].tabIndex = 0;
      trs[j].focus();
    }
    function shownRows() {
      return Array.prototype.filter.call(tbody.rows, function (tr) {
        return !tr.classList.contains("f");
      });
    }
    tbody.addEventListener("keydown", function (event) {
      var tr = event.target.closest("tr");
      if (!tr || tr.spIndex === undefined) return;
      var j = tr.spIndex, list = shownRows(), at = list.indexOf(tr), key = event.key;
      if (key === "ArrowDown" && at + 1 < list.length) focusRow(list[at + 1].spIndex);
      else if (key === "ArrowUp" && at > 0) focusRow(list[at - 1].spIndex);
      else if (key === "Home") focusRow(list[0].spIndex);
      else if (key === "End") focusRow(list[list.length - 1].spIndex);
      else if (key === "ArrowRight") {
        if (kids[j].length && !open[j]) toggle(j);
        else if (kids[j].length && at + 1 < list.length) focusRow(list[at + 1].spIndex);
      } else if (key === "ArrowLeft") {
        if (kids[j].length && open[j] && !query) toggle(j);
        else focusRow(rows[j][0]);
      } else if (key === "Enter" || key === " ") toggle(j);
      else if (key === "+" && (data.repeats || []).some(function (r) { return r[0] === j; })) {
        toggleRun(j);
      } else return;
      event.preventDefault();
    });
    root.addEventListener("keydown", function (event) {
      if (event.key === "/" && input && document.activeElement !== input) {
        event.preventDefault();
        input.focus();
      } else if (event.key === "Escape" && document.activeElement === input) {
        input.value = ""; query = ""; refresh(); focusRow(0);
      }
    });
    for (var h = 0; h < heads.length; h++) {
      (function (col) {
        heads[col].addEventListener("click", function () { sortBy(col); });
      })(h);
    }
    if (input) input.addEventListener("input", function () {
      query = input.value.trim().toLowerCase();
      refresh();
    });
    root.querySelector(".sp-tools").addEventListener("click", function (event) {
      var act = event.target.getAttribute && event.target.getAttribute("data-act");
      if (!act) return;
      for (var j = 0; j < n; j++) open[j] = act === "expand" || rows[j][1] < data.depth ? 1 : 0;
      if (act === "collapse") open.fill(0);
      // "Expand all" shows every block of a run too; the other two fold runs again.
      for (j = 0; j < n; j++) {
        repOpen[j] = act === "expand" ? 1 : 0;
        trs[j].classList.toggle("ro", !!repOpen[j]);
      }
      refresh();
    });
    refresh();
    root.setAttribute("data-ready", performance.now().toFixed(1));
  }
})(document.currentScript);

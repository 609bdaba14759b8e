/* cib report: sortable/filterable tables, index filters, the cluster graph and click-to-highlight.
   Every attacker-controlled string reaches the DOM through textContent, never innerHTML. */
(function () {
  "use strict";
  var each = function (list, fn) { Array.prototype.forEach.call(list, fn); };

  function cellValue(td) {
    var v = td.getAttribute("data-v");
    return v !== null ? v : td.textContent.trim();
  }

  function compare(x, y) {
    if (x === "" && y !== "") { return 1; }
    if (y === "" && x !== "") { return -1; }
    var nx = Number(x), ny = Number(y);
    if (x !== "" && y !== "" && !isNaN(nx) && !isNaN(ny)) { return nx - ny; }
    return x < y ? -1 : (x > y ? 1 : 0);
  }

  each(document.querySelectorAll("table.sortable"), function (table) {
    var heads = table.tHead.rows[0].cells;
    each(heads, function (th, col) {
      th.addEventListener("click", function () {
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
        each(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
        rows.sort(function (a, b) { return dir * compare(cellValue(a.cells[col]), cellValue(b.cells[col])); });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });

  each(document.querySelectorAll("input[data-filter]"), function (input) {
    var table = document.getElementById(input.getAttribute("data-filter"));
    if (!table) { return; }
    input.addEventListener("input", function () {
      var q = input.value.trim().toLowerCase();
      var groups = table.getAttribute("data-groups") === "1" ? table.tBodies : table.tBodies[0].rows;
      each(groups, function (g) { g.hidden = q !== "" && g.textContent.toLowerCase().indexOf(q) < 0; });
    });
  });

  // Index: platform / class / score / free-text filters.
  var form = document.getElementById("filters");
  if (form) {
    var apply = function () {
      var platform = form.elements.platform.value, klass = form.elements["class"].value;
      var min = parseFloat(form.elements.minscore.value || "0"), q = form.elements.q.value.trim().toLowerCase();
      var shown = 0;
      each(document.querySelectorAll("#clusters tbody tr"), function (tr) {
        var ok = (platform === "" || (" " + tr.getAttribute("data-platforms") + " ").indexOf(" " + platform + " ") >= 0)
          && (klass === "" || tr.getAttribute("data-class") === klass)
          && parseFloat(tr.getAttribute("data-score")) >= (isNaN(min) ? 0 : min)
          && (q === "" || tr.getAttribute("data-search").indexOf(q) >= 0);
        tr.hidden = !ok;
        shown += ok ? 1 : 0;
      });
      document.getElementById("shown").textContent = String(shown);
    };
    form.addEventListener("input", apply);
    form.addEventListener("submit", function (e) { e.preventDefault(); apply(); });
  }

  // Cluster and overview pages: the graph.
  var holder = document.getElementById("graph"), dataEl = document.getElementById("graph-data");
  if (!holder || !dataEl || typeof vis === "undefined") { window.__reportReady = true; return; }
  var data = JSON.parse(dataEl.textContent);
  var byId = {};
  function tooltip(lines) {
    var box = document.createElement("div");
    lines.forEach(function (line, i) {
      var p = document.createElement("div");
      p.textContent = line;
      if (i === 0) { p.style.fontWeight = "600"; }
      box.appendChild(p);
    });
    return box;
  }
  data.nodes.forEach(function (n) { byId[n.id] = n; n.title = tooltip(n.tip || [n.id]); delete n.tip; });
  data.edges.forEach(function (e) { e.title = tooltip(e.tip || []); delete e.tip; });
  var nodes = new vis.DataSet(data.nodes), edges = new vis.DataSet(data.edges);
  var network = new vis.Network(holder, {nodes: nodes, edges: edges}, data.options);
  window.network = network;
  window.nodes = nodes;
  network.once("afterDrawing", function () { network.fit({animation: false}); window.__reportReady = true; });
  network.on("hoverNode", function (p) { var n = byId[p.node]; if (n && n.full) { nodes.update({id: p.node, label: n.full}); } });
  network.on("blurNode", function (p) { var n = byId[p.node]; if (n && n.full) { nodes.update({id: p.node, label: n.label || " "}); } });

  var status = document.getElementById("selection");
  function highlight(uid) {
    each(document.querySelectorAll(".hl"), function (el) { el.classList.remove("hl"); });
    if (status) { status.textContent = ""; }
    if (uid === null) { return; }
    var rows = Array.prototype.filter.call(document.querySelectorAll("[data-account]"), function (el) {
      return el.getAttribute("data-account") === uid;
    });
    rows.forEach(function (el) { el.classList.add("hl"); });
    if (status) {
      var n = byId[uid];
      status.textContent = "selected: " + (n && n.full ? n.full : uid) + " (" + rows.length + " rows highlighted)";
    }
    if (rows.length) { rows[0].scrollIntoView({block: "nearest"}); }
  }
  window.highlightAccount = highlight;
  network.on("click", function (p) { highlight(p.nodes.length === 1 ? String(p.nodes[0]) : null); });
  each(document.querySelectorAll("#members tbody tr"), function (tr) {
    tr.addEventListener("click", function (e) {
      if (e.target && e.target.tagName === "A") { return; }
      var uid = tr.getAttribute("data-account");
      if (byId[uid]) { network.selectNodes([uid]); network.focus(uid, {scale: 1.2, animation: false}); }
      highlight(uid);
    });
  });
})();

// lightcost view: hover details and a sortable table. Text goes in through textContent only.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("lc-data").textContent);
  var panel = document.getElementById("lc-detail");
  var rows = document.querySelectorAll("#lc-table tbody tr");
  var nodes = document.querySelectorAll("#lc-graph g.n");

  function show(i) {
    var record = data.layers[i];
    if (!record) { return; }
    panel.textContent = "";
    document.getElementById("lc-which").textContent = "(layer " + (i + 1) + ")";
    Object.keys(record).forEach(function (key) {
      var line = document.createElement("div");
      var name = document.createElement("b");
      name.textContent = key + ": ";
      line.appendChild(name);
      line.appendChild(document.createTextNode(JSON.stringify(record[key])));
      panel.appendChild(line);
    });
  }

  function mark(i, on) {
    var node = document.querySelector('#lc-graph g.n[data-i="' + i + '"]');
    var row = document.querySelector('#lc-table tr[data-i="' + i + '"]');
    if (node) { node.classList.toggle("hot", on); }
    if (row) { row.classList.toggle("hot", on); }
    if (on) { show(i); }
  }

  function watch(element) {
    var i = Number(element.getAttribute("data-i"));
    element.addEventListener("mouseenter", function () { mark(i, true); });
    element.addEventListener("mouseleave", function () { mark(i, false); });
  }
  Array.prototype.forEach.call(nodes, watch);
  Array.prototype.forEach.call(rows, watch);

  var heads = document.querySelectorAll("#lc-table th");
  Array.prototype.forEach.call(heads, function (head, column) {
    head.addEventListener("click", function () {
      var body = document.querySelector("#lc-table tbody");
      var up = head.getAttribute("data-order") !== "up";
      var numeric = head.classList.contains("num");
      var list = Array.prototype.slice.call(body.rows);
      list.sort(function (a, b) {
        var x = a.cells[column].getAttribute("data-v");
        var y = b.cells[column].getAttribute("data-v");
        var order = numeric ? Number(x) - Number(y) : (x < y ? -1 : x > y ? 1 : 0);
        return up ? order : -order;
      });
      list.forEach(function (row) { body.appendChild(row); });
      Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("data-order"); });
      head.setAttribute("data-order", up ? "up" : "down");
    });
  });
  var heaviest = 0;  // shown until a layer is hovered: the one with the most of the figure
  data.layers.forEach(function (record, i) {
    if ((record[data.by] || 0) > (data.layers[heaviest][data.by] || 0)) { heaviest = i; }
  });
  show(heaviest);
  var graph = document.getElementById("lc-graph");  // the input (top centre) in view
  graph.scrollLeft = (graph.scrollWidth - graph.clientWidth) / 2;
  document.documentElement.setAttribute("data-ready", "1");
})();

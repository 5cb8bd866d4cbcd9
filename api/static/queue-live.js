// Live queue pages: listens to the page's Server-Sent Events and redraws the lists in place.
// Without JavaScript the page refreshes itself every 30 seconds instead (a <noscript> meta refresh).
(function () {
  "use strict";
  var root = document.querySelector("[data-events]");
  if (!root || !window.EventSource) { return; }

  function item(parts) {
    var li = document.createElement("li");
    parts.forEach(function (part) {
      var span = document.createElement("span");
      span.className = part[0];
      span.textContent = part[1];
      li.appendChild(span);
    });
    return li;
  }

  function fill(list, rows, empty, parts) {
    if (!list) { return; }
    while (list.firstChild) { list.removeChild(list.firstChild); }
    if (rows.length === 0) {
      list.appendChild(item([["empty", empty]]));
      return;
    }
    rows.forEach(function (row) { list.appendChild(item(parts(row))); });
  }

  function screen(data) {
    fill(document.getElementById("called"), data.called, "Nobody called yet", function (row) {
      return [["ticket", row.ticket], ["name", row.name], ["where", row.provider]];
    });
    fill(document.getElementById("waiting"), data.waiting, "Nobody waiting", function (row) {
      return [["ticket", row.ticket], ["name", row.name], ["wait", row.wait]];
    });
  }

  function status(data) {
    var fields = ["headline", "detail", "ticket", "state"];
    fields.forEach(function (name) {
      var node = document.getElementById("q-" + name);
      if (node && node.textContent !== data[name]) { node.textContent = data[name]; }
    });
    document.body.setAttribute("data-state", data.state);
  }

  var source = new EventSource(root.getAttribute("data-events"));
  source.addEventListener("board", function (event) {
    var data = JSON.parse(event.data);
    if (root.getAttribute("data-view") === "screen") { screen(data); } else { status(data); }
    document.body.setAttribute("data-updated", String(Date.now()));
    document.body.setAttribute("data-events-seen", String(Number(document.body.getAttribute("data-events-seen") || 0) + 1));
  });
})();

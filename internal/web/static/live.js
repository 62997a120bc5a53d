// Live updates for Flywheel pages (see internal/web/live.go). A page with
// an element carrying data-live-version listens to the server's event
// stream and swaps in the regions (id="live-<name>") that changed. A region
// holding the focused form field or button waits until focus leaves it, so
// nothing the user is typing or pressing is replaced.
(function () {
  "use strict";
  var marker = document.querySelector("[data-live-version]");
  if (!marker || !window.EventSource) {
    return;
  }
  var status = document.getElementById("live-status");
  var pending = {};

  // A region is busy while a form control in it has focus: a field being
  // typed in, or the button being pressed. Swapping the region between a
  // button's mousedown (which moves the focus there, so focusout applies
  // what waited) and its mouseup would lose the click and what was typed.
  function busy(region) {
    var a = document.activeElement;
    return a && region.contains(a) && /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(a.tagName);
  }

  function apply(name, html) {
    var region = document.getElementById("live-" + name);
    if (!region) {
      return;
    }
    if (busy(region)) {
      pending[name] = html;
      return;
    }
    delete pending[name];
    region.innerHTML = html;
  }

  document.addEventListener("focusout", function () {
    window.setTimeout(function () {
      Object.keys(pending).forEach(function (name) {
        apply(name, pending[name]);
      });
    }, 0);
  });

  var url = "/live?path=" + encodeURIComponent(location.pathname + location.search) +
    "&v=" + encodeURIComponent(marker.getAttribute("data-live-version"));
  var source = new EventSource(url);
  source.addEventListener("update", function (ev) {
    var msg = JSON.parse(ev.data);
    Object.keys(msg.regions).forEach(function (name) {
      apply(name, msg.regions[name]);
    });
    marker.setAttribute("data-live-version", msg.v);
    if (status) {
      status.textContent = "Updated " + new Date().toLocaleTimeString();
    }
  });
  source.addEventListener("end", function (ev) {
    source.close();
    if (status) {
      status.textContent = "Live updates stopped: " + JSON.parse(ev.data);
    }
  });
})();

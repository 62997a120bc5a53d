// Keyboard shortcuts of the UI (the ? key or the "Keyboard shortcuts"
// button shows them): on a list of OpsItems j and k move the selection
// and Enter opens it, a acknowledges the selected OpsItem (or, on an
// OpsItem's page, that one), / goes to the search field. Keys typed into a
// field are the field's. Also: the Copy buttons of code snippets.
(function () {
  "use strict";
  var help = document.getElementById("kb-help");
  var current = -1;

  function rows() {
    var t = document.querySelector("table[data-keys=list]");
    return t ? Array.prototype.slice.call(t.querySelectorAll("tbody tr")) : [];
  }
  function select(i) {
    var rs = rows();
    if (!rs.length) return;
    current = Math.max(0, Math.min(rs.length - 1, i));
    rs.forEach(function (r, n) { r.classList.toggle("kb-selected", n === current); });
    var a = rs[current].querySelector("a");
    if (a) a.focus();
  }
  function selectedRow() {
    var rs = rows();
    var focused = document.activeElement && document.activeElement.closest && document.activeElement.closest("tr[data-opsitem]");
    if (focused) return focused;
    return current >= 0 && current < rs.length ? rs[current] : null;
  }
  function acknowledge() {
    var form = document.getElementById("kb-ack");
    var row = selectedRow();
    if (row && row.dataset.ack && form) {
      form.action = row.dataset.ack;
      form.submit();
      return;
    }
    var btn = document.querySelector("form[action*='/acknowledge'] button[type=submit]");
    if (btn && !row) btn.click();
  }
  function toggleHelp(show) {
    if (!help) return;
    if (show === undefined) show = !help.open;
    if (show && !help.open) help.showModal();
    if (!show && help.open) help.close();
  }

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.defaultPrevented) return;
    var t = ev.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    if (help && help.open && ev.key !== "?") return;
    switch (ev.key) {
      case "j": select(current + 1); break;
      case "k": select(current < 0 ? 0 : current - 1); break;
      case "a": acknowledge(); break;
      case "/":
        var q = document.querySelector("[role=search] input[type=search]") || document.querySelector("[role=search] input:not([type=hidden])");
        if (!q) return;
        q.focus();
        break;
      case "?": toggleHelp(); break;
      default: return;
    }
    ev.preventDefault();
  });

  var open = document.getElementById("kb-help-open");
  if (open) open.addEventListener("click", function () { toggleHelp(true); });
  var close = document.getElementById("kb-help-close");
  if (close) close.addEventListener("click", function () { toggleHelp(false); });

  // Copy buttons: data-copy names the element whose text is copied.
  Array.prototype.forEach.call(document.querySelectorAll("button.copy[data-copy]"), function (b) {
    b.addEventListener("click", function () {
      var el = document.getElementById(b.dataset.copy);
      if (!el) return;
      var done = function () { b.textContent = "Copied"; setTimeout(function () { b.textContent = "Copy"; }, 2000); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(el.textContent).then(done, function () {});
      } else {
        var r = document.createRange();
        r.selectNodeContents(el);
        var s = window.getSelection();
        s.removeAllRanges();
        s.addRange(r);
        if (document.execCommand("copy")) done();
      }
    });
  });
})();

/* searchapp: copy links and citations, mark the linked paragraph, step through matches.
   Everything works without this file except copying and match navigation. */
(function () {
  "use strict";

  var toastTimer = null;

  function showToast(message) {
    var toast = document.querySelector(".toast");
    if (!toast) return;
    toast.textContent = message;
    toast.hidden = false;
    toast.classList.add("is-visible");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () {
      toast.classList.remove("is-visible");
      toast.hidden = true;
    }, 2200);
  }

  function copyWithTextarea(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "copy-buffer";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (e) {
      ok = false;
    }
    area.remove();
    return ok;
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).then(
        function () { return true; },
        function () { return copyWithTextarea(text); }
      );
    }
    return Promise.resolve(copyWithTextarea(text));
  }

  /* The text the reader selected inside this paragraph or snippet, if any. */
  function selectedQuote(holder) {
    var selection = window.getSelection();
    if (!selection || selection.isCollapsed || !selection.rangeCount) return "";
    var text = holder.querySelector(".para-text");
    var range = selection.getRangeAt(0);
    if (!text || !text.contains(range.commonAncestorContainer)) return "";
    return selection.toString().replace(/\s+/g, " ").trim();
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var holder = button.closest("[data-permalink]");
    if (!holder) return;
    var link = new URL(holder.dataset.permalink, window.location.href).href;
    var text = link;
    var done = "已复制链接";
    if (button.dataset.copy === "cite") {
      var quote = selectedQuote(holder);
      text = quote ? holder.dataset.citeHead + "“" + quote + "” " + link : holder.dataset.cite;
      done = quote ? "已复制所选文字的引用" : "已复制引用";
    }
    copyText(text).then(function (ok) {
      showToast(ok ? done : "复制失败，请手动复制：" + text);
      if (ok) {
        button.classList.add("is-done");
        setTimeout(function () { button.classList.remove("is-done"); }, 1500);
      }
    });
  });

  /* A new mode re-runs the search at once. */
  document.querySelectorAll(".search-form input[name=mode]").forEach(function (radio) {
    radio.addEventListener("change", function () {
      var form = radio.form;
      if (form.elements.q.value.trim()) {
        if (form.requestSubmit) form.requestSubmit();
        else form.submit();
      }
    });
  });

  /* "/" focuses the search box, as on most search sites. */
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || event.target.isContentEditable) return;
    var input = document.querySelector(".search-input");
    if (input) {
      event.preventDefault();
      input.focus();
      input.select();
    }
  });

  /* Facets and the table of contents start folded on narrow screens. */
  if (window.matchMedia("(max-width: 860px)").matches) {
    document.querySelectorAll("details[data-collapse-mobile]").forEach(function (d) {
      d.open = false;
    });
  }

  /* --- the document page ------------------------------------------------------------ */

  var body = document.querySelector(".doc-body");
  if (!body) return;
  var marks = Array.prototype.slice.call(body.querySelectorAll("mark"));
  var position = document.querySelector(".match-pos");
  var current = -1;

  function targetId() {
    try {
      return decodeURIComponent(window.location.hash.slice(1));
    } catch (e) {
      return window.location.hash.slice(1);
    }
  }

  function markTarget(scroll) {
    var missing = document.getElementById("fragment-missing");
    body.querySelectorAll(".para.is-target").forEach(function (el) {
      el.classList.remove("is-target");
    });
    var id = targetId();
    var target = id ? document.getElementById(id) : null;
    if (missing) missing.hidden = !id || target !== null;
    if (!target || !target.classList.contains("para")) return null;
    target.classList.add("is-target");
    if (scroll) target.scrollIntoView({ block: "center" });
    return target;
  }

  function showMatch(index, smooth) {
    if (!marks.length) return;
    current = (index + marks.length) % marks.length;
    marks.forEach(function (m) { m.classList.remove("is-current"); });
    var mark = marks[current];
    mark.classList.add("is-current");
    mark.scrollIntoView({ block: "center", behavior: smooth ? "smooth" : "auto" });
    if (position) position.textContent = current + 1 + " / " + marks.length;
  }

  /* The first match at or after an element (the linked paragraph). */
  function firstMatchFrom(element) {
    for (var i = 0; i < marks.length; i++) {
      var order = element.compareDocumentPosition(marks[i]);
      if (element.contains(marks[i]) || order & Node.DOCUMENT_POSITION_FOLLOWING) return i;
    }
    return 0;
  }

  document.querySelectorAll("[data-match]").forEach(function (button) {
    button.addEventListener("click", function () {
      var step = button.dataset.match === "next" ? 1 : -1;
      if (current < 0) {
        var target = body.querySelector(".para.is-target");
        var start = target ? firstMatchFrom(target) : 0;
        showMatch(step > 0 ? start : start - 1, true);
      } else {
        showMatch(current + step, true);
      }
    });
  });

  document.querySelectorAll("[data-keep-hash]").forEach(function (link) {
    link.addEventListener("click", function () {
      link.href = link.href.split("#")[0] + window.location.hash;
    });
  });

  /* A tap on a paragraph shows its tools (touch screens have no hover). */
  body.addEventListener("click", function (event) {
    if (event.target.closest("a, button")) return;
    var para = event.target.closest(".para");
    body.querySelectorAll(".para.is-active").forEach(function (el) {
      if (el !== para) el.classList.remove("is-active");
    });
    if (para) para.classList.toggle("is-active");
  });

  window.addEventListener("hashchange", function () { markTarget(true); });
  var target = markTarget(true);
  if (position && marks.length) {
    position.textContent = marks.length + " 处";
  }
  if (target && marks.length && target.querySelector("mark")) {
    current = firstMatchFrom(target);
    marks[current].classList.add("is-current");
    if (position) position.textContent = current + 1 + " / " + marks.length;
  } else if (!target && marks.length && !targetId()) {
    showMatch(0, false);
  }
})();

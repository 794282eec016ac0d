/* searchapp: copy links and citations, mark the linked paragraph, step through matches.
   Everything works without this file except copying and match navigation. */
(function () {
  "use strict";

  document.documentElement.classList.add("has-js"); /* shows controls that need scripts */

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

  /* --- results for an email: tick hits, copy them as a list ---------------------------- */

  /* What a ticked hit contributes: read from its card (the snippet is escaped server-side
     and holds only text and <mark>s). */
  function pickedEntry(hit) {
    return {
      title: hit.dataset.title || "",
      town: hit.dataset.town || "",
      year: hit.dataset.year || "",
      link: new URL(hit.dataset.permalink, window.location.origin).href,
      snippet: hit.querySelector(".snippet")
    };
  }

  function entryMeta(entry) {
    var parts = [];
    if (entry.town) parts.push(entry.town);
    if (entry.year) parts.push(entry.year + "年");
    return parts.join(" · ");
  }

  /* The snippet's text and marks, rebuilt in `doc` from text nodes only. */
  function appendQuote(doc, parent, snippet) {
    if (!snippet) return;
    snippet.childNodes.forEach(function (node) {
      if (node.nodeType === Node.ELEMENT_NODE && node.tagName === "MARK") {
        /* <b> inside: Word, WPS and Outlook ignore <mark>. A background colour would
           need a style attribute, which the page's CSP refuses and Chrome's clipboard
           strips. */
        var mark = doc.createElement("mark");
        var bold = doc.createElement("b");
        bold.textContent = node.textContent;
        mark.appendChild(bold);
        parent.appendChild(mark);
      } else {
        parent.appendChild(doc.createTextNode(node.textContent));
      }
    });
  }

  function quoteText(entry) {
    return entry.snippet ? entry.snippet.textContent.replace(/\s+/g, " ").trim() : "";
  }

  /* The list as HTML, built in a document of its own (never the page's). */
  function pickedHtml(entries) {
    var doc = document.implementation.createHTMLDocument("");
    var list = doc.createElement("ol");
    entries.forEach(function (entry) {
      var item = doc.createElement("li");
      var head = doc.createElement("p");
      var title = doc.createElement("a");
      title.href = entry.link;
      title.textContent = "《" + (entry.title || "无标题") + "》";
      head.appendChild(title);
      var meta = entryMeta(entry);
      if (meta) head.appendChild(doc.createTextNode(" " + meta));
      var quote = doc.createElement("p");
      quote.appendChild(doc.createTextNode("“"));
      appendQuote(doc, quote, entry.snippet);
      quote.appendChild(doc.createTextNode("”"));
      var where = doc.createElement("p");
      var link = doc.createElement("a");
      link.href = entry.link;
      link.textContent = entry.link;
      where.appendChild(link);
      item.appendChild(head);
      item.appendChild(quote);
      item.appendChild(where);
      list.appendChild(item);
    });
    return list.outerHTML;
  }

  function pickedText(entries) {
    return entries.map(function (entry, i) {
      var meta = entryMeta(entry);
      return (i + 1) + ". 《" + (entry.title || "无标题") + "》" + (meta ? " " + meta : "") +
        "\n“" + quoteText(entry) + "”\n" + entry.link;
    }).join("\n\n");
  }

  /* Without ClipboardItem: select a hidden contenteditable and copy, handing both
     formats to the copy event. */
  function copyRichWithCommand(html, text) {
    var holder = document.createElement("div");
    holder.contentEditable = "true";
    holder.className = "copy-buffer";
    holder.textContent = text;
    document.body.appendChild(holder);
    function onCopy(event) {
      if (!event.clipboardData) return; /* the selected text is copied instead */
      event.clipboardData.setData("text/html", html);
      event.clipboardData.setData("text/plain", text);
      event.preventDefault();
    }
    document.addEventListener("copy", onCopy);
    var selection = window.getSelection();
    var range = document.createRange();
    range.selectNodeContents(holder);
    selection.removeAllRanges();
    selection.addRange(range);
    var ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (e) {
      ok = false;
    }
    document.removeEventListener("copy", onCopy);
    selection.removeAllRanges();
    holder.remove();
    return ok;
  }

  function copyRich(html, text) {
    if (navigator.clipboard && navigator.clipboard.write && window.ClipboardItem &&
        window.isSecureContext) {
      var item = new window.ClipboardItem({
        "text/html": new Blob([html], { type: "text/html" }),
        "text/plain": new Blob([text], { type: "text/plain" })
      });
      return navigator.clipboard.write([item]).then(
        function () { return true; },
        function () { return copyRichWithCommand(html, text); }
      );
    }
    return Promise.resolve(copyRichWithCommand(html, text));
  }

  function setUpPicking(bar) {
    var all = bar.querySelector("[data-pick-all]");
    var copyButton = bar.querySelector("[data-pick-copy]");
    var count = bar.querySelector(".pick-count");

    function boxes() {
      return Array.prototype.slice.call(document.querySelectorAll(".hit .hit-check"));
    }

    function picked() {
      return boxes().filter(function (box) { return box.checked; });
    }

    function refresh() {
      var list = boxes();
      var n = picked().length;
      all.checked = n > 0 && n === list.length;
      all.indeterminate = n > 0 && n < list.length;
      copyButton.disabled = n === 0;
      count.textContent = n ? "已选 " + n + " 条" : "";
      list.forEach(function (box) {
        box.closest(".hit").classList.toggle("is-picked", box.checked);
      });
    }

    document.addEventListener("change", function (event) {
      if (event.target.classList && event.target.classList.contains("hit-check")) refresh();
    });
    all.addEventListener("change", function () {
      boxes().forEach(function (box) { box.checked = all.checked; });
      refresh();
    });
    copyButton.addEventListener("click", function () {
      var entries = picked().map(function (box) { return pickedEntry(box.closest(".hit")); });
      if (!entries.length) return;
      copyRich(pickedHtml(entries), pickedText(entries)).then(function (ok) {
        var message = ok ? "已复制 " + entries.length + " 条" : "复制失败，请改用各条的“复制引用”";
        count.textContent = message;
        showToast(message);
      });
    });
    refresh(); /* the browser may restore ticks on back/forward */
  }

  var pickBar = document.querySelector("[data-pick-bar]");
  if (pickBar) setUpPicking(pickBar);

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

// The upload zone of /manage: files dropped or picked are sent to POST /api/documents
// with the session's CSRF token; the job's progress and each file's fate are then read
// from GET /api/jobs/ID until it is done. Without JavaScript the form posts as it is.
(function () {
  "use strict";
  var form = document.querySelector(".upload-form");
  if (!form || !window.FormData || !window.fetch) return;
  var zone = form.querySelector(".drop-zone");
  var input = form.querySelector("input[type=file]");
  var box = document.querySelector(".upload-progress");
  var bar = box.querySelector(".job-bar");
  var text = box.querySelector(".job-text");
  var rows = box.querySelector("tbody");
  var token = document.querySelector("meta[name=csrf-token]").content;
  var LABELS = {indexed: "已收录", skipped: "已跳过", rejected: "未保存", duplicate: "重复",
    saved: "已保存", missing: "未找到", removed: "已移除"};
  var STATES = {queued: "排队中", running: "正在建立索引", done: "完成", failed: "失败"};

  function showFiles(files) {
    rows.textContent = "";
    files.forEach(function (f) {
      var tr = document.createElement("tr");
      tr.className = "job-file job-file-" + f.status;
      // the name sent first: a duplicate's path is the file already held
      [f.name || f.path || f.doc_id, LABELS[f.status] || f.status, f.message || f.reason || ""].forEach(function (v) {
        var td = document.createElement("td");
        td.textContent = v;  // text, never HTML: names come from the uploader
        tr.appendChild(td);
      });
      rows.appendChild(tr);
    });
  }

  function poll(url) {
    fetch(url, {headers: {Accept: "application/json"}, credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (job) {
        bar.max = job.total || 1;
        bar.value = job.state === "done" ? bar.max : job.done;
        text.textContent = (STATES[job.state] || job.state) +
          (job.total ? "（" + job.done + "/" + job.total + " 个文件）" : "") + (job.error ? "：" + job.error : "");
        box.dataset.state = job.state;
        showFiles(job.files);
        if (job.state === "queued" || job.state === "running") setTimeout(function () { poll(url); }, 400);
      })
      .catch(function () { text.textContent = "读取任务进度失败，请刷新页面"; });
  }

  function send(files) {
    if (!files.length) return;
    var data = new FormData();
    Array.prototype.forEach.call(files, function (f) { data.append("files", f, f.name); });
    box.hidden = false;
    box.dataset.state = "uploading";
    bar.removeAttribute("value");
    text.textContent = "正在上传 " + files.length + " 个文件…";
    rows.textContent = "";
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.dataset.api);
    xhr.setRequestHeader("X-CSRF-Token", token);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) { bar.max = e.total; bar.value = e.loaded; }
    };
    xhr.onload = function () {
      var body = {};
      try { body = JSON.parse(xhr.responseText); } catch (e) { /* an HTML error page */ }
      if (xhr.status >= 400) {
        box.dataset.state = "failed";
        text.textContent = (body.error || "上传失败（" + xhr.status + "）") + (body.hint ? "：" + body.hint : "");
        return;
      }
      showFiles(body.files || []);
      if (body.job) poll(form.dataset.jobs + body.job);
      else { box.dataset.state = "done"; text.textContent = "没有新文件需要建立索引"; }
    };
    xhr.onerror = function () { box.dataset.state = "failed"; text.textContent = "上传失败：连接中断"; };
    xhr.send(data);
  }

  form.addEventListener("submit", function (e) { e.preventDefault(); send(input.files); });
  input.addEventListener("change", function () { send(input.files); });
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.add("drag-over"); });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.remove("drag-over"); });
  });
  zone.addEventListener("drop", function (e) { send(e.dataTransfer.files); });
})();

// The app's few scripts, on every page: confirmation before actions that change or remove
// what others wrote; another row for a submission's return; on the report editor, the live
// preview of the text with its bound values, the binding picker, quoting a passage in a
// comment and a warning before leaving unsaved text. Every page works without them.
(function () {
  "use strict";

  document.querySelectorAll("form.confirm").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm || "确定吗？")) {
        event.preventDefault();
      }
    });
  });

  // Returning a submission: the button adds an empty row of target and reason (without the
  // script the button stays hidden and the form has its three rows).
  var more = document.getElementById("more-items");
  if (more) {
    more.hidden = false;
    more.addEventListener("click", function () {
      var rows = more.form.querySelectorAll(".return-item");
      var last = rows[rows.length - 1];
      var copy = last.cloneNode(true);
      copy.querySelector("legend").textContent = "退回意见 " + (rows.length + 1);
      copy.querySelector("select").value = "";
      copy.querySelector("select").required = false;
      copy.querySelector("textarea").value = "";
      copy.querySelector("textarea").required = false;
      last.after(copy);
    });
  }

  // Recording points: "全班" ticks every student; the search box shows the observations
  // whose code or name holds the words typed, opening their competency and point.
  var all = document.getElementById("all-students");
  if (all) {
    all.addEventListener("change", function () {
      all.form.querySelectorAll("input[name=student]").forEach(function (box) {
        box.checked = all.checked;
      });
    });
  }
  var search = document.getElementById("obs-search");
  if (search) {
    var none = document.getElementById("obs-none");
    search.addEventListener("input", function () {
      var words = search.value.trim().split(/\s+/).filter(function (w) { return w; });
      var shown = 0;
      document.querySelectorAll("#observations li.obs").forEach(function (item) {
        var hit = words.every(function (w) { return item.dataset.text.indexOf(w) >= 0; });
        item.hidden = !hit;
        if (hit) {
          shown++;
        }
      });
      document.querySelectorAll("#observations details").forEach(function (group) {
        var any = group.querySelector("li.obs:not([hidden])") !== null;
        group.hidden = !any;
        group.open = words.length > 0 && any;
      });
      if (none) {
        none.hidden = shown > 0;
      }
    });
    search.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
      }
    });
  }

  var text = document.getElementById("text");
  if (!text) {
    return;
  }
  var form = text.form;
  var previewUrl = form && form.dataset.preview;
  var preview = document.getElementById("preview");
  var chars = document.getElementById("chars");
  var problems = document.getElementById("live-problems");
  var csrf = form ? form.querySelector("input[name=csrf]").value : "";
  var timer = null;
  var sequence = 0;
  var dirty = false;

  function refresh() {
    if (!previewUrl || !preview) {
      return;
    }
    var mine = ++sequence;
    var body = new URLSearchParams();
    body.set("csrf", csrf);
    body.set("text", text.value);
    fetch(previewUrl, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (mine !== sequence) {
          return;
        }
        preview.innerHTML = data.html;
        if (chars) {
          chars.textContent = data.chars;
        }
        if (problems) {
          problems.textContent = "";
          data.problems.forEach(function (message) {
            var item = document.createElement("li");
            item.textContent = message;
            problems.appendChild(item);
          });
          problems.hidden = data.problems.length === 0;
        }
      })
      .catch(function () {});
  }

  text.addEventListener("input", function () {
    dirty = true;
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 400);
  });
  if (form) {
    form.addEventListener("submit", function () { dirty = false; });
  }
  window.addEventListener("beforeunload", function (event) {
    if (dirty) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  document.querySelectorAll("button.bind").forEach(function (button) {
    button.addEventListener("click", function () {
      var start = text.selectionStart;
      var end = text.selectionEnd;
      text.setRangeText(button.dataset.insert, start, end, "end");
      text.focus();
      dirty = true;
      refresh();
    });
  });

  var search = document.getElementById("picker-search");
  if (search) {
    search.addEventListener("input", function () {
      var wanted = search.value.trim();
      document.querySelectorAll(".picker li[data-name]").forEach(function (item) {
        item.hidden = wanted !== "" && item.dataset.name.indexOf(wanted) < 0;
      });
    });
  }

  var quote = document.getElementById("quote-selection");
  if (quote) {
    quote.addEventListener("click", function () {
      var chosen = text.value.substring(text.selectionStart, text.selectionEnd);
      document.getElementById("comment-quote").value = chosen.slice(0, 500);
    });
  }
})();

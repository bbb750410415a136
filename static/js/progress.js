/* Reading progress, kept in this browser only (localStorage): no cookie, no request.
 *
 * Hooks the server renders (see docs/progress.md):
 *   [data-paper="<slug>"]      a paper: gets 想读 / 读过 buttons
 *   [data-video="<slug>"]      a video: gets a 看过 button
 *   [data-chapter="<video>@<start>"]  a chapter of a video: gets a ✓ button
 *   The buttons go into the item's .progress-marks, else its .col-name cell, else
 *   at its end.
 *   [data-progress-scope][data-total="<n>"]  a progress bar: counts the read papers
 *   and watched videos inside it (or inside #<data-progress-of>), drawn in its
 *   .progress-bar or at its top.
 *   #progress-page: the /progress/ page (list, export, import, clear).
 * Labels come from the data-* attributes of this <script> tag (gettext).
 */
(function () {
  "use strict";
  var KEY = "paper-reading-progress";
  var KINDS = ["papers", "videos", "chapters"];
  var STATES = { papers: ["want", "read"], videos: ["watched"], chapters: ["watched"] };
  var DONE = { papers: "read", videos: "watched", chapters: "watched" };
  var T = document.currentScript.dataset;
  var data;

  function empty() {
    return { version: 1, papers: {}, videos: {}, chapters: {} };
  }

  /* The marks of a parsed file, checked whole: null if anything is off. */
  function valid(d) {
    if (!d || typeof d !== "object" || d.version !== 1) return null;
    var out = empty();
    for (var i = 0; i < KINDS.length; i++) {
      var kind = KINDS[i], marks = d[kind] === undefined ? {} : d[kind];
      if (!marks || typeof marks !== "object" || Array.isArray(marks)) return null;
      for (var key in marks) {
        if (!Object.prototype.hasOwnProperty.call(marks, key)) continue;
        var m = marks[key];
        if (!key || !m || STATES[kind].indexOf(m.state) < 0 ||
            typeof m.at !== "string" || isNaN(Date.parse(m.at))) return null;
        out[kind][key] = { state: m.state, at: m.at };
      }
    }
    return out;
  }

  function load() {
    try {
      data = valid(JSON.parse(localStorage.getItem(KEY))) || empty();
    } catch (e) {
      data = empty();
    }
  }

  function save() {
    try {
      localStorage.setItem(KEY, JSON.stringify(data));
    } catch (e) { /* storage full or off: the marks last until the page closes */ }
    refresh();
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    for (var name in attrs) node.setAttribute(name, attrs[name]);
    if (text) node.textContent = text;
    return node;
  }

  function button(kind, key, state, label) {
    var b = el("button", { type: "button", "class": "mark mark--" + state,
      "aria-pressed": "false" }, label);
    b.dataset.kind = kind;
    b.dataset.key = key;
    b.dataset.state = state;
    return b;
  }

  function place(item, node) {
    var target = item.querySelector(".progress-marks") ||
      item.querySelector(".col-name") || item;
    target.appendChild(node);
  }

  /* Add the buttons to items the page (or an htmx swap) brought in. */
  function decorate(root) {
    var items = root.querySelectorAll("[data-paper],[data-video],[data-chapter]");
    for (var i = 0; i < items.length; i++) {
      var item = items[i];
      if (item.progressDone) continue;
      item.progressDone = true;
      var group = el("span", { "class": "marks" });
      if (item.dataset.paper) {
        group.appendChild(button("papers", item.dataset.paper, "want", T.want));
        group.appendChild(button("papers", item.dataset.paper, "read", T.read));
      } else if (item.dataset.video) {
        group.appendChild(button("videos", item.dataset.video, "watched", T.watched));
      } else {
        var b = button("chapters", item.dataset.chapter, "watched", "✓");
        b.setAttribute("aria-label", T.chapter);
        b.title = T.chapter;
        group.appendChild(b);
      }
      place(item, group);
    }
  }

  function stateOf(kind, key) {
    var m = data[kind][key];
    return m ? m.state : "";
  }

  function count(scope) {
    var root = scope.dataset.progressOf ?
      document.getElementById(scope.dataset.progressOf) : scope;
    var seen = {}, done = 0;
    var items = root ? root.querySelectorAll("[data-paper],[data-video]") : [];
    for (var i = 0; i < items.length; i++) {
      var kind = items[i].dataset.paper ? "papers" : "videos";
      var key = items[i].dataset.paper || items[i].dataset.video;
      if (seen[kind + key]) continue;
      seen[kind + key] = true;
      if (stateOf(kind, key) === DONE[kind]) done++;
    }
    return done;
  }

  function bars() {
    var scopes = document.querySelectorAll("[data-progress-scope]");
    for (var i = 0; i < scopes.length; i++) {
      var scope = scopes[i], total = +scope.dataset.total || 0;
      var host = scope.querySelector(".progress-bar");
      if (!host) {
        host = el("div", { "class": "progress-bar" });
        scope.insertBefore(host, scope.firstChild);
      }
      if (!host.progress) {
        var label = el("label", { "class": "progress" });
        host.progressText = el("span", {});
        host.progress = el("progress", { max: String(total || 1) });
        label.appendChild(host.progressText);
        label.appendChild(host.progress);
        host.appendChild(label);
        host.hidden = false;
      }
      var done = Math.min(count(scope), total);
      host.progress.value = done;
      host.progressText.textContent = (scope.dataset.path ? T.pathDone : T.done)
        .replace("{done}", done).replace("{total}", total);
    }
  }

  function refresh() {
    var buttons = document.querySelectorAll("button.mark");
    for (var i = 0; i < buttons.length; i++) {
      var b = buttons[i];
      b.setAttribute("aria-pressed",
        String(stateOf(b.dataset.kind, b.dataset.key) === b.dataset.state));
    }
    bars();
    if (page) list();
  }

  function toggle(b) {
    var kind = b.dataset.kind, key = b.dataset.key, state = b.dataset.state;
    if (stateOf(kind, key) === state) delete data[kind][key];
    else data[kind][key] = { state: state, at: new Date().toISOString() };
    save();
  }

  /* The /progress/ page. */
  var page = document.getElementById("progress-page");
  var catalogue = {};

  function message(text, isError) {
    var ok = document.getElementById("progress-status");
    var bad = document.getElementById("progress-error");
    ok.textContent = isError ? "" : text;
    bad.textContent = isError ? text : "";
  }

  function list() {
    var groups = { want: ["papers", "want"], read: ["papers", "read"],
      watched: ["videos", "watched"] };
    for (var id in groups) {
      var kind = groups[id][0], ul = document.getElementById("progress-" + id);
      var keys = Object.keys(data[kind]).filter(function (k) {
        return data[kind][k].state === groups[id][1];
      }).sort(function (a, b) {
        return data[kind][b].at < data[kind][a].at ? -1 : 1;
      });
      ul.textContent = "";
      for (var i = 0; i < keys.length; i++) {
        var known = (catalogue[kind] || {})[keys[i]], li = el("li", {});
        if (known) {
          li.appendChild(el("a", { href: known[1] }, known[0]));
        } else {
          li.appendChild(el("span", {}, keys[i]));
          li.appendChild(el("small", { "class": "gone" }, " " + T.gone));
        }
        ul.appendChild(li);
      }
      if (!keys.length) ul.appendChild(el("li", { "class": "empty" }, T.none));
    }
  }

  function merge(incoming) {
    var added = 0;
    KINDS.forEach(function (kind) {
      for (var key in incoming[kind]) {
        var mine = data[kind][key], theirs = incoming[kind][key];
        var a = mine && Date.parse(mine.at), b = Date.parse(theirs.at);
        if (!mine || b > a || (b === a && theirs.state === "read")) {
          if (!mine || mine.state !== theirs.state) added++;
          data[kind][key] = theirs;
        }
      }
    });
    return added;
  }

  function setUpPage() {
    var source = document.getElementById("catalogue");
    if (source) catalogue = JSON.parse(source.textContent);
    page.hidden = false;
    document.getElementById("progress-needs-script").hidden = true;
    document.getElementById("progress-export").addEventListener("click", function () {
      var blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
      var a = el("a", { href: URL.createObjectURL(blob),
        download: "paper-reading-progress.json" });
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(function () { URL.revokeObjectURL(a.href); }, 1000);
    });
    document.getElementById("progress-import").addEventListener("change", function () {
      var input = this, file = input.files[0];
      if (!file) return;
      file.text().then(function (text) {
        var incoming;
        try {
          incoming = valid(JSON.parse(text));
        } catch (e) {
          incoming = null;
        }
        input.value = "";
        if (!incoming) return message(T.bad, true);
        var changed = merge(incoming);
        save();
        message(T.imported.replace("{n}", changed));
      });
    });
    document.getElementById("progress-clear").addEventListener("click", function () {
      if (!window.confirm(T.confirm)) return;
      data = empty();
      save();
      message(T.cleared);
    });
  }

  load();
  if (page) setUpPage();
  decorate(document);
  refresh();
  document.addEventListener("click", function (event) {
    var b = event.target.closest && event.target.closest("button.mark");
    if (b) toggle(b);
  });
  /* Lists swapped in by htmx (sorting, filtering, live search). */
  document.addEventListener("htmx:afterSettle", function () {
    decorate(document);
    refresh();
  });
  /* Marks made in another tab. */
  window.addEventListener("storage", function (event) {
    if (event.key !== KEY) return;
    load();
    refresh();
  });
})();

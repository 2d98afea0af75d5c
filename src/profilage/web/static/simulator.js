/* profilage — the simulator and comparison pages (plain JS, no dependency, no network besides
 * this server's own /api in server mode; none at all in the static site).
 * AGPL-3.0-or-later. */
(function () {
  "use strict";

  var S = JSON.parse(document.getElementById("i18n").textContent);
  var CFG = JSON.parse(document.getElementById("page-config").textContent);
  var siteEl = document.getElementById("site-data");
  var SITE = siteEl ? JSON.parse(siteEl.textContent) : null;
  var LANG = CFG.lang;
  var SVGNS = "http://www.w3.org/2000/svg";
  var results = {};

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $$(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function fmt(x, d) { return x === null || x === undefined ? "—" : Number(x).toFixed(d === undefined ? 3 : d); }
  function lbl(o, base) { return LANG === "en" ? (o[base + "_en"] || o[base + "_fr"]) : o[base + "_fr"]; }
  function esc(s) {
    return String(s === null || s === undefined ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function el(tag, attrs, parent) {
    var e = document.createElementNS(SVGNS, tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(e);
    return e;
  }
  function currentModel() { return $("#model-select").value; }

  // ---------------- form <-> dossier ----------------
  function fieldLabel(input) {
    var l = input.closest("label, .event");
    var text = l ? (l.querySelector(".lbl") || l).firstChild.textContent.trim() : input.dataset.path;
    var fs = input.closest("fieldset");
    return (fs ? fs.querySelector("legend").textContent + " — " : "") + text;
  }
  function setPath(obj, path, value) {
    var parts = path.split("."), o = obj;
    for (var i = 0; i < parts.length - 1; i++) {
      if (o[parts[i]] === undefined || o[parts[i]] === null) o[parts[i]] = {};
      o = o[parts[i]];
    }
    o[parts[parts.length - 1]] = value;
  }
  function getPath(obj, path) {
    var parts = path.split("."), o = obj;
    for (var i = 0; i < parts.length; i++) {
      if (o === null || o === undefined || typeof o !== "object" || !(parts[i] in o)) return undefined;
      o = o[parts[i]];
    }
    return o;
  }

  /** The dossier the form describes; a blank field is left out (unknown). */
  function readForm(form) {
    var couple = $("[data-special=couple]", form).value;
    var d = {};
    $$("[data-path]", form).forEach(function (input) {
      var path = input.dataset.path, type = input.dataset.type, value;
      if (path.indexOf("conjoint.") === 0 && couple !== "oui") return;
      if (type === "event") {
        var mode = $(".ev-mode", input).value;
        if (!mode) return;
        value = mode === "jamais" ? "jamais" : $(".ev-date", input).value;
        if (!value) throw new Error(fieldLabel(input) + S.colon + S.date + " ?");
      } else {
        var raw = input.value.trim();
        if (raw === "") return;
        if (input.checkValidity && !input.checkValidity()) {
          throw new Error(fieldLabel(input) + S.colon + input.validationMessage);
        }
        if (type === "int") value = parseInt(raw, 10);
        else if (type === "float") value = parseFloat(raw);
        else if (type === "bool") value = raw === "true";
        else value = raw;
        if ((type === "int" || type === "float") && !isFinite(value)) {
          throw new Error(fieldLabel(input) + S.colon + raw);
        }
      }
      setPath(d, path, value);
    });
    if (couple === "oui") d.conjoint = d.conjoint || {};
    else if (couple === "non") d.conjoint = null;
    var kids = $("[data-special=enfants]", form).value.trim().toLowerCase();
    if (kids === "aucun" || kids === "none" || kids === "-") d.enfants = [];
    else if (kids !== "") {
      d.enfants = kids.split(/[\s,;]+/).filter(Boolean).map(function (k) {
        if (k === "?") return {};
        var a = Number(k);
        if (!Number.isInteger(a) || a < 0 || a > 30) {
          throw new Error(S.children_ages + " : « " + k + " » (0–30, « ? », « aucun »)");
        }
        return { age: a };
      });
    }
    return d;
  }

  function ageAt(ref, birth) {
    var r = Profilage_parse(ref), b = Profilage_parse(birth);
    return Math.floor(((r.y * 12 + r.m) - (b.y * 12 + b.m)) / 12);
  }
  function Profilage_parse(s) {
    var m = /^(\d{4})-(\d{2})/.exec(String(s));
    return { y: parseInt(m[1], 10), m: parseInt(m[2], 10) };
  }

  /** Fill the form from a dossier (a persona); birth dates become ages at the reference month. */
  function fillForm(form, d) {
    form.reset();
    $$(".event", form).forEach(function (e) { $(".ev-mode", e).value = ""; $(".ev-date", e).value = ""; });
    var ref = d.reference_month || "2023-12";
    $$("[data-path]", form).forEach(function (input) {
      var path = input.dataset.path, type = input.dataset.type;
      var value = getPath(d, path);
      if (/\.age$/.test(path) && (value === undefined || value === null)) {
        var birth = getPath(d, path.replace(/age$/, "date_naissance"));
        if (birth) value = ageAt(ref, birth);
      }
      if (type === "event") {
        if (value === undefined || value === null) return;
        var never = String(value).toLowerCase() === "jamais" || String(value).toLowerCase() === "never";
        $(".ev-mode", input).value = never ? "jamais" : "date";
        if (!never) $(".ev-date", input).value = String(value).slice(0, 7);
        return;
      }
      if (value === undefined || value === null) { input.value = ""; return; }
      if (type === "month") value = String(value).slice(0, 7);
      input.value = String(value);
    });
    $("[data-special=couple]", form).value = !("conjoint" in d) ? "" : (d.conjoint === null ? "non" : "oui");
    var kids = "";
    if (Array.isArray(d.enfants)) {
      kids = d.enfants.length === 0 ? (LANG === "en" ? "none" : "aucun") : d.enfants.map(function (e) {
        if (e.age !== undefined && e.age !== null) return String(e.age);
        if (e.date_naissance) return String(ageAt(ref, e.date_naissance));
        return "?";
      }).join(", ");
    }
    $("[data-special=enfants]", form).value = kids;
    form.dataset.nom = d.nom || "";
    togglePartner(form);
  }

  function togglePartner(form) {
    $("fieldset.partner", form).hidden = $("[data-special=couple]", form).value !== "oui";
  }

  // ---------------- computing ----------------
  function explain(modelId, dossier) {
    if (CFG.static) {
      return new Promise(function (resolve) {
        resolve(Profilage.explainDossier(SITE.models[modelId], dossier, SITE.data, 3));
      });
    }
    return fetch(CFG.api + "explain", {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: modelId, dossier: dossier })
    }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) {
          var d = body.detail;
          var msg = Array.isArray(d) ? d.map(function (e) { return e.field + S.colon + e.msg; }).join(" ; ") : String(d);
          throw new Error(msg);
        }
        return body;
      });
    });
  }

  function loadPersona(name) {
    if (CFG.static) return Promise.resolve(JSON.parse(JSON.stringify(SITE.personas[name])));
    return fetch(CFG.api + "personas/" + encodeURIComponent(name)).then(function (r) { return r.json(); });
  }

  function compute(form) {
    var panel = document.getElementById(form.id + "-result");
    var err = document.getElementById(form.id + "-result-error");
    err.hidden = true;
    var dossier;
    try {
      dossier = readForm(form);
      if (!dossier.reference_month) throw new Error(S.reference_month + " ?");
      if (form.dataset.nom) dossier.nom = form.dataset.nom;
    } catch (e) {
      err.textContent = S.error + S.colon + e.message; err.hidden = false; panel.hidden = true;
      return Promise.resolve(null);
    }
    form.dataset.state = "computing";
    return explain(currentModel(), dossier).then(function (res) {
      results[form.id] = res;
      render(panel, res);
      form.dataset.state = "done";
      if (CFG.compare) renderDiff();
      return res;
    }).catch(function (e) {
      err.textContent = S.error + S.colon + e.message; err.hidden = false; panel.hidden = true;
      form.dataset.state = "error";
    });
  }

  // ---------------- rendering ----------------
  function gauge(svg, res) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var cx = 100, cy = 100, r = 80;
    function pt(p, rr) { var a = Math.PI * (1 - p); return [cx + rr * Math.cos(a), cy - rr * Math.sin(a)]; }
    function arc(p0, p1, rr, color, w) {
      var a = pt(p0, rr), b = pt(p1, rr);
      el("path", { d: "M" + a[0] + "," + a[1] + " A" + rr + "," + rr + " 0 0 1 " + b[0] + "," + b[1],
                   stroke: color, "stroke-width": w, fill: "none" }, svg);
    }
    var cols = ["#2e7d32", "#7cb342", "#fbc02d", "#f57c00", "#c62828"];
    for (var i = 0; i < 5; i++) arc(i / 5, (i + 1) / 5, r, cols[i], 14);
    if (!res.determined) arc(res.score_low, res.score_high, r - 16, "#455a64", 8);
    if (res.score !== null) {
      var tip = pt(res.score, r - 4);
      el("line", { x1: cx, y1: cy, x2: tip[0], y2: tip[1], stroke: "#111", "stroke-width": 3,
                   "stroke-linecap": "round" }, svg);
    }
    el("circle", { cx: cx, cy: cy, r: 5, fill: "#111" }, svg);
    var t0 = el("text", { x: 14, y: 116, "font-size": 10 }, svg); t0.textContent = "0";
    var t1 = el("text", { x: 180, y: 116, "font-size": 10 }, svg); t1.textContent = "1";
  }

  function waterfall(svg, res, scale) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var steps = res.waterfall.filter(function (s) { return s.logit !== 0 || !s.input_known; });
    var rows = [], cum = res.intercept === null ? 0 : res.intercept;
    var sig = Profilage_sigmoid;
    rows.push({ label: S.intercept, from: scale === "logit" ? 0 : 0.5, to: scale === "logit" ? cum : sig(cum),
                whisker: null, known: true, text: fmt(scale === "logit" ? cum : sig(cum)) });
    var x = cum;
    res.waterfall.forEach(function (s) {
      var before = x; x += s.logit;
      if (steps.indexOf(s) < 0) return;
      var wl = null;
      if (!s.input_known) {
        var lo = s.low === null ? before - 3 : before + s.low, hi = s.high === null ? before + 3 : before + s.high;
        wl = scale === "logit" ? [lo, hi] : [sig(lo), sig(hi)];
      }
      rows.push({
        label: lbl(s, "label") + S.colon + (s.input_known ? lbl(s, "modality_label") : S.unknown)
          + (s.protected_ground ? " ⚑" : ""),
        from: scale === "logit" ? before : s.probability_before,
        to: scale === "logit" ? x : s.probability_after, whisker: wl, known: s.input_known,
        text: scale === "logit" ? (s.logit >= 0 ? "+" : "") + fmt(s.logit) : (s.probability >= 0 ? "+" : "") + fmt(s.probability)
      });
    });
    var lo = 0, hi = scale === "logit" ? 0 : 1;
    rows.forEach(function (r) {
      [r.from, r.to].concat(r.whisker || []).forEach(function (v) { lo = Math.min(lo, v); hi = Math.max(hi, v); });
    });
    if (scale !== "logit") { lo = 0; hi = 1; }
    var W = 720, left = 330, right = 60, rowH = 20, H = rows.length * rowH + 24;
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    svg.setAttribute("width", "100%");
    var X = function (v) { return left + (v - lo) / ((hi - lo) || 1) * (W - left - right); };
    var zero = scale === "logit" ? 0 : 0.5;
    el("line", { x1: X(zero), x2: X(zero), y1: 0, y2: H - 18, stroke: "#999", "stroke-dasharray": "3,3" }, svg);
    rows.forEach(function (r, i) {
      var y = i * rowH + 4;
      var t = el("text", { x: left - 6, y: y + 13, "text-anchor": "end", "font-size": 11 }, svg);
      t.textContent = r.label.length > 50 ? r.label.slice(0, 49) + "…" : r.label;
      var tip = el("title", {}, t); tip.textContent = r.label;
      var a = X(Math.min(r.from, r.to)), b = X(Math.max(r.from, r.to));
      var color = i === 0 ? "#607d8b" : (r.to > r.from ? "#c62828" : "#2e7d32");
      el("rect", { x: a, y: y + 2, width: Math.max(b - a, 1), height: rowH - 6, fill: color,
                   "fill-opacity": r.known ? 0.85 : 0.35, class: "bar" }, svg);
      if (r.whisker) {
        el("line", { x1: X(r.whisker[0]), x2: X(r.whisker[1]), y1: y + rowH / 2 - 1, y2: y + rowH / 2 - 1,
                     stroke: "#333", "stroke-width": 1.5 }, svg);
      }
      var v = el("text", { x: Math.min(b + 4, W - right + 4), y: y + 13, "font-size": 11 }, svg);
      v.textContent = r.text;
    });
    var axis = [lo, (lo + hi) / 2, hi];
    axis.forEach(function (v) {
      var t = el("text", { x: X(v), y: H - 4, "font-size": 10, "text-anchor": "middle", fill: "#555" }, svg);
      t.textContent = fmt(v, 2);
    });
    return res.waterfall.length - steps.length;
  }
  function Profilage_sigmoid(x) {
    if (x >= 0) return 1 / (1 + Math.exp(-x));
    var e = Math.exp(x); return e / (1 + e);
  }

  function statusLabel(s) { return S["st_" + s] || s; }
  function ground(g) { return g ? (S["ground_" + g] || g) : ""; }

  function render(panel, res) {
    panel.hidden = false;
    $(".provenance-live", panel).textContent = res.model.provenance;
    var out = $(".score", panel);
    out.dataset.score = res.score === null ? "" : String(res.score);
    out.dataset.scoreLow = String(res.score_low);
    out.dataset.scoreHigh = String(res.score_high);
    out.textContent = res.score === null ? S.undetermined : fmt(res.score);
    $(".bounds", panel).textContent = res.determined ? S.determined
      : S.bounds + " [" + fmt(res.score_low) + ", " + fmt(res.score_high) + "] — " + S.bounded_mean;
    gauge($(".gauge", panel), res);
    var hidden = waterfall($(".waterfall.logit", panel), res, "logit");
    waterfall($(".waterfall.proba", panel), res, "proba");
    $(".zero-note", panel).textContent = hidden ? "(" + hidden + " " + S.zero_hidden + ")" : "";
    var html = "";
    [["would_lower", S.would_lower], ["would_raise", S.would_raise]].forEach(function (kv) {
      var list = res[kv[0]];
      if (!list.length) return;
      html += "<div class='" + kv[0] + "'><h3>" + esc(kv[1]) + "</h3><ul>";
      list.forEach(function (c) {
        html += "<li>" + esc(lbl(c, "label")) + S.colon + esc(LANG === "en" ? c.from_en : c.from_fr) + " → "
          + esc(LANG === "en" ? c.to_en : c.to_fr) + S.colon + fmt(res.score) + " → <strong>" + fmt(c.score)
          + "</strong> (" + (c.delta >= 0 ? "+" : "") + fmt(c.delta) + ")"
          + (c.protected_ground ? " <span class='ground'>" + esc(S.protected) + S.colon + esc(ground(c.protected_ground)) + "</span>" : "")
          + "</li>";
      });
      html += "</ul></div>";
    });
    $(".changes", panel).innerHTML = html;
    var rows = "<tr><th>" + esc(S.criterion) + "</th><th>" + esc(S.modality) + "</th><th>" + esc(S.low)
      + "</th><th>" + esc(S.high) + "</th><th>" + esc(S.status) + "</th><th>" + esc(S.protected) + "</th></tr>";
    rows += "<tr><td>" + esc(S.intercept) + "</td><td></td><td>" + fmt(res.intercept) + "</td><td>"
      + fmt(res.intercept) + "</td><td>" + esc(statusLabel(res.intercept_status)) + "</td><td></td></tr>";
    res.contributions.forEach(function (c) {
      rows += "<tr data-criterion='" + esc(c.criterion) + "'><td>" + esc(lbl(c, "label")) + "</td><td>"
        + (c.input_known ? esc(lbl(c, "modality_label")) : "<em>" + esc(S.unknown) + "</em>") + "</td><td>"
        + fmt(c.low) + "</td><td>" + fmt(c.high) + "</td><td class='st-" + esc(c.status) + "'>"
        + esc(statusLabel(c.status)) + "</td><td>" + esc(ground(c.protected_ground)) + "</td></tr>";
    });
    $(".contrib", panel).innerHTML = rows;
    $(".redacted", panel).textContent = res.redacted.length ? S.redacted_note + S.colon
      + res.redacted.map(function (r) { return lbl(r, "label"); }).join(", ") : "";
  }

  function renderDiff() {
    var a = results.a, b = results.b;
    if (!a || !b) return;
    var gap = $("#gap");
    gap.hidden = false;
    var delta = (a.score === null || b.score === null) ? null : b.score - a.score;
    gap.innerHTML = "<strong>" + esc(S.gap) + "</strong>" + S.colon + esc(a.dossier || S.household_a) + " " + fmt(a.score) + " — "
      + esc(b.dossier || S.household_b) + " " + fmt(b.score) + S.colon + "<output id='gap-value' data-gap='"
      + (delta === null ? "" : delta) + "'>" + (delta === null ? "—" : (delta >= 0 ? "+" : "") + fmt(delta)) + "</output>";
    var rows = "<tr><th>" + esc(S.criterion) + "</th><th>A</th><th>B</th><th>Δ log-odds</th><th>"
      + esc(S.protected) + "</th></tr>", n = 0;
    a.contributions.forEach(function (ca, i) {
      var cb = b.contributions[i];
      if (ca.modality === cb.modality && ca.low === cb.low && ca.high === cb.high) return;
      n++;
      var mid = function (c) { return c.low === null || c.high === null ? 0 : (c.low + c.high) / 2; };
      rows += "<tr><td>" + esc(lbl(ca, "label")) + "</td><td>" + esc(ca.input_known ? lbl(ca, "modality_label") : S.unknown)
        + "</td><td>" + esc(cb.input_known ? lbl(cb, "modality_label") : S.unknown) + "</td><td>"
        + fmt(mid(cb) - mid(ca)) + "</td><td>" + esc(ground(ca.protected_ground)) + "</td></tr>";
    });
    var diff = $("#diff");
    diff.hidden = false;
    $("table", diff).innerHTML = n ? rows : "<tr><td>" + esc(S.no_difference) + "</td></tr>";
  }

  // ---------------- wiring ----------------
  function init() {
    $$("form.household").forEach(function (form) {
      form.addEventListener("submit", function (ev) { ev.preventDefault(); compute(form); });
      // once edited by hand, the household is no longer the named example
      form.addEventListener("input", function () { form.dataset.nom = ""; });
      form.addEventListener("change", function () { form.dataset.nom = ""; });
      $("[data-special=couple]", form).addEventListener("change", function () { togglePartner(form); });
      $(".clear", form).addEventListener("click", function () {
        fillForm(form, { reference_month: "2023-12" });
        document.getElementById(form.id + "-result").hidden = true;
        delete results[form.id];
      });
      $(".save-json", form).addEventListener("click", function () {
        var err = document.getElementById(form.id + "-result-error");
        try {
          var d = readForm(form);
          if (form.dataset.nom) d.nom = form.dataset.nom;
          var blob = new Blob([JSON.stringify(d, null, 2) + "\n"], { type: "application/json" });
          var a = document.createElement("a");
          a.href = URL.createObjectURL(blob);  // a local object URL: nothing is sent anywhere
          a.download = (d.nom || "dossier").toLowerCase().replace(/[^a-z0-9_-]+/g, "-") + ".json";
          document.body.appendChild(a); a.click(); a.remove();
          setTimeout(function () { URL.revokeObjectURL(a.href); }, 1000);
        } catch (e) { err.textContent = S.error + S.colon + e.message; err.hidden = false; }
      });
      $(".load-json input", form).addEventListener("change", function (ev) {
        var file = ev.target.files[0], err = document.getElementById(form.id + "-result-error");
        if (!file) return;
        file.text().then(function (text) {
          var d = JSON.parse(text);
          if (!d || typeof d !== "object" || Array.isArray(d)) throw new Error("JSON object?");
          fillForm(form, d);
          return compute(form);
        }).catch(function (e) { err.textContent = S.error + S.colon + e.message; err.hidden = false; });
        ev.target.value = "";
      });
      $$(".event", form).forEach(function (e) {
        $(".ev-date", e).addEventListener("input", function () { if ($(".ev-date", e).value) $(".ev-mode", e).value = "date"; });
      });
    });
    $$("button.preset").forEach(function (btn) {
      btn.addEventListener("click", function () {
        var form = document.getElementById(btn.dataset.target);
        loadPersona(btn.dataset.persona).then(function (d) { fillForm(form, d); return compute(form); });
      });
    });
    function openC2S() {  // the CNAM models read the C2S section: show it
      var item = $(".prov-item[data-model='" + currentModel() + "']");
      var cnam = item && /^CNAM/i.test(item.dataset.institution || "");
      $$("details.c2s").forEach(function (d) { d.open = cnam; });
    }
    openC2S();
    $("#model-select").addEventListener("change", function () {
      var id = currentModel();
      $$(".prov-item").forEach(function (p) { p.hidden = p.dataset.model !== id; });
      openC2S();
      $$("form.household").forEach(function (form) { if (results[form.id]) compute(form); });
    });
    var initial = CFG.initial || {};
    Object.keys(initial).forEach(function (formId) {
      var form = document.getElementById(formId);
      if (form && initial[formId]) {
        loadPersona(initial[formId]).then(function (d) { fillForm(form, d); return compute(form); });
      }
    });
    document.body.dataset.ready = "1";
  }
  init();
})();

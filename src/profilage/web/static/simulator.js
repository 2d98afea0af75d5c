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
  /** A number as the page's language writes it: 0,240 in French, 0.240 in English. */
  function fmt(x, d) {
    if (x === null || x === undefined || !isFinite(x)) return "—";
    var t = Number(x).toFixed(d === undefined ? 3 : d);
    return LANG === "fr" ? t.replace(".", ",") : t;
  }
  function signed(x, d) { return (x >= 0 ? "+" : "") + fmt(x, d); }
  function pctText(p) { return p === null || p === undefined ? "—" : fmt(p, 1) + (LANG === "fr" ? "\u00a0%" : " %"); }
  function fill(tpl, vars) { return tpl.replace(/\{(\w+)\}/g, function (_, k) { return vars[k]; }); }
  function plural(n, key) { return n + " " + (n > 1 && S[key + "_pl"] ? S[key + "_pl"] : S[key]); }
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
    var text = l ? (l.querySelector(".lbl") || l).firstChild.textContent.trim() : "";
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

  /** "640,50", "640.50", "1 500" -> a number; anything else -> NaN (refused, never guessed). */
  function parseNumber(raw, type) {
    var t = raw.replace(/[\s\u00a0\u202f]/g, "").replace(/€$/, "");
    if (type === "int") return /^\d+$/.test(t) ? parseInt(t, 10) : NaN;
    if (!/^\d+([.,]\d+)?$/.test(t)) return NaN;
    return parseFloat(t.replace(",", "."));
  }

  /** Mark one field: an error (refused), a warning (kept, flagged) or nothing. */
  function markField(input, kind, text) {
    var holder = input.closest("label, .event") || input;
    var id = (input.closest("form").id + "-" + (input.dataset.path || input.className)).replace(/[^\w-]+/g, "-") + "-msg";
    var msg = document.getElementById(id);
    if (!kind) {
      input.removeAttribute("aria-invalid");
      if (msg) msg.remove();
      return;
    }
    if (!msg) {
      msg = document.createElement("small");
      msg.id = id;
      holder.insertAdjacentElement("afterend", msg);
    }
    msg.className = "field-msg " + kind;
    msg.textContent = (kind === "error" ? "⚠ " : "ⓘ ") + text;
    input.setAttribute("aria-describedby", id);
    if (kind === "error") input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
  }

  function monthNum(s) { var m = /^(\d{4})-(\d{2})/.exec(s || ""); return m ? +m[1] * 12 + +m[2] : null; }

  /** The dossier the form describes; a blank field is left out (unknown). Every refused field
   * is marked beside itself, and the first one is reported. */
  function readForm(form) {
    var couple = $("[data-special=couple]", form).value;
    var d = {}, problems = [];
    var ref = monthNum($("[data-path=reference_month]", form).value);
    $$("[data-path]", form).forEach(function (input) {
      var path = input.dataset.path, type = input.dataset.type, value;
      var target = type === "event" ? $(".ev-date", input) : input;
      markField(target, null);
      if (path.indexOf("conjoint.") === 0 && couple !== "oui") return;
      if (type === "event") {
        var mode = $(".ev-mode", input).value;
        if (!mode) return;
        value = mode === "jamais" ? "jamais" : $(".ev-date", input).value;
        if (!value) { problems.push([target, fieldLabel(input), S.date.replace(/\s*:$/, "") + " ?"]); return; }
        if (value !== "jamais" && ref !== null && monthNum(value) > ref) {
          problems.push([target, fieldLabel(input), S.event_after_ref]); return;
        }
      } else {
        var raw = input.value.trim();
        if (raw === "") return;
        if (type === "int" || type === "float") {
          value = parseNumber(raw, type);
          if (!isFinite(value)) { problems.push([input, fieldLabel(input), (type === "int" ? S.bad_int : S.bad_number) + " — « " + raw + " »"]); return; }
          var min = input.dataset.min, max = input.dataset.max, warn = input.dataset.warn;
          if (min !== undefined && value < +min) { problems.push([input, fieldLabel(input), S.at_least + " " + fmt(+min, 0)]); return; }
          if (max !== undefined && value > +max) { problems.push([input, fieldLabel(input), S.at_most + " " + Number(max).toLocaleString(LANG === "fr" ? "fr-FR" : "en-GB")]); return; }
          if (warn !== undefined && value > +warn) markField(input, "warn", S.implausible);
        } else if (type === "bool") value = raw === "true";
        else value = raw;
      }
      setPath(d, path, value);
    });
    if (problems.length) {
      problems.forEach(function (p) { markField(p[0], "error", p[2]); });
      var e = new Error(problems.map(function (p) { return p[1] + S.colon + p[2]; }).join(" ; "));
      e.field = problems[0][0];
      throw e;
    }
    if (couple === "oui") d.conjoint = d.conjoint || {};
    else if (couple === "non") d.conjoint = null;
    markField($("[data-special=enfants]", form), null);
    var kids = $("[data-special=enfants]", form).value.trim().toLowerCase();
    if (kids === "aucun" || kids === "none" || kids === "-") d.enfants = [];
    else if (kids !== "") {
      d.enfants = kids.split(/[\s,;]+/).filter(Boolean).map(function (k) {
        if (k === "?") return {};
        var a = Number(k);
        if (!Number.isInteger(a) || a < 0 || a > 30) {
          var kidsInput = $("[data-special=enfants]", form);
          var text = "« " + k + " » (0–30, « ? », « " + (LANG === "en" ? "none" : "aucun") + " »)";
          markField(kidsInput, "error", text);
          var err = new Error(S.children_ages + S.colon + text);
          err.field = kidsInput;
          throw err;
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
        var res = Profilage.explainDossier(SITE.models[modelId], dossier, SITE.data, 3);
        res.context = staticContext(modelId, res.score);
        resolve(res);
      }).catch(function (e) {
        throw new Error(e.code === "needs_conjoint" ? S.err_needs_conjoint : e.message);
      });
    }
    return fetch(CFG.api + "explain?lang=" + LANG, {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify(CFG.ensembles && CFG.ensembles[modelId]
        ? { model: modelId, dossier: dossier, ensemble: true } : { model: modelId, dossier: dossier })
    }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) {
          var d = body.detail;
          var msg = Array.isArray(d) ? d.map(function (e) {
            return e.label && e.message ? e.label[LANG] + S.colon + e.message[LANG] : e.msg;
          }).join(" ; ") : String(d);
          throw new Error(msg);
        }
        return body;
      });
    });
  }

  /** The static site's context: the reference population's 1,001 score quantiles (site data). */
  function staticContext(modelId, score) {
    var c = SITE.contexts && SITE.contexts[modelId];
    if (!c) return null;
    var q = c.quantiles, pctl = null;
    if (score !== null && q && q.length) {
      var lo = 0, hi = q.length;  // first quantile >= score
      while (lo < hi) { var mid = (lo + hi) >> 1; if (q[mid] < score) lo = mid + 1; else hi = mid; }
      pctl = 100 * lo / (q.length - 1);
      if (pctl > 100) pctl = 100;
    }
    return { percentile: pctl, threshold: c.threshold, approximate: true,
             selected_under_budget: score === null || c.threshold === null ? null : score >= c.threshold,
             population: c.population[LANG] };
  }

  function loadPersona(name) {
    if (CFG.static) return Promise.resolve(JSON.parse(JSON.stringify(SITE.personas[name])));
    return fetch(CFG.api + "personas/" + encodeURIComponent(name)).then(function (r) { return r.json(); });
  }

  function showError(form, message) {
    var err = document.getElementById(form.id + "-result-error");
    err.textContent = S.error + S.colon + message; err.hidden = false;
    document.getElementById(form.id + "-result").hidden = true;
  }

  var seq = {};
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
      showError(form, e.message);
      form.dataset.state = "error";
      return Promise.resolve(null);
    }
    form.dataset.state = "computing";
    var mine = seq[form.id] = (seq[form.id] || 0) + 1;
    return explain(currentModel(), dossier).then(function (res) {
      if (mine !== seq[form.id]) return res;  // a newer computation is on its way
      results[form.id] = res;
      render(panel, res);
      panel.classList.remove("stale");
      $(".stale-note", panel).hidden = true;
      form.dataset.state = "done";
      if (CFG.compare) renderDiff();
      return res;
    }).catch(function (e) {
      if (mine !== seq[form.id]) return;
      showError(form, e.message);
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
    var t0 = el("text", { x: 14, y: 116, "font-size": 12 }, svg); t0.textContent = "0";
    var t1 = el("text", { x: 180, y: 116, "font-size": 12 }, svg); t1.textContent = "1";
    svg.setAttribute("aria-label", fill(S.gauge_name, { s: res.score === null ? S.score_unknown : fmt(res.score) }));
  }

  /** The waterfall, drawn at the width it is shown at (a phone gets labels above the bars, at a
   * readable size). Unknown coefficients are drawn as unknown (hatched, no value), never as 0. */
  function waterfall(svg, res, scale) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var sig = Profilage_sigmoid;
    var unknownCoef = function (s) { return s.status === "unknown" && s.low === null && s.high === null; };
    var steps = res.waterfall.filter(function (s) { return s.logit !== 0 || !s.input_known || unknownCoef(s); });
    var rows = [], icept = res.intercept, cum = icept === null ? 0 : icept;
    rows.push({ label: icept === null ? S.intercept_unknown : S.intercept,
                from: scale === "logit" ? 0 : 0.5, to: scale === "logit" ? cum : sig(cum),
                whisker: null, known: icept !== null, unknown: icept === null,
                text: icept === null ? "?" : fmt(scale === "logit" ? cum : sig(cum)) });
    var x = cum;
    res.waterfall.forEach(function (s) {
      var before = x; x += s.logit;
      if (steps.indexOf(s) < 0) return;
      var wl = null, unk = unknownCoef(s);
      if (!s.input_known && !unk) {
        var lo = s.low === null ? before - 3 : before + s.low, hi = s.high === null ? before + 3 : before + s.high;
        wl = scale === "logit" ? [lo, hi] : [sig(lo), sig(hi)];
      }
      rows.push({
        label: lbl(s, "label") + S.colon + (s.input_known ? lbl(s, "modality_label") : S.unknown)
          + (unk ? " (" + S.coef_unknown + ")" : "") + (s.protected_ground ? " ⚑" : ""),
        from: scale === "logit" ? before : s.probability_before,
        to: scale === "logit" ? x : s.probability_after, whisker: wl, known: s.input_known && !unk,
        unknown: unk,
        text: unk ? "?" : scale === "logit" ? signed(s.logit) : signed(s.probability)
      });
    });
    var lo = 0, hi = scale === "logit" ? 0 : 1;
    rows.forEach(function (r) {
      if (r.unknown) return;
      [r.from, r.to].concat(r.whisker || []).forEach(function (v) { lo = Math.min(lo, v); hi = Math.max(hi, v); });
    });
    if (scale !== "logit") { lo = 0; hi = 1; }
    if (hi - lo < 1e-9) { lo -= 1; hi += 1; }
    var W = Math.max(280, Math.round(svg.parentNode.clientWidth || 720));
    var narrow = W < 560, fs = 13, cw = 7;  // font size and a generous average glyph width
    var left = narrow ? 22 : Math.min(330, Math.round(W * 0.42)), right = narrow ? 64 : 96;
    var maxChars = narrow ? Math.floor((W - 12) / cw) : Math.floor((left - 10) / cw);
    rows.forEach(function (r) { r.lines = wrapText(r.label, maxChars, narrow ? 2 : 1); });
    var barH = 16, gap = 8, tops = [], y0 = 4;
    rows.forEach(function (r) { tops.push(y0); y0 += (narrow ? r.lines.length * 16 : 0) + barH + gap; });
    var H = y0 + 22;
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    svg.setAttribute("width", W);
    svg.setAttribute("height", H);
    var defs = el("defs", {}, svg);
    var pat = el("pattern", { id: "hatch-" + svg.id, width: 6, height: 6, patternUnits: "userSpaceOnUse",
                              patternTransform: "rotate(45)" }, defs);
    el("rect", { width: 6, height: 6, fill: "#eceff1" }, pat);
    el("line", { x1: 0, y1: 0, x2: 0, y2: 6, stroke: "#78909c", "stroke-width": 2 }, pat);
    var X = function (v) { return left + (v - lo) / ((hi - lo) || 1) * (W - left - right); };
    var zero = scale === "logit" ? 0 : 0.5;
    el("line", { x1: X(zero), x2: X(zero), y1: 0, y2: H - 20, stroke: "#757575", "stroke-dasharray": "3,3" }, svg);
    rows.forEach(function (r, i) {
      var y = tops[i], by = y + (narrow ? r.lines.length * 16 : 0);
      r.lines.forEach(function (line, k) {
        var t = el("text", narrow ? { x: 4, y: y + 13 + 16 * k, "font-size": fs }
                                  : { x: left - 6, y: by + 12, "text-anchor": "end", "font-size": fs }, svg);
        t.textContent = line;
        var tip = el("title", {}, t); tip.textContent = r.label;
      });
      var a, b;
      if (r.unknown) {
        a = X(lo); b = X(hi);
        el("rect", { x: a, y: by, width: b - a, height: barH, fill: "url(#hatch-" + svg.id + ")", class: "bar unknown" }, svg);
      } else {
        a = X(Math.min(r.from, r.to)); b = X(Math.max(r.from, r.to));
        var color = i === 0 ? "#546e7a" : (r.to > r.from ? "#c62828" : "#2e7d32");
        el("rect", { x: a, y: by, width: Math.max(b - a, 1), height: barH, fill: color,
                     "fill-opacity": r.known ? 0.9 : 0.4, class: "bar" }, svg);
      }
      if (r.whisker) {
        el("line", { x1: X(r.whisker[0]), x2: X(r.whisker[1]), y1: by + barH / 2, y2: by + barH / 2,
                     stroke: "#222", "stroke-width": 1.5 }, svg);
      }
      var v = el("text", { x: r.unknown ? W - right + 4 : Math.min(b + 4, W - right + 4), y: by + 12, "font-size": fs }, svg);
      v.textContent = r.text;
    });
    var axis = [lo, (lo + hi) / 2, hi];
    axis.forEach(function (v, k) {
      var t = el("text", { x: X(v), y: H - 5, "font-size": 12, fill: "#424242",
                           "text-anchor": k === 0 && narrow ? "start" : k === 2 ? "end" : "middle" }, svg);
      t.textContent = fmt(v, 2);
    });
    svg.setAttribute("aria-label", fill(S.waterfall_name, {
      scale: scale === "logit" ? S.scale_logit : S.scale_proba,
      s: res.score === null ? S.score_unknown : fmt(res.score) }));
    return { zero: res.waterfall.length - steps.length,
             unknown: res.waterfall.filter(unknownCoef).length };
  }
  /** Split a label into at most ``n`` lines of ``max`` characters (the last one cut with …). */
  function wrapText(text, max, n) {
    var words = text.split(" "), lines = [""];
    words.forEach(function (w) {
      var cur = lines[lines.length - 1];
      if (!cur.length || (cur + " " + w).length <= max) lines[lines.length - 1] = cur ? cur + " " + w : w;
      else lines.push(w);
    });
    if (lines.length > n) { lines = lines.slice(0, n); lines[n - 1] = lines[n - 1] + " …"; }
    return lines.map(function (l) { return l.length > max ? l.slice(0, max - 1) + "…" : l; });
  }
  function Profilage_sigmoid(x) {
    if (x >= 0) return 1 / (1 + Math.exp(-x));
    var e = Math.exp(x); return e / (1 + e);
  }

  function statusLabel(s) { return S["st_" + s] || s; }
  function ground(g) { return g ? (S["ground_" + g] || g) : ""; }

  /** The model's provenance in the page's language, from its statuses (never the API's English
   * line): "cnaf-2014 — 67 coefficients reconstruits, 3 occultés". */
  function provenanceText(m) {
    var st = m.coefficients_status || {}, parts = [];
    ["published", "reconstructed", "redacted", "unknown"].forEach(function (k) {
      if (st[k]) parts.push(plural(st[k], "st_" + k));
    });
    return m.id + " — " + S.coefficients + S.colon + parts.join(", ") + " — sha256 " + String(m.sha256).slice(0, 12);
  }

  function contextHtml(res) {
    var c = res.context, h = "<h3>" + esc(S.ctx_title) + "</h3>";
    if (res.score === null && res.intercept === null) return h + "<p>" + esc(S.ctx_none) + "</p>";
    h += "<p>" + esc(S.ctx_meaning) + "</p>";
    if (!c || c.percentile === null || c.percentile === undefined) return h + "<p>" + esc(S.ctx_none) + "</p>";
    h += "<p class='ctx-rank'>" + esc(fill(S.ctx_percentile, { p: pctText(c.percentile) }))
      + (c.approximate ? " <small>" + esc(S.ctx_approx) + "</small>" : "") + "</p>";
    if (c.selected_under_budget !== null) {
      h += "<p class='ctx-selected' data-selected='" + c.selected_under_budget + "'>"
        + esc(fill(c.selected_under_budget ? S.ctx_selected : S.ctx_not_selected, { t: fmt(c.threshold) })) + "</p>";
    }
    return h + "<p class='note'>" + esc(S.ctx_reference) + S.colon + esc(c.population) + "</p>";
  }

  function render(panel, res) {
    panel.hidden = false;
    $(".provenance-live", panel).textContent = provenanceText(res.model);
    var out = $(".score", panel);
    out.dataset.score = res.score === null ? "" : String(res.score);
    out.dataset.scoreLow = String(res.score_low);
    out.dataset.scoreHigh = String(res.score_high);
    var coefUnknown = res.intercept === null && res.intercept_status === "unknown";
    out.textContent = res.score === null ? (coefUnknown ? S.score_unknown : S.undetermined) : fmt(res.score);
    $(".bounds", panel).textContent = coefUnknown ? S.score_unknown_note
      : res.determined ? S.determined
      : res.score === null ? S.bounds_unknown
      : S.bounds + " [" + fmt(res.score_low) + (LANG === "fr" ? " ; " : ", ") + fmt(res.score_high) + "] — " + S.bounded_mean;
    $(".context", panel).innerHTML = contextHtml(res);
    var ens = res.ensemble, ensBox = $(".ensemble-range", panel);
    if (ens && ens.score_min !== null && ens.score_min !== undefined) {
      ensBox.hidden = false;
      ensBox.textContent = fill(S.ens_range, { n: ens.size, lo: fmt(ens.score_min), hi: fmt(ens.score_max),
                                              med: fmt(ens.score_median) });
      ensBox.dataset.min = ens.score_min; ensBox.dataset.max = ens.score_max;
    } else { ensBox.hidden = true; ensBox.textContent = ""; }
    gauge($(".gauge", panel), res);
    var counts = waterfall($(".waterfall.logit", panel), res, "logit");
    waterfall($(".waterfall.proba", panel), res, "proba");
    var notes = [];
    if (counts.zero) notes.push(counts.zero + " " + (counts.zero > 1 ? S.zero_hidden : S.zero_hidden_1));
    if (counts.unknown) notes.push(counts.unknown + " " + (counts.unknown > 1 ? S.unknown_coef_note : S.unknown_coef_note_1));
    $(".zero-note", panel).textContent = notes.length ? "(" + notes.join(" ; ") + ")" : "";
    var html = "";
    [["would_lower", S.would_lower], ["would_raise", S.would_raise]].forEach(function (kv) {
      var list = res[kv[0]];
      if (!list.length) return;
      html += "<div class='" + kv[0] + "'><h3>" + esc(kv[1]) + "</h3><ul>";
      list.forEach(function (c) {
        html += "<li>" + esc(lbl(c, "label")) + S.colon + esc(LANG === "en" ? c.from_en : c.from_fr) + " → "
          + esc(LANG === "en" ? c.to_en : c.to_fr) + S.colon + fmt(res.score) + " → <strong>" + fmt(c.score)
          + "</strong> (" + signed(c.delta) + ")"
          + (c.protected_ground ? " <span class='ground'>" + esc(S.protected) + S.colon + esc(ground(c.protected_ground)) + "</span>" : "")
          + "</li>";
      });
      html += "</ul></div>";
    });
    $(".changes", panel).innerHTML = html;
    var H = [S.criterion, S.modality, S.low, S.high, S.status, S.protected];
    var td = function (i, v, cls) { return "<td data-label='" + esc(H[i]) + "'" + (cls ? " class='" + cls + "'" : "") + ">" + v + "</td>"; };
    var val = function (v, status) { return v === null && status === "unknown" ? "<em>" + esc(S.st_unknown) + "</em>" : fmt(v); };
    var rows = "<caption class='visually-hidden'>" + esc(S.contributions) + "</caption><thead><tr>" + H.map(function (h) { return "<th scope='col'>" + esc(h) + "</th>"; }).join("") + "</tr></thead><tbody>";
    rows += "<tr>" + td(0, esc(S.intercept)) + td(1, "") + td(2, val(res.intercept, res.intercept_status), "num")
      + td(3, val(res.intercept, res.intercept_status), "num") + td(4, esc(statusLabel(res.intercept_status)), "st-" + esc(res.intercept_status)) + td(5, "") + "</tr>";
    res.contributions.forEach(function (c) {
      rows += "<tr data-criterion='" + esc(c.criterion) + "'>" + td(0, esc(lbl(c, "label")))
        + td(1, c.input_known ? esc(lbl(c, "modality_label")) : "<em>" + esc(S.unknown) + "</em>")
        + td(2, val(c.low, c.status), "num") + td(3, val(c.high, c.status), "num")
        + td(4, esc(statusLabel(c.status)), "st-" + esc(c.status)) + td(5, esc(ground(c.protected_ground))) + "</tr>";
    });
    $(".contrib", panel).innerHTML = rows + "</tbody>";
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
      + (delta === null ? "" : delta) + "'>" + (delta === null ? "—" : signed(delta)) + "</output>";
    var DH = [S.criterion, S.household_a, S.household_b, "Δ log-odds", S.protected];
    var dtd = function (i, v) { return "<td data-label='" + esc(DH[i]) + "'>" + v + "</td>"; };
    var rows = "<thead><tr>" + DH.map(function (h) { return "<th scope='col'>" + esc(h) + "</th>"; }).join("") + "</tr></thead>", n = 0;
    a.contributions.forEach(function (ca, i) {
      var cb = b.contributions[i];
      if (ca.modality === cb.modality && ca.low === cb.low && ca.high === cb.high) return;
      n++;
      var mid = function (c) { return c.low === null || c.high === null ? 0 : (c.low + c.high) / 2; };
      rows += "<tr>" + dtd(0, esc(lbl(ca, "label"))) + dtd(1, esc(ca.input_known ? lbl(ca, "modality_label") : S.unknown))
        + dtd(2, esc(cb.input_known ? lbl(cb, "modality_label") : S.unknown)) + dtd(3, signed(mid(cb) - mid(ca)))
        + dtd(4, esc(ground(ca.protected_ground))) + "</tr>";
    });
    var diff = $("#diff");
    diff.hidden = false;
    $("table", diff).innerHTML = n ? rows : "<tr><td>" + esc(S.no_difference) + "</td></tr>";
  }

  // ---------------- wiring ----------------
  function init() {
    $$("form.household").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        compute(form).then(function () {
          var bad = $("[aria-invalid=true]", form);
          if (bad) bad.focus();
        });
      });
      // once edited by hand, the household is no longer the named example
      var timer = null;
      var edited = function (ev) {
        if (ev && ev.target && ev.target.type === "file") return;
        form.dataset.nom = "";
        if (!results[form.id]) return;  // nothing shown yet: wait for "Compute"
        var panel = document.getElementById(form.id + "-result");
        panel.classList.add("stale");
        $(".stale-note", panel).hidden = false;
        clearTimeout(timer);
        timer = setTimeout(function () { compute(form); }, 600);  // debounced recompute
      };
      form.addEventListener("input", edited);
      form.addEventListener("change", edited);
      $("[data-special=couple]", form).addEventListener("change", function () { togglePartner(form); });
      $(".clear", form).addEventListener("click", function () {
        delete results[form.id];
        fillForm(form, { reference_month: "2023-12" });
        $$(".field-msg", form).forEach(function (m) { m.remove(); });
        $$("[aria-invalid]", form).forEach(function (i) { i.removeAttribute("aria-invalid"); });
        document.getElementById(form.id + "-result").hidden = true;
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
          var d;
          try { d = JSON.parse(text); } catch (e) { throw new Error(file.name + S.colon + S.bad_json); }
          if (!d || typeof d !== "object" || Array.isArray(d)) throw new Error(file.name + S.colon + S.bad_json);
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
    var resizeTimer = null;
    window.addEventListener("resize", function () {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(function () {
        Object.keys(results).forEach(function (id) {
          var panel = document.getElementById(id + "-result");
          if (panel && !panel.hidden) {
            waterfall($(".waterfall.logit", panel), results[id], "logit");
            waterfall($(".waterfall.proba", panel), results[id], "proba");
          }
        });
      }, 200);
    });
    document.body.dataset.ready = "1";
  }
  init();
})();

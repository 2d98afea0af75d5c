/* profilage — scoring in the browser, at the criterion level (no network, no dependency).
 *
 * A line-by-line port of profilage.dossier.Dossier.to_row, profilage.features.derive_features,
 * profilage.engine (bounds, Le Monde's bounded mean) and profilage.scoring (score_dossier,
 * explain_dossier). `null` means unknown and propagates with Polars' rules: arithmetic and
 * comparisons with null give null; and/or follow three-valued (Kleene) logic; a null condition
 * in when/then takes the "otherwise" branch. The test suite runs this file in Chromium over the
 * personas and random households and compares with the Python engine to 1e-9.
 *
 * AGPL-3.0-or-later. Exposes `Profilage` (window.Profilage, or module.exports under Node).
 */
(function (root) {
  "use strict";

  var NEVER = { y: 1900, m: 1 };
  var SEUIL_REVENUS_IMPORTANTS = 942.0;
  var UC = { holder: 1.0, other_14_plus: 0.5, child_under_14: 0.3, single_parent_bonus: 0.2 };
  var NARROW = 1e-9;

  // ---- three-valued logic and null-propagating arithmetic (Polars semantics) ----
  function isNull(x) { return x === null || x === undefined; }
  function and(a, b) {
    if (a === false || b === false) return false;
    if (isNull(a) || isNull(b)) return null;
    return true;
  }
  function or(a, b) {
    if (a === true || b === true) return true;
    if (isNull(a) || isNull(b)) return null;
    return false;
  }
  function not(a) { return isNull(a) ? null : !a; }
  function add() {
    var s = arguments[0];
    if (isNull(s)) return null;
    for (var i = 1; i < arguments.length; i++) {
      if (isNull(arguments[i])) return null;
      s = s + arguments[i];
    }
    return s;
  }
  function sub(a, b) { return isNull(a) || isNull(b) ? null : a - b; }
  function mul(a, b) { return isNull(a) || isNull(b) ? null : a * b; }
  function div(a, b) { return isNull(a) || isNull(b) ? null : a / b; }
  function cmp(a, b, op) {
    if (isNull(a) || isNull(b)) return null;
    switch (op) {
      case "<": return a < b;
      case "<=": return a <= b;
      case ">": return a > b;
      case ">=": return a >= b;
      default: return a === b;
    }
  }
  function clip0(x) { return isNull(x) ? null : Math.max(x, 0); }
  function coalesce(a, b) { return isNull(a) ? (isNull(b) ? null : b) : a; }
  function v(x) { return isNull(x) ? null : x; }

  // ---- dates: "YYYY-MM", "YYYY-MM-DD", "jamais" -> {y, m} ----
  function parseMonth(s, allowNever) {
    if (isNull(s)) return null;
    if (typeof s === "object" && "y" in s) return s;
    var t = String(s).trim().toLowerCase();
    if (allowNever && (t === "jamais" || t === "never")) return NEVER;
    var m = /^(\d{4})-(\d{2})(?:-(\d{2}))?$/.exec(t);
    if (!m) throw new Error("date attendue AAAA-MM / expected YYYY-MM: " + s);
    var mo = parseInt(m[2], 10);
    if (mo < 1 || mo > 12) throw new Error("mois invalide / invalid month: " + s);
    return { y: parseInt(m[1], 10), m: mo };
  }
  function monthIndex(d) { return isNull(d) ? null : d.y * 12 + d.m; }
  function monthsBetween(ref, d) { return isNull(d) ? null : monthIndex(ref) - monthIndex(d); }
  function birthFromAge(ref, age) {
    if (isNull(age)) return null;
    var months = ref.y * 12 + ref.m - 1 - (age * 12 + 6);
    return { y: Math.floor(months / 12), m: (((months % 12) + 12) % 12) + 1 };
  }

  // ---- Dossier.to_row ----
  function toRow(dossier) {
    var ref = parseMonth(dossier.reference_month, false);
    if (!ref) throw new Error("reference_month manquant / missing");
    var a = dossier.allocataire || {};
    var hasPartner = ("conjoint" in dossier) ? (dossier.conjoint !== null) : null;
    var sit = dossier.situation_familiale;
    if (hasPartner === false && (sit === "marie" || sit === "pacse" || sit === "concubinage")) {
      // the same rule as profilage.dossier.parse_dossier
      var err = new Error("conjoint : situation_familiale '" + sit + "' needs a conjoint (give one, "
                          + "or leave conjoint out if unknown)");
      err.code = "needs_conjoint";  // the pages show it in their language
      throw err;
    }
    var c = dossier.conjoint || {};
    var children = null;
    if (!isNull(dossier.enfants)) {
      children = dossier.enfants.map(function (e) {
        var d = parseMonth(e.date_naissance, false);
        return d || birthFromAge(ref, v(e.age));
      });
      if (children.some(isNull)) children = null;
    }
    var p = dossier.prestations || {}, l = dossier.logement || {}, h = dossier.historique || {};
    var c2s = dossier.c2s || {};
    var row = {
      reference_month: ref,
      alloc_date_naissance: parseMonth(a.date_naissance, false), alloc_age: v(a.age),
      alloc_sexe: v(a.sexe), alloc_activite: v(a.activite), alloc_nationalite: v(a.nationalite),
      alloc_mois_travailles_12m: v(a.mois_travailles_12m), alloc_revenu_mensuel: v(a.revenu_mensuel),
      alloc_aah: v(a.aah), alloc_esat: v(a.esat),
      conjoint: hasPartner,
      conj_date_naissance: parseMonth(c.date_naissance, false), conj_age: v(c.age),
      conj_sexe: v(c.sexe), conj_activite: v(c.activite),
      conj_mois_travailles_12m: v(c.mois_travailles_12m), conj_revenu_mensuel: v(c.revenu_mensuel),
      conj_aah: v(c.aah), conj_esat: v(c.esat),
      situation_familiale: v(dossier.situation_familiale),
      enfants_dates_naissance: children,
      autres_revenus_mensuels: v(dossier.autres_revenus_mensuels),
      rsa: v(p.rsa), prime_activite: v(p.prime_activite), aide_logement: v(p.aide_logement),
      allocations_familiales: v(p.allocations_familiales),
      montant_rsa: v(p.montant_rsa), montant_aah: v(p.montant_aah),
      montant_prime_activite: v(p.montant_prime_activite),
      montant_aide_logement: v(p.montant_aide_logement),
      montant_allocations_familiales: v(p.montant_allocations_familiales),
      statut_logement: v(l.statut), loyer_mensuel: v(l.loyer_mensuel), qpv: v(l.qpv),
      date_inscription_caf: parseMonth(h.inscription_caf, true),
      date_changement_adresse: parseMonth(h.changement_adresse, true),
      date_changement_loyer: parseMonth(h.changement_loyer, true),
      date_dernier_contact: parseMonth(h.dernier_contact, true),
      date_separation: parseMonth(h.separation, true),
      nb_declarations_12m: v(h.nb_declarations_12m), nb_controles_passes: v(h.nb_controles_passes),
      baisse_connexions_web: v(h.baisse_connexions_web),
      c2s_premiere_demande: v(c2s.premiere_demande),
      c2s_ressources_annuelles: v(c2s.ressources_annuelles),
      c2s_pension_invalidite: v(c2s.pension_invalidite),
      c2s_consommation_soins: v(c2s.consommation_soins),
      c2s_indemnites_journalieres: v(c2s.indemnites_journalieres),
      c2s_contact_assurance_maladie: v(c2s.contact_assurance_maladie)
    };
    if ((l.statut === "proprietaire" || l.statut === "heberge") && isNull(row.loyer_mensuel)) {
      row.loyer_mensuel = 0.0;
    }
    return row;
  }

  // ---- features.derive_features ----
  function floorDiv12(x) { return isNull(x) ? null : Math.floor(x / 12); }
  function age(r, prefix) {
    return coalesce(floorDiv12(monthsBetween(r.reference_month, r[prefix + "_date_naissance"])),
                    r[prefix + "_age"]);
  }
  function working(r, prefix) {
    var act = r[prefix + "_activite"];
    return isNull(act) ? null : (act === "salarie" || act === "independant");
  }
  function benefit(r, name, received) {
    return received === false ? 0.0 : v(r["montant_" + name]);
  }
  function c2sgMultiplier(size, table) {
    if (isNull(size)) return null;
    var keys = Object.keys(table).map(Number).sort(function (x, y) { return x - y; });
    for (var i = 0; i < keys.length; i++) if (size <= keys[i]) return table[keys[i]];
    var top = keys[keys.length - 1];
    return table[top] + 0.4 * (size - top);
  }
  function c2sgCeiling(ref, ceilings) {
    // latest ceiling dated on or before the reference month, else the earliest
    var base = ceilings[0].plafond;
    for (var i = 1; i < ceilings.length; i++) {
      var d = ceilings[i].date; // "YYYY-MM-DD"; the reference month is the 1st of its month
      var dm = parseInt(d.slice(0, 4), 10) * 12 + parseInt(d.slice(5, 7), 10);
      var dd = parseInt(d.slice(8, 10), 10);
      var rm = ref.y * 12 + ref.m;
      if (rm > dm || (rm === dm && dd <= 1)) base = ceilings[i].plafond;
    }
    return base;
  }

  function deriveFeatures(dossier, data) {
    var r = toRow(dossier);
    var ref = r.reference_month;
    var couple = r.conjoint;
    var partnerIncome = couple === true ? r.conj_revenu_mensuel : 0.0;
    var partnerMonths = couple === true ? r.conj_mois_travailles_12m : 0;
    var f = {};
    f.age_allocataire = age(r, "alloc");
    f.a_conjoint = couple;
    f.age_conjoint = couple === true ? age(r, "conj") : null;
    f.situation_familiale = r.situation_familiale;
    f.mois_depuis_separation = clip0(monthsBetween(ref, r.date_separation));
    var aahHousehold = or(r.alloc_aah, and(couple, r.conj_aah));
    f.aah = aahHousehold;
    f.aah_activite_hors_esat = or(and(and(r.alloc_aah, working(r, "alloc")), not(r.alloc_esat)),
                                  and(and(and(couple, r.conj_aah), working(r, "conj")),
                                      not(r.conj_esat)));
    f.activite_allocataire = r.alloc_activite;
    f.activite_conjoint = couple === true ? r.conj_activite : null;
    f.nationalite = r.alloc_nationalite;
    f.mois_activite_foyer = add(r.alloc_mois_travailles_12m, partnerMonths);
    var revenuTotal = add(r.alloc_revenu_mensuel, partnerIncome,
                          isNull(r.autres_revenus_mensuels) ? 0.0 : r.autres_revenus_mensuels);
    var tous12 = and(cmp(r.alloc_mois_travailles_12m, 12, ">="),
                     couple === true ? cmp(r.conj_mois_travailles_12m, 12, ">=") : true);
    f.rsa = r.rsa;
    f.qpv = r.qpv;
    f.baisse_connexions_web = r.baisse_connexions_web;
    f.nb_declarations_12m = r.nb_declarations_12m;
    f.nb_controles_passes = r.nb_controles_passes;
    f.mois_depuis_inscription = clip0(monthsBetween(ref, r.date_inscription_caf));
    f.mois_depuis_changement_adresse = clip0(monthsBetween(ref, r.date_changement_adresse));
    f.mois_depuis_changement_loyer = clip0(monthsBetween(ref, r.date_changement_loyer));
    f.mois_depuis_dernier_contact = clip0(monthsBetween(ref, r.date_dernier_contact));
    var loyer = r.loyer_mensuel;
    var mRsa = benefit(r, "rsa", r.rsa);
    var mAah = benefit(r, "aah", aahHousehold);
    var mPa = benefit(r, "prime_activite", r.prime_activite);
    var mAf = benefit(r, "allocations_familiales", r.allocations_familiales);
    var mAl = benefit(r, "aide_logement", r.aide_logement);

    // children by age band
    var nb = null, lt12 = null, b12_18 = null, ge19 = null, lt14 = null, minors = null,
        adultKids = null;
    if (r.enfants_dates_naissance !== null) {
      var refM = monthIndex(ref);
      var ages = r.enfants_dates_naissance.map(function (d) {
        return Math.floor((refM - monthIndex(d)) / 12);
      });
      var count = function (pred) { return ages.filter(pred).length; };
      nb = ages.length;
      lt12 = count(function (x) { return x < 12; });
      b12_18 = count(function (x) { return x >= 12 && x <= 18; });
      ge19 = count(function (x) { return x >= 19; });
      lt14 = count(function (x) { return x < 14; });
      minors = count(function (x) { return x < 18; });
      adultKids = count(function (x) { return x >= 18; });
    }
    f.nb_enfants = nb;
    f.nb_enfants_moins_12 = lt12;
    f.nb_enfants_12_18 = b12_18;
    f.nb_enfants_19_plus = ge19;
    var parentIsole = and(not(couple), cmp(nb, 0, ">"));
    f.parent_isole = parentIsole;
    var nbUc = add(add(add(UC.holder, couple === true ? UC.other_14_plus : 0.0),
                       mul(UC.other_14_plus, sub(nb, lt14))),
                   mul(UC.child_under_14, lt14),
                   parentIsole === true ? UC.single_parent_bonus : 0.0);
    f.nb_uc = nbUc;
    f.revenu_par_uc = div(revenuTotal, nbUc);
    // taux d'effort: rent after housing aid over resources (benefits other than housing aid)
    var resources = add(revenuTotal, mRsa, mAah, mPa, mAf);
    var netRent = clip0(sub(loyer, mAl));
    var te;
    if (cmp(loyer, 0, "==") === true) te = 0.0;
    else if (cmp(netRent, 0, "==") === true) te = 0.0;
    else if (cmp(resources, 0, "<=") === true) te = 99.0;
    else te = div(netRent, resources);
    f.taux_effort = te;
    f.revenus_stables_importants = and(tous12, cmp(f.revenu_par_uc, SEUIL_REVENUS_IMPORTANTS, ">="));
    // Complémentaire santé solidaire
    f.sexe_allocataire = r.alloc_sexe;
    f.plus_d_un_adulte = or(couple, cmp(adultKids, 0, ">"));
    f.au_moins_un_mineur = cmp(minors, 0, ">");
    var size = (isNull(couple) || isNull(nb)) ? null : 1 + (couple ? 1 : 0) + nb;
    f.taille_foyer = size;
    f.premiere_demande = r.c2s_premiere_demande;
    var ratio = null;
    if (data && data.c2sg && !isNull(r.c2s_ressources_annuelles) && !isNull(size)) {
      ratio = r.c2s_ressources_annuelles
        / (c2sgCeiling(ref, data.c2sg.ceilings) * c2sgMultiplier(size, data.c2sg.multipliers));
    }
    f.revenu_rapport_plafond_c2sg = ratio;
    f.pension_invalidite = r.c2s_pension_invalidite;
    f.consommation_soins = r.c2s_consommation_soins;
    f.indemnites_journalieres = r.c2s_indemnites_journalieres;
    f.contact_assurance_maladie = r.c2s_contact_assurance_maladie;
    return f;
  }

  // ---- engine ----
  function sigmoid(x) {
    if (x >= 0) return 1.0 / (1.0 + Math.exp(-x));
    var e = Math.exp(x);
    return e / (1.0 + e);
  }
  function sigmoidExpr(x) { return 1.0 / (1.0 + Math.exp(-x)); }
  function softplus(x) { return Math.max(x, 0.0) + Math.log1p(Math.exp(-Math.abs(x))); }
  function boundedMean(low, high) {
    if (!isFinite(low) || !isFinite(high)) return null;
    if (high - low < NARROW) return sigmoid((low + high) / 2);
    if (low >= 0) return 1.0 + (Math.log1p(Math.exp(-high)) - Math.log1p(Math.exp(-low))) / (high - low);
    return (softplus(high) - softplus(low)) / (high - low);
  }
  function lowOf(mod) { return isNull(mod.coefficient_min) ? -Infinity : mod.coefficient_min; }
  function highOf(mod) { return isNull(mod.coefficient_max) ? Infinity : mod.coefficient_max; }
  function coefLow(c) { return isNull(c.low) ? -Infinity : c.low; }
  function coefHigh(c) { return isNull(c.high) ? Infinity : c.high; }

  function modalityIndex(c, feats) {
    var x = feats[c.feature];
    var idx = null;
    if (!isNull(x)) {
      var regular = [];
      c.modalities.forEach(function (m, i) { if (m.kind !== "absent") regular.push([i, m]); });
      if (c.kind === "categorical") {
        for (var k = 0; k < regular.length; k++) {
          if (regular[k][1].value === x) { idx = regular[k][0]; break; }
        }
      } else {
        var ordered = regular.slice().sort(function (p, q) {
          var a = isNull(p[1].min) ? -Infinity : p[1].min, b = isNull(q[1].min) ? -Infinity : q[1].min;
          return a - b;
        });
        idx = ordered[ordered.length - 1][0];
        for (var j = 0; j < ordered.length - 1; j++) {
          if (x < ordered[j][1].max) { idx = ordered[j][0]; break; }
        }
      }
    }
    if (c.presence) {
      var absent = [];
      c.modalities.forEach(function (m, i) { if (m.kind === "absent") absent.push(i); });
      var pres = feats[c.presence];
      if (absent.length) {
        if (isNull(pres)) idx = null;
        else if (!pres) idx = absent[0];
      } else if (pres === false) {
        idx = null;
      }
    }
    return idx;
  }

  function numericBounds(c, feats) {
    var mod = c.modalities[0];
    var lo = lowOf(mod), hi = highOf(mod);
    var x = feats[c.feature];
    var out;
    if (isNull(x)) {
      if (c.value_range) {
        var cands = [];
        c.value_range.forEach(function (end) {
          var ve = Math.pow(end, c.exponent);
          cands.push(ve === 0 ? 0.0 : ve * lo, ve === 0 ? 0.0 : ve * hi);
        });
        if (c.value_range[0] < 0 && 0 < c.value_range[1]) cands.push(0.0);
        cands = cands.map(function (z) { return isNaN(z) ? 0.0 : z; });
        out = [Math.min.apply(null, cands), Math.max.apply(null, cands)];
      } else {
        out = [-Infinity, Infinity];
      }
    } else {
      var val = c.exponent === 1 ? x : Math.pow(x, c.exponent);
      if (lo === hi) out = [val * lo, val * lo];
      else {  // an input of 0 contributes 0 even when the coefficient is unbounded (0 * inf)
        var a = val === 0 ? 0.0 : val * lo, b = val === 0 ? 0.0 : val * hi;
        out = [Math.min(a, b), Math.max(a, b)];
      }
    }
    if (c.presence && feats[c.presence] === false) out = [0.0, 0.0];
    return out;
  }

  function finite(x) { return isFinite(x) ? x : null; }

  /** score_dossier: the same object as `profilage score --json` (without model file details). */
  function scoreFeatures(model, feats) {
    var inter = model.intercept;
    var sumLo = 0, sumHi = 0, first = true;
    var contributions = model.criteria.map(function (c) {
      var low, high, modality, labelFr, labelEn, known, status, idx = null;
      if (c.kind === "numeric") {
        var b = numericBounds(c, feats);
        low = b[0]; high = b[1];
        known = !isNull(feats[c.feature]);
        status = c.modalities[0].status;
        modality = known ? String(feats[c.feature]) : null;
        labelFr = labelEn = modality;
      } else {
        idx = modalityIndex(c, feats);
        var lows = c.modalities.map(lowOf), highs = c.modalities.map(highOf);
        if (idx === null) {
          low = Math.min.apply(null, lows); high = Math.max.apply(null, highs);
        } else {
          low = lows[idx]; high = highs[idx];
        }
        var mod = idx === null ? null : c.modalities[idx];
        var statuses = {};
        c.modalities.forEach(function (m) { statuses[m.status] = true; });
        var keys = Object.keys(statuses);
        status = mod ? mod.status : (keys.length === 1 ? keys[0] : "mixed");
        modality = mod ? mod.id : null;
        labelFr = mod ? mod.label_fr : null;
        labelEn = mod ? mod.label_en : null;
        known = mod !== null;
      }
      if (first) { sumLo = low; sumHi = high; first = false; } else { sumLo += low; sumHi += high; }
      return {
        criterion: c.id, label_fr: c.label_fr, label_en: c.label_en, feature: c.feature,
        modality: modality, modality_label_fr: labelFr, modality_label_en: labelEn,
        input_known: known, low: finite(low), high: finite(high), status: status,
        protected_ground: c.protected_ground, precarity: c.precarity
      };
    });
    // base bounds: intercept plus the ranges given for redacted criteria (Model.base_bounds)
    var baseLo = coefLow(inter), baseHi = coefHigh(inter);
    (model.redacted || []).forEach(function (c) {
      if (!isNull(c.contribution_min) && !isNull(c.contribution_max)) {
        baseLo += c.contribution_min; baseHi += c.contribution_max;
      }
    });
    var lo = sumLo + baseLo, hi = sumHi + baseHi;
    if (!model.criteria.length) { lo = baseLo; hi = baseHi; }
    var width = hi - lo;
    var score;
    if (width < NARROW) score = sigmoidExpr((lo + hi) / 2);
    else if (isFinite(lo) && isFinite(hi)) {
      score = lo >= 0 ? 1.0 + (Math.log1p(Math.exp(-hi)) - Math.log1p(Math.exp(-lo))) / width
        : (softplus(hi) - softplus(lo)) / width;
    } else score = null;
    return {
      score: score, score_low: sigmoidExpr(lo), score_high: sigmoidExpr(hi),
      logit_low: finite(lo), logit_high: finite(hi),
      intercept: inter.value, intercept_status: inter.status, determined: width === 0,
      model: { id: model.id, title: model.title, institution: model.institution,
               sha256: model.sha256, coefficients_status: model.coefficients_status,
               provenance: model.provenance },
      contributions: contributions,
      redacted: (model.redacted || []).map(function (c) {
        return { criterion: c.id, label_fr: c.label_fr, label_en: c.label_en, source: c.source };
      })
    };
  }

  function scoreDossier(model, dossier, data) {
    var res = scoreFeatures(model, deriveFeatures(dossier, data));
    res.dossier = isNull(dossier.nom) ? null : dossier.nom;
    var ref = parseMonth(dossier.reference_month, false);
    res.reference_month = ref.y + "-" + (ref.m < 10 ? "0" : "") + ref.m;
    return res;
  }

  function mid(c) {
    var lo = isNull(c.low) ? -Infinity : c.low, hi = isNull(c.high) ? Infinity : c.high;
    if (!isFinite(lo) || !isFinite(hi)) return 0.0;
    return (lo + hi) / 2;
  }

  /** explain_dossier: score plus waterfall, would_lower and would_raise. */
  function explainDossier(model, dossier, data, top) {
    top = top || 3;
    var res = scoreDossier(model, dossier, data);
    var logit = isNull(model.intercept.value) ? 0.0 : model.intercept.value;
    var ordered = res.contributions.map(function (c, i) { return [c, i]; });
    ordered.sort(function (p, q) {
      var d = Math.abs(mid(q[0])) - Math.abs(mid(p[0]));
      return d !== 0 ? d : p[1] - q[1];
    });
    var steps = ordered.map(function (p) {
      var c = p[0], before = logit;
      logit += mid(c);
      return {
        criterion: c.criterion, label_fr: c.label_fr, label_en: c.label_en,
        modality_label_fr: c.modality_label_fr || "inconnu",
        modality_label_en: c.modality_label_en || "unknown",
        logit: mid(c), low: c.low, high: c.high, input_known: c.input_known, status: c.status,
        protected_ground: c.protected_ground,
        probability_before: sigmoid(before), probability_after: sigmoid(logit),
        probability: sigmoid(logit) - sigmoid(before)
      };
    });
    var changes = [];
    var lo0 = isNull(res.logit_low) ? -Infinity : res.logit_low;
    var hi0 = isNull(res.logit_high) ? Infinity : res.logit_high;
    model.criteria.forEach(function (c) {
      if (c.kind === "numeric") return;
      var cur = res.contributions.filter(function (x) { return x.criterion === c.id; })[0];
      var cl = isNull(cur.low) ? -Infinity : cur.low, ch = isNull(cur.high) ? Infinity : cur.high;
      c.modalities.forEach(function (mod) {
        if (mod.id === cur.modality || isNull(mod.coefficient)) return;
        var val = mod.coefficient;
        var nw = boundedMean(lo0 - cl + val, hi0 - ch + val);
        if (nw === null || isNull(res.score)) return;
        changes.push({
          criterion: c.id, label_fr: c.label_fr, label_en: c.label_en,
          from_fr: cur.modality_label_fr || "inconnu", from_en: cur.modality_label_en || "unknown",
          to: mod.id, to_fr: mod.label_fr, to_en: mod.label_en,
          score: nw, delta: nw - res.score, protected_ground: c.protected_ground
        });
      });
    });
    var idx = function (arr) { return arr.map(function (x, i) { return [x, i]; }); };
    var lower = idx(changes.filter(function (x) { return x.delta < 0; }))
      .sort(function (p, q) { return (p[0].delta - q[0].delta) || (p[1] - q[1]); })
      .slice(0, top).map(function (p) { return p[0]; });
    var higher = idx(changes.filter(function (x) { return x.delta > 0; }))
      .sort(function (p, q) { return (q[0].delta - p[0].delta) || (p[1] - q[1]); })
      .slice(0, top).map(function (p) { return p[0]; });
    res.waterfall = steps;
    res.would_lower = lower;
    res.would_raise = higher;
    return res;
  }

  var api = {
    toRow: toRow, deriveFeatures: deriveFeatures, scoreFeatures: scoreFeatures,
    scoreDossier: scoreDossier, explainDossier: explainDossier, boundedMean: boundedMean,
    sigmoid: sigmoid, parseMonth: parseMonth
  };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  else root.Profilage = api;
})(typeof self !== "undefined" ? self : this);

"""Page labels, French first and English second (``?lang=en``)."""

from __future__ import annotations

LANGS = ("fr", "en")

STRINGS: dict[str, tuple[str, str]] = {
    "colon": (" : ", ": "),
    "app_title": ("profilage — simulateur du score de risque", "profilage — risk-score simulator"),
    "nav_simulator": ("Simulateur", "Simulator"),
    "nav_compare": ("Comparer deux foyers", "Compare two households"),
    "nav_models": ("Modèles", "Models"),
    "nav_audit": ("Audit", "Audit"),
    "nav_api": ("API", "API"),
    "switch_lang": ("English", "Français"),
    "intro": ("Remplissez la situation d'un foyer : le score s'affiche avec la contribution de "
              "chaque critère. Laissez vide ce que vous ne savez pas : le score devient un "
              "intervalle.",
              "Describe a household: the score is shown with each criterion's contribution. "
              "Leave blank what you do not know: the score becomes an interval."),
    "model": ("Modèle", "Model"),
    "presets": ("Exemples", "Examples"),
    "clear": ("Vider le formulaire", "Clear the form"),
    "compute": ("Calculer le score", "Compute the score"),
    "save_json": ("Enregistrer le dossier (JSON)", "Save the dossier (JSON)"),
    "save_json_help": ("Le fichier s'utilise avec « profilage score FICHIER.json » ; il reste sur "
                       "votre ordinateur.", "Use the file with \"profilage score FILE.json\"; it "
                       "stays on your computer."),
    "load_json": ("Ouvrir un dossier (JSON)", "Open a dossier (JSON)"),
    "reference_month": ("Mois de référence", "Reference month"),
    "holder": ("Allocataire", "Beneficiary"),
    "partner": ("Conjoint·e", "Partner"),
    "lives_in_couple": ("Vit en couple", "Lives with a partner"),
    "age": ("Âge (ans)", "Age (years)"),
    "sex": ("Sexe", "Sex"),
    "activity": ("Activité", "Activity"),
    "months_worked": ("Mois travaillés sur les 12 derniers", "Months worked in the last 12"),
    "monthly_income": ("Revenu mensuel (€)", "Monthly income (€)"),
    "aah": ("Touche l'AAH", "Receives AAH"),
    "esat": ("Travaille en ESAT", "Works in an ESAT"),
    "nationality": ("Nationalité (modèle 2010 seulement)", "Nationality (2010 model only)"),
    "family": ("Famille", "Family"),
    "family_situation": ("Situation familiale", "Marital situation"),
    "children_ages": ("Âges des enfants", "Children's ages"),
    "children_help": ("ex. « 16, 18 » ; « aucun » ; vide = inconnu ; « ? » = âge inconnu",
                      "e.g. \"16, 18\"; \"none\"; blank = unknown; \"?\" = unknown age"),
    "other_income": ("Autres revenus mensuels du foyer (€)", "Other monthly household income (€)"),
    "benefits": ("Prestations", "Benefits"),
    "rsa": ("RSA", "RSA (minimum income)"),
    "prime_activite": ("Prime d'activité", "Activity bonus"),
    "aide_logement": ("Aide au logement", "Housing aid"),
    "allocations_familiales": ("Allocations familiales", "Family allowances"),
    "amount": ("montant mensuel (€)", "monthly amount (€)"),
    "amount_rsa": ("Montant du RSA (€ / mois)", "RSA amount (€ / month)"),
    "amount_prime_activite": ("Montant de la prime d'activité (€ / mois)",
                              "Activity bonus amount (€ / month)"),
    "amount_aide_logement": ("Montant de l'aide au logement (€ / mois)",
                             "Housing aid amount (€ / month)"),
    "amount_allocations_familiales": ("Montant des allocations familiales (€ / mois)",
                                      "Family allowances amount (€ / month)"),
    "skip": ("Aller au contenu", "Skip to content"),
    "ens_range": ("Sur les {n} reconstructions de l'ensemble du modèle : entre {lo} et {hi} "
                  "(médiane {med}).",
                  "Over the {n} reconstructions of the model's ensemble: between {lo} and {hi} "
                  "(median {med})."),
    "ens_audit": ("Plages sur les {n} reconstructions de l'ensemble du modèle (plus lent)",
                  "Ranges over the {n} reconstructions of the model's ensemble (slower)"),
    "bad_json": ("ce fichier n'est pas un dossier JSON (un objet { … } est attendu)",
                 "this file is not a JSON dossier (an object { … } is expected)"),
    "err_needs_conjoint": ("Conjoint·e : une personne mariée, pacsée ou en concubinage a un·e "
                           "conjoint·e ; renseignez-le ou laissez « vit en couple » inconnu",
                           "Partner: a married, PACS or cohabiting person has a partner; describe "
                           "them, or leave \"lives with a partner\" unknown"),
    "title_simulator": ("Simulateur du score de risque — profilage",
                        "Risk-score simulator — profilage"),
    "title_compare": ("Comparer deux foyers — profilage", "Compare two households — profilage"),
    "title_models": ("Modèles de score — profilage", "Scoring models — profilage"),
    "title_audit": ("Audit d'une population — profilage", "Audit a population — profilage"),
    "main_nav": ("Navigation principale", "Main navigation"),
    "ev_kind": ("quand", "when"),
    "ev_month": ("mois", "month"),
    "event_after_ref": ("date postérieure au mois de référence",
                        "date after the reference month"),
    "bad_number": ("nombre attendu (ex. 640,50)", "a number is expected (e.g. 640.50)"),
    "bad_int": ("nombre entier attendu", "a whole number is expected"),
    "at_least": ("au moins", "at least"),
    "at_most": ("au plus", "at most"),
    "implausible": ("valeur inhabituelle : vérifiez-la (le calcul la prend telle quelle)",
                    "unusual value: check it (the computation takes it as it is)"),
    "stale": ("Le formulaire a changé : le résultat ci-dessous n'est plus à jour (mise à jour…)",
              "The form changed: the result below is out of date (updating…)"),
    "ctx_title": ("Ce que dit ce score", "What this score says"),
    "ctx_meaning": ("C'est une probabilité estimée de trop-perçu (indu) selon cette "
                    "reconstruction du modèle, pas une probabilité de fraude, et elle ne dit "
                    "rien de la situation réelle de ce foyer.",
                    "It is an estimated probability of an overpayment under this reconstruction "
                    "of the model, not a probability of fraud, and it says nothing about this "
                    "household's real situation."),
    "ctx_percentile": ("Il est plus haut que celui de {p} des foyers d'une population de "
                       "référence synthétique.",
                       "It is higher than the score of {p} of the households of a synthetic "
                       "reference population."),
    "ctx_selected": ("Avec le budget de contrôles de la CNAF, ce foyer serait contrôlé ce mois-ci "
                     "(seuil : {t}).",
                     "Under the CNAF's control budget, this household would be controlled this "
                     "month (threshold: {t})."),
    "ctx_not_selected": ("Avec le budget de contrôles de la CNAF, ce foyer ne serait pas contrôlé "
                         "ce mois-ci (seuil : {t}).",
                         "Under the CNAF's control budget, this household would not be "
                         "controlled this month (threshold: {t})."),
    "ctx_none": ("Les coefficients de ce modèle ne sont pas connus : ni rang ni seuil ne peuvent "
                 "être calculés.",
                 "This model's coefficients are not known: neither a rank nor a threshold can be "
                 "computed."),
    "ctx_reference": ("Population de référence", "Reference population"),
    "ctx_approx": ("(rang approché : calculé dans le navigateur sur 1 001 quantiles)",
                   "(approximate rank: computed in the browser from 1,001 quantiles)"),
    "score_unknown": ("inconnu", "unknown"),
    "score_unknown_note": ("les coefficients de ce modèle ne sont pas publiés : le score ne peut "
                           "pas être calculé.",
                           "this model's coefficients are not published: the score cannot be "
                           "computed."),
    "coef_unknown": ("coefficient inconnu", "unknown coefficient"),
    "intercept_unknown": ("constante inconnue", "unknown intercept"),
    "unknown_coef_note": ("critères au coefficient inconnu (barre hachurée : effet inconnu)",
                          "criteria with an unknown coefficient (hatched bar: unknown effect)"),
    "waterfall_name": ("Cascade des critères en {scale} : de la constante au score {s} ; le "
                       "tableau des contributions ci-dessous en donne les valeurs.",
                       "Criteria waterfall in {scale}: from the intercept to the score {s}; the "
                       "contributions table below gives the values."),
    "gauge_name": ("Jauge du score : {s} sur une échelle de 0 à 1",
                   "Score gauge: {s} on a scale from 0 to 1"),
    "scale_logit": ("log-odds", "log-odds"),
    "scale_proba": ("probabilité", "probability"),
    "st_published_pl": ("publiés", "published"),
    "st_reconstructed_pl": ("reconstruits", "reconstructed"),
    "st_redacted_pl": ("occultés", "redacted"),
    "st_unknown_pl": ("inconnus", "unknown"),
    "prov_unknown": ("⚠ Coefficients inconnus : l'institution ne les a pas publiés et nous ne les "
                     "avons pas reconstruits. Le modèle ne donne pas de score ; on voit seulement "
                     "les critères qu'il lit.",
                     "⚠ Unknown coefficients: the institution has not published them and we have "
                     "not reconstructed them. The model gives no score; only the criteria it "
                     "reads are shown."),
    "prov_partly_unknown": ("⚠ Certains coefficients sont inconnus : leurs critères ne comptent "
                            "pas dans le score, qui est donc incomplet.",
                            "⚠ Some coefficients are unknown: their criteria are left out of "
                            "the score, which is therefore incomplete."),
    "prov_redacted": ("Critères occultés par l'institution : ils ne sont pas dans le score.",
                      "Criteria redacted by the institution: they are not in the score."),
    "coef_chart": ("Coefficients du modèle (log-odds), par statut",
                   "The model's coefficients (log-odds), by status"),
    "show_all": ("Afficher le tableau complet", "Show the full table"),
    "back_to_site": ("← Retour au simulateur", "← Back to the simulator"),
    "amount_aah": ("Montant de l'AAH (€ / mois)", "AAH amount (€ / month)"),
    "housing": ("Logement", "Housing"),
    "housing_status": ("Statut", "Status"),
    "rent": ("Loyer mensuel (€)", "Monthly rent (€)"),
    "qpv": ("Quartier prioritaire (QPV)", "Priority neighbourhood (QPV)"),
    "events": ("Événements récents et dossier CAF", "Recent events and CAF file"),
    "ev_inscription_caf": ("Inscription à la CAF", "Registration at the CAF"),
    "ev_changement_adresse": ("Dernier déménagement", "Last move"),
    "ev_changement_loyer": ("Dernier changement de loyer", "Last rent change"),
    "ev_dernier_contact": ("Dernier mail ou visite à la CAF", "Last e-mail or visit to the CAF"),
    "ev_separation": ("Séparation", "Separation"),
    "nb_declarations": ("Déclarations sur 12 mois", "Declarations in 12 months"),
    "nb_controles": ("Contrôles passés", "Past controls"),
    "baisse_web": ("Baisse des connexions en ligne", "Drop in web logins"),
    "c2s": ("Complémentaire santé solidaire (modèles CNAM)", "C2S (CNAM models)"),
    "c2s_premiere": ("Première demande", "First application"),
    "c2s_ressources": ("Ressources annuelles (€)", "Annual resources (€)"),
    "unknown": ("inconnu", "unknown"),
    "never": ("jamais", "never"),
    "date": ("date :", "date:"),
    "yes": ("oui", "yes"),
    "no": ("non", "no"),
    "result": ("Résultat", "Result"),
    "score": ("Score de risque", "Risk score"),
    "bounds": ("bornes", "bounds"),
    "bounded_mean": ("moyenne de la sigmoïde entre les bornes (méthode du Monde)",
                     "mean of the sigmoid between the bounds (Le Monde's method)"),
    "determined": ("déterminé : tous les critères sont connus",
                   "determined: every criterion is known"),
    "undetermined": ("indéterminé (bornes infinies)", "undetermined (infinite bounds)"),
    "bounds_unknown": ("entre 0 et 1 : rien ne borne ce score", "between 0 and 1: nothing bounds this score"),
    "waterfall_logit": ("Cascade des critères (log-odds)", "Criteria waterfall (log-odds)"),
    "waterfall_proba": ("Cascade des critères (probabilité)", "Criteria waterfall (probability)"),
    "waterfall_note": ("Du plus fort au plus faible effet, à partir de la constante. Un critère "
                       "inconnu entre au milieu de son intervalle (trait : l'intervalle). "
                       "Rouge : fait monter le score ; vert : le fait baisser.",
                       "Strongest effect first, starting from the intercept. An unknown "
                       "criterion enters at the middle of its interval (whisker: the interval). "
                       "Red raises the score; green lowers it."),
    "zero_hidden_1": ("critère à 0 (modalité de référence) non dessiné",
                      "criterion at 0 (reference modality) not drawn"),
    "unknown_coef_note_1": ("critère au coefficient inconnu (barre hachurée : effet inconnu)",
                            "criterion with an unknown coefficient (hatched bar: unknown effect)"),
    "zero_hidden": ("critères à 0 (modalité de référence) non dessinés",
                    "criteria at 0 (reference modality) not drawn"),
    "would_lower": ("Ce qui ferait baisser le score", "What would lower the score"),
    "would_raise": ("Ce qui ferait monter le score", "What would raise the score"),
    "protected": ("critère protégé", "protected ground"),
    "contributions": ("Contributions par critère", "Contributions by criterion"),
    "criterion": ("Critère", "Criterion"),
    "modality": ("Modalité", "Value"),
    "low": ("bas", "low"),
    "high": ("haut", "high"),
    "status": ("statut", "status"),
    "source": ("source", "source"),
    "intercept": ("constante", "intercept"),
    "redacted_note": ("Critères occultés par l'institution (hors score)",
                      "Criteria redacted by the institution (not in the score)"),
    "prov_reconstructed": (
        "⚠ Coefficients NON officiels : les valeurs « reconstruit » sont les nôtres, choisies "
        "pour respecter les faits publiés (Le Monde, Lighthouse Reports, La Quadrature du Net), "
        "pas celles de l'institution.",
        "⚠ NOT the official coefficients: \"reconstructed\" values are ours, chosen to satisfy "
        "the published facts (Le Monde, Lighthouse Reports, La Quadrature du Net), not the "
        "institution's."),
    "prov_published": ("Coefficients publiés par l'institution ou une source publique.",
                       "Coefficients published by the institution or a public source."),
    "coefficients": ("coefficients", "coefficients"),
    "st_published": ("publié", "published"),
    "st_reconstructed": ("reconstruit", "reconstructed"),
    "st_redacted": ("occulté", "redacted"),
    "st_unknown": ("inconnu", "unknown"),
    "st_mixed": ("mixte", "mixed"),
    "ground_age": ("âge", "age"),
    "ground_sex": ("sexe", "sex"),
    "ground_disability": ("handicap", "disability"),
    "ground_family_situation": ("situation de famille", "family situation"),
    "ground_residence": ("lieu de résidence", "place of residence"),
    "ground_nationality": ("nationalité", "nationality"),
    "ground_health": ("état de santé", "health"),
    "household_a": ("Foyer A", "Household A"),
    "household_b": ("Foyer B", "Household B"),
    "compare_intro": ("Deux foyers côte à côte. Préréglage : Michel et Abel (Le Monde), "
                      "identiques sauf l'AAH.",
                      "Two households side by side. Preset: Michel and Abel (Le Monde), "
                      "identical except for the AAH."),
    "gap": ("Écart", "Gap"),
    "differences": ("Critères qui diffèrent", "Criteria that differ"),
    "no_difference": ("Aucun critère ne diffère.", "No criterion differs."),
    "models_intro": ("Chaque coefficient porte son statut et sa source. Les critères touchant un "
                     "motif protégé (âge, handicap, situation de famille...) sont signalés.",
                     "Every coefficient carries its status and source. Criteria touching a "
                     "protected ground (age, disability, family situation...) are flagged."),
    "institution": ("Institution", "Institution"),
    "years": ("Années d'usage", "Years in use"),
    "target": ("Cible", "Target"),
    "notes": ("Notes", "Notes"),
    "protected_grounds": ("Motifs protégés touchés", "Protected grounds touched"),
    "coefficient": ("coefficient", "coefficient"),
    "download_json": ("Télécharger le modèle (JSON)", "Download the model (JSON)"),
    "diff_with": ("Comparer avec", "Diff with"),
    "diff": ("Différences entre versions", "Differences between versions"),
    "audit_intro": ("Qui l'algorithme envoie-t-il contrôler ? Choisissez un modèle, une "
                    "population de foyers fictifs (créée à la demande, ou un fichier de "
                    "population) et un nombre de contrôles.",
                    "Whom does the algorithm send controllers to? Pick a model, a population of "
                    "fictitious households (made on demand, or a population file) and a number "
                    "of controls."),
    "seed_help": ("Le même numéro redonne exactement la même population fictive (graine du "
                  "générateur aléatoire).",
                  "The same number gives exactly the same fictitious population (the random "
                  "generator's seed)."),
    "budget_help": ("Vide : le budget de la CNAF (166 000 contrôles par an pour 13,8 millions de "
                    "foyers), ramené à la taille de la population.",
                    "Blank: the CNAF's budget (166,000 controls a year for 13.8 million "
                    "households), scaled to the population's size."),
    "replications": ("Nombre de tirages pour les marges d'incertitude",
                     "Number of draws for the uncertainty margins"),
    "replications_help": ("Les intervalles à 95 % sont estimés en retirant les foyers au sort "
                          "(bootstrap) ; plus de tirages, plus précis mais plus lent ; 0 : sans "
                          "intervalles.",
                          "The 95 % intervals are estimated by redrawing the households "
                          "(bootstrap); more draws are more precise but slower; 0: no "
                          "intervals."),
    "population": ("Population", "Population"),
    "generate": ("Nombre de foyers fictifs à créer", "Number of fictitious households to make"),
    "parquet_path": ("ou fichier de population sur ce serveur (Parquet ou CSV)",
                     "or a population file on this server (Parquet or CSV)"),
    "seed": ("Numéro de tirage", "Draw number"),
    "budget": ("Part des foyers contrôlés chaque mois (%)",
               "Share of households controlled each month (%)"),
    "run_audit": ("Lancer l'audit", "Run the audit"),
    "download_report": ("Télécharger le rapport (HTML)", "Download the report (HTML)"),
    "audit_unavailable": ("L'audit n'est pas disponible dans cette installation.",
                          "The audit is not available in this installation."),
    "static_note": ("Version statique : le calcul se fait dans votre navigateur, aucune donnée "
                    "du foyer ne le quitte.",
                    "Static version: the score is computed in your browser; no household data "
                    "leaves it."),
    "server_note": ("Les données saisies sont envoyées à ce serveur local pour le calcul et ne "
                    "sont pas conservées.",
                    "The data you enter is sent to this local server for the computation and "
                    "is not kept."),
    "error": ("Erreur", "Error"),
    "licence": ("Logiciel libre AGPL-3.0. Les scores sont ceux d'une reconstruction : ils ne "
                "disent rien de la situation réelle d'une personne.",
                "Free software, AGPL-3.0. Scores come from a reconstruction: they say nothing "
                "about a real person's situation."),
}

CHOICES: dict[str, dict[str, tuple[str, str]]] = {
    "activite": {"salarie": ("salarié·e", "employee"), "independant": ("indépendant·e", "self-employed"),
                 "chomage": ("au chômage", "unemployed"), "etudiant": ("étudiant·e", "student"),
                 "inactif": ("inactif·ve", "inactive"), "retraite": ("retraité·e", "retired")},
    "situation_familiale": {
        "marie": ("marié·e", "married"), "pacse": ("pacsé·e", "civil partnership (PACS)"),
        "concubinage": ("en concubinage", "cohabiting"), "celibataire": ("célibataire", "single"),
        "divorce": ("divorcé·e", "divorced"), "separe": ("séparé·e", "separated"),
        "veuf": ("veuf·ve", "widowed")},
    "statut": {"locataire_prive": ("locataire (privé)", "tenant (private)"),
               "locataire_social": ("locataire (HLM)", "tenant (social housing)"),
               "proprietaire": ("propriétaire", "owner"), "heberge": ("hébergé·e", "hosted"),
               "autre": ("autre", "other")},
    "sexe": {"F": ("femme", "woman"), "M": ("homme", "man")},
    "nationalite": {"francaise": ("française", "French"),
                    "europeenne": ("européenne (hors France)", "European (not French)"),
                    "extra_europeenne": ("extra-européenne", "non-European")},
}


def get_lang(value: str | None) -> str:
    return value if value in LANGS else "fr"


def translator(lang: str):
    """``t(key)`` for templates; ``t.choice(group, value)`` for select options."""
    i = 0 if lang == "fr" else 1

    def t(key: str) -> str:
        pair = STRINGS.get(key)
        return pair[i] if pair else key

    def choice(group: str, value: str) -> str:
        pair = CHOICES.get(group, {}).get(value)
        return pair[i] if pair else value

    t.choice = choice  # type: ignore[attr-defined]
    t.lang = lang  # type: ignore[attr-defined]
    return t


def js_strings(lang: str) -> dict[str, str]:
    """The strings the page scripts need, in one language."""
    i = 0 if lang == "fr" else 1
    return {k: v[i] for k, v in STRINGS.items()}

//! The audit spec file as written (TOML); see `spec/default.toml`.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::doses::DoseScale;

/// The whole spec file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SpecFile {
    /// A human name for the audit.
    pub name: String,
    /// The spec's own version, recorded in every output.
    pub version: String,
    /// Facts that put a patient in the evaluated cohort (any of them).
    pub cohort: Vec<String>,
    /// The event concept whose last date the review list shows.
    pub review_concept: Option<String>,
    /// How far back the review list looks for the drugs it names.
    #[serde(default = "six")]
    pub current_months: u32,
    /// How dm+d ids are given BNF codes, so that drug classes follow the BNF.
    #[serde(default)]
    pub drugs: DrugsDef,
    /// Codelists by name.
    pub codelists: BTreeMap<String, CodelistDef>,
    /// Concepts by name.
    pub concepts: BTreeMap<String, ConceptDef>,
    /// Per-patient facts by name.
    pub facts: BTreeMap<String, FactDef>,
    /// The indicators, in output order.
    pub indicators: Vec<IndicatorDef>,
    /// STAR-PU weightings (JSON, OpenPrescribing's layout), relative to the
    /// spec file; needed by measures over STAR-PUs.
    pub star_pu_weights: Option<String>,
    /// Practice-level measures on public prescribing data (EPD), in output order.
    #[serde(default)]
    pub measures: Vec<MeasureDef>,
    /// The dose scales, needed by dose facts.
    pub doses: Option<DosesDef>,
    /// Indicators drawn together, at the top level over the index dates,
    /// in the report's trend section: outcomes beside prevalence.
    #[serde(default)]
    pub outcome_chart: Vec<String>,
}

/// The dose tables, relative to the spec file (`spec/doses/PROVENANCE.md`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DosesDef {
    /// BNF maximum daily doses (`ingredient, form, max_mg, per_days,
    /// name_contains, strengths_mg`).
    pub bnf_maximum: String,
    /// Chlorpromazine equivalents (Leucht 2016: `route, drug, CPZ100MGEQ`).
    pub chlorpromazine: String,
    /// Fluoxetine equivalents of antidepressants (Hayasaka 2015: `drug,
    /// fluoxetine_40mg_equivalent_mg`), if the spec uses that scale.
    pub fluoxetine: Option<String>,
    /// The drug concept whose doses the review list shows (now and 12
    /// months before), for every flagged patient.
    pub review_concept: Option<String>,
}

fn six() -> u32 {
    6
}

/// The drug dictionary: which lists say what a dm+d id is.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DrugsDef {
    /// dm+d codelists, most trusted first: each id gets the BNF code of its
    /// list's BNF column, else the one its name resolves to.
    #[serde(default)]
    pub dictionary: Vec<String>,
    /// A BNF codelist of presentation names (`bnf_code`, name): names
    /// dm+d names are matched against, and names for BNF-only rows.
    pub bnf_names: Option<String>,
    /// A BNF codelist of curated drug and brand names (lower case) the BNF
    /// names lack, each with its BNF chemical or paragraph.
    pub names: Option<String>,
    /// A BNF codelist of chemicals (9 characters) and their active
    /// ingredient, so that oral and depot forms of one drug are one drug.
    pub ingredients: Option<String>,
}

/// How a codelist file is laid out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum CodelistFormat {
    /// CSV with a header (OpenCodelists downloads).
    #[default]
    Csv,
    /// Tab-separated `code<TAB>description`, no header (the Greater
    /// Manchester SDE `*.snomed.txt` code sets).
    GmSde,
}

/// The coding system of a codelist.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum CodeSystem {
    /// SNOMED CT concept ids (clinical events).
    Snomedct,
    /// dm+d product ids (medications).
    Dmd,
    /// BNF codes (medications).
    Bnf,
}

/// One codelist file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CodelistDef {
    /// Path relative to the spec file.
    pub file: String,
    /// CSV (default) or a GM SDE code set.
    #[serde(default)]
    pub format: CodelistFormat,
    /// Coding system.
    pub system: CodeSystem,
    /// Column holding the code.
    #[serde(default = "code_column")]
    pub column: String,
    /// Column holding the description.
    pub term_column: Option<String>,
    /// Column holding the BNF code of a dm+d entry.
    pub bnf_column: Option<String>,
    /// The version (e.g. OpenCodelists id and version).
    pub version: String,
}

fn code_column() -> String {
    "code".to_string()
}

/// A named concept: codelists and/or BNF prefixes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConceptDef {
    /// Codelists whose codes belong to the concept directly.
    #[serde(default)]
    pub codelists: Vec<String>,
    /// BNF prefixes (`~` excludes) matched against a medication's BNF code.
    #[serde(default)]
    pub bnf: Vec<String>,
    /// Forms a drug must have (oral, injection, depot, rectal, oromucosal);
    /// empty = any.
    #[serde(default)]
    pub forms: Vec<String>,
    /// Drug concepts whose drugs are taken out of this one.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// How outputs describe it.
    pub label: String,
}

/// A per-patient fact evaluated at each index date.
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum FactDef {
    /// An event concept recorded on or before T (within `months` if given).
    Recorded {
        /// Event concept.
        concept: String,
        /// Window length in months.
        months: Option<u32>,
    },
    /// A drug concept issued at least `min_issues` times in the window
    /// `T - offset - months < d <= T - offset`.
    Issued {
        /// Drug concept.
        concept: String,
        /// Issues of drugs also in this concept do not count.
        exclude_concept: Option<String>,
        /// Window length in months.
        months: u32,
        /// How many months before T the window ends.
        #[serde(default)]
        offset_months: u32,
        /// Issues needed.
        #[serde(default = "one")]
        min_issues: u32,
    },
    /// At least `at_least` distinct active ingredients of the concept, each
    /// held: issued in the last period to T and in the period before it.
    /// A period is `months` long, or `depot_months` for depot issues, so a
    /// 3-monthly depot or 56-day issuing still counts as held.
    Ingredients {
        /// Drug concept.
        concept: String,
        /// Period length in months for issues other than depots.
        months: u32,
        /// Period length in months for depot issues.
        depot_months: u32,
        /// Ingredients needed.
        at_least: u32,
    },
    /// A first issue in the window with none in the washout before it, at
    /// least `settle_days` before T, by a patient registered for the whole
    /// washout (else they may have transferred in on the drug).
    Started {
        /// Drug concept.
        concept: String,
        /// Window length in months.
        months: u32,
        /// Months before the first issue with no issue.
        washout_months: u32,
        /// Days the start must lie before T.
        #[serde(default)]
        settle_days: u32,
    },
    /// An event concept recorded `from_days`..=`to_days` after a start fact's date.
    RecordedAfterStart {
        /// Event concept.
        concept: String,
        /// A fact of kind `started`.
        start: String,
        /// First day after the start that counts.
        from_days: u32,
        /// Last day after the start that counts.
        to_days: u32,
    },
    /// The total daily dose of the concept's drugs held `months_before`
    /// months before T is known on `scale`: something is held, and every
    /// drug's dose is computable (see `audit::dose`).
    DoseKnown {
        /// Drug concept.
        concept: String,
        /// The scale.
        scale: DoseScale,
        /// How many months before T the dose is taken.
        #[serde(default)]
        months_before: u32,
    },
    /// The total percent of the BNF maximum of the concept's drugs held at
    /// T is above `percent` (known totals only).
    DoseAbove {
        /// Drug concept.
        concept: String,
        /// The threshold; a total equal to it is not above.
        percent: u32,
    },
    /// The total daily dose on `scale` at T is at least `percent`% below the
    /// total `months` before T; both known and the earlier one above zero.
    DoseFell {
        /// Drug concept.
        concept: String,
        /// The scale.
        scale: DoseScale,
        /// How many months before T the earlier dose is taken.
        months: u32,
        /// The fall needed, in percent of the earlier dose.
        percent: u32,
    },
    /// True when any term is true.
    Any {
        /// Terms (`!` negates).
        of: Vec<String>,
    },
    /// True when every term is true.
    All {
        /// Terms (`!` negates).
        of: Vec<String>,
    },
    /// True when at least `at_least` terms are true.
    Count {
        /// Terms (`!` negates).
        of: Vec<String>,
        /// Terms needed.
        at_least: u32,
    },
}

fn one() -> u32 {
    1
}

/// One indicator: a numerator over a denominator, both conjunctions of facts.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IndicatorDef {
    /// Stable id, e.g. `STOMP03`.
    pub id: String,
    /// What it measures.
    pub title: String,
    /// Terms every denominator patient has; empty = the registered population.
    pub denominator: Vec<String>,
    /// Further terms every numerator patient has.
    pub numerator: Vec<String>,
    /// What the review list says is missing or wrong.
    pub reason: Option<String>,
    /// Whether flagged patients go on the review list (default: when a reason is given).
    pub review: Option<bool>,
    /// The clinical standard it follows, with its citation.
    pub standard: Option<String>,
}

/// What a measure adds up from prescribing rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MeasureValue {
    /// Prescription items (`ITEMS`).
    Items,
    /// Average daily quantities (`ADQUSAGE`).
    Adq,
    /// Defined daily doses: quantity x strength (mg per unit, from the
    /// presentation's name) / the chemical's DDD in mg (`ddd_mg`).
    Ddd,
}

/// A sum over the prescribing rows whose BNF code passes a filter.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PrescribedDef {
    /// What is summed.
    pub value: MeasureValue,
    /// BNF patterns: prefixes, `~` to exclude, one `%` for any characters.
    pub bnf: Vec<String>,
    /// For `ddd`: milligrams in one defined daily dose, by BNF chemical.
    #[serde(default)]
    pub ddd_mg: BTreeMap<String, f64>,
}

/// A measure's denominator.
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum DenominatorDef {
    /// Registered patients (the practice list size).
    ListSize,
    /// Registered patients weighted by age and sex (STAR-PU).
    StarPu {
        /// The weighting's name in the STAR-PU file, e.g. `antidepressants_adq`.
        weights: String,
    },
    /// A sum over prescribing rows: the measure is then a proportion.
    Prescribed {
        /// What is summed.
        value: MeasureValue,
        /// BNF patterns.
        bnf: Vec<String>,
    },
}

/// One practice-level measure: a numerator over a denominator.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MeasureDef {
    /// Stable id, e.g. `EPD01`.
    pub id: String,
    /// What it measures.
    pub title: String,
    pub numerator: PrescribedDef,
    pub denominator: DenominatorDef,
    /// The scale a rate is shown on: 1000 for "per 1,000 patients", 100 for a percentage.
    pub per: f64,
    /// A note shown with the measure (what it leaves out, and why).
    pub note: Option<String>,
}

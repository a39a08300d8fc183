//! Compiles a spec file into what the engine evaluates: concept bits,
//! facts in dependency order, indicators as term lists, and the classifier's
//! dictionaries.

use std::collections::{BTreeMap, HashMap};

use super::doses::{DoseScale, HELD_MONTHS};
use super::format::{CodeSystem, FactDef, SpecFile};
use super::SpecError;
use crate::classify::bnf::BnfFilter;
use crate::classify::classifier::{ClassifierParts, ConceptMask, DrugRule};
use crate::classify::codelist::{is_bnf_code, parse_sctid, Codelist, CodelistEntry};
use crate::classify::dictionary::{DrugDictionary, ListCoverage, NameResolver};
use crate::classify::form::Form;

/// Whether a concept is about clinical events or medications.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConceptKind {
    /// SNOMED CT coded events.
    Event,
    /// dm+d / BNF coded medications.
    Drug,
}

/// A compiled concept; its index is its bit in a `ConceptMask`.
#[derive(Clone, Debug)]
pub struct Concept {
    /// Name in the spec.
    pub name: String,
    /// How outputs describe it.
    pub label: String,
    /// Event or drug.
    pub kind: ConceptKind,
}

/// A reference to a fact, maybe negated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Term {
    /// Index into [`CompiledSpec::facts`].
    pub fact: usize,
    /// True for `!fact`.
    pub negated: bool,
}

/// A compiled fact; concept fields are concept bits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fact {
    /// Event recorded in `(T - months, T]`, or by T when `months` is `None`.
    Recorded {
        /// Event concept bit.
        concept: u8,
        /// Window in months.
        months: Option<u32>,
    },
    /// Drug issued `min_issues` times in `(T - offset - months, T - offset]`.
    Issued {
        /// Drug concept bit.
        concept: u8,
        /// Drug concept bit whose drugs do not count.
        exclude: Option<u8>,
        /// Window in months.
        months: u32,
        /// Months before T the window ends.
        offset_months: u32,
        /// Issues needed.
        min_issues: u32,
    },
    /// Distinct ingredients each held: issued in `(T - m, T]` and in
    /// `(T - 2m, T - m]`, where m is `months`, or `depot_months` for depots.
    Ingredients {
        /// Drug concept bit.
        concept: u8,
        /// Period in months for issues other than depots.
        months: u32,
        /// Period in months for depot issues.
        depot_months: u32,
        /// Ingredients needed.
        at_least: u32,
    },
    /// First issue d0 in `(T - months, T - settle_days]`, none in
    /// `[d0 - washout, d0)`, registered since `d0 - washout` or earlier.
    Started {
        /// Drug concept bit.
        concept: u8,
        /// Window in months.
        months: u32,
        /// Washout in months.
        washout_months: u32,
        /// Days the start lies before T at least.
        settle_days: u32,
    },
    /// Event in `[d0 + from_days, d0 + to_days]` (and by T) after a start fact's d0.
    RecordedAfterStart {
        /// Event concept bit.
        concept: u8,
        /// Index of the `Started` fact.
        start: usize,
        /// First day counted.
        from_days: u32,
        /// Last day counted.
        to_days: u32,
    },
    /// The total dose at `T - months_before` is known on `scale`.
    DoseKnown {
        /// Drug concept bit.
        concept: u8,
        /// The scale.
        scale: DoseScale,
        /// Months before T.
        months_before: u32,
    },
    /// The total percent of the BNF maximum at T is above `percent`.
    DoseAbove {
        /// Drug concept bit.
        concept: u8,
        /// The threshold.
        percent: u32,
    },
    /// The total on `scale` at T is at least `percent`% below that at `T - months`.
    DoseFell {
        /// Drug concept bit.
        concept: u8,
        /// The scale.
        scale: DoseScale,
        /// Months before T of the earlier dose.
        months: u32,
        /// The fall needed.
        percent: u32,
    },
    /// Any term true.
    Any(Vec<Term>),
    /// All terms true.
    All(Vec<Term>),
    /// At least `at_least` terms true.
    Count(Vec<Term>, u32),
}

/// A compiled indicator.
#[derive(Clone, Debug)]
pub struct Indicator {
    /// Stable id.
    pub id: String,
    /// What it measures.
    pub title: String,
    /// What the review list says.
    pub reason: Option<String>,
    /// Whether flagged patients go on the review list.
    pub review: bool,
    /// Denominator terms (empty = registered population).
    pub denominator: Vec<Term>,
    /// Numerator terms, on top of the denominator's.
    pub numerator: Vec<Term>,
    /// Drug concepts the review list names for this indicator.
    pub drug_mask: ConceptMask,
    /// The clinical standard it follows, with its citation.
    pub standard: Option<String>,
}

/// Everything compiled from a spec but the codelists' raw text.
#[derive(Debug)]
pub struct CompiledSpec {
    /// Concepts by bit.
    pub concepts: Vec<Concept>,
    /// Fact names, parallel to `facts`.
    pub fact_names: Vec<String>,
    /// Facts, each after the facts it refers to.
    pub facts: Vec<Fact>,
    /// Indicators in output order.
    pub indicators: Vec<Indicator>,
    /// Indicators (positions) the report draws together over the index dates.
    pub outcome_chart: Vec<usize>,
    /// Cohort facts (any of them puts a patient in the cohort).
    pub cohort: Vec<usize>,
    /// Event concepts that decide the cohort.
    pub cohort_events: ConceptMask,
    /// Event concept of medication reviews for the review list.
    pub review_concept: Option<u8>,
    /// Months of drug history the review list names.
    pub current_months: u32,
    /// Drug concept whose doses the review list shows.
    pub dose_review_concept: Option<u8>,
    /// How many months before the earliest T a medication can matter.
    pub drug_lookback_months: u32,
    /// Classifier dictionaries.
    pub parts: ClassifierParts,
    /// How the drug dictionary resolved each of its lists.
    pub dictionary: Vec<ListCoverage>,
}

struct Names<'a> {
    concepts: HashMap<&'a str, (u8, ConceptKind)>,
    facts: HashMap<&'a str, usize>,
}

impl Names<'_> {
    fn concept(&self, name: &str, want: ConceptKind, fact: &str) -> Result<u8, SpecError> {
        match self.concepts.get(name) {
            Some(&(bit, kind)) if kind == want => Ok(bit),
            Some(_) => Err(SpecError::Invalid(format!(
                "fact '{fact}' needs a{} concept, but '{name}' is not one",
                if want == ConceptKind::Event { "n event" } else { " drug" }
            ))),
            None => Err(SpecError::Invalid(format!(
                "fact '{fact}' names the concept '{name}', which the spec does not define; concepts: {}",
                sorted(self.concepts.keys())
            ))),
        }
    }

    fn term(&self, t: &str, context: &str) -> Result<Term, SpecError> {
        let (negated, name) = match t.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, t),
        };
        let fact = *self.facts.get(name).ok_or_else(|| {
            SpecError::Invalid(format!(
                "{context} names the fact '{name}', which the spec does not define; facts: {}",
                sorted(self.facts.keys())
            ))
        })?;
        Ok(Term { fact, negated })
    }

    fn terms(&self, ts: &[String], context: &str) -> Result<Vec<Term>, SpecError> {
        ts.iter().map(|t| self.term(t, context)).collect()
    }
}

fn sorted<'a>(names: impl Iterator<Item = &'a &'a str>) -> String {
    let mut v: Vec<&str> = names.copied().collect();
    v.sort_unstable();
    v.join(", ")
}

/// Compiles a parsed spec with its loaded codelists (by name).
pub(crate) fn compile(
    file: &SpecFile,
    lists: &BTreeMap<String, Codelist>,
) -> Result<CompiledSpec, SpecError> {
    let mut parts = ClassifierParts::default();
    let (concepts, mut names) = compile_concepts(file, lists, &mut parts)?;
    let dictionary = compile_drugs(file, lists, &mut parts)?;
    let (facts, order, drug_lookback) = compile_facts(file, &mut names)?;
    let (cohort, cohort_events) = compile_cohort(file, &names, &facts)?;
    let indicators = compile_indicators(file, &names, &facts, &cohort)?;
    let review_concept = file
        .review_concept
        .as_deref()
        .map(|c| names.concept(c, ConceptKind::Event, "review_concept"))
        .transpose()?;
    let dose_review_concept = file
        .doses
        .as_ref()
        .and_then(|d| d.review_concept.as_deref())
        .map(|c| names.concept(c, ConceptKind::Drug, "doses.review_concept"))
        .transpose()?;
    let outcome_chart = file
        .outcome_chart
        .iter()
        .map(|id| {
            indicators.iter().position(|i| &i.id == id).ok_or_else(|| {
                SpecError::Invalid(format!("outcome_chart names no indicator '{id}'"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CompiledSpec {
        concepts,
        outcome_chart,
        fact_names: order,
        facts,
        indicators,
        cohort,
        cohort_events,
        review_concept,
        current_months: file.current_months,
        dose_review_concept,
        drug_lookback_months: drug_lookback.max(file.current_months),
        parts,
        dictionary,
    })
}

fn list<'a>(
    lists: &'a BTreeMap<String, Codelist>,
    name: &str,
    context: &str,
) -> Result<&'a Codelist, SpecError> {
    lists.get(name).ok_or_else(|| {
        SpecError::Invalid(format!(
            "{context} names the codelist '{name}', which the spec does not define"
        ))
    })
}

/// Concepts by bit: event concepts' codes into the event dictionary, drug
/// concepts into rules (BNF patterns, forms, exclusions) and direct dm+d codes.
fn compile_concepts<'a>(
    file: &'a SpecFile,
    lists: &BTreeMap<String, Codelist>,
    parts: &mut ClassifierParts,
) -> Result<(Vec<Concept>, Names<'a>), SpecError> {
    if file.concepts.len() > 64 {
        return Err(SpecError::Invalid(format!(
            "the spec defines {} concepts; at most 64 are supported",
            file.concepts.len()
        )));
    }
    let mut concepts = Vec::new();
    let mut names = Names {
        concepts: HashMap::new(),
        facts: HashMap::new(),
    };
    for (bit, (name, def)) in file.concepts.iter().enumerate() {
        let bit = bit as u8;
        let mut kind = (!def.bnf.is_empty()).then_some(ConceptKind::Drug);
        for list_name in &def.codelists {
            let list = list(lists, list_name, &format!("concept '{name}'"))?;
            let list_kind = match file.codelists[list_name].system {
                CodeSystem::Snomedct => ConceptKind::Event,
                CodeSystem::Dmd | CodeSystem::Bnf => ConceptKind::Drug,
            };
            if kind.is_some_and(|k| k != list_kind) {
                return Err(SpecError::Invalid(format!(
                    "concept '{name}' mixes SNOMED CT event codes with medication codes"
                )));
            }
            kind = Some(list_kind);
            add_codes(parts, list, file.codelists[list_name].system, bit)?;
        }
        let kind = kind.ok_or_else(|| {
            SpecError::Invalid(format!(
                "concept '{name}' has neither codelists nor BNF prefixes"
            ))
        })?;
        if kind == ConceptKind::Drug {
            let filter = BnfFilter::parse(&def.bnf)
                .map_err(|e| SpecError::Invalid(format!("concept '{name}': {e}")))?;
            let forms = def
                .forms
                .iter()
                .map(|f| {
                    Form::parse(f).ok_or_else(|| {
                        SpecError::Invalid(format!(
                            "concept '{name}': '{f}' is not a form; forms: {}",
                            Form::ALL.map(Form::as_str).join(", ")
                        ))
                    })
                })
                .collect::<Result<_, _>>()?;
            parts.rules.push(DrugRule {
                bit,
                filter,
                forms,
                exclude: 0,
            });
        } else if !def.forms.is_empty() || !def.exclude.is_empty() {
            return Err(SpecError::Invalid(format!(
                "concept '{name}': forms and exclude apply to drug concepts only"
            )));
        }
        names.concepts.insert(name.as_str(), (bit, kind));
        concepts.push(Concept {
            name: name.clone(),
            label: def.label.clone(),
            kind,
        });
    }
    // Exclusions, once every concept has its bit. An excluded concept has
    // no exclusions of its own, so one pass over the rules is exact.
    for (name, def) in &file.concepts {
        let (bit, _) = names.concepts[name.as_str()];
        for other in &def.exclude {
            let context = format!("concept '{name}' excludes");
            let (obit, okind) = *names.concepts.get(other.as_str()).ok_or_else(|| {
                SpecError::Invalid(format!(
                    "{context} '{other}', which the spec does not define; concepts: {}",
                    sorted(names.concepts.keys())
                ))
            })?;
            if okind != ConceptKind::Drug || !file.concepts[other].exclude.is_empty() {
                return Err(SpecError::Invalid(format!(
                    "{context} '{other}', which must be a drug concept without exclusions of its own"
                )));
            }
            if let Some(r) = parts.rules.iter_mut().find(|r| r.bit == bit) {
                r.exclude |= 1 << obit;
            }
        }
    }
    Ok((concepts, names))
}

/// The drug dictionary (dm+d id -> BNF code, name), the BNF names and the
/// ingredients, from the spec's `[drugs]`.
fn compile_drugs(
    file: &SpecFile,
    lists: &BTreeMap<String, Codelist>,
    parts: &mut ClassifierParts,
) -> Result<Vec<ListCoverage>, SpecError> {
    let drugs = &file.drugs;
    let bnf_list = |name: &Option<String>, what: &str| -> Result<Vec<CodelistEntry>, SpecError> {
        let Some(n) = name else {
            return Ok(Vec::new());
        };
        let l = list(lists, n, &format!("drugs.{what}"))?;
        if file.codelists[n].system != CodeSystem::Bnf {
            return Err(SpecError::Invalid(format!(
                "drugs.{what} names '{n}', which is not a BNF list (system = \"bnf\")"
            )));
        }
        Ok(l.entries.clone())
    };
    let bnf_names = bnf_list(&drugs.bnf_names, "bnf_names")?;
    let curated = bnf_list(&drugs.names, "names")?;
    for e in &curated {
        if !is_bnf_code(&e.code) || e.code.len() < 7 {
            return Err(SpecError::Invalid(format!(
                "drugs.names: '{}' for '{}' is not a BNF chemical or paragraph code",
                e.code, e.term
            )));
        }
    }
    for e in &bnf_names {
        parts.bnf_names.insert(e.code.clone(), e.term.clone());
    }
    for e in bnf_list(&drugs.ingredients, "ingredients")? {
        parts
            .ingredients
            .insert(e.code, e.term.to_ascii_lowercase());
    }
    let resolver = NameResolver::new(&bnf_names, &curated);
    let mut dict_lists = Vec::new();
    for n in &drugs.dictionary {
        let l = list(lists, n, "drugs.dictionary")?;
        if file.codelists[n].system != CodeSystem::Dmd {
            return Err(SpecError::Invalid(format!(
                "drugs.dictionary names '{n}', which is not a dm+d list"
            )));
        }
        dict_lists.push(l);
    }
    let dictionary = DrugDictionary::build(&dict_lists, &resolver);
    // A presentation code a list gives a dm+d product is named as the
    // product (BNF names are dm+d names): a BNF-only row of a presentation
    // the names table lacks still shows its form.
    let mut ids: Vec<u64> = dictionary.entries.keys().copied().collect();
    ids.sort_unstable();
    for id in ids {
        let e = &dictionary.entries[&id];
        if e.bnf.len() == 15 {
            parts
                .bnf_names
                .entry(e.bnf.clone())
                .or_insert_with(|| e.name.clone());
        }
        parts.dmd_bnf.insert(id, e.bnf.clone());
        parts.dmd_names.entry(id).or_insert_with(|| e.name.clone());
    }
    parts.names = resolver;
    Ok(dictionary.coverage)
}

/// Facts in dependency order; also how far back medications can matter.
fn compile_facts<'a>(
    file: &'a SpecFile,
    names: &mut Names<'a>,
) -> Result<(Vec<Fact>, Vec<String>, u32), SpecError> {
    // Facts may refer to each other; order them so each follows its inputs.
    let order = fact_order(file)?;
    for (i, name) in order.iter().enumerate() {
        let key = file
            .facts
            .get_key_value(name.as_str())
            .map(|(k, _)| k.as_str());
        names.facts.insert(key.unwrap_or_default(), i);
    }
    let mut facts = Vec::new();
    let mut drug_lookback = 0u32;
    for name in &order {
        let drug = |c: &str| names.concept(c, ConceptKind::Drug, name);
        let event = |c: &str| names.concept(c, ConceptKind::Event, name);
        let context = format!("fact '{name}'");
        let fact = match &file.facts[name] {
            FactDef::Recorded { concept, months } => Fact::Recorded {
                concept: event(concept)?,
                months: *months,
            },
            FactDef::Issued {
                concept,
                exclude_concept,
                months,
                offset_months,
                min_issues,
            } => {
                drug_lookback = drug_lookback.max(months + offset_months);
                Fact::Issued {
                    concept: drug(concept)?,
                    exclude: exclude_concept.as_deref().map(drug).transpose()?,
                    months: *months,
                    offset_months: *offset_months,
                    min_issues: *min_issues,
                }
            }
            FactDef::Ingredients {
                concept,
                months,
                depot_months,
                at_least,
            } => {
                drug_lookback = drug_lookback.max(2 * months.max(depot_months));
                Fact::Ingredients {
                    concept: drug(concept)?,
                    months: *months,
                    depot_months: *depot_months,
                    at_least: *at_least,
                }
            }
            FactDef::Started {
                concept,
                months,
                washout_months,
                settle_days,
            } => {
                drug_lookback = drug_lookback.max(months + washout_months);
                Fact::Started {
                    concept: drug(concept)?,
                    months: *months,
                    washout_months: *washout_months,
                    settle_days: *settle_days,
                }
            }
            FactDef::RecordedAfterStart {
                concept,
                start,
                from_days,
                to_days,
            } => {
                let start_idx = names.term(start, &context)?.fact;
                if !matches!(facts.get(start_idx), Some(Fact::Started { .. })) {
                    return Err(SpecError::Invalid(format!(
                        "fact '{name}': start '{start}' must be a fact of kind 'started'"
                    )));
                }
                Fact::RecordedAfterStart {
                    concept: event(concept)?,
                    start: start_idx,
                    from_days: *from_days,
                    to_days: *to_days,
                }
            }
            FactDef::DoseKnown {
                concept,
                scale,
                months_before,
            } => {
                drug_lookback = drug_lookback.max(months_before + HELD_MONTHS);
                Fact::DoseKnown {
                    concept: drug(concept)?,
                    scale: *scale,
                    months_before: *months_before,
                }
            }
            FactDef::DoseAbove { concept, percent } => {
                drug_lookback = drug_lookback.max(HELD_MONTHS);
                Fact::DoseAbove {
                    concept: drug(concept)?,
                    percent: *percent,
                }
            }
            FactDef::DoseFell {
                concept,
                scale,
                months,
                percent,
            } => {
                if *percent == 0 || *percent > 100 {
                    return Err(SpecError::Invalid(format!(
                        "fact '{name}': percent must be 1 to 100, not {percent}"
                    )));
                }
                drug_lookback = drug_lookback.max(months + HELD_MONTHS);
                Fact::DoseFell {
                    concept: drug(concept)?,
                    scale: *scale,
                    months: *months,
                    percent: *percent,
                }
            }
            FactDef::Any { of } => Fact::Any(names.terms(of, &context)?),
            FactDef::All { of } => Fact::All(names.terms(of, &context)?),
            FactDef::Count { of, at_least } => Fact::Count(names.terms(of, &context)?, *at_least),
        };
        facts.push(fact);
    }
    Ok((facts, order, drug_lookback))
}

/// The cohort facts (registers) and the event concepts that decide them.
fn compile_cohort(
    file: &SpecFile,
    names: &Names<'_>,
    facts: &[Fact],
) -> Result<(Vec<usize>, ConceptMask), SpecError> {
    let mut cohort = Vec::new();
    let mut cohort_events = 0;
    for c in &file.cohort {
        let t = names.term(c, "cohort")?;
        match (&facts[t.fact], t.negated) {
            (
                Fact::Recorded {
                    concept,
                    months: None,
                },
                false,
            ) => cohort_events |= 1 << concept,
            _ => {
                return Err(SpecError::Invalid(format!(
                    "cohort fact '{c}' must be a 'recorded' fact with no months (a register)"
                )))
            }
        }
        cohort.push(t.fact);
    }
    Ok((cohort, cohort_events))
}

/// Indicators as term lists, with the drug concepts each names.
fn compile_indicators(
    file: &SpecFile,
    names: &Names<'_>,
    facts: &[Fact],
    cohort: &[usize],
) -> Result<Vec<Indicator>, SpecError> {
    let mut indicators = Vec::new();
    let mut seen = HashMap::new();
    for def in &file.indicators {
        if seen.insert(def.id.clone(), ()).is_some() {
            return Err(SpecError::Invalid(format!(
                "indicator id '{}' appears twice",
                def.id
            )));
        }
        let context = format!("indicator {}", def.id);
        let denominator = names.terms(&def.denominator, &context)?;
        let numerator = names.terms(&def.numerator, &context)?;
        // Only cohort patients are evaluated, so a numerator over the whole
        // registered population must require a cohort fact.
        if denominator.is_empty()
            && !numerator
                .iter()
                .any(|t| !t.negated && cohort.contains(&t.fact))
        {
            return Err(SpecError::Invalid(format!(
                "indicator {}: over the registered population (empty denominator), the numerator must require one of the cohort facts ({}), because only the cohort is evaluated",
                def.id,
                file.cohort.join(", ")
            )));
        }
        let mut drug_mask = 0;
        for t in denominator.iter().chain(&numerator) {
            drug_mask |= drug_concepts(facts, *t);
        }
        indicators.push(Indicator {
            id: def.id.clone(),
            title: def.title.clone(),
            reason: def.reason.clone(),
            review: def.review.unwrap_or(def.reason.is_some()),
            denominator,
            numerator,
            drug_mask,
            standard: def.standard.clone(),
        });
    }
    Ok(indicators)
}

fn add_codes(
    parts: &mut ClassifierParts,
    list: &Codelist,
    system: CodeSystem,
    bit: u8,
) -> Result<(), SpecError> {
    for e in &list.entries {
        match system {
            CodeSystem::Snomedct | CodeSystem::Dmd => {
                let id = parse_sctid(&e.code).ok_or_else(|| {
                    SpecError::Invalid(format!(
                        "codelist {} ({}): '{}' is not a SNOMED CT / dm+d id",
                        list.name, list.source_name, e.code
                    ))
                })?;
                let map = if system == CodeSystem::Snomedct {
                    &mut parts.events
                } else {
                    if !e.term.is_empty() {
                        parts.dmd_names.entry(id).or_insert_with(|| e.term.clone());
                    }
                    &mut parts.dmd_direct
                };
                *map.entry(id).or_default() |= 1 << bit;
            }
            CodeSystem::Bnf => {
                return Err(SpecError::Invalid(format!(
                    "codelist {} is a BNF list: use BNF prefixes ('bnf = [...]') in the concept instead",
                    list.name
                )))
            }
        }
    }
    Ok(())
}

/// Drug concepts a (non-negated) term refers to, looking through any/all/count.
fn drug_concepts(facts: &[Fact], t: Term) -> ConceptMask {
    if t.negated {
        return 0;
    }
    match &facts[t.fact] {
        Fact::Issued { concept, .. }
        | Fact::Ingredients { concept, .. }
        | Fact::Started { concept, .. }
        | Fact::DoseKnown { concept, .. }
        | Fact::DoseAbove { concept, .. }
        | Fact::DoseFell { concept, .. } => 1 << concept,
        Fact::Any(ts) | Fact::All(ts) | Fact::Count(ts, _) => {
            ts.iter().fold(0, |m, t| m | drug_concepts(facts, *t))
        }
        Fact::Recorded { .. } | Fact::RecordedAfterStart { .. } => 0,
    }
}

/// Facts in an order where each follows the facts it refers to (names
/// sorted otherwise, so the order is stable).
fn fact_order(file: &SpecFile) -> Result<Vec<String>, SpecError> {
    let deps = |def: &FactDef| -> Vec<String> {
        let strip = |t: &String| t.trim_start_matches('!').to_string();
        match def {
            FactDef::Any { of } | FactDef::All { of } | FactDef::Count { of, .. } => {
                of.iter().map(strip).collect()
            }
            FactDef::RecordedAfterStart { start, .. } => vec![strip(start)],
            _ => vec![],
        }
    };
    let mut order = Vec::new();
    let mut state: HashMap<&str, u8> = HashMap::new(); // 1 = visiting, 2 = done
    fn visit<'a>(
        name: &'a str,
        file: &'a SpecFile,
        deps: &dyn Fn(&FactDef) -> Vec<String>,
        state: &mut HashMap<&'a str, u8>,
        order: &mut Vec<String>,
    ) -> Result<(), SpecError> {
        match state.get(name) {
            Some(2) => return Ok(()),
            Some(_) => {
                return Err(SpecError::Invalid(format!(
                    "fact '{name}' refers to itself through other facts"
                )))
            }
            None => {}
        }
        let Some((key, def)) = file.facts.get_key_value(name) else {
            return Err(SpecError::Invalid(format!(
                "the fact '{name}' is referred to but not defined; facts: {}",
                file.facts.keys().cloned().collect::<Vec<_>>().join(", ")
            )));
        };
        state.insert(key.as_str(), 1);
        for d in deps(def) {
            let d_key = file
                .facts
                .get_key_value(d.as_str())
                .map(|(k, _)| k.as_str());
            match d_key {
                Some(k) => visit(k, file, deps, state, order)?,
                None => {
                    return Err(SpecError::Invalid(format!(
                        "fact '{name}' refers to '{d}', which the spec does not define"
                    )))
                }
            }
        }
        state.insert(key.as_str(), 2);
        order.push(key.clone());
        Ok(())
    }
    for name in file.facts.keys() {
        visit(name, file, &deps, &mut state, &mut order)?;
    }
    Ok(order)
}
